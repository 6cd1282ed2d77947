"""One sampling round: every resource provider's Placement figures, the whole cloud's, and
every readable project's quota usage, written as rows of one `taken_at`.

Calls per round: 1 provider list + 3 per provider (inventories, usages, allocations) + 1
project list + per project 1 token and 3 quota reads (Nova, Cinder, Neutron), 8 at a time.
A project the service user may not read (or whose service fails) is left out of the round
and counted; a provider failure fails the round (a partial cloud total would mislead).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from capacity.gateway import CapacityGateway
from capacity.models import CLOUD_TOTAL, CapacitySample, ProjectUsageSample
from portal.errors import CloudError
from portal.refs import Inventory, ProjectRef

logger = logging.getLogger(__name__)
T = TypeVar("T")
PARALLEL = 8  # at most this many upstream calls at once: a round must not load the cloud
VCPU, RAM, DISK = "VCPU", "MEMORY_MB", "DISK_GB"
COMPUTE_CLASSES = frozenset({VCPU, RAM, DISK})


@dataclass(frozen=True)
class RoundResult:
    cloud_key: str
    taken_at: datetime
    providers: int
    projects: int
    projects_skipped: int


def _parallel(calls: Iterable[Callable[[], T]]) -> list[T]:
    calls = list(calls)
    if not calls:
        return []
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(calls)), thread_name_prefix="cap") as p:
        return [f.result() for f in [p.submit(call) for call in calls]]


def _capacity(inventories: list[Inventory]) -> dict[str, int]:
    return {i.resource_class: i.capacity for i in inventories}


def provider_rows(gw: CapacityGateway, cloud_key: str, taken_at: datetime) -> list[CapacitySample]:
    """A row per provider with compute inventory (VCPU, RAM or disk), and the cloud total."""
    providers = gw.list_resource_providers()
    calls: list[Callable[[], Any]] = []
    for p in providers:
        calls.append(functools.partial(gw.list_resource_provider_inventories, p.id))
        calls.append(functools.partial(gw.get_resource_provider_usages, p.id))
        calls.append(functools.partial(gw.list_resource_provider_allocations, p.id))
    found = _parallel(calls)
    rows = []
    for i, p in enumerate(providers):
        inventories, usages, consumers = found[3 * i : 3 * i + 3]
        capacity = _capacity(inventories)
        if not COMPUTE_CLASSES & set(capacity):
            continue  # e.g. a Neutron bandwidth or a sharing storage provider
        rows.append(
            CapacitySample(
                cloud_key=cloud_key,
                taken_at=taken_at,
                provider_id=p.id,
                provider_name=p.name,
                vcpus_used=usages.get(VCPU, 0),
                vcpus_capacity=capacity.get(VCPU, 0),
                ram_mb_used=usages.get(RAM, 0),
                ram_mb_capacity=capacity.get(RAM, 0),
                disk_gb_used=usages.get(DISK, 0),
                disk_gb_capacity=capacity.get(DISK, 0),
                instances=len(consumers),
            )
        )
    total = CapacitySample(cloud_key=cloud_key, taken_at=taken_at, provider_id=CLOUD_TOTAL)
    for field in SUMMED:
        setattr(total, field, sum(getattr(r, field) for r in rows))
    return [*rows, total]


SUMMED = (
    "vcpus_used",
    "vcpus_capacity",
    "ram_mb_used",
    "ram_mb_capacity",
    "disk_gb_used",
    "disk_gb_capacity",
    "instances",
)


def _project_row(
    gw: CapacityGateway, project: ProjectRef, cloud_key: str, taken_at: datetime
) -> ProjectUsageSample | None:
    try:
        pgw = gw.for_project(project.id)
        compute = pgw.get_compute_quota_set(project.id)
        volume_gb = (
            pgw.get_volume_quota_set(project.id) if pgw.has_service("block-storage") else None
        )
        floating_ips = pgw.get_network_quota(project.id) if pgw.has_service("network") else None
    except CloudError as exc:
        logger.warning("capacity: project %s (%s) not sampled: %s", project.name, project.id, exc)
        return None
    return ProjectUsageSample(
        cloud_key=cloud_key,
        project_id=project.id,
        taken_at=taken_at,
        instances=compute.instances,
        vcpus=compute.vcpus,
        ram_mb=compute.ram_mb,
        volume_gb=volume_gb,
        floating_ips=floating_ips,
    )


def project_rows(
    gw: CapacityGateway, cloud_key: str, taken_at: datetime
) -> tuple[list[ProjectUsageSample], int]:
    """A row per project the service user may read; and how many it could not."""
    projects = gw.list_user_projects()
    found = _parallel(functools.partial(_project_row, gw, p, cloud_key, taken_at) for p in projects)
    rows = [r for r in found if r is not None]
    return rows, len(found) - len(rows)


def sample_cloud(
    gw: CapacityGateway, cloud_key: str, taken_at: datetime | None = None
) -> RoundResult:
    """Read everything first, then write the round in one transaction (all or nothing)."""
    taken_at = taken_at or timezone.now()
    hosts = provider_rows(gw, cloud_key, taken_at)
    projects, skipped = project_rows(gw, cloud_key, taken_at)
    with transaction.atomic():
        CapacitySample.objects.bulk_create(hosts)
        ProjectUsageSample.objects.bulk_create(projects)
    return RoundResult(cloud_key, taken_at, len(hosts) - 1, len(projects), skipped)


def purge_old_samples(now: datetime | None = None) -> int:
    """Rows older than STACKDESK_CAPACITY_KEEP_DAYS go (a delete on an indexed time)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.STACKDESK_CAPACITY_KEEP_DAYS)
    hosts, _ = CapacitySample.objects.filter(taken_at__lt=cutoff).delete()
    projects, _ = ProjectUsageSample.objects.filter(taken_at__lt=cutoff).delete()
    return hosts + projects
