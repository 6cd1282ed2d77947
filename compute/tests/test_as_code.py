"""The instance, key pair and server group forms' "show as code" panels (compute/as_code.py,
portal/as_code.py): the command line and the Ansible task each shows for what was typed."""

from __future__ import annotations

import html
from typing import Any

import pytest
import yaml
from django.test import Client

from compute.tests.fakes import FakeComputeGateway

pytestmark = pytest.mark.django_db
OS = "openstack --os-cloud unit"
S = "/compute/servers/srv-1/"


def shown(client: Client, path: str, **fields: Any) -> tuple[str, list[dict[str, Any]], str]:
    """The panel of the form at `path`: (commands, tasks, the whole answer)."""
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200, answer.content.decode()[:300]
    text = html.unescape(answer.content.decode())
    commands, tasks = "", ""
    if "OpenStack command line" in text:
        commands = text.split('aria-label="OpenStack command line"><code>')[1].split("</code>")[0]
    if 'aria-label="Ansible tasks"' in text:
        tasks = text.split('aria-label="Ansible tasks"><code>')[1].split("</code>")[0]
    return commands, yaml.safe_load(tasks) if tasks else [], text


@pytest.mark.parametrize(
    ("action", "verb", "module_action"),
    [
        ("pause", "pause", "pause"),
        ("unpause", "unpause", "unpause"),
        ("suspend", "suspend", "suspend"),
        ("resume", "resume", "resume"),
        ("shelve", "shelve", "shelve"),
        ("unshelve", "unshelve", "unshelve"),
        ("stop", "stop", "stop"),
        ("start", "start", "start"),
        ("lock", "lock", "lock"),
        ("unlock", "unlock", "unlock"),
    ],
)
def test_a_one_click_action_is_a_server_action(
    member_client: Client, action: str, verb: str, module_action: str
) -> None:
    commands, tasks, _ = shown(member_client, f"{S}{action}/")
    assert commands == f"{OS} server {verb} srv-1"
    assert tasks[0]["openstack.cloud.server_action"] == {
        "cloud": "unit",
        "server": "srv-1",
        "action": module_action,
    }


@pytest.mark.parametrize(
    ("fields", "command", "action"),
    [
        ({}, f"{OS} server reboot --soft srv-1", "reboot_soft"),
        ({"hard": "1"}, f"{OS} server reboot --hard srv-1", "reboot_hard"),
    ],
)
def test_reboot_soft_or_hard(
    member_client: Client, fields: dict[str, str], command: str, action: str
) -> None:
    commands, tasks, _ = shown(member_client, f"{S}reboot/", **fields)
    assert commands == command
    assert tasks[0]["openstack.cloud.server_action"]["action"] == action


@pytest.mark.parametrize(
    ("path", "fields", "command"),
    [
        ("resize/confirm/", {}, f"{OS} server resize confirm srv-1"),
        ("resize/revert/", {}, f"{OS} server resize revert srv-1"),
        ("unrescue/", {}, f"{OS} server unrescue srv-1"),
        ("resize/", {"flavor": "f-small"}, f"{OS} server resize --flavor f-small --wait srv-1"),
        ("rescue/", {"image": "img-1"}, f"{OS} server rescue --image img-1 srv-1"),
        ("rescue/", {}, f"{OS} server rescue srv-1"),
        ("snapshot/", {"name": "snap"}, f"{OS} server image create --name snap --wait srv-1"),
        ("interfaces/", {"network": "net-a"}, f"{OS} server add network srv-1 net-a"),
        ("interfaces/", {"port": "p-1"}, f"{OS} server add port srv-1 p-1"),
        ("interfaces/remove/", {"port": "p-1"}, f"{OS} server remove port srv-1 p-1"),
    ],
)
def test_actions_openstack_cloud_has_no_module_for_are_commands_only(
    member_client: Client, path: str, fields: dict[str, str], command: str
) -> None:
    commands, tasks, text = shown(member_client, S + path, **fields)
    assert commands == command
    assert tasks == []
    assert "no module to" in text


