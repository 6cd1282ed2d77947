"""Identity › Domains (admins) against the in-memory Keystone: the list, create (a duplicate
refused in Keystone's words), enable/disable, delete only when disabled, the domain context
the projects and users pages then work in."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

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
