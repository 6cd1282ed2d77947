"""The usage report: Nova's os-simple-tenant-usage over a period, page by page, with Cinder's
volume totals beside it, as rows for a page and for a streamed CSV (docs/usage-csv.md).

Nova pages by *instance* (limit/marker, microversion 2.40) and sorts by project, so a
project's usage can continue on the next page: `project_usages` joins the parts and yields
each project once it is complete. Nothing here holds more than one Nova page and the
per-project volume totals, whatever the period or the number of projects.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from quotas.gateway import QuotasGateway, ServerUsage, TenantUsage

# Instances per Nova page (Nova's own [api] max_limit defaults to 1000).
PAGE_SIZE = 1000

# The CSV columns; stable, documented in docs/usage-csv.md. Add columns only at the end.
PROJECT_COLUMNS = (
    "period_start",
    "period_end",
    "project_id",
    "project_name",
    "active_instances",
    "active_vcpus",
    "active_ram_mb",
    "vcpu_hours",
    "disk_gb_hours",
    "ram_mb_hours",
    "volumes",
    "volume_gb",
)
INSTANCE_COLUMNS = (
    "period_start",
    "period_end",
    "project_id",
    "project_name",
    "instance_id",
    "instance_name",
    "flavor",
    "vcpus",
    "ram_mb",
    "disk_gb",
    "state",
    "started_at",
    "ended_at",
    "uptime_seconds",
    "hours",
    "vcpu_hours",
    "disk_gb_hours",
    "ram_mb_hours",
)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; end never lies in the future (Nova would cut it to now anyway)."""

    start: datetime
    end: datetime

    @classmethod
    def from_dates(cls, first: date, last: date, now: datetime | None = None) -> Period:
        now = now or timezone.now()
        start = datetime.combine(first, time.min, tzinfo=UTC)
        end = min(datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC), now)
        return cls(start=start, end=end)

    @property
    def days(self) -> int:
        """Days the period touches (a part of a day counts as one)."""
        return max(1, -(-(self.end - self.start) // timedelta(days=1)))


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second: how every time in the report is written."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text(value: str) -> str:
    """A name as a CSV cell: one that a spreadsheet would run as a formula (=, +, -, @) gets a
    leading apostrophe, so opening the file never runs what a user typed as a server name."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def hours(value: float) -> str:
    """Hour figures: two decimals, a point, no grouping, in every language."""
    return f"{value:.2f}"


@dataclass(frozen=True)
class ProjectUsageRow:
    project_id: str
    project_name: str
    active_instances: int
    active_vcpus: int
    active_ram_mb: int
    vcpu_hours: float
    disk_gb_hours: float
    ram_mb_hours: float
    volumes: int | None  # None: the cloud has no block storage
    volume_gb: int | None

    def figures(self) -> list[str]:
        """The numbers, written as the page shows them and the CSV holds them."""
        return [
            str(self.active_instances),
            str(self.active_vcpus),
            str(self.active_ram_mb),
            hours(self.vcpu_hours),
            hours(self.disk_gb_hours),
            hours(self.ram_mb_hours),
            "" if self.volumes is None else str(self.volumes),
            "" if self.volume_gb is None else str(self.volume_gb),
        ]

    def cells(self, period: Period) -> list[str]:
        return [iso(period.start), iso(period.end), self.project_id, text(self.project_name)] + (
            self.figures()
        )


def instance_cells(
    period: Period, project_id: str, project_name: str, server: ServerUsage
) -> list[str]:
    return [
        iso(period.start),
        iso(period.end),
        project_id,
        text(project_name),
        server.instance_id,
        text(server.name),
        text(server.flavor),
        str(server.vcpus),
        str(server.memory_mb),
        str(server.local_gb),
        server.state,
        iso(server.started_at),
        iso(server.ended_at),
        str(server.uptime),
        hours(server.hours),
        hours(server.vcpus * server.hours),
        hours(server.local_gb * server.hours),
        hours(server.memory_mb * server.hours),
    ]


def _join(first: TenantUsage, more: TenantUsage) -> TenantUsage:
    return replace(
        first,
        servers=first.servers + more.servers,
        hours=first.hours + more.hours,
        vcpu_hours=first.vcpu_hours + more.vcpu_hours,
        disk_gb_hours=first.disk_gb_hours + more.disk_gb_hours,
        ram_mb_hours=first.ram_mb_hours + more.ram_mb_hours,
    )


def project_usages(
    gw: QuotasGateway, period: Period, page_size: int | None = None
) -> Iterator[TenantUsage]:
    """Every project's usage (admin), each yielded once complete, one Nova page at a time."""
    marker: str | None = None
    pending: TenantUsage | None = None
    while True:
        page = gw.list_usages(period.start, period.end, limit=page_size or PAGE_SIZE, marker=marker)
        for part in page.usages:
            if pending is not None and pending.project_id == part.project_id:
                pending = _join(pending, part)
                continue
            if pending is not None:
                yield pending
            pending = part
        if not page.next_marker or not page.usages:
            break
        marker = page.next_marker
    if pending is not None:
        yield pending


def project_servers(
    gw: QuotasGateway, project_id: str, period: Period, page_size: int | None = None
) -> Iterator[ServerUsage]:
    """One project's servers in the period, one Nova page at a time."""
    marker: str | None = None
    while True:
        page = gw.get_usage(
            project_id, period.start, period.end, limit=page_size or PAGE_SIZE, marker=marker
        )
        for usage in page.usages:
            yield from usage.servers
        if not page.next_marker or not page.usages:
            return
        marker = page.next_marker


def volume_totals(
    gw: QuotasGateway, *, all_projects: bool, page_size: int | None = None
) -> dict[str, tuple[int, int]] | None:
    """project id -> (volumes, GiB), now; None when the cloud has no block storage. For one's
    own project the key is "" (Cinder shows the owner to admins only)."""
    if not gw.has_service("block-storage"):
        return None
    totals: dict[str, tuple[int, int]] = {}
    marker: str | None = None
    while True:
        page = gw.list_volumes(
            all_projects=all_projects, limit=page_size or PAGE_SIZE, marker=marker
        )
        for volume in page.volumes:
            key = volume.project_id if all_projects else ""
            count, size = totals.get(key, (0, 0))
            totals[key] = (count + 1, size + volume.size_gb)
        if not page.next_marker or not page.volumes:
            return totals
        marker = page.next_marker


def usage_row(
    usage: TenantUsage, name: str, volumes: tuple[int, int] | None, has_volumes: bool
) -> ProjectUsageRow:
    active = [s for s in usage.servers if s.active]
    count, size = volumes or (0, 0)
    return ProjectUsageRow(
        project_id=usage.project_id,
        project_name=name,
        active_instances=len(active),
        active_vcpus=sum(s.vcpus for s in active),
        active_ram_mb=sum(s.memory_mb for s in active),
        vcpu_hours=usage.vcpu_hours,
        disk_gb_hours=usage.disk_gb_hours,
        ram_mb_hours=usage.ram_mb_hours,
        volumes=count if has_volumes else None,
        volume_gb=size if has_volumes else None,
    )


def empty_usage(project_id: str) -> TenantUsage:
    return TenantUsage(project_id, (), 0.0, 0.0, 0.0, 0.0)


def all_project_rows(
    usages: Iterable[TenantUsage],
    names: Mapping[str, str],
    volumes: dict[str, tuple[int, int]] | None,
) -> Iterator[ProjectUsageRow]:
    """A row per project with compute usage in the period (Nova's order), then a row per
    project that only has volumes."""
    remaining = dict(volumes or {})
    for usage in usages:
        totals = remaining.pop(usage.project_id, None)
        yield usage_row(usage, names.get(usage.project_id, ""), totals, volumes is not None)
    for project_id in sorted(remaining):
        usage = empty_usage(project_id)
        yield usage_row(usage, names.get(project_id, ""), remaining[project_id], True)


class _Echo:
    """csv.writer writes into this and we hand the line on: no buffer grows."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def project_usage(
    gw: QuotasGateway, project_id: str, period: Period, page_size: int | None = None
) -> TenantUsage:
    """One project's usage over the period, all its pages joined (for its overview page)."""
    joined = empty_usage(project_id)
    marker: str | None = None
    while True:
        page = gw.get_usage(
            project_id, period.start, period.end, limit=page_size or PAGE_SIZE, marker=marker
        )
        for part in page.usages:
            joined = _join(joined, part)
        if not page.next_marker or not page.usages:
            return joined
        marker = page.next_marker
