"""What the portal relies on Neutron to do, checked the same way against the fake (unit layer,
network/tests/test_contract.py) and against the real gateway on the all-in-one cloud
(tests/cloud/test_network_contract.py), so that the fake cannot drift from Neutron.

Each check takes a gateway acting in a project of its own, the project's id, and the id of an
external network; it leaves the project as it found it.
"""

from __future__ import annotations

import pytest

from network.forms import rule_key
from network.gateway import NetworkGateway, Route
from portal.errors import NotFound, Rejected


def check_networks_subnets_and_ports(gw: NetworkGateway, project_id: str) -> None:
    net = gw.create_network(name="contract-net", description="", is_admin_state_up=True)
    assert net.project_id == project_id and not net.is_shared and not net.is_router_external
    a = gw.create_subnet(network_id=net.id, name="a", cidr="172.31.0.0/24", ip_version=4)
    assert (a.gateway_ip, a.allocation_pools) == ("172.31.0.1", (("172.31.0.2", "172.31.0.254"),))
    with pytest.raises(Rejected, match="overlaps with another subnet") as overlap:
        gw.create_subnet(network_id=net.id, cidr="172.31.0.128/25", ip_version=4)
    assert overlap.value.status == 400
    v6 = gw.create_subnet(
        network_id=net.id,
        name="v6",
        cidr="fd00:31::/64",
        ip_version=6,
        ipv6_address_mode="slaac",
        ipv6_ra_mode="slaac",
    )
    assert v6.ip_version == 6 and v6.ipv6_address_mode == "slaac"
    assert set(gw.get_network(net.id).subnet_ids) == {a.id, v6.id}
    port = gw.create_port(
        network_id=net.id, name="p", fixed_ips=[{"subnet_id": a.id, "ip_address": "172.31.0.50"}]
    )
    assert [ip.ip_address for ip in port.fixed_ips if ip.subnet_id == a.id] == ["172.31.0.50"]
    with pytest.raises(Rejected, match="already allocated") as taken:
        gw.create_port(
            network_id=net.id, fixed_ips=[{"subnet_id": a.id, "ip_address": "172.31.0.50"}]
        )
    assert taken.value.status == 409
    with pytest.raises(Rejected, match="ports still in use") as in_use:
        gw.delete_network(net.id)
    assert in_use.value.status == 409
    quota = gw.get_quota(project_id)
    assert quota["network"].used == 1 and quota["subnet"].used == 2 and quota["port"].used >= 1
    gw.delete_port(port.id)
    gw.delete_network(net.id)
    with pytest.raises(NotFound):
        gw.get_network(net.id)


def check_security_group_rules(gw: NetworkGateway, project_id: str) -> None:
    group = gw.create_security_group("contract-sg", "checks")
    assert {(r.direction, r.ether_type, r.protocol) for r in group.rules} == {
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
    }
    rule = dict(
        security_group_id=group.id,
        direction="ingress",
        ether_type="IPv4",
        protocol="tcp",
        port_range_min=8080,
        port_range_max=8080,
        remote_ip_prefix="0.0.0.0/0",
        remote_group_id=None,
        description="",
    )
    made = gw.create_security_group_rule(**rule)
    rules = gw.get_security_group(group.id).rules
    assert [rule_key(r) for r in rules].count(rule_key(made)) == 1
    with pytest.raises(Rejected, match="Security group rule already exists") as duplicate:
        gw.create_security_group_rule(**rule)
    assert duplicate.value.status == 409
    with pytest.raises(Rejected, match="port_range_min must be <= port_range_max"):
        gw.create_security_group_rule(**{**rule, "port_range_min": 30, "port_range_max": 20})
    gw.create_security_group_rule(
        **{
            **rule,
            "ether_type": "IPv6",
            "protocol": "ipv6-icmp",
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": None,
        }
    )
    gw.delete_security_group_rule(made.id)
    assert made.id not in {r.id for r in gw.get_security_group(group.id).rules}
    gw.delete_security_group(group.id)


def check_routers_and_floating_ips(gw: NetworkGateway, project_id: str, external_id: str) -> None:
    net = gw.create_network(name="contract-fip-net")
    subnet = gw.create_subnet(network_id=net.id, cidr="172.31.5.0/24", ip_version=4)
    port = gw.create_port(network_id=net.id, name="contract-port")
    fip = gw.create_floating_ip(external_id)
    assert fip.port_id is None and fip.floating_network_id == external_id
    with pytest.raises(NotFound, match="is not reachable from subnet"):
        gw.associate_floating_ip(fip.id, port.id)
    router = gw.create_router("contract-router", True, external_id)
    assert router.external_network_id == external_id and router.external_ips
    gw.add_interface_to_router(router.id, subnet_id=subnet.id)
    with pytest.raises(Rejected, match="Router already has a port on subnet") as again:
        gw.add_interface_to_router(router.id, subnet_id=subnet.id)
    assert again.value.status == 400
    (interface,) = [p for p in gw.list_ports(device_id=router.id) if p.is_router_interface]
    assert interface.fixed_ips[0].ip_address == "172.31.5.1"
    with pytest.raises(Rejected, match="nexthop is not connected with router"):
        gw.add_extra_routes_to_router(router.id, [Route("10.50.0.0/24", "10.99.0.1")])
    routed = gw.add_extra_routes_to_router(router.id, [Route("10.50.0.0/24", "172.31.5.60")])
    assert routed.routes == (Route("10.50.0.0/24", "172.31.5.60"),)
    with pytest.raises(Rejected, match="required by one or more routes") as needed:
        gw.remove_interface_from_router(router.id, interface.id)
    assert needed.value.status == 409
    gw.remove_extra_routes_from_router(router.id, [Route("10.50.0.0/24", "172.31.5.60")])

    fip = gw.associate_floating_ip(fip.id, port.id)
    assert fip.port_id == port.id and fip.router_id == router.id
    assert fip.fixed_ip_address == port.fixed_ips[0].ip_address
    with pytest.raises(Rejected, match="required by one or more floating IPs"):
        gw.remove_interface_from_router(router.id, interface.id)
    with pytest.raises(Rejected, match="has ports still attached") as busy:
        gw.delete_router(router.id)
    assert busy.value.status == 409
    fip = gw.disassociate_floating_ip(fip.id)
    assert fip.port_id is None and fip.fixed_ip_address is None
    gw.delete_floating_ip(fip.id)
    gw.remove_interface_from_router(router.id, interface.id)
    cleared = gw.clear_router_gateway(router.id)
    assert cleared.external_network_id is None
    gw.delete_router(router.id)
    gw.delete_port(port.id)
    gw.delete_network(net.id)
    assert gw.get_quota(project_id)["router"].used == 0
