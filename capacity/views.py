"""Admin › Compute › Capacity Trends, and a project's quota usage over time on its overview.

Both read only the portal's own samples (capacity/models.py), of the signed-in user's cloud;
the project section only the signed-in project's. The admin page makes one cloud call, the
host aggregates (with the administrator's token), to offer each aggregate as a scope; the
charts are SVG images of their own (capacity/charts.py) and every chart has its table and a
CSV beside it. Call budget: admin page 1, everything else 0.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from capacity import charts, services, trends
from capacity.gateway import CapacityGateway
from capacity.models import CapacitySample, ProjectUsageSample
from capacity.trends import Point, Scope
from portal.errors import CloudError
from portal.gateways import gateway
from portal.identity import PortalRequest, admin_required, login_required, me
from portal.refs import Aggregate

CSV_TYPE = "text/csv; charset=utf-8"
# The chart images: pygal styles its SVG with a <style> element; nothing else is allowed.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _range(request: PortalRequest) -> str:
    wanted = request.GET.get("range", "7d")
    if wanted not in trends.RANGES:
        raise Http404(_("There is no such time range."))
    return wanted


def _aggregates(request: PortalRequest) -> tuple[list[Aggregate], str]:
    try:
        return gateway(request, CapacityGateway).list_aggregates(), ""
    except CloudError as exc:
        return [], _("Host aggregates could not be read: %(error)s") % {"error": exc}


def _scope(request: PortalRequest, hosts: list[str], aggregates: list[Aggregate]) -> Scope:
    """The scope asked for, from what exists: the cloud, a sampled host, an aggregate."""
    wanted = request.GET.get("scope", "cloud")
    kind, _sep, name = wanted.partition(":")
    if kind == "cloud" and not name:
        return Scope("cloud")
    if kind == "host" and name in hosts:
        return Scope("host", name)
    for aggregate in aggregates:
        if kind == "aggregate" and aggregate.name == name:
            return Scope("aggregate", name, aggregate.hosts)
    raise Http404(_("There is no such host or aggregate in the samples."))


class _Echo:
    """csv.writer writes into this and gets the line back (Django's streaming CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def _csv_response(lines: Iterator[str], filename: str) -> HttpResponse:
    response = StreamingHttpResponse(lines, content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Accel-Buffering"] = "no"  # let a proxy pass rows on as they come
    return cast(HttpResponse, response)  # see quotas/views.py _csv_response


def _svg_response(svg: bytes) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Security-Policy"] = SVG_POLICY
    response["Cache-Control"] = "private, max-age=60"
    return response


def _empty_note() -> str:
    minutes = max(1, settings.STACKDESK_CAPACITY_SAMPLE_EVERY // 60)
    return _("No samples yet; the first is taken within %(minutes)d minutes.") % {
        "minutes": minutes
    }


# --- Admin › Capacity Trends ----------------------------------------------------------------


@require_GET
@admin_required
def admin_capacity(request: PortalRequest) -> HttpResponse:
    cloud_key = me(request).cloud_key
    range_key = _range(request)
    latest = trends.latest_rows(cloud_key)
    hosts = [r.provider_name for r in latest if r.provider_id]
    aggregates, aggregates_error = _aggregates(request)
    scope = _scope(request, hosts, aggregates)
    now = timezone.now()
    span = trends.RANGES[range_key]
    # one round an interval, read apart for the chart's range and the projection's week
    week = trends.capacity_points(cloud_key, scope, now - trends.RATE_WINDOW, trends.RATE_WINDOW)
    shown = trends.capacity_points(cloud_key, scope, now - span, span)
    query = urlencode({"scope": scope.key, "range": range_key})
    context = {
        "latest": latest,
        "hosts": hosts,
        "aggregates": [a for a in aggregates if a.hosts],
        "aggregates_error": aggregates_error,
        "scope": scope,
        "range_key": range_key,
        "ranges": trends.RANGE_LABELS,
        "resources": trends.RESOURCE_LABELS,
        "projections": [
            (trends.RESOURCE_NAMES[r], trends.project(r, week)) for r in trends.RESOURCES
        ],
        "points": shown,
        "point_rows": _point_rows(shown),
        "host_options": _host_options(hosts, scope),
        "latest_table": _latest_table(latest, range_key),
        "query": query,
        "empty_note": _empty_note(),
    }
    return render(request, "capacity/admin_capacity.html", context)


# The page's long lists (100 hosts and more) are joined here rather than as template nodes:
# each row of template tags costs a dozen context lookups, and they were most of the page.


def _host_options(hosts: list[str], scope: Scope) -> str:
    chosen = scope.name if scope.kind == "host" else None
    return format_html_join(
        "",
        '<option value="host:{}"{}>{}</option>',
        ((h, mark_safe(" selected") if h == chosen else "", h) for h in hosts),  # noqa: S308 (a constant)
    )


def _latest_table(latest: list[CapacitySample], range_key: str) -> str:
    def cells(r: CapacitySample) -> tuple[object, ...]:
        query = urlencode({"scope": f"host:{r.provider_name}" if r.provider_id else "cloud"})
        return (
            f"?{query}&range={range_key}",
            r.provider_name if r.provider_id else _("Whole cloud"),
            *(f"{u} / {c}" for u, c in _pairs(r)),
            r.instances,
        )

    return format_html_join(
        "",
        '<tr><th scope="row"><a href="{}">{}</a></th><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td></tr>",
        (cells(r) for r in latest),
    )


def _pairs(r: CapacitySample) -> tuple[tuple[int, int], ...]:
    return (
        (r.vcpus_used, r.vcpus_capacity),
        (r.ram_mb_used, r.ram_mb_capacity),
        (r.disk_gb_used, r.disk_gb_capacity),
    )


def _point_rows(points: list[Point]) -> str:
    """The charts' numbers as table rows: a time and counts (ints, nothing to escape)."""
    cell = '<td class="text-end">{}</td>'
    rows = (
        f"<tr><td>{p.taken_at.astimezone(UTC):%Y-%m-%d %H:%M}</td>"
        + "".join(cell.format(int(p.values[c] or 0)) for c in trends.COLUMNS)
        + "</tr>"
        for p in points
    )
    return mark_safe("".join(rows))  # noqa: S308 (formatted times and ints only)


@require_GET
@admin_required
def show_capacity_chart(request: PortalRequest) -> HttpResponse:
    cloud_key = me(request).cloud_key
    range_key = _range(request)
    resource = request.GET.get("resource", "vcpus")
    if resource not in trends.RESOURCES:
        raise Http404(_("There is no such resource."))
    wanted = request.GET.get("scope", "cloud")
    aggregates = _aggregates(request)[0] if wanted.startswith("aggregate:") else []
    latest = trends.latest_rows(cloud_key)
    scope = _scope(request, [r.provider_name for r in latest if r.provider_id], aggregates)
    when = latest[0].taken_at if latest else None
    svg = services.capacity_chart(cloud_key, scope, range_key, resource, when)
    return _svg_response(svg)


@require_GET
@admin_required
def export_capacity(request: PortalRequest) -> HttpResponse:
    """Every sample of the range, for every host and the cloud total, streamed as read."""
    cloud_key = me(request).cloud_key
    range_key = _range(request)
    rows = (
        CapacitySample.objects.filter(cloud_key=cloud_key, taken_at__gte=trends.since(range_key))
        .order_by("taken_at", "provider_name")
        .values_list("taken_at", "provider_name", *trends.COLUMNS)
        .iterator(chunk_size=2000)
    )
    header = ["taken_at", "host", *trends.COLUMNS]

    def lines() -> Iterator[list[str]]:
        for taken_at, host, *values in rows:
            yield [_iso(taken_at), host or "(cloud)", *map(str, values)]

    return _csv_response(csv_lines(header, lines()), f"capacity-{range_key}.csv")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- a project's quota usage over time ---------------------------------------------------------

PROJECT_CHARTS = {
    "counts": (("instances", "vcpus", "floating_ips"), ""),
    "sizes": (("ram_mb", "volume_gb"), ""),
}


def _project_labels() -> dict[str, str]:
    return {
        "instances": _("Instances"),
        "vcpus": _("vCPUs"),
        "floating_ips": _("Floating IPs"),
        "ram_mb": _("RAM (GiB)"),
        "volume_gb": _("Volumes (GiB)"),
    }


def _project_value(key: str, value: int | None) -> int | None:
    # RAM is counted in MiB; shown in GiB beside the volumes' GiB on one chart
    if key == "ram_mb" and value is not None:
        return round(value / 1024)
    return value


@require_GET
@login_required
def show_project_trends(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    range_key = _range(request)
    span = trends.RANGES[range_key]
    points = trends.project_points(identity.cloud_key, identity.project_id, trends.since(range_key))
    labels = _project_labels()
    context = {
        "points": trends.thin(points, span),
        "range_key": range_key,
        "ranges": trends.RANGE_LABELS,
        "labels": [labels[k] if k != "ram_mb" else _("RAM (MiB)") for k in trends.PROJECT_COLUMNS],
        "columns": trends.PROJECT_COLUMNS,
        "charts": list(PROJECT_CHARTS),
        "empty_note": _empty_note(),
    }
    template = "capacity/project_trends.html"
    if request.htmx and not request.htmx.boosted:
        return render(request, template + "#trends", context)
    return render(request, template, context)


@require_GET
@login_required
def show_project_chart(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    range_key = _range(request)
    chart = request.GET.get("chart", "counts")
    if chart not in PROJECT_CHARTS:
        raise Http404(_("There is no such chart."))
    span = trends.RANGES[range_key]
    points = trends.thin(
        trends.project_points(identity.cloud_key, identity.project_id, trends.since(range_key)),
        span,
    )
    labels = _project_labels()
    keys = PROJECT_CHARTS[chart][0]
    title = _("Quota usage: %(project)s") % {"project": identity.project_name}
    series = [
        charts.Series(labels[k], [(p.taken_at, _project_value(k, p.values[k])) for p in points])
        for k in keys
    ]
    return _svg_response(charts.line_chart(title, series))


@require_GET
@login_required
def export_project_trends(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    range_key = _range(request)
    rows = (
        ProjectUsageSample.objects.filter(
            cloud_key=identity.cloud_key,
            project_id=identity.project_id,
            taken_at__gte=trends.since(range_key),
        )
        .order_by("taken_at")
        .values_list("taken_at", *trends.PROJECT_COLUMNS)
        .iterator(chunk_size=2000)
    )

    def lines() -> Iterator[list[str]]:
        for taken_at, *values in rows:
            yield [_iso(taken_at), *("" if v is None else str(v) for v in values)]

    header = ["taken_at", *trends.PROJECT_COLUMNS]
    return _csv_response(csv_lines(header, lines()), f"quota-usage-{range_key}.csv")
