"""The network forms as `openstack` commands and openstack.cloud tasks (portal/as_code.py)."""

from __future__ import annotations

import shlex
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.forms import PROVIDER_TYPES
from portal.as_code import Code, Draft, Option, placeholder, writes

# Neutron's name for ICMPv6 (the rule form's "ICMP" on an IPv6 rule) and protocols by number.
PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "132": "sctp"}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pairs(text: str) -> list[tuple[str, str]]:
    """The subnet's "a,b" lines (pools, routes) as typed so far; half-typed lines are left out
    (the form says what is wrong with them)."""
    pairs = []
    for line in _lines(text):
        for sep in (",", " - ", "-", " "):
            first, found, second = line.partition(sep)
            if found and first.strip() and second.strip():
                pairs.append((first.strip(), second.strip()))
                break
    return pairs


def _named(command: str, name: str) -> str:
    """A command whose last argument is a name the form lets be empty: '' then."""
    return f"{command} {shlex.quote(name)}"


def _enable(draft: Draft, field: str = "admin_state_up") -> dict[str, bool]:
    """--disable when the admin state box is unticked (the client's default is enabled)."""
    return {"disable": not draft.flag(field)}


# --- networks and subnets ---------------------------------------------------------------------


SUBNET_FIELDS = (
    "name",
    "cidr",
    "ip_version",
    "gateway_ip",
    "no_gateway",
    "enable_dhcp",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "ipv6_mode",
)


def _subnet(draft: Draft, network: str, prefix: str = "") -> tuple[str, dict[str, Any]]:
    """The subnet create command and task of the subnet fields (`prefix`: "subnet-" when the
    subnet is part of the network form)."""
    field = {k: prefix + k for k in SUBNET_FIELDS}
    # The network form draws its subnet fields from a second form the panel does not see on
    # the first drawing: the subnet form's initial values (IPv4, DHCP on) until one types.
    fresh = field["ip_version"] not in draft.fields
    version = 4 if fresh else draft.number(field["ip_version"])
    dhcp = fresh or draft.flag(field["enable_dhcp"])
    name, cidr = draft.text(field["name"]), draft.need(field["cidr"])
    no_gateway = draft.flag(field["no_gateway"])
    gateway = "none" if no_gateway else draft.text(field["gateway_ip"]) or None
    pools = _pairs(draft.text(field["allocation_pools"]))
    dns = _lines(draft.text(field["dns_nameservers"]))
    routes = _pairs(draft.text(field["host_routes"]))
    mode = draft.text(field["ipv6_mode"]) or None
    command = draft.openstack(
        "subnet create",
        network=network,
        subnet_range=cidr,
        ip_version=version if version != 4 else None,
        gateway=gateway,
        no_dhcp=not dhcp,
        allocation_pool=[f"start={a},end={b}" for a, b in pools],
        dns_nameserver=dns,
        host_route=[f"destination={d},gateway={n}" for d, n in routes],
        ipv6_address_mode=mode,
        ipv6_ra_mode=mode,
    )
    task = draft.task(
        "subnet",
        _("Create the subnet"),
        name=name or placeholder(field["name"]),
        network=network,
        cidr=cidr,
        ip_version=version,
        gateway_ip=None if no_gateway else draft.text(field["gateway_ip"]) or None,
        disable_gateway_ip=True if no_gateway else None,
        is_dhcp_enabled=dhcp,
        allocation_pools=[{"start": a, "end": b} for a, b in pools] or None,
        dns_nameservers=dns or None,
        host_routes=[{"destination": d, "nexthop": n} for d, n in routes] or None,
        ipv6_address_mode=mode,
        ipv6_ra_mode=mode,
        state="present",
    )
    return _named(command, name), task


NO_NETWORK_DESCRIPTION = gettext_lazy(
    "The openstack.cloud.network module has no description: the task leaves it out."
)


