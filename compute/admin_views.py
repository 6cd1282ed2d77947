"""Admin › Compute and Admin › System: hypervisors and capacity, compute services and host
jobs (drain, evacuate), aggregates, flavors (extra specs, access to private ones), every
project's instances with live and cold migration, Nova's migrations, and the cloud's health
(with the banner every admin page shows).

Every view is `admin_required` and acts with the signed-in administrator's own token; the
host jobs run in compute/tasks.py. Call budgets (tested with the fake): hypervisors 3 + 2 per
host (Placement inventories and usages, all at once); instances 4 in one round; health 4 +
one probe per endpoint URL, all at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compute import actions as acts
from compute import admin_forms as af
from compute import hosts as h
from compute import tasks, warm
from compute.gateway import (
    AdminGateway,
    Aggregate,
    ComputeService,
    Flavor,
    NetworkAgent,
    Probe,
    Server,
)
from compute.hints import explain
from compute.services import (
    compute_service,
    each,
    host_capacities,
    host_choices,
    start_drain,
    start_evacuation,
    start_server_move,
)
from compute.views import IMAGES_KEPT_SECONDS, ServerRow, image_label, menu_of_gone_server
from portal.actions import done, form_page, go
from portal.concurrency import concurrently
from portal.errors import CloudUnavailable, NotFound, Rejected
from portal.gateways import gateway
from portal.identity import PortalRequest, admin_required, me
from portal.kept import kept, kept_for_page, portal_changes
from portal.models import Operation
from portal.preferences import page_size
from portal.refs import ProjectRef, VolumeService

T = TypeVar("T")
HEALTH_KEPT_SECONDS = 60  # the admin pages' health banner, unless the portal changes something
# Admin › Hypervisors' figures, unless the portal changed something: Nova's own default
# service_down_time, the time Nova itself takes to call a silent host down.
HOSTS_KEPT_SECONDS = 60
NAMES_KEPT_SECONDS = 60  # Admin › Instances' hosts and project names, likewise
MIGRATIONS_PER_PAGE = 50

LIVE_MIGRATE = acts.Action("live_migrate_server", gettext_lazy("Live migrate"))
LIVE_MIGRATE_TO = acts.Action(
    "live_migrate_server", gettext_lazy("Live migrate to a host…"), form=True
)
MIGRATE = acts.Action("migrate_server", gettext_lazy("Cold migrate…"), form=True)


def _gw(request: PortalRequest) -> AdminGateway:
    return gateway(request, AdminGateway)


def _posted(request: PortalRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _partial(request: PortalRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _optional(call: Callable[[], T]) -> Callable[[], T | None]:
    """A service that is missing or failing leaves a gap on a page, not an error page."""

    def run() -> T | None:
        try:
            return call()
        except (CloudUnavailable, Rejected, NotFound):
            return None

    return run


def operation_url(op: Operation) -> str:
    return reverse("compute:host-operation", args=[op.pk])


# --- capacity --------------------------------------------------------------------------------


@require_GET
@admin_required
def admin_hypervisors(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)

    def read() -> tuple[list[Aggregate], list[Flavor], dict[str, h.HostCapacity]]:
        hypervisors, aggregates, flavors = concurrently(
            gw.list_hypervisors, gw.list_aggregates, gw.list_flavors
        )
        return aggregates, flavors, host_capacities(gw, hypervisors)

    # Kept briefly (portal/kept.py): the page says when it was read; ?fresh=1 reads again.
    (aggregates, flavors, capacities), note = kept_for_page(
        request, "compute:hypervisors", read, HOSTS_KEPT_SECONDS, all_projects=True
    )
    host_rows, aggregate_rows = h.capacity_rows(list(capacities.values()), aggregates, flavors)
    context = {
        "capacities": list(capacities.values()),
        "totals": h.totals(capacities.values()),
        "flavors": flavors,
        "host_rows": host_rows,
        "aggregate_rows": aggregate_rows,
        **note,
    }
    if _partial(request) and request.GET.get("part") == "capacity":
        return render(request, "compute/admin/hypervisors.html#capacity", context)
    return render(request, "compute/admin/hypervisors.html", context)


# --- compute services and host jobs ----------------------------------------------------------


@require_GET
@admin_required
def admin_services(request: PortalRequest) -> HttpResponse:
    services = _gw(request).list_services()
    jobs = (
        Operation.objects.of_cloud(me(request))
        .filter(kind__in=(tasks.drain_host.name, tasks.evacuate_host.name))
        .defer("credential", "log")[:20]
    )
    latest: dict[str, Operation] = {}
    for op in jobs:
        latest.setdefault(op.target, op)
    rows = [
        {
            "service": s,
            "job": latest.get(s.host),
            "can_evacuate": s.binary == "nova-compute" and not h.evacuation_refusal(s),
        }
        for s in services
    ]
    return render(request, "compute/admin/services.html", {"rows": rows})


def _service_done(request: PortalRequest, message: str, ok: bool = True) -> HttpResponse:
    return done(request, message, reverse("compute:admin-services"), ok)


@require_POST
@admin_required
def enable_service(request: PortalRequest, service_id: str) -> HttpResponse:
    try:
        _gw(request).enable_service(service_id)
    except (Rejected, NotFound) as exc:
        return _service_done(
            request, _("Not enabled: %(reason)s") % {"reason": explain(exc)}, False
        )
    return _service_done(request, _("The compute service is enabled."))


@require_POST
@admin_required
def update_service_forced_down(request: PortalRequest, service_id: str) -> HttpResponse:
    forced = request.POST.get("forced") == "1"
    try:
        _gw(request).update_service_forced_down(service_id, forced)
    except (Rejected, NotFound) as exc:
        message = _("Nova refused: %(reason)s") % {"reason": explain(exc)}
        return _service_done(request, message, False)
    if forced:
        return _service_done(request, _("The compute service is marked forced down."))
    return _service_done(request, _("The compute service is no longer forced down."))


@require_http_methods(["GET", "POST"])
@admin_required
def disable_service(request: PortalRequest, service_id: str) -> HttpResponse:
    gw = _gw(request)
    service = compute_service(gw, service_id=service_id)
    form = af.DisableServiceForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            gw.disable_service(service.id, form.cleaned_data["reason"])
        except (Rejected, NotFound) as exc:
            form.add_error(None, explain(exc))
        else:
            return _service_done(request, _("%(host)s is disabled.") % {"host": service.host})
    return form_page(
        request,
        form,
        title=_("Disable %(host)s") % {"host": service.host},
        submit=_("Disable"),
        intro=_("The scheduler puts no new instances on a disabled host; those on it stay."),
        cancel=reverse("compute:admin-services"),
        stay=False,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def drain_host(request: PortalRequest, host: str) -> HttpResponse:
    service = compute_service(_gw(request), host=host)
    form = af.DrainHostForm(_posted(request), concurrency=tasks.DRAIN_CONCURRENCY)
    if request.method == "POST" and form.is_valid():
        return go(request, operation_url(start_drain(request, service, form)))
    return form_page(
        request,
        form,
        title=_("Drain %(host)s") % {"host": service.host},
        submit=_("Drain host"),
        intro=_(
            "Disables the compute service of %(host)s, then moves every instance off it. "
            "The job keeps going if you sign out, and ends with a report."
        )
        % {"host": service.host},
        danger=True,
        cancel=reverse("compute:admin-services"),
        stay=False,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def evacuate_host(request: PortalRequest, host: str) -> HttpResponse:
    service = compute_service(_gw(request), host=host)
    form = af.HostJobForm(_posted(request), concurrency=tasks.DRAIN_CONCURRENCY)
    refusal = h.evacuation_refusal(service)
    if refusal:  # said on GET too, on a bound form: it cannot be sent
        data = request.POST or {"concurrency": tasks.DRAIN_CONCURRENCY}
        form = af.HostJobForm(data, concurrency=tasks.DRAIN_CONCURRENCY)
        form.is_valid()
        form.add_error(None, refusal)
    elif request.method == "POST" and form.is_valid():
        return go(request, operation_url(start_evacuation(request, service, form)))
    return form_page(
        request,
        form,
        title=_("Evacuate %(host)s") % {"host": service.host},
        submit=_("Evacuate host"),
        intro=_(
            "Rebuilds every instance of the failed host %(host)s on other hosts. Instances "
            "keep their disks only on shared storage or volumes; they start shut off."
        )
        % {"host": service.host},
        danger=True,
        cancel=reverse("compute:admin-services"),
        stay=False,
    )


# --- aggregates ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@admin_required
def admin_aggregates(request: PortalRequest) -> HttpResponse:
    """The aggregates and availability zones; POST creates an aggregate."""
    gw = _gw(request)
    form = af.AggregateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            gw.create_aggregate(data["name"], data["availability_zone"])
        except (Rejected, NotFound) as exc:
            form.add_error(None, explain(exc))
        else:
            messages.success(request, _("Aggregate %(name)s created.") % {"name": data["name"]})
            return HttpResponseRedirect(reverse("compute:admin-aggregates"))
    aggregates, services = concurrently(
        gw.list_aggregates, lambda: gw.list_services("nova-compute")
    )
    hosts = [s.host for s in services]
    zones: dict[str, list[str]] = {}
    for service in services:
        zones.setdefault(service.zone, []).append(service.host)
    context = {
        "form": form,
        "aggregates": [
            {"aggregate": a, "free_hosts": [x for x in hosts if x not in a.hosts]}
            for a in aggregates
        ],
        "zones": sorted(zones.items()),
        "metadata_form": af.AggregateMetadataForm(),
    }
    return render(
        request, "compute/admin/aggregates.html", context, status=400 if form.errors else 200
    )


def _aggregate_change(
    request: PortalRequest, act: Callable[[AdminGateway], object], done: str
) -> HttpResponse:
    try:
        act(_gw(request))
    except (Rejected, NotFound) as exc:
        messages.error(request, _("Nova refused: %(reason)s") % {"reason": explain(exc)})
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("compute:admin-aggregates"))


@require_POST
@admin_required
def delete_aggregate(request: PortalRequest, aggregate_id: str) -> HttpResponse:
    return _aggregate_change(
        request, lambda gw: gw.delete_aggregate(aggregate_id), _("Aggregate deleted.")
    )


@require_POST
@admin_required
def add_host_to_aggregate(request: PortalRequest, aggregate_id: str) -> HttpResponse:
    host = request.POST.get("host", "")
    form = af.AggregateHostForm(request.POST, hosts=[host] if host else [])
    if not form.is_valid():
        messages.error(request, _("Choose a host to add."))
        return HttpResponseRedirect(reverse("compute:admin-aggregates"))
    return _aggregate_change(
        request,
        lambda gw: gw.add_host_to_aggregate(aggregate_id, host),
        _("%(host)s added to the aggregate.") % {"host": host},
    )


@require_POST
@admin_required
def remove_host_from_aggregate(request: PortalRequest, aggregate_id: str) -> HttpResponse:
    host = request.POST.get("host", "")
    return _aggregate_change(
        request,
        lambda gw: gw.remove_host_from_aggregate(aggregate_id, host),
        _("%(host)s removed from the aggregate.") % {"host": host},
    )


@require_POST
@admin_required
def set_aggregate_metadata(request: PortalRequest, aggregate_id: str) -> HttpResponse:
    """Set one key (key and value), or remove one (`remove` names the key)."""
    if removed := request.POST.get("remove", ""):
        return _aggregate_change(
            request,
            lambda gw: gw.set_aggregate_metadata(aggregate_id, {removed: None}),
            _("Metadata %(key)s removed.") % {"key": removed},
        )
    form = af.AggregateMetadataForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return HttpResponseRedirect(reverse("compute:admin-aggregates"))
    key, value = form.cleaned_data["key"], form.cleaned_data["value"]
    return _aggregate_change(
        request,
        lambda gw: gw.set_aggregate_metadata(aggregate_id, {key: value}),
        _("Metadata %(key)s set.") % {"key": key},
    )


# --- every project's instances, and moving one -----------------------------------------------


def admin_actions(server: Server) -> tuple[acts.Action, ...]:
    """Live migration for running (or paused) instances, cold migration for running or shut
    off ones: the states Nova accepts (nova/compute/api.py); none while Nova is busy."""
    if server.task_state or server.status == "BUILD":
        return ()
    found: list[acts.Action] = []
    if server.vm_state in ("active", "paused"):
        found += [LIVE_MIGRATE, LIVE_MIGRATE_TO]
    if server.vm_state in ("active", "stopped"):
        found.append(MIGRATE)
    return tuple(found)


@dataclass(frozen=True)
class AdminServerRow(ServerRow):
    """A row of Admin › Instances: its menu (read when opened) adds the migrations."""

    @property
    def menu_url(self) -> str:
        return reverse("compute:admin-server-actions", args=[self.server.id])


@require_GET
@admin_required
def admin_server_actions(request: PortalRequest, server_id: str) -> HttpResponse:
    """The admin row's action menu: every tenant action the state allows, and migrations."""
    gw = _gw(request)
    try:
        server = gw.get_server(server_id)
    except NotFound:
        return menu_of_gone_server()
    actions = admin_actions(server) + acts.available_actions(server, gw.has_volumes())
    row = AdminServerRow(server, "", actions, admin=True)
    return render(request, "compute/servers.html#menu", {"row": row})


