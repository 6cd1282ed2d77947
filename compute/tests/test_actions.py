"""Every instance action through its view: what it does, what it answers (row for htmx,
redirect otherwise), and OpenStack's refusals shown with a hint."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from compute import gateway as g
from compute.tests.fakes import FakeComputeGateway
from portal.errors import Rejected

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def url(server: g.Server, action: str) -> str:
    return f"/compute/servers/{server.id}/{action}/"


def messages_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize(
    ("path", "state", "task", "after", "message"),
    [
        ("pause", "active", "pausing", "PAUSED", "Pausing the instance."),
        ("unpause", "paused", "unpausing", "ACTIVE", "Unpausing the instance."),
        ("suspend", "active", "suspending", "SUSPENDED", "Suspending the instance."),
        ("resume", "suspended", "resuming", "ACTIVE", "Resuming the instance."),
        ("shelve", "active", "shelving", "SHELVED_OFFLOADED", "Shelving the instance."),
        ("unshelve", "shelved_offloaded", "unshelving", "ACTIVE", "Unshelving the instance."),
        ("stop", "active", "powering-off", "SHUTOFF", "Shutting off the instance."),
        ("start", "stopped", "powering-on", "ACTIVE", "Starting the instance."),
        ("reboot", "active", "rebooting", "ACTIVE", "Rebooting the instance."),
        ("unrescue", "rescued", "unrescuing", "ACTIVE", "Leaving rescue mode."),
        ("resize/revert", "resized", "resize_reverting", "ACTIVE", "Reverting the resize."),
    ],
)
def test_post_actions_answer_the_row_then_it_settles(
    member_client: Client,
    fake: FakeComputeGateway,
    path: str,
    state: str,
    task: str,
    after: str,
    message: str,
) -> None:
    server = fake.add_server("vm", vm_state=state)
    response = member_client.post(
        url(server, path), headers={**HTMX, "HX-Target": f"server-{server.id}"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<tr id="server-{server.id}"')
    assert task in html and "every 2s" in html  # the row polls while Nova works
    assert 'hx-swap-oob="beforeend"' in html and message in html
    fake.settle()
    assert fake.servers[server.id].server.status == after


def test_hard_reboot_and_plain_post_redirects_to_the_detail(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm", vm_state="stopped", power_state=4)
    response = member_client.post(url(server, "reboot"), {"hard": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/compute/servers/{server.id}/"
    assert fake.servers[server.id].server.task_state == "rebooting_hard"
    page = member_client.get(response["Location"]).content.decode()
    assert "Hard rebooting the instance." in page


def test_a_conflicting_state_shows_novas_reason_and_a_hint(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm", vm_state="stopped", power_state=4)
    response = member_client.post(
        url(server, "pause"), headers={**HTMX, "HX-Target": f"server-{server.id}"}
    )
    html = messages_of(response.content.decode())
    assert "The instance was not paused:" in html
    assert f"Cannot 'pause' instance {server.id} while it is in vm_state stopped" in html
    assert "Wait until its status settles" in html
    assert fake.servers[server.id].server.vm_state == "stopped"  # nothing half-done
    assert "SHUTOFF" in html  # the row, as it really is


def test_a_locked_instance_refuses_until_unlocked(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    member_client.post(url(server, "lock"))
    response = member_client.post(url(server, "stop"), follow=True)
    assert "is locked" in response.content.decode()
    assert "Unlock it first" in response.content.decode()
    member_client.post(url(server, "unlock"))
    member_client.post(url(server, "stop"))
    assert fake.servers[server.id].server.task_state == "powering-off"


def test_policy_refusal_is_explained(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    fake.refusals["suspend_server"] = Rejected(
        "Policy doesn't allow os_compute_api:os-suspend-server:suspend to be performed.", 403
    )
    page = member_client.post(url(server, "suspend"), follow=True).content.decode()
    assert "Policy doesn" in page and "Your role in this project does not allow this." in page


def test_actions_are_post_only(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    for path in ("pause", "stop", "reboot", "lock", "resize/confirm"):
        assert member_client.get(url(server, path)).status_code == 405
    assert fake.servers[server.id].server.task_state is None


def test_actions_need_csrf(fake: FakeComputeGateway, unit_cloud: None) -> None:
    from conftest import PERSONAS, sign_in

    client = sign_in(Client(enforce_csrf_checks=True), PERSONAS["member"])
    server = fake.add_server("vm")
    assert client.post(url(server, "stop")).status_code == 403
    assert fake.servers[server.id].server.task_state is None


def test_edit_changes_name_description_and_security_groups(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("old", security_groups=("default",))
    form = member_client.get(url(server, "edit"), headers=HTMX).content.decode()
    assert 'class="modal-header"' in form and 'value="old"' in form
    response = member_client.post(
        url(server, "edit"),
        {"name": "new-name", "description": "web tier", "security_groups": ["sg-web"]},
        headers={**HTMX, "HX-Target": "sd-modal-content"},
    )
    assert "sd:close-modal" in response.headers["HX-Trigger"]
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and "new-name" in html  # the list's row, out of band
    s = fake.servers[server.id].server
    assert (s.name, s.description, s.security_groups) == ("new-name", "web tier", ("web",))


def test_edit_with_a_blank_name_keeps_the_form(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("old")
    response = member_client.post(
        url(server, "edit"), {"name": "  ", "description": "kept text"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html and "kept text" in html
    assert fake.servers[server.id].server.name == "old"


def test_snapshot_creates_an_image(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    form = member_client.get(url(server, "snapshot")).content.decode()
    assert 'value="vm-snapshot"' in form
    response = member_client.post(url(server, "snapshot"), {"name": "vm-backup"}, follow=True)
    assert "Snapshot requested." in response.content.decode()
    image = next(i for i in fake.images if i.name == "vm-backup")
    assert image.is_snapshot and image.instance_id == server.id and image.status == "queued"
    assert fake.servers[server.id].server.task_state == "image_snapshot"


def test_resize_then_confirm(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    same = member_client.post(url(server, "resize"), {"flavor": "f-nano"})
    assert "already has this flavor" in same.content.decode()
    member_client.post(url(server, "resize"), {"flavor": "f-small"})
    fake.settle()
    resized = fake.servers[server.id].server
    assert resized.status == "VERIFY_RESIZE" and resized.flavor.name == "m1.small"
    page = member_client.get(f"/compute/servers/{server.id}/").content.decode()
    assert "Confirm resize" in page and "Revert resize" in page
    response = member_client.post(
        url(server, "resize/confirm"), headers={**HTMX, "HX-Target": f"server-{server.id}"}
    )
    # Nova confirms later without a task state: the row keeps watching the status.
    html = response.content.decode()
    assert "VERIFY_RESIZE" in html and "leaving=VERIFY_RESIZE" in html and "every 2s" in html
    poll = re.search(r'hx-get="([^"]+leaving=VERIFY_RESIZE[^"]+)"', html)
    assert poll
    poll_url = poll.group(1).replace("&amp;", "&")
    assert member_client.get(poll_url, headers=HTMX).status_code == 200
    stale = re.sub(r"since=\d+", "since=1000", poll_url)
    assert member_client.get(stale, headers=HTMX).status_code == 286  # a wait ends in time
    fake.settle()
    done = member_client.get(poll_url, headers=HTMX)
    assert done.status_code == 286 and "ACTIVE" in done.content.decode()


def test_resize_then_revert_restores_the_flavor(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    member_client.post(url(server, "resize"), {"flavor": "f-medium"})
    fake.settle()
    member_client.post(url(server, "resize/revert"))
    fake.settle()
    assert fake.servers[server.id].server.flavor.name == "m1.nano"


def test_rebuild_refuses_an_image_too_big_for_the_flavor(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    refused = member_client.post(url(server, "rebuild"), {"image": "img-big"})
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "This image needs a disk of at least 10 GB; the flavor has 1 GB." in html
    member_client.post(url(server, "rebuild"), {"image": "img-cirros"})
    assert fake.servers[server.id].server.task_state == "rebuilding"


def test_rescue_and_unrescue(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    member_client.post(url(server, "rescue"), {"image": "", "password": ""})
    fake.settle()
    assert fake.servers[server.id].server.status == "RESCUE"
    member_client.post(url(server, "unrescue"))
    fake.settle()
    assert fake.servers[server.id].server.status == "ACTIVE"


def test_floating_ip_allocate_associate_and_disassociate(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    port = fake.add_port(server.id)
    form = member_client.get(url(server, "floating-ip")).content.decode()
    assert "Allocate a new address from public1" in form
    member_client.post(
        url(server, "floating-ip"), {"floating_ip": "new:net-public", "port": port.id}
    )
    fip = next(iter(fake.floating_ips.values()))
    assert fip.port_id == port.id
    assert fip.address in fake.servers[server.id].server.floating_ips
    menu = member_client.get(f"/compute/servers/{server.id}/actions/").content.decode()
    assert ">Disassociate floating IP<" in menu
    member_client.post(url(server, "floating-ip/remove"), {"floating_ip": fip.id})
    assert fake.floating_ips[fip.id].port_id == ""
    assert fake.servers[server.id].server.floating_ips == []


def test_floating_ip_refusal_stays_on_the_form(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    port = fake.add_port(server.id)
    fake.refusals["create_floating_ip"] = Rejected(
        "Quota exceeded for resources: ['floatingip'].", 409
    )
    response = member_client.post(
        url(server, "floating-ip"), {"floating_ip": "new:net-public", "port": port.id}
    )
    html = response.content.decode()
    assert response.status_code == 400 and "Quota exceeded for resources" in html
    assert "used up its quota" in html


def test_attach_and_detach_an_interface(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    neither = member_client.post(url(server, "interfaces"), {})
    assert "Choose either a network or a port." in neither.content.decode()
    member_client.post(url(server, "interfaces"), {"network": "net-other"})
    attached = fake.servers[server.id].server
    assert "other" in attached.networks
    port = next(p for p in fake.ports.values() if p.network_id == "net-other")
    member_client.post(url(server, "interfaces/remove"), {"port": port.id})
    assert "other" not in fake.servers[server.id].server.networks


def test_attach_and_detach_a_volume(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    volume = fake.add_volume("data", size=2)
    form = member_client.get(url(server, "volumes")).content.decode()
    assert "data (2 GB)" in form
    member_client.post(url(server, "volumes"), {"volume": volume.id})
    assert fake.volumes[volume.id].status == "in-use"
    detail = member_client.get(f"/compute/servers/{server.id}/").content.decode()
    assert "data (2 GB)" in detail and "/dev/vdb" in detail
    member_client.post(url(server, "volumes/remove"), {"volume": volume.id})
    assert fake.volumes[volume.id].status == "available"


def test_volume_actions_are_hidden_without_cinder(member_client: Client) -> None:
    from compute.gateway import ComputeGateway
    from portal.gateways import override

    fake = FakeComputeGateway(volumes=False)
    with override(ComputeGateway, fake):
        server = fake.add_server("vm")
        menu = member_client.get(f"/compute/servers/{server.id}/actions/").content.decode()
    assert "Attach volume" not in menu and "Attach interface" in menu


def test_delete_asks_then_deletes(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("vm")
    confirm = member_client.get(url(server, "delete")).content.decode()
    assert "This cannot be undone." in confirm
    assert fake.servers[server.id].server.task_state is None
    response = member_client.post(url(server, "delete"), {"next": f"/compute/servers/{server.id}/"})
    assert response["Location"] == "/compute/servers/"
    fake.settle()
    assert server.id not in fake.servers
    assert member_client.get(f"/compute/servers/{server.id}/").status_code == 404


def test_delete_from_the_list_leaves_a_deleting_row(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    response = member_client.post(
        url(server, "delete"), headers={**HTMX, "HX-Target": "sd-modal-content"}
    )
    html = response.content.decode()
    assert "deleting" in html and "every 2s" in html and "Deleting vm." in html


def test_bulk_delete_asks_first_without_javascript(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    a, b = fake.add_server("a"), fake.add_server("b")
    data = {"action": "delete_server", "server_id": [a.id, b.id]}
    confirm = member_client.post("/compute/servers/bulk/", data).content.decode()
    assert "Delete these 2 instances?" in confirm and "<li>a</li>" in confirm
    assert all(fs.server.task_state is None for fs in fake.servers.values())
    done = member_client.post("/compute/servers/bulk/", {**data, "confirmed": "1"}, follow=True)
    assert "Deleting 2 instances." in done.content.decode()
    fake.settle()
    assert not fake.servers


def test_bulk_stop_reports_each_refusal(member_client: Client, fake: FakeComputeGateway) -> None:
    on = fake.add_server("on")
    off = fake.add_server("off", vm_state="stopped", power_state=4)
    response = member_client.post(
        "/compute/servers/bulk/",
        {"action": "stop_server", "server_id": [on.id, off.id]},
        headers=HTMX,
    )
    assert "sd:changed" in response.headers["HX-Trigger"]
    html = messages_of(response.content.decode())
    assert "Shutting off 1 instance." in html
    assert f"Shut off refused for {off.id}: Cannot 'stop' instance" in html
    assert fake.servers[on.id].server.task_state == "powering-off"


def test_bulk_without_a_selection(member_client: Client, fake: FakeComputeGateway) -> None:
    page = member_client.post("/compute/servers/bulk/", {"action": "stop_server"}, follow=True)
    assert "Select instances and an action first." in page.content.decode()


def test_an_unknown_server_is_a_404(member_client: Client, fake: FakeComputeGateway) -> None:
    response = member_client.get("/compute/servers/no-such-id/resize/")
    assert response.status_code == 404
    assert "could not be found" in response.content.decode()
