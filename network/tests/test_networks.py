"""Networks, subnets and ports through the views, against the fake Neutron."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from network.tests.fakes import FakeNetworkGateway
from portal.errors import Rejected

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MODAL = {"HX-Request": "true", "HX-Target": "sd-modal-content"}


def network_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "web",
        "description": "",
        "admin_state_up": "on",
        "with_subnet": "on",
        "subnet-name": "web-a",
        "subnet-cidr": "172.31.0.0/24",
        "subnet-ip_version": "4",
        "subnet-gateway_ip": "",
        "subnet-enable_dhcp": "on",
        "subnet-allocation_pools": "",
        "subnet-dns_nameservers": "",
        "subnet-host_routes": "",
        "subnet-ipv6_mode": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def subnet_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "web-b",
        "cidr": "172.31.1.0/24",
        "ip_version": "4",
        "gateway_ip": "",
        "enable_dhcp": "on",
        "allocation_pools": "",
        "dns_nameservers": "",
        "host_routes": "",
        "ipv6_mode": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def the_network(fake: FakeNetworkGateway, name: str) -> Any:
    return next(n for n in fake.networks.values() if n.name == name)


def test_list_shows_own_shared_and_external_networks_in_three_calls(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web")
    fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="web-a")
    fake.add_other_project_network("someone-elses")
    fake.calls = 0
    page = member_client.get("/network/networks/").content.decode()
    assert fake.calls == 3  # networks, subnets and the quota, at once
    assert "web" in page and "172.31.0.0/24" in page
    assert "public1" in page and "192.168.0.0/16" in page
    assert "someone-elses" not in page
    assert "1 of 100 used" in page  # the network quota, shown before creating
    assert 'href="/network/networks/create/"' in page


def test_reader_sees_no_buttons(reader_client: Client, fake: FakeNetworkGateway) -> None:
    fake.create_network(name="web")
    page = reader_client.get("/network/networks/").content.decode()
    assert "web" in page
    assert "Create network" not in page and "Delete" not in page


def test_create_network_with_its_first_subnet(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    form = member_client.get("/network/networks/create/").content.decode()
    assert "Networks" in form and "0 of 100 used" in form
    response = member_client.post(
        "/network/networks/create/",
        network_form(**{"subnet-dns_nameservers": "8.8.8.8\n1.1.1.1"}),
    )
    net = the_network(fake, "web")
    assert response.status_code == 302
    assert response["Location"] == f"/network/networks/{net.id}/"
    (subnet,) = [s for s in fake.subnets.values() if s.network_id == net.id]
    assert (subnet.name, subnet.cidr, subnet.gateway_ip) == ("web-a", "172.31.0.0/24", "172.31.0.1")
    assert subnet.dns_nameservers == ("8.8.8.8", "1.1.1.1")
    page = member_client.get(response["Location"]).content.decode()
    assert "Network web created." in page and "172.31.0.0/24" in page


def test_create_network_without_a_subnet_ignores_the_subnet_fields(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    response = member_client.post(
        "/network/networks/create/", network_form(with_subnet=None, **{"subnet-cidr": "nonsense"})
    )
    assert response.status_code == 302
    assert the_network(fake, "web").subnet_ids == ()


def test_bad_subnet_keeps_everything_typed_and_creates_nothing(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    response = member_client.post(
        "/network/networks/create/",
        network_form(**{"subnet-cidr": "172.31.0.5/24", "subnet-dns_nameservers": "9.9.9.9"}),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "“172.31.0.5/24” has host bits set: the network address is 172.31.0.0/24." in page
    assert 'value="web"' in page and "9.9.9.9" in page and 'value="172.31.0.5/24"' in page
    assert [n.name for n in fake.networks.values()] == ["public1"]


def test_a_refused_subnet_takes_its_network_away(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    fake.refusals["create_subnet"] = Rejected("Quota exceeded for resources: ['subnet'].", 409)
    page = member_client.post("/network/networks/create/", network_form()).content.decode()
    assert "Quota exceeded for resources: [&#x27;subnet&#x27;]." in page
    assert "The subnet was refused, so the network was not kept." in page
    assert [n.name for n in fake.networks.values()] == ["public1"]


def test_network_quota_exceeded_shows_the_clouds_reason(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    fake.limits["network"] = 1
    fake.create_network(name="first")
    form = member_client.get("/network/networks/create/").content.decode()
    assert "1 of 1 used" in form and "the cloud will refuse another" in form
    response = member_client.post("/network/networks/create/", network_form(name="second"))
    assert response.status_code == 400
    assert "Quota exceeded for resources: [&#x27;network&#x27;]." in response.content.decode()


def test_modal_create_closes_the_modal_and_refreshes_the_list(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    form = member_client.get("/network/networks/create/", headers=MODAL)
    html = form.content.decode()
    assert "<html" not in html and 'name="stay"' in html  # the form alone, for the modal
    response = member_client.post(
        "/network/networks/create/", {**network_form(), "stay": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"sd:close-modal": None, "sd:changed": None}
    assert 'hx-swap-oob="beforeend"' in response.content.decode()
    assert "Network web created." in response.content.decode()
    body = member_client.get("/network/networks/", headers=HTMX).content.decode()
    assert body.startswith('\n<div id="page-body"') or 'id="page-body"' in body[:200]
    assert "web" in body


def test_update_network(member_client: Client, fake: FakeNetworkGateway) -> None:
    net = fake.create_network(name="web")
    page = member_client.get(f"/network/networks/{net.id}/edit/").content.decode()
    assert 'value="web"' in page
    response = member_client.post(
        f"/network/networks/{net.id}/edit/", {"name": "web2", "description": "front"}
    )
    assert response.status_code == 302
    assert fake.networks[net.id].name == "web2"
    assert fake.networks[net.id].description == "front"
    assert fake.networks[net.id].is_admin_state_up is False


def test_delete_network_in_use_is_refused_with_neutrons_reason(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web")
    fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4)
    fake.add_server("vm1", net.id)
    response = member_client.post(
        f"/network/networks/{net.id}/delete/", {"name": "web", "stay": "1"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "There are one or more ports still in use on the network" in html
    assert "HX-Trigger" not in response
    assert net.id in fake.networks
    # without JavaScript: back to the list, with the reason
    response = member_client.post(f"/network/networks/{net.id}/delete/", {"name": "web"})
    assert response["Location"] == "/network/networks/"
    assert "ports still in use" in member_client.get("/network/networks/").content.decode()


def test_delete_network(member_client: Client, fake: FakeNetworkGateway) -> None:
    net = fake.create_network(name="web")
    response = member_client.post(
        f"/network/networks/{net.id}/delete/", {"name": "web"}, headers=HTMX
    )
    assert response["HX-Redirect"] == "/network/networks/"
    assert net.id not in fake.networks
    assert member_client.get(f"/network/networks/{net.id}/").status_code == 404


def test_mutations_are_post_only(member_client: Client, fake: FakeNetworkGateway) -> None:
    net = fake.create_network(name="web")
    assert member_client.get(f"/network/networks/{net.id}/delete/").status_code == 405
    assert net.id in fake.networks


def test_detail_shows_subnets_and_ports_in_four_calls(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web")
    fake.create_subnet(
        network_id=net.id,
        cidr="172.31.0.0/24",
        ip_version=4,
        name="web-a",
        host_routes=[{"destination": "10.9.0.0/16", "nexthop": "172.31.0.9"}],
    )
    fake.create_subnet(network_id=net.id, cidr="fd00:31::/64", ip_version=6, name="web-v6")
    fake.add_server("vm-one", net.id)
    fake.calls = 0
    page = member_client.get(f"/network/networks/{net.id}/").content.decode()
    assert fake.calls == 4
    assert "web-a" in page and "fd00:31::/64" in page and "10.9.0.0/16 → 172.31.0.9" in page
    assert "compute:nova" in page and "vm-one" in page and "172.31.0.2" in page


def test_add_a_second_subnet_ipv4_and_ipv6(member_client: Client, fake: FakeNetworkGateway) -> None:
    net = fake.create_network(name="web")
    fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="web-a")
    url = f"/network/networks/{net.id}/subnets/create/"
    assert "1 of 100 used" in member_client.get(url).content.decode()
    response = member_client.post(
        url,
        subnet_form(
            gateway_ip="172.31.1.254",
            allocation_pools="172.31.1.10,172.31.1.99\n172.31.1.100 - 172.31.1.200",
            host_routes="10.50.0.0/24,172.31.1.5",
            enable_dhcp=None,
        ),
    )
    assert response.status_code == 302
    b = next(s for s in fake.subnets.values() if s.name == "web-b")
    assert b.gateway_ip == "172.31.1.254" and not b.is_dhcp_enabled
    assert b.allocation_pools == (("172.31.1.10", "172.31.1.99"), ("172.31.1.100", "172.31.1.200"))
    assert b.host_routes == (("10.50.0.0/24", "172.31.1.5"),)
    response = member_client.post(
        url, subnet_form(name="v6", cidr="fd00:31::/64", ip_version="6", ipv6_mode="slaac")
    )
    assert response.status_code == 302
    v6 = next(s for s in fake.subnets.values() if s.name == "v6")
    assert (v6.ip_version, v6.ipv6_address_mode, v6.ipv6_ra_mode) == (6, "slaac", "slaac")


def test_overlapping_subnet_is_refused_at_the_field(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web")
    fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="web-a")
    response = member_client.post(
        f"/network/networks/{net.id}/subnets/create/", subnet_form(cidr="172.31.0.128/25")
    )
    assert response.status_code == 400
    assert "172.31.0.128/25 overlaps subnet web-a (172.31.0.0/24) of this network." in (
        response.content.decode()
    )


def test_edit_subnet_keeps_cidr_and_changes_the_rest(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web")
    sub = fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="a")
    url = f"/network/networks/{net.id}/subnets/{sub.id}/edit/"
    page = member_client.get(url).content.decode()
    assert 'value="172.31.0.0/24"' in page and "disabled" in page
    response = member_client.post(
        url,
        subnet_form(
            name="a2", cidr="10.0.0.0/8", no_gateway="on", gateway_ip="", dns_nameservers="9.9.9.9"
        ),
    )
    assert response.status_code == 302
    edited = fake.subnets[sub.id]
    assert (edited.name, edited.cidr, edited.gateway_ip) == ("a2", "172.31.0.0/24", None)
    assert edited.dns_nameservers == ("9.9.9.9",)
    # a gateway outside the subnet is caught before Neutron sees it
    response = member_client.post(url, subnet_form(gateway_ip="10.0.0.1"))
    assert (
        "The gateway 10.0.0.1 is not a host address inside 172.31.0.0/24."
        in response.content.decode()
    )


def test_delete_subnet_in_use_then_free(member_client: Client, fake: FakeNetworkGateway) -> None:
    net = fake.create_network(name="web")
    sub = fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="a")
    port = fake.create_port(network_id=net.id, name="p1")
    url = f"/network/networks/{net.id}/subnets/{sub.id}/delete/"
    response = member_client.post(url, {"name": "a", "stay": "1"}, headers=HTMX)
    assert response.status_code == 409
    assert "One or more ports have an IP allocation from this subnet." in response.content.decode()
    fake.delete_port(port.id)
    response = member_client.post(url, {"name": "a", "stay": "1"}, headers=HTMX)
    assert response.status_code == 200 and "Subnet a deleted." in response.content.decode()
    assert sub.id not in fake.subnets


def test_create_port_with_fixed_ip_and_security_groups(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web")
    sub = fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="a")
    web = fake.create_security_group("web")
    url = f"/network/networks/{net.id}/ports/create/"
    form = member_client.get(url).content.decode()
    assert "Ports" in form and "default" in form and "web" in form
    data = {
        "name": "vip",
        "subnet_id": "",
        "ip_address": "172.31.0.50",
        "security_group_ids": [web.id, fake.default_group.id],
        "admin_state_up": "on",
    }
    response = member_client.post(url, data)
    assert response.status_code == 302
    port = next(p for p in fake.ports.values() if p.name == "vip")
    assert port.fixed_ips[0].ip_address == "172.31.0.50" and port.fixed_ips[0].subnet_id == sub.id
    assert set(port.security_group_ids) == {web.id, fake.default_group.id}
    # an address outside every subnet, and one already taken
    response = member_client.post(url, {**data, "ip_address": "10.1.1.1"})
    assert (
        "10.1.1.1 is not a host address in any subnet of this network." in response.content.decode()
    )
    response = member_client.post(url, {**data, "ip_address": "172.31.0.50"})
    assert "IP address 172.31.0.50 already allocated" in response.content.decode()


def test_delete_port(member_client: Client, fake: FakeNetworkGateway) -> None:
    net = fake.create_network(name="web")
    fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4)
    port = fake.create_port(network_id=net.id, name="spare")
    page = member_client.get(f"/network/networks/{net.id}/").content.decode()
    assert "Delete port spare" in page
    response = member_client.post(
        f"/network/networks/{net.id}/ports/{port.id}/delete/", {"name": "spare"}
    )
    assert response.status_code == 302 and port.id not in fake.ports


def test_missing_network_is_a_404_page(member_client: Client, fake: FakeNetworkGateway) -> None:
    response = member_client.get("/network/networks/nope/")
    assert response.status_code == 404
    assert "Network nope could not be found." in response.content.decode()


def test_a_form_opened_from_another_page_returns_there(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    """The compute app's launch wizard can send people to create a port and get them back."""
    net = fake.create_network(name="web")
    fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4)
    url = f"/network/networks/{net.id}/ports/create/"
    form = member_client.get(url + "?next=/compute/launch/").content.decode()
    assert '<input type="hidden" name="next" value="/compute/launch/">' in form
    response = member_client.post(url, {"name": "p", "next": "/compute/launch/"})
    assert response["Location"] == "/compute/launch/"
    form = member_client.get(url + "?next=https://elsewhere.example/").content.decode()
    assert 'name="next" value="https' not in form  # only pages of this portal
