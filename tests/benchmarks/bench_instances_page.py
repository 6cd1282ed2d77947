"""Benchmark of the instances page on the all-in-one cloud (run by hand; not a test).

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_instances_page.py [--sizes 50,200,1000]
        [--renders 30] [--per-page 20] [--batch 50]

It makes a throwaway project (as the cloud tests do), raises its quotas, fills it with N
m1.nano servers (Nova multi-create, `batch` at a time) and, for each N, renders the
instances page through Django's test client `renders` times after two warm-up renders
(which fill keystoneauth's per-process version-discovery cache). Every HTTP request
keystoneauth sends is recorded, so the script prints per N:

- server-side page time, p50 and p95;
- OpenStack calls per page view by service, and whether any went to Keystone;
- the slowest single OpenStack call of each view (p50), and page time / slowest call.

The project and its servers are deleted at the end (`--keep` leaves them). On the 2-core
devcloud the fake hypervisor builds about one server a second: N=1,000 takes a while.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402 (Django must be configured before the portal's modules load)
import yaml  # noqa: E402

SERVICES = {5000: "keystone", 8774: "nova", 9292: "glance", 9696: "neutron", 8776: "cinder"}


class Recorder:
    """Wraps the HTTP requests keystoneauth sends (requests.Session.request, where the URL is
    absolute): every call the portal makes, with its start and end times."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, float, float]] = []
        self.lock = threading.Lock()

    def install(self) -> None:
        import requests

        original = requests.Session.request
        recorder = self

        def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(self, method, url, *args, **kwargs)
            finally:
                end = time.perf_counter()
                port = urlparse(url).port or 0
                with recorder.lock:
                    recorder.calls.append(
                        (SERVICES.get(port, str(port)), method, url.split("?")[0], start, end)
                    )

        requests.Session.request = request  # type: ignore[method-assign,assignment]

    def take(self) -> list[tuple[str, str, str, float, float]]:
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def portal_clouds_yaml(devcloud: dict[str, Any]) -> Path:
    admin = devcloud["devcloud-admin"]
    path = Path(tempfile.mkdtemp()) / "clouds.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "devcloud": {
                        "auth": {"auth_url": admin["auth"]["auth_url"]},
                        "region_name": admin.get("region_name", "RegionOne"),
                    }
                }
            }
        )
    )
    return path


def fill(tenant: Any, network_id: str, target: int, batch: int, active_cap: int) -> None:
    """Launch servers until the project has `target`. The first `active_cap` are m1.nano and
    run; the rest ask for x1.oversize, which no host can take, and end in ERROR at once: the
    devcloud is shared, and 1,000 running servers would take every vCPU its three hosts have
    (and more). Nova lists an ERROR server like any other (with its fault)."""
    conn = tenant.conn
    nano = conn.compute.find_flavor("m1.nano")
    nowhere = conn.compute.find_flavor("x1.oversize")
    image = conn.image.find_image("tiny-qcow2")
    have = sum(1 for _ in conn.compute.servers(details=False))
    started = time.monotonic()
    while have < target:
        flavor = nano if have < active_cap else nowhere
        limit = active_cap if have < active_cap else target
        count = min(batch, limit - have)
        conn.compute.create_server(
            name=f"bench-{have:04d}",
            flavor_id=flavor.id,
            image_id=image.id,
            networks=[{"uuid": network_id}],
            min_count=count,
            max_count=count,
        )
        have += count
        # Let the scheduler keep up: wait (a while) until this batch has left BUILD. On the
        # shared devcloud a compute host restarted by another test can leave builds hanging;
        # a BUILD server is listed like any other.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and any(
            True for _ in conn.compute.servers(status="BUILD", details=False)
        ):
            time.sleep(2)
    states = Counter(s.status for s in conn.compute.servers())
    print(
        f"  filled to {target} in {time.monotonic() - started:.0f} s: {dict(states)}",
        flush=True,
    )


