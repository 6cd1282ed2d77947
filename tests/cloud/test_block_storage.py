"""Block storage on the devcloud's Ceph (issue 13), through openstacksdk, checked in RBD.

Cinder's default type `ceph` puts volumes in the RBD pool `volumes`; Glance keeps images in the
pool `images` and shows their rbd:// location, so a volume from a raw image is a copy-on-write
clone. Each test works in a throwaway project (make_tenant) with a 4 MiB raw image of random
bytes, reads the RBD images back with Ceph's `rbd` CLI as client.admin (the devcloud's
keyring), and deletes what it made: backups first, then each volume with its snapshots
(cascade), newest first, so that no clone outlives what it was cloned from.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.waiting import wait_for
from tests.conftest import DEVCLOUD_STATE

pytestmark = pytest.mark.cloud

CEPH_CONF = DEVCLOUD_STATE / "etc" / "ceph" / "ceph.conf"
IMAGE_BYTES = 4 * 2**20
TIMEOUT = 180


def rbd(*args: str) -> Any:
    result = subprocess.run(
        ["rbd", "-c", str(CEPH_CONF), "--id", "admin", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def rbd_images(pool: str) -> set[str]:
    return set(rbd("ls", pool))


def rbd_head(pool: str, image: str, size: int) -> bytes:
    """The first `size` bytes of an RBD image (`rbd export` to stdout, stopped early)."""
    argv = ["rbd", "-c", str(CEPH_CONF), "--id", "admin", "export", f"{pool}/{image}", "-"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as export:
        assert export.stdout is not None
        head = export.stdout.read(size)
        export.kill()
    return head


def available(storage: Any, resource: Any) -> Any:
    return storage.wait_for_status(resource, "available", failures=["error"], wait=TIMEOUT)


class Storage:
    """A tenant's block storage, and what a test made in it, deleted in a workable order."""

    def __init__(self, tenant: Any, tmp_path: Path) -> None:
        self.conn = tenant.conn
        self.bs = tenant.conn.block_storage
        self.prefix = tenant.name
        self.backups: list[Any] = []
        self.volumes: list[Any] = []
        self.data = os.urandom(IMAGE_BYTES)
        path = tmp_path / "random.raw"
        path.write_bytes(self.data)
        self.image = self.conn.create_image(
            f"{self.prefix}-raw",
            filename=str(path),
            disk_format="raw",
            container_format="bare",
            wait=True,
        )

    def volume(self, **attrs: Any) -> Any:
        volume = self.bs.create_volume(name=f"{self.prefix}-vol{len(self.volumes)}", **attrs)
        self.volumes.append(volume)
        return available(self.bs, volume)

    def snapshot(self, volume: Any) -> Any:
        snapshot = self.bs.create_snapshot(volume_id=volume.id, name=f"{self.prefix}-snap")
        return available(self.bs, snapshot)

    def backup(self, volume: Any) -> Any:
        backup = self.bs.create_backup(volume_id=volume.id, name=f"{self.prefix}-backup")
        self.backups.append(backup)
        return available(self.bs, backup)

    def adopt_volume(self, volume_id: str) -> Any:
        volume = self.bs.get_volume(volume_id)
        self.volumes.append(volume)
        return available(self.bs, volume)

    def cleanup(self) -> None:
        for backup in self.backups:
            self.bs.delete_backup(backup, ignore_missing=True)
        for backup in self.backups:
            self.bs.wait_for_delete(backup, wait=TIMEOUT)
        # Cinder's RBD driver refuses to delete a snapshot that a volume was cloned from
        for volume in reversed(self.volumes):
            self.bs.delete_volume(volume, ignore_missing=True, cascade=True)
            self.bs.wait_for_delete(volume, wait=TIMEOUT)


@pytest.fixture
def storage(make_tenant: Any, tmp_path: Path) -> Iterator[Storage]:
    made = Storage(make_tenant("blk"), tmp_path)
    yield made
    made.cleanup()


def test_a_volume_from_a_raw_image_is_a_copy_on_write_clone_of_it(storage: Storage) -> None:
    # Glance wrote the image to RBD and tells Cinder where (show_image_direct_url)
    image = storage.conn.image.get_image(storage.image.id)
    assert image.direct_url.startswith("rbd://") and image.direct_url.endswith(
        f"/images/{image.id}/snap"
    ), image.direct_url
    assert image.id in rbd_images("images")

    volume = storage.volume(size=1, image_id=image.id)
    assert volume.is_bootable and volume.volume_type == "ceph"
    info = rbd("info", f"volumes/volume-{volume.id}")
    assert info["size"] == 2**30
    assert info["parent"]["pool"] == "images"
    assert (info["parent"]["image"], info["parent"]["snapshot"]) == (image.id, "snap")
    assert rbd_head("volumes", f"volume-{volume.id}", IMAGE_BYTES) == storage.data