def _provider(draft: Draft) -> tuple[dict[str, Option], dict[str, Any]]:
    """Admin › Create network's own fields: (the command's options, the task's parameters)."""
    segment = draft.number("provider_segmentation_id")
    attrs = {
        "project": draft.text("project_id") or None,
        # a select sends its first choice until one picks another
        "provider_network_type": draft.text("provider_network_type") or PROVIDER_TYPES[0][0],
        "provider_physical_network": draft.text("provider_physical_network") or None,
        "provider_segment": segment if draft.text("provider_segmentation_id") else None,
    }
    shared, external = draft.flag("is_shared"), draft.flag("is_router_external")
    params = {
        **{k: v for k, v in attrs.items() if k != "provider_segment"},
        "provider_segmentation_id": attrs["provider_segment"],
        "shared": shared,
        "external": external,
    }
    return {**attrs, "share": shared, "external": external}, params


def _network(
    draft: Draft, options: dict[str, Option] | None = None, params: dict[str, Any] | None = None
) -> Code:
    """The network (and its first subnet when ticked); `options` and `params`: the provider
    attributes of the admin's form."""
    name, description = draft.need("name"), draft.text("description") or None
    commands = [
        draft.openstack(
            "network create",
            name,
            **(options or {}),
            description=description,
            **_enable(draft),
        )
    ]
    tasks = [
        draft.task(
            "network",
            _("Create the network"),
            name=name,
            **(params or {}),
            admin_state_up=draft.flag("admin_state_up"),
            state="present",
        )
    ]
    if draft.flag("with_subnet"):
        command, task = _subnet(draft, name, prefix="subnet-")
        commands.append(command)
        tasks.append(task)
    return Code(
        commands=tuple(commands),
        tasks=tuple(tasks),
        note=str(NO_NETWORK_DESCRIPTION) if description else "",
    )


@writes("network:create-network")
def create_network(draft: Draft) -> Code:
    return _network(draft)


@writes("network:admin-create-network")
def admin_create_network(draft: Draft) -> Code:
    return _network(draft, *_provider(draft))


@writes("network:update-network")
def update_network(draft: Draft, network_id: str) -> Code:
    command = draft.openstack(
        "network set",
        network_id,
        name=draft.need("name"),
        description=draft.text("description"),
        enable=draft.flag("admin_state_up"),
        **_enable(draft),
    )
    return Code(
        commands=(command,),
        note=_(
            "openstack.cloud.network finds a network by its name and cannot rename it: "
            "no Ansible task."
        ),
    )


@writes("network:delete-network")
def delete_network(draft: Draft, network_id: str) -> Code:
    return Code(
        commands=(draft.openstack("network delete", network_id),),
        tasks=(draft.task("network", _("Delete the network"), name=network_id, state="absent"),),
    )


@writes("network:create-subnet")
def create_subnet(draft: Draft, network_id: str) -> Code:
    command, task = _subnet(draft, network_id)
    return Code(commands=(command,), tasks=(task,))


@writes("network:update-subnet")
def update_subnet(draft: Draft, network_id: str, subnet_id: str) -> Code:
    no_gateway = draft.flag("no_gateway")
    pools = _pairs(draft.text("allocation_pools"))
    dns = _lines(draft.text("dns_nameservers"))
    routes = _pairs(draft.text("host_routes"))
    command = draft.openstack(
        "subnet set",
        subnet_id,
        name=draft.text("name"),
        gateway="none" if no_gateway else draft.text("gateway_ip") or None,
        dhcp=draft.flag("enable_dhcp"),
        no_dhcp=not draft.flag("enable_dhcp"),
        # the lists replace the subnet's: cleared, then given again
        no_allocation_pool=bool(pools),
        allocation_pool=[f"start={a},end={b}" for a, b in pools],
        no_dns_nameservers=True,
        dns_nameserver=dns,
        no_host_route=True,
        host_route=[f"destination={d},gateway={n}" for d, n in routes],
    )
    return Code(
        commands=(command,),
        note=_(
            "openstack.cloud.subnet finds a subnet by its name and cannot rename it: "
            "no Ansible task."
        ),
    )


@writes("network:delete-subnet")
def delete_subnet(draft: Draft, network_id: str, subnet_id: str) -> Code:
    return Code(
        commands=(draft.openstack("subnet delete", subnet_id),),
        tasks=(draft.task("subnet", _("Delete the subnet"), name=subnet_id, state="absent"),),
    )


