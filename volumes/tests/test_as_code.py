"""The volumes forms' "show as code" panels (volumes/as_code.py, portal/as_code.py)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db

OS = "openstack --os-cloud unit"
V = "vol-1"  # ids are echoed from the URL: any will do


def shown(client: Client, path: str, **fields: Any) -> tuple[str, str, str]:
    """The panel at `path` with these fields typed: (commands, playbook, note)."""
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200
    page = answer.content.decode()
    blocks = re.findall(r'aria-label="([^"]+)"><code>(.*?)</code>', page, re.S)
    found = {label: html.unescape(text) for label, text in blocks}
    note = re.search(r'<p class="form-text mb-2">(.*?)</p>', page, re.S)
    return (
        found.get("OpenStack command line", ""),
        found.get("Ansible tasks", ""),
        html.unescape(note.group(1)) if note else "",
    )


def test_the_create_volume_form_shows_its_code(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    page = html.unescape(member_client.get("/volumes/create/").content.decode())
    assert "Show as code" in page
    assert "openstack --os-cloud unit volume create --size 1 '<name>'" in page
    assert "openstack.cloud.volume:" in page and "cloud: unit" in page
    assert 'hx-params="not csrfmiddlewaretoken"' in page


def test_typing_asks_for_the_code_again(member_client: Client, fake: FakeVolumesGateway) -> None:
    fields: dict[str, Any] = {
        "for": "/volumes/create/",
        "name": "db",
        "size": "20",
        "source_type": "blank",
        "volume_type": "ceph",
    }
    answer = member_client.get("/code/", fields)
    assert answer.status_code == 200
    shown = html.unescape(answer.content.decode())
    assert "openstack --os-cloud unit volume create --size 20 --type ceph db" in shown
    assert "volume_type: ceph" in shown and "<html" not in shown


MEMBER_FORMS = [
    (
        "/volumes/delete/",
        {"volume_ids": ["v-a", "v-b"]},
        f"{OS} volume delete v-a v-b",
        ["openstack.cloud.volume:", "name: v-a", "name: v-b", "state: absent"],
    ),
    (
        f"/volumes/{V}/delete/",
        {},
        f"{OS} volume delete {V}",
        ["openstack.cloud.volume:", f"name: {V}", "state: absent"],
    ),
    (
        f"/volumes/{V}/edit/",
        {"name": "db 2", "description": "main", "bootable": "on"},
        f"{OS} volume set --name 'db 2' --description main --bootable {V}",
        [],
    ),
    (
        f"/volumes/{V}/edit/",
        {"name": "db"},
        f"{OS} volume set --name db --non-bootable {V}",
        [],
    ),
    (
        f"/volumes/{V}/extend/",
        {"size": "5"},
        f"{OS} volume set --size 5 {V}",
        ["openstack.cloud.volume:", f"name: {V}", "size: 5", "state: present"],
    ),
    (
        f"/volumes/{V}/retype/",
        {"volume_type": "fast", "migration_policy": "on-demand"},
        f"{OS} volume set --type fast --migration-policy on-demand {V}",
        ["openstack.cloud.volume_retype:", f"volume: {V}", "new_type: fast"],
    ),
    (
        f"/volumes/{V}/upload/",
        {"image_name": "golden", "disk_format": "qcow2"},
        f"{OS} image create --volume {V} --disk-format qcow2 --container-format bare golden",
        ["openstack.cloud.image:", "name: golden", f"volume: {V}", "disk_format: qcow2"],
    ),
    (
        f"/volumes/{V}/attach/",
        {"server": "srv-1"},
        f"{OS} server add volume srv-1 {V}",
        ["openstack.cloud.server_volume:", "server: srv-1", f"volume: {V}", "state: present"],
    ),
    (
        f"/volumes/{V}/detach/",
        {"server": "srv-1"},
        f"{OS} server remove volume srv-1 {V}",
        ["openstack.cloud.server_volume:", "server: srv-1", "state: absent"],
    ),
    (
        f"/volumes/{V}/snapshots/create/",
        {"name": "before upgrade", "description": "nightly"},
        f"{OS} volume snapshot create --volume {V} --description nightly 'before upgrade'",
        ["openstack.cloud.volume_snapshot:", "name: before upgrade", f"volume: {V}"],
    ),
    (
        "/volumes/snapshots/s-1/edit/",
        {"name": "kept", "description": ""},
        f"{OS} volume snapshot set --name kept s-1",
        [],
    ),
    (
        "/volumes/snapshots/s-1/delete/",
        {},
        f"{OS} volume snapshot delete s-1",
        ["openstack.cloud.volume_snapshot:", "name: s-1", "state: absent"],
    ),
    (
        f"/volumes/{V}/backups/create/",
        {"name": "weekly", "incremental": "on"},
        f"{OS} volume backup create --name weekly --incremental {V}",
        ["openstack.cloud.volume_backup:", "name: weekly", "is_incremental: true"],
    ),
    (
        "/volumes/backups/b-1/restore/",
        {"target": "new", "name": "restored"},
        f"{OS} volume backup restore b-1 restored",
        [],
    ),
    (
        "/volumes/backups/b-1/restore/",
        {"target": "existing", "volume": "v-9", "name": ""},
        f"{OS} volume backup restore --force b-1 v-9",
        [],
    ),
    (
        "/volumes/backups/b-1/delete/",
        {},
        f"{OS} volume backup delete b-1",
        ["openstack.cloud.volume_backup:", "name: b-1", "state: absent"],
    ),
    (
        f"/volumes/{V}/transfers/create/",
        {"name": "to study"},
        f"{OS} volume transfer request create --name 'to study' {V}",
        [],
    ),
    (
        "/volumes/transfers/accept/",
        {"transfer_id": "t-1"},
        f"{OS} volume transfer request accept --auth-key '<auth-key>' t-1",
        [],
    ),
    (
        "/volumes/transfers/t-1/delete/",
        {},
        f"{OS} volume transfer request delete t-1",
        [],
    ),
]


@pytest.mark.parametrize(("path", "fields", "command", "task_lines"), MEMBER_FORMS)
def test_each_volume_form_shows_its_command_and_task(
    member_client: Client, path: str, fields: dict[str, Any], command: str, task_lines: list[str]
) -> None:
    commands, playbook, note = shown(member_client, path, **fields)
    assert commands == command
    for line in task_lines:
        assert line in playbook
    assert ("cloud: unit" in playbook) if task_lines else (playbook == "" and note)


ADMIN_FORMS = [
    (
        f"/volumes/admin/volumes/{V}/reset-status/",
        {"status": "available", "attach_status": "detached"},
        f"{OS} volume set --state available --detached {V}",
        [],
    ),
    (
        "/volumes/admin/types/create/",
        {
            "name": "fast",
            "description": "SSD",
            "extra_specs": "volume_backend_name=ceph\nhalf-typed",
        },
        f"{OS} volume type create --description SSD --private "
        "--property volume_backend_name=ceph fast",
        [
            "openstack.cloud.volume_type:",
            "name: fast",
            "is_public: false",
            "volume_backend_name: ceph",
        ],
    ),
    (
        "/volumes/admin/types/t-1/extra-specs/",
        {"key": "volume_backend_name", "value": "lvm"},
        f"{OS} volume type set --property volume_backend_name=lvm t-1",
        [],
    ),
    (
        "/volumes/admin/types/t-1/extra-specs/delete/",
        {"key": "volume_backend_name"},
        f"{OS} volume type unset --property volume_backend_name t-1",
        [],
    ),
    (
        "/volumes/admin/types/t-1/access/add/",
        {"project": "p-1"},
        f"{OS} volume type set --project p-1 t-1",
        ["openstack.cloud.volume_type_access:", "name: t-1", "project: p-1", "state: present"],
    ),
    (
        "/volumes/admin/types/t-1/access/remove/",
        {"project": "p-1"},
        f"{OS} volume type unset --project p-1 t-1",
        ["openstack.cloud.volume_type_access:", "state: absent"],
    ),
    (
        "/volumes/admin/types/t-1/delete/",
        {},
        f"{OS} volume type delete t-1",
        ["openstack.cloud.volume_type:", "name: t-1", "state: absent"],
    ),
    (
        "/volumes/admin/qos/create/",
        {"name": "gold", "consumer": "front-end", "specs": "total_iops_sec=500"},
        f"{OS} volume qos create --consumer front-end --property total_iops_sec=500 gold",
        [],
    ),
    (
        "/volumes/admin/qos/q-1/associate/",
        {"volume_type": "t-1"},
        f"{OS} volume qos associate q-1 t-1",
        [],
    ),
    (
        "/volumes/admin/qos/q-1/disassociate/",
        {"volume_type": "t-1"},
        f"{OS} volume qos disassociate --volume-type t-1 q-1",
        [],
    ),
    ("/volumes/admin/qos/q-1/delete/", {}, f"{OS} volume qos delete q-1", []),
    (
        "/volumes/admin/services/enable/",
        {"host": "devcloud@lvm", "binary": "cinder-volume"},
        f"{OS} volume service set --enable devcloud@lvm cinder-volume",
        [],
    ),
    (
        "/volumes/admin/services/disable/",
        {"host": "devcloud@lvm", "binary": "cinder-volume", "reason": "disk swap"},
        f"{OS} volume service set --disable --disable-reason 'disk swap' "
        "devcloud@lvm cinder-volume",
        [],
    ),
]


@pytest.mark.parametrize(("path", "fields", "command", "task_lines"), ADMIN_FORMS)
def test_each_admin_volume_form_shows_its_command_and_task(
    admin_client: Client, path: str, fields: dict[str, Any], command: str, task_lines: list[str]
) -> None:
    commands, playbook, note = shown(admin_client, path, **fields)
    assert commands == command
    for line in task_lines:
        assert line in playbook
    assert ("cloud: unit" in playbook) if task_lines else (playbook == "" and note)


def test_the_auth_key_never_shows(member_client: Client) -> None:
    commands, _, _ = shown(
        member_client, "/volumes/transfers/accept/", transfer_id="t-1", auth_key="s3cr3tkey"
    )
    assert "s3cr3tkey" not in commands and "<auth-key>" in commands


def test_a_public_type_is_created_public(admin_client: Client) -> None:
    commands, playbook, _ = shown(
        admin_client, "/volumes/admin/types/create/", name="std", is_public="on"
    )
    assert commands == f"{OS} volume type create --public std"
    assert "is_public: true" in playbook and "extra_specs" not in playbook


def test_the_extend_form_shows_the_size_it_offers(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    volume = fake.add_volume("data", 3)
    page = html.unescape(member_client.get(f"/volumes/{volume.id}/extend/").content.decode())
    assert f"{OS} volume set --size 4 {volume.id}" in page


def test_the_snapshot_form_shows_a_placeholder_name(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    volume = fake.add_volume("data")
    page = html.unescape(
        member_client.get(f"/volumes/{volume.id}/snapshots/create/").content.decode()
    )
    assert f"{OS} volume snapshot create --volume {volume.id} '<name>'" in page
    assert "openstack.cloud.volume_snapshot:" in page


def test_the_volume_type_page_shows_the_code_of_its_forms(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    page = html.unescape(admin_client.get("/volumes/admin/types/t-fast/").content.decode())
    assert f"{OS} volume type set --property '<key>=<value>' t-fast" in page


def test_a_volume_from_an_image_stays_bootable_on_a_second_run(member_client: Client) -> None:
    _, playbook, _ = shown(
        member_client, "/volumes/create/", name="boot", size="1", source_type="image", image="i-1"
    )
    assert "image: i-1" in playbook and "is_bootable: true" in playbook
    _, blank, _ = shown(member_client, "/volumes/create/", name="b", size="1", source_type="blank")
    assert "is_bootable" not in blank
