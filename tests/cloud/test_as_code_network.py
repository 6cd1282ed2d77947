"""Show as code on the real Neutron: for a network with its first subnet, a security group with
a rule, and a router with its gateway on public1, the change is made three ways (the portal's
form, the panel's `openstack` commands, the panel's openstack.cloud tasks), each with its own
name, and openstacksdk sees three resources alike in what the form sets. A second run of the
same tasks changes nothing where the module is idempotent.

Prints how long each way took."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.cloud.as_code import AsCode
from tests.conftest import Tenant, page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


def _posted(client: Client, path: str, fields: dict[str, Any]) -> None:
    response = client.post(path, fields)
    assert response.status_code == 302, page_errors(response.content.decode())


def _three_ways(
    code: AsCode, client: Client, path: str, fields: Callable[[str], dict[str, Any]], base: str
) -> tuple[int, str]:
    """The form posted as `base`-portal; the panel's commands run for `base`-cli and its tasks
    for `base`-ansible, twice: (changed on the second run, the tasks)."""
    started = time.monotonic()
    _posted(client, path, fields(f"{base}-portal"))
    print(f"{base}: portal {time.monotonic() - started:.1f} s")
    commands, _tasks = code.shown(path, **fields(f"{base}-cli"))
    code.run_commands(commands)
    _commands, tasks = code.shown(path, **fields(f"{base}-ansible"))
    started = time.monotonic()
    code.run_tasks(tasks)
    print(f"{base}: ansible {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    changed, _output = code.run_tasks(tasks)
    print(f"{base}: ansible again {time.monotonic() - started:.1f} s")
    return changed, tasks


def test_network_forms_shown_as_code_do_what_the_forms_do(
    make_tenant: Callable[..., Tenant], as_code: Callable[[Tenant, Client], AsCode]
) -> None:
    begun = time.monotonic()
    tenant = make_tenant("ascode-net")
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    net = tenant.conn.network

    # --- a network with its first subnet ------------------------------------------------------
    def network_fields(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "admin_state_up": "on",
            "with_subnet": "on",
            "subnet-name": f"{name}-v4",
            "subnet-cidr": "10.77.0.0/24",
            "subnet-ip_version": "4",
            "subnet-gateway_ip": "10.77.0.254",
            "subnet-allocation_pools": "10.77.0.10,10.77.0.99",
            "subnet-dns_nameservers": "192.0.2.53\n192.0.2.54",
            "subnet-host_routes": "10.88.0.0/24,10.77.0.5",
        }  # DHCP left unticked: off, unlike the default

    changed, tasks = _three_ways(code, client, "/network/networks/create/", network_fields, "net")
    assert changed == 0, tasks
    seen = []
    for way in ("portal", "cli", "ansible"):
        network = net.find_network(f"net-{way}", ignore_missing=False)
        (subnet,) = net.subnets(network_id=network.id)
        assert subnet.name == f"net-{way}-v4"
        seen.append(
            (
                network.is_admin_state_up,
                subnet.cidr,
                subnet.gateway_ip,
                subnet.is_dhcp_enabled,
                subnet.dns_nameservers,
                subnet.allocation_pools,
                subnet.host_routes,
            )
        )
    assert seen[0] == seen[1] == seen[2], seen
    assert seen[0][1:4] == ("10.77.0.0/24", "10.77.0.254", False)

    # --- a security group, then a rule on it ----------------------------------------------------
    def group_fields(name: str) -> dict[str, Any]:
        return {"name": name, "description": "made three ways"}

    changed, tasks = _three_ways(
        code, client, "/network/security-groups/create/", group_fields, "sg"
    )
    assert changed == 0, tasks
    groups = {
        way: net.find_security_group(f"sg-{way}", ignore_missing=False)
        for way in ("portal", "cli", "ansible")
    }
    assert {g.description for g in groups.values()} == {"made three ways"}

    rule = {
        "direction": "ingress",
        "ether_type": "IPv4",
        "protocol": "tcp",
        "port": "8000-8080",
        "remote": "cidr",
        "remote_ip_prefix": "10.0.0.0/8",
        "description": "web",
    }
    started = time.monotonic()
    _posted(client, f"/network/security-groups/{groups['portal'].id}/rules/create/", rule)
    commands, _tasks = code.shown(
        f"/network/security-groups/{groups['cli'].id}/rules/create/", **rule
    )
    code.run_commands(commands)
    _commands, tasks = code.shown(
        f"/network/security-groups/{groups['ansible'].id}/rules/create/", **rule
    )
    assert code.run_tasks(tasks)[0] == 1
    assert code.run_tasks(tasks)[0] == 0, tasks  # the rule is found, not made again
    print(f"rule: three ways {time.monotonic() - started:.1f} s")

    def added(group_id: str) -> tuple[Any, ...]:
        (made,) = [
            r
            for r in net.security_group_rules(security_group_id=group_id)
            if r.protocol is not None
        ]
        return (
            made.direction,
            made.ether_type,
            made.protocol,
            made.port_range_min,
            made.port_range_max,
            made.remote_ip_prefix,
            made.remote_group_id,
            made.description,
        )

    rules = [added(g.id) for g in groups.values()]
    assert (
        rules[0]
        == rules[1]
        == rules[2]
        == (
            "ingress",
            "IPv4",
            "tcp",
            8000,
            8080,
            "10.0.0.0/8",
            None,
            "web",
        )
    )

    # --- a router with its gateway on the public network ----------------------------------------
    public = net.find_network("public1", ignore_missing=False)

    def router_fields(name: str) -> dict[str, Any]:
        return {"name": name, "admin_state_up": "on", "external_network_id": public.id}

    changed, tasks = _three_ways(code, client, "/network/routers/create/", router_fields, "rt")
    assert changed == 0, tasks
    routers = [
        net.find_router(f"rt-{w}", ignore_missing=False) for w in ("portal", "cli", "ansible")
    ]
    gateways = [
        (r.is_admin_state_up, r.external_gateway_info["network_id"], r.project_id) for r in routers
    ]
    assert gateways[0] == gateways[1] == gateways[2] == (True, public.id, tenant.project.id)
    print(f"network as code, in all: {time.monotonic() - begun:.1f} s")


def test_more_network_panels_run_as_shown(
    make_tenant: Callable[..., Tenant], as_code: Callable[[Tenant, Client], AsCode]
) -> None:
    """The other forms' panels, run for real: a port with a fixed address, a subnet edited, a
    router interface on an address of one's own (two commands), a static route, a floating IP
    allocated, associated, disassociated and released, an ICMP rule of type and code 0, the
    router's delete (gateway, route and interfaces first), and the port, subnet and network
    deleted by their tasks."""
    begun = time.monotonic()
    tenant = make_tenant("ascode-net2")
    client = tenant.sign_in(Client())
    code = as_code(tenant, client)
    net = tenant.conn.network
    public = net.find_network("public1", ignore_missing=False)

    def run(path: str, **fields: Any) -> str:
        commands, _tasks = code.shown(path, **fields)
        code.run_commands(commands)
        return commands

    _posted(
        client,
        "/network/networks/create/",
        {
            "name": "cmd-net",
            "admin_state_up": "on",
            "with_subnet": "on",
            "subnet-name": "cmd-v4",
            "subnet-cidr": "10.66.0.0/24",
            "subnet-ip_version": "4",
            "subnet-enable_dhcp": "on",
        },
    )
    network = net.find_network("cmd-net", ignore_missing=False)
    (subnet,) = net.subnets(network_id=network.id)
    base = f"/network/networks/{network.id}"

    run(f"{base}/ports/create/", name="cmd-port", subnet_id=subnet.id, ip_address="10.66.0.20")
    port = net.find_port("cmd-port", ignore_missing=False)
    assert [ip["ip_address"] for ip in port.fixed_ips] == ["10.66.0.20"]
    assert port.security_group_ids == [] and port.is_admin_state_up is False  # box unticked

    run(
        f"{base}/subnets/{subnet.id}/edit/",
        name="cmd-v4b",
        gateway_ip="10.66.0.254",
        allocation_pools="10.66.0.10,10.66.0.200",
        enable_dhcp="on",
        dns_nameservers="192.0.2.1",
        host_routes="10.98.0.0/24,10.66.0.6",
    )
    subnet = net.get_subnet(subnet.id)
    assert (subnet.name, subnet.gateway_ip, subnet.dns_nameservers) == (
        "cmd-v4b",
        "10.66.0.254",
        ["192.0.2.1"],
    )
    assert subnet.host_routes == [{"destination": "10.98.0.0/24", "nexthop": "10.66.0.6"}]
    assert subnet.allocation_pools == [{"start": "10.66.0.10", "end": "10.66.0.200"}]

    _posted(
        client,
        "/network/routers/create/",
        {"name": "cmd-router", "admin_state_up": "on", "external_network_id": public.id},
    )
    router = net.find_router("cmd-router", ignore_missing=False)
    rbase = f"/network/routers/{router.id}"
    run(f"{rbase}/interfaces/add/", subnet_id=subnet.id, ip_address="10.66.0.30")
    addresses = [
        ip["ip_address"]
        for p in net.ports(device_id=router.id, device_owner="network:router_interface")
        for ip in p.fixed_ips
    ]
    assert addresses == ["10.66.0.30"]
    run(f"{rbase}/routes/add/", destination="10.99.0.0/24", nexthop="10.66.0.5")
    assert net.get_router(router.id).routes == [
        {"destination": "10.99.0.0/24", "nexthop": "10.66.0.5"}
    ]

    run("/network/floating-ips/allocate/", floating_network_id=public.id, description="cmd")
    (fip,) = net.ips(project_id=tenant.project.id)
    assert fip.floating_network_id == public.id and fip.description == "cmd"
    run(f"/network/floating-ips/{fip.id}/associate/", target=f"{port.id} 10.66.0.20")
    fip = net.get_ip(fip.id)
    assert (fip.port_id, fip.fixed_ip_address) == (port.id, "10.66.0.20")
    run(f"/network/floating-ips/{fip.id}/disassociate/")
    assert net.get_ip(fip.id).port_id is None
    run(f"/network/floating-ips/{fip.id}/release/")
    assert list(net.ips(project_id=tenant.project.id)) == []

    _posted(client, "/network/security-groups/create/", {"name": "cmd-sg"})
    group = net.find_security_group("cmd-sg", ignore_missing=False)
    rule = {
        "direction": "ingress",
        "ether_type": "IPv4",
        "protocol": "icmp",
        "icmp_type": "0",
        "icmp_code": "0",
        "remote": "group",
        "remote_group_id": group.id,
    }
    path = f"/network/security-groups/{group.id}/rules/create/"
    run(path, **rule)
    made = [r for r in net.security_group_rules(security_group_id=group.id) if r.protocol]
    assert [(r.port_range_min, r.port_range_max, r.remote_group_id) for r in made] == [
        (0, 0, group.id)
    ]
    _commands, tasks = code.shown(path, **rule)
    assert code.run_tasks(tasks)[0] == 0, tasks  # the module finds the rule the CLI made

    run(f"{rbase}/delete/")
    assert net.find_router(router.id) is None

    for path in (f"{base}/ports/{port.id}/delete/", f"{base}/subnets/{subnet.id}/delete/"):
        _commands, tasks = code.shown(path)
        assert code.run_tasks(tasks)[0] == 1, tasks
    _commands, tasks = code.shown(f"{base}/delete/")
    assert code.run_tasks(tasks)[0] == 1
    assert net.find_network(network.id) is None
    print(f"network panels run as shown: {time.monotonic() - begun:.1f} s")
