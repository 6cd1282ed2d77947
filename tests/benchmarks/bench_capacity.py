"""Benchmark of capacity trends (run by hand; not a test).

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_capacity.py [--rounds 5] [--hosts 100]
        [--days 30] [--every 900] [--renders 20] [--skip-cloud] [--skip-page]

1. The cost of one sampling round on the all-in-one: the beat's task body
   (capacity.tasks.sample_every_cloud) as the portal's service user, `rounds` times; every
   HTTP request keystoneauth sends is recorded. Prints wall time (median, max) and upstream
   calls per round by service.
2. The 30-day chart page with `hosts` x `days` of synthetic rounds (one every `every` s, the
   default sampling interval) inserted into a database of its own (PostgreSQL when
   DATABASE_URL is set): the page (HTML) and its three chart images, through Django's test
   client as a signed-in admin (the aggregates come from the in-memory fake gateway), for the
   whole cloud, one host, an aggregate of 10 hosts and one of every host; "cold" with the
   cache emptied before each view (the first view after a sampling round draws every chart),
   "warm" as the round's further views. Prints median and p95 of each, and of page + charts
   together. Target: the chart page under 300 ms.

Measured on the development machine (2 cores, shared with other test runs: load average 6-9
throughout, so every figure is high), PostgreSQL, 290,880 rows, 20 renders after 2 warm-ups:
  sampling round, 3 providers and 7 projects: median 3.3 s, max 4.0 s, 40 calls (placement
    10, keystone 9, nova 7, cinder 7, neutron 7); with a password sign-in per project instead
    of a rescoped token it was 8.3 s for 9 projects.
  30-day page (HTML) alone: whole cloud median 78-91 ms (p95 124-138), one host 76-82 ms
    (p95 110-113), an aggregate of 10 hosts 104-135 ms, of all 100 hosts 127-135 ms (p95
    196-279).
  one chart image drawn (cold: cache emptied): median 66-113 ms (p95 123-178); from the cache
    (the rest of the round; the whole cloud's are drawn by the worker after its round):
    12-17 ms (p95 22-44).
  page + its 3 charts, warm: whole cloud median 139 ms (p95 222), one host 113 ms (p95 161),
    aggregate of 100 171 ms (p95 254): under the 300 ms target; cold (every chart drawn in
    the request): 289-489 ms (p95 412-791).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("STACKDESK_STATE", tempfile.mkdtemp(prefix="bench-capacity-"))
os.environ["STACKDESK_SERVICE_CLOUD"] = "devcloud-stackdesk"  # the portal's own service user

import django  # noqa: E402 (Django must be configured before the portal's modules load)
import yaml  # noqa: E402

SERVICES = {5000: "keystone", 8774: "nova", 8778: "placement", 9696: "neutron", 8776: "cinder"}
DEVCLOUD_CLOUDS = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud")) / (
    "clouds.yaml"
)
SERVICE_CLOUD = "devcloud-stackdesk"


class Recorder:
    """Wraps requests.Session.request (where keystoneauth's URLs are absolute): every call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def install(self) -> None:
        import requests

        original = requests.Session.request
        recorder = self

        def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            port = urlparse(url).port or 0
            with recorder.lock:
                recorder.calls.append(SERVICES.get(port, str(port)))
            return original(self, method, url, *args, **kwargs)

        requests.Session.request = request  # type: ignore[method-assign,assignment]

    def take(self) -> list[str]:
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def portal_clouds_yaml() -> Path:
    """The portal's clouds.yaml for the devcloud, as bin/demo writes it."""
    entries = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    admin = entries["devcloud-admin"]
    path = Path(tempfile.mkdtemp()) / "clouds.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "devcloud": {
                        "auth": {"auth_url": admin["auth"]["auth_url"]},
                        "region_name": admin.get("region_name", "RegionOne"),
                    },
                    SERVICE_CLOUD: entries[SERVICE_CLOUD],
                }
            }
        )
    )
    return path


def bench_sampling(rounds: int) -> None:
    from capacity import tasks
    from capacity.models import CapacitySample, ProjectUsageSample
    from portal import cloud

    os.environ["OS_CLIENT_CONFIG_FILE"] = str(portal_clouds_yaml())
    cloud.available_clouds.cache_clear()
    recorder = Recorder()
    recorder.install()
    times, per_round = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        done = tasks.sample_every_cloud()
        times.append(time.perf_counter() - started)
        per_round.append(Counter(recorder.take()))
        assert done, "the service user sampled no cloud"
    result = done[-1]
    print(
        f"sampling round on the all-in-one ({result.providers} providers, {result.projects} "
        f"projects, {result.projects_skipped} not readable), {rounds} rounds:"
    )
    print(
        f"  wall time: median {statistics.median(times) * 1e3:.0f} ms, "
        f"max {max(times) * 1e3:.0f} ms (first {times[0] * 1e3:.0f} ms)"
    )
    calls = per_round[-1]
    print(
        f"  upstream calls per round: {sum(calls.values())} "
        f"({', '.join(f'{s} {n}' for s, n in sorted(calls.items()))})"
    )
    print(
        f"  rows per round: {CapacitySample.objects.count() // rounds} capacity, "
        f"{ProjectUsageSample.objects.count() // rounds} project"
    )
    CapacitySample.objects.all().delete()
    ProjectUsageSample.objects.all().delete()


