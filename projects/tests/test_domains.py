"""Identity › Domains (admins) against the in-memory Keystone: the list, create (a duplicate
refused in Keystone's words), enable/disable, delete only when disabled, the domain context
the projects and users pages then work in; and any user's own password change."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from portal.tests.fake_keystone import FakeKeystone
from projects.gateway import Domain, Project, User
from projects.tests.fakes import FakeProjectsGateway
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

D = "/project/identity/domains"


def html(response: object) -> str:
    return unescape(response.content.decode())  # type: ignore[attr-defined, no-any-return]


def errors(response: object) -> str:
    return " | ".join(page_errors(html(response)))


@pytest.fixture
def two_domains(keystone_fake: FakeProjectsGateway) -> FakeProjectsGateway:
    """A second domain "lab" with a project and a user of its own."""
    keystone_fake.domains["d-lab"] = Domain("d-lab", "lab", "The lab domain", True)
    keystone_fake.projects["p-lab1"] = Project("p-lab1", "lab1", "", "d-lab", True)
    keystone_fake.users["u-labuser"] = User("u-labuser", "labuser", "", "", "d-lab", "", True)
    return keystone_fake


def test_one_domain_cloud_shows_its_domain(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    page = html(admin_client.get(f"{D}/"))
    assert "Default" in page and ">default<" in page
    assert 'aria-label="Disable Default"' in page
    assert "Delete Default" not in page  # enabled: Keystone would refuse


def test_domains_are_for_admins_only(
    member_client: Client, reader_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    assert member_client.get(f"{D}/").status_code == 403
    assert reader_client.post(f"{D}/create/", {"name": "x"}).status_code == 403
    assert "x" not in {d.name for d in keystone_fake.domains.values()}


def test_create_disable_delete_a_domain(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    response = admin_client.post(
        f"{D}/create/", {"name": "dm-lab", "description": "A lab", "enabled": "on"}
    )
    assert response.status_code == 302, errors(response)
    lab = next(d for d in keystone_fake.domains.values() if d.name == "dm-lab")
    assert lab.enabled and lab.description == "A lab"
    page = html(admin_client.get(response["Location"]))
    assert "Domain dm-lab created." in page and lab.id in page and "A lab" in page

    # enabled: refused by Keystone, in its own words, and still there
    response = admin_client.post(f"{D}/{lab.id}/delete/")
    assert lab.id in keystone_fake.domains
    assert "Cannot delete a domain that is enabled" in html(admin_client.get(response["Location"]))

    admin_client.post(f"{D}/{lab.id}/enabled/", {"enabled": "0"})
    assert not keystone_fake.domains[lab.id].enabled
    page = html(admin_client.get(f"{D}/"))
    assert "Domain dm-lab disabled." in page and 'aria-label="Delete dm-lab"' in page

    confirm = html(admin_client.get(f"{D}/{lab.id}/delete/"))
    assert "Delete domain dm-lab?" in confirm and lab.id in keystone_fake.domains
    response = admin_client.post(f"{D}/{lab.id}/delete/")
    assert response.status_code == 302 and lab.id not in keystone_fake.domains
    assert "Domain dm-lab deleted." in html(admin_client.get(response["Location"]))


def test_duplicate_or_empty_domain_name_changes_nothing(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    before = dict(keystone_fake.domains)
    response = admin_client.post(f"{D}/create/", {"name": "Default", "description": "kept"})
    assert response.status_code == 400
    assert "two projects acting as domains with the same name: Default" in errors(response)
    assert "kept" in html(response)
    response = admin_client.post(f"{D}/create/", {"name": ""})
    assert response.status_code == 400 and "This field is required." in errors(response)
    assert keystone_fake.domains == before


def test_domain_context_narrows_projects_and_users_and_creation(
    admin_client: Client, two_domains: FakeProjectsGateway
) -> None:
    response = admin_client.post(f"{D}/context/", {"domain_id": "d-lab"})
    assert response.status_code == 302
    projects = html(admin_client.get(response["Location"]))
    assert "Domain: lab" in projects and "/projects/p-lab1/" in projects
    assert "/projects/p-demo/" not in projects
    users = html(admin_client.get("/project/identity/users/"))
    assert "/users/u-labuser/" in users and "/users/u-member/" not in users
    assert "Domain: lab" in users

    # creation happens in the context domain; another domain is not a choice
    form = html(admin_client.get("/project/identity/projects/create/"))
    assert 'value="d-lab"' in form and 'value="default"' not in form
    response = admin_client.post(
        "/project/identity/projects/create/", {"name": "lab2", "domain_id": "default"}
    )
    assert response.status_code == 400
    assert "lab2" not in {p.name for p in two_domains.projects.values()}
    admin_client.post("/project/identity/projects/create/", {"name": "lab2", "domain_id": "d-lab"})
    assert any(p.name == "lab2" and p.domain_id == "d-lab" for p in two_domains.projects.values())
    form = html(admin_client.get("/project/identity/users/create/"))
    projects_choice = re.search(r'name="default_project_id".*?</select>', form, re.S)
    assert 'value="d-lab"' in form and projects_choice
    assert 'value="p-lab1"' in projects_choice[0] and 'value="p-demo"' not in projects_choice[0]

    response = admin_client.post(f"{D}/context/clear/", {"next": "/project/identity/projects/"})
    assert response["Location"] == "/project/identity/projects/"
    projects = html(admin_client.get(response["Location"]))
    assert "Domain: lab" not in projects
    assert "/projects/p-demo/" in projects and "/projects/p-lab1/" in projects


def test_unknown_domain_context_is_refused(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    response = admin_client.post(f"{D}/context/", {"domain_id": "nope"})
    assert "That domain does not exist." in html(admin_client.get(response["Location"]))
    assert "Domain:" not in html(admin_client.get("/project/identity/projects/"))


def test_members_cannot_set_a_domain_context(
    member_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    assert member_client.post(f"{D}/context/", {"domain_id": "default"}).status_code == 403


# --- one's own password --------------------------------------------------------------------


def test_change_own_password_ends_the_session(
    member_client: Client, keystone_fake: FakeProjectsGateway, unit_cloud: FakeKeystone
) -> None:
    keystone_fake.passwords["u-member"] = "old-pw"
    assert "Change your password" in html(member_client.get("/settings/"))
    response = member_client.post(
        "/project/password/",
        {"current_password": "old-pw", "password": "new-pw", "confirm_password": "new-pw"},
    )
    assert response.status_code == 302 and response["Location"] == "/auth/sign-in/"
    assert keystone_fake.passwords["u-member"] == "new-pw"
    # revoked like sign-out does, and signed out here
    assert "token-member" not in unit_cloud.tokens and "unscoped-member" not in unit_cloud.tokens
    page = html(member_client.get("/auth/sign-in/"))
    assert "Your password was changed. Sign in again with the new password." in page
    assert member_client.get("/project/overview/").status_code == 302


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (
            {"current_password": "wrong", "password": "new-pw", "confirm_password": "new-pw"},
            "Your current password is not correct.",
            "current_password",
        ),
        (
            {"current_password": "old-pw", "password": "old-pw", "confirm_password": "old-pw"},
            "The new password must differ from the current one.",
            "password",
        ),
        (
            {"current_password": "old-pw", "password": "new-pw", "confirm_password": "other"},
            "The two passwords do not match.",
            "confirm_password",
        ),
        ({}, "This field is required.", "current_password"),
    ],
)
def test_bad_password_change_changes_nothing(
    member_client: Client,
    keystone_fake: FakeProjectsGateway,
    unit_cloud: FakeKeystone,
    data: dict[str, str],
    message: str,
    field: str,
) -> None:
    keystone_fake.passwords["u-member"] = "old-pw"
    response = member_client.post("/project/password/", data)
    assert response.status_code == 400
    assert message in errors(response)
    assert f'id="id_{field}"' in html(response)
    assert "old-pw" not in html(response) and "new-pw" not in html(response)
    assert keystone_fake.passwords["u-member"] == "old-pw"
    assert "token-member" in unit_cloud.tokens
    assert member_client.get("/project/overview/").status_code == 200  # still signed in


def test_keystones_password_rules_are_shown(
    member_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    keystone_fake.passwords["u-member"] = "old-pw"
    keystone_fake.refuse = "Password validation error: The password does not match the rules."
    response = member_client.post(
        "/project/password/",
        {"current_password": "old-pw", "password": "x", "confirm_password": "x"},
    )
    assert response.status_code == 400 and "does not match the rules" in errors(response)
    assert keystone_fake.passwords["u-member"] == "old-pw"
