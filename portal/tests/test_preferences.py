"""Settings (per user): language, time zone and page size are stored for the user, loaded at
the next sign-in and applied to every page; bad input is refused and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from compute.gateway import ComputeGateway
from compute.tests.fakes import FakeComputeGateway
from conftest import PERSONAS, UNIT_CLOUD, sign_in
from portal.gateways import override
from portal.models import Operation, Preference
from portal.tests.test_operations import make_op
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db
SETTINGS = {"language": "en", "time_zone": "UTC", "page_size": "20"}


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def saved(client: Client, **changes: str) -> Any:
    response = client.post("/settings/", {**SETTINGS, **changes})
    assert response.status_code == 302, page_errors(html(response))
    return response


@pytest.fixture
def compute_fake() -> Iterator[FakeComputeGateway]:
    fake = FakeComputeGateway()
    with override(ComputeGateway, fake):
        yield fake


def test_settings_page_starts_from_the_defaults(member_client: Client) -> None:
    page = html(member_client.get("/settings/"))
    assert '<option value="UTC" selected>' in page
    assert '<option value="20" selected>' in page and '<option value="en" selected>' in page
    assert 'href="/settings/"' in page  # the user menu (the name in the top bar) leads here
    assert not Preference.objects.filter(user_id="u-member").exclude(language="").exists()


def test_korean_and_seoul_time_are_stored_and_applied(member_client: Client) -> None:
    op = make_op()
    Operation.objects.filter(pk=op.pk).update(created_at=datetime(2030, 1, 1, 23, 30, tzinfo=UTC))
    assert "2030-01-01 23:30:00" in html(member_client.get("/operations/"))

    response = saved(member_client, language="ko", time_zone="Asia/Seoul", page_size="50")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    pref = Preference.objects.get(cloud_key=UNIT_CLOUD, user_id="u-member")
    assert (pref.language, pref.time_zone, pref.page_size) == ("ko", "Asia/Seoul", 50)

    page = html(member_client.get("/settings/"))
    assert '<html lang="ko">' in page and "설정" in page  # the message and page in Korean
    assert '<option value="Asia/Seoul" selected>' in page
    operations = html(member_client.get("/operations/"))
    assert "2030-01-02 08:30:00" in operations and "2030-01-01 23:30:00" not in operations


def test_the_next_sign_in_loads_the_settings(member_client: Client) -> None:
    saved(member_client, language="ko", time_zone="America/New_York", page_size="10")
    other = sign_in(Client(), PERSONAS["member"])  # another browser: no language cookie
    response = other.get("/settings/")
    assert re.search(r"<html lang=\"ko\">.*\d\d:\d\d E[SD]T<", html(response), re.S)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    # then the cookie rules: the top bar's switch still works for the session
    other.post("/i18n/setlang/", {"language": "en", "next": "/settings/"})
    assert '<html lang="en">' in html(other.get("/settings/"))
    # another user's settings are their own
    assert '<html lang="en">' in html(sign_in(Client(), PERSONAS["reader"]).get("/settings/"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "Mars/Olympus_Mons is not a time zone the portal knows.",
        ),
        ({"page_size": "30"}, "Choose 10, 20, 50 or 100 rows per page."),
        ({"page_size": "many"}, "Choose 10, 20, 50 or 100 rows per page."),
        ({"language": "fr"}, "Select a valid choice."),
        ({"time_zone": ""}, "This field is required."),
    ],
)
def test_bad_settings_change_nothing(
    member_client: Client, changes: dict[str, str], message: str
) -> None:
    saved(member_client, time_zone="Asia/Seoul")
    response = member_client.post("/settings/", {**SETTINGS, "language": "ko", **changes})
    assert response.status_code == 400
    assert any(message in e for e in page_errors(html(response))), page_errors(html(response))
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    pref = Preference.objects.get(user_id="u-member")
    assert (pref.language, pref.time_zone, pref.page_size) == ("en", "Asia/Seoul", 20)


def test_page_size_applies_to_paged_tables(
    member_client: Client, compute_fake: FakeComputeGateway
) -> None:
    for _ in range(15):
        make_op()
    for i in range(25):
        compute_fake.add_server(f"vm-{i:02d}")
    assert html(member_client.get("/operations/")).count("<time ") == 15
    assert html(member_client.get("/compute/servers/")).count('<tr id="server-') == 20

    saved(member_client, page_size="10")
    assert html(member_client.get("/operations/")).count("<time ") == 10
    servers = html(member_client.get("/compute/servers/"))
    assert servers.count('<tr id="server-') == 10
    assert "per_page=" not in servers  # the next-page link keeps the user's size by default
    # a size chosen on the page itself wins, and its links keep it
    servers = html(member_client.get("/compute/servers/?per_page=20"))
    assert servers.count('<tr id="server-') == 20 and "per_page=20" in servers


def test_settings_need_a_sign_in(client: Client) -> None:
    response = client.get("/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")
    assert client.post("/settings/", SETTINGS).status_code == 302
    assert not Preference.objects.exists()
