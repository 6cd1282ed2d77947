"""Admin › Volume on the all-in-one's real Cinder (RBD on the one-node Ceph), through the
portal as the cloud administrator: a private volume type with extra specs and a throwaway
project's access, refused while a volume has it and then deleted; a QoS spec associated with
a type, refused while associated, deleted; a volume's status reset (and the audit record);
the storage pools and the services as Cinder itself reports them. Each step is read back
with openstacksdk; names carry the prefix "va-" and everything made is removed."""

from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path
from typing import Any

import openstack
import pytest
from django.test import Client

from portal.models import AuditRecord
from tests.cloud.waiting import wait_for
from tests.conftest import page_errors, portal_sign_in
from volumes.gateway import VolumesGateway

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
BASE = "/volumes/admin/"


def text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def ok(response: Any) -> Any:
    assert response.status_code == 302, page_errors(response.content.decode())
    return response


def flashed(client: Client, response: Any) -> str:
    """The page a POST went back to, with the message it queued."""
    return text(client.get(ok(response)["Location"]))


@pytest.fixture
def admin(portal_clouds_yaml: Path, sdk_admin: Any) -> Client:
    return portal_sign_in(Client(), "admin", project_id=sdk_admin.identity.find_project("admin").id)


def _gone(bs: Any, volume_id: str) -> bool:
    return bs.find_volume(volume_id) is None


def _snapshot_gone(bs: Any, snapshot_id: str) -> bool:
    # not find_snapshot: on a miss it filters by name, which Cinder refuses to members
    try:
        bs.get_snapshot(snapshot_id)
    except openstack.exceptions.NotFoundException:
        return True
    return False


def test_private_type_with_extra_specs_and_access_refused_in_use_then_deleted(
    admin: Client, sdk_admin: Any, make_tenant: Any
) -> None:
    bs = sdk_admin.block_storage
    name = "va-" + os.urandom(4).hex()
    tenant = make_tenant("va")
    type_id = volume_id = ""
    try:
        form = {"name": name, "description": "va test", "extra_specs": "volume_backend_name=ceph"}
        made = ok(admin.post(BASE + "types/create/", form))  # is_public left out: private
        type_id = made["Location"].removeprefix(BASE + "types/").strip("/")
        vtype = bs.get_type(type_id)
        assert (vtype.name, vtype.is_public) == (name, False)
        assert vtype.extra_specs == {"volume_backend_name": "ceph"}
        listing = text(admin.get(BASE + "types/"))
        assert name in listing and "Default" in listing  # the ceph type is the default

        duplicate = admin.post(BASE + "types/create/", form)
        assert duplicate.status_code == 400 and "already exists" in text(duplicate)
        assert [t.name for t in bs.types(is_public="None")].count(name) == 1

        url = f"{BASE}types/{type_id}/"
        ok(admin.post(url + "extra-specs/", {"key": "capabilities:thin", "value": "<is> True"}))
        assert bs.get_type(type_id).extra_specs["capabilities:thin"] == "<is> True"
        ok(admin.post(url + "extra-specs/delete/", {"key": "capabilities:thin"}))
        assert "capabilities:thin" not in bs.get_type(type_id).extra_specs

        assert name not in [t.name for t in tenant.conn.block_storage.types()]
        page = flashed(admin, admin.post(url + "access/add/", {"project": tenant.project.id}))
        assert "The project may now use this type." in page and tenant.name in page
        given = [a["project_id"] for a in bs.get_type_access(type_id)]
        assert given == [tenant.project.id]
        assert name in [t.name for t in tenant.conn.block_storage.types()]

        volume = tenant.conn.block_storage.create_volume(name=name, size=1, volume_type=name)
        volume_id = volume.id
        wait_for(lambda: bs.get_volume(volume_id).status == "available", 120, "volume of the type")
        confirm = text(admin.get(url + "delete/"))
        assert "Cinder refuses while a volume has this type" in confirm
        refused = admin.post(url + "delete/")
        assert refused.status_code == 400
        assert "Target volume type is still in use." in text(refused)
        assert bs.get_type(type_id).name == name

        tenant.conn.block_storage.delete_volume(volume_id)
        wait_for(lambda: _gone(bs, volume_id), 120, "volume deleted")
        volume_id = ""
        ok(admin.post(url + "access/remove/", {"project": tenant.project.id}))
        assert list(bs.get_type_access(type_id)) == []
        ok(admin.post(url + "delete/"))
        assert bs.find_type(type_id) is None
        type_id = ""
    finally:
        if volume_id:
            bs.delete_volume(volume_id, ignore_missing=True)
            wait_for(lambda: _gone(bs, volume_id), 120, "volume deleted")
        if type_id:
            bs.delete_type(type_id, ignore_missing=True)