def test_snapshot_then_volumes_from_the_snapshot_and_from_the_volume_then_extend(
    storage: Storage,
) -> None:
    source = storage.volume(size=1, image_id=storage.image.id)
    snapshot = storage.snapshot(source)
    assert snapshot.size == 1
    assert f"snapshot-{snapshot.id}" in {
        s["name"] for s in rbd("snap", "ls", f"volumes/volume-{source.id}")
    }

    from_snapshot = storage.volume(snapshot_id=snapshot.id)
    parent = rbd("info", f"volumes/volume-{from_snapshot.id}")["parent"]
    assert (parent["pool"], parent["image"], parent["snapshot"]) == (
        "volumes",
        f"volume-{source.id}",
        f"snapshot-{snapshot.id}",
    )
    assert rbd_head("volumes", f"volume-{from_snapshot.id}", IMAGE_BYTES) == storage.data

    # a copy, not a clone (templates/cinder.conf rbd_max_clone_depth)
    from_volume = storage.volume(source_volume_id=source.id)
    assert from_volume.source_volume_id == source.id
    assert "parent" not in rbd("info", f"volumes/volume-{from_volume.id}")
    assert rbd_head("volumes", f"volume-{from_volume.id}", IMAGE_BYTES) == storage.data

    storage.bs.extend_volume(from_volume, 2)
    wait_for(
        lambda: (v := storage.bs.get_volume(from_volume.id)).status == "available" and v.size == 2,
        TIMEOUT,
        "extend to 2 GiB",
    )
    assert rbd("info", f"volumes/volume-{from_volume.id}")["size"] == 2 * 2**30


def test_a_volume_uploaded_to_an_image_lands_in_rbd(storage: Storage) -> None:
    volume = storage.volume(size=1, image_id=storage.image.id)
    answer = storage.bs.upload_volume_to_image(
        volume, f"{storage.prefix}-uploaded", disk_format="raw", container_format="bare"
    )
    image_id = answer["image_id"]
    image = wait_for(
        lambda: (i := storage.conn.image.get_image(image_id)).status == "active" and i,
        TIMEOUT,
        "the uploaded image to become active",
    )
    assert image.size == 2**30 and image.disk_format == "raw"
    assert image.id in rbd_images("images")
    assert rbd_head("images", image.id, IMAGE_BYTES) == storage.data
    available(storage.bs, volume)  # uploading leaves the volume as it was


def test_backup_then_restore_to_a_new_volume(storage: Storage) -> None:
    volume = storage.volume(size=1, image_id=storage.image.id)
    backup = storage.backup(volume)
    assert backup.volume_id == volume.id and backup.size == 1
    assert any(name.startswith(f"volume-{volume.id}.backup") for name in rbd_images("backups"))

    restored = storage.bs.restore_backup(backup, name=f"{storage.prefix}-restored")
    target = storage.adopt_volume(restored.volume_id)
    available(storage.bs, backup)  # restoring, then available again
    assert target.id != volume.id
    assert rbd_head("volumes", f"volume-{target.id}", IMAGE_BYTES) == storage.data


def test_boot_from_a_new_volume_that_is_deleted_with_the_server(storage: Storage) -> None:
    compute = storage.conn.compute
    flavor = compute.find_flavor("m1.nano", ignore_missing=False)
    server = compute.create_server(
        name=f"{storage.prefix}-on-volume",
        flavor_id=flavor.id,
        networks="none",
        block_device_mapping=[
            {
                "boot_index": 0,
                "uuid": storage.image.id,
                "source_type": "image",
                "destination_type": "volume",
                "volume_size": 1,
                "delete_on_termination": True,
            }
        ],
    )
    server = compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=TIMEOUT)
    assert not server.image.get("id")  # booted from the volume, not an image
    (attached,) = server.attached_volumes
    volume = storage.bs.get_volume(attached["id"])
    assert volume.status == "in-use" and volume.is_bootable
    parent = rbd("info", f"volumes/volume-{volume.id}")["parent"]
    assert (parent["pool"], parent["image"]) == ("images", storage.image.id)

    compute.delete_server(server)
    compute.wait_for_delete(server, wait=TIMEOUT)
    storage.bs.wait_for_delete(volume, wait=TIMEOUT)
    assert f"volume-{volume.id}" not in rbd_images("volumes")
