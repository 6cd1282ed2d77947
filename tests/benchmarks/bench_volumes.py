"""Benchmark of block storage on the all-in-one cloud (run by hand; not a test).

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_volumes.py [--volumes 200] [--renders 20]
        [--repeats 3] [--batch 20]

It makes a throwaway project (as the cloud tests do) and prints:

1. Volume from an image, seconds from the create call until Cinder says available, each of
   `repeats` times: from a raw image (Glance keeps it in Ceph's images pool and shows its
   rbd:// location, so Cinder's RBD driver makes a copy-on-write clone: `rbd info` shows the
   volume's parent) against the seed's tiny-qcow2 (the download path: Cinder fetches the
   image and qemu-img converts it onto the volume). The raw image is the same disk: the
   seed's qcow2 converted with qemu-img and uploaded to the project.
2. The project's volumes list (/volumes/) with `volumes` 1 GiB blank volumes (made `batch`
   at a time; the first `real` thin RBD volumes, the rest error volumes, see fill()), the
   volume detail page and the admin's all-projects
   list, each rendered `renders` times through Django's test client after two warm-ups.
   Every HTTP request keystoneauth sends is recorded (bench_instances_page.Recorder): page
   time p50/p95, OpenStack calls per view by service (constant whatever the number of
   volumes: no call per row), the slowest single call and page time / slowest call (the
   calls of a view run concurrently; the target is 1.3 at most).

Everything it made is deleted at the end (`--keep` leaves it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402 (Django must be configured before the portal's modules load)
import yaml  # noqa: E402

from tests.benchmarks.bench_instances_page import (  # noqa: E402
    Recorder,
    percentile,
    portal_clouds_yaml,
)

SEED_IMAGE = "tiny-qcow2"
CEPH_CONF = Path("/var/lib/stackdesk/devcloud/etc/ceph/ceph.conf")  # devcloud/ceph.py CONF


def wait_available(bs: Any, volume_id: str, timeout: float = 600) -> float:
    """Seconds until the volume is available (from now); fails on an error status."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status = bs.get_volume(volume_id).status
        if status == "available":
            return time.monotonic() - started
        if status.startswith("error"):
            raise SystemExit(f"volume {volume_id} went to {status}")
        time.sleep(0.2)
    raise SystemExit(f"volume {volume_id} not available after {timeout:.0f} s")