def test_qos_spec_associated_refused_while_associated_then_deleted(
    admin: Client, sdk_admin: Any
) -> None:
    bs = sdk_admin.block_storage
    name = "va-" + os.urandom(4).hex()
    vtype = bs.create_type(name=name + "-type")
    qos_id = ""
    try:
        form = {"name": name, "consumer": "back-end", "specs": "total_iops_sec=500"}
        ok(admin.post(BASE + "qos/create/", form))
        spec = bs.find_qos_spec(name, ignore_missing=False)
        qos_id = spec.id
        assert (spec.consumer, spec.specs) == ("back-end", {"total_iops_sec": "500"})
        malformed = admin.post(BASE + "qos/create/", form | {"specs": "total iops=1"})
        assert malformed.status_code == 400 and "is not key=value" in text(malformed)

        page = flashed(
            admin, admin.post(f"{BASE}qos/{qos_id}/associate/", {"volume_type": vtype.id})
        )
        assert "QoS spec associated with the volume type." in page
        assert [a.id for a in bs.qos_spec_associations(qos_id)] == [vtype.id]
        row = text(admin.get(BASE + "types/"))
        assert name in row

        confirm = text(admin.get(f"{BASE}qos/{qos_id}/delete/"))
        assert f"Delete QoS spec {name}?" in confirm
        refused = admin.post(f"{BASE}qos/{qos_id}/delete/")
        assert refused.status_code == 400 and "Qos specs still in use." in text(refused)
        assert bs.find_qos_spec(qos_id) is not None

        ok(admin.post(f"{BASE}qos/{qos_id}/disassociate/", {"volume_type": vtype.id}))
        assert list(bs.qos_spec_associations(qos_id)) == []
        ok(admin.post(f"{BASE}qos/{qos_id}/delete/"))
        assert bs.find_qos_spec(qos_id) is None
        qos_id = ""
    finally:
        if qos_id:
            bs.disassociate_all_qos_spec(qos_id)
            bs.delete_qos_spec(qos_id, ignore_missing=True, force=True)
        bs.delete_type(vtype, ignore_missing=True)


def test_reset_a_volume_s_status_and_refuse_an_invalid_one(admin: Client, sdk_admin: Any) -> None:
    bs = sdk_admin.block_storage
    volume = bs.create_volume(name="va-" + os.urandom(4).hex(), size=1)
    try:
        wait_for(lambda: bs.get_volume(volume.id).status == "available", 120, "va volume")
        # the lists read Cinder's JSON themselves (volume_from_json); one volume goes
        # through the SDK (to_volume): the same Volume either way
        gw = VolumesGateway(sdk_admin)
        listed = [v for v in gw.list_all_volumes() if v.id == volume.id]
        assert listed == [gw.get_volume(volume.id)]
        assert listed[0].host == "devcloud@ceph#ceph" and listed[0].project_id
        listing = text(admin.get(BASE + "volumes/?name=" + volume.name))
        assert volume.name in listing and "devcloud@ceph#ceph" in listing
        url = f"{BASE}volumes/{volume.id}/reset-status/"
        assert "Now: available" in text(admin.get(url))
        bad = admin.post(url, {"status": "stuck-forever"})
        assert bad.status_code == 400 and "Select a valid choice" in text(bad)
        refused = admin.post(url, {"status": "in-use"})
        assert refused.status_code == 400
        assert "volume does not have any attachments" in text(refused)  # Cinder's words
        assert bs.get_volume(volume.id).status == "available"

        ok(admin.post(url, {"status": "error", "attach_status": "detached"}))
        assert bs.get_volume(volume.id).status == "error"
        records = AuditRecord.objects.filter(action="reset_volume_status", target_id=volume.id)
        assert [r.result for r in records.order_by("pk")] == ["refused", "refused", "accepted"]
        ok(admin.post(url, {"status": "available"}))
        assert bs.get_volume(volume.id).status == "available"
    finally:
        bs.delete_volume(volume, ignore_missing=True)
        wait_for(lambda: _gone(bs, volume.id), 120, "va volume deleted")


