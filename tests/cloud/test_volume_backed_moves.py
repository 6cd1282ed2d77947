"""Moving a volume-backed instance on the all-in-one cloud, through the admin pages and a real
worker: the one-click live migration (the scheduler chooses) of a server booted from a Ceph
volume made from the public image. openstacksdk then sees it ACTIVE on another host with its
volume still attached, in use, as its root device. The tenant, its server and its volume go
with the fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.cloud.test_admin_evacuate import volume_from_image
from tests.cloud.test_admin_migrations import HTMX, finished, host_of, op_id

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


def test_one_click_live_migration_of_a_volume_backed_instance(
    portal_clouds_yaml: Path, start_worker: Any, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("vbmove", roles=("admin", "member", "reader"))
    conn = tenant.conn
    volume = volume_from_image(conn, f"{tenant.name}-boot")
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    server = conn.compute.create_server(
        name=f"{tenant.name}-vol",
        flavor_id=flavor.id,
        networks="none",
        block_device_mapping=[
            {
                "boot_index": 0,
                "uuid": volume.id,
                "source_type": "volume",
                "destination_type": "volume",
                "delete_on_termination": True,
            }
        ],
    )
    conn.compute.wait_for_server(server, status="ACTIVE", wait=180)
    start = host_of(sdk_admin, server.id)
    before = sdk_admin.compute.get_server(server.id)
    assert not (before.image and before.image.id), before.image
    client = tenant.sign_in(Client())
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))

    # One click: no host, the scheduler chooses.
    response = client.post(
        f"/compute/servers/{server.id}/live-migrate/",
        headers={**HTMX, "HX-Target": f"server-{server.id}"},
    )
    op = finished(op_id(response))
    assert op.state == "succeeded", op.error

    moved = sdk_admin.compute.get_server(server.id)
    assert moved.compute_host != start, (start, moved.compute_host)
    assert op.step == f"Moved to {moved.compute_host}."
    assert moved.status == "ACTIVE", moved.status
    (attachment,) = sdk_admin.compute.volume_attachments(server.id)
    assert attachment.volume_id == volume.id
    assert attachment.device == moved.root_device_name
    after = sdk_admin.block_storage.get_volume(volume.id)
    assert after.status == "in-use", after.status
    assert [a["server_id"] for a in after.attachments] == [server.id]
    (record,) = sdk_admin.compute.migrations(instance_uuid=server.id)
    assert (record.migration_type, record.status) == ("live-migration", "completed"), record
    assert (record.source_compute, record.dest_compute) == (start, moved.compute_host)
