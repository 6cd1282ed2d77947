"""Benchmark of a host drain on the all-in-one cloud (run by hand; not a test).

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_drain.py [--servers 20] [--concurrency 1,2,4]
        [--poll 1.0]

It makes a throwaway project whose user has the admin role, raises its quotas, and for each
concurrency: boots N m1.nano servers onto one host (the one with the fewest servers, forced
with the `nova:host` zone), then runs the portal's drain job (compute/tasks.py drain_host,
the very task a worker runs, here in this process on a database of its own) with that many
live migrations in flight. It prints the drain's wall time next to the sum of the
single-migration times (from asking Nova to seeing the server ACTIVE on its new host, as
the job recorded them), and their ratio: the speed-up that concurrency buys. The host is
enabled again and the servers are deleted after each run; the project at the end.

`--poll` is how often the job looks at Nova (the portal's default is 2 s); every migration's
recorded time is rounded up to a look, so a shorter poll measures Nova more closely.
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

HOSTS = ("compute1", "compute2", "compute3")


def portal_clouds_yaml(devcloud: dict[str, Any]) -> Path:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-drain-clouds-{os.getpid()}.yaml"
    admin = devcloud["devcloud-admin"]
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


def emptiest_host(admin: Any) -> str:
    counts = Counter({host: 0 for host in HOSTS})
    counts.update(s.compute_host for s in admin.compute.servers(all_projects=True))
    return min(HOSTS, key=lambda host: (counts[host], host))


def boot_on(tenant: Any, host: str, n: int) -> list[str]:
    conn = tenant.conn
    image = next(i for i in conn.image.images() if i.visibility == "public")
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    conn.compute.create_server(
        name="bench-drain",
        image_id=image.id,
        flavor_id=flavor.id,
        networks="none",
        availability_zone=f"nova:{host}",
        min_count=n,
        max_count=n,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        servers = list(conn.compute.servers())
        if len(servers) >= n and all(s.status == "ACTIVE" for s in servers):
            return [s.id for s in servers]
        if any(s.status == "ERROR" for s in servers):
            raise RuntimeError("a server went to ERROR while booting")
        time.sleep(2)
    raise RuntimeError("the servers did not become ACTIVE in 10 minutes")


def delete_all(tenant: Any) -> None:
    conn = tenant.conn
    for server in list(conn.compute.servers()):
        conn.compute.delete_server(server, force=True)
    deadline = time.monotonic() + 300
    while any(True for _ in conn.compute.servers()) and time.monotonic() < deadline:
        time.sleep(2)


def enable(admin: Any, host: str) -> None:
    (service,) = admin.compute.services(binary="nova-compute", host=host)
    admin.compute.update_service(service.id, status="enabled")


def drain(tenant: Any, host: str, concurrency: int) -> Any:
    """One drain job, as a worker runs it; returns the finished Operation."""
    from compute import tasks
    from portal import cloud
    from portal.crypto import seal
    from portal.models import Operation

    where = cloud.available_clouds()[0]
    unscoped = cloud.password_sign_in(where, tenant.username, tenant.password, "Default")
    scoped = cloud.scope_token(where, unscoped.token, tenant.project.id)
    op = Operation.objects.create(
        kind=tasks.drain_host.name,
        title=tasks.drain_host.title,
        task_name=tasks.drain_host.task.name,
        cloud_key=where.key,
        user_id=scoped.user_id,
        user_name=scoped.user_name,
        project_id=scoped.project_id,
        project_name=scoped.project_name,
        target=host,
        target_name=host,
        params={"concurrency": concurrency, "active": "live", "stopped": "cold"},
        credential=seal({"token": scoped.token, "body": scoped.body}),
    )
    tasks.drain_host(op.pk)
    op.refresh_from_db()
    return op


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark of a host drain.")
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    from tests.conftest import DEVCLOUD_CLOUDS, Tenant, sdk

    devcloud = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(portal_clouds_yaml(devcloud))
    django.setup()
    from django.db import connection

    from compute import tasks

    tasks.POLL_SECONDS = args.poll
    if connection.vendor != "sqlite":  # a database of its own, apart from pytest's
        connection.settings_dict["TEST"]["NAME"] = f"test_bench_drain_{os.getpid()}"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    admin = sdk("admin")
    tenant = Tenant(admin, "bench-drain", ("admin", "member", "reader"))
    n = args.servers
    print(f"drain of a host with N={n} m1.nano servers, poll every {args.poll:g} s", flush=True)
    try:
        admin.set_compute_quotas(tenant.project.id, instances=n + 5, cores=n + 5, ram=-1)
        for concurrency in levels:
            host = emptiest_host(admin)
            started = time.monotonic()
            ids = boot_on(tenant, host, n)
            booted = time.monotonic() - started
            try:
                started = time.monotonic()
                op = drain(tenant, host, concurrency)
                wall = time.monotonic() - started
            finally:
                enable(admin, host)
            ours = [i for i in op.result["items"] if i["id"] in ids]
            singles = [i["finished"] - i["started"] for i in ours if i["finished"]]
            tally = Counter(i["state"] for i in ours)
            total = sum(singles)
            print(
                f"concurrency {concurrency}: drain wall {wall:6.1f} s | sum of single "
                f"migrations {total:6.1f} s (mean {total / max(1, len(singles)):4.1f} s, "
                f"max {max(singles, default=0):4.1f} s) | sum/wall {total / wall:4.2f} | "
                f"{dict(tally)} of {len(ours)} from {host} | op {op.state} | boot {booted:.0f} s",
                flush=True,
            )
            delete_all(tenant)
    finally:
        tenant.cleanup()
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