def test_rescue_never_shows_the_password(member_client: Client) -> None:
    commands, _, text = shown(member_client, f"{S}rescue/", password="hunter2-secret")
    assert "hunter2" not in text and "--password" not in commands


def test_rebuild(member_client: Client) -> None:
    commands, tasks, _ = shown(member_client, f"{S}rebuild/", image="img-2")
    assert commands == f"{OS} server rebuild --image img-2 --wait srv-1"
    assert tasks[0]["openstack.cloud.server_action"] == {
        "cloud": "unit",
        "server": "srv-1",
        "action": "rebuild",
        "image": "img-2",
    }


def test_update_server(member_client: Client) -> None:
    fields = {"name": "web 2", "description": "front", "security_groups": ["sg-a", "sg-b"]}
    commands, tasks, _ = shown(member_client, f"{S}edit/", **fields)
    assert commands.splitlines() == [
        f"{OS} server set --name 'web 2' --description front srv-1",
        f"for port in $({OS} port list -f value -c ID --server srv-1); do",
        f'  {OS} port set --no-security-group --security-group sg-a --security-group sg-b "$port"',
        "done",
    ]
    assert tasks == []


def test_delete_server(member_client: Client) -> None:
    commands, tasks, _ = shown(member_client, f"{S}delete/")
    assert commands == f"{OS} server delete --wait srv-1"
    assert tasks[0]["openstack.cloud.server"] == {
        "cloud": "unit",
        "name": "srv-1",
        "state": "absent",
    }


@pytest.mark.parametrize(
    ("action", "verb", "module"),
    [
        ("stop_server", "stop", "server_action"),
        ("start_server", "start", "server_action"),
        ("reboot_server", "reboot", "server_action"),
        ("delete_server", "delete", "server"),
    ],
)
def test_bulk_actions_one_command_per_server(
    member_client: Client, action: str, verb: str, module: str
) -> None:
    fields = {"action": action, "server_id": ["a-1", "b-2"]}
    commands, tasks, _ = shown(member_client, "/compute/servers/bulk/", **fields)
    assert commands.splitlines() == [f"{OS} server {verb} a-1", f"{OS} server {verb} b-2"]
    assert [next(iter(t.keys() - {"name"})) for t in tasks] == [f"openstack.cloud.{module}"] * 2


