"""Capacity trends against the all-in-one: the sampling task, run by a real worker as the
portal's service user, records what Placement itself says for every resource provider (and
their sum), and a project's quota usage as Nova, Cinder and Neutron count it; the admin's
page then charts it and projects it, and the project's member sees their own figures.

Other tests boot and delete servers on the same cloud at the same time, so Placement is read
before and after each round: a round whose figures moved meanwhile is taken again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from capacity import tasks
from capacity.models import CLOUD_TOTAL, CapacitySample, ProjectUsageSample
from tests.conftest import PORTAL_CLOUD_KEY, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
CLASSES = {"VCPU": "vcpus", "MEMORY_MB": "ram_mb", "DISK_GB": "disk_gb"}


def placement_figures(admin: Any) -> dict[str, dict[str, int]]:
    """Placement's own answer, per provider name: used and capacity of each class, and the
    number of consumers (openstacksdk's placement proxy, as the cloud's admin)."""
    figures = {}
    for rp in admin.placement.resource_providers():
        inventories = {
            i.resource_class: i for i in admin.placement.resource_provider_inventories(rp)
        }
        if not set(CLASSES) & set(inventories):
            continue
        usages = admin.placement.fetch_resource_provider_usages(rp.id).usages or {}
        allocations = admin.placement.get(f"/resource_providers/{rp.id}/allocations").json()
        row = {"instances": len(allocations["allocations"])}
        for rc, column in CLASSES.items():
            inv = inventories.get(rc)
            row[f"{column}_used"] = int(usages.get(rc, 0))
            row[f"{column}_capacity"] = (
                int((inv.total - inv.reserved) * inv.allocation_ratio) if inv else 0
            )
        figures[rp.name] = row
    return figures


def sampled(taken_at: Any) -> dict[str, dict[str, int]]:
    columns = [f"{c}_{k}" for c in CLASSES.values() for k in ("used", "capacity")]
    return {
        r.provider_name: {c: getattr(r, c) for c in [*columns, "instances"]}
        for r in CapacitySample.objects.filter(cloud_key=PORTAL_CLOUD_KEY, taken_at=taken_at)
    }


def run_round(rounds_before: int) -> Any:
    """Queue the beat's task and wait for the worker to write its round."""
    tasks.sample_capacity.delay()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rounds = CapacitySample.objects.filter(cloud_key=PORTAL_CLOUD_KEY, provider_id=CLOUD_TOTAL)
        if rounds.count() > rounds_before:
            return rounds.order_by("-taken_at").values_list("taken_at", flat=True).first()
        time.sleep(0.5)
    raise AssertionError("the worker wrote no capacity round in 120 s")


def boot(tenant: Any) -> str:
    conn = tenant.conn
    image = next(i for i in conn.image.images() if i.visibility == "public")
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    server = conn.compute.create_server(
        name=f"{tenant.name}-vm", image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    conn.compute.wait_for_server(server, wait=180)
    return str(server.id)


def test_a_round_equals_placement_and_each_projects_quota_usage(
    portal_clouds_yaml: Path, make_tenant: Any, start_worker: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("cap")
    boot(tenant)
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))

    for attempt in range(5):
        before = placement_figures(sdk_admin)
        taken_at = run_round(attempt)
        after = placement_figures(sdk_admin)
        if before == after:
            break
    else:
        pytest.fail("Placement changed during every one of 5 rounds")

    rows = sampled(taken_at)
    total = rows.pop("")
    assert rows == after  # every provider, figure for figure
    for column in total:
        assert total[column] == sum(r[column] for r in after.values()), column

    pid = tenant.project.id
    nova = sdk_admin.compute.get_quota_set(pid, usage=True).usage
    cinder = sdk_admin.block_storage.get_quota_set(pid, usage=True).usage
    neutron = sdk_admin.network.get_quota(pid, details=True).to_dict(computed=False)
    row = ProjectUsageSample.objects.get(
        cloud_key=PORTAL_CLOUD_KEY, project_id=pid, taken_at=taken_at
    )
    assert (
        (row.instances, row.vcpus, row.ram_mb)
        == (
            nova["instances"],
            nova["cores"],
            nova["ram"],
        )
        == (1, 1, 128)
    )
    assert row.volume_gb == cinder["gigabytes"]
    assert row.floating_ips == neutron["floating_ips"]["used"]

    # the admin's page charts and projects what was sampled; the tenant sees its own row
    admin = portal_sign_in(Client(), "admin")
    page = admin.get("/admin/capacity/?range=24h").content.decode()
    assert "At the last 7 days" in page
    # rounds a few seconds apart tell no rate yet
    assert "RAM: not enough history yet to tell a rate." in page
    assert "/admin/capacity/chart.svg?scope=cloud&amp;range=24h&amp;resource=ram" in page
    some_host = next(iter(after))
    assert f'<option value="host:{some_host}"' in page
    chart = admin.get("/admin/capacity/chart.svg?scope=cloud&range=24h&resource=ram")
    assert chart["Content-Type"] == "image/svg+xml" and b"<svg" in chart.content

    mine = tenant.sign_in(Client())
    trends = mine.get("/project/capacity/").content.decode()
    assert 'id="project-trends-table"' in trends
    assert '<td class="text-end">1</td>' in trends  # its one instance
    assert mine.get("/admin/capacity/").status_code == 403
