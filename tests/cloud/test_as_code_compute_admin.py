"""Show as code on the real Nova, for the admin compute forms: a private flavor created three
ways (the portal's form, the panel's `openstack flavor create`, the panel's
openstack.cloud.compute_flavor task), each with its own name, alike in what the form sets; a
project given access to each of the three the same three ways; a compute service disabled and
enabled again by the panel's commands and tasks (restored however the test ends); an
aggregate without hosts created, given metadata and deleted the same ways. A second run of
the same tasks changes nothing. No host is drained or evacuated here
(tests/cloud/test_admin_drain.py and test_admin_evacuate.py do that).

Prints how long each way took."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.cloud.as_code import AsCode
from tests.conftest import Tenant, page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
FLAVORS = "/compute/admin/flavors/"


def _posted(client: Client, path: str, fields: dict[str, Any]) -> str:
    response = client.post(path, fields)
    assert response.status_code == 302, page_errors(response.content.decode())
    return str(response["Location"])


def _lap(what: str, started: float) -> float:
    now = time.monotonic()
    print(f"{what}: {now - started:.1f} s")
    return now


def _size(flavor: Any) -> tuple[Any, ...]:
    return (
        flavor.vcpus,
        flavor.ram,
        flavor.disk,
        flavor.ephemeral,
        flavor.swap or 0,  # Nova says "" for no swap
        flavor.rxtx_factor,
        flavor.is_public,
    )


def test_flavor_and_access_forms_shown_as_code_do_what_the_forms_do(
    make_tenant: Callable[..., Tenant],
    as_code: Callable[[Tenant, Client], AsCode],
    sdk_admin: Any,
) -> None:
    begun = started = time.monotonic()
    tenant = make_tenant("ascode-adm", roles=("admin", "member"))
    other = make_tenant("ascode-acc")
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    nova = sdk_admin.compute
    base = "asc-" + os.urandom(3).hex()
    names = {way: f"{base}-{way}" for way in ("portal", "cli", "ansible")}

    def fields(name: str) -> dict[str, str]:
        return {
            "flavor_id": "",
            "name": name,
            "vcpus": "2",
            "ram": "96",
            "disk": "1",
            "ephemeral": "1",
            "swap": "32",
            "rxtx_factor": "1.5",
        }  # is_public left out: private

    try:
        _posted(client, FLAVORS + "create/", fields(names["portal"]))
        started = _lap("flavor: portal", started)
        commands, _tasks = code.shown(FLAVORS + "create/", **fields(names["cli"]))
        assert "--private" in commands
        code.run_commands(commands)
        _commands, tasks = code.shown(FLAVORS + "create/", **fields(names["ansible"]))
        started = time.monotonic()
        code.run_tasks(tasks)
        started = _lap("flavor: ansible", started)
        changed, _output = code.run_tasks(tasks)
        started = _lap("flavor: ansible again", started)
        assert changed == 0

        made = {way: nova.find_flavor(name, ignore_missing=False) for way, name in names.items()}
        assert {_size(f) for f in made.values()} == {(2, 96, 1, 1, 32, 1.5, False)}

        # --- access to each private flavor, three ways ----------------------------------------
        project = other.project.id
        _posted(client, f"{FLAVORS}{made['portal'].id}/access/", {"project_id": project})
        started = _lap("access: portal", started)
        commands, _tasks = code.shown(f"{FLAVORS}{made['cli'].id}/access/", project_id=project)
        code.run_commands(commands)
        started = time.monotonic()
        _commands, tasks = code.shown(f"{FLAVORS}{made['ansible'].id}/access/", project_id=project)
        code.run_tasks(tasks)
        started = _lap("access: ansible", started)
        changed, _output = code.run_tasks(tasks)
        _lap("access: ansible again", started)
        assert changed == 0
        for flavor in made.values():
            access = [a["tenant_id"] for a in nova.get_flavor_access(flavor)]
            assert access == [project], (flavor.name, access)
    finally:
        for name in names.values():
            found = nova.find_flavor(name)
            if found is not None:
                nova.delete_flavor(found)
    print(f"flavors and access in all: {time.monotonic() - begun:.1f} s")


def test_disabling_and_enabling_a_service_as_shown(
    make_tenant: Callable[..., Tenant],
    as_code: Callable[[Tenant, Client], AsCode],
    sdk_admin: Any,
) -> None:
    begun = time.monotonic()
    tenant = make_tenant("ascode-svc", roles=("admin", "member"))
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    nova = sdk_admin.compute
    enabled = sorted(
        (s for s in nova.services(binary="nova-compute") if s.status == "enabled"),
        key=lambda s: s.host,
    )
    assert enabled, "no enabled compute service to try this on"
    service = enabled[-1]
    path = f"/compute/admin/services/{service.id}/"
    reason = "as-code " + os.urandom(3).hex()

    def status() -> tuple[str, str | None]:
        now = next(s for s in nova.services(binary="nova-compute") if s.id == service.id)
        return now.status, now.disabled_reason

    try:
        # The portal's form, then the panel's commands, then its tasks: the same effect.
        _posted(client, path + "disable/", {"reason": reason + " portal"})
        assert status() == ("disabled", reason + " portal")
        _posted(client, path + "enable/", {})
        assert status()[0] == "enabled"
        started = _lap("service: portal", begun)

        commands, _tasks = code.shown(path + "disable/", reason=reason + " cli")
        code.run_commands(commands)
        assert status() == ("disabled", reason + " cli")
        commands, _tasks = code.shown(path + "enable/")
        code.run_commands(commands)
        assert status()[0] == "enabled"
        started = _lap("service: commands", started)

        _commands, tasks = code.shown(path + "disable/", reason=reason + " ansible")
        code.run_tasks(tasks)
        assert status() == ("disabled", reason + " ansible")
        changed, _output = code.run_tasks(tasks)
        assert changed == 0
        _commands, tasks = code.shown(path + "enable/")
        code.run_tasks(tasks)
        assert status()[0] == "enabled"
        changed, _output = code.run_tasks(tasks)
        assert changed == 0
        _lap("service: ansible (each twice)", started)
    finally:
        if status()[0] != "enabled":
            nova.enable_service(service, host=service.host, binary=service.binary)
    print(f"service in all: {time.monotonic() - begun:.1f} s")


def test_aggregate_forms_shown_as_code_do_what_the_forms_do(
    make_tenant: Callable[..., Tenant],
    as_code: Callable[[Tenant, Client], AsCode],
    sdk_admin: Any,
) -> None:
    """An aggregate (no host: nothing is scheduled differently) created three ways with its
    zone, given a metadata key by the form and by the command (host_aggregate has no task for
    one key), then deleted three ways."""
    begun = time.monotonic()
    tenant = make_tenant("ascode-agg", roles=("admin", "member"))
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    nova = sdk_admin.compute
    base = "asc-" + os.urandom(3).hex()
    names = {way: f"{base}-{way}" for way in ("portal", "cli", "ansible")}
    listing = "/compute/admin/aggregates/"

    def found() -> dict[str, Any]:
        return {a.name: a for a in nova.aggregates() if a.name.startswith(base)}

    try:
        zone = {"availability_zone": f"{base}-az"}
        _posted(client, listing, {"name": names["portal"], **zone})
        commands, _tasks = code.shown(listing, name=names["cli"], **zone)
        code.run_commands(commands)
        _commands, tasks = code.shown(listing, name=names["ansible"], **zone)
        code.run_tasks(tasks)
        changed, _output = code.run_tasks(tasks)
        assert changed == 0
        made = found()
        assert {a.availability_zone for a in made.values()} == {f"{base}-az"}
        assert set(made) == set(names.values())
        started = _lap("aggregate: created three ways", begun)

        ids = {way: made[name].id for way, name in names.items()}
        meta = {"key": "ssd", "value": "true"}
        _posted(client, f"{listing}{ids['portal']}/metadata/", meta)
        for way in ("cli", "ansible"):
            commands, _tasks = code.shown(f"{listing}{ids[way]}/metadata/", **meta)
            code.run_commands(commands)
        assert {a.metadata.get("ssd") for a in found().values()} == {"true"}
        started = _lap("aggregate: metadata", started)

        _posted(client, f"{listing}{ids['portal']}/delete/", {})
        commands, _tasks = code.shown(f"{listing}{ids['cli']}/delete/")
        code.run_commands(commands)
        _commands, tasks = code.shown(f"{listing}{ids['ansible']}/delete/")
        code.run_tasks(tasks)
        changed, _output = code.run_tasks(tasks)
        assert changed == 0
        assert found() == {}
        _lap("aggregate: deleted three ways", started)
    finally:
        for aggregate in found().values():
            nova.delete_aggregate(aggregate)
    print(f"aggregates in all: {time.monotonic() - begun:.1f} s")
