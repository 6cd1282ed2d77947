"""Application credentials: any signed-in user makes their own, sees the secret once with a
clouds.yaml entry, lists and deletes them."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
import yaml
from django.test import Client
from django.utils import timezone

from portal.tests.fake_keystone import FakeKeystone
from projects.tests.fakes import FakeProjectsGateway
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

URL = "/project/app-credentials/"


def html(response: object) -> str:
    return unescape(response.content.decode())  # type: ignore[attr-defined, no-any-return]


def test_create_shows_the_secret_once_with_a_clouds_yaml(
    reader_client: Client, keystone_fake: FakeProjectsGateway, unit_cloud: FakeKeystone
) -> None:
    page = html(reader_client.get(URL + "create/"))
    assert 'value="reader"' in page  # the roles offered are the user's own in this project
    expires = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    response = reader_client.post(
        URL + "create/",
        {"name": "ci-bot", "description": "CI", "expires_at": expires, "roles": ["reader"]},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    credential = next(iter(keystone_fake.app_credentials.values()))
    assert keystone_fake.app_credential_owner[credential.id] == "u-reader"
    assert credential.roles == ("reader",) and not credential.unrestricted
    page = html(response)
    secret = page.split('id="credential-secret">')[1].split("<")[0]
    assert len(secret) > 20 and "Copy the secret now." in page
    snippet = yaml.safe_load(page.split("<code>")[1].split("</code>")[0])
    entry = snippet["clouds"]["unit"]
    assert entry["auth_type"] == "v3applicationcredential"
    assert entry["auth"] == {
        "auth_url": unit_cloud.url + "/v3",
        "application_credential_id": credential.id,
        "application_credential_secret": secret,
    }
    assert entry["region_name"] == "RegionOne"
    listing = html(reader_client.get(URL))
    assert "ci-bot" in listing and secret not in listing  # never shown again


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "roles": ["member"]}, "This field is required."),
        ({"name": "x", "roles": []}, "Choose at least one role."),
        ({"name": "x", "roles": ["admin"]}, "Select a valid choice."),
        (
            {"name": "x", "roles": ["member"], "expires_at": "2020-01-01T10:00"},
            "The expiry must be in the future.",
        ),
        ({"name": "x", "roles": ["member"], "expires_at": "soon"}, "Enter a valid date/time."),
    ],
)
def test_create_refusals_at_the_field(
    member_client: Client, keystone_fake: FakeProjectsGateway, form: dict[str, object], message: str
) -> None:
    response = member_client.post(URL + "create/", {"description": "kept"} | form)
    assert response.status_code == 400
    assert message in " ".join(page_errors(html(response)))
    assert 'value="kept"' in html(response) and not keystone_fake.app_credentials


def test_keystone_refusal_and_duplicate_names_are_shown(
    member_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    form = {"name": "bot", "roles": ["member"], "unrestricted": "on"}
    assert member_client.post(URL + "create/", form).status_code == 200
    assert next(iter(keystone_fake.app_credentials.values())).unrestricted
    response = member_client.post(URL + "create/", form)
    assert "Duplicate entry found with name bot" in html(response)
    keystone_fake.refuse = (
        "Using method 'application_credential' is not allowed for managing additional "
        "application credentials."
    )
    response = member_client.post(URL + "create/", form | {"name": "other"})
    assert "is not allowed for managing additional application credentials" in html(response)


def test_delete_own_only(
    member_client: Client, outsider_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    created = keystone_fake.create_application_credential(
        "u-member",
        name="bot",
        description="",
        expires_at=None,
        roles=["member"],
        unrestricted=False,
    )
    cid = created.credential.id
    assert outsider_client.get(f"{URL}{cid}/delete/").status_code == 404
    assert outsider_client.post(f"{URL}{cid}/delete/").status_code == 404
    assert "Delete the application credential bot?" in html(
        member_client.get(f"{URL}{cid}/delete/")
    )
    response = member_client.post(f"{URL}{cid}/delete/", follow=True)
    assert "Application credential bot deleted." in html(response)
    assert keystone_fake.app_credentials == {}


def test_signed_out_users_are_sent_to_sign_in(
    client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")
