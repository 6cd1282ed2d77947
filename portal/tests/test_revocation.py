"""Revocation holds inside the portal: a token revoked in Keystone stops reading the portal's
own state within STACKDESK_TOKEN_RECHECK_SECONDS and changes nothing from the moment it is
revoked (defect 3 of the hardening issue: an API token kept listing and cancelling jobs for
the rest of its hour, and browser sessions kept starting jobs). Page views leave the asking to
the worker when it has answered recently (issue 14: no Keystone call on a page view)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from conftest import PERSONAS, UNIT_CLOUD
from portal import cloud, identity
from portal.identity import SESSION_CONFIRMED
from portal.models import Operation
from portal.tasks import confirm_sessions
from portal.tests.fake_keystone import FakeKeystone
from portal.tests.test_api import auth, body, make_op, token_for, validations

pytestmark = pytest.mark.django_db


@pytest.fixture
def ks(keystone: FakeKeystone, settings: Any) -> FakeKeystone:
    settings.STACKDESK_SERVICE_CLOUD = ""  # jobs act with the token itself
    cloud.available_clouds.cache_clear()
    return keystone


def member_job() -> Operation:
    member = PERSONAS["member"]
    return Operation.objects.create(
        kind="refresh_project_counts",
        title="t",
        cloud_key=UNIT_CLOUD,
        user_id=member.user_id,
        user_name=member.name,
        project_id=member.project_id,
        project_name=member.project,
    )


def confirmed_long_ago(client: Client) -> None:
    session = client.session
    session[SESSION_CONFIRMED] = 0.0
    session.save()


def test_a_revoked_session_ends_at_the_next_check(
    member_client: Client, unit_cloud: FakeKeystone
) -> None:
    assert member_client.get("/operations/").status_code == 200
    assert validations(unit_cloud) == 0  # confirmed at sign-in: no Keystone call yet
    del unit_cloud.tokens["token-member"]  # revoked in Keystone
    confirmed_long_ago(member_client)
    response = member_client.get("/operations/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/sign-in/")
    assert "no longer valid in Keystone" in response.content.decode()
    assert validations(unit_cloud) == 1


def test_a_live_session_is_checked_once_per_interval(
    member_client: Client, unit_cloud: FakeKeystone
) -> None:
    confirmed_long_ago(member_client)
    for _ in range(3):
        assert member_client.get("/operations/").status_code == 200
    assert validations(unit_cloud) == 1


def test_cancel_asks_keystone_even_inside_the_interval(
    member_client: Client, unit_cloud: FakeKeystone
) -> None:
    op = member_job()
    del unit_cloud.tokens["token-member"]
    assert member_client.get("/operations/").status_code == 200  # a read, inside the interval
    response = member_client.post(f"/operations/{op.pk}/cancel/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")
    op.refresh_from_db()
    assert op.state == "queued"


def test_keystone_away_reads_go_on_and_changes_are_refused(
    member_client: Client, unit_cloud: FakeKeystone, use_clouds: Any
) -> None:
    op = member_job()
    use_clouds(
        {"unit": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}, "region_name": "RegionOne"}}
    )
    confirmed_long_ago(member_client)
    assert member_client.get("/operations/").status_code == 200
    response = member_client.post(f"/operations/{op.pk}/cancel/")
    assert response.status_code == 503
    assert "could not be reached to confirm your sign-in" in response.content.decode()
    op.refresh_from_db()
    assert op.state == "queued"


def test_an_api_token_revoked_cancels_nothing_and_reads_stop_within_the_interval(
    ks: FakeKeystone, settings: Any
) -> None:
    op = make_op("member", "demo")
    token = token_for(ks, "member")
    client = Client()
    assert client.get("/api/v1/operations/", headers=auth(token)).status_code == 200
    del ks.tokens[token]
    # Still inside the interval a read may come from the cache; a change never does.
    refused = client.post(f"/api/v1/operations/{op.pk}/cancel/", headers=auth(token))
    assert refused.status_code == 401
    op.refresh_from_db()
    assert op.state == "queued"
    settings.STACKDESK_TOKEN_RECHECK_SECONDS = 0  # the interval is over
    token = token_for(ks, "member")
    assert client.get("/api/v1/operations/", headers=auth(token)).status_code == 200
    del ks.tokens[token]
    listed = client.get("/api/v1/operations/", headers=auth(token))
    assert listed.status_code == 401 and "does not accept" in body(listed)["error"]


def test_a_revoked_session_starts_no_job(
    member_client: Client, unit_cloud: FakeKeystone, django_capture_on_commit_callbacks: Any
) -> None:
    """The overview's "count again" starts a job without asking OpenStack anything first: the
    portal asks Keystone itself."""
    del unit_cloud.tokens["token-member"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = member_client.post("/project/overview/refresh-counts/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")
    assert not Operation.objects.exists() and not queued


@pytest.mark.urls("portal.tests.test_session")
def test_a_services_401_while_keystone_is_away_keeps_the_session(
    member_client: Client, use_clouds: Any
) -> None:
    """A service that cannot reach Keystone may refuse a good token; the portal asks Keystone
    before ending the session, and keeps it when Keystone does not answer."""
    use_clouds(
        {"unit": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}, "region_name": "RegionOne"}}
    )
    response = member_client.get("/t/refused-token/")
    assert response.status_code == 503 and "Keystone is not answering" in response.content.decode()
    assert member_client.get("/operations/").status_code == 200  # still signed in


# --- the worker confirms the sessions in use (portal/tasks.py confirm_sessions) ---------------


@pytest.fixture(autouse=True)
def own_watch_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's answers one test writes (keyed by the personas' fixed tokens) never show in
    another."""
    monkeypatch.setattr(identity, "WATCH_PREFIX", f"session-token-test-{uuid.uuid4().hex}:")


