"""Show as code, volumes and images (volumes/as_code.py, images/as_code.py), on the devcloud:
each change done three ways, through the portal's form, by running the panel's `openstack`
commands and by running its openstack.cloud tasks, each on a resource of its own, and the
three compared with openstacksdk; a second run of the same tasks changes nothing.

The sample: create-volume (blank and from tiny-qcow2), extend-volume, create-snapshot,
update-image. Prints how long each step took.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.cloud.as_code import AsCode
from tests.cloud.waiting import wait_for
from tests.conftest import Tenant, page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

WAYS = ("portal", "cli", "ansible")


class Timer:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        print(f"as code (volumes): {what}: {now - self.started:.1f} s")
        self.started = now


def _posted(response: Any) -> str:
    assert response.status_code == 302, (
        response.status_code,
        page_errors(response.content.decode()),
    )
    return str(response["Location"])


def _available(bs: Any, name: str, **expect: Any) -> Any:
    """The tenant's volume of this name once available (and as expected)."""

    def check() -> Any:
        for volume in bs.volumes(name=name):
            if volume.name != name:
                continue
            if volume.status.startswith("error"):
                pytest.fail(f"{name}: {volume.status}")
            ok = volume.status == "available"
            return (
                volume if ok and all(getattr(volume, k) == v for k, v in expect.items()) else None
            )
        return None

    return wait_for(check, 180, name)


def _snapshot(bs: Any, name: str) -> Any:
    def check() -> Any:
        for snap in bs.snapshots(details=True):
            if snap.name == name and snap.status == "available":
                return snap
            if snap.name == name and snap.status.startswith("error"):
                pytest.fail(f"{name}: {snap.status}")
        return None

    return wait_for(check, 120, name)


def _same(found: dict[str, Any], *attributes: str) -> None:
    """The three ways' resources agree on these attributes."""
    for attribute in attributes:
        values = {way: getattr(found[way], attribute) for way in WAYS}
        assert len(set(map(str, values.values()))) == 1, (attribute, values)


def test_volume_forms_three_ways(
    make_tenant: Any, as_code: Callable[[Tenant, Client], AsCode]
) -> None:
    # admin: the devcloud's Cinder refuses a project user's name filter ("Invalid filters name
    # are found in query options": it reads no resource_filters.json, its copy is in the venv's
    # etc/), and openstack.cloud.volume and volume_snapshot find what they make by name.
    tenant = make_tenant("code-vol", roles=("member", "reader", "admin"))
    bs, image_api = tenant.conn.block_storage, tenant.conn.image
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    image = image_api.find_image("tiny-qcow2", ignore_missing=False)
    timer, snapshots = Timer(), []
    try:
        # create-volume: a blank 1 GiB volume and one from the image, each way.
        blank = {"size": "1", "source_type": "blank"}
        booted = {"size": "1", "source_type": "image", "image": image.id}
        _posted(client.post("/volumes/create/", {"name": "portal-blank", **blank}))
        _posted(client.post("/volumes/create/", {"name": "portal-boot", **booted}))
        cli_blank, _ = code.shown("/volumes/create/", name="cli-blank", **blank)
        cli_boot, _ = code.shown("/volumes/create/", name="cli-boot", **booted)
        assert cli_boot.endswith(f"volume create --size 1 --image {image.id} cli-boot")
        code.run_commands(f"{cli_blank}\n{cli_boot}")
        _, tasks_blank = code.shown("/volumes/create/", name="ansible-blank", **blank)
        _, tasks_boot = code.shown("/volumes/create/", name="ansible-boot", **booted)
        tasks = tasks_blank + tasks_boot
        changed, _ = code.run_tasks(tasks)
        assert changed == 2
        made = {
            kind: {way: _available(bs, f"{way}-{kind}") for way in WAYS}
            for kind in ("blank", "boot")
        }
        timer.lap("create-volume, 2 volumes x 3 ways")
        for kind, bootable in (("blank", False), ("boot", True)):
            _same(made[kind], "size", "volume_type", "is_bootable")
            assert made[kind]["cli"].is_bootable is bootable and made[kind]["cli"].size == 1
        assert made["boot"]["ansible"].volume_image_metadata["image_id"] == image.id
        assert code.run_tasks(tasks)[0] == 0
        timer.lap("create-volume, second Ansible run")

        # extend-volume: each way grows its own blank volume to 2 GiB.
        ids = {way: made["blank"][way].id for way in WAYS}
        _posted(client.post(f"/volumes/{ids['portal']}/extend/", {"size": "2"}))
        code.run_commands(code.shown(f"/volumes/{ids['cli']}/extend/", size="2")[0])
        _, tasks = code.shown(f"/volumes/{ids['ansible']}/extend/", size="2")
        assert code.run_tasks(tasks)[0] == 1
        grown = {way: _available(bs, f"{way}-blank", size=2) for way in WAYS}
        _same(grown, "size")
        assert code.run_tasks(tasks)[0] == 0
        timer.lap("extend-volume 1 -> 2 GiB, 3 ways and a second Ansible run")

        # create-snapshot: each way snapshots its own volume from the image.
        fields = {"description": "as code"}
        boot = {way: made["boot"][way].id for way in WAYS}
        _posted(
            client.post(
                f"/volumes/{boot['portal']}/snapshots/create/", {"name": "portal-snap", **fields}
            )
        )
        commands, _ = code.shown(
            f"/volumes/{boot['cli']}/snapshots/create/", name="cli-snap", **fields
        )
        code.run_commands(commands)
        _, tasks = code.shown(
            f"/volumes/{boot['ansible']}/snapshots/create/", name="ansible-snap", **fields
        )
        assert code.run_tasks(tasks)[0] == 1
        snaps = {way: _snapshot(bs, f"{way}-snap") for way in WAYS}
        snapshots += [s.id for s in snaps.values()]
        _same(snaps, "size", "description")
        for way in WAYS:
            assert snaps[way].volume_id == boot[way]
        assert code.run_tasks(tasks)[0] == 0
        timer.lap("create-snapshot, 3 ways and a second Ansible run")
    finally:
        for snap in bs.snapshots():
            bs.delete_snapshot(snap, ignore_missing=True)
        for snap_id in snapshots:
            wait_for(lambda s=snap_id: not any(x.id == s for x in bs.snapshots()), 120)
        timer.lap("snapshots deleted")