def wait_gone(bs: Any, ids: list[str], timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    left = set(ids)
    while left and time.monotonic() < deadline:
        left &= {v.id for v in bs.volumes(details=False)}
        if left:
            time.sleep(2)


def rbd_parent(volume_id: str) -> str:
    """The RBD parent of the volume's image ("" for none, "?" when rbd cannot say)."""
    if not shutil.which("rbd"):
        return "?"
    found = subprocess.run(  # noqa: S603 (Ceph's own CLI, fixed arguments)
        ["rbd", "-c", str(CEPH_CONF), "info", f"volumes/volume-{volume_id}", "--format", "json"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if found.returncode != 0:
        return "?"
    parent = json.loads(found.stdout).get("parent") or {}
    return f"{parent.get('pool', '')}/{parent.get('image', '')}" if parent else ""


def raw_copy(conn: Any, seed: Any) -> Any:
    """The seed's qcow2 image as raw, uploaded to the project (Glance stores it in RBD)."""
    with tempfile.TemporaryDirectory() as tmp:
        qcow2, raw = Path(tmp) / "seed.qcow2", Path(tmp) / "seed.raw"
        qcow2.write_bytes(conn.image.download_image(seed).content)
        subprocess.run(  # noqa: S603 (qemu-img, fixed arguments)
            ["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(qcow2), str(raw)],  # noqa: S607
            check=True,
            timeout=120,
        )
        image = conn.image.create_image(
            name="bench-raw",
            disk_format="raw",
            container_format="bare",
            data=raw.read_bytes(),
            visibility="private",
        )
    return conn.image.wait_for_status(image, status="active", wait=300)


def from_image(bs: Any, image: Any, repeats: int) -> list[tuple[float, str]]:
    """(seconds, RBD parent) of `repeats` volumes made from the image one after another."""
    made = []
    for n in range(repeats):
        started = time.monotonic()
        volume = bs.create_volume(name=f"bench-from-{image.name}-{n}", size=1, image_id=image.id)
        wait_available(bs, volume.id)
        made.append((time.monotonic() - started, rbd_parent(volume.id)))
        bs.delete_volume(volume)
        wait_gone(bs, [volume.id])
    return made


def fill(bs: Any, target: int, real: int, nowhere: str, batch: int) -> list[str]:
    """`target` 1 GiB volumes, `batch` created at once, each waited for until it settles. The
    first `real` are blank thin RBD volumes; the rest ask for a type no backend offers and end
    in error at once, holding no capacity: the devcloud's one pool has 2.85 GiB and Cinder
    provisions thin volumes up to max_over_subscription_ratio 20 times that (57 GiB), shared
    with every other test, so 200 real 1 GiB volumes cannot exist side by side. Cinder lists
    an error volume like any other (the page does the same work per row)."""
    ids: list[str] = []
    started = time.monotonic()

    def make(n: int) -> str:
        kind = {} if n < real else {"volume_type": nowhere}
        volume_id: str = bs.create_volume(name=f"bench-{n:04d}", size=1, **kind).id
        return volume_id

    with ThreadPoolExecutor(max_workers=batch) as pool:
        while len(ids) < target:
            made = list(pool.map(make, range(len(ids), min(target, len(ids) + batch))))
            ids += made
            list(pool.map(lambda v: wait_settled(bs, v), made))
    states = Counter(v.status for v in bs.volumes(details=True))
    print(
        f"  {target} volumes made in {time.monotonic() - started:.0f} s: {dict(states)}",
        flush=True,
    )
    return ids


def wait_settled(bs: Any, volume_id: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: str = bs.get_volume(volume_id).status
        if status == "available" or status.startswith("error"):
            return status
        time.sleep(0.5)
    raise SystemExit(f"volume {volume_id} still busy after {timeout:.0f} s")


def measure(client: Any, recorder: Recorder, url: str, renders: int, row: str) -> dict[str, Any]:
    for _ in range(2):  # warm-up: version discovery is cached per process
        client.get(url)
    recorder.take()
    times, slowest, per_view, failed = [], [], [], []
    slowest_is: Counter[str] = Counter()
    response: Any = None
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
    counts = Counter[str]()
    for view in per_view:
        counts.update(view)
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "slowest_p50": percentile(slowest, 50),
        "ratio_p50": statistics.median([t / s for t, s in zip(times, slowest, strict=True) if s]),
        "calls": {k: v / len(per_view) for k, v in sorted(counts.items())},
        "constant": len({tuple(sorted(v.items())) for v in per_view}) == 1,
        "rows": response.content.decode().count(row) if response is not None else 0,
        "failed": failed,
        "slowest_is": slowest_is.most_common(1),
    }


def report(what: str, result: dict[str, Any]) -> None:
    calls = ", ".join(f"{k} {v:g}" for k, v in result["calls"].items())
    print(
        f"{what}: page p50 {result['p50'] * 1000:6.1f} ms, p95 {result['p95'] * 1000:6.1f} ms"
        f" | calls per view: {calls} ({'constant' if result['constant'] else 'VARYING'})"
        f" | slowest call p50 {result['slowest_p50'] * 1000:6.1f} ms {result['slowest_is']}"
        f" | page/slowest p50 {result['ratio_p50']:.2f} (target <= 1.3) | rows {result['rows']}"
        + (f" | failed views: {result['failed']}" if result["failed"] else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark of block storage.")
    parser.add_argument("--volumes", type=int, default=200)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real", type=int, default=10, help="how many are real RBD volumes")
    # the SDK's connection pool keeps 10 connections: more at once only warns and reconnects
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="leave the project and volumes")
    args = parser.parse_args()

    django.setup()  # before tests.conftest: portal.metrics needs the settings first
    from django.db import connection
    from django.test import Client

    from portal import cloud
    from tests.conftest import DEVCLOUD_CLOUDS, Tenant, portal_sign_in, sdk

    devcloud = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(portal_clouds_yaml(devcloud))
    cloud.available_clouds.cache_clear()

    # No setup_test_environment(): its instrumented template rendering would slow the page.
    if connection.vendor != "sqlite":  # a database of its own, apart from pytest's
        connection.settings_dict["TEST"]["NAME"] = f"test_bench_volumes_{os.getpid()}"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    recorder = Recorder()
    recorder.install()
    admin = sdk("admin")
    tenant = Tenant(admin, "benchvol", ("member", "reader"))
    bs = tenant.conn.block_storage
    try:
        admin.set_volume_quotas(
            tenant.project.id, volumes=args.volumes + 20, gigabytes=args.volumes + 40
        )
        seed = tenant.conn.image.find_image(SEED_IMAGE, ignore_missing=False)
        raw = raw_copy(tenant.conn, seed)
        print(f"volume from image, {args.repeats} each, 1 GiB, one after another:", flush=True)
        for label, image in (("raw image (RBD clone)", raw), ("qcow2 (download)", seed)):
            runs = from_image(bs, image, args.repeats)
            seconds = ", ".join(f"{s:.1f}" for s, _ in runs)
            parents = sorted({p or "none" for _, p in runs})
            print(
                f"  {label:22s}: {seconds} s, median {statistics.median(s for s, _ in runs):.1f}"
                f" s | RBD parent: {', '.join(parents)}",
                flush=True,
            )

        print(f"pages with {args.volumes} volumes, {args.renders} renders after 2 warm-ups:")
        nowhere = admin.block_storage.create_type(
            name=f"{tenant.name}-nowhere",
            is_public=False,
            extra_specs={"volume_backend_name": "bench-nowhere"},
        )
        admin.block_storage.add_type_access(nowhere.id, tenant.project.id)
        ids = fill(bs, args.volumes, args.real, nowhere.name, args.batch)
        member = tenant.sign_in(Client(SERVER_NAME="localhost"))
        report(
            f"  /volumes/ ({args.volumes})",
            measure(member, recorder, "/volumes/", args.renders, '<tr id="volume-'),
        )
        report(
            "  /volumes/<id>/",
            measure(member, recorder, f"/volumes/{ids[0]}/", args.renders, "<dt"),
        )
        admin_project = admin.identity.find_project("admin", ignore_missing=False)
        staff = portal_sign_in(Client(SERVER_NAME="localhost"), "admin", admin_project.id)
        report(
            "  /volumes/admin/volumes/ (all projects)",
            measure(staff, recorder, "/volumes/admin/volumes/", args.renders, '<tr id="volume-'),
        )
    finally:
        if not args.keep:
            started = time.monotonic()
            mine = [v.id for v in bs.volumes(details=False)]
            for volume_id in mine:
                bs.delete_volume(volume_id)
            wait_gone(bs, mine)
            for vtype in admin.block_storage.types(is_public="None"):
                if vtype.name == f"{tenant.name}-nowhere":
                    admin.block_storage.delete_type(vtype.id)
            tenant.cleanup()
            print(f"cleaned up in {time.monotonic() - started:.0f} s")
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