# --- ports ------------------------------------------------------------------------------------


@writes("network:create-port")
def create_port(draft: Draft, network_id: str) -> Code:
    name, subnet, address = draft.text("name"), draft.text("subnet_id"), draft.text("ip_address")
    groups, description = draft.all("security_group_ids"), draft.text("description") or None
    fixed = {"subnet": subnet, "ip-address": address}
    fixed_ip = ",".join(f"{k}={v}" for k, v in fixed.items() if v)
    fixed_ips = {"subnet_id": subnet, "ip_address": address}
    command = draft.openstack(
        "port create",
        network=network_id,
        fixed_ip=fixed_ip or None,
        security_group=groups,
        no_security_group=not groups,
        description=description,
        **_enable(draft),
    )
    task = draft.task(
        "port",
        _("Create the port"),
        name=name or placeholder("name"),
        network=network_id,
        fixed_ips=[{k: v for k, v in fixed_ips.items() if v}] if fixed_ip else None,
        security_groups=groups or None,
        no_security_groups=True if not groups else None,
        is_admin_state_up=draft.flag("admin_state_up"),
        description=description,
        state="present",
    )
    return Code(commands=(_named(command, name),), tasks=(task,))


@writes("network:delete-port")
def delete_port(draft: Draft, network_id: str, port_id: str) -> Code:
    return Code(
        commands=(draft.openstack("port delete", port_id),),
        tasks=(draft.task("port", _("Delete the port"), name=port_id, state="absent"),),
    )


# --- routers ----------------------------------------------------------------------------------

NO_ROUTER_MODULE = gettext_lazy(
    "openstack.cloud.router describes a whole router (its gateway, every interface, enabled "
    "or not); this change of one part of it has no task of its own."
)


@writes("network:create-router")
def create_router(draft: Draft) -> Code:
    name, external = draft.need("name"), draft.text("external_network_id") or None
    return Code(
        commands=(
            draft.openstack("router create", name, external_gateway=external, **_enable(draft)),
        ),
        tasks=(
            draft.task(
                "router",
                _("Create the router"),
                name=name,
                network=external,
                is_admin_state_up=draft.flag("admin_state_up"),
                state="present",
            ),
        ),
    )


@writes("network:update-router")
def update_router(draft: Draft, router_id: str) -> Code:
    command = draft.openstack(
        "router set",
        router_id,
        name=draft.need("name"),
        description=draft.text("description"),
        enable=draft.flag("admin_state_up"),
        **_enable(draft),
    )
    return Code(
        commands=(command,),
        note=_(
            "openstack.cloud.router finds a router by its name and cannot rename it nor set "
            "its description: no Ansible task."
        ),
    )


@writes("network:delete-router")
def delete_router(draft: Draft, router_id: str) -> Code:
    """As the portal's job does: gateway, routes and interfaces first, then the router."""
    interfaces = draft.openstack(
        "port list", router=router_id, device_owner="network:router_interface"
    )
    remove = draft.openstack("router remove port", router_id)
    return Code(
        commands=(
            draft.openstack("router unset", router_id, external_gateway=True),
            draft.openstack("router set", router_id, no_route=True),
            f'for port in $({interfaces} -f value -c ID); do {remove} "$port"; done',
            draft.openstack("router delete", router_id),
        ),
        tasks=(
            # the module removes the router's interfaces before deleting it
            draft.task("router", _("Delete the router"), name=router_id, state="absent"),
        ),
    )


@writes("network:set-router-gateway")
def set_router_gateway(draft: Draft, router_id: str) -> Code:
    return Code(
        commands=(
            draft.openstack("router set", router_id, external_gateway=draft.need("network_id")),
        ),
        note=str(NO_ROUTER_MODULE),
    )


@writes("network:clear-router-gateway")
def clear_router_gateway(draft: Draft, router_id: str) -> Code:
    return Code(
        commands=(draft.openstack("router unset", router_id, external_gateway=True),),
        note=str(NO_ROUTER_MODULE),
    )


