"""Reading the samples back: a scope's series over a range, thinned to what a chart can show,
and the projection of when a resource runs out at the last 7 days' rate.

A scope is the whole cloud, one host (a resource provider's name) or an aggregate (its hosts,
added up per sampling round). Every query names its cloud; project series name their project.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from capacity.models import CLOUD_TOTAL, CapacitySample, ProjectUsageSample

RANGES = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
RANGE_LABELS = {"24h": _("24 hours"), "7d": _("7 days"), "30d": _("30 days")}
MAX_POINTS = 180  # a chart shows at most this many points a series: a 30-day chart 4-hourly
RATE_WINDOW = timedelta(days=7)
MIN_RATE_SPAN = timedelta(hours=1)  # less history than this tells no rate

# (used, capacity) columns of each resource, in chart order
RESOURCES = {
    "vcpus": ("vcpus_used", "vcpus_capacity"),
    "ram": ("ram_mb_used", "ram_mb_capacity"),
    "disk": ("disk_gb_used", "disk_gb_capacity"),
}
RESOURCE_NAMES = {"vcpus": _("vCPUs"), "ram": _("RAM"), "disk": _("Local disk")}
RESOURCE_LABELS = {"vcpus": _("vCPUs"), "ram": _("RAM (MiB)"), "disk": _("Local disk (GiB)")}
COLUMNS = (
    "vcpus_used",
    "vcpus_capacity",
    "ram_mb_used",
    "ram_mb_capacity",
    "disk_gb_used",
    "disk_gb_capacity",
    "instances",
)
PROJECT_COLUMNS = ("instances", "vcpus", "ram_mb", "volume_gb", "floating_ips")


@dataclass(frozen=True)
class Scope:
    kind: str  # cloud | host | aggregate
    name: str = ""
    hosts: tuple[str, ...] = ()  # an aggregate's

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


@dataclass(frozen=True)
class Point:
    taken_at: datetime
    values: dict[str, int | None]


@dataclass(frozen=True)
class Projection:
    resource: str
    state: str  # runs_out | not_at_rate | full | unknown
    days: int | None = None
    rate_per_day: float = 0.0
    used: int = 0
    capacity: int = 0


def latest_round(cloud_key: str) -> datetime | None:
    found: datetime | None = (
        CapacitySample.objects.filter(cloud_key=cloud_key)
        .order_by("-taken_at")
        .values_list("taken_at", flat=True)
        .first()
    )
    return found


def latest_rows(cloud_key: str) -> list[CapacitySample]:
    """The latest round's hosts (and the cloud total, first)."""
    when = latest_round(cloud_key)
    if when is None:
        return []
    return list(
        CapacitySample.objects.filter(cloud_key=cloud_key, taken_at=when).order_by("provider_name")
    )


def capacity_rows(cloud_key: str, scope: Scope, since: datetime) -> QuerySet[CapacitySample]:
    """The scope's own rows (cloud total or one host) from `since` on, oldest first."""
    name = scope.name if scope.kind == "host" else CLOUD_TOTAL
    rows = CapacitySample.objects.filter(cloud_key=cloud_key, taken_at__gte=since)
    if scope.kind == "host":
        rows = rows.filter(provider_name=name)
    else:
        rows = rows.filter(provider_id=CLOUD_TOTAL, provider_name=CLOUD_TOTAL)
    return rows.order_by("taken_at")


