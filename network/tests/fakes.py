"""An in-memory Neutron for the unit tests: FakeNetworkGateway keeps networks, subnets, ports,
routers, security groups and floating IPs of one project, plus the shared external network
"public1", and refuses what Neutron refuses with Neutron's own words (quota, overlapping
subnets, ports in use, duplicate rules, unreachable floating IPs...).

It subclasses the real gateway and overrides every method; `calls` counts the calls a page
makes. network/tests/contract.py runs the same checks against this fake and the real cloud.
"""

from __future__ import annotations

import ipaddress
import itertools
import uuid
from dataclasses import replace
from typing import Any

from network.gateway import (
    ROUTER_INTERFACE_OWNERS,
    FixedIP,
    FloatingIP,
    Network,
    NetworkGateway,
    Port,
    QuotaUsage,
    Route,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from portal.errors import CloudError, CloudUnavailable, NotFound, Rejected
from portal.refs import ProjectRef, ServerRef

PROJECT = "p-demo"
OTHER_PROJECT = "p-study1"
ADMIN_PROJECT = "p-admin"
DEFAULT_LIMITS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
}


def _id() -> str:
    return str(uuid.uuid4())


def _any_egress(group_id: str, project: str) -> tuple[SecurityGroupRule, ...]:
    return tuple(
        SecurityGroupRule(_id(), group_id, "egress", ether, None, None, None, None, None)
        for ether in ("IPv4", "IPv6")
    )


