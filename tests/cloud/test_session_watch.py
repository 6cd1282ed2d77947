"""Issue 14 against the all-in-one: with the worker running, a page view asks Keystone nothing,
and a token revoked in Keystone still ends its session within the recheck interval (issue 18):
the worker's confirm_sessions found it refused, the next view reads that answer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from portal import cloud
from portal.crypto import unseal
from portal.identity import SESSION_CONFIRMED, SESSION_CREDENTIAL, watch_key
from tests.cloud.waiting import wait_for
from tests.conftest import PORTAL_CLOUD_KEY

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
INTERVAL = 4  # STACKDESK_TOKEN_RECHECK_SECONDS here and in the worker: beat every 2 s


def token_of(client: Client) -> str:
    credential = unseal(client.session[SESSION_CREDENTIAL])
    assert credential is not None
    token: str = credential["token"]
    return token


def watched(token: str) -> dict[str, Any] | None:
    answer: dict[str, Any] | None = cache.get(watch_key(PORTAL_CLOUD_KEY, token))
    return answer


def test_a_revoked_token_ends_its_session_with_no_keystone_call_in_the_view(
    portal_clouds_yaml: Any,
    make_tenant: Any,
    sdk_admin: Any,
    start_worker: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.STACKDESK_TOKEN_RECHECK_SECONDS = INTERVAL
    start_worker(
        OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml),
        STACKDESK_TOKEN_RECHECK_SECONDS=str(INTERVAL),
    )
    tenant = make_tenant("sw")
    kept, revoked = tenant.sign_in(Client()), tenant.sign_in(Client())
    sdk_admin.identity.delete(  # DELETE /v3/auth/tokens: the token is revoked in Keystone
        "/auth/tokens", headers={"X-Subject-Token": token_of(revoked)}
    ).raise_for_status()

    wait_for(lambda: (watched(token_of(revoked)) or {}).get("confirmed") is False, 30, "refusal")
    last = max(c.session[SESSION_CONFIRMED] for c in (kept, revoked))  # the sign-ins'
    time.sleep(max(0.0, last + INTERVAL + 0.2 - time.time()))  # now the sessions' are stale
    wait_for(lambda: time.time() - (watched(token_of(kept)) or {"at": 0})["at"] < 2, 30, "yes")
    asked: list[str] = []
    real = cloud.validate_token

    def validate_token(where: cloud.Cloud, token: str) -> cloud.ScopedToken:
        asked.append(where.key)
        return real(where, token)

    monkeypatch.setattr(cloud, "validate_token", validate_token)

    ended = revoked.get("/operations/")
    assert ended.status_code == 302 and ended["Location"].startswith("/auth/sign-in/")
    assert kept.get("/operations/").status_code == 200
    assert asked == []  # neither view asked Keystone: the worker had
