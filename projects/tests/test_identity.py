"""Identity pages (admins) against the in-memory Keystone: projects with members and groups,
users, groups, roles; every form path, refusal and access check."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from projects.tests.fakes import FakeProjectsGateway
from quotas import catalog
from quotas.models import NetworkDefaultsApplied, NetworkQuotaDefaults
from quotas.tests.fakes import FakeQuotasGateway
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

P = "/project/identity"


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def errors(response: object) -> str:
    """The messages shown at fields and above the form, as one string."""
    return unescape(" | ".join(page_errors(html(response))))


# --- projects -----------------------------------------------------------------------------


def test_projects_list_shows_name_description_id_domain_enabled(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    keystone_fake.update_project("p-study1", is_enabled=False)
    page = html(admin_client.get(f"{P}/projects/"))
    for text in ("demo", "The demo project", "p-demo", "default", "study1"):
        assert text in page
    assert 'aria-label="Enable study1"' in page and 'aria-label="Disable demo"' in page


def test_projects_list_is_paged_and_kept_until_the_portal_changes_something(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    for n in range(25):
        keystone_fake.create_project(
            name=f"zz-{n:02}", description="", domain_id="default", enabled=True
        )
    total = len(keystone_fake.projects)
    keystone_fake.calls = 0
    first = html(admin_client.get(f"{P}/projects/"))
    assert first.count('aria-label="Edit quotas of ') == 20  # a page (the default page size)
    assert f"Page 1 of 2 ({total} in all)" in first and "Read at " in first
    second = html(admin_client.get(f"{P}/projects/?page=2"))
    assert second.count('aria-label="Edit quotas of ') == total - 20 and "zz-24" in second
    assert keystone_fake.calls == 1  # the second page came from the kept list
    # Made outside the portal: shown once the copy runs out, or at once when asked for.
    keystone_fake.create_project(name="zz-99", description="", domain_id="default", enabled=True)
    assert "zz-99" not in html(admin_client.get(f"{P}/projects/?page=2"))
    assert "zz-99" in html(admin_client.get(f"{P}/projects/?page=2&fresh=1"))
    # Made through the portal (the audit log records it): shown at once.
    admin_client.post(
        f"{P}/projects/create/",
        {"name": "zz-lab", "description": "", "domain_id": "default", "enabled": "on"},
    )
    assert "zz-lab" in html(admin_client.get(f"{P}/projects/?page=2"))
    # The name filter, over the whole list, and an ID as it is.
    found = html(admin_client.get(f"{P}/projects/?name=ZZ-1"))
    assert found.count('aria-label="Edit quotas of ') == 10 and "Page 1 of" not in found
    assert html(admin_client.get(f"{P}/projects/?name=p-demo")).count("Edit quotas of ") == 1


def test_create_project_then_edit_disable_enable_delete(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    response = admin_client.post(
        f"{P}/projects/create/",
        {"name": "lab", "description": "A lab", "domain_id": "default", "enabled": "on"},
    )
    lab = next(p for p in keystone_fake.projects.values() if p.name == "lab")
    assert response.status_code == 302 and response["Location"] == f"{P}/projects/{lab.id}/"
    assert lab.enabled and lab.description == "A lab"
    assert "Project lab created." in html(admin_client.get(response["Location"]))

    response = admin_client.post(
        f"{P}/projects/{lab.id}/edit/", {"name": "lab2", "description": "", "enabled": "on"}
    )
    assert response.status_code == 302 and keystone_fake.projects[lab.id].name == "lab2"

    admin_client.post(f"{P}/projects/{lab.id}/enabled/", {"enabled": "0"})
    assert not keystone_fake.projects[lab.id].enabled
    admin_client.post(f"{P}/projects/{lab.id}/enabled/", {"enabled": "1"})
    assert keystone_fake.projects[lab.id].enabled

    confirm = html(admin_client.get(f"{P}/projects/{lab.id}/delete/"))
    assert "Delete project lab2?" in confirm and lab.id in keystone_fake.projects
    assert admin_client.post(f"{P}/projects/{lab.id}/delete/").status_code == 302
    assert lab.id not in keystone_fake.projects


def test_create_project_bad_input_keeps_what_was_typed(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    response = admin_client.post(
        f"{P}/projects/create/", {"name": "", "description": "kept text", "domain_id": "default"}
    )
    page = html(response)
    assert response.status_code == 400
    assert "This field is required." in page_errors(page)
    assert "kept text" in page
    response = admin_client.post(
        f"{P}/projects/create/", {"name": "demo", "description": "again", "domain_id": "default"}
    )
    assert response.status_code == 400
    assert "Duplicate entry found with name demo" in errors(response)
    assert 'value="demo"' in html(response)


def test_new_project_gets_the_portals_network_defaults(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    values = {**quota_fake.defaults[catalog.NETWORK], "floating_ips": 7}
    NetworkQuotaDefaults.objects.create(cloud_key="unit:RegionOne", values=values)
    admin_client.post(f"{P}/projects/create/", {"name": "lab", "domain_id": "default"})
    lab = next(p for p in keystone_fake.projects.values() if p.name == "lab")
    assert quota_fake.limit(lab.id, catalog.NETWORK, "floating_ips") == 7


def test_keystone_refusal_is_shown_in_its_words(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    keystone_fake.refuse = "You are not authorized to perform the requested action."
    response = admin_client.post(f"{P}/projects/create/", {"name": "x", "domain_id": "default"})
    assert "You are not authorized to perform the requested action." in errors(response)
    response = admin_client.post(f"{P}/projects/p-demo/enabled/", {"enabled": "0"}, follow=True)
    assert "You are not authorized to perform the requested action." in html(response)
    assert keystone_fake.projects["p-demo"].enabled


def test_unknown_project_is_a_404(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    for url in ("/", "/edit/", "/delete/", "/quotas/"):
        response = admin_client.get(f"{P}/projects/p-nowhere{url}")
        assert response.status_code == 404, url
        assert "Could not find project: p-nowhere." in html(response)


def test_members_and_groups_of_a_project(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    page = html(admin_client.get(f"{P}/projects/p-demo/"))
    assert "Remove role member from member" in page and "Remove role reader from reader" in page
    assert "There are no groups yet." in page

    admin_client.post(
        f"{P}/projects/p-demo/users/", {"actor_id": "u-outsider", "role_id": "r-member"}
    )
    assert ("p-demo", "user", "u-outsider", "r-member") in keystone_fake.assignments
    admin_client.post(
        f"{P}/projects/p-demo/users/remove/", {"actor_id": "u-reader", "role_id": "r-reader"}
    )
    assert ("p-demo", "user", "u-reader", "r-reader") not in keystone_fake.assignments

    group = keystone_fake.create_group(name="ops", description="", domain_id="default")
    admin_client.post(f"{P}/projects/p-demo/groups/", {"actor_id": group.id, "role_id": "r-reader"})
    page = html(admin_client.get(f"{P}/projects/p-demo/"))
    assert "Remove role reader from group ops" in page
    admin_client.post(
        f"{P}/projects/p-demo/groups/remove/", {"actor_id": group.id, "role_id": "r-reader"}
    )
    assert not any(a[2] == group.id for a in keystone_fake.assignments)

    response = admin_client.post(f"{P}/projects/p-demo/users/", {"actor_id": "", "role_id": ""})
    assert "Choose who and which role." in html(admin_client.get(response["Location"]))
    response = admin_client.post(
        f"{P}/projects/p-demo/users/remove/",
        {"actor_id": "u-admin", "role_id": "r-member"},
        follow=True,
    )
    assert "Could not find role assignment" in html(response)


def test_project_page_makes_few_calls(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    admin_client.get(f"{P}/projects/p-demo/")
    assert keystone_fake.calls <= 5


# --- users --------------------------------------------------------------------------------


def test_create_user_with_a_role_in_the_primary_project(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    form = {
        "name": "carol",
        "email": "carol@example.org",
        "password": "s3cret-pw",
        "confirm_password": "s3cret-pw",
        "domain_id": "default",
        "default_project_id": "p-study1",
        "role_id": "r-member",
        "enabled": "on",
    }
    assert admin_client.post(f"{P}/users/create/", form).status_code == 302
    carol = next(u for u in keystone_fake.users.values() if u.name == "carol")
    assert carol.email == "carol@example.org" and carol.default_project_id == "p-study1"
    assert keystone_fake.passwords[carol.id] == "s3cret-pw"
    assert ("p-study1", "user", carol.id, "r-member") in keystone_fake.assignments
    assert "carol@example.org" in html(admin_client.get(f"{P}/users/"))


@pytest.mark.parametrize(
    ("change", "field_error"),
    [
        ({"confirm_password": "other"}, "The two passwords do not match."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"default_project_id": ""}, "Choose the project the role is for."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_create_user_refusals_at_the_field(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    change: dict[str, str],
    field_error: str,
) -> None:
    form = {
        "name": "dave",
        "email": "dave@example.org",
        "password": "pw-1",
        "confirm_password": "pw-1",
        "domain_id": "default",
        "default_project_id": "p-demo",
        "role_id": "r-member",
    } | change
    response = admin_client.post(f"{P}/users/create/", form)
    assert response.status_code == 400
    assert field_error in errors(response)
    assert "pw-1" not in html(response)  # passwords are never sent back
    assert not any(u.name == "dave" for u in keystone_fake.users.values())


def test_edit_user_change_password_disable_and_delete(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    edit = {"name": "member", "email": "new@example.org", "default_project_id": "p-study1"}
    assert admin_client.post(f"{P}/users/u-member/edit/", edit).status_code == 302
    assert keystone_fake.users["u-member"].email == "new@example.org"
    assert keystone_fake.users["u-member"].default_project_id == "p-study1"

    response = admin_client.post(
        f"{P}/users/u-member/password/", {"password": "a", "confirm_password": "b"}
    )
    assert "The two passwords do not match." in errors(response)
    admin_client.post(f"{P}/users/u-member/password/", {"password": "n", "confirm_password": "n"})
    assert keystone_fake.passwords["u-member"] == "n"

    admin_client.post(f"{P}/users/u-member/enabled/", {"enabled": "0"})
    assert not keystone_fake.users["u-member"].enabled
    page = html(admin_client.get(f"{P}/users/"))
    assert 'aria-label="Enable member"' in page

    assert "Delete user member?" in html(admin_client.get(f"{P}/users/u-member/delete/"))
    admin_client.post(f"{P}/users/u-member/delete/")
    assert "u-member" not in keystone_fake.users


def test_an_admin_cannot_disable_or_delete_themself(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    response = admin_client.post(f"{P}/users/u-admin/enabled/", {"enabled": "0"}, follow=True)
    assert "You cannot disable yourself." in html(response)
    response = admin_client.post(f"{P}/users/u-admin/delete/", follow=True)
    assert "You cannot delete yourself." in html(response)
    assert keystone_fake.users["u-admin"].enabled


# --- groups and roles ---------------------------------------------------------------------


def test_groups_create_members_edit_delete(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    response = admin_client.post(
        f"{P}/groups/create/", {"name": "ops", "description": "Operators", "domain_id": "default"}
    )
    ops = next(iter(keystone_fake.groups.values()))
    assert response["Location"] == f"{P}/groups/{ops.id}/"
    admin_client.post(f"{P}/groups/{ops.id}/users/", {"user_id": "u-member"})
    admin_client.post(f"{P}/groups/{ops.id}/users/", {"user_id": "u-reader"})
    page = html(admin_client.get(f"{P}/groups/{ops.id}/"))
    assert "Remove member from the group" in page and "Remove reader from the group" in page
    admin_client.post(f"{P}/groups/{ops.id}/users/remove/", {"user_id": "u-reader"})
    assert keystone_fake.members == {(ops.id, "u-member")}

    admin_client.post(f"{P}/groups/{ops.id}/edit/", {"name": "ops2", "description": "x"})
    assert keystone_fake.groups[ops.id].name == "ops2"
    assert "Delete group ops2?" in html(admin_client.get(f"{P}/groups/{ops.id}/delete/"))
    admin_client.post(f"{P}/groups/{ops.id}/delete/")
    assert keystone_fake.groups == {}
    assert admin_client.get(f"{P}/groups/{ops.id}/").status_code == 404


def test_roles_create_duplicate_and_delete(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    admin_client.post(f"{P}/roles/create/", {"name": "auditor"})
    auditor = next(r for r in keystone_fake.roles.values() if r.name == "auditor")
    assert "auditor" in html(admin_client.get(f"{P}/roles/"))
    response = admin_client.post(f"{P}/roles/create/", {"name": "auditor"})
    assert response.status_code == 400
    assert "Duplicate entry" in errors(response)
    assert "Delete role auditor?" in html(admin_client.get(f"{P}/roles/{auditor.id}/delete/"))
    admin_client.post(f"{P}/roles/{auditor.id}/delete/")
    assert auditor.id not in keystone_fake.roles


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["member_client", "reader_client", "outsider_client"])
def test_identity_pages_refuse_non_admins_before_calling_keystone(
    request: pytest.FixtureRequest, persona: str, keystone_fake: FakeProjectsGateway
) -> None:
    client: Client = request.getfixturevalue(persona)
    for url in ("/projects/", "/users/", "/groups/", "/roles/", "/projects/p-demo/quotas/"):
        assert client.get(P + url).status_code == 403
    response = client.post(f"{P}/projects/create/", {"name": "x", "domain_id": "default"})
    assert response.status_code == 403
    assert client.post(f"{P}/projects/p-demo/delete/").status_code == 403
    assert keystone_fake.calls == 0 and "p-demo" in keystone_fake.projects


def test_a_project_given_its_own_network_quota_stops_following_the_defaults(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    values = {**quota_fake.defaults[catalog.NETWORK], "floating_ips": 7}
    NetworkQuotaDefaults.objects.create(cloud_key="unit:RegionOne", values=values)
    admin_client.post(f"{P}/projects/create/", {"name": "lab", "domain_id": "default"})
    lab = next(p for p in keystone_fake.projects.values() if p.name == "lab")
    assert NetworkDefaultsApplied.objects.filter(project_id=lab.id).exists()
    form = {
        q.name: str(quota_fake.limit(lab.id, q.service, q.key)) for q in catalog.QUOTA_FIELDS
    } | {"network__floating_ips": "9"}
    admin_client.post(f"{P}/projects/{lab.id}/quotas/", form)
    assert not NetworkDefaultsApplied.objects.filter(project_id=lab.id).exists()
