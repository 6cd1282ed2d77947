"""Benchmark (run by hand, not collected by pytest): the all-projects usage CSV, streamed.

    .venv/bin/python tests/benchmarks/bench_usage_csv.py [--projects 1000] [--instances 20]
        [--days 365] [--page-latency 0.05]

A made-up cloud of N projects with M instances each (one instance in eight deleted during
the year) and two volumes each, behind the real view (quotas:export-usage) through Django's
test client as an admin. Nova answers page by page (1000 instances a page, after
--page-latency seconds, as a real Nova would take); nothing is ever held whole by the made-up
cloud either, so the memory measured is the portal's.

Prints: time to the first byte (the header) and to the first project row, total time, rows,
bytes, and the peak memory Python allocated while streaming (tracemalloc). Targets: the first
byte at once (< 50 ms, before any cloud call); the peak memory bounded by one Nova page of
instances plus the per-project names and volume totals: it must not grow with --instances or
--days (more Nova pages), only slightly with --projects.

Measured on the development machine (tracemalloc slows the run about 2x):
  1000 x  20 x 365:  first byte 12 ms, first row 131 ms, 20 pages in 2.0 s, peak 1.2 MiB
  1000 x 200 x 365:  first byte 11 ms, first row 163 ms, 200 pages in 24 s, peak 1.0 MiB
  5000 x  20 x  60:  first byte  9 ms, first row 142 ms, 100 pages in 12 s, peak 2.2 MiB
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.pop("DATABASE_URL", None)  # an in-memory SQLite test database is all this needs
os.environ["STACKDESK_STATE"] = tempfile.mkdtemp(prefix="bench-usage-")
clouds = Path(os.environ["STACKDESK_STATE"]) / "clouds.yaml"
clouds.write_text(
    yaml.safe_dump(
        {
            "clouds": {
                "unit": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}, "region_name": "RegionOne"}
            }
        }
    )
)
os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from conftest import PERSONAS, sign_in  # noqa: E402
from portal.gateways import override  # noqa: E402
from projects.gateway import Project, ProjectsGateway  # noqa: E402
from projects.tests.fakes import FakeProjectsGateway  # noqa: E402
from quotas.gateway import (  # noqa: E402
    QuotasGateway,
    ServerUsage,
    TenantUsage,
    UsagePage,
    VolumePage,
    VolumeSize,
)

PAGE = 1000


class MadeUpCloud(QuotasGateway):
    """Nova and Cinder for N projects x M instances, computed page by page on demand."""

    def __init__(self, projects: int, instances: int, latency: float) -> None:
        self.projects, self.instances, self.latency = projects, instances, latency
        self.pages = 0

    def has_service(self, service_type: str) -> bool:
        return True

    @staticmethod
    def project_id(p: int) -> str:
        return f"{p:032x}"

    def list_usages(
        self, start: datetime, end: datetime, *, limit: int, marker: str | None = None
    ) -> UsagePage:
        time.sleep(self.latency)
        self.pages += 1
        total = self.projects * self.instances
        first = int(marker.split("-")[1]) + 1 if marker else 0
        window = range(first, min(total, first + limit))
        hours = (end - start).total_seconds() / 3600
        parts: dict[str, list[ServerUsage]] = {}
        for n in window:
            deleted = n % 8 == 0
            parts.setdefault(self.project_id(n // self.instances), []).append(
                ServerUsage(
                    instance_id=f"i-{n:09d}",
                    name=f"server-{n}",
                    flavor="m1.small",
                    vcpus=1 + n % 4,
                    memory_mb=2048,
                    local_gb=20,
                    hours=hours / 2 if deleted else hours,
                    started_at=start,
                    ended_at=start + timedelta(hours=hours / 2) if deleted else None,
                    state="terminated" if deleted else "active",
                    uptime=int(hours * 3600),
                )
            )
        usages = tuple(
            TenantUsage(
                project_id=pid,
                servers=tuple(servers),
                hours=sum(s.hours for s in servers),
                vcpu_hours=sum(s.vcpus * s.hours for s in servers),
                disk_gb_hours=sum(s.local_gb * s.hours for s in servers),
                ram_mb_hours=sum(s.memory_mb * s.hours for s in servers),
            )
            for pid, servers in parts.items()
        )
        more = window and window[-1] + 1 < total
        return UsagePage(usages, f"i-{window[-1]:09d}" if more else None)

    def list_volumes(
        self, *, all_projects: bool, limit: int, marker: str | None = None
    ) -> VolumePage:
        first = int(marker.split("-")[1]) + 1 if marker else 0
        window = range(first, min(2 * self.projects, first + limit))
        volumes = tuple(VolumeSize(f"v-{n:09d}", self.project_id(n // 2), 10) for n in window)
        more = window and window[-1] + 1 < 2 * self.projects
        return VolumePage(volumes, f"v-{window[-1]:09d}" if more else None)


def keystone(projects: int) -> FakeProjectsGateway:
    ids = [MadeUpCloud.project_id(p) for p in range(projects)]
    return FakeProjectsGateway(
        projects={
            pid: Project(pid, f"project-{n}", "", "default", True) for n, pid in enumerate(ids)
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--page-latency", type=float, default=0.05)
    args = parser.parse_args()

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    client = sign_in(Client(), PERSONAS["admin"])
    today = datetime.now(UTC).date()
    query = {"start": (today - timedelta(days=args.days - 1)).isoformat(), "end": today.isoformat()}
    cloud = MadeUpCloud(args.projects, args.instances, args.page_latency)

    with override(QuotasGateway, cloud), override(ProjectsGateway, keystone(args.projects)):
        client.get("/quotas/admin/usage/export/", {"start": "x"})  # imports the views once
        tracemalloc.start()
        began = time.perf_counter()
        response = client.get("/quotas/admin/usage/export/", query)
        assert response.streaming, "the export was not streamed (over the size limit?)"
        chunks = iter(getattr(response, "streaming_content"))  # noqa: B009 (untyped in stubs)
        size = len(next(chunks))
        first_byte = time.perf_counter() - began
        pages_at_first_byte = cloud.pages
        size += len(next(chunks))
        first_row = time.perf_counter() - began
        rows = 1
        for chunk in chunks:
            size += len(chunk)
            rows += 1
        total = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(f"projects x instances x days  {args.projects} x {args.instances} x {args.days}")
    print(f"Nova pages read              {cloud.pages} (at the first byte: {pages_at_first_byte})")
    print(f"first byte (CSV header)      {first_byte * 1000:8.1f} ms")
    print(f"first project row            {first_row * 1000:8.1f} ms")
    print(f"whole file                   {total * 1000:8.1f} ms")
    print(f"rows                         {rows:8d}")
    print(f"bytes                        {size:8d} ({size / 2**20:.1f} MiB)")
    print(f"peak memory while streaming  {peak / 2**20:8.1f} MiB ({peak / size:.2f} x the file)")


if __name__ == "__main__":
    main()
