"""Show as code on the real Nova: a launch (m1.nano from tiny-qcow2 on a network of the
tenant's own), a shut-off through openstack.cloud.server_action, and a key pair imported from a
generated public key are each made three ways (the portal's form, the panel's `openstack`
commands, the panel's openstack.cloud tasks), each with its own name, and openstacksdk sees
three resources alike in what the form sets. A second run of the same tasks changes nothing.
An edit (name, description, security groups) has commands only: the form and they agree.

Prints how long each way took."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.cloud.as_code import AsCode
from tests.cloud.waiting import wait_for
from tests.conftest import Tenant, page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
WAYS = ("portal", "cli", "ansible")


def _posted(client: Client, path: str, fields: dict[str, Any]) -> None:
    response = client.post(path, fields)
    assert response.status_code == 302, page_errors(response.content.decode())


def _three_ways(
    code: AsCode,
    client: Client,
    path: str,
    fields: Callable[[str], dict[str, Any]],
    base: str,
    shown_fields: Callable[[str], dict[str, Any]] | None = None,
) -> tuple[int, str]:
    """The form posted for `base`-portal; the panel's commands run for `base`-cli and its tasks
    for `base`-ansible, twice: (changed on the second run, the tasks). `shown_fields` are what
    the panel is asked with when they differ from the POST (the wizard's step buttons)."""
    shown_fields = shown_fields or fields
    started = time.monotonic()
    _posted(client, path, fields(f"{base}-portal"))
    print(f"{base}: portal {time.monotonic() - started:.1f} s")
    commands, _tasks = code.shown(path, **shown_fields(f"{base}-cli"))
    code.run_commands(commands)
    _commands, tasks = code.shown(path, **shown_fields(f"{base}-ansible"))
    started = time.monotonic()
    code.run_tasks(tasks)
    print(f"{base}: ansible {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    changed, _output = code.run_tasks(tasks)
    print(f"{base}: ansible again {time.monotonic() - started:.1f} s")
    return changed, tasks


def _status(conn: Any, name: str, status: str, timeout: float = 180) -> Any:
    def check() -> Any:
        server = conn.compute.find_server(name, ignore_missing=False)
        server = conn.compute.get_server(server.id)
        if server.status == "ERROR":
            pytest.fail(f"{name} went to ERROR: {server.fault}")
        return server if server.status == status and not server.task_state else None

    return wait_for(check, timeout, f"{name} {status}")


def test_compute_forms_shown_as_code_do_what_the_forms_do(
    make_tenant: Callable[..., Tenant],
    as_code: Callable[[Tenant, Client], AsCode],
    tmp_path: Path,
) -> None:
    begun = time.monotonic()
    tenant = make_tenant("ascode-cmp")
    conn = tenant.conn
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    image = conn.image.find_image("tiny-qcow2", ignore_missing=False)
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    net = conn.network.create_network(name="ascode-net")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.79.0.0/24")
    default = next(g for g in conn.network.security_groups() if g.name == "default")

    # --- a key pair imported from a generated public key --------------------------------------
    key_file = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "as-code", "-f", str(key_file)],
        check=True,
    )
    public_key = key_file.with_suffix(".pub").read_text().strip()

    def key_fields(name: str) -> dict[str, Any]:
        return {"name": name, "public_key": public_key}

    changed, tasks = _three_ways(code, client, "/compute/keypairs/import/", key_fields, "key")
    assert changed == 0, tasks
    prints = {conn.compute.find_keypair(f"key-{w}", ignore_missing=False).fingerprint for w in WAYS}
    assert len(prints) == 1, prints

    # --- a launch -----------------------------------------------------------------------------
    def launch_fields(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "description": "made three ways",
            "count": "1",
            "source_type": "image",
            "image": image.id,
            "flavor": flavor.id,
            "nic_1": f"net:{net.id}",
            "security_groups": [default.id],
            "key_name": "key-portal",
            "metadata": "role=as-code",
        }

    def launch_post(name: str) -> dict[str, Any]:
        return {**launch_fields(name), "_step": "configuration", "_launch": "1"}

    changed, tasks = _three_ways(
        code, client, "/compute/servers/launch/", launch_post, "vm", launch_fields
    )
    assert changed == 0, tasks
    seen = []
    for way in WAYS:
        server = _status(conn, f"vm-{way}", "ACTIVE")
        seen.append(
            (
                server.flavor.name,
                server.image.id,
                sorted(server.addresses),
                server.metadata,
                server.description,
                server.key_name,
                sorted(g["name"] for g in server.security_groups),
            )
        )
    assert seen[0] == seen[1] == seen[2], seen
    assert seen[0] == (
        "m1.nano",
        image.id,
        ["ascode-net"],
        {"role": "as-code"},
        "made three ways",
        "key-portal",
        ["default"],
    )

    # --- a shut-off: openstack.cloud.server_action --------------------------------------------
    ids = {way: conn.compute.find_server(f"vm-{way}", ignore_missing=False).id for way in WAYS}
    started = time.monotonic()
    _posted(client, f"/compute/servers/{ids['portal']}/stop/", {})
    print(f"stop: portal {time.monotonic() - started:.1f} s")
    commands, _tasks = code.shown(f"/compute/servers/{ids['cli']}/stop/")
    code.run_commands(commands)
    _commands, tasks = code.shown(f"/compute/servers/{ids['ansible']}/stop/")
    started = time.monotonic()
    changed, _output = code.run_tasks(tasks)
    print(f"stop: ansible {time.monotonic() - started:.1f} s")
    assert changed == 1
    for way in WAYS:
        _status(conn, f"vm-{way}", "SHUTOFF")
    changed, _output = code.run_tasks(tasks)
    assert changed == 0, tasks

    # --- an edit (commands only: openstack.cloud.server cannot rename) -------------------------
    web = conn.network.create_security_group(name="ascode-web")

    def edit_fields(name: str) -> dict[str, Any]:
        return {"name": name, "description": "edited", "security_groups": [web.id]}

    _posted(client, f"/compute/servers/{ids['portal']}/edit/", edit_fields("vm-portal-edited"))
    commands, _tasks = code.shown(
        f"/compute/servers/{ids['cli']}/edit/", **edit_fields("vm-cli-ed")
    )
    code.run_commands(commands)
    code.run_commands(commands)  # setting each port's groups again is refused by nothing
    edited = []
    for way, name in (("portal", "vm-portal-edited"), ("cli", "vm-cli-ed")):
        server = conn.compute.get_server(ids[way])
        assert server.name == name
        edited.append((server.description, sorted(g["name"] for g in server.security_groups)))
    assert edited[0] == edited[1] == ("edited", ["ascode-web"]), edited
    print(f"compute as code: {time.monotonic() - begun:.1f} s in all")


