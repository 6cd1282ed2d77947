"""Forms of the network pages. Everything Neutron would refuse for its form is caught here
first, with a message at the field: a CIDR with host bits set, a gateway outside its subnet,
overlapping allocation pools, a port range upside down, a rule the group already has.
Neutron still has the last word (quota, policy, races); views show its reason as it is."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.gateway import Network, Route, SecurityGroup, SecurityGroupRule, Subnet
from portal.forms import PortalForm
from portal.validators import cloud_text

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_DNS_SERVERS = 5  # Neutron's default max_dns_nameservers
MAX_HOST_ROUTES = 20  # Neutron's default max_subnet_host_routes
# The subnet's line-per-entry fields: room for a hundred pools or routes, and no more (the
# pools are compared pairwise, so their number must stay small).
TEXTAREA_MAX = 4096


# --- parsing helpers: each raises ValidationError with a message for the person typing --------


def parse_cidr(value: str, version: int | None = None) -> IPNetwork:
    text = value.strip()
    if "/" not in text:
        raise ValidationError(
            _("“%(value)s” has no prefix length. Write it like 192.168.1.0/24 or fd00::/64.")
            % {"value": text}
        )
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not a network address. Write it like 192.168.1.0/24 or fd00::/64.")
            % {"value": text}
        ) from None
    if ipaddress.ip_address(text.split("/")[0]) != loose.network_address:
        raise ValidationError(
            _("“%(value)s” has host bits set: the network address is %(network)s.")
            % {"value": text, "network": loose}
        )
    if version is not None and loose.version != version:
        raise ValidationError(
            _("%(value)s is an IPv%(found)d network, but this needs IPv%(wanted)d.")
            % {"value": text, "found": loose.version, "wanted": version}
        )
    return loose


def parse_ip(value: str, version: int | None = None) -> IPAddress:
    text = value.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValidationError(_("“%(value)s” is not an IP address.") % {"value": text}) from None
    if version is not None and address.version != version:
        raise ValidationError(
            _("%(value)s is an IPv%(found)d address, but this needs IPv%(wanted)d.")
            % {"value": text, "found": address.version, "wanted": version}
        )
    return address


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pair(line: str) -> tuple[str, str]:
    """ "a,b", "a - b" or "a b" -> (a, b)."""
    for sep in (",", " - ", "-", " "):
        if sep in line:
            first, second = line.split(sep, 1)
            if first.strip() and second.strip():
                return first.strip(), second.strip()
    raise ValidationError(_("“%(line)s” needs two values separated by a comma.") % {"line": line})


def usable_host(network: IPNetwork, address: IPAddress) -> bool:
    """Inside the network and neither its network address nor (IPv4) its broadcast address."""
    if address not in network:
        return False
    if network.version == 4 and network.prefixlen < 31:
        return address not in (network.network_address, network.broadcast_address)
    return address != network.network_address


def has_host_room(network: IPNetwork) -> bool:
    return network.num_addresses >= (4 if network.version == 4 else 2)


# --- networks and subnets ---------------------------------------------------------------------

IPV6_MODES = [
    ("", gettext_lazy("No options (IPv6 addresses from the pool, no router advertisements)")),
    ("slaac", gettext_lazy("SLAAC: addresses from router advertisements")),
    ("dhcpv6-stateful", gettext_lazy("DHCPv6 stateful: addresses and options from DHCPv6")),
    (
        "dhcpv6-stateless",
        gettext_lazy("DHCPv6 stateless: addresses from SLAAC, options from DHCPv6"),
    ),
]


class SubnetForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("Subnet name"), max_length=255, required=False, validators=[cloud_text]
    )
    cidr = forms.CharField(
        label=gettext_lazy("Network address (CIDR)"),
        max_length=64,
        help_text=gettext_lazy("For example 192.168.10.0/24 or fd00:10::/64."),
    )
    ip_version = forms.TypedChoiceField(
        label=gettext_lazy("IP version"),
        choices=[(4, "IPv4"), (6, "IPv6")],
        coerce=int,
        initial=4,
    )
    gateway_ip = forms.CharField(
        label=gettext_lazy("Gateway IP"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Empty: the first address of the subnet."),
    )
    no_gateway = forms.BooleanField(label=gettext_lazy("No gateway"), required=False)
    enable_dhcp = forms.BooleanField(
        label=gettext_lazy("Enable DHCP"), required=False, initial=True
    )
    allocation_pools = forms.CharField(
        label=gettext_lazy("Allocation pools"),
        required=False,
        max_length=TEXTAREA_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "One range per line: first,last (for example 192.168.10.100,192.168.10.200). "
            "Empty: the whole subnet."
        ),
    )
    dns_nameservers = forms.CharField(
        label=gettext_lazy("DNS name servers"),
        required=False,
        max_length=TEXTAREA_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One IP address per line."),
    )
    host_routes = forms.CharField(
        label=gettext_lazy("Host routes"),
        required=False,
        max_length=TEXTAREA_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "One route per line: destination CIDR,next hop (for example 10.50.0.0/24,192.168.10.5)."
        ),
    )
    ipv6_mode = forms.ChoiceField(
        label=gettext_lazy("IPv6 address mode"), choices=IPV6_MODES, required=False
    )

    def __init__(
        self,
        *args: Any,
        others: Sequence[Subnet] = (),
        editing: Subnet | None = None,
        **kwargs: Any,
    ) -> None:
        """others: the network's other subnets (a new CIDR must not overlap them).
        editing: the subnet being edited; Neutron cannot change its CIDR, version or mode."""
        if editing is not None:
            kwargs.setdefault("initial", subnet_initial(editing))
        super().__init__(*args, **kwargs)
        self.others = list(others)
        self.editing = editing
        if editing is not None:
            for name in ("cidr", "ip_version", "ipv6_mode"):
                self.fields[name].disabled = True
                self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.editing is not None:
            data["cidr"] = self.editing.cidr
            data["ip_version"] = self.editing.ip_version
        try:
            network = parse_cidr(data.get("cidr") or "")
        except ValidationError as exc:
            if "cidr" not in self.errors and data.get("cidr"):
                self.add_error("cidr", exc)
            return data
        self._check_network(data, network)
        gateway = self._check_gateway(data, network)
        self._check_pools(data, network, gateway)
        self._check_dns(data)
        self._check_routes(data, network)
        return data

    def _check_network(self, data: dict[str, Any], network: IPNetwork) -> None:
        version = data.get("ip_version")
        if self.editing is None and version and network.version != version:
            self.add_error(
                "cidr",
                _("%(cidr)s is an IPv%(found)d network, but IP version %(wanted)d is chosen.")
                % {"cidr": network, "found": network.version, "wanted": version},
            )
        if not has_host_room(network):
            self.add_error("cidr", _("%(cidr)s is too small to hold any host.") % {"cidr": network})
        for other in self.others:
            if self.editing is not None and other.id == self.editing.id:
                continue
            other_net = ipaddress.ip_network(other.cidr, strict=False)
            if other_net.version == network.version and other_net.overlaps(network):
                self.add_error(
                    "cidr",
                    _("%(cidr)s overlaps subnet %(name)s (%(other)s) of this network.")
                    % {"cidr": network, "name": other.label, "other": other.cidr},
                )
        mode = data.get("ipv6_mode") or ""
        if mode and network.version == 4:
            self.add_error("ipv6_mode", _("IPv6 address modes apply to IPv6 subnets only."))
        if mode in ("slaac", "dhcpv6-stateless") and network.prefixlen != 64:
            self.add_error(
                "cidr", _("SLAAC needs a /64 network; %(cidr)s is not one.") % {"cidr": network}
            )

    def _check_gateway(self, data: dict[str, Any], network: IPNetwork) -> IPAddress | None:
        if data.get("no_gateway"):
            if data.get("gateway_ip"):
                self.add_error("gateway_ip", _("Leave the gateway empty when there is none."))
            return None
        if not data.get("gateway_ip"):
            # Neutron's default gateway: the first address after the network address.
            return network.network_address + 1 if has_host_room(network) else None
        try:
            gateway = parse_ip(data["gateway_ip"], network.version)
        except ValidationError as exc:
            self.add_error("gateway_ip", exc)
            return None
        if not usable_host(network, gateway):
            self.add_error(
                "gateway_ip",
                _("The gateway %(ip)s is not a host address inside %(cidr)s.")
                % {"ip": gateway, "cidr": network},
            )
            return None
        data["gateway_ip"] = str(gateway)
        return gateway

    def _check_pools(
        self, data: dict[str, Any], network: IPNetwork, gateway: IPAddress | None
    ) -> None:
        pools: list[tuple[IPAddress, IPAddress]] = []
        # Compared as integers: both ends have the network's IP version (parse_ip checks it).
        at_gateway = int(gateway) if gateway is not None else None
        for line in _lines(data.get("allocation_pools") or ""):
            try:
                first_text, last_text = _pair(line)
                first = parse_ip(first_text, network.version)
                last = parse_ip(last_text, network.version)
            except ValidationError as exc:
                self.add_error("allocation_pools", exc)
                continue
            if not (usable_host(network, first) and usable_host(network, last)):
                self.add_error(
                    "allocation_pools",
                    _("The pool %(first)s-%(last)s is not inside the host addresses of %(cidr)s.")
                    % {"first": first, "last": last, "cidr": network},
                )
                continue
            if int(first) > int(last):
                self.add_error(
                    "allocation_pools",
                    _("The pool %(first)s-%(last)s ends before it starts.")
                    % {"first": first, "last": last},
                )
                continue
            if at_gateway is not None and int(first) <= at_gateway <= int(last):
                self.add_error(
                    "allocation_pools",
                    _("The pool %(first)s-%(last)s contains the gateway %(gateway)s.")
                    % {"first": first, "last": last, "gateway": gateway},
                )
            for other_first, other_last in pools:
                if int(first) <= int(other_last) and int(other_first) <= int(last):
                    self.add_error(
                        "allocation_pools",
                        _("The pools %(a)s and %(b)s overlap.")
                        % {"a": f"{other_first}-{other_last}", "b": f"{first}-{last}"},
                    )
            pools.append((first, last))
        data["allocation_pools_list"] = [{"start": str(a), "end": str(b)} for a, b in pools]

    def _check_dns(self, data: dict[str, Any]) -> None:
        servers: list[str] = []
        for line in _lines(data.get("dns_nameservers") or ""):
            try:
                address = str(parse_ip(line))
            except ValidationError as exc:
                self.add_error("dns_nameservers", exc)
                continue
            if address in servers:
                self.add_error("dns_nameservers", _("%(ip)s is listed twice.") % {"ip": address})
            servers.append(address)
        if len(servers) > MAX_DNS_SERVERS:
            self.add_error(
                "dns_nameservers",
                _("At most %(n)d DNS name servers are allowed.") % {"n": MAX_DNS_SERVERS},
            )
        data["dns_nameservers_list"] = servers

    def _check_routes(self, data: dict[str, Any], network: IPNetwork) -> None:
        routes: list[dict[str, str]] = []
        for line in _lines(data.get("host_routes") or ""):
            try:
                destination_text, nexthop_text = _pair(line)
                destination = parse_cidr(destination_text, network.version)
                nexthop = parse_ip(nexthop_text, network.version)
            except ValidationError as exc:
                self.add_error("host_routes", exc)
                continue
            route = {"destination": str(destination), "nexthop": str(nexthop)}
            if route in routes:
                self.add_error(
                    "host_routes",
                    _("The route to %(dest)s is listed twice.") % {"dest": destination},
                )
            routes.append(route)
        if len(routes) > MAX_HOST_ROUTES:
            self.add_error(
                "host_routes",
                _("At most %(n)d host routes are allowed.") % {"n": MAX_HOST_ROUTES},
            )
        data["host_routes_list"] = routes

    def subnet_attrs(self) -> dict[str, Any]:
        """The cleaned form in Neutron's words (for create_subnet, or update_subnet)."""
        data = self.cleaned_data
        attrs: dict[str, Any] = {
            "name": data["name"],
            "is_dhcp_enabled": bool(data["enable_dhcp"]),
            "dns_nameservers": data["dns_nameservers_list"],
            "host_routes": data["host_routes_list"],
        }
        if data["no_gateway"]:
            attrs["gateway_ip"] = None
        elif data.get("gateway_ip"):
            attrs["gateway_ip"] = data["gateway_ip"]
        if data["allocation_pools_list"]:
            attrs["allocation_pools"] = data["allocation_pools_list"]
        if self.editing is None:
            attrs["cidr"] = str(ipaddress.ip_network(data["cidr"].strip(), strict=False))
            attrs["ip_version"] = data["ip_version"]
            if data.get("ipv6_mode"):
                attrs["ipv6_address_mode"] = data["ipv6_mode"]
                attrs["ipv6_ra_mode"] = data["ipv6_mode"]
        return attrs