class FakeNetworkGateway(NetworkGateway):
    def __init__(self, project_id: str = PROJECT) -> None:  # no connection: nothing to call
        self.project_id = project_id
        self.calls = 0
        self.limits = dict(DEFAULT_LIMITS)
        self.networks: dict[str, Network] = {}
        self.subnets: dict[str, Subnet] = {}
        self.ports: dict[str, Port] = {}
        self.routers: dict[str, Router] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self.fips: dict[str, FloatingIP] = {}
        self.servers: dict[str, ServerRef] = {}
        self.projects = [
            ProjectRef(PROJECT, "demo"),
            ProjectRef(OTHER_PROJECT, "study1"),
            ProjectRef(ADMIN_PROJECT, "admin"),
        ]
        self.refusals: dict[str, CloudError] = {}  # method name -> error it raises next
        self._macs = itertools.count(0x100)
        public = self._add_network("public1", ADMIN_PROJECT, shared=True, external=True)
        self._add_subnet(public.id, "public1-subnet", "192.168.0.0/16", ADMIN_PROJECT, dhcp=False)
        self.public_id = public.id
        self.default_group = self._add_group("default", "Default security group", project_id)

    # --- bookkeeping ------------------------------------------------------------------------

    def _call(self, name: str) -> None:
        self.calls += 1
        if name in self.refusals:
            raise self.refusals.pop(name)

    @staticmethod
    def _stored(attrs: dict[str, Any]) -> None:
        """Neutron's MySQL tables are utf8 (three bytes a character): a character beyond U+FFFF
        fails the INSERT, and Neutron answers 500."""
        for key, value in attrs.items():
            if isinstance(value, str) and any(ord(c) > 0xFFFF for c in value):
                raise CloudUnavailable(
                    f"Request Failed: internal server error while processing your request. "
                    f'(pymysql.err.DataError) (1366, "Incorrect string value for column '
                    f"'{key}'\")",
                    500,
                )

    def _quota(self, key: str, used: int) -> None:
        limit = self.limits[key]
        if 0 <= limit <= used:
            raise Rejected(f"Quota exceeded for resources: ['{key}'].", 409)

    def _mine(self, items: dict[str, Any]) -> int:
        return sum(1 for item in items.values() if item.project_id == self.project_id)

    def _add_network(
        self, name: str, project: str, shared: bool = False, external: bool = False, **extra: Any
    ) -> Network:
        network = Network(
            id=_id(),
            name=name,
            project_id=project,
            status="ACTIVE",
            is_admin_state_up=extra.pop("is_admin_state_up", True),
            is_shared=shared,
            is_router_external=external,
            subnet_ids=(),
            mtu=1450,
            **extra,
        )
        self.networks[network.id] = network
        return network

    def _add_subnet(
        self, network_id: str, name: str, cidr: str, project: str, dhcp: bool = True, **extra: Any
    ) -> Subnet:
        net = ipaddress.ip_network(cidr)
        gateway = extra.pop("gateway_ip", str(net.network_address + 1))
        last = net.broadcast_address - (1 if net.version == 4 else 0)
        pools = extra.pop("allocation_pools", None) or [
            {"start": str(net.network_address + 2), "end": str(last)}
        ]
        subnet = Subnet(
            id=_id(),
            name=name,
            network_id=network_id,
            project_id=project,
            cidr=str(net),
            ip_version=net.version,
            gateway_ip=gateway,
            is_dhcp_enabled=dhcp,
            allocation_pools=tuple((p["start"], p["end"]) for p in pools),
            dns_nameservers=tuple(extra.pop("dns_nameservers", ())),
            host_routes=tuple(
                (r["destination"], r["nexthop"]) for r in extra.pop("host_routes", ())
            ),
            ipv6_address_mode=extra.pop("ipv6_address_mode", None),
            ipv6_ra_mode=extra.pop("ipv6_ra_mode", None),
        )
        self.subnets[subnet.id] = subnet
        network = self.networks[network_id]
        self.networks[network_id] = replace(network, subnet_ids=(*network.subnet_ids, subnet.id))
        return subnet

    def _add_group(self, name: str, description: str, project: str) -> SecurityGroup:
        group_id = _id()
        group = SecurityGroup(group_id, name, project, description, _any_egress(group_id, project))
        self.groups[group_id] = group
        return group

    def _allocated(self, subnet_id: str) -> set[str]:
        taken = {
            ip.ip_address
            for p in self.ports.values()
            for ip in p.fixed_ips
            if ip.subnet_id == subnet_id
        }
        taken |= {f.floating_ip_address for f in self.fips.values()}
        taken |= {ip.ip_address for r in self.routers.values() for ip in r.external_ips}
        return taken

    def _allocate(self, subnet: Subnet, wanted: str | None = None) -> str:
        taken = self._allocated(subnet.id)
        if wanted:
            if wanted in taken:
                raise Rejected(f"IP address {wanted} already allocated in subnet {subnet.id}", 409)
            return wanted
        for start, end in subnet.allocation_pools:
            first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
            for offset in range(int(last) - int(first) + 1):
                address = str(first + offset)
                if address not in taken and address != subnet.gateway_ip:
                    return address
        raise Rejected(f"No more IP addresses available on network {subnet.network_id}.", 409)

    def _new_port(self, network_id: str, project: str, **attrs: Any) -> Port:
        network = self._network(network_id)
        fixed = []
        wanted = attrs.pop("fixed_ips", None)
        if wanted is None:
            wanted = [
                {"subnet_id": s} for s in network.subnet_ids if self.subnets[s].ip_version == 4
            ][:1]
        for item in wanted:
            subnet = self.subnets.get(item.get("subnet_id", "")) or next(
                (
                    self.subnets[s]
                    for s in network.subnet_ids
                    if ipaddress.ip_address(item["ip_address"])
                    in ipaddress.ip_network(self.subnets[s].cidr)
                ),
                None,
            )
            if subnet is None or subnet.network_id != network_id:
                raise Rejected(
                    "Invalid input for operation: IP allocation requires subnet_id or "
                    f"ip_address on network {network_id}.",
                    400,
                )
            fixed.append(FixedIP(subnet.id, self._allocate(subnet, item.get("ip_address"))))
        groups = attrs.pop("security_group_ids", None)
        if groups is None:
            groups = [
                g.id
                for g in self.groups.values()
                if g.name == "default" and g.project_id == project
            ]
        port = Port(
            id=_id(),
            name=attrs.pop("name", "") or "",
            network_id=network_id,
            project_id=project,
            device_owner=attrs.pop("device_owner", ""),
            device_id=attrs.pop("device_id", ""),
            fixed_ips=tuple(fixed),
            status="DOWN",
            mac_address=f"fa:16:3e:00:{next(self._macs) // 256:02x}:{next(self._macs) % 256:02x}",
            security_group_ids=tuple(groups),
            is_admin_state_up=attrs.pop("is_admin_state_up", True),
            description=attrs.pop("description", "") or "",
        )
        self.ports[port.id] = port
        return port

    def _network(self, network_id: str) -> Network:
        if network_id not in self.networks:
            raise NotFound(f"Network {network_id} could not be found.")
        return self.networks[network_id]

    def _subnet(self, subnet_id: str) -> Subnet:
        if subnet_id not in self.subnets:
            raise NotFound(f"Subnet {subnet_id} could not be found.")
        return self.subnets[subnet_id]

    def _router(self, router_id: str) -> Router:
        if router_id not in self.routers:
            raise NotFound(f"Router {router_id} could not be found")
        return self.routers[router_id]

    def _group(self, group_id: str) -> SecurityGroup:
        if group_id not in self.groups:
            raise NotFound(f"Security group {group_id} does not exist")
        return self.groups[group_id]

    def _fip(self, fip_id: str) -> FloatingIP:
        if fip_id not in self.fips:
            raise NotFound(f"Floating IP {fip_id} could not be found")
        return self.fips[fip_id]

    # --- test helpers: what other services or people made -----------------------------------

    def add_server(self, name: str, network_id: str, ip_address: str | None = None) -> ServerRef:
        """An instance (Nova's, so not through this gateway) with one port on the network."""
        server = ServerRef(_id(), name, "ACTIVE")
        self.servers[server.id] = server
        fixed = None
        if ip_address:
            subnet = next(
                s
                for s in self.subnets.values()
                if s.network_id == network_id
                and ipaddress.ip_address(ip_address) in ipaddress.ip_network(s.cidr)
            )
            fixed = [{"subnet_id": subnet.id, "ip_address": ip_address}]
        self._new_port(
            network_id,
            self.project_id,
            device_owner="compute:nova",
            device_id=server.id,
            fixed_ips=fixed,
        )
        return server

    def add_other_project_network(self, name: str) -> Network:
        return self._add_network(name, OTHER_PROJECT)

    # --- networks ---------------------------------------------------------------------------

    def list_networks(self, project_id: str | None = None) -> list[Network]:
        self._call("list_networks")
        return [n for n in self.networks.values() if project_id in (None, n.project_id)]

    def get_network(self, network_id: str) -> Network:
        self._call("get_network")
        return self._network(network_id)

    def create_network(self, **attrs: Any) -> Network:
        self._call("create_network")
        self._stored(attrs)
        project = attrs.pop("project_id", self.project_id)
        if project == self.project_id:
            self._quota("network", self._mine(self.networks))
        if attrs.get("provider_network_type") == "flat" and any(
            n.provider_network_type == "flat"
            and n.provider_physical_network == attrs.get("provider_physical_network")
            for n in self.networks.values()
        ):
            raise Rejected(
                "Unable to create the flat network. Physical network "
                f"{attrs.get('provider_physical_network')} is in use.",
                409,
            )
        return self._add_network(
            attrs.pop("name", ""),
            project,
            shared=attrs.pop("is_shared", False),
            external=attrs.pop("is_router_external", False),
            **attrs,
        )

    def update_network(self, network_id: str, **attrs: Any) -> Network:
        self._call("update_network")
        self._stored(attrs)
        network = replace(self._network(network_id), **attrs)
        self.networks[network_id] = network
        return network

    def delete_network(self, network_id: str) -> None:
        self._call("delete_network")
        self._network(network_id)
        in_use = [
            p.id
            for p in self.ports.values()
            if p.network_id == network_id and p.device_owner != "network:dhcp"
        ]
        if in_use:
            raise Rejected(
                f"Unable to complete operation on network {network_id}. There are one or more "
                f"ports still in use on the network, id for these ports is: {', '.join(in_use)}.",
                409,
            )
        for subnet_id in self.networks[network_id].subnet_ids:
            del self.subnets[subnet_id]
        del self.networks[network_id]

    # --- subnets ----------------------------------------------------------------------------

    def list_subnets(
        self, network_id: str | None = None, project_id: str | None = None
    ) -> list[Subnet]:
        self._call("list_subnets")
        return [
            s
            for s in self.subnets.values()
            if network_id in (None, s.network_id) and project_id in (None, s.project_id)
        ]

    def get_subnet(self, subnet_id: str) -> Subnet:
        self._call("get_subnet")
        return self._subnet(subnet_id)

    def create_subnet(self, **attrs: Any) -> Subnet:
        self._call("create_subnet")
        self._stored(attrs)
        network = self._network(attrs.pop("network_id"))
        self._quota("subnet", self._mine(self.subnets))
        cidr = ipaddress.ip_network(attrs["cidr"], strict=False)
        for other in network.subnet_ids:
            if ipaddress.ip_network(self.subnets[other].cidr).overlaps(cidr):
                raise Rejected(
                    f"Invalid input for operation: Requested subnet with cidr: {cidr} for "
                    f"network: {network.id} overlaps with another subnet.",
                    400,
                )
        attrs.pop("ip_version", None)
        return self._add_subnet(
            network.id,
            attrs.pop("name", ""),
            str(cidr),
            self.project_id,
            dhcp=attrs.pop("is_dhcp_enabled", True),
            **{k: v for k, v in attrs.items() if k != "cidr"},
        )

    def update_subnet(self, subnet_id: str, **attrs: Any) -> Subnet:
        self._call("update_subnet")
        subnet = self._subnet(subnet_id)
        changes: dict[str, Any] = {}
        for key, value in attrs.items():
            if key == "allocation_pools":
                value = tuple((p["start"], p["end"]) for p in value)
            elif key == "host_routes":
                value = tuple((r["destination"], r["nexthop"]) for r in value)
            elif key == "dns_nameservers":
                value = tuple(value)
            changes[key] = value
        subnet = replace(subnet, **changes)
        self.subnets[subnet_id] = subnet
        return subnet

    def delete_subnet(self, subnet_id: str) -> None:
        self._call("delete_subnet")
        subnet = self._subnet(subnet_id)
        if any(ip.subnet_id == subnet_id for p in self.ports.values() for ip in p.fixed_ips):
            raise Rejected(
                f"Unable to complete operation on subnet {subnet_id}: One or more ports have an "
                "IP allocation from this subnet.",
                409,
            )
        del self.subnets[subnet_id]
        network = self.networks[subnet.network_id]
        ids = tuple(i for i in network.subnet_ids if i != subnet_id)
        self.networks[network.id] = replace(network, subnet_ids=ids)

    # --- ports ------------------------------------------------------------------------------

    def list_ports(
        self,
        network_id: str | None = None,
        device_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Port]:
        self._call("list_ports")
        return [
            p
            for p in self.ports.values()
            if network_id in (None, p.network_id)
            and device_id in (None, p.device_id)
            and project_id in (None, p.project_id)
        ]

    def get_port(self, port_id: str) -> Port:
        self._call("get_port")
        if port_id not in self.ports:
            raise NotFound(f"Port {port_id} could not be found.")
        return self.ports[port_id]

    def create_port(self, **attrs: Any) -> Port:
        self._call("create_port")
        self._stored(attrs)
        self._quota("port", self._mine(self.ports))
        return self._new_port(attrs.pop("network_id"), self.project_id, **attrs)

    def delete_port(self, port_id: str) -> None:
        self._call("delete_port")
        port = self.ports.get(port_id)
        if port is None:
            raise NotFound(f"Port {port_id} could not be found.")
        if port.device_owner in ROUTER_INTERFACE_OWNERS:
            raise Rejected(
                f"Port {port_id} cannot be deleted directly via the port API: has device owner "
                f"{port.device_owner}.",
                409,
            )
        for fip in list(self.fips.values()):
            if fip.port_id == port_id:
                self.fips[fip.id] = replace(
                    fip, port_id=None, fixed_ip_address=None, router_id=None, device_id=None
                )
        del self.ports[port_id]

    # --- routers ----------------------------------------------------------------------------

    def list_routers(self, project_id: str | None = None) -> list[Router]:
        self._call("list_routers")
        return [r for r in self.routers.values() if project_id in (None, r.project_id)]

    def get_router(self, router_id: str) -> Router:
        self._call("get_router")
        return self._router(router_id)

    def _gateway_ips(self, network_id: str) -> tuple[FixedIP, ...]:
        network = self._network(network_id)
        if not network.is_router_external:
            raise Rejected(
                f"Bad router request: Network {network_id} is not an external network.", 400
            )
        subnet = self.subnets[network.subnet_ids[0]]
        return (FixedIP(subnet.id, self._allocate(subnet)),)

    def create_router(
        self, name: str, is_admin_state_up: bool = True, external_network_id: str | None = None
    ) -> Router:
        self._call("create_router")
        self._stored({"name": name})
        self._quota("router", self._mine(self.routers))
        ips = self._gateway_ips(external_network_id) if external_network_id else ()
        router = Router(
            _id(), name, self.project_id, "ACTIVE", is_admin_state_up, external_network_id, ips
        )
        self.routers[router.id] = router
        return router

    def update_router(self, router_id: str, **attrs: Any) -> Router:
        self._call("update_router")
        self._stored(attrs)
        router = replace(self._router(router_id), **attrs)
        self.routers[router_id] = router
        return router

    def set_router_gateway(self, router_id: str, network_id: str) -> Router:
        self._call("set_router_gateway")
        router = self._router(router_id)
        router = replace(
            router, external_network_id=network_id, external_ips=self._gateway_ips(network_id)
        )
        self.routers[router_id] = router
        return router

    def clear_router_gateway(self, router_id: str) -> Router:
        self._call("clear_router_gateway")
        router = self._router(router_id)
        if any(f.router_id == router_id for f in self.fips.values()):
            raise Rejected(
                f"Gateway cannot be updated for router {router_id}, since a gateway to external "
                "network is required by one or more floating IPs.",
                409,
            )
        router = replace(router, external_network_id=None, external_ips=())
        self.routers[router_id] = router
        return router

    def _interfaces(self, router_id: str) -> list[Port]:
        return [
            p for p in self.ports.values() if p.device_id == router_id and p.is_router_interface
        ]

    def add_interface_to_router(
        self, router_id: str, subnet_id: str | None = None, port_id: str | None = None
    ) -> None:
        self._call("add_interface_to_router")
        self._router(router_id)
        if port_id:
            port = self.ports.get(port_id)
            if port is None:
                raise NotFound(f"Port {port_id} could not be found.")
            if port.device_id:
                raise Rejected(f"Port {port_id} is in use by another device.", 409)
            self.ports[port_id] = replace(
                port, device_id=router_id, device_owner="network:router_interface"
            )
            return
        subnet = self._subnet(subnet_id or "")
        if any(
            ip.subnet_id == subnet.id for p in self._interfaces(router_id) for ip in p.fixed_ips
        ):
            raise Rejected(
                f"Bad router request: Router already has a port on subnet {subnet.id}.", 400
            )
        if not subnet.gateway_ip:
            raise Rejected(
                f"Bad router request: Subnet {subnet.id} does not have a gateway IP.", 400
            )
        self._new_port(
            subnet.network_id,
            self.project_id,
            device_owner="network:router_interface",
            device_id=router_id,
            fixed_ips=[{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}],
            security_group_ids=[],
        )

    def remove_interface_from_router(self, router_id: str, port_id: str) -> None:
        self._call("remove_interface_from_router")
        router = self._router(router_id)
        port = self.ports.get(port_id)
        if port is None or port.device_id != router_id:
            raise NotFound(f"Router {router_id} does not have an interface with id {port_id}")
        for ip in port.fixed_ips:
            net = ipaddress.ip_network(self.subnets[ip.subnet_id].cidr)
            if any(ipaddress.ip_address(r.nexthop) in net for r in router.routes):
                raise Rejected(
                    f"Router interface for subnet {ip.subnet_id} on router {router_id} cannot be "
                    "deleted, as it is required by one or more routes.",
                    409,
                )
            if any(
                f.router_id == router_id and self._port_on_subnet(f.port_id, ip.subnet_id)
                for f in self.fips.values()
            ):
                raise Rejected(
                    f"Router interface for subnet {ip.subnet_id} on router {router_id} cannot be "
                    "deleted, as it is required by one or more floating IPs.",
                    409,
                )
        del self.ports[port_id]

    def _port_on_subnet(self, port_id: str | None, subnet_id: str) -> bool:
        port = self.ports.get(port_id or "")
        return port is not None and any(ip.subnet_id == subnet_id for ip in port.fixed_ips)

    def add_extra_routes_to_router(self, router_id: str, routes: list[Route]) -> Router:
        self._call("add_extra_routes_to_router")
        router = self._router(router_id)
        connected = [
            ipaddress.ip_network(self.subnets[ip.subnet_id].cidr)
            for p in self._interfaces(router_id)
            for ip in p.fixed_ips
        ]
        for route in routes:
            if not any(ipaddress.ip_address(route.nexthop) in net for net in connected):
                raise Rejected(
                    f"Invalid format for routes: {[r.__dict__ for r in routes]}, the nexthop is "
                    "not connected with router",
                    400,
                )
        merged = tuple(dict.fromkeys([*router.routes, *routes]))
        router = replace(router, routes=merged)
        self.routers[router_id] = router
        return router

    def remove_extra_routes_from_router(self, router_id: str, routes: list[Route]) -> Router:
        self._call("remove_extra_routes_from_router")
        router = self._router(router_id)
        router = replace(router, routes=tuple(r for r in router.routes if r not in routes))
        self.routers[router_id] = router
        return router

    def delete_router(self, router_id: str) -> None:
        self._call("delete_router")
        self._router(router_id)
        if ports := [p.id for p in self._interfaces(router_id)]:
            raise Rejected(f"Router {router_id} has ports still attached: {', '.join(ports)}", 409)
        del self.routers[router_id]

    # --- security groups ----------------------------------------------------------------------

    def list_security_groups(self, project_id: str | None = None) -> list[SecurityGroup]:
        self._call("list_security_groups")
        return [g for g in self.groups.values() if project_id in (None, g.project_id)]

    def get_security_group(self, group_id: str) -> SecurityGroup:
        self._call("get_security_group")
        return self._group(group_id)

    def create_security_group(self, name: str, description: str = "") -> SecurityGroup:
        self._call("create_security_group")
        self._stored({"name": name, "description": description})
        self._quota("security_group", self._mine(self.groups))
        return self._add_group(name, description, self.project_id)

    def update_security_group(self, group_id: str, **attrs: Any) -> SecurityGroup:
        self._call("update_security_group")
        self._stored(attrs)
        group = replace(self._group(group_id), **attrs)
        self.groups[group_id] = group
        return group

    def delete_security_group(self, group_id: str) -> None:
        self._call("delete_security_group")
        group = self._group(group_id)
        if group.name == "default":
            raise Rejected("Insufficient rights for removing default security group.", 409)
        if any(group_id in p.security_group_ids for p in self.ports.values()):
            raise Rejected(f"Security Group {group_id} in use.", 409)
        del self.groups[group_id]

    def create_security_group_rule(self, **attrs: Any) -> SecurityGroupRule:
        self._call("create_security_group_rule")
        self._stored(attrs)
        group = self._group(attrs["security_group_id"])
        used = sum(len(g.rules) for g in self.groups.values() if g.project_id == self.project_id)
        self._quota("security_group_rule", used)
        rule = SecurityGroupRule(id=_id(), **attrs)
        if attrs.get("protocol") in ("tcp", "udp") and (rule.port_range_min or 0) > (
            rule.port_range_max or 65535
        ):
            raise Rejected("For TCP/UDP protocols, port_range_min must be <= port_range_max", 400)
        for existing in group.rules:
            if replace(existing, id="", description="") == replace(rule, id="", description=""):
                raise Rejected(
                    f"Security group rule already exists. Rule id is {existing.id}.", 409
                )
        self.groups[group.id] = replace(group, rules=(*group.rules, rule))
        return rule

    def delete_security_group_rule(self, rule_id: str) -> None:
        self._call("delete_security_group_rule")
        for group in self.groups.values():
            if any(r.id == rule_id for r in group.rules):
                rules = tuple(r for r in group.rules if r.id != rule_id)
                self.groups[group.id] = replace(group, rules=rules)
                return
        raise NotFound(f"Security group rule {rule_id} does not exist")

    # --- floating IPs -------------------------------------------------------------------------

    def list_floating_ips(self, project_id: str | None = None) -> list[FloatingIP]:
        self._call("list_floating_ips")
        return [f for f in self.fips.values() if project_id in (None, f.project_id)]

    def get_floating_ip(self, floating_ip_id: str) -> FloatingIP:
        self._call("get_floating_ip")
        return self._fip(floating_ip_id)

    def create_floating_ip(
        self,
        floating_network_id: str,
        floating_ip_address: str | None = None,
        description: str = "",
    ) -> FloatingIP:
        self._call("create_floating_ip")
        self._stored({"description": description})
        network = self._network(floating_network_id)
        if not network.is_router_external:
            raise Rejected(
                f"Bad floatingip request: Network {floating_network_id} is not a valid external "
                "network.",
                400,
            )
        self._quota("floatingip", self._mine(self.fips))
        subnet = self.subnets[network.subnet_ids[0]]
        address = self._allocate(subnet, floating_ip_address)
        fip = FloatingIP(
            _id(), address, network.id, self.project_id, "DOWN", description=description
        )
        self.fips[fip.id] = fip
        return fip

    def associate_floating_ip(
        self, floating_ip_id: str, port_id: str, fixed_ip_address: str | None = None
    ) -> FloatingIP:
        self._call("associate_floating_ip")
        fip = self._fip(floating_ip_id)
        port = self.ports.get(port_id)
        if port is None:
            raise NotFound(f"Port {port_id} could not be found.")
        fixed = next(
            (ip for ip in port.fixed_ips if fixed_ip_address in (None, ip.ip_address)), None
        )
        if fixed is None:
            raise Rejected(
                f"Bad floatingip request: Port {port_id} does not have fixed ip "
                f"{fixed_ip_address}.",
                400,
            )
        router = next(
            (
                r
                for r in self.routers.values()
                if r.external_network_id == fip.floating_network_id
                and any(
                    ip.subnet_id == fixed.subnet_id
                    for p in self._interfaces(r.id)
                    for ip in p.fixed_ips
                )
            ),
            None,
        )
        if router is None:
            raise NotFound(
                f"External network {fip.floating_network_id} is not reachable from subnet "
                f"{fixed.subnet_id}.  Therefore, cannot associate Port {port_id} with a "
                "Floating IP."
            )
        fip = replace(
            fip,
            port_id=port_id,
            fixed_ip_address=fixed.ip_address,
            router_id=router.id,
            device_id=port.device_id or None,
        )
        self.fips[fip.id] = fip
        return fip

    def disassociate_floating_ip(self, floating_ip_id: str) -> FloatingIP:
        self._call("disassociate_floating_ip")
        fip = replace(
            self._fip(floating_ip_id),
            port_id=None,
            fixed_ip_address=None,
            router_id=None,
            device_id=None,
        )
        self.fips[fip.id] = fip
        return fip

    def delete_floating_ip(self, floating_ip_id: str) -> None:
        self._call("delete_floating_ip")
        self._fip(floating_ip_id)
        del self.fips[floating_ip_id]

    # --- quotas and names ---------------------------------------------------------------------

    def get_quota(self, project_id: str) -> dict[str, QuotaUsage]:
        self._call("get_quota")
        rules = sum(len(g.rules) for g in self.groups.values() if g.project_id == project_id)
        used = {
            "network": sum(1 for n in self.networks.values() if n.project_id == project_id),
            "subnet": sum(1 for s in self.subnets.values() if s.project_id == project_id),
            "port": sum(1 for p in self.ports.values() if p.project_id == project_id),
            "router": sum(1 for r in self.routers.values() if r.project_id == project_id),
            "floatingip": sum(1 for f in self.fips.values() if f.project_id == project_id),
            "security_group": sum(1 for g in self.groups.values() if g.project_id == project_id),
            "security_group_rule": rules,
        }
        return {key: QuotaUsage(key, self.limits[key], used[key]) for key in self.limits}

    def list_servers(self) -> list[ServerRef]:
        self._call("list_servers")
        return list(self.servers.values())

    def list_projects(self) -> list[ProjectRef]:
        self._call("list_projects")
        return list(self.projects)