def test_update_image_three_ways(
    make_tenant: Any, as_code: Callable[[Tenant, Client], AsCode]
) -> None:
    """update-image: min disk, a description and custom properties, on three images of the
    tenant's own."""
    tenant = make_tenant("code-img")
    image_api = tenant.conn.image
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    timer = Timer()
    ids = {}
    for way in WAYS:
        made = image_api.create_image(
            name=f"{way}-img",
            disk_format="raw",
            container_format="bare",
            data=b"\0" * 4096,
            wait=True,
        )
        ids[way] = made.id
    wait_for(lambda: all(image_api.get_image(i).status == "active" for i in ids.values()), 60)
    timer.lap("3 images of 4 KiB uploaded")
    fields = {
        "description": "shown as code",
        "disk_format": "raw",
        "container_format": "bare",
        "architecture": "x86_64",
        "min_disk": "2",
        "min_ram": "128",
        "visibility": "private",
        "properties": "os_distro=cirros\nsd_shown=yes",
    }
    _posted(client.post(f"/images/{ids['portal']}/edit/", {"name": "portal-img", **fields}))
    commands, _ = code.shown(f"/images/{ids['cli']}/edit/", name="cli-img", **fields)
    assert re.search(r"image set --name cli-img --min-disk 2 --min-ram 128 --private", commands)
    code.run_commands(commands)
    _, tasks = code.shown(f"/images/{ids['ansible']}/edit/", name="ansible-img", **fields)
    assert code.run_tasks(tasks)[0] == 1
    found = {way: image_api.get_image(ids[way]) for way in WAYS}
    _same(found, "min_disk", "min_ram", "visibility", "is_protected", "architecture", "os_distro")
    for way in WAYS:
        image = found[way]
        assert image.name == f"{way}-img" and image.min_disk == 2
        assert image.properties.get("sd_shown") == "yes", (way, image.properties)
        assert image.properties.get("description") == "shown as code", (way, image.properties)
    # openstack.cloud.image looks a property up as the SDK image's attribute of that name: it
    # sets the description and sd_shown again every time (the panel says so)...
    assert code.run_tasks(tasks)[0] == 1
    # ...and what the SDK names is left alone on a second run.
    known = {**fields, "description": "", "properties": "os_distro=cirros"}
    _, tasks = code.shown(f"/images/{ids['ansible']}/edit/", name="ansible-img", **known)
    second, output = code.run_tasks(tasks)
    assert second == 0, output[-2000:]
    assert image_api.get_image(ids["ansible"]).properties.get("sd_shown") == "yes"
    timer.lap("update-image, 3 ways and second Ansible runs")
