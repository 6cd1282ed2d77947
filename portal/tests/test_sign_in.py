"""Sign-in, project choice, switching and sign-out against a fake Keystone over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client

from portal.identity import SESSION_CREDENTIAL, SESSION_IDENTITY
from portal.models import Preference
from portal.tests.fake_keystone import FakeKeystone

if TYPE_CHECKING:  # a name the Django stubs give the test client's responses
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def post_sign_in(
    client: Client, username: str, password: str, domain: str = "Default", next_url: str = ""
) -> Response:
    return client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "fake:RegionOne",
            "username": username,
            "password": password,
            "domain": domain,
            "next": next_url,
        },
    )


def test_member_with_one_project_goes_straight_in(client: Client, keystone: FakeKeystone) -> None:
    response = post_sign_in(client, "member", "member-pw")
    assert response.status_code == 302
    assert response["Location"] == "/project/overview/"
    identity = client.session[SESSION_IDENTITY]
    assert identity["project_name"] == "demo"
    assert identity["roles"] == ["member", "reader"]
    page = client.get("/project/overview/")
    assert page.status_code == 200
    assert "Project demo" in page.content.decode()


def test_token_is_not_in_the_cookie_or_the_page(client: Client, keystone: FakeKeystone) -> None:
    post_sign_in(client, "member", "member-pw")
    tokens = list(keystone.tokens)
    assert tokens
    page = client.get("/project/overview/").content.decode()
    cookies = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    stored = str(dict(client.session))
    for token in tokens:
        assert token not in page
        assert token not in cookies
        assert token not in stored  # the session row holds it sealed only
    assert client.session[SESSION_CREDENTIAL].startswith("gAAAA")  # Fernet


def test_user_with_two_projects_chooses_then_is_remembered(
    client: Client, keystone: FakeKeystone
) -> None:
    response = post_sign_in(client, "multi", "multi-pw", next_url="/operations/")
    assert response["Location"] == "/auth/project/"
    choice = client.get("/auth/project/").content.decode()
    assert "demo" in choice and "study1" in choice
    response = client.post("/auth/project/", {"project_id": "p-study1"})
    assert response["Location"] == "/operations/"
    assert client.session[SESSION_IDENTITY]["project_name"] == "study1"
    assert Preference.objects.get(user_id="u-multi").last_project_id == "p-study1"

    client.post("/auth/sign-out/")
    response = post_sign_in(client, "multi", "multi-pw")
    assert response["Location"] == "/project/overview/"
    assert client.session[SESSION_IDENTITY]["project_name"] == "study1"


def test_choosing_a_project_one_is_not_member_of_is_refused(
    client: Client, keystone: FakeKeystone
) -> None:
    post_sign_in(client, "multi", "multi-pw")
    response = client.post("/auth/project/", {"project_id": "p-admin"})
    assert response.status_code == 200
    assert "You are not a member of that project." in response.content.decode()
    assert SESSION_IDENTITY not in client.session


def test_wrong_password(client: Client, keystone: FakeKeystone) -> None:
    response = post_sign_in(client, "member", "nope")
    assert response.status_code == 400
    body = response.content.decode()
    assert "The user name, password or domain is not correct." in body
    assert 'value="member"' in body  # what was typed is kept (but not the password)
    assert "nope" not in body


def test_unknown_domain_has_its_own_message_when_configured(
    client: Client, keystone: FakeKeystone, settings: object
) -> None:
    settings.STACKDESK_SIGNIN_REVEALS_DOMAINS = True  # type: ignore[attr-defined]
    response = post_sign_in(client, "member", "member-pw", domain="Nowhere")
    assert response.status_code == 400
    assert "There is no domain called “Nowhere”." in response.content.decode()


def test_user_without_projects(client: Client, keystone: FakeKeystone) -> None:
    response = post_sign_in(client, "lonely", "lonely-pw")
    assert response.status_code == 400
    assert "you are not a member of any project" in response.content.decode()
    assert not any(t.user.name == "lonely" for t in keystone.tokens.values())  # revoked


def test_keystone_unreachable(client: Client, use_clouds: object) -> None:
    use_clouds({"down": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}}})  # type: ignore[operator]
    response = client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "down:",
            "username": "a",
            "password": "b",
            "domain": "Default",
        },
    )
    assert response.status_code == 400
    assert "cannot be reached" in response.content.decode()


def test_missing_fields_are_reported_at_the_field(client: Client, keystone: FakeKeystone) -> None:
    response = client.post("/auth/sign-in/", {"method": "password", "cloud": "fake:RegionOne"})
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2
    assert keystone.calls == []


def test_application_credential_sign_in(client: Client, keystone: FakeKeystone) -> None:
    keystone.app_credentials["ac-1"] = ("s3cret", keystone.users["member"], "p-demo")
    response = client.post(
        "/auth/sign-in/",
        {
            "method": "application_credential",
            "cloud": "fake:RegionOne",
            "credential_id": "ac-1",
            "credential_secret": "s3cret",
        },
    )
    assert response.status_code == 302
    assert client.session[SESSION_IDENTITY]["project_id"] == "p-demo"
    bad = Client().post(
        "/auth/sign-in/",
        {
            "method": "application_credential",
            "cloud": "fake:RegionOne",
            "credential_id": "ac-1",
            "credential_secret": "wrong",
        },
    )
    assert "application credential ID or secret is not correct" in bad.content.decode()


def test_switch_project_rescopes_the_token(client: Client, keystone: FakeKeystone) -> None:
    post_sign_in(client, "admin", "admin-pw")  # member of admin and demo
    client.post("/auth/project/", {"project_id": "p-admin"})
    before = set(keystone.tokens)
    response = client.post("/auth/switch-project/", {"project_id": "p-demo"})
    assert response.status_code == 302
    assert client.session[SESSION_IDENTITY]["project_name"] == "demo"
    new_tokens = set(keystone.tokens) - before
    assert [keystone.tokens[t].project_id for t in new_tokens] == ["p-demo"]
    assert "Switched to project demo." in client.get("/project/overview/").content.decode()
    assert Preference.objects.get(user_id="u-admin").last_project_id == "p-demo"


def test_switch_to_a_foreign_project_is_refused(client: Client, keystone: FakeKeystone) -> None:
    post_sign_in(client, "member", "member-pw")
    client.post("/auth/switch-project/", {"project_id": "p-study1"})
    assert client.session[SESSION_IDENTITY]["project_name"] == "demo"


def test_sign_out_revokes_both_tokens(client: Client, keystone: FakeKeystone) -> None:
    post_sign_in(client, "member", "member-pw")
    assert len(keystone.tokens) == 2  # unscoped + scoped
    response = client.post("/auth/sign-out/")
    assert response["Location"] == "/auth/sign-in/"
    assert keystone.tokens == {}
    assert SESSION_IDENTITY not in client.session
    assert client.get("/project/overview/").status_code == 302


def test_sign_out_needs_post(client: Client, keystone: FakeKeystone) -> None:
    post_sign_in(client, "member", "member-pw")
    assert client.get("/auth/sign-out/").status_code == 405
    assert len(keystone.tokens) == 2
