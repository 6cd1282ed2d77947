"""Admin › Overview (every project's usage), the usage CSV exports, Admin › Defaults, and a
project's quotas: Project › Overview's limits and usage, Identity › Projects' quota pages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.concurrency import concurrently
from portal.gateways import gateway
from portal.identity import PortalRequest, admin_required, login_required, me
from portal.kept import kept, portal_changes
from portal.models import Operation
from portal.operations import start_operation
from projects.gateway import ProjectsGateway
from quotas import catalog, services, tasks
from quotas.forms import BulkQuotaForm, ProjectQuotaForm, QuotaValuesForm, UsageRangeForm
from quotas.gateway import QuotaSet, QuotasGateway
from quotas.models import NetworkDefaultsApplied, NetworkQuotaDefaults
from quotas.usage import (
    INSTANCE_COLUMNS,
    PROJECT_COLUMNS,
    Period,
    all_project_rows,
    csv_lines,
    hours,
    instance_cells,
    iso,
    project_servers,
    project_usage,
    project_usages,
    usage_row,
    volume_totals,
)


def stream_limit() -> int:
    """Above this many project-days (projects in the cloud x days in the period) the
    all-projects CSV is written by an export_usage job instead of streamed to the browser."""
    return settings.STACKDESK_USAGE_EXPORT_STREAM_LIMIT


def _csv_response(lines: Iterator[str], filename: str) -> HttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Accel-Buffering"] = "no"  # let a proxy pass rows on as they come
    # login_required/admin_required are typed for HttpResponse; Django serves both alike.
    return cast(HttpResponse, response)


def _filename(prefix: str, period: Period) -> str:
    return f"{prefix}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"


# --- Admin › Overview ---------------------------------------------------------------------


@require_GET
@admin_required
def admin_usage(request: PortalRequest) -> HttpResponse:
    form = UsageRangeForm(request.GET)
    if not form.is_valid():
        return render(request, "quotas/admin_usage.html", {"form": form}, status=400)
    period = form.period()
    qgw, pgw = gateway(request, QuotasGateway), gateway(request, ProjectsGateway)
    # Three independent reads at once: project names, volume totals, and Nova's usage pages.
    projects, volumes, usages = concurrently(
        pgw.list_projects,
        lambda: volume_totals(qgw, all_projects=True),
        lambda: list(project_usages(qgw, period)),
    )
    names = {p.id: p.name for p in projects}
    rows = list(all_project_rows(usages, names, volumes))
    context = {
        "form": form,
        "period": period,
        "rows": rows,
        "has_volumes": volumes is not None,
        "query": form.query(),
    }
    return render(request, "quotas/admin_usage.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def export_usage(request: PortalRequest) -> HttpResponse:
    """Every project's usage as CSV: streamed (GET), or, when large, written by a job (POST)."""
    form = UsageRangeForm(request.GET if request.method == "GET" else request.POST)
    if not form.is_valid():
        return render(request, "quotas/admin_usage.html", {"form": form}, status=400)
    period = form.period()
    if request.method == "POST":
        op = start_operation(
            request,
            tasks.export_usage,
            target_name=f"{iso(period.start)} – {iso(period.end)}",
            params={"start": period.start.isoformat(), "end": period.end.isoformat()},
        )
        return redirect("quotas:show-export", pk=op.pk)
    qgw, pgw = gateway(request, QuotasGateway), gateway(request, ProjectsGateway)
    projects = pgw.list_projects()
    if len(projects) * period.days > stream_limit():
        context = {"form": form, "period": period, "projects": len(projects)}
        return render(request, "quotas/export_large.html", context)
    names = {p.id: p.name for p in projects}

    def rows() -> Iterator[list[str]]:
        volumes = volume_totals(qgw, all_projects=True)
        for row in all_project_rows(project_usages(qgw, period), names, volumes):
            yield row.cells(period)

    return _csv_response(csv_lines(PROJECT_COLUMNS, rows()), _filename("usage", period))


