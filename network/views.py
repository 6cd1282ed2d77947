"""The network pages: networks, subnets and ports; routers; security groups and rules; floating
IPs; the topology picture; and Admin › Networks, Routers, Floating IPs.

Every page acts with the user's own token (Neutron's policy decides). A page's independent
calls run concurrently; the number of calls each page makes is tested with the fake gateway.

Forms open in the shared modal (htmx) or as pages of their own (no JavaScript). A form posted
from the modal carries `stay`: on success the modal closes and the page's body reloads on the
`sd:changed` event (portal/actions.py); otherwise the browser is redirected to the next page.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from network import tasks
from network import topology as drawing
from network.forms import (
    RULE_PRESETS,
    AssociateFloatingIPForm,
    CreateNetworkForm,
    FloatingIPForm,
    NetworkForm,
    PortForm,
    ProviderNetworkForm,
    RouteForm,
    RouterForm,
    RouterGatewayForm,
    RouterInterfaceForm,
    RouterUpdateForm,
    SecurityGroupForm,
    SecurityGroupRuleForm,
    SubnetForm,
    network_initial,
    preset_initial,
)
from network.gateway import (
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
from portal.actions import (
    CHANGED,
    accepted,
    attempt,
    button,
    done,
    form_page,
    in_modal,
)
from portal.concurrency import concurrently
from portal.forms import posted
from portal.gateways import gateway
from portal.identity import PortalRequest, admin_required, login_required, me
from portal.kept import shared
from portal.models import Operation
from portal.operations import ensure_may_start, start_operation
from portal.refs import ServerRef

T = TypeVar("T")
GET_POST = require_http_methods(["GET", "POST"])

QUOTA_LABELS: dict[str, str | Promise] = {
    "network": gettext_lazy("Networks"),
    "subnet": gettext_lazy("Subnets"),
    "port": gettext_lazy("Ports"),
    "router": gettext_lazy("Routers"),
    "floatingip": gettext_lazy("Floating IPs"),
    "security_group": gettext_lazy("Security groups"),
    "security_group_rule": gettext_lazy("Security group rules"),
}


# --- helpers every page uses ------------------------------------------------------------------


def _gw(request: PortalRequest) -> NetworkGateway:
    return gateway(request, NetworkGateway)


def _project(request: PortalRequest) -> str:
    return me(request).project_id


def _partial(request: PortalRequest) -> bool:
    return bool(request.htmx and not request.htmx.boosted)


def can_change(request: PortalRequest) -> bool:
    """Readers see no buttons that would only be refused; the cloud still decides."""
    return bool(set(me(request).roles) - {"reader"})


def server_url(server_id: str) -> str | None:
    """The compute app's instance page, when it exists."""
    try:
        return reverse("compute:server-detail", args=[server_id])
    except NoReverseMatch:
        return None


@dataclass(frozen=True)
class QuotaRow:
    label: str | Promise
    usage: QuotaUsage


def quota_rows(quota: dict[str, QuotaUsage], *keys: str) -> list[QuotaRow]:
    return [QuotaRow(QUOTA_LABELS[k], quota[k]) for k in keys if k in quota]


