"""Sign-in throttle (portal/throttle.py) through the sign-in view, against the fake Keystone."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client, RequestFactory

from portal import throttle
from portal.identity import SESSION_IDENTITY
from portal.tests.fake_keystone import FakeKeystone

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed sign-ins; try again in"
WRONG = "The user name, password or domain is not correct."


def attempt(
    client: Client,
    username: str,
    password: str,
    domain: str = "Default",
    address: str = "192.0.2.10",
    forwarded_for: str = "",
) -> Response:
    meta: dict[str, Any] = {"REMOTE_ADDR": address}
    if forwarded_for:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "fake:RegionOne",
            "username": username,
            "password": password,
            "domain": domain,
        },
        **meta,
    )


def auth_calls(keystone: FakeKeystone) -> int:
    return keystone.calls.count("POST /v3/auth/tokens")


def test_five_wrong_passwords_lock_the_user_without_asking_keystone(
    client: Client, keystone: FakeKeystone
) -> None:
    for _ in range(5):
        assert attempt(client, "member", "guess").status_code == 400
    before = auth_calls(keystone)
    response = attempt(client, "member", "member-pw")  # even the right password
    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    assert response["Retry-After"] == "60"
    assert "60 seconds" in response.content.decode()
    assert auth_calls(keystone) == before
    assert SESSION_IDENTITY not in client.session


def test_names_are_counted_without_regard_to_case(client: Client, keystone: FakeKeystone) -> None:
    for name in ("member", "MEMBER", "Member", "member", "mEmber"):
        attempt(client, name, "guess")
    assert attempt(client, "member", "member-pw").status_code == 429


def test_a_success_clears_the_users_count(client: Client, keystone: FakeKeystone) -> None:
    for _ in range(4):
        attempt(client, "member", "guess")
    assert attempt(client, "member", "member-pw").status_code == 302
    client.post("/auth/sign-out/", REMOTE_ADDR="192.0.2.10")
    for _ in range(4):
        assert attempt(client, "member", "guess").status_code == 400
    assert attempt(client, "member", "member-pw").status_code == 302


def test_other_users_are_not_locked(client: Client, keystone: FakeKeystone) -> None:
    for _ in range(5):
        attempt(client, "member", "guess")
    assert attempt(client, "reader", "reader-pw").status_code == 302


def test_the_lockout_ends_and_grows_with_the_next_failure(
    client: Client, keystone: FakeKeystone, settings: Any
) -> None:
    settings.STACKDESK_SIGNIN_LOCKOUT = 1
    for _ in range(5):
        attempt(client, "member", "guess")
    assert attempt(client, "member", "guess")["Retry-After"] == "1"
    time.sleep(1.1)
    assert attempt(client, "member", "guess").status_code == 400  # Keystone asked again
    response = attempt(client, "member", "member-pw")
    assert response.status_code == 429
    assert response["Retry-After"] == "2"
    time.sleep(2.1)
    assert attempt(client, "member", "member-pw").status_code == 302


def test_one_address_guessing_many_users_is_locked(
    client: Client, keystone: FakeKeystone, settings: Any
) -> None:
    settings.STACKDESK_SIGNIN_ADDRESS_FAILURES = 3
    for name in ("alice", "bob", "carol"):
        assert attempt(client, name, "guess", address="198.51.100.7").status_code == 400
    before = auth_calls(keystone)
    response = attempt(client, "member", "member-pw", address="198.51.100.7")
    assert response.status_code == 429
    assert auth_calls(keystone) == before
    # X-Forwarded-For is the client's own say unless a trusted proxy sent it
    spoofed = attempt(
        client, "member", "member-pw", address="198.51.100.7", forwarded_for="10.9.9.9"
    )
    assert spoofed.status_code == 429
    assert attempt(client, "member", "member-pw", address="198.51.100.8").status_code == 302


def test_the_client_behind_a_trusted_proxy_is_the_forwarded_address(settings: Any) -> None:
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert throttle.client_address(request) == "10.0.0.5"  # no proxy is trusted
    settings.STACKDESK_TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert throttle.client_address(request) == "203.0.113.9"  # the entry the proxy added
    chained = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7")
    assert throttle.client_address(chained) == "203.0.113.9"  # past a second trusted hop
    untrusted = factory.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert throttle.client_address(untrusted) == "192.0.2.1"


def test_unreachable_keystone_is_not_counted(client: Client, use_clouds: Any) -> None:
    use_clouds({"down": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}}})
    for _ in range(6):
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


def test_application_credentials_are_counted_by_id(client: Client, keystone: FakeKeystone) -> None:
    def guess(credential_id: str) -> Response:
        return client.post(
            "/auth/sign-in/",
            {
                "method": "application_credential",
                "cloud": "fake:RegionOne",
                "credential_id": credential_id,
                "credential_secret": "guess",
            },
        )

    for _ in range(5):
        assert guess("abc123").status_code == 400
    assert guess("abc123").status_code == 429
    assert guess("def456").status_code == 400


def test_unknown_domain_gets_the_wrong_password_answer(
    client: Client, keystone: FakeKeystone
) -> None:
    unknown = attempt(client, "member", "member-pw", domain="Nowhere").content.decode()
    wrong = attempt(client, "member", "nope").content.decode()
    assert WRONG in unknown and WRONG in wrong
    assert "Nowhere" not in unknown.replace('value="Nowhere"', "")  # only in the field it typed
    assert "There is no domain" not in unknown
