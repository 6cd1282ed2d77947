"""Identity › Domains and Settings against the devcloud's Keystone: an admin creates a domain,
works in it, disables and deletes it through the portal (each step read back with
openstacksdk); a throwaway user changes their own password (a wrong current one refused) and
signs in again with the new one; dates on a page follow the chosen time zone."""

from __future__ import annotations

import os
from html import unescape
from pathlib import Path
from typing import Any

import openstack
import pytest
from django.test import Client

from tests.conftest import PORTAL_CLOUD_KEY, page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

D = "/project/identity/domains"


def html(response: Any) -> str:
    return unescape(str(response.content.decode()))


def ok(response: Any) -> Any:
    assert response.status_code == 302, page_errors(html(response))
    return response


def flashed(client: Client, response: Any) -> str:
    """The page a redirect leads to (with the messages it queued)."""
    return html(client.get(response["Location"]))


def sign_in_status(username: str, password: str) -> int:
    response = Client().post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": PORTAL_CLOUD_KEY,
            "username": username,
            "password": password,
            "domain": "Default",
        },
    )
    return int(response.status_code)


def sdk_works(auth_url: str, username: str, password: str) -> bool:
    conn = openstack.connect(
        load_yaml_config=False,
        load_envvars=False,
        auth_url=auth_url,
        username=username,
        password=password,
        user_domain_name="Default",
        region_name="RegionOne",
    )
    try:
        conn.authorize()
    except openstack.exceptions.SDKException:  # keystoneauth's 401, wrapped
        return False
    return True


def test_admin_creates_works_in_disables_and_deletes_a_domain(
    portal_clouds_yaml: Path, sdk_admin: Any
) -> None:
    ks = sdk_admin.identity
    name = f"dm-{os.urandom(3).hex()}"
    admin = portal_sign_in(Client(), "admin", project_id=ks.find_project("admin").id)
    try:
        ok(
            admin.post(
                f"{D}/create/", {"name": name, "description": "by the portal", "enabled": "on"}
            )
        )
        domain = ks.find_domain(name)
        assert domain is not None and domain.is_enabled and domain.description == "by the portal"
        page = html(admin.get(f"{D}/"))
        assert name in page and domain.id in page and "Default" in page

        # Keystone's 409 on the form, nothing made
        response = admin.post(f"{D}/create/", {"name": name, "enabled": "on"})
        assert response.status_code == 400 and "Conflict occurred" in " ".join(
            page_errors(html(response))
        )
        assert sum(1 for d in ks.domains() if d.name == name) == 1

        # the domain context: the projects page lists and creates in that domain
        ok(admin.post(f"{D}/context/", {"domain_id": domain.id}))
        projects = html(admin.get("/project/identity/projects/"))
        assert (
            f"Domain: {name}" in projects
            and "/projects/" + ks.find_project("admin").id not in projects
        )
        ok(
            admin.post(
                "/project/identity/projects/create/",
                {"name": f"{name}-p", "domain_id": domain.id, "enabled": "on"},
            )
        )
        assert ks.find_project(f"{name}-p", domain_id=domain.id) is not None
        ok(admin.post(f"{D}/context/clear/", {}))
        assert "Domain: " not in html(admin.get("/project/identity/projects/"))

        # enabled: Keystone refuses to delete it, and says why
        refused = flashed(admin, admin.post(f"{D}/{domain.id}/delete/"))
        assert "disable" in refused.lower() and ks.find_domain(name) is not None

        ok(admin.post(f"{D}/{domain.id}/enabled/", {"enabled": "0"}))
        assert not ks.get_domain(domain.id).is_enabled
        assert f'aria-label="Delete {name}"' in html(admin.get(f"{D}/"))
        deleted = flashed(admin, ok(admin.post(f"{D}/{domain.id}/delete/")))
        assert f"Domain {name} deleted." in deleted
        assert ks.find_domain(name) is None
    finally:
        leftover = ks.find_domain(name)
        if leftover is not None:
            for project in ks.projects(domain_id=leftover.id):
                ks.delete_project(project)
            ks.update_domain(leftover, is_enabled=False)
            ks.delete_domain(leftover)


def test_a_user_changes_their_password_and_signs_in_again(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("dm")
    auth_url = sdk_admin.auth["auth_url"]
    client = tenant.sign_in(Client())
    new = "pw-new-" + os.urandom(6).hex()

    response = client.post(
        "/project/password/",
        {"current_password": "not-it", "password": new, "confirm_password": new},
    )
    assert response.status_code == 400
    assert "Your current password is not correct." in page_errors(html(response))
    assert client.get("/project/overview/").status_code == 200  # still signed in
    assert sdk_works(auth_url, tenant.username, tenant.password)

    response = ok(
        client.post(
            "/project/password/",
            {"current_password": tenant.password, "password": new, "confirm_password": new},
        )
    )
    assert response["Location"] == "/auth/sign-in/"
    assert "Sign in again with the new password." in flashed(client, response)
    assert client.get("/project/overview/").status_code == 302  # this session has ended

    assert sign_in_status(tenant.username, tenant.password) == 400
    assert sdk_works(auth_url, tenant.username, new)
    assert not sdk_works(auth_url, tenant.username, tenant.password)
    tenant.password = new
    assert tenant.sign_in(Client()).get("/project/overview/").status_code == 200


def test_dates_follow_the_chosen_time_zone(portal_clouds_yaml: Path, make_tenant: Any) -> None:
    tenant = make_tenant("dm")
    tenant.conn.identity.create_application_credential(
        user=tenant.conn.current_user_id,
        name="dm-cred",
        expires_at="2030-01-01T00:00:00",
        roles=[{"name": "member"}],
    )
    client = tenant.sign_in(Client())
    assert "2030-01-01 00:00 UTC" in html(client.get("/project/app-credentials/"))
    ok(client.post("/settings/", {"language": "en", "time_zone": "Asia/Seoul", "page_size": "20"}))
    page = html(client.get("/project/app-credentials/"))
    assert "2030-01-01 09:00 KST" in page and "00:00 UTC" not in page
    # kept for the next sign-in
    assert "2030-01-01 09:00 KST" in html(tenant.sign_in(Client()).get("/project/app-credentials/"))