def _page(request: PortalRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A whole page, or only its body for htmx (the body reloads on `sd:changed`)."""
    context.setdefault("can_change", can_change(request))
    if _partial(request):
        return render(request, template + "#body", context)
    return render(request, template, context)


# --- networks ---------------------------------------------------------------------------------


def project_networks(networks: Iterable[Network], project_id: str) -> list[Network]:
    """What a project works with: its own networks, then shared and external ones."""
    seen = [
        n for n in networks if n.project_id == project_id or n.is_shared or n.is_router_external
    ]
    return sorted(seen, key=lambda n: (n.project_id != project_id, n.label.lower()))


def subnets_by_network(subnets: Iterable[Subnet]) -> dict[str, list[Subnet]]:
    grouped: dict[str, list[Subnet]] = {}
    for subnet in sorted(subnets, key=lambda s: (s.ip_version, s.cidr)):
        grouped.setdefault(subnet.network_id, []).append(subnet)
    return grouped


@dataclass(frozen=True)
class NetworkRow:
    network: Network
    subnets: list[Subnet]
    own: bool
    project_name: str = ""


@require_GET
@login_required
def list_networks(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    networks, subnets, quota = shared(
        me(request),
        "network:networks",
        lambda: concurrently(gw.list_networks, gw.list_subnets, lambda: gw.get_quota(pid)),
    )
    grouped = subnets_by_network(subnets)
    rows = [
        NetworkRow(n, grouped.get(n.id, []), n.project_id == pid)
        for n in project_networks(networks, pid)
    ]
    context = {"rows": rows, "quota_rows": quota_rows(quota, "network", "subnet")}
    return _page(request, "network/networks.html", context)


@dataclass(frozen=True)
class PortRow:
    port: Port
    fixed_ips: list[tuple[str, str]]  # (address, subnet label)
    device_label: str
    device_url: str | None


def port_rows(
    ports: Iterable[Port], subnets: Iterable[Subnet], servers: Iterable[ServerRef]
) -> list[PortRow]:
    subnet_names = {s.id: s.label for s in subnets}
    server_names = {s.id: s.name for s in servers}
    rows = []
    for port in sorted(ports, key=lambda p: (p.device_owner, p.name, p.id)):
        label, url = port.device_id[:8], None
        if port.is_instance_port:
            label = server_names.get(port.device_id, port.device_id[:8])
            url = server_url(port.device_id)
        elif port.is_router_interface:
            label = _("router %(id)s") % {"id": port.device_id[:8]}
            url = reverse("network:router-detail", args=[port.device_id])
        ips = [
            (ip.ip_address, subnet_names.get(ip.subnet_id, ip.subnet_id[:8]))
            for ip in port.fixed_ips
        ]
        rows.append(PortRow(port, ips, label, url))
    return rows


@require_GET
@login_required
def network_detail(request: PortalRequest, network_id: str) -> HttpResponse:
    """The network with its subnets and ports (4 calls at once)."""
    gw = _gw(request)
    network, subnets, ports, servers = concurrently(
        lambda: gw.get_network(network_id),
        lambda: gw.list_subnets(network_id=network_id),
        lambda: gw.list_ports(network_id=network_id),
        gw.list_servers,
    )
    context = {
        "network": network,
        "subnets": sorted(subnets, key=lambda s: (s.ip_version, s.cidr)),
        "ports": port_rows(ports, subnets, servers),
        "own": network.project_id == _project(request) or me(request).is_admin,
    }
    return _page(request, "network/network_detail.html", context)


@GET_POST
@login_required
def create_network(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    form = CreateNetworkForm(posted(request))
    subnet_form = SubnetForm(posted(request), prefix="subnet")
    if request.method == "POST" and _network_forms_valid(form, subnet_form):
        network = _create_network_with_subnet(gw, form, subnet_form)
        if network is not None:
            message = _("Network %(name)s created.") % {"name": network.label}
            return done(request, message, reverse("network:network-detail", args=[network.id]))
    return form_page(
        request,
        form,
        extra_forms=[subnet_form],
        title=_("Create network"),
        submit=_("Create network"),
        cancel=reverse("network:list-networks"),
        above="network/quota.html",
        quota_rows=quota_rows(gw.get_quota(pid), "network", "subnet"),
        fields="network/network_fields.html",
    )


def _network_forms_valid(form: CreateNetworkForm, subnet_form: SubnetForm) -> bool:
    valid = form.is_valid()
    if form.cleaned_data.get("with_subnet"):
        valid = subnet_form.is_valid() and valid
    return valid


def _create_network_with_subnet(
    gw: NetworkGateway, form: NetworkForm, subnet_form: SubnetForm
) -> Network | None:
    """The network, then its first subnet; if Neutron refuses the subnet, the network goes too,
    so that trying again does not leave half-made networks behind."""
    network = attempt(form, lambda: gw.create_network(**form.network_attrs()))
    if network is None or not form.cleaned_data.get("with_subnet"):
        return network
    attrs = {"network_id": network.id, **subnet_form.subnet_attrs()}
    if attempt(subnet_form, lambda: gw.create_subnet(**attrs)) is None:
        accepted(form, lambda: gw.delete_network(network.id))
        form.add_error(None, _("The subnet was refused, so the network was not kept."))
        return None
    return network


@GET_POST
@login_required
def update_network(request: PortalRequest, network_id: str) -> HttpResponse:
    gw = _gw(request)
    network = gw.get_network(network_id)
    form = NetworkForm(posted(request), initial=network_initial(network))
    if request.method == "POST" and form.is_valid():
        attrs = form.network_attrs()
        if attempt(form, lambda: gw.update_network(network_id, **attrs)):
            message = _("Network %(name)s saved.") % {"name": attrs["name"]}
            return done(request, message, reverse("network:network-detail", args=[network_id]))
    return form_page(
        request,
        form,
        title=_("Edit network %(name)s") % {"name": network.label},
        submit=_("Save"),
        cancel=reverse("network:network-detail", args=[network_id]),
    )


@require_POST
@login_required
def delete_network(request: PortalRequest, network_id: str) -> HttpResponse:
    """Neutron refuses while ports other than its own DHCP ports use the network."""
    name = request.POST.get("name") or network_id
    return button(
        request,
        lambda: _gw(request).delete_network(network_id),
        _("Network %(name)s deleted.") % {"name": name},
        reverse("network:list-networks"),
    )


# --- subnets ----------------------------------------------------------------------------------


@GET_POST
@login_required
def create_subnet(request: PortalRequest, network_id: str) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    network, others, quota = concurrently(
        lambda: gw.get_network(network_id),
        lambda: gw.list_subnets(network_id=network_id),
        lambda: gw.get_quota(pid),
    )
    form = SubnetForm(posted(request), others=others)
    if request.method == "POST" and form.is_valid():
        attrs = {"network_id": network_id, **form.subnet_attrs()}
        subnet = attempt(form, lambda: gw.create_subnet(**attrs))
        if subnet is not None:
            message = _("Subnet %(name)s created.") % {"name": subnet.label}
            return done(request, message, reverse("network:network-detail", args=[network_id]))
    return form_page(
        request,
        form,
        title=_("Add a subnet to %(name)s") % {"name": network.label},
        submit=_("Create subnet"),
        cancel=reverse("network:network-detail", args=[network_id]),
        above="network/quota.html",
        quota_rows=quota_rows(quota, "subnet"),
    )


@GET_POST
@login_required
def update_subnet(request: PortalRequest, network_id: str, subnet_id: str) -> HttpResponse:
    gw = _gw(request)
    subnet = gw.get_subnet(subnet_id)
    form = SubnetForm(posted(request), editing=subnet)
    if request.method == "POST" and form.is_valid():
        attrs = form.subnet_attrs()
        if attempt(form, lambda: gw.update_subnet(subnet_id, **attrs)):
            message = _("Subnet %(name)s saved.") % {"name": attrs["name"] or subnet.cidr}
            return done(request, message, reverse("network:network-detail", args=[network_id]))
    return form_page(
        request,
        form,
        title=_("Edit subnet %(name)s") % {"name": subnet.label},
        submit=_("Save"),
        cancel=reverse("network:network-detail", args=[network_id]),
    )


@require_POST
@login_required
def delete_subnet(request: PortalRequest, network_id: str, subnet_id: str) -> HttpResponse:
    name = request.POST.get("name") or subnet_id
    return button(
        request,
        lambda: _gw(request).delete_subnet(subnet_id),
        _("Subnet %(name)s deleted.") % {"name": name},
        reverse("network:network-detail", args=[network_id]),
    )


# --- ports ------------------------------------------------------------------------------------


@GET_POST
@login_required
def create_port(request: PortalRequest, network_id: str) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    network, subnets, groups, quota = concurrently(
        lambda: gw.get_network(network_id),
        lambda: gw.list_subnets(network_id=network_id),
        lambda: gw.list_security_groups(project_id=pid),
        lambda: gw.get_quota(pid),
    )
    form = PortForm(posted(request), subnets=subnets, groups=groups)
    if request.method == "POST" and form.is_valid():
        port = attempt(form, lambda: gw.create_port(**form.port_attrs(network_id)))
        if port is not None:
            label = port.name or (port.fixed_ips[0].ip_address if port.fixed_ips else port.id)
            message = _("Port %(name)s created.") % {"name": label}
            return done(request, message, reverse("network:network-detail", args=[network_id]))
    return form_page(
        request,
        form,
        title=_("Create a port on %(name)s") % {"name": network.label},
        submit=_("Create port"),
        cancel=reverse("network:network-detail", args=[network_id]),
        above="network/quota.html",
        quota_rows=quota_rows(quota, "port"),
    )


@require_POST
@login_required
def delete_port(request: PortalRequest, network_id: str, port_id: str) -> HttpResponse:
    name = request.POST.get("name") or port_id
    return button(
        request,
        lambda: _gw(request).delete_port(port_id),
        _("Port %(name)s deleted.") % {"name": name},
        reverse("network:network-detail", args=[network_id]),
    )


# --- routers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouterRow:
    router: Router
    gateway_name: str
    project_name: str = ""
    deleting: bool = False


def router_rows(
    routers: Iterable[Router],
    networks: Iterable[Network],
    projects: dict[str, str] | None = None,
    deleting: set[str] | None = None,
) -> list[RouterRow]:
    names = {n.id: n.label for n in networks}
    return [
        RouterRow(
            r,
            names.get(r.external_network_id or "", r.external_network_id or ""),
            (projects or {}).get(r.project_id, r.project_id),
            r.id in (deleting or set()),
        )
        for r in sorted(routers, key=lambda r: r.label.lower())
    ]


@require_GET
@login_required
def list_routers(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    routers, networks, quota = concurrently(
        lambda: gw.list_routers(project_id=pid), gw.list_networks, lambda: gw.get_quota(pid)
    )
    rows = router_rows(routers, networks, deleting=_routers_being_deleted(request))
    context = {
        "rows": rows,
        "deleting": any(r.deleting for r in rows),
        "quota_rows": quota_rows(quota, "router"),
    }
    return _page(request, "network/routers.html", context)


@dataclass(frozen=True)
class InterfaceRow:
    port: Port
    address: str
    subnet: Subnet | None
    network: Network | None

    @property
    def fields(self) -> list[tuple[str, str]]:  # what the Remove button posts
        return [("port_id", self.port.id), ("address", self.address)]


@dataclass(frozen=True)
class RouteRow:
    destination: str
    nexthop: str

    @property
    def fields(self) -> list[tuple[str, str]]:
        return [("destination", self.destination), ("nexthop", self.nexthop)]


def router_interfaces(
    ports: Iterable[Port], subnets: Iterable[Subnet], networks: Iterable[Network]
) -> list[InterfaceRow]:
    by_subnet = {s.id: s for s in subnets}
    by_network = {n.id: n for n in networks}
    rows = []
    for port in ports:
        if not port.is_router_interface:
            continue
        for ip in port.fixed_ips:
            rows.append(
                InterfaceRow(
                    port,
                    ip.ip_address,
                    by_subnet.get(ip.subnet_id),
                    by_network.get(port.network_id),
                )
            )
    return sorted(rows, key=lambda r: r.address)


@require_GET
@login_required
def router_detail(request: PortalRequest, router_id: str) -> HttpResponse:
    """The router, its gateway, interfaces and routes (4 calls at once)."""
    gw = _gw(request)
    router, ports, subnets, networks = concurrently(
        lambda: gw.get_router(router_id),
        lambda: gw.list_ports(device_id=router_id),
        gw.list_subnets,
        gw.list_networks,
    )
    gateway_network = next((n for n in networks if n.id == router.external_network_id), None)
    context = {
        "router": router,
        "gateway_network": gateway_network,
        "interfaces": router_interfaces(ports, subnets, networks),
        "routes": [RouteRow(r.destination, r.nexthop) for r in router.routes],
    }
    return _page(request, "network/router_detail.html", context)


def _externals(networks: Iterable[Network]) -> list[Network]:
    return sorted((n for n in networks if n.is_router_external), key=lambda n: n.label.lower())


@GET_POST
@login_required
def create_router(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    networks, quota = concurrently(gw.list_networks, lambda: gw.get_quota(pid))
    form = RouterForm(posted(request), externals=_externals(networks))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        router = attempt(
            form,
            lambda: gw.create_router(
                data["name"], bool(data["admin_state_up"]), data["external_network_id"] or None
            ),
        )
        if router is not None:
            message = _("Router %(name)s created.") % {"name": router.label}
            return done(request, message, reverse("network:router-detail", args=[router.id]))
    return form_page(
        request,
        form,
        title=_("Create router"),
        submit=_("Create router"),
        cancel=reverse("network:list-routers"),
        above="network/quota.html",
        quota_rows=quota_rows(quota, "router"),
    )


@GET_POST
@login_required
def update_router(request: PortalRequest, router_id: str) -> HttpResponse:
    gw = _gw(request)
    router = gw.get_router(router_id)
    initial = {
        "name": router.name,
        "description": router.description,
        "admin_state_up": router.is_admin_state_up,
    }
    form = RouterUpdateForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        attrs = {
            "name": data["name"],
            "description": data["description"],
            "is_admin_state_up": bool(data["admin_state_up"]),
        }
        if attempt(form, lambda: gw.update_router(router_id, **attrs)):
            message = _("Router %(name)s saved.") % {"name": data["name"]}
            return done(request, message, reverse("network:router-detail", args=[router_id]))
    return form_page(
        request,
        form,
        title=_("Edit router %(name)s") % {"name": router.label},
        submit=_("Save"),
        cancel=reverse("network:router-detail", args=[router_id]),
    )


@GET_POST
@login_required
def set_router_gateway(request: PortalRequest, router_id: str) -> HttpResponse:
    gw = _gw(request)
    router, networks = concurrently(lambda: gw.get_router(router_id), gw.list_networks)
    form = RouterGatewayForm(
        posted(request),
        externals=_externals(networks),
        initial={"network_id": router.external_network_id},
    )
    if request.method == "POST" and form.is_valid():
        network_id = form.cleaned_data["network_id"]
        if attempt(form, lambda: gw.set_router_gateway(router_id, network_id)):
            message = _("Gateway of router %(name)s set.") % {"name": router.label}
            return done(request, message, reverse("network:router-detail", args=[router_id]))
    return form_page(
        request,
        form,
        title=_("Set the gateway of %(name)s") % {"name": router.label},
        submit=_("Set gateway"),
        cancel=reverse("network:router-detail", args=[router_id]),
    )


@require_POST
@login_required
def clear_router_gateway(request: PortalRequest, router_id: str) -> HttpResponse:
    name = request.POST.get("name") or router_id
    return button(
        request,
        lambda: _gw(request).clear_router_gateway(router_id),
        _("Gateway of router %(name)s cleared.") % {"name": name},
        reverse("network:router-detail", args=[router_id]),
    )


@GET_POST
@login_required
def add_interface_to_router(request: PortalRequest, router_id: str) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    router, ports, subnets, networks = concurrently(
        lambda: gw.get_router(router_id),
        lambda: gw.list_ports(device_id=router_id),
        lambda: gw.list_subnets(project_id=pid),
        lambda: gw.list_networks(project_id=pid),
    )
    attached = {ip.subnet_id for p in ports if p.is_router_interface for ip in p.fixed_ips}
    free = [s for s in sorted(subnets, key=lambda s: s.cidr) if s.id not in attached]
    form = RouterInterfaceForm(posted(request), subnets=free, networks={n.id: n for n in networks})
    if request.method == "POST" and form.is_valid() and _attach(gw, form, router_id):
        message = _("Interface added to router %(name)s.") % {"name": router.label}
        return done(request, message, reverse("network:router-detail", args=[router_id]))
    return form_page(
        request,
        form,
        title=_("Add an interface to %(name)s") % {"name": router.label},
        submit=_("Add interface"),
        cancel=reverse("network:router-detail", args=[router_id]),
    )


def _attach(gw: NetworkGateway, form: RouterInterfaceForm, router_id: str) -> bool:
    """On the subnet's gateway address; or on a port made first with the address asked for."""
    data = form.cleaned_data
    if not data.get("ip_address"):
        return accepted(
            form, lambda: gw.add_interface_to_router(router_id, subnet_id=data["subnet_id"])
        )
    subnet = form.subnets[data["subnet_id"]]
    fixed = [{"subnet_id": subnet.id, "ip_address": data["ip_address"]}]
    port = attempt(form, lambda: gw.create_port(network_id=subnet.network_id, fixed_ips=fixed))
    if port is None:
        return False
    if accepted(form, lambda: gw.add_interface_to_router(router_id, port_id=port.id)):
        return True
    accepted(form, lambda: gw.delete_port(port.id))  # do not leave the port behind
    return False


@require_POST
@login_required
def remove_interface_from_router(request: PortalRequest, router_id: str) -> HttpResponse:
    port_id = request.POST.get("port_id", "")
    address = request.POST.get("address") or port_id
    return button(
        request,
        lambda: _gw(request).remove_interface_from_router(router_id, port_id),
        _("Interface %(address)s removed.") % {"address": address},
        reverse("network:router-detail", args=[router_id]),
    )


@GET_POST
@login_required
def add_extra_routes_to_router(request: PortalRequest, router_id: str) -> HttpResponse:
    gw = _gw(request)
    router, ports, subnets = concurrently(
        lambda: gw.get_router(router_id),
        lambda: gw.list_ports(device_id=router_id),
        gw.list_subnets,
    )
    cidrs = {s.id: s.cidr for s in subnets}
    connected = [
        cidrs[ip.subnet_id]
        for p in ports
        if p.is_router_interface
        for ip in p.fixed_ips
        if ip.subnet_id in cidrs
    ]
    form = RouteForm(posted(request), connected=connected, routes=router.routes)
    if request.method == "POST" and form.is_valid():
        route: Route = form.cleaned_data["route"]
        if attempt(form, lambda: gw.add_extra_routes_to_router(router_id, [route])):
            message = _("Route to %(dest)s added.") % {"dest": route.destination}
            return done(request, message, reverse("network:router-detail", args=[router_id]))
    return form_page(
        request,
        form,
        title=_("Add a static route to %(name)s") % {"name": router.label},
        submit=_("Add route"),
        cancel=reverse("network:router-detail", args=[router_id]),
    )


@require_POST
@login_required
def remove_extra_routes_from_router(request: PortalRequest, router_id: str) -> HttpResponse:
    route = Route(request.POST.get("destination", ""), request.POST.get("nexthop", ""))
    return button(
        request,
        lambda: _gw(request).remove_extra_routes_from_router(router_id, [route]),
        _("Route to %(dest)s removed.") % {"dest": route.destination},
        reverse("network:router-detail", args=[router_id]),
    )


def _routers_being_deleted(request: PortalRequest) -> set[str]:
    """Routers a delete_router job is working on: their rows say so and the list polls."""
    pending = Operation.objects.of_project(me(request)).active()
    pending = pending.filter(kind=tasks.delete_router.name)
    return set(pending.values_list("target", flat=True))


@require_POST
@login_required
def delete_router(request: PortalRequest, router_id: str) -> HttpResponse:
    """A job (network/tasks.py): routes, then interfaces, then the router itself.

    The router is read with the requester's token first, so a job only starts for a router
    they can see (404 otherwise); a delete already under way in their project is reused.
    """
    router = _gw(request).get_router(router_id)
    ensure_may_start(request, tasks.delete_router)  # a reader is not sent to a member's job
    op = Operation.objects.of_project(me(request)).active().filter(
        kind=tasks.delete_router.name, target=router.id
    ).first() or start_operation(
        request, tasks.delete_router, target=router.id, target_name=router.label
    )
    if request.htmx and request.POST.get("stay"):
        response = render(request, "network/operation_started.html", {"op": op})
        return trigger_client_event(response, CHANGED)
    url = reverse("portal:operation", args=[op.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- security groups --------------------------------------------------------------------------


@require_GET
@login_required
def list_security_groups(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    groups, quota = concurrently(
        lambda: gw.list_security_groups(project_id=pid), lambda: gw.get_quota(pid)
    )
    context = {
        "groups": sorted(groups, key=lambda g: (g.name != "default", g.name.lower())),
        "quota_rows": quota_rows(quota, "security_group", "security_group_rule"),
    }
    return _page(request, "network/security_groups.html", context)


@dataclass(frozen=True)
class RuleRow:
    rule: SecurityGroupRule
    protocol: str
    ports: str
    remote: str


def rule_rows(group: SecurityGroup, groups: Iterable[SecurityGroup]) -> list[RuleRow]:
    names = {g.id: g.name or g.id for g in groups}
    rows = []
    for rule in sorted(
        group.rules,
        key=lambda r: (r.direction, r.ether_type, r.protocol or "", r.port_range_min or 0),
    ):
        protocol = rule.protocol.upper() if rule.protocol else _("Any")
        if rule.protocol in ("icmp", "ipv6-icmp"):
            ports = _("type %(type)s, code %(code)s") % {
                "type": _("any") if rule.port_range_min is None else rule.port_range_min,
                "code": _("any") if rule.port_range_max is None else rule.port_range_max,
            }
        elif rule.port_range_min is None:
            ports = _("Any")
        elif rule.port_range_min == rule.port_range_max:
            ports = str(rule.port_range_min)
        else:
            ports = f"{rule.port_range_min}-{rule.port_range_max}"
        if rule.remote_group_id:
            remote = _("group %(name)s") % {
                "name": names.get(rule.remote_group_id, rule.remote_group_id)
            }
        else:
            remote = rule.remote_ip_prefix or ("0.0.0.0/0" if rule.ether_type == "IPv4" else "::/0")
        rows.append(RuleRow(rule, protocol, ports, remote))
    return rows


@require_GET
@login_required
def security_group_detail(request: PortalRequest, group_id: str) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    group, groups, quota = concurrently(
        lambda: gw.get_security_group(group_id),
        lambda: gw.list_security_groups(project_id=pid),
        lambda: gw.get_quota(pid),
    )
    context = {
        "group": group,
        "rules": rule_rows(group, groups),
        "quota_rows": quota_rows(quota, "security_group_rule"),
    }
    return _page(request, "network/security_group_detail.html", context)


@GET_POST
@login_required
def create_security_group(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    form = SecurityGroupForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        group = attempt(form, lambda: gw.create_security_group(data["name"], data["description"]))
        if group is not None:
            message = _("Security group %(name)s created.") % {"name": group.name}
            url = reverse("network:security-group-detail", args=[group.id])
            return done(request, message, url)
    return form_page(
        request,
        form,
        title=_("Create security group"),
        submit=_("Create security group"),
        cancel=reverse("network:list-security-groups"),
        above="network/quota.html",
        quota_rows=quota_rows(gw.get_quota(pid), "security_group"),
    )


@GET_POST
@login_required
def update_security_group(request: PortalRequest, group_id: str) -> HttpResponse:
    gw = _gw(request)
    group = gw.get_security_group(group_id)
    initial = {"name": group.name, "description": group.description}
    form = SecurityGroupForm(posted(request), initial=initial, editing=group)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        attrs = {"name": data["name"], "description": data["description"]}
        if attempt(form, lambda: gw.update_security_group(group_id, **attrs)):
            message = _("Security group %(name)s saved.") % {"name": data["name"]}
            url = reverse("network:security-group-detail", args=[group_id])
            return done(request, message, url)
    return form_page(
        request,
        form,
        title=_("Edit security group %(name)s") % {"name": group.name},
        submit=_("Save"),
        cancel=reverse("network:security-group-detail", args=[group_id]),
    )


@require_POST
@login_required
def delete_security_group(request: PortalRequest, group_id: str) -> HttpResponse:
    name = request.POST.get("name") or group_id
    return button(
        request,
        lambda: _gw(request).delete_security_group(group_id),
        _("Security group %(name)s deleted.") % {"name": name},
        reverse("network:list-security-groups"),
    )


@GET_POST
@login_required
def create_security_group_rule(request: PortalRequest, group_id: str) -> HttpResponse:
    """Presets (?preset=ssh) fill the form; the rule is checked against the group's own."""
    gw, pid = _gw(request), _project(request)
    group, groups, quota = concurrently(
        lambda: gw.get_security_group(group_id),
        lambda: gw.list_security_groups(project_id=pid),
        lambda: gw.get_quota(pid),
    )
    preset = request.GET.get("preset", "")
    form = SecurityGroupRuleForm(
        posted(request), group=group, groups=groups, initial=preset_initial(preset)
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and accepted(form, lambda: gw.create_security_group_rule(**form.rule_attrs()))
    ):
        message = _("Rule added to %(name)s.") % {"name": group.name}
        url = reverse("network:security-group-detail", args=[group_id])
        return done(request, message, url)
    action = reverse("network:create-security-group-rule", args=[group_id])
    stay = "&stay=1" if in_modal(request) or request.POST.get("stay") else ""
    presets = [
        (key, label, f"{action}?preset={key}{stay}") for key, (label, _v) in RULE_PRESETS.items()
    ]
    return form_page(
        request,
        form,
        title=_("Add a rule to %(name)s") % {"name": group.name},
        submit=_("Add rule"),
        cancel=reverse("network:security-group-detail", args=[group_id]),
        above="network/quota.html",
        quota_rows=quota_rows(quota, "security_group_rule"),
        fields="network/rule_fields.html",
        presets=presets,
        preset=preset,
    )


@require_POST
@login_required
def delete_security_group_rule(request: PortalRequest, group_id: str, rule_id: str) -> HttpResponse:
    return button(
        request,
        lambda: _gw(request).delete_security_group_rule(rule_id),
        _("Rule deleted."),
        reverse("network:security-group-detail", args=[group_id]),
    )


# --- floating IPs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatingIPRow:
    ip: FloatingIP
    pool: str
    server_name: str
    server_url: str | None
    project_name: str = ""

    @property
    def fields(self) -> list[tuple[str, str]]:  # what its buttons post
        return [("address", self.ip.floating_ip_address)]


def floating_ip_rows(
    ips: Iterable[FloatingIP],
    networks: Iterable[Network],
    servers: Iterable[ServerRef],
    projects: dict[str, str] | None = None,
) -> list[FloatingIPRow]:
    pools = {n.id: n.label for n in networks}
    names = {s.id: s.name for s in servers}
    return [
        FloatingIPRow(
            ip,
            pools.get(ip.floating_network_id, ip.floating_network_id[:8]),
            names.get(ip.device_id or "", (ip.device_id or "")[:8]),
            server_url(ip.device_id) if ip.device_id else None,
            (projects or {}).get(ip.project_id, ip.project_id),
        )
        for ip in sorted(ips, key=lambda i: ipaddress.ip_address(i.floating_ip_address))
    ]


@require_GET
@login_required
def list_floating_ips(request: PortalRequest) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    ips, networks, servers, quota = concurrently(
        lambda: gw.list_floating_ips(project_id=pid),
        gw.list_networks,
        gw.list_servers,
        lambda: gw.get_quota(pid),
    )
    context = {
        "rows": floating_ip_rows(ips, networks, servers),
        "quota_rows": quota_rows(quota, "floatingip"),
    }
    return _page(request, "network/floating_ips.html", context)


@GET_POST
@login_required
def create_floating_ip(request: PortalRequest) -> HttpResponse:
    """Allocate an address from an external network's pool, or a specific one."""
    gw, pid = _gw(request), _project(request)
    networks, subnets, quota = concurrently(
        gw.list_networks, gw.list_subnets, lambda: gw.get_quota(pid)
    )
    externals = _externals(networks)
    external_ids = {n.id for n in externals}
    form = FloatingIPForm(
        posted(request),
        externals=externals,
        pool_subnets=[s for s in subnets if s.network_id in external_ids],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        asked = data["floating_ip_address"] or None
        ip = attempt(
            form,
            lambda: gw.create_floating_ip(data["floating_network_id"], asked, data["description"]),
            # a refusal of the address asked for (taken, or not allowed) belongs at that field
            field="floating_ip_address" if asked else None,
        )
        if ip is not None:
            message = _("Floating IP %(ip)s allocated.") % {"ip": ip.floating_ip_address}
            return done(request, message, reverse("network:list-floating-ips"))
    return form_page(
        request,
        form,
        title=_("Allocate a floating IP"),
        submit=_("Allocate IP"),
        cancel=reverse("network:list-floating-ips"),
        above="network/quota.html",
        quota_rows=quota_rows(quota, "floatingip"),
    )


def association_targets(
    ports: Iterable[Port], servers: Iterable[ServerRef], taken: Iterable[FloatingIP]
) -> list[tuple[str, str]]:
    """Every IPv4 address of every instance port that has no floating IP yet, by instance."""
    names = {s.id: s.name for s in servers}
    used = {(f.port_id, f.fixed_ip_address) for f in taken if f.port_id}
    targets = []
    for port in ports:
        if not port.is_instance_port:
            continue
        for ip in port.fixed_ips:
            if ":" in ip.ip_address or (port.id, ip.ip_address) in used:
                continue  # floating IPs map to IPv4 addresses only
            server = names.get(port.device_id, port.device_id[:8])
            targets.append((f"{port.id} {ip.ip_address}", f"{server}: {ip.ip_address}"))
    return sorted(targets, key=lambda t: t[1])


@GET_POST
@login_required
def associate_floating_ip(request: PortalRequest, floating_ip_id: str) -> HttpResponse:
    gw, pid = _gw(request), _project(request)
    ip, ports, servers, ips = concurrently(
        lambda: gw.get_floating_ip(floating_ip_id),
        lambda: gw.list_ports(project_id=pid),
        gw.list_servers,
        lambda: gw.list_floating_ips(project_id=pid),
    )
    form = AssociateFloatingIPForm(
        posted(request), targets=association_targets(ports, servers, ips)
    )
    if request.method == "POST" and form.is_valid():
        port_id, fixed = form.port_and_ip()
        if attempt(form, lambda: gw.associate_floating_ip(floating_ip_id, port_id, fixed)):
            message = _("Floating IP %(ip)s associated with %(fixed)s.") % {
                "ip": ip.floating_ip_address,
                "fixed": fixed,
            }
            return done(request, message, reverse("network:list-floating-ips"))
    return form_page(
        request,
        form,
        title=_("Associate floating IP %(ip)s") % {"ip": ip.floating_ip_address},
        submit=_("Associate"),
        cancel=reverse("network:list-floating-ips"),
    )


@require_POST
@login_required
def disassociate_floating_ip(request: PortalRequest, floating_ip_id: str) -> HttpResponse:
    address = request.POST.get("address") or floating_ip_id
    return button(
        request,
        lambda: _gw(request).disassociate_floating_ip(floating_ip_id),
        _("Floating IP %(ip)s disassociated.") % {"ip": address},
        reverse("network:list-floating-ips"),
    )


@require_POST
@login_required
def delete_floating_ip(request: PortalRequest, floating_ip_id: str) -> HttpResponse:
    address = request.POST.get("address") or floating_ip_id
    return button(
        request,
        lambda: _gw(request).delete_floating_ip(floating_ip_id),
        _("Floating IP %(ip)s released.") % {"ip": address},
        reverse("network:list-floating-ips"),
    )


# --- topology ---------------------------------------------------------------------------------


@require_GET
@login_required
def topology(request: PortalRequest) -> HttpResponse:
    """The project's networks, routers and instances, drawn as SVG on the server (5 calls)."""
    gw, pid = _gw(request), _project(request)
    networks, subnets, routers, ports, servers = concurrently(
        gw.list_networks,
        gw.list_subnets,
        lambda: gw.list_routers(project_id=pid),
        lambda: gw.list_ports(project_id=pid),
        gw.list_servers,
    )
    picture = drawing.draw(pid, networks, subnets, routers, ports, servers, server_url)
    return _page(request, "network/topology.html", {"picture": picture})


# --- admin ------------------------------------------------------------------------------------


def _project_names(gw: NetworkGateway) -> dict[str, str]:
    return {p.id: p.name for p in gw.list_projects()}


@require_GET
@admin_required
def admin_networks(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    networks, subnets, projects = concurrently(
        gw.list_networks, gw.list_subnets, lambda: _project_names(gw)
    )
    grouped = subnets_by_network(subnets)
    rows = [
        NetworkRow(n, grouped.get(n.id, []), True, projects.get(n.project_id, n.project_id))
        for n in sorted(networks, key=lambda n: (projects.get(n.project_id, "~"), n.label.lower()))
    ]
    return _page(request, "network/admin_networks.html", {"rows": rows})


@GET_POST
@admin_required
def admin_create_network(request: PortalRequest) -> HttpResponse:
    """A network for any project: shared, external, on a provider network (flat/VLAN/...)."""
    gw = _gw(request)
    projects = sorted(_project_names(gw).items(), key=lambda p: p[1].lower())
    initial = {"project_id": _project(request)}
    form = ProviderNetworkForm(posted(request), projects=projects, initial=initial)
    subnet_form = SubnetForm(posted(request), prefix="subnet")
    if request.method == "POST" and _network_forms_valid(form, subnet_form):
        network = _create_network_with_subnet(gw, form, subnet_form)
        if network is not None:
            message = _("Network %(name)s created.") % {"name": network.label}
            return done(request, message, reverse("network:admin-networks"))
    return form_page(
        request,
        form,
        extra_forms=[subnet_form],
        title=_("Create a provider network"),
        submit=_("Create network"),
        cancel=reverse("network:admin-networks"),
        fields="network/network_fields.html",
    )


@require_GET
@admin_required
def admin_routers(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    routers, networks, projects = concurrently(
        gw.list_routers, gw.list_networks, lambda: _project_names(gw)
    )
    deleting = _routers_being_deleted(request)
    rows = sorted(
        router_rows(routers, networks, projects, deleting), key=lambda r: r.project_name.lower()
    )
    context = {"rows": rows, "deleting": any(r.deleting for r in rows)}
    return _page(request, "network/admin_routers.html", context)


@require_GET
@admin_required
def admin_floating_ips(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    ips, networks, projects = concurrently(
        gw.list_floating_ips, gw.list_networks, lambda: _project_names(gw)
    )
    rows = floating_ip_rows(ips, networks, [], projects)
    return _page(request, "network/admin_floating_ips.html", {"rows": rows})