def test_pools_and_services_are_cinders_own_answer(admin: Client, sdk_admin: Any) -> None:
    bs = sdk_admin.block_storage
    pools = {p.name: p.capabilities for p in bs.backend_pools()}
    page = admin.get(BASE + "pools/")
    assert page.status_code == 200
    rows = re.findall(
        r"<tr>\s*<td><code>([^<]+)</code></td>(.*?)</tr>", page.content.decode(), re.S
    )
    assert {name for name, _ in rows} == set(pools)
    for name, cells in rows:
        figures = [float(x) for x in re.findall(r'class="text-end">([0-9.]+)<', cells)]
        caps = pools[name]
        assert figures[0] == pytest.approx(float(caps["total_capacity_gb"]), abs=0.01)
        # free space is Ceph's own figure, refreshed by the scheduler every minute
        assert figures[1] == pytest.approx(float(caps["free_capacity_gb"]), abs=0.2)
        assert figures[2] == pytest.approx(float(caps["allocated_capacity_gb"]), abs=2)

    services = {(s.host, s.binary): s for s in bs.services()}
    listing = admin.get(BASE + "services/").content.decode()
    shown = set(re.findall(r"<td><code>([^<]+)</code></td>\s*<td>([^<]+)</td>", listing))
    assert shown == set(services)
    assert {"cinder-volume", "cinder-scheduler", "cinder-backup"} <= {b for _, b in services}
    up = text(admin.get(BASE + "services/")).count(" up ")
    assert up == sum(s.state == "up" for s in services.values())


def test_a_member_edits_a_snapshot_and_the_bootable_flag(
    portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("va")
    bs = tenant.conn.block_storage
    client = tenant.sign_in(Client())
    volume = bs.create_volume(name="va-data", size=1)
    wait_for(lambda: bs.get_volume(volume.id).status == "available", 120, "va volume")
    ok(client.post(f"/volumes/{volume.id}/edit/", {"name": "va-boot", "bootable": "on"}))
    found = bs.get_volume(volume.id)
    assert (found.name, found.is_bootable) == ("va-boot", True)
    ok(client.post(f"/volumes/{volume.id}/edit/", {"name": "va-boot"}))
    assert bs.get_volume(volume.id).is_bootable is False

    snapshot = bs.create_snapshot(volume_id=volume.id, name="va-snap")
    wait_for(lambda: bs.get_snapshot(snapshot.id).status == "available", 120, "va snapshot")
    url = f"/volumes/snapshots/{snapshot.id}/edit/"
    ok(client.post(url, {"name": "va-weekly", "description": "kept a week"}))
    found = bs.get_snapshot(snapshot.id)
    assert (found.name, found.description) == ("va-weekly", "kept a week")
    bad = client.post(url, {"name": "", "description": "x"})
    assert bad.status_code == 400 and bs.get_snapshot(snapshot.id).name == "va-weekly"
    bs.delete_snapshot(snapshot)
    wait_for(lambda: _snapshot_gone(bs, snapshot.id), 120, "va snapshot deleted")
