"""Benchmark (run by hand, not collected by pytest): how long the network pages take.

    devcloud/devcloud up
    .venv/bin/python tests/benchmarks/bench_network.py [--instances 500] [--repeat 5]

1. Drawing: the topology of a big made-up project (the fake gateway: 40 networks with two
   subnets each, 20 routers wired to them, N instances) laid out and rendered as SVG; prints
   the time of the layout and of the SVG template, the SVG size and the peak memory.
   Target: < 300 ms and < 20 MiB for 500 instances (the page's cloud calls take longer).
2. The cloud: the calls of the topology (5), network list (3) and router page (4) as the
   seeded "vworld" user, one after another and then with `concurrently` as the views make
   them; prints the medians. Target: each page's calls together take no longer than its
   slowest call plus a little (the concurrent time is close to the slowest single call).
Nothing is created in the cloud.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

import openstack  # noqa: E402  (after django.setup, like the rest of the portal)
import yaml  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

from network import topology  # noqa: E402
from network.gateway import NetworkGateway  # noqa: E402
from network.tests.fakes import FakeNetworkGateway  # noqa: E402
from portal.concurrency import concurrently  # noqa: E402

DEVCLOUD_CLOUDS = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud")) / (
    "clouds.yaml"
)


def big_project(instances: int) -> FakeNetworkGateway:
    fake = FakeNetworkGateway()
    fake.limits = {key: -1 for key in fake.limits}
    networks = []
    for i in range(40):
        net = fake.create_network(name=f"net-{i:02d}")
        fake.create_subnet(network_id=net.id, cidr=f"10.{i}.0.0/22", ip_version=4)
        fake.create_subnet(network_id=net.id, cidr=f"fd00:{i}::/64", ip_version=6)
        networks.append(net)
    for r in range(20):
        router = fake.create_router(f"router-{r:02d}", True, fake.public_id)
        for net in networks[r * 2 : r * 2 + 2]:
            fake.add_interface_to_router(router.id, subnet_id=fake.networks[net.id].subnet_ids[0])
    for s in range(instances):
        fake.add_server(f"vm-{s:04d}", networks[s % len(networks)].id)
    return fake


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_drawing(instances: int, repeat: int) -> None:
    fake = big_project(instances)
    args = (
        fake.project_id,
        fake.list_networks(),
        fake.list_subnets(),
        fake.list_routers(),
        fake.list_ports(),
        fake.list_servers(),
        lambda _sid: None,
    )

    def draw() -> topology.Picture:
        return topology.draw(*args)

    def render(picture: topology.Picture) -> str:
        return render_to_string("network/topology.html#body", {"picture": picture})

    draw()  # the first call builds Django's URL resolver: not the page's cost
    drawing, picture = timed(draw, repeat)
    rendering, html = timed(lambda: render(picture), repeat)
    tracemalloc.start()
    render(draw())
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"topology, 41 networks / 20 routers / {instances} instances: "
        f"layout {drawing * 1000:.1f} ms + SVG template {rendering * 1000:.1f} ms, "
        f"SVG {len(html) / 1024:.0f} KiB, peak memory {peak / 2**20:.1f} MiB"
    )


def one_after_another(calls: list[Callable[[], Any]]) -> list[Any]:
    return [call() for call in calls]


def all_at_once(calls: list[Callable[[], Any]]) -> tuple[Any, ...]:
    return concurrently(*calls)


def vworld() -> NetworkGateway:
    entry = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]["devcloud-vworld"]
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, **entry["auth"])
    return NetworkGateway(conn)


def bench_cloud(repeat: int) -> None:
    gw = vworld()
    pid = str(gw.conn.current_project_id)
    router = gw.list_routers(project_id=pid)[0]
    pages: dict[str, list[Callable[[], Any]]] = {
        "topology (5 calls)": [
            gw.list_networks,
            gw.list_subnets,
            lambda: gw.list_routers(project_id=pid),
            lambda: gw.list_ports(project_id=pid),
            gw.list_servers,
        ],
        "network list (3 calls)": [gw.list_networks, gw.list_subnets, lambda: gw.get_quota(pid)],
        "router page (4 calls)": [
            lambda: gw.get_router(router.id),
            lambda: gw.list_ports(device_id=router.id),
            gw.list_subnets,
            gw.list_networks,
        ],
    }
    for call in pages["topology (5 calls)"]:
        call()  # warm connections and endpoint discovery
    for name, calls in pages.items():
        slowest = max(timed(call, repeat)[0] for call in calls)
        sequential, _ = timed(functools.partial(one_after_another, calls), repeat)
        together, _ = timed(functools.partial(all_at_once, calls), repeat)
        print(
            f"{name}: one after another {sequential * 1000:.0f} ms, concurrently "
            f"{together * 1000:.0f} ms (slowest single call {slowest * 1000:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-cloud", action="store_true", help="only the drawing benchmark")
    options = parser.parse_args()
    bench_drawing(options.instances, options.repeat)
    if not options.no_cloud:
        bench_cloud(options.repeat)


if __name__ == "__main__":
    main()