def measure(client: Any, recorder: Recorder, renders: int, per_page: int) -> dict[str, Any]:
    url = f"/compute/servers/?per_page={per_page}"
    for _ in range(2):  # warm-up: version discovery is cached per process
        client.get(url)
    recorder.take()
    times, slowest, before, after, per_view = [], [], [], [], []
    failed: list[int] = []
    slowest_is: Counter[str] = Counter()
    for _ in range(renders):
        start = time.perf_counter()
        response = client.get(url)
        end = time.perf_counter()
        calls = recorder.take()
        if response.status_code != 200:  # the shared cloud did not answer: count, skip
            failed.append(response.status_code)
            continue
        times.append(end - start)
        per_view.append(Counter(service for service, *_ in calls))
        slowest.append(max((c[4] - c[3] for c in calls), default=0.0))
        top = max(calls, key=lambda c: c[4] - c[3])
        slowest_is[f"{top[0]} {top[1]} {top[2].split('/', 3)[-1]}"] += 1
        before.append(min(c[3] for c in calls) - start)
        after.append(end - max(c[4] for c in calls))
    counts = Counter[str]()
    for view in per_view:
        counts.update(view)
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "slowest_p50": percentile(slowest, 50),
        "ratio_p50": statistics.median([t / s for t, s in zip(times, slowest, strict=True) if s]),
        "before_p50": percentile(before, 50),
        "after_p50": percentile(after, 50),
        "calls": {k: v / renders for k, v in sorted(counts.items())},
        "constant": len({tuple(sorted(v.items())) for v in per_view}) == 1,
        "rows": response.content.decode().count('<tr id="server-'),
        "failed": failed,
        "slowest_is": slowest_is.most_common(2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark of the instances page.")
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--active", type=int, default=20, help="how many servers really run (the rest: ERROR)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the project and servers")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    from tests.conftest import DEVCLOUD_CLOUDS, Tenant, sdk

    devcloud = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(portal_clouds_yaml(devcloud))
    django.setup()
    from django.db import connection
    from django.test import Client

    # No setup_test_environment(): its instrumented template rendering would slow the page.
    if connection.vendor != "sqlite":  # a database of its own, apart from pytest's
        connection.settings_dict["TEST"]["NAME"] = f"test_bench_instances_{os.getpid()}"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    recorder = Recorder()
    recorder.install()
    admin = sdk("admin")
    tenant = Tenant(admin, "bench", ("member", "reader"))
    try:
        top = max(sizes) + 20
        admin.set_compute_quotas(tenant.project.id, instances=top, cores=-1, ram=-1)
        admin.set_network_quotas(tenant.project.id, ports=top + 50)
        net = tenant.conn.network.create_network(name="bench-net")
        tenant.conn.network.create_subnet(
            network_id=net.id, ip_version=4, cidr="10.70.0.0/20", name="bench-net"
        )
        client = tenant.sign_in(Client(SERVER_NAME="localhost"))
        recorder.take()
        print(
            f"instances page, {args.renders} renders after 2 warm-ups, "
            f"{args.per_page} rows per page",
            flush=True,
        )
        for n in sizes:
            fill(tenant, net.id, n, args.batch, args.active)
            result = measure(client, recorder, args.renders, args.per_page)
            calls = ", ".join(f"{k} {v:g}" for k, v in result["calls"].items())
            print(
                f"N={n:5d}: page p50 {result['p50'] * 1000:6.1f} ms, p95 "
                f"{result['p95'] * 1000:6.1f} ms | calls per view: {calls} "
                f"({'constant' if result['constant'] else 'VARYING'}; keystone: "
                f"{result['calls'].get('keystone', 0):g}) | slowest call p50 "
                f"{result['slowest_p50'] * 1000:6.1f} ms {result['slowest_is']} | page/slowest p50 "
                f"{result['ratio_p50']:.2f} | before/after the calls p50 "
                f"{result['before_p50'] * 1000:.1f}/{result['after_p50'] * 1000:.1f} ms | "
                f"rows {result['rows']}"
                + (f" | failed views: {result['failed']}" if result["failed"] else ""),
                flush=True,
            )
    finally:
        if not args.keep:
            started = time.monotonic()
            tenant.cleanup()
            print(f"cleaned up in {time.monotonic() - started:.0f} s")
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
