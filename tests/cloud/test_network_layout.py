"""The seed's demo layout, built and torn down through the portal on the real cloud.

In a throwaway project: a network with subnets 172.31.0.0/24 and 172.31.1.0/24, a router with
its gateway on public1 and both interfaces, security group "2d-was" with ingress TCP 8080,
8443, 9089 and 9099 from 0.0.0.0/0, a port with a fixed IP, and a floating IP associated with
a server booted there (with the SDK: launching is the compute app's). Then everything goes
again through the portal, the router with a real worker (delete_router is a job).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from portal.models import Operation
from tests.conftest import page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

WAS_PORTS = (8080, 8443, 9089, 9099)


def post(client: Client, url: str, data: dict[str, Any], expect: int = 302) -> str:
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == expect, page_errors(html) or html[:2000]
    return response.get("Location", "") if expect == 302 else html


def subnet(name: str, cidr: str, prefix: str = "") -> dict[str, str]:
    fields = {
        "name": name,
        "cidr": cidr,
        "ip_version": "4",
        "gateway_ip": "",
        "enable_dhcp": "on",
        "allocation_pools": "",
        "dns_nameservers": "",
        "host_routes": "",
        "ipv6_mode": "",
    }
    return {prefix + k: v for k, v in fields.items()}


def rule(port: int) -> dict[str, str]:
    return {
        "direction": "ingress",
        "ether_type": "IPv4",
        "protocol": "tcp",
        "port": str(port),
        "remote": "cidr",
        "remote_ip_prefix": "0.0.0.0/0",
        "description": "",
    }


def wait_for_job(kind: str, target: str) -> Operation:
    op = Operation.objects.get(kind=kind, target=target)
    deadline = time.monotonic() + 90
    while op.state not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        op.refresh_from_db()
    return op


def test_build_and_tear_down_the_2d_was_layout(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any, start_worker: Any
) -> None:
    tenant = make_tenant("net-layout")
    sdk = tenant.conn
    public = sdk_admin.network.find_network("public1")
    client = tenant.sign_in(Client())

    # --- networks and subnets ---------------------------------------------------------------
    listing = client.get("/network/networks/").content.decode()
    assert "public1" in listing and "192.168.0.0/16" in listing and "0 of 100 used" in listing
    data = {"name": "was-net", "admin_state_up": "on", "with_subnet": "on"}
    detail = post(
        client, "/network/networks/create/", {**data, **subnet("was-a", "172.31.0.0/24", "subnet-")}
    )
    network = sdk.network.find_network("was-net")
    assert detail == f"/network/networks/{network.id}/"
    page = post(
        client,
        f"/network/networks/{network.id}/subnets/create/",
        subnet("was-b", "172.31.0.0/25"),
        400,
    )
    assert "overlaps subnet was-a (172.31.0.0/24)" in page
    post(
        client, f"/network/networks/{network.id}/subnets/create/", subnet("was-b", "172.31.1.0/24")
    )
    cidrs = {s.name: s.cidr for s in sdk.network.subnets(network_id=network.id)}
    assert cidrs == {"was-a": "172.31.0.0/24", "was-b": "172.31.1.0/24"}

    # --- router: gateway on public1, both interfaces, a static route --------------------------
    post(
        client,
        "/network/routers/create/",
        {"name": "was-router", "admin_state_up": "on", "external_network_id": public.id},
    )
    router = sdk.network.find_router("was-router")
    assert router.external_gateway_info["network_id"] == public.id
    for subnet_id in (s.id for s in sdk.network.subnets(network_id=network.id)):
        post(client, f"/network/routers/{router.id}/interfaces/add/", {"subnet_id": subnet_id})
    post(
        client,
        f"/network/routers/{router.id}/routes/add/",
        {"destination": "10.50.0.0/24", "nexthop": "172.31.0.60"},
    )
    page = client.get(f"/network/routers/{router.id}/").content.decode()
    assert "172.31.0.1" in page and "172.31.1.1" in page and "10.50.0.0/24" in page
    assert "public1" in page

    # --- security group 2d-was --------------------------------------------------------------
    group_url = post(
        client, "/network/security-groups/create/", {"name": "2d-was", "description": "WAS"}
    )
    group = sdk.network.find_security_group("2d-was")
    assert group_url == f"/network/security-groups/{group.id}/"
    for port in WAS_PORTS:
        post(client, f"/network/security-groups/{group.id}/rules/create/", rule(port))
    page = post(client, f"/network/security-groups/{group.id}/rules/create/", rule(8080), 400)
    assert "This group already has a rule exactly like this one." in page
    ingress = {
        (r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix)
        for r in sdk.network.security_group_rules(security_group_id=group.id, direction="ingress")
    }
    assert ingress == {("tcp", p, p, "0.0.0.0/0") for p in WAS_PORTS}

    # --- a port with a fixed IP and security groups (what the launch wizard uses) -----------
    post(
        client,
        f"/network/networks/{network.id}/ports/create/",
        {
            "name": "was-vip",
            "subnet_id": "",
            "ip_address": "172.31.1.50",
            "security_group_ids": [group.id],
            "admin_state_up": "on",
        },
    )
    vip = sdk.network.find_port("was-vip")
    assert [ip["ip_address"] for ip in vip.fixed_ips] == ["172.31.1.50"]
    assert vip.security_group_ids == [group.id]

    # --- a server, and a floating IP on its port -----------------------------------------------
    image = next(i for i in sdk.image.images(visibility="public") if i.status == "active")
    server = sdk.compute.create_server(
        name="was-1",
        flavor_id=sdk.compute.find_flavor("m1.nano").id,
        image_id=image.id,
        networks=[{"uuid": network.id}],
        security_groups=[{"name": "2d-was"}],
    )
    worker = start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))  # meanwhile
    sdk.compute.wait_for_server(server, status="ACTIVE", wait=180)
    (server_port,) = sdk.network.ports(device_id=server.id)
    fixed = server_port.fixed_ips[0]["ip_address"]

    sdk_admin.set_network_quotas(tenant.project.id, floatingip=1)
    form = client.get("/network/floating-ips/allocate/").content.decode()
    assert "0 of 1 used" in form and "public1" in form
    page = post(
        client,
        "/network/floating-ips/allocate/",
        {"floating_network_id": public.id, "floating_ip_address": "192.168.254.254"},
        400,
    )
    assert "disallowed by policy" in page  # members may not choose the address here
    post(client, "/network/floating-ips/allocate/", {"floating_network_id": public.id})
    page = post(client, "/network/floating-ips/allocate/", {"floating_network_id": public.id}, 400)
    assert "Quota exceeded for resources: [&#x27;floatingip&#x27;]." in page
    (fip,) = sdk.network.ips(project_id=tenant.project.id)
    form = client.get(f"/network/floating-ips/{fip.id}/associate/").content.decode()
    assert f"was-1: {fixed}" in form
    post(
        client,
        f"/network/floating-ips/{fip.id}/associate/",
        {"target": f"{server_port.id} {fixed}"},
    )
    fip = sdk.network.get_ip(fip.id)
    assert (fip.port_id, fip.fixed_ip_address, fip.router_id) == (server_port.id, fixed, router.id)
    page = client.get("/network/floating-ips/").content.decode()
    assert fip.floating_ip_address in page and fixed in page and "was-1" in page

    # --- what the pages show ------------------------------------------------------------------
    page = client.get("/network/networks/").content.decode()
    assert "172.31.0.0/24" in page and "172.31.1.0/24" in page
    page = client.get(f"/network/networks/{network.id}/").content.decode()
    assert "compute:nova" in page and "network:router_interface" in page and "172.31.1.50" in page
    svg = client.get("/network/topology/").content.decode()
    assert 'aria-label="Router was-router"' in svg and 'aria-label="Network was-net"' in svg
    assert 'aria-label="External network public1"' in svg and "was-1" in svg
    assert re.search(rf'href="/network/routers/{router.id}/"', svg)
    other = portal_sign_in(Client(), "study1")  # another project sees none of it
    assert other.get(f"/network/networks/{network.id}/").status_code == 404
    assert other.get(f"/network/routers/{router.id}/").status_code == 404

    # --- tear down through the portal ---------------------------------------------------------
    client.post(f"/network/networks/{network.id}/delete/", {"name": "was-net"})
    page = client.get("/network/networks/").content.decode()
    assert "There are one or more ports still in use on the network" in page
    post(
        client,
        f"/network/floating-ips/{fip.id}/disassociate/",
        {"address": fip.floating_ip_address},
    )
    assert sdk.network.get_ip(fip.id).port_id is None
    post(client, f"/network/floating-ips/{fip.id}/release/", {"address": fip.floating_ip_address})
    post(client, f"/network/networks/{network.id}/ports/{vip.id}/delete/", {"name": "was-vip"})
    sdk.compute.delete_server(server)  # instances are the compute app's
    job_url = post(client, f"/network/routers/{router.id}/delete/", {"name": "was-router"})
    assert job_url.startswith("/operations/")
    op = wait_for_job("delete_router", router.id)
    assert op.state == "succeeded", (op.error, op.log, worker.logfile.read_text()[-2000:])
    assert sorted(op.result["interfaces_removed"]) == ["172.31.0.1", "172.31.1.1"]
    assert sdk.network.find_router(router.id) is None
    sdk.compute.wait_for_delete(server, wait=120)
    post(client, f"/network/security-groups/{group.id}/delete/", {"name": "2d-was"})
    post(client, f"/network/networks/{network.id}/delete/", {"name": "was-net"})
    assert sdk.network.find_network(network.id) is None
    assert [g.name for g in sdk.network.security_groups(project_id=tenant.project.id)] == [
        "default"
    ]
    assert not list(sdk.network.ips(project_id=tenant.project.id))
    page = client.get("/network/networks/").content.decode()
    assert "Network was-net deleted." in page
