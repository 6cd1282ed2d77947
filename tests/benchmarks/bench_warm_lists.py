"""Benchmark of the warm instances list (compute/warm.py) on the all-in-one cloud: the
instances page cold (no warm entry: one full list, as before) against warm (one
changes-since delta), by hand; not a test.

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_warm_lists.py [--sizes 50,200] [--renders 20]
        [--per-page 20] [--batch 50] [--active 20]

It fills a throwaway project with N servers exactly as bench_instances_page.py does (the
devcloud's fake virt driver; past `--active` they ask for a flavor no host takes and end in
ERROR at once) and, for each N, renders the page `renders` times cold (the warm entry deleted
before each view) and `renders` times warm, interleaved, after two warm-ups. It prints per N
and mode: page time p50/p95, the upstream calls per view by service, the rows Nova sent
(the servers list's JSON size) and the page/slowest-call ratio. The project and its
servers are deleted at the end (`--keep` leaves them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402 (Django must be configured before the portal's modules load)
import yaml  # noqa: E402

from tests.benchmarks.bench_instances_page import (  # noqa: E402 (after sys.path)
    Recorder,
    fill,
    percentile,
    portal_clouds_yaml,
)

Sample = tuple[float, Counter[str], int, float, str]


def view(client: Any, recorder: Recorder, url: str) -> Sample:
    """One render: (seconds, upstream calls by service, rows, slowest call, its service)."""
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    calls = recorder.take()
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code}")
    top = max(calls, key=lambda c: c[4] - c[3], default=None)
    return (
        elapsed,
        Counter(service for service, *_ in calls),
        response.content.count(b"<tr id="),
        (top[4] - top[3]) if top else 0.0,
        f"{top[0]} {top[2].split('/', 3)[-1]}" if top else "",
    )


def report(n: int, mode: str, samples: list[Sample]) -> float:
    times = [s[0] for s in samples]
    counts: Counter[str] = Counter()
    for sample in samples:
        counts.update(sample[1])
    calls = ", ".join(f"{k} {v / len(samples):g}" for k, v in sorted(counts.items()))
    slowest = Counter(s[4] for s in samples).most_common(1)[0][0]
    p50 = percentile(times, 50)
    print(
        f"N={n:5d} {mode:4s}: page p50 {p50 * 1000:6.1f} ms, p95 "
        f"{percentile(times, 95) * 1000:6.1f} ms | upstream calls per view: {calls} "
        f"(total {sum(counts.values()) / len(samples):g}) | slowest call p50 "
        f"{percentile([s[3] for s in samples], 50) * 1000:.1f} ms, mostly {slowest} | "
        f"rows {samples[-1][2]}",
        flush=True,
    )
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description="Cold against warm instances page.")
    parser.add_argument("--sizes", default="50,200")
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--active", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="leave the project and servers")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    django.setup()  # first: portal.metrics wants the settings before it is imported
    from tests.conftest import DEVCLOUD_CLOUDS, Tenant, sdk

    devcloud = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(portal_clouds_yaml(devcloud))
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from compute import warm
    from portal.identity import SESSION_IDENTITY, Identity

    if connection.vendor != "sqlite":  # a database of its own, apart from pytest's
        connection.settings_dict["TEST"]["NAME"] = f"test_bench_warm_{os.getpid()}"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    warm.NAMESPACE = f"warm-lists-bench-{os.getpid()}"  # never the portal's own entries
    recorder = Recorder()
    recorder.install()
    admin = sdk("admin")
    tenant = Tenant(admin, "benchwarm", ("member", "reader"))
    try:
        top = max(sizes) + 20
        admin.set_compute_quotas(tenant.project.id, instances=top, cores=-1, ram=-1)
        admin.set_network_quotas(tenant.project.id, ports=top + 50)
        net = tenant.conn.network.create_network(name="bench-net")
        tenant.conn.network.create_subnet(
            network_id=net.id, ip_version=4, cidr="10.71.0.0/20", name="bench-net"
        )
        client = tenant.sign_in(Client(SERVER_NAME="localhost"))
        key = warm.project_scope(Identity.from_session(client.session[SESSION_IDENTITY])).key
        url = f"/compute/servers/?per_page={args.per_page}"
        print(
            f"instances page cold (entry deleted before each view) and warm, {args.renders} "
            f"renders each, interleaved, {args.per_page} rows per page",
            flush=True,
        )
        for n in sizes:
            fill(tenant, net.id, n, args.batch, args.active)
            for _ in range(2):  # warm-up: version discovery is cached per process
                view(client, recorder, url)
            cold, hot = [], []
            for _ in range(args.renders):
                cache.delete(key)
                cold.append(view(client, recorder, url))
                hot.append(view(client, recorder, url))
            cold_p50, warm_p50 = report(n, "cold", cold), report(n, "warm", hot)
            print(f"N={n:5d}: warm is {cold_p50 / warm_p50:.1f}x faster (p50)", flush=True)
    finally:
        if not args.keep:
            started = time.monotonic()
            tenant.cleanup()
            print(f"cleaned up in {time.monotonic() - started:.0f} s")
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
