"""The instance detail page and its tabs: Overview, Log, Console, Action Log."""

from __future__ import annotations

import pytest
from django.test import Client

from compute import gateway as g
from compute.tests.fakes import NO_VALID_HOST, FakeComputeGateway
from portal.errors import Rejected

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def detail(client: Client, server: g.Server, query: str = "", **headers: str) -> str:
    return client.get(f"/compute/servers/{server.id}/{query}", headers=headers).content.decode()


def test_overview_shows_specs_addresses_groups_and_metadata(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server(
        "web-1",
        description="front end",
        key_name="mykey",
        metadata=(("role", "web"),),
        flavor=g.FlavorSpec("m1.small", 1, 2048, 20),
        addresses=(
            g.Address("private", "10.0.0.5", "fixed", 4, "fa:16:3e:00:00:01"),
            g.Address("private", "192.168.0.9", "floating", 4),
        ),
        host="compute2",
    )
    fake.add_port(server.id, ip="10.0.0.5")
    html = detail(member_client, server)
    for text in (
        "web-1",
        "front end",
        "m1.small",
        "1 vCPU, 2048 MB RAM, 20 GB disk",
        "cirros",
        "mykey",
        "role",
        "10.0.0.5",
        "192.168.0.9",
        "fa:16:3e:00:00:01",
        "Default security group" if False else "default",
        "egress",
    ):
        assert text in html, text
    assert "compute2" not in html  # the host is for admins only
    assert ">Shut off<" in html and ">Create snapshot<" in html


def test_admins_see_the_host(admin_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("web-1", host="compute2")
    assert "compute2" in detail(admin_client, server)


def test_overview_costs_one_round_of_calls(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("web-1")
    detail(member_client, server)
    assert sum(fake.calls.values()) == 5 and fake.calls["get_server"] == 1


def test_error_detail_shows_the_fault_and_a_hint(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("big", vm_state="error", fault_message=NO_VALID_HOST)
    html = detail(member_client, server)
    assert "Nova reports a fault:" in html and NO_VALID_HOST in html
    assert "No compute host has room for this flavor right now." in html


def test_log_tab_shows_the_last_lines_and_refreshes(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    fake.servers[server.id].console = "\n".join(f"line {i}" for i in range(1, 201))
    html = detail(member_client, server, "?tab=log")
    assert "line 200" in html and "line 166" in html and "line 165\n" not in html
    everything = detail(member_client, server, "?tab=log&lines=0", HX_Request="true")
    assert "line 1\n" in everything and "<html" not in everything
    assert '<option value="0" selected>' in everything
    hundred = detail(member_client, server, "?tab=log&lines=100")
    assert "line 101" in hundred and "line 100\n" not in hundred


def test_console_tab_embeds_the_cloud_console(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    html = detail(member_client, server, "?tab=console")
    url = f"http://console.test:6080/vnc_auto.html?path=%3Ftoken%3D{server.id}"
    assert f'<iframe class="w-100 border rounded" style="height: 32rem" src="{url}"' in html
    assert f'href="{url}" target="_blank"' in html and "Open the console in its own window" in html


def test_console_refusal_is_shown_in_the_tab(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("off", vm_state="stopped")
    html = detail(member_client, server, "?tab=console")
    assert "is not ready" in html and "<iframe" not in html
    assert "web-1" not in html and "off" in html  # the rest of the page stands


def test_action_log_lists_novas_instance_actions(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    member_client.post(f"/compute/servers/{server.id}/stop/")
    fake.settle()
    fake.servers[server.id].actions[0] = g.ServerAction(
        "stop", "req-abc123", "u-member", None, "Powered off by the user"
    )
    html = detail(member_client, server, "?tab=actions")
    assert "req-abc123" in html and "u-member" in html and "Powered off by the user" in html


def test_the_header_polls_while_the_server_changes(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    member_client.post(f"/compute/servers/{server.id}/reboot/")
    html = detail(member_client, server)
    assert f'hx-get="/compute/servers/{server.id}/?part=header"' in html
    polling = member_client.get(f"/compute/servers/{server.id}/?part=header", headers=HTMX)
    assert polling.status_code == 200 and "rebooting" in polling.content.decode()
    fake.settle()
    done = member_client.get(f"/compute/servers/{server.id}/?part=header", headers=HTMX)
    assert done.status_code == 286 and "every 2s" not in done.content.decode()


def test_a_tab_switch_renders_the_tab_only(member_client: Client, fake: FakeComputeGateway) -> None:
    server = fake.add_server("web-1")
    html = detail(member_client, server, "?tab=actions", HX_Request="true")
    assert html.strip().startswith('<div id="server-tab">')
    assert 'aria-current="page"' in html and ">Action Log<" in html


def test_unknown_server_is_a_404(member_client: Client, fake: FakeComputeGateway) -> None:
    response = member_client.get("/compute/servers/does-not-exist/")
    assert response.status_code == 404


def test_policy_refusal_of_the_log_is_shown_in_the_tab(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("web-1")
    fake.refusals["get_server_console_output"] = Rejected(
        "Policy doesn't allow os_compute_api:os-console-output to be performed.", 403
    )
    html = detail(member_client, server, "?tab=log")
    assert "Policy doesn" in html and "Your role in this project does not allow this." in html
