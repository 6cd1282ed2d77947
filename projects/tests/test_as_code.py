"""The Identity and API Access forms' "show as code" panels (projects/as_code.py)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from projects.tests.fakes import FakeProjectsGateway
from quotas.tests.fakes import FakeQuotasGateway

pytestmark = pytest.mark.django_db

P = "/project/identity"
OS = "openstack --os-cloud unit"


def shown(client: Client, path: str, **fields: Any) -> str:
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200, answer.content.decode()[:300]
    return html.unescape(answer.content.decode())


@pytest.mark.parametrize(
    ("path", "fields", "command", "task_lines"),
    [
        (
            f"{P}/projects/create/",
            {"name": "lab", "description": "The lab", "domain_id": "default", "enabled": "on"},
            f"{OS} project create --domain default --description 'The lab' --enable lab",
            ["openstack.cloud.project:", "is_enabled: true", "domain: default"],
        ),
        (
            f"{P}/projects/create/",
            {"name": "lab", "domain_id": "default"},
            f"{OS} project create --domain default --disable lab",
            ["is_enabled: false", "state: present"],
        ),
        (
            f"{P}/projects/p-demo/edit/",
            {"name": "demo2", "description": "new", "enabled": "on"},
            f"{OS} project set --name demo2 --description new --enable p-demo",
            ["name: p-demo", "description: new"],
        ),
        (
            f"{P}/projects/p-demo/enabled/",
            {"enabled": "0"},
            f"{OS} project set --disable p-demo",
            ["is_enabled: false"],
        ),
        (
            f"{P}/projects/p-demo/delete/",
            {},
            f"{OS} project delete p-demo",
            ["openstack.cloud.project:", "state: absent"],
        ),
        (
            f"{P}/projects/p-demo/quotas/",
            {
                "compute__instances": "10",
                "compute__cores": "20",
                "compute__metadata_items": "64",
                "volume__gigabytes": "-1",
                "network__floating_ips": "3",
                "network__security_group_rules": "50",
            },
            f"{OS} quota set --instances 10 --cores 20 --properties 64 --gigabytes -1 "
            "--floating-ips 3 --secgroup-rules 50 p-demo",
            ["openstack.cloud.quota:", "name: p-demo", "instances: 10", "gigabytes: -1"],
        ),
        (
            f"{P}/projects/p-demo/users/",
            {"actor_id": "u-reader", "role_id": "r-member"},
            f"{OS} role add --project p-demo --user u-reader r-member",
            ["openstack.cloud.role_assignment:", "user: u-reader", "state: present"],
        ),
        (
            f"{P}/projects/p-demo/users/remove/",
            {"actor_id": "u-reader", "role_id": "r-member"},
            f"{OS} role remove --project p-demo --user u-reader r-member",
            ["state: absent"],
        ),
        (
            f"{P}/projects/p-demo/groups/",
            {"actor_id": "g-ops", "role_id": "r-reader"},
            f"{OS} role add --project p-demo --group g-ops r-reader",
            ["group: g-ops", "role: r-reader", "state: present"],
        ),
        (
            f"{P}/projects/p-demo/groups/remove/",
            {"actor_id": "g-ops", "role_id": "r-reader"},
            f"{OS} role remove --project p-demo --group g-ops r-reader",
            ["group: g-ops", "state: absent"],
        ),
        (
            f"{P}/users/u-reader/edit/",
            {"name": "r2", "email": "r@example.org", "default_project_id": "p-demo"},
            f"{OS} user set --name r2 --email r@example.org --project p-demo u-reader",
            ["openstack.cloud.identity_user:", "name: r2", "default_project: p-demo"],
        ),
        (
            f"{P}/users/u-reader/password/",
            {"password": "hunter2", "confirm_password": "hunter2"},
            f"{OS} user set --password-prompt u-reader",
            ["name: <user-name>", "password: <password>", "update_password: always"],
        ),
        (
            f"{P}/users/u-reader/enabled/",
            {"enabled": "1"},
            f"{OS} user set --enable u-reader",
            ["name: <user-name>", "is_enabled: true"],
        ),
        (
            f"{P}/users/u-reader/delete/",
            {},
            f"{OS} user delete u-reader",
            ["openstack.cloud.identity_user:", "state: absent"],
        ),
        (
            f"{P}/groups/create/",
            {"name": "ops", "description": "On call", "domain_id": "default"},
            f"{OS} group create --domain default --description 'On call' ops",
            ["openstack.cloud.identity_group:", "domain_id: default"],
        ),
        (
            f"{P}/groups/g-ops/edit/",
            {"name": "ops2", "description": "x"},
            f"{OS} group set --name ops2 --description x g-ops",
            ["name: ops2", "description: x"],
        ),
        (
            f"{P}/groups/g-ops/users/",
            {"user_id": "u-reader"},
            f"{OS} group add user g-ops u-reader",
            ["openstack.cloud.group_assignment:", "state: present"],
        ),
        (
            f"{P}/groups/g-ops/users/remove/",
            {"user_id": "u-reader"},
            f"{OS} group remove user g-ops u-reader",
            ["state: absent"],
        ),
        (
            f"{P}/groups/g-ops/delete/",
            {},
            f"{OS} group delete g-ops",
            ["openstack.cloud.identity_group:", "state: absent"],
        ),
        (
            f"{P}/roles/create/",
            {"name": "auditor"},
            f"{OS} role create auditor",
            ["openstack.cloud.identity_role:", "name: auditor"],
        ),
        (
            f"{P}/roles/r-reader/delete/",
            {},
            f"{OS} role delete r-reader",
            ["state: absent"],
        ),
        (
            f"{P}/domains/create/",
            {"name": "lab", "description": "Lab", "enabled": "on"},
            f"{OS} domain create --description Lab --enable lab",
            ["openstack.cloud.identity_domain:", "is_enabled: true"],
        ),
        (
            f"{P}/domains/d-lab/enabled/",
            {"enabled": "0"},
            f"{OS} domain set --disable d-lab",
            ["name: <domain-name>", "is_enabled: false"],
        ),
        (
            f"{P}/domains/d-lab/delete/",
            {},
            f"{OS} domain delete d-lab",
            ["openstack.cloud.identity_domain:", "state: absent"],
        ),
        (
            "/project/app-credentials/create/",
            {"name": "ci", "expires_at": "2030-01-31T12:00", "roles": ["member", "reader"]},
            f"{OS} application credential create --expiration 2030-01-31T12:00:00 "
            "--role member --role reader ci",
            ["openstack.cloud.application_credential:", "- name: member", "unrestricted: false"],
        ),
    ],
)
def test_the_panel_shows_the_command_and_the_task(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    path: str,
    fields: dict[str, Any],
    command: str,
    task_lines: list[str],
) -> None:
    code = shown(admin_client, path, **fields)
    assert command in code
    for line in task_lines:
        assert line in code
    assert "cloud: unit" in code


def test_create_user_gives_the_role_and_never_the_password(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    code = shown(
        admin_client,
        f"{P}/users/create/",
        name="ana",
        email="ana@example.org",
        password="hunter2",
        confirm_password="hunter2",
        domain_id="default",
        default_project_id="p-demo",
        role_id="r-member",
        enabled="on",
    )
    assert (
        f"{OS} user create --domain default --project p-demo --password '<password>' "
        "--email ana@example.org --enable ana"
    ) in code
    assert f"{OS} role add --project p-demo --user ana --user-domain default r-member" in code
    assert "openstack.cloud.identity_user:" in code and "password: <password>" in code
    assert "openstack.cloud.role_assignment:" in code and "user_domain: default" in code
    assert "hunter2" not in code


def test_apply_quotas_calls_the_portal_api_and_its_module(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    code = shown(
        admin_client,
        f"{P}/projects/quotas/",
        projects=["p-demo", "p-study1"],
        compute__instances="20",
        network__ports="",
    )
    assert "token issue -f value -c id" in code
    assert (
        'curl -sS --fail-with-body -X POST -H "X-Auth-Token: $TOKEN" -H \'Content-Type: '
        'application/json\' -d \'{"projects": ["p-demo", "p-study1"], "compute__instances": 20}\' '
        "http://testserver/api/v1/quotas/bulk/"
    ) in code
    assert "stackdesk.portal.apply_quotas:" in code and "instances: 20" in code
    assert "ports" not in code


@pytest.mark.parametrize("path", ["/project/app-credentials/c-1/delete/", "/project/password/"])
def test_forms_without_a_module_say_so(
    member_client: Client, keystone_fake: FakeProjectsGateway, path: str
) -> None:
    code = shown(member_client, path)
    assert "openstack.cloud" in code and "Ansible tasks" not in code


def test_own_password_is_asked_by_the_command(
    member_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    code = shown(member_client, "/project/password/", current_password="old", password="new1")
    assert f"{OS} user password set" in code
    assert "old" not in code and "new1" not in code


def test_the_create_project_page_shows_its_initial_code(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    page = html.unescape(admin_client.get(f"{P}/projects/create/").content.decode())
    assert "Show as code" in page
    assert f"{OS} project create --domain default --enable '<name>'" in page


def test_the_quotas_page_shows_the_current_quotas_as_code(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    page = html.unescape(admin_client.get(f"{P}/projects/p-demo/quotas/").content.decode())
    assert f"{OS} quota set --instances " in page and " p-demo" in page
    assert "openstack.cloud.quota:" in page


def test_the_project_page_shows_the_role_forms_code(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    page = html.unescape(admin_client.get(f"{P}/projects/p-demo/").content.decode())
    assert f"{OS} role add --project p-demo --user '<actor-id>' '<role-id>'" in page
    assert "/code/?for=%2Fproject%2Fidentity%2Fprojects%2Fp-demo%2Fusers%2F" in page


def test_the_create_user_page_names_the_project_the_role_needs(
    admin_client: Client, keystone_fake: FakeProjectsGateway
) -> None:
    page = html.unescape(admin_client.get(f"{P}/users/create/").content.decode())
    assert (
        f"{OS} role add --project '<project-id>' --user '<name>' --user-domain default r-member"
    ) in page
    assert "--password '<password>'" in page