def test_a_launch_onto_a_new_volume_shown_as_code_boots_from_it(
    make_tenant: Callable[..., Tenant], as_code: Callable[[Tenant, Client], AsCode]
) -> None:
    """The wizard's "create a new volume" (deleted with the instance): --block-device for the
    command, boot_from_volume and terminate_volume for the task."""
    begun = time.monotonic()
    tenant = make_tenant("ascode-bfv")
    conn = tenant.conn
    code = as_code(tenant, tenant.sign_in(Client()))
    image = conn.image.find_image("tiny-qcow2", ignore_missing=False)
    net = conn.network.create_network(name="ascode-bfv-net")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.80.0.0/24")

    def fields(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "source_type": "image",
            "image": image.id,
            "create_volume": "on",
            "volume_size": "1",
            "delete_volume_on_delete": "on",
            "flavor": "m1.nano",
            "nic_1": f"net:{net.id}",
        }

    commands, _tasks = code.shown("/compute/servers/launch/", **fields("bfv-cli"))
    code.run_commands(commands)
    _commands, tasks = code.shown("/compute/servers/launch/", **fields("bfv-ansible"))
    code.run_tasks(tasks)
    seen = []
    for way in ("cli", "ansible"):
        server = _status(conn, f"bfv-{way}", "ACTIVE")
        (attachment,) = conn.compute.volume_attachments(server)
        volume = conn.block_storage.get_volume(attachment.volume_id)
        seen.append((dict(server.image).get("id"), volume.size, attachment.delete_on_termination))
    # The server has no image of its own (it boots from the volume), and the volume goes with it.
    assert seen == [(None, 1, True), (None, 1, True)], seen
    print(f"boot from a new volume as code: {time.monotonic() - begun:.1f} s")
