"""The topology picture: drawn on the server, every element linking to its page."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from network import topology
from network.tests.fakes import FakeNetworkGateway

pytestmark = pytest.mark.django_db


def test_topology_draws_networks_routers_and_instances_in_five_calls(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="was-net")
    a = fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4)
    b = fake.create_subnet(network_id=net.id, cidr="172.31.1.0/24", ip_version=4)
    router = fake.create_router("was-router", True, fake.public_id)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    fake.add_interface_to_router(router.id, subnet_id=b.id)
    server = fake.add_server("was-1", net.id, "172.31.0.10")
    fake.add_other_project_network("not-ours")
    fake.calls = 0
    page = member_client.get("/network/topology/").content.decode()
    assert fake.calls == 5
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert f'href="/network/networks/{net.id}/"' in svg and 'aria-label="Network was-net"' in svg
    assert f'href="/network/networks/{fake.public_id}/"' in svg
    assert 'aria-label="External network public1"' in svg
    assert (
        f'href="/network/routers/{router.id}/"' in svg and 'aria-label="Router was-router"' in svg
    )
    assert "172.31.0.0/24" in svg and "172.31.1.0/24" in svg
    assert "172.31.0.1, 172.31.1.1" in svg  # the router's two interfaces on was-net
    assert router.external_ips[0].ip_address in svg  # and its gateway on public1
    assert "was-1" in svg and "172.31.0.10" in svg
    assert "not-ours" not in svg
    assert server.name in svg


def test_instances_are_drawn_without_a_link_while_compute_has_no_page(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="n")
    fake.create_subnet(network_id=net.id, cidr="10.0.0.0/24", ip_version=4)
    server = fake.add_server("vm", net.id)

    def no_compute_page(name: str, args: list[str] | None = None) -> str:
        if name.startswith("compute:"):
            raise NoReverseMatch(name)
        return reverse(name, args=args)

    with mock.patch("network.views.reverse", no_compute_page):
        page = member_client.get("/network/topology/").content.decode()
    assert "vm" in page and f"/{server.id}/" not in page


def test_instances_link_to_the_compute_page_when_it_exists(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="n")
    fake.create_subnet(network_id=net.id, cidr="10.0.0.0/24", ip_version=4)
    server = fake.add_server("vm", net.id)
    with mock.patch("network.views.server_url", lambda sid: f"/compute/servers/{sid}/"):
        page = member_client.get("/network/topology/").content.decode()
    assert re.search(
        rf'<a href="/compute/servers/{server.id}/"[^>]* aria-label="Instance vm">', page
    )


def test_names_are_escaped_in_the_picture(member_client: Client, fake: FakeNetworkGateway) -> None:
    fake.create_network(name='<script>alert("x")</script>')
    page = member_client.get("/network/topology/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_empty_project(member_client: Client, fake: FakeNetworkGateway) -> None:
    fake.networks.clear()
    page = member_client.get("/network/topology/").content.decode()
    assert "This project has no networks, routers or instances yet." in page


def test_layout_geometry() -> None:
    """Columns and rows follow the lists: each device on its own row, lines end at the
    farthest network the device joins, and the picture is as big as its contents."""
    fake = FakeNetworkGateway()
    nets = [fake.create_network(name=f"net{i}") for i in range(3)]
    for i, n in enumerate(nets):
        fake.create_subnet(network_id=n.id, cidr=f"10.{i}.0.0/24", ip_version=4)
    vm = fake.add_server("vm", nets[1].id)
    picture = topology.draw(
        fake.project_id,
        fake.list_networks(),
        fake.list_subnets(),
        fake.list_routers(),
        fake.list_ports(),
        fake.list_servers(),
        lambda _sid: None,
    )
    assert [b.name for b in picture.bars] == ["public1", "net0", "net1", "net2"]
    xs = [b.x for b in picture.bars]
    assert xs == sorted(xs) and len(set(xs)) == 4
    (node,) = picture.nodes
    assert node.name == vm.name and node.line_end == picture.bars[2].x
    assert picture.width > xs[-1] and picture.height > node.y + node.height
    assert re.fullmatch(r"10\.1\.0\.\d+", node.joints[0].address)