@writes("network:add-interface-to-router")
def add_interface_to_router(draft: Draft, router_id: str) -> Code:
    subnet, address = draft.need("subnet_id"), draft.text("ip_address")
    if not address:
        return Code(
            commands=(draft.openstack("router add subnet", router_id, subnet),),
            note=str(NO_ROUTER_MODULE),
        )
    # As the portal does: a port with the address asked for, on the subnet's network, then the
    # router's interface on that port.
    network = draft.openstack("subnet show", subnet) + " -f value -c network_id"
    port = draft.openstack("port create", fixed_ip=f"subnet={subnet},ip-address={address}")
    port = port.replace(" port create ", f' port create --network "$({network})" ', 1)
    return Code(
        commands=(
            f"PORT=$({port} -f value -c id '')",
            draft.openstack("router add port", router_id) + ' "$PORT"',
        ),
        note=str(NO_ROUTER_MODULE),
    )


@writes("network:remove-interface-from-router")
def remove_interface_from_router(draft: Draft, router_id: str) -> Code:
    return Code(
        commands=(draft.openstack("router remove port", router_id, draft.need("port_id")),),
        note=str(NO_ROUTER_MODULE),
    )


def _route(draft: Draft) -> str:
    return f"destination={draft.need('destination')},gateway={draft.need('nexthop')}"


NO_ROUTE_MODULE = gettext_lazy("openstack.cloud has no module for a router's static routes.")


@writes("network:add-extra-routes-to-router")
def add_extra_routes_to_router(draft: Draft, router_id: str) -> Code:
    return Code(
        commands=(draft.openstack("router add route", router_id, route=_route(draft)),),
        note=str(NO_ROUTE_MODULE),
    )


@writes("network:remove-extra-routes-from-router")
def remove_extra_routes_from_router(draft: Draft, router_id: str) -> Code:
    return Code(
        commands=(draft.openstack("router remove route", router_id, route=_route(draft)),),
        note=str(NO_ROUTE_MODULE),
    )


# --- security groups --------------------------------------------------------------------------


@writes("network:create-security-group")
def create_security_group(draft: Draft) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    return Code(
        commands=(draft.openstack("security group create", name, description=description),),
        tasks=(
            draft.task(
                "security_group",
                _("Create the security group"),
                name=name,
                description=description,
                state="present",
            ),
        ),
    )


@writes("network:update-security-group")
def update_security_group(draft: Draft, group_id: str) -> Code:
    command = draft.openstack(
        "security group set",
        group_id,
        name=draft.need("name"),
        description=draft.text("description"),
    )
    return Code(
        commands=(command,),
        note=_(
            "openstack.cloud.security_group finds a group by its name and cannot rename it: "
            "no Ansible task."
        ),
    )


@writes("network:delete-security-group")
def delete_security_group(draft: Draft, group_id: str) -> Code:
    return Code(
        commands=(draft.openstack("security group delete", group_id),),
        tasks=(
            draft.task(
                "security_group", _("Delete the security group"), name=group_id, state="absent"
            ),
        ),
    )


def _rule_protocol(draft: Draft, ipv6: bool) -> str | None:
    """Neutron's protocol of the rule form: None for any; ICMP of an IPv6 rule is ipv6-icmp."""
    choice = draft.text("protocol") or "tcp"
    if choice == "any":
        return None
    if choice == "number":
        number = draft.text("protocol_number")
        protocol = PROTOCOL_NUMBERS.get(number, number) or placeholder("protocol_number")
    else:
        protocol = choice
    return "ipv6-icmp" if ipv6 and protocol == "icmp" else protocol


def _rule_ports(draft: Draft, protocol: str | None) -> tuple[int | str | None, int | str | None]:
    """(min, max): the port range, or for ICMP its type and code, as Neutron keeps them."""
    if protocol in ("icmp", "ipv6-icmp"):
        kind, code = draft.text("icmp_type"), draft.text("icmp_code")
        return (draft.number("icmp_type") if kind else None), (
            draft.number("icmp_code") if code else None
        )
    text = draft.text("port").replace(":", "-")
    if not text:
        return None, None
    low, _sep, high = text.partition("-")
    numbers = [int(p) if p.strip().isdigit() else placeholder("port") for p in (low, high or low)]
    return numbers[0], numbers[1]


