"""Admin › Networks, Routers and Floating IPs: every project's, with its name; provider
networks; and nobody else gets in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from network.forms import ProviderNetworkForm
from network.tests.fakes import ADMIN_PROJECT, OTHER_PROJECT, FakeNetworkGateway

pytestmark = pytest.mark.django_db

ADMIN_URLS = [
    "/network/admin/networks/",
    "/network/admin/networks/create/",
    "/network/admin/routers/",
    "/network/admin/floating-ips/",
]


def provider(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "ext-vlan",
        "project_id": ADMIN_PROJECT,
        "provider_network_type": "vlan",
        "provider_physical_network": "public",
        "provider_segmentation_id": "3001",
        "is_shared": "on",
        "is_router_external": "on",
        "admin_state_up": "on",
        "description": "",
        "with_subnet": "on",
        "subnet-name": "ext-vlan-subnet",
        "subnet-cidr": "203.0.113.0/24",
        "subnet-ip_version": "4",
        "subnet-gateway_ip": "",
        "subnet-allocation_pools": "203.0.113.10,203.0.113.200",
        "subnet-dns_nameservers": "",
        "subnet-host_routes": "",
        "subnet-ipv6_mode": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_members_are_turned_away(member_client: Client, fake: FakeNetworkGateway, url: str) -> None:
    assert member_client.get(url).status_code == 403
    assert fake.calls == 0


def test_admin_networks_of_every_project(admin_client: Client, fake: FakeNetworkGateway) -> None:
    fake.add_other_project_network("study-net")
    fake.create_network(name="demo-net")
    fake.calls = 0
    page = admin_client.get("/network/admin/networks/").content.decode()
    assert fake.calls == 3
    assert "study-net" in page and "study1" in page and "demo-net" in page and "demo" in page
    assert "public1" in page and "192.168.0.0/16" in page


def test_create_a_shared_external_provider_network(
    admin_client: Client, fake: FakeNetworkGateway
) -> None:
    form = admin_client.get("/network/admin/networks/create/").content.decode()
    assert "Provider network type" in form and "study1" in form
    response = admin_client.post("/network/admin/networks/create/", provider())
    assert response["Location"] == "/network/admin/networks/"
    net = next(n for n in fake.networks.values() if n.name == "ext-vlan")
    assert (net.project_id, net.is_shared, net.is_router_external) == (ADMIN_PROJECT, True, True)
    assert (
        net.provider_network_type,
        net.provider_physical_network,
        net.provider_segmentation_id,
    ) == (
        "vlan",
        "public",
        3001,
    )
    (subnet_id,) = net.subnet_ids
    assert fake.subnets[subnet_id].allocation_pools == (("203.0.113.10", "203.0.113.200"),)
    page = admin_client.get("/network/admin/networks/").content.decode()
    assert "vlan · public · 3001" in page


def test_network_for_another_project(admin_client: Client, fake: FakeNetworkGateway) -> None:
    data = provider(
        project_id=OTHER_PROJECT,
        provider_network_type="vxlan",
        provider_physical_network="",
        provider_segmentation_id="",
        is_shared=None,
        is_router_external=None,
        with_subnet=None,
    )
    assert admin_client.post("/network/admin/networks/create/", data).status_code == 302
    net = next(n for n in fake.networks.values() if n.name == "ext-vlan")
    assert net.project_id == OTHER_PROJECT and not net.is_shared


def test_neutrons_refusal_of_a_second_flat_network(
    admin_client: Client, fake: FakeNetworkGateway
) -> None:
    data = provider(provider_network_type="flat", provider_segmentation_id="")
    assert admin_client.post("/network/admin/networks/create/", data).status_code == 302
    response = admin_client.post("/network/admin/networks/create/", {**data, "name": "again"})
    assert "Physical network public is in use." in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"provider_physical_network": ""},
            "provider_physical_network",
            "A vlan network needs a physical network.",
        ),
        (
            {"provider_segmentation_id": ""},
            "provider_segmentation_id",
            "A VLAN network needs a VLAN ID.",
        ),
        ({"provider_segmentation_id": "4095"}, "provider_segmentation_id", "between 1 and 4094"),
        (
            {"provider_network_type": "flat"},
            "provider_segmentation_id",
            "A flat network has no segmentation ID.",
        ),
        (
            {"provider_network_type": "vxlan"},
            "provider_physical_network",
            "A vxlan network has no physical network.",
        ),
        ({"project_id": "p-nope"}, "project_id", "Select a valid choice."),
    ],
)
def test_provider_fields_are_checked(changes: dict[str, Any], field: str, message: str) -> None:
    projects = [(ADMIN_PROJECT, "admin"), (OTHER_PROJECT, "study1")]
    form = ProviderNetworkForm(provider(**changes), projects=projects)
    assert not form.is_valid()
    assert any(message in e for e in form.errors.get(field, [])), form.errors


def test_admin_routers_and_floating_ips(admin_client: Client, fake: FakeNetworkGateway) -> None:
    router = fake.create_router("demo-router", True, fake.public_id)
    fip = fake.create_floating_ip(fake.public_id)
    fake.calls = 0
    page = admin_client.get("/network/admin/routers/").content.decode()
    assert fake.calls == 3
    assert "demo-router" in page and "demo" in page and router.external_ips[0].ip_address in page
    page = admin_client.get("/network/admin/floating-ips/").content.decode()
    assert (
        fip.floating_ip_address in page
        and "public1" in page
        and f"Release {fip.floating_ip_address}" in page
    )
    response = admin_client.post(
        f"/network/floating-ips/{fip.id}/release/",
        {"address": fip.floating_ip_address, "next": "/network/admin/floating-ips/"},
    )
    assert response["Location"] == "/network/admin/floating-ips/" and fip.id not in fake.fips
