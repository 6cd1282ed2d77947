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
