"""The instances page: columns, filters, paging, call budget, rows that poll, faults."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from compute import gateway as g
from compute.tests.fakes import NO_VALID_HOST, FakeComputeGateway

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def link(page: str, label: str) -> str:
    match = re.search(rf'<a class="page-link" href="([^"]+)"[^>]*>{label}<', page)
    assert match, f"no {label} link"
    return match.group(1).replace("&amp;", "&")


def row_html(page: str, server_id: str) -> str:
    match = re.search(rf'<tr id="server-{server_id}".*?</tr>', page, re.S)
    assert match, f"no row for {server_id}"
    return match.group(0)


def test_a_row_shows_what_a_tenant_expects(member_client: Client, fake: FakeComputeGateway) -> None:
    fake.keypairs["mykey"] = g.Keypair("mykey", "aa:bb")
    server = fake.add_server(
        "web-1",
        key_name="mykey",
        flavor=g.FlavorSpec("m1.small", 1, 2048, 20),
        addresses=(
            g.Address("private", "10.0.0.5", "fixed", 4),
            g.Address("private", "192.168.0.7", "floating", 4),
            g.Address("other", "10.1.0.9", "fixed", 4),
        ),
        availability_zone="nova",
    )
    page = member_client.get("/compute/servers/").content.decode()
    row = row_html(page, server.id)
    for text in ("web-1", "cirros", "m1.small", "mykey", "ACTIVE", "RUNNING", "nova"):
        assert text in row, text
    assert "private:" in row and "10.0.0.5" in row and "192.168.0.7" in row and "floating" in row
    assert "other:" in row and "10.1.0.9" in row
    assert "every 2s" not in row  # a settled row does not poll
    assert "Launch instance" in page and "9 more instances fit in the quota." in page


def test_an_instance_booted_from_a_volume_says_so(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("db", image_id="")
    row = row_html(member_client.get("/compute/servers/").content.decode(), server.id)
    assert "Booted from volume" in row


def test_page_of_50_servers_costs_three_calls(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    for i in range(120):
        fake.add_server(f"vm-{i:03d}", image_id="img-cirros" if i % 2 else "img-big")
    response = member_client.get("/compute/servers/?per_page=50")
    page = response.content.decode()
    assert page.count('<tr id="server-') == 50
    assert "big-disk" in page and "cirros" in page  # image names without per-row calls
    assert fake.calls == {"list_servers": 1, "list_images": 1, "get_limits": 1}
    fake.calls.clear()
    member_client.get("/compute/servers/?per_page=20")
    # warm, whatever the page size: the delta; the image names and the quota are kept copies
    assert fake.calls == {"list_servers": 1}
    member_client.post(f"/compute/servers/{fake.order[0]}/stop/")
    fake.calls.clear()
    member_client.get("/compute/servers/")  # a change through the portal: read again at once
    assert fake.calls == {"list_servers": 1, "list_images": 1, "get_limits": 1}


def test_paging_forward_and_back_with_nova_markers(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    for i in range(45):
        fake.add_server(f"vm-{i:02d}")
    first = member_client.get("/compute/servers/?sort=display_name").content.decode()
    names = re.findall(r'class="fw-semibold">(vm-\d+)<', first)
    assert names == [f"vm-{i:02d}" for i in range(20)]
    assert "Previous" not in first
    second = member_client.get(link(first, "Next")).content.decode()
    assert re.findall(r'class="fw-semibold">(vm-\d+)<', second)[0] == "vm-20"
    third = member_client.get(link(second, "Next")).content.decode()
    assert re.findall(r'class="fw-semibold">(vm-\d+)<', third) == [f"vm-{i}" for i in range(40, 45)]
    assert ">Next<" not in third
    back = member_client.get(link(third, "Previous")).content.decode()
    assert re.findall(r'class="fw-semibold">(vm-\d+)<', back) == [f"vm-{i}" for i in range(20, 40)]
    assert "sort=display_name" in link(back, "First")


def test_filters_by_name_status_and_ip(member_client: Client, fake: FakeComputeGateway) -> None:
    fake.add_server("web-1", addresses=(g.Address("private", "10.0.0.11", "fixed", 4),))
    fake.add_server("web-2", vm_state="stopped", power_state=4)
    fake.add_server("db.1", addresses=(g.Address("private", "10.0.0.12", "fixed", 4),))
    fake.add_server("db21")

    def names(query: str) -> list[str]:
        page = member_client.get("/compute/servers/?" + query, headers=HTMX).content.decode()
        return sorted(re.findall(r'class="fw-semibold">([^<]+)<', page))

    assert names("name=web") == ["web-1", "web-2"]
    assert names("name=db.1") == ["db.1"]  # a dot is a dot, not "any character"
    assert names("status=SHUTOFF") == ["web-2"]
    assert names("ip=10.0.0.12") == ["db.1"]
    page = member_client.get("/compute/servers/?name=nothing-like-it").content.decode()
    assert "No instance matches these filters." in page
    bad = member_client.get("/compute/servers/?ip=10.0.0.*").content.decode()
    assert "Type an IP address or the start of one" in bad


def test_filter_changes_render_only_the_table(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.add_server("web-1")
    page = member_client.get("/compute/servers/?name=web", headers=HTMX).content.decode()
    assert page.strip().startswith('<div id="servers-table"') and "<html" not in page


def test_empty_project_invites_a_launch(member_client: Client, fake: FakeComputeGateway) -> None:
    page = member_client.get("/compute/servers/").content.decode()
    assert "No instances yet." in page and "Launch one" in page


def test_quota_reached_disables_launch(member_client: Client, fake: FakeComputeGateway) -> None:
    fake.limits["instances"] = 1
    fake.add_server("only")
    page = member_client.get("/compute/servers/").content.decode()
    assert "quota reached" in page and 'aria-disabled="true"' in page


def test_a_building_row_polls_until_it_settles(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("new", status="BUILD", vm_state="building", task_state="spawning")
    page = member_client.get("/compute/servers/").content.decode()
    row = row_html(page, server.id)
    assert f'hx-get="/compute/servers/{server.id}/row/"' in row and "every 2s" in row
    polling = member_client.get(f"/compute/servers/{server.id}/row/", headers=HTMX)
    assert polling.status_code == 200 and "spawning" in polling.content.decode()
    fake.settle()
    settled = member_client.get(f"/compute/servers/{server.id}/row/", headers=HTMX)
    assert settled.status_code == 286  # htmx stops polling
    assert "ACTIVE" in settled.content.decode() and "every 2s" not in settled.content.decode()


@pytest.mark.parametrize(
    ("fields", "polls"),
    [
        ({"status": "REBOOT", "task_state": "rebooting"}, True),
        ({"status": "RESIZE", "task_state": "resize_migrating"}, True),
        ({"status": "MIGRATING", "task_state": "migrating"}, True),
        ({"vm_state": "active", "task_state": "shelving"}, True),
        ({"status": "VERIFY_RESIZE", "vm_state": "resized"}, False),
        ({"vm_state": "shelved_offloaded", "power_state": 4}, False),
    ],
)
def test_rows_in_changing_states_poll(
    member_client: Client, fake: FakeComputeGateway, fields: dict[str, str], polls: bool
) -> None:
    server = fake.add_server("vm", **fields)
    row = row_html(member_client.get("/compute/servers/").content.decode(), server.id)
    assert ("every 2s" in row) is polls


def test_a_deleted_server_row_disappears(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("gone", task_state="deleting")
    fake.settle()
    response = member_client.get(f"/compute/servers/{server.id}/row/", headers=HTMX)
    assert response.status_code == 286 and response.content == b""


def test_error_row_shows_nova_fault_and_a_hint(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server(
        "big", vm_state="error", power_state=0, fault_message=NO_VALID_HOST, fault_code=500
    )
    row = row_html(member_client.get("/compute/servers/").content.decode(), server.id)
    assert "ERROR" in row and NO_VALID_HOST in row
    assert "No compute host has room for this flavor" in row


def menu(client: Client, server: g.Server) -> str:
    return client.get(f"/compute/servers/{server.id}/actions/", headers=HTMX).content.decode()


def test_actions_offered_follow_the_state(member_client: Client, fake: FakeComputeGateway) -> None:
    active = fake.add_server("on")
    stopped = fake.add_server("off", vm_state="stopped", power_state=4)
    locked = fake.add_server("locked", locked=True)
    resized = fake.add_server("resized", vm_state="resized")
    page = member_client.get("/compute/servers/").content.decode()
    assert f'hx-get="/compute/servers/{active.id}/actions/"' in row_html(page, active.id)
    on, off = menu(member_client, active), menu(member_client, stopped)
    assert ">Shut off<" in on and ">Pause<" in on and ">Start<" not in on
    assert ">Start<" in off and ">Shut off<" not in off and ">Pause<" not in off
    held = menu(member_client, locked)
    assert ">Unlock<" in held and ">Pause<" not in held
    verify = menu(member_client, resized)
    assert ">Confirm resize<" in verify and ">Revert resize<" in verify
    assert ">Disassociate floating IP<" not in on  # no floating IP yet
    assert fake.calls["get_server"] == 4  # each menu reads the server's state when opened


def test_the_menu_of_a_deleted_server(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("gone", task_state="deleting")
    fake.settle()
    assert "This instance no longer exists." in menu(member_client, server)


def test_image_service_down_still_lists_servers(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    fake.unavailable = {"list_images", "get_limits"}
    response = member_client.get("/compute/servers/")
    assert response.status_code == 200
    assert "img-cirros" in row_html(response.content.decode(), server.id)


def test_nova_down_is_a_clear_page(member_client: Client, fake: FakeComputeGateway) -> None:
    fake.unavailable = {"list_servers"}
    response = member_client.get("/compute/servers/")
    assert response.status_code == 503
    assert "The cloud is not answering" in response.content.decode()


def test_signed_out_visitors_go_to_sign_in(client: Client, unit_cloud: None) -> None:
    response = client.get("/compute/servers/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")


def test_the_row_partial_serves_admin_pages_for_admins_only(
    member_client: Client, admin_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm", host="compute3", project_id="p-other", task_state="spawning")
    url = f"/compute/servers/{server.id}/row/?admin=1"
    admin_row = admin_client.get(url, headers=HTMX).content.decode()
    assert "<td>compute3</td>" in admin_row and "<td>p-other</td>" in admin_row
    assert "admin=1" in admin_row  # it keeps polling as an admin row
    member_row = member_client.get(url, headers=HTMX).content.decode()
    assert "compute3" not in member_row and "admin=1" not in member_row
