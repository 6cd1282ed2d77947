"""Sign-in, project switching, admin gating and sign-out against the devcloud's real Keystone,
and one real operation (refresh resource counts) in a real worker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openstack
import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from portal import cloud
from portal.crypto import unseal
from portal.identity import SESSION_CREDENTIAL, SESSION_IDENTITY
from portal.models import Operation
from portal.tests.test_admin_gating import admin_urls
from projects.models import ProjectCounts
from tests.conftest import portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


def session_tokens(client: Client) -> dict[str, Any]:
    data = unseal(client.session[SESSION_CREDENTIAL])
    assert data is not None
    return data


def token_is_valid(admin: openstack.connection.Connection, token: str) -> bool:
    response = admin.session.get(
        admin.auth["auth_url"].rstrip("/") + "/auth/tokens",
        headers={"X-Subject-Token": token},
        raise_exc=False,
    )
    return response.status_code == 200


def test_member_signs_in_and_sees_their_project(portal_clouds_yaml: Path) -> None:
    client = portal_sign_in(Client(), "member")
    identity = client.session[SESSION_IDENTITY]
    assert identity["project_name"] == "demo"
    assert "member" in identity["roles"] and "admin" not in identity["roles"]
    page = client.get("/project/overview/").content.decode()
    assert "Project demo" in page and "All Operations" not in page


def test_admin_lists_projects_and_switches(
    portal_clouds_yaml: Path, sdk_admin: Any, make_tenant: Any
) -> None:
    tenant = make_tenant("switch")
    admin_user = sdk_admin.identity.find_user("admin", domain_id="default")
    sdk_admin.identity.assign_project_role_to_user(
        tenant.project, admin_user, sdk_admin.identity.find_role("member")
    )
    client = Client()
    portal_sign_in(client, "admin", project_id=sdk_admin.identity.find_project("admin").id)
    identity = client.session[SESSION_IDENTITY]
    names = {p["name"] for p in identity["projects"]}
    assert "admin" in names and identity["project_name"] == "admin"
    assert "admin" in identity["roles"]
    assert client.get("/admin/operations/").status_code == 200
    other = next(p for p in identity["projects"] if p["name"] == tenant.name)
    client.post("/auth/switch-project/", {"project_id": other["id"]})
    assert client.session[SESSION_IDENTITY]["project_id"] == other["id"]
    token = session_tokens(client)["token"]
    assert token_is_valid(sdk_admin, token)


def test_member_cannot_open_any_admin_page(portal_clouds_yaml: Path) -> None:
    client = portal_sign_in(Client(), "member")
    for url in admin_urls():
        assert client.get(url).status_code in (403, 405), url


def test_sign_out_revokes_the_token_in_keystone(portal_clouds_yaml: Path, sdk_admin: Any) -> None:
    client = portal_sign_in(Client(), "member")
    tokens = session_tokens(client)
    assert token_is_valid(sdk_admin, tokens["token"])
    assert token_is_valid(sdk_admin, tokens["unscoped"])
    client.post("/auth/sign-out/")
    assert not token_is_valid(sdk_admin, tokens["token"])
    assert not token_is_valid(sdk_admin, tokens["unscoped"])
    assert client.get("/project/overview/").status_code == 302


def test_tokens_are_encrypted_in_the_session_table(portal_clouds_yaml: Path) -> None:
    client = portal_sign_in(Client(), "member")
    token = session_tokens(client)["token"]
    for row in Session.objects.all():
        assert token not in row.session_data and token not in str(row.get_decoded())


def test_wrong_password_against_real_keystone(portal_clouds_yaml: Path) -> None:
    response = Client().post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "devcloud:RegionOne",
            "username": "demo",
            "password": "not-the-password",
            "domain": "Default",
        },
    )
    assert "The user name, password or domain is not correct." in response.content.decode()
    unknown_domain = {
        "method": "password",
        "cloud": "devcloud:RegionOne",
        "username": "demo",
        "password": "whatever",
        "domain": "NoSuchDomain",
    }
    response = Client().post("/auth/sign-in/", unknown_domain)
    assert "The user name, password or domain is not correct." in response.content.decode()
    with override_settings(STACKDESK_SIGNIN_REVEALS_DOMAINS=True):
        response = Client().post("/auth/sign-in/", unknown_domain)
    assert "There is no domain called “NoSuchDomain”." in response.content.decode()


def test_refresh_counts_in_a_real_worker(
    portal_clouds_yaml: Path, start_worker: Any, make_tenant: Any
) -> None:
    tenant = make_tenant("counts")
    net = tenant.conn.network.create_network(name="counts-net")
    tenant.conn.network.create_security_group(name="counts-sg")
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    client = tenant.sign_in(Client())
    client.post("/project/overview/refresh-counts/")
    op = Operation.objects.get(kind="refresh_project_counts", project_id=tenant.project.id)
    deadline = time.monotonic() + 60
    while op.state not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        op.refresh_from_db()
    assert op.state == "succeeded", (op.error, op.log)
    counts = ProjectCounts.objects.get(project_id=tenant.project.id).counts
    assert counts["networks"] == 1 and counts["servers"] == 0
    assert counts["security_groups"] == 2  # "default" and ours
    assert net.name in [n.name for n in tenant.conn.network.networks()]
    page = client.get("/project/overview/").content.decode()
    assert "Counted at" in page


def test_wrong_passwords_are_throttled_before_keystone(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five wrong passwords for a real user lock it in the portal; the sixth attempt, even with
    the right password, never reaches Keystone (whose own account lockout, if configured,
    is therefore not driven by guessers through the portal)."""
    tenant = make_tenant("throttle")  # a throwaway user, deleted after the test
    asked: list[str] = []
    real_sign_in = cloud.password_sign_in

    def counting_sign_in(*args: Any) -> Any:
        asked.append(args[1])
        return real_sign_in(*args)

    monkeypatch.setattr(cloud, "password_sign_in", counting_sign_in)

    def attempt(password: str) -> Any:
        return Client().post(
            "/auth/sign-in/",
            {
                "method": "password",
                "cloud": "devcloud:RegionOne",
                "username": tenant.username,
                "password": password,
                "domain": "Default",
            },
        )

    for _ in range(5):
        assert attempt("not-the-password").status_code == 400
    assert len(asked) == 5
    for password in ("not-the-password", tenant.password):
        response = attempt(password)
        assert response.status_code == 429
        assert "Too many failed sign-ins; try again in" in response.content.decode()
    assert len(asked) == 5
    # Keystone itself did not lock the account: the user still gets a token there
    conn = openstack.connect(
        load_yaml_config=False,
        load_envvars=False,
        auth_url=sdk_admin.auth["auth_url"],
        username=tenant.username,
        password=tenant.password,
        user_domain_name="Default",
        project_id=tenant.project.id,
        project_domain_name="Default",
    )
    assert conn.authorize()