def _admin_list_url(params: dict[str, str]) -> str:
    query = urlencode(params)
    return reverse("compute:admin-servers") + (f"?{query}" if query else "")


@require_GET
@admin_required
def admin_servers(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    # Every project's servers kept warm (one changes-since delta, compute/warm.py), with the
    # hosts, projects and image names (kept copies): four calls in one round at most, usually
    # the delta alone; the page is cut here.
    scope = warm.all_projects_scope(me(request))
    identity, hosts = me(request), lambda: gw.list_services("nova-compute")
    stamp = portal_changes(identity)
    services, projects, servers, images = concurrently(
        lambda: kept(
            identity, "compute:hosts", hosts, NAMES_KEPT_SECONDS, stamp, all_projects=True
        ),
        lambda: kept(
            identity,
            "compute:projects",
            gw.list_projects,
            NAMES_KEPT_SECONDS,
            stamp,
            all_projects=True,
        ),
        lambda: warm.warm_servers(gw, scope),
        lambda: kept(
            identity,
            "compute:images",
            _optional(gw.list_images),
            IMAGES_KEPT_SECONDS,
            stamp,
            all_projects=True,
        ),
    )
    form = af.AdminServerFilterForm(
        request.GET or None,
        hosts=[s.host for s in services],
        projects=projects,
        per_page=page_size(request),
    )
    names = {i.id: i.label for i in images or []}
    page = warm.page_of(servers, form.admin_query(), names)
    has_volumes = gw.has_volumes()
    rows = [
        AdminServerRow(
            s,
            image_label(s, names),
            admin_actions(s) + acts.available_actions(s, has_volumes),
            admin=True,
        )
        for s in page.servers
    ]
    params = form.link_params()
    context = {
        "form": form,
        "rows": rows,
        "admin": True,
        "project_names": {
            s.project_id: {p.id: p.name for p in projects}.get(s.project_id, "")
            for s in page.servers
        },
        "next_url": _admin_list_url({**params, "marker": page.next_marker})
        if page.next_marker
        else "",
        "prev_url": _admin_list_url({**params, "before": page.prev_marker})
        if page.prev_marker
        else "",
        "filtered": bool(params.keys() - {"sort", "per_page"}),
    }
    if _partial(request):
        return render(request, "compute/admin/servers.html#table", context)
    return render(request, "compute/admin/servers.html", context)


def _server_moves(
    request: PortalRequest,
    server_id: str,
    *,
    live: bool,
) -> HttpResponse:
    gw = _gw(request)
    server = gw.get_server(server_id)
    one_click = request.method == "POST" and not request.POST.get("host")
    choices = [] if one_click else host_choices(gw, server)
    form_class = af.LiveMigrateForm if live else af.TargetHostForm
    form = form_class(_posted(request), choices=choices)
    if request.method == "POST" and form.is_valid():
        return go(request, operation_url(start_server_move(request, server, form)))
    names = {"name": server.name, "host": server.host or "—"}
    return form_page(
        request,
        form,
        title=(_("Live migrate %(name)s") if live else _("Cold migrate %(name)s")) % names,
        submit=_("Live migrate") if live else _("Cold migrate"),
        intro=(
            _("%(name)s runs on %(host)s. It keeps running while it moves.")
            if live
            else _(
                "%(name)s runs on %(host)s. It is shut down, moved, and waits for you to "
                "confirm or revert on its new host."
            )
        )
        % names,
        cancel=reverse("compute:admin-servers"),
        stay=False,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def live_migrate_server(request: PortalRequest, server_id: str) -> HttpResponse:
    """GET: the form (hosts offered with why not). POST without a host: one click, the
    scheduler chooses."""
    return _server_moves(request, server_id, live=True)


@require_http_methods(["GET", "POST"])
@admin_required
def migrate_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _server_moves(request, server_id, live=False)


# --- a host job's page -----------------------------------------------------------------------


@require_GET
@admin_required
def host_operation(request: PortalRequest, pk: int) -> HttpResponse:
    op = get_object_or_404(
        Operation.objects.of_cloud(me(request)).filter(kind__in=tasks.HOST_JOBS), pk=pk
    )
    items = op.result.get("items") or []
    single = items[0] if op.kind in ("live_migrate_server", "migrate_server") and items else None
    context = {
        "op": op,
        "items": items,
        "single": single,
        "report": op.result.get("report") or h.counts(items),
        "source": op.result.get("source", ""),
    }
    if _partial(request):
        return render(
            request,
            "compute/admin/operation.html#card",
            context,
            status=286 if op.is_finished else 200,
        )
    return render(request, "compute/admin/operation.html", context)


def _migration_done(request: PortalRequest, message: str, ok: bool) -> HttpResponse:
    return done(request, message, reverse("compute:admin-migrations"), ok)


@require_POST
@admin_required
def abort_server_migration(
    request: PortalRequest, server_id: str, migration_id: int
) -> HttpResponse:
    try:
        _gw(request).abort_server_migration(server_id, migration_id)
    except (Rejected, NotFound) as exc:
        message = _("The migration was not aborted: %(reason)s") % {"reason": explain(exc)}
        return _migration_done(request, message, False)
    return _migration_done(request, _("Nova is aborting the live migration."), True)


@require_POST
@admin_required
def force_complete_server_migration(
    request: PortalRequest, server_id: str, migration_id: int
) -> HttpResponse:
    try:
        _gw(request).force_complete_server_migration(server_id, migration_id)
    except (Rejected, NotFound) as exc:
        message = _("The migration was not forced to complete: %(reason)s") % {
            "reason": explain(exc)
        }
        return _migration_done(request, message, False)
    return _migration_done(request, _("Nova is completing the live migration now."), True)


# --- migrations ------------------------------------------------------------------------------


@require_GET
@admin_required
def admin_migrations(request: PortalRequest) -> HttpResponse:
    form = af.MigrationFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    migrations = _gw(request).list_migrations(
        host=data.get("host", "").strip(),
        status=data.get("status", ""),
        migration_type=data.get("migration_type", ""),
        server_id=data.get("server_id", ""),
        limit=MIGRATIONS_PER_PAGE,
        marker=data.get("marker", ""),
    )
    ops = (
        Operation.objects.of_cloud(me(request))
        .filter(kind__in=tasks.HOST_JOBS, target__in={m.server_id for m in migrations})
        .only("pk", "target", "kind")
    )
    op_by_server: dict[str, int] = {}
    for op in ops:
        op_by_server.setdefault(op.target, op.pk)  # newest first (the model's ordering)
    params = {k: str(v) for k, v in data.items() if v and k != "marker"}
    older = ""
    if len(migrations) == MIGRATIONS_PER_PAGE:
        older = (
            reverse("compute:admin-migrations")
            + "?"
            + urlencode({**params, "marker": migrations[-1].uuid})
        )
    context = {
        "form": form,
        "rows": [(m, op_by_server.get(m.server_id)) for m in migrations],
        "older_url": older,
        "filtered": bool(params),
    }
    return render(request, "compute/admin/migrations.html", context)


# --- cloud health ----------------------------------------------------------------------------


def health_problems(
    services: list[ComputeService],
    agents: list[NetworkAgent] | None,
    volume_services: list[VolumeService] | None,
    probes: list[Probe],
) -> list[str]:
    """What is down, in one sentence each (the banner's content)."""
    problems = []
    for s in services:
        if s.forced_down or s.state != "up":
            problems.append(
                _("Nova %(binary)s on %(host)s is down.") % {"binary": s.binary, "host": s.host}
            )
    for a in agents or []:
        if not a.alive:
            problems.append(
                _("Neutron %(binary)s on %(host)s is down.") % {"binary": a.binary, "host": a.host}
            )
    for v in volume_services or []:
        if v.state != "up" and v.status == "enabled":
            problems.append(
                _("Cinder %(binary)s on %(host)s is down.") % {"binary": v.binary, "host": v.host}
            )
    for p in probes:
        if not p.reachable:
            problems.append(
                _("%(url)s does not answer (%(error)s).")
                % {"url": p.url, "error": p.error or p.status_code}
            )
    return problems


def _health(gw: AdminGateway) -> dict[str, Any]:
    services, agents, volume_services, endpoints = concurrently(
        gw.list_services,
        _optional(gw.list_network_agents),
        _optional(gw.list_volume_services),
        gw.list_catalog_endpoints,
    )
    urls = sorted({e.url for e in endpoints})
    probes: list[Probe] = each([functools.partial(gw.probe_endpoint, url) for url in urls])
    by_url = {p.url: p for p in probes}
    return {
        "services": services,
        "agents": agents,
        "volume_services": volume_services,
        "endpoints": [(e, by_url[e.url]) for e in endpoints],
        "problems": health_problems(services, agents, volume_services, probes),
    }


@require_GET
@admin_required
def admin_health(request: PortalRequest) -> HttpResponse:
    """The health page; `?part=banner` is the banner every admin page loads, kept a minute
    unless the portal changes something (portal/kept.py), so browsing admin pages does not
    probe the cloud on every click."""
    gw = _gw(request)
    if request.GET.get("part") == "banner":
        identity = me(request)
        problems = kept(
            identity,
            f"compute:health-banner:{get_language()}",
            lambda: _health(gw)["problems"],
            HEALTH_KEPT_SECONDS,
            portal_changes(identity),
            all_projects=True,
        )
        return render(request, "compute/admin/health.html#banner", {"problems": problems})
    context = _health(gw)
    return render(request, "compute/admin/health.html", context)


# --- flavors ---------------------------------------------------------------------------------


def _flavor_url(flavor_id: str) -> str:
    return reverse("compute:flavor-detail", args=[flavor_id])


@require_GET
@admin_required
def list_flavors(request: PortalRequest) -> HttpResponse:
    """Every flavor, public and private, with its extra specs (one Nova call, 2.61+)."""
    return render(request, "compute/admin/flavors.html", {"flavors": _gw(request).list_flavors()})


@require_http_methods(["GET", "POST"])
@admin_required
def create_flavor(request: PortalRequest) -> HttpResponse:
    form = af.FlavorForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            flavor_id = _gw(request).create_flavor(form.new_flavor())
        except (Rejected, NotFound) as exc:
            form.add_error(None, explain(exc))  # a name or id taken: Nova's 409, in its words
        else:
            message = _("Flavor %(name)s created.") % {"name": form.cleaned_data["name"]}
            return done(request, message, _flavor_url(flavor_id))
    return form_page(
        request,
        form,
        title=_("Create a flavor"),
        submit=_("Create flavor"),
        cancel=reverse("compute:list-flavors"),
        stay=False,
    )


def _flavor_page(
    request: PortalRequest,
    flavor_id: str,
    *,
    spec_form: af.ExtraSpecForm | None = None,
    access_form: af.FlavorAccessForm | None = None,
) -> HttpResponse:
    """One flavor: its extra specs and, when private, the projects given access (names from
    Keystone, read at the same time as Nova's access list). 1 call, or 3 for a private one."""
    gw = _gw(request)
    flavor = gw.get_flavor(flavor_id)
    access: list[str] = []
    projects: list[ProjectRef] = []
    if not flavor.is_public:
        access, projects = concurrently(lambda: gw.list_flavor_access(flavor.id), gw.list_projects)
    names = {p.id: p.name for p in projects}
    if access_form is None:
        access_form = af.FlavorAccessForm(projects=[p for p in projects if p.id not in access])
    elif flavor.is_public:  # a public flavor's page has no access form to show errors at
        for errors in access_form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    spec_form = spec_form or af.ExtraSpecForm()
    context = {
        "flavor": flavor,
        "access": [(pid, names.get(pid, "")) for pid in access],
        "spec_form": spec_form,
        "access_form": access_form,
        "suggestions": af.EXTRA_SPEC_SUGGESTIONS,
    }
    failed = bool(spec_form.errors or access_form.errors)
    return render(
        request, "compute/admin/flavors_detail.html", context, status=400 if failed else 200
    )


@require_GET
@admin_required
def flavor_detail(request: PortalRequest, flavor_id: str) -> HttpResponse:
    return _flavor_page(request, flavor_id)


def _flavor_done(request: PortalRequest, flavor_id: str, message: str, ok: bool) -> HttpResponse:
    return done(request, message, _flavor_url(flavor_id), ok)


@require_POST
@admin_required
def update_flavor_extra_specs(request: PortalRequest, flavor_id: str) -> HttpResponse:
    """Set one key; Nova (2.86+) still checks the values of the namespaces it knows."""
    form = af.ExtraSpecForm(request.POST)
    if form.is_valid():
        key, value = form.cleaned_data["key"], form.cleaned_data["value"]
        try:
            _gw(request).update_flavor_extra_specs(flavor_id, {key: value})
        except (Rejected, NotFound) as exc:
            form.add_error(None, explain(exc))
        else:
            return _flavor_done(request, flavor_id, _("%(key)s set.") % {"key": key}, True)
    return _flavor_page(request, flavor_id, spec_form=form)


@require_POST
@admin_required
def delete_flavor_extra_spec(request: PortalRequest, flavor_id: str) -> HttpResponse:
    key = request.POST.get("key", "")
    if not re.fullmatch(af.EXTRA_SPEC_KEY, key) or len(key) > 255:
        return _flavor_done(request, flavor_id, _("That is not an extra spec key."), False)
    try:
        _gw(request).delete_flavor_extra_spec(flavor_id, key)
    except (Rejected, NotFound) as exc:
        reason = _("Nova refused: %(reason)s") % {"reason": explain(exc)}
        return _flavor_done(request, flavor_id, reason, False)
    return _flavor_done(request, flavor_id, _("%(key)s removed.") % {"key": key}, True)


@require_POST
@admin_required
def add_flavor_access(request: PortalRequest, flavor_id: str) -> HttpResponse:
    gw = _gw(request)
    form = af.FlavorAccessForm(request.POST, projects=gw.list_projects())
    if form.is_valid():
        project_id = form.cleaned_data["project_id"]
        try:
            gw.add_flavor_access(flavor_id, project_id)
        except (Rejected, NotFound) as exc:
            form.add_error(None, explain(exc))  # a public flavor, or access given already
        else:
            done = _("Project %(project)s may use this flavor.") % {"project": project_id}
            return _flavor_done(request, flavor_id, done, True)
    return _flavor_page(request, flavor_id, access_form=form)


@require_POST
@admin_required
def remove_flavor_access(request: PortalRequest, flavor_id: str) -> HttpResponse:
    project_id = request.POST.get("project_id", "")
    try:
        _gw(request).remove_flavor_access(flavor_id, project_id)
    except (Rejected, NotFound) as exc:
        reason = _("Nova refused: %(reason)s") % {"reason": explain(exc)}
        return _flavor_done(request, flavor_id, reason, False)
    done = _("Project %(project)s may no longer use this flavor.") % {"project": project_id}
    return _flavor_done(request, flavor_id, done, True)


@require_http_methods(["GET", "POST"])
@admin_required
def delete_flavor(request: PortalRequest, flavor_id: str) -> HttpResponse:
    gw = _gw(request)
    flavor = gw.get_flavor(flavor_id)
    if request.method == "POST":
        try:
            gw.delete_flavor(flavor.id)
        except (Rejected, NotFound) as exc:
            reason = _("Nova refused: %(reason)s") % {"reason": explain(exc)}
            return _flavor_done(request, flavor.id, reason, False)
        message = _("Flavor %(name)s deleted.") % {"name": flavor.name}
        return done(request, message, reverse("compute:list-flavors"))
    return form_page(
        request,
        None,
        title=_("Delete flavor %(name)s") % {"name": flavor.name},
        intro=_(
            "Nova deletes a flavor even while instances use it. Those instances keep running "
            "with the copy of the flavor stored in each of them; nothing new can be launched "
            "with it, and an instance resized away from it cannot be resized back."
        ),
        submit=_("Delete flavor"),
        cancel=reverse("compute:list-flavors"),
        danger=True,
        stay=False,
    )
