"""Session expiry, the next page after sign-in, admin gating and cloud errors as pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from conftest import PERSONAS, sign_in
from portal import urls as portal_urls
from portal.errors import CloudUnavailable, Rejected, SignInRequired
from portal.identity import PortalRequest, admin_required, login_required
from portal.tests.fake_keystone import FakeKeystone

pytestmark = pytest.mark.django_db


@admin_required
def admin_page(request: PortalRequest) -> HttpResponse:
    return HttpResponse("admin only")


@login_required
def refused(request: PortalRequest) -> HttpResponse:
    raise Rejected("Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.", 403)


@login_required
def unavailable(request: PortalRequest) -> HttpResponse:
    raise CloudUnavailable("Service Unavailable")


@login_required
def failed_upstream(request: PortalRequest) -> HttpResponse:
    # What Nova answers while Keystone is down (found by tests/cloud/test_failure_injection.py)
    raise CloudUnavailable("The server has either erred or is incapable of performing", 500)


@login_required
def refused_token(request: PortalRequest) -> HttpResponse:
    raise SignInRequired("The request you have made requires authentication.", 401)


urlpatterns = [
    path("t/admin/", admin_page),
    path("t/refused/", refused),
    path("t/unavailable/", unavailable),
    path("t/failed-upstream/", failed_upstream),
    path("t/refused-token/", refused_token),
    *portal_urls.urlpatterns,
]


def test_expired_session_sends_to_sign_in_and_back(client: Client, keystone: FakeKeystone) -> None:
    sign_in(client, PERSONAS["member"], expires_in=timedelta(seconds=5))  # inside the margin
    response = client.get("/operations/?page=1")
    assert response.status_code == 302
    assert response["Location"] == "/auth/sign-in/?next=%2Foperations%2F%3Fpage%3D1"
    page = client.get(response["Location"]).content.decode()
    assert "Your session has expired. Please sign in again." in page
    response = client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "fake:RegionOne",
            "username": "member",
            "password": "member-pw",
            "domain": "Default",
            "next": "/operations/?page=1",
        },
    )
    assert response["Location"] == "/operations/?page=1"


def test_next_must_stay_on_this_site(client: Client, keystone: FakeKeystone) -> None:
    response = client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "fake:RegionOne",
            "username": "member",
            "password": "member-pw",
            "domain": "Default",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/project/overview/"


def test_htmx_request_after_expiry_redirects_the_whole_page(
    client: Client, unit_cloud: None
) -> None:
    sign_in(client, PERSONAS["member"], expires_in=timedelta(seconds=-1))
    response = client.get(
        "/project/overview/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/operations/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/auth/sign-in/?next=%2Foperations%2F"


@pytest.mark.urls("portal.tests.test_session")
def test_admin_pages_are_for_admins_only(admin_client: Client) -> None:
    assert admin_client.get("/t/admin/").content == b"admin only"


@pytest.mark.urls("portal.tests.test_session")
@pytest.mark.parametrize("persona", ["member", "reader", "outsider"])
def test_non_admins_get_403(client: Client, unit_cloud: None, persona: str) -> None:
    sign_in(client, PERSONAS[persona])
    response = client.get("/t/admin/")
    assert response.status_code == 403
    assert "This page is for cloud administrators." in response.content.decode()


@pytest.mark.urls("portal.tests.test_session")
def test_cloud_403_is_a_clear_message(member_client: Client) -> None:
    response = member_client.get("/t/refused/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not allowed" in body and "os-hypervisors:list" in body


@pytest.mark.urls("portal.tests.test_session")
def test_cloud_unavailable_is_a_503_page(member_client: Client) -> None:
    response = member_client.get("/t/unavailable/")
    assert response.status_code == 503
    assert "The cloud is not answering" in response.content.decode()
    # A service's own 500 is not the portal's: still a 503 page (and partial) with its words.
    for headers in ({}, {"HX-Request": "true"}):
        failed = member_client.get("/t/failed-upstream/", headers=headers)
        assert failed.status_code == 503 and "erred" in failed.content.decode()


@pytest.mark.urls("portal.tests.test_session")
def test_cloud_error_for_htmx_is_a_message_partial(member_client: Client) -> None:
    response = member_client.get("/t/refused/", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash-messages"
    assert b"<html" not in response.content


def test_korean_pages(member_client: Client) -> None:
    member_client.post("/i18n/setlang/", {"language": "ko", "next": "/project/overview/"})
    page = member_client.get("/project/overview/").content.decode()
    assert 'lang="ko"' in page
    assert "로그아웃" in page  # "Sign out"


def test_admin_section_appears_for_admins_only(member_client: Client, unit_cloud: None) -> None:
    member_page = member_client.get("/project/overview/").content.decode()
    assert "All Operations" not in member_page
    assert member_client.get("/admin/operations/").status_code == 403
    admin = sign_in(Client(), PERSONAS["admin"])
    admin_page = admin.get("/project/overview/").content.decode()
    assert 'class="sd-nav-title">Admin<' in admin_page
    assert "All Operations" in admin_page
    assert admin.get("/admin/operations/").status_code == 200
