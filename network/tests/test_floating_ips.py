"""Floating IPs: allocate (optionally a given address), associate with an instance's port,
disassociate, release."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from network.tests.fakes import FakeNetworkGateway
from portal.errors import Rejected

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def wired(fake: FakeNetworkGateway) -> Any:
    """A network reachable from public1 (router with gateway and interface) and an instance."""
    net = fake.create_network(name="was-net")
    sub = fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="a")
    router = fake.create_router("was-router", True, fake.public_id)
    fake.add_interface_to_router(router.id, subnet_id=sub.id)
    return fake.add_server("was-1", net.id, "172.31.0.10")


def test_allocate_from_the_pool(member_client: Client, fake: FakeNetworkGateway) -> None:
    form = member_client.get("/network/floating-ips/allocate/").content.decode()
    assert "public1" in form and "0 of 50 used" in form
    response = member_client.post(
        "/network/floating-ips/allocate/",
        {"floating_network_id": fake.public_id, "description": "web"},
    )
    assert response["Location"] == "/network/floating-ips/"
    (fip,) = fake.fips.values()
    assert fip.description == "web"
    page = member_client.get("/network/floating-ips/").content.decode()
    assert f"Floating IP {fip.floating_ip_address} allocated." in page and "public1" in page


def test_allocate_a_specific_address(member_client: Client, fake: FakeNetworkGateway) -> None:
    url = "/network/floating-ips/allocate/"
    response = member_client.post(
        url, {"floating_network_id": fake.public_id, "floating_ip_address": "10.0.0.5"}
    )
    assert "10.0.0.5 is not in this pool (192.168.0.0/16)." in response.content.decode()
    response = member_client.post(
        url, {"floating_network_id": fake.public_id, "floating_ip_address": "nope"}
    )
    assert "“nope” is not an IP address." in response.content.decode()
    response = member_client.post(
        url, {"floating_network_id": fake.public_id, "floating_ip_address": "192.168.200.200"}
    )
    assert response.status_code == 302
    assert [f.floating_ip_address for f in fake.fips.values()] == ["192.168.200.200"]
    # the cloud's policy may forbid choosing: its reason is shown and the form stays filled
    fake.refusals["create_floating_ip"] = Rejected(
        "(rule:create_floatingip and rule:create_floatingip:floating_ip_address) "
        "is disallowed by policy",
        403,
    )
    response = member_client.post(
        url, {"floating_network_id": fake.public_id, "floating_ip_address": "192.168.200.201"}
    )
    html = response.content.decode()
    assert 'value="192.168.200.201"' in html
    field_errors = re.findall(r'class="invalid-feedback d-block">([^<]*)<', html)
    assert field_errors == [
        "The cloud&#x27;s policy does not allow this: (rule:create_floatingip and "
        "rule:create_floatingip:floating_ip_address) is disallowed by policy"
    ]


def test_allocate_quota(member_client: Client, fake: FakeNetworkGateway) -> None:
    fake.limits["floatingip"] = 0
    response = member_client.post(
        "/network/floating-ips/allocate/", {"floating_network_id": fake.public_id}
    )
    assert "Quota exceeded for resources: [&#x27;floatingip&#x27;]." in response.content.decode()


def test_associate_disassociate_release(member_client: Client, fake: FakeNetworkGateway) -> None:
    server = wired(fake)
    fip = fake.create_floating_ip(fake.public_id)
    url = f"/network/floating-ips/{fip.id}/associate/"
    fake.calls = 0
    form = member_client.get(url).content.decode()
    assert fake.calls == 4
    assert "was-1: 172.31.0.10" in form
    port = next(p for p in fake.ports.values() if p.device_id == server.id)
    response = member_client.post(url, {"target": f"{port.id} 172.31.0.10"})
    assert response["Location"] == "/network/floating-ips/"
    assert fake.fips[fip.id].port_id == port.id
    fake.calls = 0
    page = member_client.get("/network/floating-ips/").content.decode()
    assert fake.calls == 4
    assert (
        "172.31.0.10" in page
        and "was-1" in page
        and f"Disassociate {fip.floating_ip_address}" in page
    )
    # an associated address is not offered again
    other = fake.create_floating_ip(fake.public_id)
    assert (
        "was-1: 172.31.0.10"
        not in member_client.get(f"/network/floating-ips/{other.id}/associate/").content.decode()
    )

    response = member_client.post(
        f"/network/floating-ips/{fip.id}/disassociate/",
        {"address": fip.floating_ip_address, "stay": "1"},
        headers=HTMX,
    )
    assert f"Floating IP {fip.floating_ip_address} disassociated." in response.content.decode()
    assert fake.fips[fip.id].port_id is None
    response = member_client.post(
        f"/network/floating-ips/{fip.id}/release/", {"address": fip.floating_ip_address}
    )
    assert response.status_code == 302 and fip.id not in fake.fips


def test_unreachable_port_shows_neutrons_reason(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="island")
    fake.create_subnet(network_id=net.id, cidr="10.9.0.0/24", ip_version=4)
    server = fake.add_server("lonely", net.id)
    port = next(p for p in fake.ports.values() if p.device_id == server.id)
    fip = fake.create_floating_ip(fake.public_id)
    response = member_client.post(
        f"/network/floating-ips/{fip.id}/associate/",
        {"target": f"{port.id} {port.fixed_ips[0].ip_address}"},
    )
    assert response.status_code == 400
    assert "is not reachable from subnet" in response.content.decode()


def test_only_instance_ports_are_offered(member_client: Client, fake: FakeNetworkGateway) -> None:
    wired(fake)
    net = next(n for n in fake.networks.values() if n.name == "was-net")
    fake.create_port(network_id=net.id, name="loose")
    fip = fake.create_floating_ip(fake.public_id)
    form = member_client.get(
        f"/network/floating-ips/{fip.id}/associate/", headers=HTMX
    ).content.decode()
    assert form.count("<option") == 1 and "was-1" in form and "loose" not in form
