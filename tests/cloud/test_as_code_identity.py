"""Show as code on the real Keystone and quotas: a project with its quotas, a user with a role
in a project, and a group, each made three ways as the admin (the portal's form, the panel's
`openstack` commands, the panel's openstack.cloud tasks), each with its own name; openstacksdk
then sees three alike in what the form sets, and a second run of the same tasks changes
nothing. The user's password is the one thing not shown: the test puts its own in place of
the panel's `<password>`, as the panel's note tells a reader to.

Prints how long each way took."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openstack
import pytest
from django.test import Client

from tests.cloud.as_code import AsCode
from tests.conftest import Tenant, credentials, page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

P = "/project/identity"
WAYS = ("portal", "cli", "ansible")
QUOTAS = {
    "compute__instances": "7",
    "compute__cores": "9",
    "compute__ram": "4096",
    "volume__volumes": "3",
    "volume__gigabytes": "30",
    "network__floating_ips": "2",
    "network__security_group_rules": "40",
}


def _posted(client: Client, path: str, fields: dict[str, Any]) -> str:
    response = client.post(path, fields)
    assert response.status_code == 302, page_errors(response.content.decode())
    return str(response["Location"])


def _timed(what: str, started: float) -> None:
    print(f"identity as code: {what}: {time.monotonic() - started:.1f} s")


@pytest.fixture
def admin_code(
    sdk_admin: Any, portal_clouds_yaml: Path, as_code: Callable[[Tenant, Client], AsCode]
) -> tuple[Client, AsCode]:
    """The admin persona signed in to the portal, and the harness with its clouds.yaml entry."""
    project = sdk_admin.identity.find_project("admin", ignore_missing=False)
    client = portal_sign_in(Client(), "admin", project_id=project.id)
    username, password = credentials("admin")
    persona = SimpleNamespace(name="admin", username=username, password=password, project=project)
    return client, as_code(persona, client)  # type: ignore[arg-type]  # as a Tenant would be


@pytest.fixture
def suffix(sdk_admin: Any) -> Iterator[str]:
    """A unique suffix; what bears it in Keystone is deleted after the test."""
    made = os.urandom(3).hex()
    yield made
    ks = sdk_admin.identity
    for kind in ("user", "group", "project"):
        for item in list(getattr(ks, f"{kind}s")()):
            if item.name.startswith("asc-") and item.name.endswith(made):
                getattr(ks, f"delete_{kind}")(item)


def _three_ways(
    client: Client,
    code: AsCode,
    path: Callable[[str], str],
    fields: Callable[[str], dict[str, Any]],
    secret: str = "",
) -> int:
    """The form posted for way "portal", the panel's commands run for "cli" and its tasks for
    "ansible", twice (`secret` put in place of <password>): changed on the second run."""
    started = time.monotonic()
    _posted(client, path("portal"), fields("portal"))
    _timed(f"{path('portal')} portal", started)
    commands, _tasks = code.shown(path("cli"), **fields("cli"))
    code.run_commands(commands.replace("<password>", secret) if secret else commands)
    _commands, tasks = code.shown(path("ansible"), **fields("ansible"))
    if secret:
        assert secret not in tasks and "<password>" in tasks
        tasks = tasks.replace("<password>", secret)
    started = time.monotonic()
    first, _output = code.run_tasks(tasks)
    _timed(f"{path('ansible')} ansible", started)
    assert first > 0, tasks  # the tasks did make the change
    started = time.monotonic()
    changed, _output = code.run_tasks(tasks)
    _timed(f"{path('ansible')} ansible again", started)
    return changed


def _quotas(admin: Any, project_id: str) -> dict[str, int]:
    compute = admin.compute.get_quota_set(project_id)
    volume = admin.block_storage.get_quota_set(project_id)
    network = admin.network.get_quota(project_id)
    return {
        "compute__instances": compute.instances,
        "compute__cores": compute.cores,
        "compute__ram": compute.ram,
        "volume__volumes": volume.volumes,
        "volume__gigabytes": volume.gigabytes,
        "network__floating_ips": network.floating_ips,
        "network__security_group_rules": network.security_group_rules,
    }


def test_a_project_and_its_quotas_three_ways(
    admin_code: tuple[Client, AsCode], sdk_admin: Any, suffix: str
) -> None:
    begun = time.monotonic()
    client, code = admin_code
    ks = sdk_admin.identity
    names = {way: f"asc-{way}-{suffix}" for way in WAYS}

    def project_fields(way: str) -> dict[str, Any]:
        # Enabled left unticked: a disabled project, unlike the form's default.
        return {"name": names[way], "description": f"as code {suffix}", "domain_id": "default"}

    changed = _three_ways(client, code, lambda _way: f"{P}/projects/create/", project_fields)
    assert changed == 0
    made = {way: ks.find_project(names[way], ignore_missing=False) for way in WAYS}
    seen = {(p.description, p.is_enabled, p.domain_id) for p in made.values()}
    assert seen == {(f"as code {suffix}", False, "default")}

    ids = {way: made[way].id for way in WAYS}
    page = client.get(f"{P}/projects/{ids['portal']}/quotas/").content.decode()
    current = dict(re.findall(r'name="(\w+__\w+)" value="(-?\d+)"', page))
    assert set(QUOTAS) <= set(current), sorted(current)
    changed = _three_ways(
        client,
        code,
        lambda way: f"{P}/projects/{ids[way]}/quotas/",
        lambda way: {**current, **QUOTAS} if way == "portal" else QUOTAS,
    )
    assert changed == 0
    want = {k: int(v) for k, v in QUOTAS.items()}
    for way in WAYS:
        assert _quotas(sdk_admin, ids[way]) == want, way
    _timed("project and quotas, in all", begun)


def test_a_user_with_a_role_and_a_group_three_ways(
    admin_code: tuple[Client, AsCode], sdk_admin: Any, suffix: str
) -> None:
    begun = time.monotonic()
    client, code = admin_code
    ks = sdk_admin.identity
    home = ks.create_project(name=f"asc-home-{suffix}", domain_id="default")
    member = ks.find_role("member", ignore_missing=False)
    secret = "pw-" + os.urandom(8).hex()
    names = {way: f"asc-{way}-{suffix}" for way in WAYS}

    def user_fields(way: str) -> dict[str, Any]:
        return {
            "name": names[way],
            "email": f"{way}@example.org",
            "password": secret,
            "confirm_password": secret,
            "domain_id": "default",
            "default_project_id": home.id,
            "role_id": member.id,
            "enabled": "on",
        }

    changed = _three_ways(client, code, lambda _way: f"{P}/users/create/", user_fields, secret)
    assert changed == 0
    for way in WAYS:
        user = ks.find_user(names[way], domain_id="default", ignore_missing=False)
        assert (user.email, user.default_project_id, user.is_enabled) == (
            f"{way}@example.org",
            home.id,
            True,
        ), way
        roles = list(ks.role_assignments(user_id=user.id, scope_project_id=home.id))
        assert [r.role["id"] for r in roles] == [member.id], way
        signed_in = openstack.connect(
            load_yaml_config=False,
            load_envvars=False,
            auth_url=sdk_admin.auth["auth_url"],
            username=names[way],
            password=secret,
            project_id=home.id,
            user_domain_name="Default",
            region_name="RegionOne",
        )
        assert signed_in.authorize(), way  # the password the test put in is the user's

    def group_fields(way: str) -> dict[str, Any]:
        return {"name": names[way], "description": f"as code {suffix}", "domain_id": "default"}

    changed = _three_ways(client, code, lambda _way: f"{P}/groups/create/", group_fields)
    assert changed == 0
    for way in WAYS:
        group = ks.find_group(names[way], domain_id="default", ignore_missing=False)
        assert (group.description, group.domain_id) == (f"as code {suffix}", "default"), way
    _timed("user, role and group, in all", begun)