def subnet_initial(subnet: Subnet) -> dict[str, Any]:
    return {
        "name": subnet.name,
        "cidr": subnet.cidr,
        "ip_version": subnet.ip_version,
        "gateway_ip": subnet.gateway_ip or "",
        "no_gateway": subnet.gateway_ip is None,
        "enable_dhcp": subnet.is_dhcp_enabled,
        "allocation_pools": "\n".join(f"{a},{b}" for a, b in subnet.allocation_pools),
        "dns_nameservers": "\n".join(subnet.dns_nameservers),
        "host_routes": "\n".join(f"{d},{n}" for d, n in subnet.host_routes),
        "ipv6_mode": subnet.ipv6_address_mode or "",
    }


class NetworkForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("Network name"), max_length=255, validators=[cloud_text]
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=255, required=False, validators=[cloud_text]
    )
    admin_state_up = forms.BooleanField(
        label=gettext_lazy("Enabled (admin state up)"), required=False, initial=True
    )

    def network_attrs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "is_admin_state_up": bool(data["admin_state_up"]),
        }


class CreateNetworkForm(NetworkForm):
    with_subnet = forms.BooleanField(
        label=gettext_lazy("Create a first subnet"), required=False, initial=True
    )


def network_initial(network: Network) -> dict[str, Any]:
    return {
        "name": network.name,
        "description": network.description,
        "admin_state_up": network.is_admin_state_up,
    }