@require_GET
@login_required
def export_project_usage(request: PortalRequest) -> HttpResponse:
    """The signed-in project's usage as CSV: its instances, or its one summary row."""
    form = UsageRangeForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose a valid period first."))
        return redirect("projects:overview")
    period, identity = form.period(), me(request)
    qgw = gateway(request, QuotasGateway)
    pid, name = identity.project_id, identity.project_name
    filename = _filename(f"usage-{name}", period)
    if request.GET.get("rows") == "summary":

        def summary() -> Iterator[list[str]]:
            usage = project_usage(qgw, pid, period)
            volumes = volume_totals(qgw, all_projects=False)
            totals = (volumes or {}).get("", (0, 0))
            yield usage_row(usage, name, totals, volumes is not None).cells(period)

        return _csv_response(csv_lines(PROJECT_COLUMNS, summary()), filename)
    servers = (instance_cells(period, pid, name, s) for s in project_servers(qgw, pid, period))
    return _csv_response(csv_lines(INSTANCE_COLUMNS, servers), f"instances-{filename}")


def _own_export(request: PortalRequest, pk: int) -> Operation:
    """An export job, to the user who started it or an admin; anyone else gets a 404."""
    identity = me(request)
    exports = Operation.objects.visible_to(identity).filter(kind=tasks.export_usage.name)
    return get_object_or_404(exports, pk=pk)


@require_GET
@login_required
def show_export(request: PortalRequest, pk: int) -> HttpResponse:
    op = _own_export(request, pk)
    context = {"op": op}
    if request.htmx and not request.htmx.boosted:
        return render(
            request, "quotas/export.html#download", context, status=286 if op.is_finished else 200
        )
    return render(request, "quotas/export.html", context)


@require_GET
@login_required
def download_export(request: PortalRequest, pk: int) -> HttpResponse:
    op = _own_export(request, pk)
    path = tasks.export_path(op.pk)
    if op.state != Operation.State.SUCCEEDED or not path.exists():
        raise Http404
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"usage-{op.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
    return cast(HttpResponse, response)  # see _csv_response


# --- Admin › Defaults ---------------------------------------------------------------------


def _network_defaults(cloud_key: str, configured: dict[str, int]) -> dict[str, int]:
    saved = NetworkQuotaDefaults.objects.filter(cloud_key=cloud_key).first()
    return {**configured, **(saved.values if saved else {})}


def _last_network_defaults_job(cloud_key: str) -> Operation | None:
    return (
        Operation.objects.filter(kind=tasks.apply_network_defaults.name, cloud_key=cloud_key)
        .order_by("-created_at")
        .first()
    )