def confirmed_ago(client: Client, seconds: float) -> None:
    session = client.session
    session[SESSION_CONFIRMED] = time.time() - seconds
    session.save()


STALE = 61  # past the 60 s interval, still in use (watched for 3 intervals)


def member_watch() -> Any:
    return cache.get(identity.watch_key(UNIT_CLOUD, "token-member"))


def test_a_view_asks_keystone_nothing_when_the_worker_confirmed_the_token(
    member_client: Client, unit_cloud: FakeKeystone
) -> None:
    confirmed_ago(member_client, STALE)
    assert confirm_sessions() == 1
    assert validations(unit_cloud) == 1  # the worker's
    for _ in range(3):
        assert member_client.get("/operations/").status_code == 200
    assert validations(unit_cloud) == 1
    # The session counts its interval from the worker's answer, not from the view.
    assert member_client.session[SESSION_CONFIRMED] == member_watch()["at"]


def test_a_refusal_the_worker_wrote_ends_the_session_at_the_next_view(
    member_client: Client, unit_cloud: FakeKeystone
) -> None:
    del unit_cloud.tokens["token-member"]  # revoked in Keystone
    confirmed_ago(member_client, STALE)
    confirm_sessions()
    response = member_client.get("/operations/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/sign-in/")
    assert "no longer valid in Keystone" in response.content.decode()
    assert validations(unit_cloud) == 1  # the worker's only


def test_without_a_recent_answer_of_the_worker_the_view_asks_keystone(
    member_client: Client, unit_cloud: FakeKeystone
) -> None:
    confirmed_ago(member_client, STALE)
    assert member_client.get("/operations/").status_code == 200  # no answer at all
    assert validations(unit_cloud) == 1
    key = identity.watch_key(UNIT_CLOUD, "token-member")
    cache.set(key, {"confirmed": True, "at": time.time() - STALE})  # the worker stopped
    confirmed_ago(member_client, STALE)
    del unit_cloud.tokens["token-member"]
    response = member_client.get("/operations/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")
    assert validations(unit_cloud) == 2


def test_the_worker_asks_about_sessions_in_use_only(
    unit_cloud: FakeKeystone, member_client: Client, reader_client: Client, admin_client: Client
) -> None:
    confirmed_ago(member_client, STALE)  # in use
    confirmed_ago(reader_client, 4 * 60)  # idle: its next view asks Keystone itself
    confirmed_ago(admin_client, STALE)
    Session.objects.filter(session_key=admin_client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )  # expired
    Client().get("/auth/sign-in/")  # an anonymous session, if the page makes one
    assert confirm_sessions() == 1
    assert validations(unit_cloud) == 1
    assert member_watch()["confirmed"] is True
    assert cache.get(identity.watch_key(UNIT_CLOUD, "token-reader")) is None
    assert cache.get(identity.watch_key(UNIT_CLOUD, "token-admin")) is None


def test_the_worker_writes_nothing_when_keystone_does_not_answer(
    member_client: Client, use_clouds: Any
) -> None:
    use_clouds(
        {"unit": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}, "region_name": "RegionOne"}}
    )
    confirmed_ago(member_client, STALE)
    assert confirm_sessions() == 0
    assert member_watch() is None


def test_the_worker_leaves_no_token_or_session_key_in_clear(
    member_client: Client, unit_cloud: FakeKeystone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    confirmed_ago(member_client, STALE)
    confirm_sessions()
    key = identity.watch_key(UNIT_CLOUD, "token-member")
    held = repr(member_watch())
    session_key = member_client.session.session_key
    assert session_key
    for secret in ("token-member", session_key):
        assert secret not in key and secret not in held and secret not in caplog.text
    assert set(member_watch()) == {"confirmed", "at"}
