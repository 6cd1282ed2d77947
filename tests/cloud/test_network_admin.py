"""Admin › Networks, Routers, Floating IPs on the real cloud: every project's resources with
their project, and a shared external provider network created and removed through the portal.

The devcloud's ML2 has physnet "public": flat on it is taken by public1, so a second flat
network is refused (the portal shows Neutron's reason); VLANs on "public" are free to use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


def provider_form(name: str, **changes: str) -> dict[str, str]:
    data = {
        "name": name,
        "project_id": "",
        "provider_network_type": "vlan",
        "provider_physical_network": "public",
        "provider_segmentation_id": "",
        "is_shared": "on",
        "is_router_external": "on",
        "admin_state_up": "on",
        "description": "",
        "with_subnet": "on",
        "subnet-name": name + "-subnet",
        "subnet-cidr": "198.51.100.0/24",
        "subnet-ip_version": "4",
        "subnet-gateway_ip": "",
        "subnet-enable_dhcp": "",
        "subnet-allocation_pools": "198.51.100.10,198.51.100.200",
        "subnet-dns_nameservers": "",
        "subnet-host_routes": "",
        "subnet-ipv6_mode": "",
    }
    data.update(changes)
    return data


def test_admin_sees_every_project_and_makes_a_provider_network(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("net-admin")
    public = sdk_admin.network.find_network("public1")
    router = tenant.conn.network.create_router(
        name="tenant-router", external_gateway_info={"network_id": public.id}
    )
    fip = tenant.conn.network.create_ip(floating_network_id=public.id)
    admin_project = sdk_admin.identity.find_project("admin")
    admin = portal_sign_in(Client(), "admin", project_id=admin_project.id)

    page = admin.get("/network/admin/routers/").content.decode()
    assert "tenant-router" in page and tenant.name in page
    page = admin.get("/network/admin/floating-ips/").content.decode()
    assert fip.floating_ip_address in page and tenant.name in page
    response = admin.post(
        f"/network/floating-ips/{fip.id}/release/",
        {"address": fip.floating_ip_address, "next": "/network/admin/floating-ips/"},
    )
    assert response["Location"] == "/network/admin/floating-ips/"
    assert tenant.conn.network.find_ip(fip.id) is None
    page = admin.get(f"/network/routers/{router.id}/").content.decode()
    assert "tenant-router" in page  # an admin opens any project's router

    # an admin may ask for a specific floating IP address (members may not: see the layout test)
    for _attempt in range(5):
        address = f"192.168.{250 + os.urandom(1)[0] % 5}.{2 + os.urandom(1)[0] % 250}"
        response = admin.post(
            "/network/floating-ips/allocate/",
            {"floating_network_id": public.id, "floating_ip_address": address},
        )
        if response.status_code == 302 or "already allocated" not in response.content.decode():
            break
    assert response.status_code == 302, page_errors(response.content.decode())
    (mine,) = sdk_admin.network.ips(floating_ip_address=address)
    try:
        assert mine.project_id == admin_project.id
        admin.post(f"/network/floating-ips/{mine.id}/release/", {"address": address})
        assert sdk_admin.network.find_ip(mine.id) is None
    finally:  # the admin project is shared: leave nothing behind
        sdk_admin.network.delete_ip(mine, ignore_missing=True)

    name = "adm-ext-" + os.urandom(3).hex()
    flat = provider_form(name, provider_network_type="flat", project_id=admin_project.id)
    response = admin.post("/network/admin/networks/create/", flat)
    assert response.status_code == 400
    assert "Physical network public is in use." in response.content.decode()

    network = None
    try:
        for _attempt in range(5):  # another test may hold the VLAN we picked
            vlan = str(2000 + int.from_bytes(os.urandom(2), "big") % 2000)
            data = provider_form(name, provider_segmentation_id=vlan, project_id=admin_project.id)
            response = admin.post("/network/admin/networks/create/", data)
            if response.status_code == 302 or "is in use" not in response.content.decode():
                break
        assert response.status_code == 302, page_errors(response.content.decode())
        network = sdk_admin.network.find_network(name)
        assert network.provider_network_type == "vlan"
        assert network.provider_physical_network == "public"
        assert str(network.provider_segmentation_id) == vlan
        assert network.is_shared and network.is_router_external
        (subnet,) = sdk_admin.network.subnets(network_id=network.id)
        assert subnet.cidr == "198.51.100.0/24"
        assert subnet.allocation_pools == [{"start": "198.51.100.10", "end": "198.51.100.200"}]
        page = admin.get("/network/admin/networks/").content.decode()
        assert f"vlan · public · {vlan}" in page and "public1" in page and tenant.name not in page

        # every project now sees it, and may take floating IPs from it
        member = tenant.sign_in(Client())
        assert name in member.get("/network/networks/").content.decode()
        assert name in member.get("/network/floating-ips/allocate/").content.decode()

        response = admin.post(
            f"/network/networks/{network.id}/delete/",
            {"name": name, "next": "/network/admin/networks/"},
        )
        assert response["Location"] == "/network/admin/networks/"
        assert sdk_admin.network.find_network(network.id) is None
        network = None
        assert f"Network {name} deleted." in admin.get("/network/admin/networks/").content.decode()
    finally:
        if network is not None:  # a shared network must not outlive a failed test
            sdk_admin.network.delete_network(network, ignore_missing=True)
