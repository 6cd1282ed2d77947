"""Neutron for the portal: networks, subnets, ports, routers, security groups, floating IPs.

Each method makes about one SDK call with the signed-in user's connection and returns frozen
dataclasses; Neutron's policy decides who may do what. Names follow the SDK's network proxy
(`create_subnet`, `add_interface_to_router`, `add_extra_routes_to_router`...), except the
floating-IP verbs, which use the words of the UI and of the SDK's cloud layer
(`create_floating_ip`, `associate_floating_ip`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openstack.connection import Connection

from portal.cloud import cloud_call
from portal.refs import ProjectRef, ServerRef

# Device owners of the ports Neutron makes for a router's subnet interfaces (centralised,
# distributed and HA routers); "network:router_gateway" is the port on the external network.
ROUTER_INTERFACE_OWNERS = (
    "network:router_interface",
    "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
)


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    project_id: str
    status: str
    is_admin_state_up: bool
    is_shared: bool
    is_router_external: bool
    subnet_ids: tuple[str, ...]
    mtu: int | None = None
    description: str = ""
    provider_network_type: str | None = None
    provider_physical_network: str | None = None
    provider_segmentation_id: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.id[:8]


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    network_id: str
    project_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    is_dhcp_enabled: bool
    allocation_pools: tuple[tuple[str, str], ...] = ()
    dns_nameservers: tuple[str, ...] = ()
    host_routes: tuple[tuple[str, str], ...] = ()  # (destination, nexthop)
    ipv6_address_mode: str | None = None
    ipv6_ra_mode: str | None = None
    description: str = ""

    @property
    def label(self) -> str:
        return self.name or self.cidr


@dataclass(frozen=True)
class FixedIP:
    subnet_id: str
    ip_address: str


@dataclass(frozen=True)
class Port:
    id: str
    name: str
    network_id: str
    project_id: str
    device_owner: str
    device_id: str
    fixed_ips: tuple[FixedIP, ...]
    status: str
    mac_address: str = ""
    security_group_ids: tuple[str, ...] = ()
    is_admin_state_up: bool = True
    description: str = ""

    @property
    def is_instance_port(self) -> bool:
        return self.device_owner.startswith("compute:")

    @property
    def is_router_interface(self) -> bool:
        return self.device_owner in ROUTER_INTERFACE_OWNERS


@dataclass(frozen=True)
class Route:
    destination: str
    nexthop: str


@dataclass(frozen=True)
class Router:
    id: str
    name: str
    project_id: str
    status: str
    is_admin_state_up: bool
    external_network_id: str | None
    external_ips: tuple[FixedIP, ...] = ()
    routes: tuple[Route, ...] = ()
    description: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id[:8]


@dataclass(frozen=True)
class SecurityGroupRule:
    id: str
    security_group_id: str
    direction: str  # ingress | egress
    ether_type: str  # IPv4 | IPv6
    protocol: str | None  # None: any protocol
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    description: str = ""


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    project_id: str
    description: str
    rules: tuple[SecurityGroupRule, ...] = ()
    is_stateful: bool = True


@dataclass(frozen=True)
class FloatingIP:
    id: str
    floating_ip_address: str
    floating_network_id: str
    project_id: str
    status: str
    fixed_ip_address: str | None = None
    port_id: str | None = None
    router_id: str | None = None
    device_id: str | None = None  # the instance behind the port (fip-port-details)
    description: str = ""


@dataclass(frozen=True)
class QuotaUsage:
    resource: str  # Neutron's quota key: network, subnet, port, router, floatingip, ...
    limit: int  # -1: unlimited
    used: int

    @property
    def unlimited(self) -> bool:
        return self.limit < 0

    @property
    def left(self) -> int | None:
        return None if self.unlimited else max(0, self.limit - self.used)

    @property
    def percent(self) -> int:
        if self.unlimited or self.limit == 0:
            return 0 if self.unlimited else 100
        return min(100, self.used * 100 // self.limit)


# The quota keys the portal shows, in Neutron's /quotas/<id>/details spelling, and the SDK's.
QUOTA_KEYS = {
    "network": "networks",
    "subnet": "subnets",
    "port": "ports",
    "router": "routers",
    "floatingip": "floating_ips",
    "security_group": "security_groups",
    "security_group_rule": "security_group_rules",
}


# --- SDK objects -> dataclasses -------------------------------------------------------------


def _fixed_ips(raw: Any) -> tuple[FixedIP, ...]:
    return tuple(FixedIP(ip.get("subnet_id", ""), ip.get("ip_address", "")) for ip in raw or [])


def to_network(n: Any) -> Network:
    return Network(
        id=n.id,
        name=n.name or "",
        project_id=n.project_id or "",
        status=n.status or "",
        is_admin_state_up=bool(n.is_admin_state_up),
        is_shared=bool(n.is_shared),
        is_router_external=bool(n.is_router_external),
        subnet_ids=tuple(n.subnet_ids or ()),
        mtu=n.mtu,
        description=n.description or "",
        provider_network_type=n.provider_network_type,
        provider_physical_network=n.provider_physical_network,
        provider_segmentation_id=n.provider_segmentation_id,
    )


def to_subnet(s: Any) -> Subnet:
    return Subnet(
        id=s.id,
        name=s.name or "",
        network_id=s.network_id,
        project_id=s.project_id or "",
        cidr=s.cidr,
        ip_version=int(s.ip_version),
        gateway_ip=s.gateway_ip,
        is_dhcp_enabled=bool(s.is_dhcp_enabled),
        allocation_pools=tuple((p["start"], p["end"]) for p in s.allocation_pools or []),
        dns_nameservers=tuple(s.dns_nameservers or ()),
        host_routes=tuple((r["destination"], r["nexthop"]) for r in s.host_routes or []),
        ipv6_address_mode=s.ipv6_address_mode,
        ipv6_ra_mode=s.ipv6_ra_mode,
        description=s.description or "",
    )


def to_port(p: Any) -> Port:
    return Port(
        id=p.id,
        name=p.name or "",
        network_id=p.network_id,
        project_id=p.project_id or "",
        device_owner=p.device_owner or "",
        device_id=p.device_id or "",
        fixed_ips=_fixed_ips(p.fixed_ips),
        status=p.status or "",
        mac_address=p.mac_address or "",
        security_group_ids=tuple(p.security_group_ids or ()),
        is_admin_state_up=bool(p.is_admin_state_up),
        description=p.description or "",
    )


def to_router(r: Any) -> Router:
    gateway = r.external_gateway_info or {}
    return Router(
        id=r.id,
        name=r.name or "",
        project_id=r.project_id or "",
        status=r.status or "",
        is_admin_state_up=bool(r.is_admin_state_up),
        external_network_id=gateway.get("network_id"),
        external_ips=_fixed_ips(gateway.get("external_fixed_ips")),
        routes=tuple(Route(x["destination"], x["nexthop"]) for x in r.routes or []),
        description=r.description or "",
    )


def to_rule(r: Any) -> SecurityGroupRule:
    """From a rule resource, or from a rule dict inside a security group."""
    data: dict[str, Any] = r if isinstance(r, dict) else r.to_dict()
    return SecurityGroupRule(
        id=data["id"],
        security_group_id=data["security_group_id"],
        direction=data["direction"],
        ether_type=data.get("ethertype") or data.get("ether_type") or "IPv4",
        protocol=data.get("protocol"),
        port_range_min=data.get("port_range_min"),
        port_range_max=data.get("port_range_max"),
        remote_ip_prefix=data.get("remote_ip_prefix"),
        remote_group_id=data.get("remote_group_id"),
        description=data.get("description") or "",
    )


def to_security_group(g: Any) -> SecurityGroup:
    return SecurityGroup(
        id=g.id,
        name=g.name or "",
        project_id=g.project_id or "",
        description=g.description or "",
        rules=tuple(to_rule(r) for r in g.security_group_rules or []),
        is_stateful=g.stateful is not False,
    )


def to_floating_ip(f: Any) -> FloatingIP:
    details = f.port_details or {}
    return FloatingIP(
        id=f.id,
        floating_ip_address=f.floating_ip_address,
        floating_network_id=f.floating_network_id,
        project_id=f.project_id or "",
        status=f.status or "",
        fixed_ip_address=f.fixed_ip_address,
        port_id=f.port_id,
        router_id=f.router_id,
        device_id=details.get("device_id") or None,
        description=f.description or "",
    )


def _query(**filters: Any) -> dict[str, Any]:
    """Neutron filters, without the ones left unset."""
    return {k: v for k, v in filters.items() if v is not None}


class NetworkGateway:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- networks ---------------------------------------------------------------------------

    @cloud_call
    def list_networks(self, project_id: str | None = None) -> list[Network]:
        """Every network the user can see (own, shared, external; all of them for an admin),
        or one project's."""
        return [to_network(n) for n in self.conn.network.networks(**_query(project_id=project_id))]

    @cloud_call
    def get_network(self, network_id: str) -> Network:
        return to_network(self.conn.network.get_network(network_id))

    @cloud_call
    def create_network(self, **attrs: Any) -> Network:
        """attrs: name, description, is_admin_state_up; for admins also project_id, is_shared,
        is_router_external, provider_network_type, provider_physical_network,
        provider_segmentation_id."""
        return to_network(self.conn.network.create_network(**attrs))

    @cloud_call
    def update_network(self, network_id: str, **attrs: Any) -> Network:
        return to_network(self.conn.network.update_network(network_id, **attrs))

    @cloud_call
    def delete_network(self, network_id: str) -> None:
        self.conn.network.delete_network(network_id, ignore_missing=False)

    # --- subnets ----------------------------------------------------------------------------

    @cloud_call
    def list_subnets(
        self, network_id: str | None = None, project_id: str | None = None
    ) -> list[Subnet]:
        query = _query(network_id=network_id, project_id=project_id)
        return [to_subnet(s) for s in self.conn.network.subnets(**query)]

    @cloud_call
    def get_subnet(self, subnet_id: str) -> Subnet:
        return to_subnet(self.conn.network.get_subnet(subnet_id))

    @cloud_call
    def create_subnet(self, **attrs: Any) -> Subnet:
        """attrs in Neutron's words: network_id, name, cidr, ip_version, gateway_ip (None: no
        gateway), is_dhcp_enabled, allocation_pools [{start, end}], dns_nameservers,
        host_routes [{destination, nexthop}], ipv6_address_mode, ipv6_ra_mode."""
        return to_subnet(self.conn.network.create_subnet(**attrs))

    @cloud_call
    def update_subnet(self, subnet_id: str, **attrs: Any) -> Subnet:
        return to_subnet(self.conn.network.update_subnet(subnet_id, **attrs))

    @cloud_call
    def delete_subnet(self, subnet_id: str) -> None:
        self.conn.network.delete_subnet(subnet_id, ignore_missing=False)

    # --- ports ------------------------------------------------------------------------------

    @cloud_call
    def list_ports(
        self,
        network_id: str | None = None,
        device_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Port]:
        query = _query(network_id=network_id, device_id=device_id, project_id=project_id)
        return [to_port(p) for p in self.conn.network.ports(**query)]

    @cloud_call
    def get_port(self, port_id: str) -> Port:
        return to_port(self.conn.network.get_port(port_id))

    @cloud_call
    def create_port(self, **attrs: Any) -> Port:
        """attrs: network_id, name, description, fixed_ips [{subnet_id, ip_address}],
        security_group_ids, is_admin_state_up."""
        return to_port(self.conn.network.create_port(**attrs))

    @cloud_call
    def delete_port(self, port_id: str) -> None:
        self.conn.network.delete_port(port_id, ignore_missing=False)

    # --- routers ----------------------------------------------------------------------------

    @cloud_call
    def list_routers(self, project_id: str | None = None) -> list[Router]:
        return [to_router(r) for r in self.conn.network.routers(**_query(project_id=project_id))]

    @cloud_call
    def get_router(self, router_id: str) -> Router:
        return to_router(self.conn.network.get_router(router_id))

    @cloud_call
    def create_router(
        self, name: str, is_admin_state_up: bool = True, external_network_id: str | None = None
    ) -> Router:
        attrs: dict[str, Any] = {"name": name, "is_admin_state_up": is_admin_state_up}
        if external_network_id:
            attrs["external_gateway_info"] = {"network_id": external_network_id}
        return to_router(self.conn.network.create_router(**attrs))

    @cloud_call
    def update_router(self, router_id: str, **attrs: Any) -> Router:
        """attrs: name, description, is_admin_state_up."""
        return to_router(self.conn.network.update_router(router_id, **attrs))

    @cloud_call
    def set_router_gateway(self, router_id: str, network_id: str) -> Router:
        info = {"network_id": network_id}
        return to_router(self.conn.network.update_router(router_id, external_gateway_info=info))

    @cloud_call
    def clear_router_gateway(self, router_id: str) -> Router:
        # Neutron clears the gateway when external_gateway_info is an empty object.
        return to_router(self.conn.network.update_router(router_id, external_gateway_info={}))

    @cloud_call
    def add_interface_to_router(
        self, router_id: str, subnet_id: str | None = None, port_id: str | None = None
    ) -> None:
        self.conn.network.add_interface_to_router(router_id, subnet=subnet_id, port=port_id)

    @cloud_call
    def remove_interface_from_router(self, router_id: str, port_id: str) -> None:
        self.conn.network.remove_interface_from_router(router_id, port=port_id)

    @cloud_call
    def add_extra_routes_to_router(self, router_id: str, routes: list[Route]) -> Router:
        # The extraroute-atomic API adds to the routes Neutron holds instead of replacing
        # them, so two people editing one router do not overwrite each other.
        body = {"router": {"routes": [r.__dict__ for r in routes]}}
        return to_router(self.conn.network.add_extra_routes_to_router(router_id, body=body))

    @cloud_call
    def remove_extra_routes_from_router(self, router_id: str, routes: list[Route]) -> Router:
        body = {"router": {"routes": [r.__dict__ for r in routes]}}
        return to_router(self.conn.network.remove_extra_routes_from_router(router_id, body=body))

    @cloud_call
    def delete_router(self, router_id: str) -> None:
        self.conn.network.delete_router(router_id, ignore_missing=False)

    # --- security groups ----------------------------------------------------------------------

    @cloud_call
    def list_security_groups(self, project_id: str | None = None) -> list[SecurityGroup]:
        """With their rules: Neutron returns them inside each group, so this is one call."""
        groups = self.conn.network.security_groups(**_query(project_id=project_id))
        return [to_security_group(g) for g in groups]

    @cloud_call
    def get_security_group(self, group_id: str) -> SecurityGroup:
        return to_security_group(self.conn.network.get_security_group(group_id))

    @cloud_call
    def create_security_group(self, name: str, description: str = "") -> SecurityGroup:
        group = self.conn.network.create_security_group(name=name, description=description)
        return to_security_group(group)

    @cloud_call
    def update_security_group(self, group_id: str, **attrs: Any) -> SecurityGroup:
        return to_security_group(self.conn.network.update_security_group(group_id, **attrs))

    @cloud_call
    def delete_security_group(self, group_id: str) -> None:
        self.conn.network.delete_security_group(group_id, ignore_missing=False)

    @cloud_call
    def create_security_group_rule(self, **attrs: Any) -> SecurityGroupRule:
        """attrs: security_group_id, direction, ether_type, protocol, port_range_min,
        port_range_max, remote_ip_prefix, remote_group_id, description."""
        attrs["ethertype"] = attrs.pop("ether_type")
        return to_rule(self.conn.network.create_security_group_rule(**attrs))

    @cloud_call
    def delete_security_group_rule(self, rule_id: str) -> None:
        self.conn.network.delete_security_group_rule(rule_id, ignore_missing=False)

    # --- floating IPs -------------------------------------------------------------------------

    @cloud_call
    def list_floating_ips(self, project_id: str | None = None) -> list[FloatingIP]:
        return [to_floating_ip(f) for f in self.conn.network.ips(**_query(project_id=project_id))]

    @cloud_call
    def get_floating_ip(self, floating_ip_id: str) -> FloatingIP:
        return to_floating_ip(self.conn.network.get_ip(floating_ip_id))

    @cloud_call
    def create_floating_ip(
        self,
        floating_network_id: str,
        floating_ip_address: str | None = None,
        description: str = "",
    ) -> FloatingIP:
        attrs = _query(
            floating_network_id=floating_network_id,
            floating_ip_address=floating_ip_address or None,
            description=description or None,
        )
        return to_floating_ip(self.conn.network.create_ip(**attrs))

    @cloud_call
    def associate_floating_ip(
        self, floating_ip_id: str, port_id: str, fixed_ip_address: str | None = None
    ) -> FloatingIP:
        attrs = _query(port_id=port_id, fixed_ip_address=fixed_ip_address)
        return to_floating_ip(self.conn.network.update_ip(floating_ip_id, **attrs))

    @cloud_call
    def disassociate_floating_ip(self, floating_ip_id: str) -> FloatingIP:
        return to_floating_ip(self.conn.network.update_ip(floating_ip_id, port_id=None))

    @cloud_call
    def delete_floating_ip(self, floating_ip_id: str) -> None:
        self.conn.network.delete_ip(floating_ip_id, ignore_missing=False)

    # --- quotas, and the names of things other services own ---------------------------------

    @cloud_call
    def get_quota(self, project_id: str) -> dict[str, QuotaUsage]:
        """The project's Neutron limits and usage (the quota_details extension), by quota key."""
        details = self.conn.network.get_quota(project_id, details=True)
        usage = {}
        for key, attr in QUOTA_KEYS.items():
            value = getattr(details, attr, None) or {}
            usage[key] = QuotaUsage(key, int(value.get("limit", -1)), int(value.get("used", 0)))
        return usage

    @cloud_call
    def list_servers(self) -> list[ServerRef]:
        """The project's instances, names only (one light Nova call), to name their ports."""
        return [
            ServerRef(s.id, s.name or "", s.status or "")
            for s in self.conn.compute.servers(details=False)
        ]

    @cloud_call
    def list_projects(self) -> list[ProjectRef]:
        """Project names for the admin pages (Keystone; admins only)."""
        identity: Any = self.conn.identity  # the v3 proxy; the SDK types it as v2 | v3
        return [ProjectRef(p.id, p.name) for p in identity.projects()]