def insert_history(cloud_key: str, hosts: int, days: int, every: int) -> int:
    from django.utils import timezone

    from capacity.models import CLOUD_TOTAL, CapacitySample

    now = timezone.now()
    rounds = days * 86400 // every
    batch: list[CapacitySample] = []
    written = 0
    for r in range(rounds):
        when = now - timedelta(seconds=(rounds - r) * every)
        used = [(h * 7 + r) % 48 for h in range(hosts)]  # vCPUs in use wander and grow
        for h in range(hosts):
            batch.append(
                CapacitySample(
                    cloud_key=cloud_key,
                    taken_at=when,
                    provider_id=f"rp-{h:03d}",
                    provider_name=f"compute{h:03d}",
                    vcpus_used=used[h],
                    vcpus_capacity=64,
                    ram_mb_used=used[h] * 2048 + r,
                    ram_mb_capacity=260096,
                    disk_gb_used=used[h] * 10,
                    disk_gb_capacity=2000,
                    instances=used[h] // 2,
                )
            )
        batch.append(
            CapacitySample(
                cloud_key=cloud_key,
                taken_at=when,
                provider_id=CLOUD_TOTAL,
                vcpus_used=sum(used),
                vcpus_capacity=64 * hosts,
                ram_mb_used=sum(u * 2048 + r for u in used),
                ram_mb_capacity=260096 * hosts,
                disk_gb_used=sum(used) * 10,
                disk_gb_capacity=2000 * hosts,
                instances=sum(u // 2 for u in used),
            )
        )
        if len(batch) >= 10000:
            CapacitySample.objects.bulk_create(batch)
            written, batch = written + len(batch), []
    CapacitySample.objects.bulk_create(batch)
    return written + len(batch)


def bench_page(hosts: int, days: int, every: int, renders: int) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings

    from capacity.gateway import CapacityGateway
    from capacity.tests.fakes import FakeCapacityGateway
    from conftest import PERSONAS, UNIT_CLOUD, sign_in
    from portal.gateways import override
    from portal.refs import Aggregate

    started = time.perf_counter()
    rows = insert_history(UNIT_CLOUD, hosts, days, every)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE capacity_capacitysample")
    print(
        f"\n{rows} synthetic rows ({hosts} hosts x {days} days, a round every {every} s) "
        f"inserted in {time.perf_counter() - started:.1f} s ({connection.vendor})"
    )
    fake = FakeCapacityGateway()
    fake.aggregates = [
        Aggregate(f"rack{a}", tuple(f"compute{h:03d}" for h in range(a * 10, a * 10 + 10)))
        for a in range(max(1, hosts // 10))
    ] + [Aggregate("all", tuple(f"compute{h:03d}" for h in range(hosts)))]
    scopes = {
        "whole cloud": "cloud",
        "one host": "host:compute007",
        "aggregate of 10": "aggregate:rack0",
        f"aggregate of {hosts}": "aggregate:all",
    }
    quiet = override_settings(STACKDESK_TOKEN_RECHECK_SECONDS=10**6, ALLOWED_HOSTS=["testserver"])
    with override(CapacityGateway, fake), quiet:
        client = sign_in(Client(), PERSONAS["admin"])
        for (label, scope), cold in itertools.product(scopes.items(), (True, False)):
            page_times, chart_times, totals = [], [], []
            for i in range(renders + 2):
                if cold:  # as after each new sampling round: every chart drawn again
                    cache.clear()
                t0 = time.perf_counter()
                page = client.get(f"/admin/capacity/?scope={scope}&range=30d")
                t1 = time.perf_counter()
                assert page.status_code == 200, page.content[:500]
                charts = []
                for resource in ("vcpus", "ram", "disk"):
                    c0 = time.perf_counter()
                    svg = client.get(
                        f"/admin/capacity/chart.svg?scope={scope}&range=30d&resource={resource}"
                    )
                    charts.append(time.perf_counter() - c0)
                    assert svg.status_code == 200 and b"<svg" in svg.content
                if i >= 2:  # two warm-up renders
                    page_times.append(t1 - t0)
                    chart_times.extend(charts)
                    totals.append(t1 - t0 + sum(charts))
            print(
                f"  {label:>16} {'cold' if cold else 'warm'}: page median "
                f"{statistics.median(page_times) * 1e3:6.1f} ms, "
                f"p95 {percentile(page_times, 95) * 1e3:6.1f} ms | one chart median "
                f"{statistics.median(chart_times) * 1e3:6.1f} ms, p95 "
                f"{percentile(chart_times, 95) * 1e3:6.1f} ms | page + 3 charts median "
                f"{statistics.median(totals) * 1e3:6.1f} ms, p95 "
                f"{percentile(totals, 95) * 1e3:6.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark of capacity trends.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=900)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--skip-cloud", action="store_true", help="only the chart page")
    parser.add_argument("--skip-page", action="store_true", help="only the sampling round")
    args = parser.parse_args()
    django.setup()
    from django.db import connection

    if connection.vendor != "sqlite":  # a database of its own, apart from pytest's
        connection.settings_dict["TEST"]["NAME"] = f"test_bench_capacity_{os.getpid()}"
    # No setup_test_environment(): its instrumented template rendering would slow the page.
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        if not args.skip_cloud:
            bench_sampling(args.rounds)
        if not args.skip_page:
            bench_page(args.hosts, args.days, args.every, args.renders)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