PROVIDER_TYPES = [
    ("vlan", "VLAN"),
    ("flat", gettext_lazy("Flat")),
    ("vxlan", "VXLAN"),
    ("geneve", "Geneve"),
]
SEGMENT_RANGES = {"vlan": (1, 4094), "vxlan": (1, 16777215), "geneve": (1, 16777215)}


class ProviderNetworkForm(CreateNetworkForm):
    """Admin › Networks: a network for any project, on a physical network if need be."""

    project_id = forms.ChoiceField(label=gettext_lazy("Project"))
    provider_network_type = forms.ChoiceField(
        label=gettext_lazy("Provider network type"), choices=PROVIDER_TYPES
    )
    provider_physical_network = forms.CharField(
        label=gettext_lazy("Physical network"),
        max_length=64,
        required=False,
        validators=[cloud_text],
        help_text=gettext_lazy("Required for flat and VLAN networks (for example “public”)."),
    )
    provider_segmentation_id = forms.IntegerField(
        label=gettext_lazy("Segmentation ID"),
        required=False,
        help_text=gettext_lazy("The VLAN ID (1-4094) or VXLAN/Geneve VNI; empty for flat."),
    )
    is_shared = forms.BooleanField(label=gettext_lazy("Shared with all projects"), required=False)
    is_router_external = forms.BooleanField(
        label=gettext_lazy("External network (routers may use it as their gateway)"),
        required=False,
    )

    field_order = [
        "name",
        "project_id",
        "provider_network_type",
        "provider_physical_network",
        "provider_segmentation_id",
        "is_shared",
        "is_router_external",
        "admin_state_up",
        "description",
        "with_subnet",
    ]

    def __init__(self, *args: Any, projects: Iterable[tuple[str, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["project_id"].choices = list(projects)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("provider_network_type")
        physnet = (data.get("provider_physical_network") or "").strip()
        segment = data.get("provider_segmentation_id")
        if kind in ("flat", "vlan") and not physnet:
            self.add_error(
                "provider_physical_network",
                _("A %(type)s network needs a physical network.") % {"type": kind},
            )
        if kind in ("vxlan", "geneve") and physnet:
            self.add_error(
                "provider_physical_network",
                _("A %(type)s network has no physical network.") % {"type": kind},
            )
        if kind == "flat" and segment is not None:
            self.add_error("provider_segmentation_id", _("A flat network has no segmentation ID."))
        if kind == "vlan" and segment is None:
            self.add_error("provider_segmentation_id", _("A VLAN network needs a VLAN ID."))
        if kind in SEGMENT_RANGES and segment is not None:
            low, high = SEGMENT_RANGES[kind]
            if not low <= segment <= high:
                self.add_error(
                    "provider_segmentation_id",
                    _("The segmentation ID must be between %(low)d and %(high)d.")
                    % {"low": low, "high": high},
                )
        data["provider_physical_network"] = physnet
        return data

    def network_attrs(self) -> dict[str, Any]:
        data = self.cleaned_data
        attrs = super().network_attrs()
        attrs.update(
            project_id=data["project_id"],
            provider_network_type=data["provider_network_type"],
            is_shared=bool(data["is_shared"]),
            is_router_external=bool(data["is_router_external"]),
        )
        if data["provider_physical_network"]:
            attrs["provider_physical_network"] = data["provider_physical_network"]
        if data["provider_segmentation_id"] is not None:
            attrs["provider_segmentation_id"] = data["provider_segmentation_id"]
        return attrs


# --- ports ------------------------------------------------------------------------------------


class PortForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("Port name"), max_length=255, required=False, validators=[cloud_text]
    )
    subnet_id = forms.ChoiceField(label=gettext_lazy("Subnet"), required=False)
    ip_address = forms.CharField(
        label=gettext_lazy("Fixed IP address"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Empty: the next free address of the subnet."),
    )
    security_group_ids = forms.MultipleChoiceField(
        label=gettext_lazy("Security groups"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    admin_state_up = forms.BooleanField(
        label=gettext_lazy("Enabled (admin state up)"), required=False, initial=True
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=255, required=False, validators=[cloud_text]
    )

    def __init__(
        self,
        *args: Any,
        subnets: Sequence[Subnet] = (),
        groups: Sequence[SecurityGroup] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.subnets = {s.id: s for s in subnets}
        self.fields["subnet_id"].choices = [("", _("Any subnet"))] + [  # type: ignore[attr-defined]
            (s.id, f"{s.label} ({s.cidr})") for s in subnets
        ]
        self.fields["security_group_ids"].choices = [  # type: ignore[attr-defined]
            (g.id, g.name or g.id) for g in groups
        ]
        default = [g.id for g in groups if g.name == "default"]
        self.fields["security_group_ids"].initial = default

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = (data.get("ip_address") or "").strip()
        subnet = self.subnets.get(data.get("subnet_id") or "")
        if not text:
            return data
        try:
            address = parse_ip(text)
        except ValidationError as exc:
            self.add_error("ip_address", exc)
            return data
        candidates = [subnet] if subnet else list(self.subnets.values())
        inside = [
            s
            for s in candidates
            if usable_host(ipaddress.ip_network(s.cidr, strict=False), address)
        ]
        if not inside:
            where = subnet.cidr if subnet else _("any subnet of this network")
            self.add_error(
                "ip_address",
                _("%(ip)s is not a host address in %(where)s.") % {"ip": address, "where": where},
            )
            return data
        data["subnet_id"] = inside[0].id
        data["ip_address"] = str(address)
        return data

    def port_attrs(self, network_id: str) -> dict[str, Any]:
        data = self.cleaned_data
        attrs: dict[str, Any] = {
            "network_id": network_id,
            "name": data["name"],
            "description": data["description"],
            "is_admin_state_up": bool(data["admin_state_up"]),
            "security_group_ids": list(data["security_group_ids"]),
        }
        if data.get("subnet_id"):
            fixed = {"subnet_id": data["subnet_id"]}
            if data.get("ip_address"):
                fixed["ip_address"] = data["ip_address"]
            attrs["fixed_ips"] = [fixed]
        return attrs


# --- routers ----------------------------------------------------------------------------------


def external_choices(networks: Iterable[Network]) -> list[tuple[str, str]]:
    return [(n.id, n.label) for n in networks if n.is_router_external]


class RouterForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("Router name"), max_length=255, validators=[cloud_text]
    )
    admin_state_up = forms.BooleanField(
        label=gettext_lazy("Enabled (admin state up)"), required=False, initial=True
    )
    external_network_id = forms.ChoiceField(
        label=gettext_lazy("External network (gateway)"), required=False
    )

    def __init__(self, *args: Any, externals: Iterable[Network] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("No gateway")), *external_choices(externals)]
        self.fields["external_network_id"].choices = choices  # type: ignore[attr-defined]


class RouterUpdateForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("Router name"), max_length=255, validators=[cloud_text]
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=255, required=False, validators=[cloud_text]
    )
    admin_state_up = forms.BooleanField(
        label=gettext_lazy("Enabled (admin state up)"), required=False
    )


class RouterGatewayForm(PortalForm):
    network_id = forms.ChoiceField(label=gettext_lazy("External network"))

    def __init__(self, *args: Any, externals: Iterable[Network] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network_id"].choices = external_choices(externals)  # type: ignore[attr-defined]


class RouterInterfaceForm(PortalForm):
    subnet_id = forms.ChoiceField(label=gettext_lazy("Subnet"))
    ip_address = forms.CharField(
        label=gettext_lazy("Interface IP address"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Empty: the subnet's gateway address."),
    )

    def __init__(
        self,
        *args: Any,
        subnets: Sequence[Subnet] = (),
        networks: dict[str, Network] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.subnets = {s.id: s for s in subnets}
        names = networks or {}

        def label(s: Subnet) -> str:
            network = names.get(s.network_id)
            return f"{network.label if network else s.network_id}: {s.label} ({s.cidr})"

        self.fields["subnet_id"].choices = [(s.id, label(s)) for s in subnets]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        subnet = self.subnets.get(data.get("subnet_id") or "")
        text = (data.get("ip_address") or "").strip()
        if subnet is None or not text:
            return data
        network = ipaddress.ip_network(subnet.cidr, strict=False)
        try:
            address = parse_ip(text, network.version)
        except ValidationError as exc:
            self.add_error("ip_address", exc)
            return data
        if not usable_host(network, address):
            self.add_error(
                "ip_address",
                _("%(ip)s is not a host address in %(cidr)s.") % {"ip": address, "cidr": network},
            )
        data["ip_address"] = str(address)
        return data


class RouteForm(PortalForm):
    destination = forms.CharField(
        label=gettext_lazy("Destination CIDR"),
        max_length=64,
        help_text=gettext_lazy("For example 10.50.0.0/24."),
    )
    nexthop = forms.CharField(
        label=gettext_lazy("Next hop"),
        max_length=64,
        help_text=gettext_lazy("An address on one of the router's subnets."),
    )

    def __init__(
        self,
        *args: Any,
        connected: Sequence[str] = (),
        routes: Sequence[Route] = (),
        **kwargs: Any,
    ) -> None:
        """connected: CIDRs of the subnets the router has interfaces on."""
        super().__init__(*args, **kwargs)
        self.connected = [ipaddress.ip_network(c, strict=False) for c in connected]
        self.routes = list(routes)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            destination = parse_cidr(data.get("destination") or "")
        except ValidationError as exc:
            if data.get("destination"):
                self.add_error("destination", exc)
            return data
        try:
            nexthop = parse_ip(data.get("nexthop") or "", destination.version)
        except ValidationError as exc:
            if data.get("nexthop"):
                self.add_error("nexthop", exc)
            return data
        if not any(nexthop in net for net in self.connected):
            self.add_error(
                "nexthop",
                _(
                    "%(ip)s is not on any subnet this router is connected to; add an interface "
                    "on that subnet first."
                )
                % {"ip": nexthop},
            )
        if Route(str(destination), str(nexthop)) in self.routes:
            self.add_error(None, _("The router already has this route."))
        data["route"] = Route(str(destination), str(nexthop))
        return data


# --- security groups --------------------------------------------------------------------------


class SecurityGroupForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255, validators=[cloud_text])
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[cloud_text],
    )

    def __init__(self, *args: Any, editing: SecurityGroup | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if name == "default" and (self.editing is None or self.editing.name != "default"):
            raise ValidationError(_("“default” is the name of the group every project has."))
        return name


PROTOCOLS = [
    ("tcp", "TCP"),
    ("udp", "UDP"),
    ("icmp", "ICMP"),
    ("any", gettext_lazy("Any protocol")),
    ("number", gettext_lazy("Other (IP protocol number)")),
]
# IP protocol numbers Neutron also accepts by name; a rule given by number equals its name's.
PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "132": "sctp"}
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "dccp", "udplite"}

# Presets fill the rule form (Horizon's list, plus a few common services).
RULE_PRESETS: dict[str, tuple[str | Promise, dict[str, Any]]] = {
    "ssh": ("SSH", {"protocol": "tcp", "port": "22"}),
    "http": ("HTTP", {"protocol": "tcp", "port": "80"}),
    "https": ("HTTPS", {"protocol": "tcp", "port": "443"}),
    "icmp": ("ICMP", {"protocol": "icmp"}),
    "all-tcp": (gettext_lazy("All TCP"), {"protocol": "tcp", "port": "1-65535"}),
    "all-udp": (gettext_lazy("All UDP"), {"protocol": "udp", "port": "1-65535"}),
    "dns": ("DNS", {"protocol": "udp", "port": "53"}),
    "rdp": ("RDP", {"protocol": "tcp", "port": "3389"}),
    "mysql": ("MySQL", {"protocol": "tcp", "port": "3306"}),
    "postgresql": ("PostgreSQL", {"protocol": "tcp", "port": "5432"}),
    "ldap": ("LDAP", {"protocol": "tcp", "port": "389"}),
    "smtp": ("SMTP", {"protocol": "tcp", "port": "25"}),
    "imaps": ("IMAPS", {"protocol": "tcp", "port": "993"}),
}
RULE_DEFAULTS = {
    "direction": "ingress",
    "ether_type": "IPv4",
    "protocol": "tcp",
    "remote": "cidr",
    "remote_ip_prefix": "0.0.0.0/0",
}


def preset_initial(preset: str) -> dict[str, Any]:
    initial = dict(RULE_DEFAULTS)
    if preset in RULE_PRESETS:
        initial.update(RULE_PRESETS[preset][1])
    return initial


def rule_key(rule: SecurityGroupRule) -> tuple[Any, ...]:
    """What makes two rules the same rule, as Neutron compares them (0.0.0.0/0 equals any)."""
    protocol = PROTOCOL_NUMBERS.get(rule.protocol or "", rule.protocol)
    if rule.ether_type == "IPv6" and protocol in ("icmp", "icmpv6"):
        protocol = "ipv6-icmp"
    prefix = rule.remote_ip_prefix
    if prefix in ("0.0.0.0/0", "::/0"):
        prefix = None
    return (
        rule.direction,
        rule.ether_type,
        protocol,
        rule.port_range_min,
        rule.port_range_max,
        prefix,
        rule.remote_group_id,
    )


class SecurityGroupRuleForm(PortalForm):
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[
            ("ingress", gettext_lazy("Ingress (incoming)")),
            ("egress", gettext_lazy("Egress (outgoing)")),
        ],
    )
    ether_type = forms.ChoiceField(
        label=gettext_lazy("Ether type"), choices=[("IPv4", "IPv4"), ("IPv6", "IPv6")]
    )
    protocol = forms.ChoiceField(label=gettext_lazy("IP protocol"), choices=PROTOCOLS)
    protocol_number = forms.IntegerField(
        label=gettext_lazy("IP protocol number"),
        required=False,
        help_text=gettext_lazy("0-255, for “Other”."),
    )
    port = forms.CharField(
        label=gettext_lazy("Port or port range"),
        max_length=11,
        required=False,
        help_text=gettext_lazy("For TCP and UDP: 22, or 8000-8080. Empty: all ports."),
    )
    icmp_type = forms.IntegerField(
        label=gettext_lazy("ICMP type"),
        required=False,
        help_text=gettext_lazy("0-255. Empty: all types."),
    )
    icmp_code = forms.IntegerField(
        label=gettext_lazy("ICMP code"),
        required=False,
        help_text=gettext_lazy("0-255. Empty: all codes."),
    )
    remote = forms.ChoiceField(
        label=gettext_lazy("Remote"),
        choices=[
            ("cidr", gettext_lazy("IP prefix (CIDR)")),
            ("group", gettext_lazy("Security group")),
        ],
        widget=forms.RadioSelect,
    )
    remote_ip_prefix = forms.CharField(
        label=gettext_lazy("Remote IP prefix"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("For example 0.0.0.0/0 (anywhere) or 10.0.0.0/8. Empty: anywhere."),
    )
    remote_group_id = forms.ChoiceField(label=gettext_lazy("Remote security group"), required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=255, required=False, validators=[cloud_text]
    )

    def __init__(
        self,
        *args: Any,
        group: SecurityGroup | None = None,
        groups: Sequence[SecurityGroup] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", dict(RULE_DEFAULTS))
        super().__init__(*args, **kwargs)
        self.group = group
        choices = [("", "—")] + [
            (g.id, (g.name or g.id) + (_(" (this group)") if group and g.id == group.id else ""))
            for g in groups
        ]
        self.fields["remote_group_id"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        protocol = self._clean_protocol(data)
        low, high = self._clean_ports(data, protocol)
        prefix, remote_group = self._clean_remote(data)
        if self.errors:
            return data
        ether_type = data["ether_type"]
        if protocol == "icmp" and ether_type == "IPv6":
            protocol = "ipv6-icmp"  # ICMPv6's name in Neutron
        rule = SecurityGroupRule(
            id="",
            security_group_id=self.group.id if self.group else "",
            direction=data["direction"],
            ether_type=ether_type,
            protocol=protocol,
            port_range_min=low,
            port_range_max=high,
            remote_ip_prefix=prefix,
            remote_group_id=remote_group,
            description=data.get("description") or "",
        )
        if self.group and any(rule_key(rule) == rule_key(r) for r in self.group.rules):
            raise ValidationError(_("This group already has a rule exactly like this one."))
        data["rule"] = rule
        return data

    def _clean_protocol(self, data: dict[str, Any]) -> str | None:
        choice = data["protocol"]
        if choice == "any":
            return None
        if choice != "number":
            return str(choice)
        number = data.get("protocol_number")
        if number is None or not 0 <= number <= 255:
            self.add_error("protocol_number", _("Enter an IP protocol number from 0 to 255."))
            return None
        return PROTOCOL_NUMBERS.get(str(number), str(number))

    def _clean_ports(
        self, data: dict[str, Any], protocol: str | None
    ) -> tuple[int | None, int | None]:
        text = (data.get("port") or "").strip()
        icmp_type, icmp_code = data.get("icmp_type"), data.get("icmp_code")
        if protocol == "icmp" or protocol == "ipv6-icmp":
            if text:
                self.add_error("port", _("ICMP has no ports; use the ICMP type and code."))
            for name, value in (("icmp_type", icmp_type), ("icmp_code", icmp_code)):
                if value is not None and not 0 <= value <= 255:
                    self.add_error(name, _("Enter a number from 0 to 255."))
            if icmp_code is not None and icmp_type is None:
                self.add_error("icmp_code", _("An ICMP code needs an ICMP type."))
            return icmp_type, icmp_code
        if icmp_type is not None or icmp_code is not None:
            self.add_error("icmp_type", _("ICMP type and code apply to ICMP rules only."))
        if not text:
            return None, None
        if protocol not in PORT_PROTOCOLS:
            self.add_error("port", _("Ports apply to TCP, UDP and SCTP rules only."))
            return None, None
        parts = text.replace(":", "-").split("-", 1)
        try:
            low, high = int(parts[0]), int(parts[-1])
        except ValueError:
            self.add_error("port", _("Enter a port like 22 or a range like 8000-8080."))
            return None, None
        if not (1 <= low <= 65535 and 1 <= high <= 65535):
            self.add_error("port", _("Ports are numbers from 1 to 65535."))
        elif low > high:
            self.add_error(
                "port",
                _("The range %(low)d-%(high)d ends before it starts.") % {"low": low, "high": high},
            )
        return low, high

    def _clean_remote(self, data: dict[str, Any]) -> tuple[str | None, str | None]:
        version = 6 if data["ether_type"] == "IPv6" else 4
        if data["remote"] == "group":
            group = data.get("remote_group_id") or ""
            if not group:
                self.add_error("remote_group_id", _("Choose the remote security group."))
            return None, group or None
        text = (data.get("remote_ip_prefix") or "").strip()
        if not text:
            return None, None
        if "/" not in text:
            text += "/32" if version == 4 else "/128"  # a single address
        try:
            return str(parse_cidr(text, version)), None
        except ValidationError as exc:
            self.add_error("remote_ip_prefix", exc)
            return None, None

    def rule_attrs(self) -> dict[str, Any]:
        rule: SecurityGroupRule = self.cleaned_data["rule"]
        return {
            "security_group_id": rule.security_group_id,
            "direction": rule.direction,
            "ether_type": rule.ether_type,
            "protocol": rule.protocol,
            "port_range_min": rule.port_range_min,
            "port_range_max": rule.port_range_max,
            "remote_ip_prefix": rule.remote_ip_prefix,
            "remote_group_id": rule.remote_group_id,
            "description": rule.description,
        }


# --- floating IPs -----------------------------------------------------------------------------


class FloatingIPForm(PortalForm):
    floating_network_id = forms.ChoiceField(label=gettext_lazy("Pool (external network)"))
    floating_ip_address = forms.CharField(
        label=gettext_lazy("Specific address"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Optional. Many clouds let only administrators choose the address."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=255, required=False, validators=[cloud_text]
    )

    def __init__(
        self,
        *args: Any,
        externals: Iterable[Network] = (),
        pool_subnets: Sequence[Subnet] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["floating_network_id"].choices = external_choices(externals)  # type: ignore[attr-defined]
        self.pool_subnets = list(pool_subnets)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = (data.get("floating_ip_address") or "").strip()
        pool = data.get("floating_network_id")
        if not text or not pool:
            return data
        try:
            address = parse_ip(text)
        except ValidationError as exc:
            self.add_error("floating_ip_address", exc)
            return data
        cidrs = [s.cidr for s in self.pool_subnets if s.network_id == pool]
        if not any(usable_host(ipaddress.ip_network(c, strict=False), address) for c in cidrs):
            self.add_error(
                "floating_ip_address",
                _("%(ip)s is not in this pool (%(cidrs)s).")
                % {"ip": address, "cidrs": ", ".join(cidrs) or "—"},
            )
        data["floating_ip_address"] = str(address)
        return data


class AssociateFloatingIPForm(PortalForm):
    target = forms.ChoiceField(label=gettext_lazy("Instance port"))

    def __init__(self, *args: Any, targets: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        """targets: ("<port id> <fixed ip>", label) for every instance port address."""
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = list(targets)  # type: ignore[attr-defined]

    def port_and_ip(self) -> tuple[str, str]:
        port_id, _sep, ip = self.cleaned_data["target"].partition(" ")
        return port_id, ip