def test_the_bulk_delete_confirmation_shows_deletes(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    fields = {"action": "delete_server", "server_id": [server.id]}
    page = html.unescape(member_client.post("/compute/servers/bulk/", fields).content.decode())
    assert "Show as code" in page
    assert f"{OS} server delete '<server-id>'" in page


def test_floating_ips(member_client: Client) -> None:
    commands, tasks, _ = shown(
        member_client, f"{S}floating-ip/", floating_ip="new:net-ext", port="p-1"
    )
    assert commands == f"{OS} floating ip create --port p-1 net-ext"
    assert tasks[0]["openstack.cloud.floating_ip"] == {
        "cloud": "unit",
        "server": "srv-1",
        "network": "net-ext",
        "reuse": True,
        "state": "present",
    }
    commands, tasks, _ = shown(member_client, f"{S}floating-ip/", floating_ip="fip-1", port="p-1")
    assert commands == f"{OS} floating ip set --port p-1 fip-1"
    commands, tasks, _ = shown(member_client, f"{S}floating-ip/remove/", floating_ip="fip-1")
    assert commands == f"{OS} floating ip unset --port fip-1"
    assert tasks[0]["openstack.cloud.floating_ip"]["state"] == "absent"


@pytest.mark.parametrize(
    ("path", "verb", "state"), [("", "add", "present"), ("remove/", "remove", "absent")]
)
def test_volume_attachments(member_client: Client, path: str, verb: str, state: str) -> None:
    commands, tasks, _ = shown(member_client, f"{S}volumes/{path}", volume="vol-1")
    assert commands == f"{OS} server {verb} volume srv-1 vol-1"
    assert tasks[0]["openstack.cloud.server_volume"] == {
        "cloud": "unit",
        "server": "srv-1",
        "volume": "vol-1",
        "state": state,
    }


def test_keypairs(member_client: Client) -> None:
    commands, tasks, _ = shown(member_client, "/compute/keypairs/create/", name="laptop")
    assert commands == f"{OS} keypair create --private-key laptop.pem laptop"
    assert tasks[0]["openstack.cloud.keypair"] == {
        "cloud": "unit",
        "name": "laptop",
        "state": "present",
    }
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@host"
    commands, tasks, _ = shown(member_client, "/compute/keypairs/import/", name="k", public_key=key)
    assert commands == f"printf '%s\\n' '{key}' | {OS} keypair create --public-key /dev/stdin k"
    assert tasks[0]["openstack.cloud.keypair"]["public_key"] == key
    commands, tasks, _ = shown(member_client, "/compute/keypairs/laptop/delete/")
    assert commands == f"{OS} keypair delete laptop"
    assert tasks[0]["openstack.cloud.keypair"]["state"] == "absent"


def test_server_groups(member_client: Client) -> None:
    commands, tasks, _ = shown(
        member_client, "/compute/server-groups/create/", name="db", policy="anti-affinity"
    )
    assert commands == f"{OS} server group create --policy anti-affinity db"
    assert tasks[0]["openstack.cloud.server_group"] == {
        "cloud": "unit",
        "name": "db",
        "policy": "anti-affinity",
        "state": "present",
    }
    commands, tasks, _ = shown(member_client, "/compute/server-groups/sg-9/delete/")
    assert commands == f"{OS} server group delete sg-9"
    assert tasks[0]["openstack.cloud.server_group"] == {
        "cloud": "unit",
        "name": "sg-9",
        "state": "absent",
    }


# --- launch -------------------------------------------------------------------------------------

LAUNCH = "/compute/servers/launch/"


def test_launch_from_an_image(member_client: Client, fake: FakeComputeGateway) -> None:
    fields = {
        "name": "web",
        "count": "1",
        "source_type": "image",
        "image": "img-1",
        "flavor": "f-nano",
        "nic_1": "net:net-a",
        "nic_2": "port:p-1",
        "security_groups": ["sg-default"],
        "key_name": "laptop",
        "availability_zone": "nova",
        "server_group": "grp-1",
        "metadata": "role=web\nbad line",
        "user_data": "#cloud-config\n",
        "config_drive": "on",
    }
    commands, tasks, text = shown(member_client, LAUNCH, **fields)
    assert commands == (
        f"{OS} server create --flavor f-nano --image img-1 --nic net-id=net-a --nic port-id=p-1"
        " --security-group sg-default --key-name laptop --availability-zone nova"
        " --hint group=grp-1 --property role=web --user-data user-data.yaml --use-config-drive"
        " --wait web"
    )
    assert "#cloud-config" not in text
    assert tasks[0]["openstack.cloud.server"] == {
        "cloud": "unit",
        "name": "web",
        "flavor": "f-nano",
        "image": "img-1",
        "nics": [{"net-id": "net-a"}, {"port-id": "p-1"}],
        "auto_ip": False,
        "security_groups": ["sg-default"],
        "key_name": "laptop",
        "availability_zone": "nova",
        "scheduler_hints": {"group": "grp-1"},
        "metadata": {"role": "web"},
        "userdata": "{{ lookup('file', 'user-data.yaml') }}",
        "config_drive": True,
        "state": "present",
    }


def test_launch_onto_a_new_volume_several_times(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fields = {
        "name": "db",
        "count": "3",
        "source_type": "image",
        "image": "img-1",
        "create_volume": "on",
        "volume_size": "5",
        "delete_volume_on_delete": "on",
        "flavor": "f-tiny",
    }
    commands, tasks, _ = shown(member_client, LAUNCH, **fields)
    assert commands == (
        f"{OS} server create --flavor f-tiny --block-device source_type=image,uuid=img-1,"
        "destination_type=volume,volume_size=5,boot_index=0,delete_on_termination=true"
        " --nic none --min 3 --max 3 --wait db"
    )
    task = tasks[0]
    assert task["openstack.cloud.server"]["name"] == "db-{{ item }}"
    assert task["loop"] == "{{ range(1, 3 + 1) | list }}"
    assert task["openstack.cloud.server"]["boot_from_volume"] is True
    assert task["openstack.cloud.server"]["volume_size"] == 5
    assert task["openstack.cloud.server"]["terminate_volume"] is True


def test_launch_from_a_volume_or_a_volume_snapshot(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    commands, tasks, _ = shown(
        member_client, LAUNCH, name="v", source_type="volume", volume="vol-1", flavor="f-nano"
    )
    assert commands == (
        f"{OS} server create --flavor f-nano --block-device source_type=volume,uuid=vol-1,"
        "destination_type=volume,boot_index=0,delete_on_termination=false --nic none --wait v"
    )
    assert tasks[0]["openstack.cloud.server"]["boot_volume"] == "vol-1"
    commands, tasks, text = shown(
        member_client,
        LAUNCH,
        name="s",
        source_type="volume_snapshot",
        volume_snapshot="vs-1",
        volume_size="2",
        flavor="f-nano",
    )
    assert "--block-device source_type=snapshot,uuid=vs-1,destination_type=volume," in commands
    assert tasks[0]["openstack.cloud.volume"]["snapshot_id"] == "vs-1"
    assert tasks[1]["openstack.cloud.server"]["boot_volume"] == "s-root"
    assert "cannot boot from a volume snapshot" in text


def test_launch_with_nothing_typed_shows_placeholders(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    commands, _, _ = shown(member_client, LAUNCH)
    assert commands == (
        f"{OS} server create --flavor '<flavor>' --image '<image>' --nic none --wait '<name>'"
    )


# --- the panel on the form pages ---------------------------------------------------------------


def test_the_edit_form_shows_the_instance_as_it_is(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    page = html.unescape(member_client.get(f"/compute/servers/{server.id}/edit/").content.decode())
    assert "Show as code" in page
    assert f"{OS} server set --name web-1 {server.id}" in page


def test_the_resize_and_delete_forms_show_their_code(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    page = html.unescape(
        member_client.get(f"/compute/servers/{server.id}/resize/").content.decode()
    )
    assert f"{OS} server resize --flavor" in page
    page = html.unescape(
        member_client.get(f"/compute/servers/{server.id}/delete/").content.decode()
    )
    assert f"{OS} server delete --wait {server.id}" in page
    assert "openstack.cloud.server:" in page


def test_the_key_pair_forms_show_their_code(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    page = html.unescape(member_client.get("/compute/keypairs/create/").content.decode())
    assert f"{OS} keypair create --private-key '<name>.pem' '<name>'" in page
    page = html.unescape(member_client.get("/compute/keypairs/import/").content.decode())
    assert "openstack.cloud.keypair:" in page


def test_the_launch_wizard_shows_its_code(member_client: Client, fake: FakeComputeGateway) -> None:
    page = html.unescape(member_client.get(LAUNCH).content.decode())
    assert "Show as code" in page and f"{OS} server create" in page


def test_the_wizard_panel_starts_from_every_step_s_values(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    """The wizard has a form per step: the panel reads them all, so the default security
    group ticked on its step is in the command before anything is typed."""
    page = html.unescape(member_client.get("/compute/servers/launch/").content.decode())
    assert (
        "openstack --os-cloud unit server create --flavor '<flavor>' --image '<image>' "
        "--nic none --security-group sg-default --wait '<name>'"
    ) in page


def test_the_one_click_buttons_of_an_instance_are_shown_as_code(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    """The instance page's buttons that act at once (no dialog) have one panel under them."""
    server = fake.add_server("web-1")
    page = html.unescape(member_client.get(f"/compute/servers/{server.id}/").content.decode())
    assert "Show these actions as code" in page
    assert f"openstack --os-cloud unit server stop {server.id}" in page
    assert f"openstack --os-cloud unit server reboot --hard {server.id}" in page
    assert "action: reboot_hard" in page