def _rule_remote(draft: Draft, ipv6: bool) -> tuple[str | None, str | None]:
    """(remote IP prefix, remote group): a single address is a /32 (/128), as the form says."""
    if draft.text("remote") == "group":
        return None, draft.need("remote_group_id")
    prefix = draft.text("remote_ip_prefix")
    if prefix and "/" not in prefix:
        prefix += "/128" if ipv6 else "/32"
    return prefix or None, None


@writes("network:create-security-group-rule")
def create_security_group_rule(draft: Draft, group_id: str) -> Code:
    ether_type = draft.text("ether_type") or "IPv4"
    ipv6 = ether_type == "IPv6"
    direction = draft.text("direction") or "ingress"
    protocol = _rule_protocol(draft, ipv6)
    low, high = _rule_ports(draft, protocol)
    prefix, remote_group = _rule_remote(draft, ipv6)
    description = draft.text("description") or None
    icmp = protocol in ("icmp", "ipv6-icmp")
    command = draft.openstack(
        "security group rule create",
        group_id,
        ingress=direction == "ingress",
        egress=direction == "egress",
        ethertype=ether_type,
        protocol=protocol or "any",
        dst_port=None if icmp or low is None else low if low == high else f"{low}:{high}",
        # as text: Draft.openstack leaves out an option 0 (0 == False), and code 0 is common
        icmp_type=str(low) if icmp and low is not None else None,
        icmp_code=str(high) if icmp and high is not None else None,
        remote_ip=prefix,
        remote_group=remote_group,
        description=description,
    )
    task = draft.task(
        "security_group_rule",
        _("Add the rule to the security group"),
        security_group=group_id,
        direction=direction,
        ether_type=ether_type,
        protocol=protocol or "any",
        port_range_min=low,
        port_range_max=high,
        remote_ip_prefix=prefix,
        remote_group=remote_group,
        description=description,
        state="present",
    )
    return Code(commands=(command,), tasks=(task,))


@writes("network:delete-security-group-rule")
def delete_security_group_rule(draft: Draft, group_id: str, rule_id: str) -> Code:
    return Code(
        commands=(draft.openstack("security group rule delete", rule_id),),
        note=_(
            "openstack.cloud.security_group_rule finds a rule by what it allows, not by its "
            "ID: no Ansible task."
        ),
    )


# --- floating IPs -----------------------------------------------------------------------------

NO_FLOATING_IP_MODULE = gettext_lazy(
    "openstack.cloud.floating_ip works on a server's floating IP, not on an address by itself "
    "or a port: no Ansible task."
)


@writes("network:create-floating-ip")
def create_floating_ip(draft: Draft) -> Code:
    command = draft.openstack(
        "floating ip create",
        draft.need("floating_network_id"),
        floating_ip_address=draft.text("floating_ip_address"),
        description=draft.text("description"),
    )
    return Code(commands=(command,), note=str(NO_FLOATING_IP_MODULE))


@writes("network:associate-floating-ip")
def associate_floating_ip(draft: Draft, floating_ip_id: str) -> Code:
    port, _sep, address = draft.text("target").partition(" ")
    command = draft.openstack(
        "floating ip set",
        floating_ip_id,
        port=port or placeholder("port"),
        fixed_ip_address=address,
    )
    return Code(commands=(command,), note=str(NO_FLOATING_IP_MODULE))


@writes("network:disassociate-floating-ip")
def disassociate_floating_ip(draft: Draft, floating_ip_id: str) -> Code:
    return Code(
        commands=(draft.openstack("floating ip unset", floating_ip_id, port=True),),
        note=str(NO_FLOATING_IP_MODULE),
    )


@writes("network:delete-floating-ip")
def delete_floating_ip(draft: Draft, floating_ip_id: str) -> Code:
    return Code(
        commands=(draft.openstack("floating ip delete", floating_ip_id),),
        note=str(NO_FLOATING_IP_MODULE),
    )