@require_http_methods(["GET", "POST"])
@admin_required
def defaults(request: PortalRequest) -> HttpResponse:
    identity, gw = me(request), gateway(request, QuotasGateway)
    services = [s for s in catalog.SERVICE_TYPES if gw.has_service(catalog.SERVICE_TYPES[s])]
    readers = {
        catalog.COMPUTE: gw.get_compute_quota_class_set,
        catalog.VOLUME: gw.get_volume_quota_class_set,
        catalog.NETWORK: gw.get_network_quota_default,
    }

    def read(service: str) -> dict[str, int] | None:
        return readers[service]() if service in services else None

    # The three services' defaults at once.
    found = concurrently(
        lambda: read(catalog.COMPUTE), lambda: read(catalog.VOLUME), lambda: read(catalog.NETWORK)
    )
    current = {s: v for s, v in zip(readers, found, strict=True) if v is not None}
    if catalog.NETWORK in current:
        current[catalog.NETWORK] = _network_defaults(identity.cloud_key, current[catalog.NETWORK])
    form = QuotaValuesForm(request.POST or None, services=services, initial_values=current)
    if request.method == "POST" and form.is_valid():
        outcome = save_defaults(request, gw, form.changes(), current)
        for service, reason in outcome.rows():
            form.add_error(None, f"{catalog.SERVICE_LABELS[service]}: {reason}")
        if outcome.complete:
            if outcome.applied:
                messages.success(request, _("Default quotas saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("quotas:defaults")
    op = _last_network_defaults_job(identity.cloud_key)
    context = {"form": form, **(quota_job_context(op) if op else {})}
    return render(request, "quotas/defaults.html", context, status=400 if form.errors else 200)


def save_defaults(
    request: PortalRequest,
    gw: QuotasGateway,
    changes: dict[str, dict[str, int]],
    current: dict[str, dict[str, int]],
) -> tasks.QuotaOutcome:
    """Nova's and Cinder's defaults all or none (a refused part sets the other back), then the
    portal's network defaults, which only the portal's own job can refuse."""
    writers = {
        catalog.COMPUTE: gw.update_compute_quota_class_set,
        catalog.VOLUME: gw.update_volume_quota_class_set,
    }
    outcome = tasks.apply_quota_changes(
        lambda service, values: writers[service](values),
        {s: v for s, v in changes.items() if s in writers},
        current,
    )
    if not outcome.complete:
        if catalog.NETWORK in changes:
            outcome.skipped.append(catalog.NETWORK)
        return outcome
    if catalog.NETWORK in changes:
        previous = current[catalog.NETWORK]
        values = {**previous, **changes[catalog.NETWORK]}
        NetworkQuotaDefaults.objects.update_or_create(
            cloud_key=me(request).cloud_key,
            defaults={"values": values, "updated_by": me(request).user_name},
        )
        start_operation(
            request,
            tasks.apply_network_defaults,
            params={"previous": previous, "values": values},
        )
        outcome.applied.append(catalog.NETWORK)
    return outcome


# --- quota jobs (bulk apply, network defaults) --------------------------------------------

QUOTA_JOBS = (tasks.apply_quotas.name, tasks.apply_network_defaults.name)
# A project overview's quotas and usage (portal/kept.py): the freshness bound of the warm
# lists, so a server launched outside the portal moves the meters as soon as it shows.
OVERVIEW_KEPT_SECONDS = 2


def quota_job_context(op: Operation) -> dict[str, object]:
    labels = {s: str(label) for s, label in catalog.SERVICE_LABELS.items()}
    outcomes = [
        {**o, "refused": [[labels.get(s, s), reason] for s, reason in o["refused"]]}
        for o in op.result.values()
    ]
    outcomes.sort(key=lambda o: (o["status"] == "changed", o["name"]))
    return {"op": op, "outcomes": outcomes}


@require_GET
@admin_required
def show_quota_job(request: PortalRequest, pk: int) -> HttpResponse:
    jobs = Operation.objects.of_cloud(me(request)).filter(kind__in=QUOTA_JOBS)
    op = get_object_or_404(jobs, pk=pk)
    context = quota_job_context(op)
    if request.htmx and not request.htmx.boosted:
        status = 286 if op.is_finished else 200
        return render(request, "quotas/quota_job.html#results", context, status=status)
    return render(request, "quotas/quota_job.html", context)


# --- a project's quotas: Project › Overview's limits and usage sections, Identity's pages --


@dataclass(frozen=True)
class MeterReading:
    label: str
    used: int
    limit: int  # -1: unlimited

    @property
    def unlimited(self) -> bool:
        return self.limit == catalog.UNLIMITED

    @property
    def percent(self) -> int:
        if self.unlimited or self.limit <= 0:
            return 100 if self.limit == 0 and self.used else 0
        return min(100, self.used * 100 // self.limit)

    @property
    def level(self) -> str:
        return "danger" if self.percent >= 100 else "warning" if self.percent >= 80 else "primary"


def read_meters(sets: Mapping[str, QuotaSet]) -> list[MeterReading]:
    found = []
    for meter in catalog.METERS:
        quota_set = sets.get(meter.service)
        quota = quota_set.quotas.get(meter.key) if quota_set else None
        if quota is not None:
            found.append(MeterReading(str(meter.label), quota.in_use, quota.limit))
    return found


def _section(
    request: PortalRequest, name: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    """An overview section: the partial for htmx, a page of its own for a plain link."""
    if request.htmx and not request.htmx.boosted:
        return render(request, f"quotas/project_sections.html#{name}", context, status=status)
    return render(request, f"quotas/overview_{name}.html", context, status=status)


@require_GET
@login_required
def show_limits(request: PortalRequest) -> HttpResponse:
    """The member's own limits as meters: the three services' quotas at once, kept for the
    project's users a few seconds (portal/kept.py): fifty of them share one read."""
    identity, qgw = me(request), gateway(request, QuotasGateway)
    sets = kept(
        identity,
        "quotas:limits",
        lambda: services.read_quota_sets(qgw, identity.project_id),
        OVERVIEW_KEPT_SECONDS,
        portal_changes(identity),
    )
    return _section(request, "limits", {"meters": read_meters(sets)})


@require_GET
@login_required
def show_usage(request: PortalRequest) -> HttpResponse:
    """The project's usage over a period: a summary row and its instances."""
    identity, form = me(request), UsageRangeForm(request.GET)
    if not form.is_valid():
        return _section(request, "usage", {"form": form}, status=400)
    qgw, period = gateway(request, QuotasGateway), form.period()
    # Nova's usage pages and Cinder's volume pages at once, kept like the limits.
    tenant_usage, volumes = kept(
        identity,
        f"quotas:usage:{form.query()}",
        lambda: concurrently(
            lambda: project_usage(qgw, identity.project_id, period),
            lambda: volume_totals(qgw, all_projects=False),
        ),
        OVERVIEW_KEPT_SECONDS,
        portal_changes(identity),
    )
    totals = (volumes or {}).get("", (0, 0))
    context = {
        "form": form,
        "period": period,
        "row": usage_row(tenant_usage, identity.project_name, totals, volumes is not None),
        "servers": [(s, hours(s.hours)) for s in tenant_usage.servers],
        "query": form.query(),
    }
    return _section(request, "usage", context)


@require_http_methods(["GET", "POST"])
@admin_required
def update_quotas(request: PortalRequest, project_id: str) -> HttpResponse:
    pgw, qgw = gateway(request, ProjectsGateway), gateway(request, QuotasGateway)
    project, current = concurrently(
        lambda: pgw.get_project(project_id), lambda: services.read_quota_sets(qgw, project_id)
    )
    form = ProjectQuotaForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        # All services' changes or none: a refused part sets the others back (or says why not).
        outcome = tasks.apply_quota_changes(
            tasks.project_quotas(qgw, project_id), form.changes(), form.previous()
        )
        if catalog.NETWORK in outcome.applied:  # its own network quota now: not the defaults'
            NetworkDefaultsApplied.objects.filter(
                cloud_key=me(request).cloud_key, project_id=project_id
            ).delete()
        for service, reason in outcome.rows():
            form.add_error(None, f"{catalog.SERVICE_LABELS[service]}: {reason}")
        if outcome.complete:
            messages.success(request, _("Quotas of %(name)s saved.") % {"name": project.name})
            return redirect("quotas:update-quotas", project_id)
    context = {"project": project, "form": form}
    return render(
        request, "quotas/project_quotas.html", context, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@admin_required
def apply_quotas(request: PortalRequest) -> HttpResponse:
    form = BulkQuotaForm(request.POST or None, **services.bulk_quota_choices(request))
    if request.method == "POST" and form.is_valid():
        op = services.start_bulk_quotas(request, form)
        return redirect("quotas:show-quota-job", op.pk)
    return render(
        request, "quotas/bulk_quotas.html", {"form": form}, status=400 if form.errors else 200
    )