def rounds_to_read(cloud_key: str, since: datetime, span: timedelta) -> list[datetime]:
    """The sampling rounds a chart reads: the last round of each of MAX_POINTS intervals of
    the span (the cloud total's rows say when rounds were taken). Adding up an aggregate of
    100 hosts x 30 days of rounds in SQL would read every row; this reads 100 x MAX_POINTS."""
    times = list(
        CapacitySample.objects.filter(
            cloud_key=cloud_key,
            provider_id=CLOUD_TOTAL,
            provider_name=CLOUD_TOTAL,
            taken_at__gte=since,
        )
        .order_by("taken_at")
        .values_list("taken_at", flat=True)
    )
    width = span.total_seconds() / MAX_POINTS
    last: dict[int, datetime] = {}
    for when in times:
        last[int(when.timestamp() // width)] = when
    return list(last.values())


def capacity_points(
    cloud_key: str, scope: Scope, since: datetime, span: timedelta | None = None
) -> list[Point]:
    """The scope's figures from `since` on, the last round in each MAX_POINTS-th of `span`
    (the whole range when not given). An aggregate's rounds are picked first
    (rounds_to_read) and its hosts added up in SQL for those rounds only."""
    if scope.kind == "aggregate":
        rounds = rounds_to_read(cloud_key, since, span or timezone.now() - since)
        summed = (
            CapacitySample.objects.filter(
                cloud_key=cloud_key, taken_at__in=rounds, provider_name__in=scope.hosts
            )
            .exclude(provider_id=CLOUD_TOTAL)
            .values("taken_at")
            .annotate(**{f"s_{c}": Sum(c) for c in COLUMNS})
            .order_by("taken_at")
        )
        return [Point(r["taken_at"], {c: int(r[f"s_{c}"] or 0) for c in COLUMNS}) for r in summed]
    # the cloud's or one host's own rows: the last of each interval picked as they come
    width = (span or timezone.now() - since).total_seconds() / MAX_POINTS
    last: dict[int, tuple[Any, ...]] = {}
    for row in capacity_rows(cloud_key, scope, since).values_list("taken_at", *COLUMNS):
        last[int(row[0].timestamp() // width)] = row
    return [Point(r[0], dict(zip(COLUMNS, r[1:], strict=True))) for r in last.values()]


def project_points(cloud_key: str, project_id: str, since: datetime) -> list[Point]:
    rows = (
        ProjectUsageSample.objects.filter(
            cloud_key=cloud_key, project_id=project_id, taken_at__gte=since
        )
        .order_by("taken_at")
        .values_list("taken_at", *PROJECT_COLUMNS)
    )
    return [Point(r[0], dict(zip(PROJECT_COLUMNS, r[1:], strict=True))) for r in rows]


def since(range_key: str, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - RANGES[range_key]


def thin(points: Sequence[Point], span: timedelta, max_points: int = MAX_POINTS) -> list[Point]:
    """At most `max_points` points: each bucket of span/max_points keeps its largest values
    (a peak must not vanish from a capacity chart) at the bucket's last sample time."""
    if len(points) <= max_points:
        return list(points)
    width = span.total_seconds() / max_points
    buckets: dict[int, list[Point]] = {}
    for p in points:
        buckets.setdefault(int(p.taken_at.timestamp() // width), []).append(p)
    thinned = []
    for members in buckets.values():
        keys = members[0].values.keys()
        values = {k: _peak(m.values[k] for m in members) for k in keys}
        thinned.append(Point(members[-1].taken_at, values))
    return thinned


def _peak(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def rate_per_day(points: Sequence[tuple[datetime, float]]) -> float | None:
    """The least-squares slope of the values over time, per day; None for too little history."""
    if len(points) < 2 or points[-1][0] - points[0][0] < MIN_RATE_SPAN:
        return None
    t0 = points[0][0]
    xs = [(t - t0).total_seconds() / 86400 for t, _ in points]
    ys = [v for _, v in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var


def project(resource: str, points: Sequence[Point]) -> Projection:
    """When `resource` (vcpus, ram, disk) runs out at the rate of the points given (the last
    7 days'): capacity minus the latest use, over the growth per day."""
    used_key, cap_key = RESOURCES[resource]
    if not points:
        return Projection(resource, "unknown")
    last = points[-1].values
    used, capacity = int(last[used_key] or 0), int(last[cap_key] or 0)
    if capacity and used >= capacity:
        return Projection(resource, "full", 0, used=used, capacity=capacity)
    rate = rate_per_day([(p.taken_at, float(p.values[used_key] or 0)) for p in points])
    if rate is None:
        return Projection(resource, "unknown", used=used, capacity=capacity)
    if rate <= 0 or not capacity:
        return Projection(resource, "not_at_rate", rate_per_day=rate, used=used, capacity=capacity)
    days = int((capacity - used) / rate)
    return Projection(resource, "runs_out", days, rate, used, capacity)


def projections(cloud_key: str, scope: Scope, now: datetime | None = None) -> list[Projection]:
    points = capacity_points(cloud_key, scope, (now or timezone.now()) - RATE_WINDOW)
    return [project(resource, points) for resource in RESOURCES]
