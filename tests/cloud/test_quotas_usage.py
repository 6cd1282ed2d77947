"""The usage report against Nova's own os-simple-tenant-usage: servers run for a while in a
project of their own; the admin's page and CSV, the export job's file (real worker) and the
member's own CSVs all lie between two readings of Nova taken before and after them. The same
project then runs the quota and usage contract (quotas/tests/contract.py) that the fake keeps
in the unit layer."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime
from datetime import time as clock
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from portal.models import Operation
from quotas.gateway import QuotasGateway
from quotas.tests import contract
from tests.conftest import page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

HOURS = {  # column of the project CSV -> Nova's total
    "vcpu_hours": "total_vcpus_usage",
    "disk_gb_hours": "total_local_gb_usage",
    "ram_mb_hours": "total_memory_mb_usage",
}


def nova_usage(admin: Any, project_id: str, start: datetime) -> dict[str, Any]:
    """Nova's own numbers for the project, from `start` to now, straight from the API."""
    response = admin.compute.get(
        f"/os-simple-tenant-usage/{project_id}",
        params={"start": start.strftime("%Y-%m-%dT%H:%M:%S"), "detailed": 1},
        microversion="2.40",
    )
    usage: dict[str, Any] = response.json()["tenant_usage"]
    return usage


def between(value: str, before: dict[str, Any], after: dict[str, Any], key: str) -> bool:
    """A two-decimal figure read between two readings of Nova (usage only grows)."""
    low, high = round(before[key], 2) - 0.005, round(after[key], 2) + 0.005
    return bool(low <= float(value) <= high)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def streamed(response: Any) -> str:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content).decode()


def test_usage_report_and_csv_agree_with_nova(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any, start_worker: Any
) -> None:
    tenant = make_tenant("usage")
    conn, pid = tenant.conn, tenant.project.id
    image = conn.image.find_image("tiny-qcow2")
    servers = [
        conn.compute.create_server(
            name=name,
            flavor_id=conn.compute.find_flavor(flavor).id,
            image_id=image.id,
            networks="none",
        )
        for name, flavor in (("usage-medium", "m1.medium"), ("usage-nano", "m1.nano"))
    ]
    volume = conn.block_storage.create_volume(size=2, name="usage-vol")
    for server in servers:
        conn.compute.wait_for_server(server, wait=120)
    conn.block_storage.wait_for_status(volume, "available", wait=120)
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    time.sleep(15)  # let them run a little
    today = datetime.now(UTC).date()
    midnight = datetime.combine(today, clock.min)
    period = {"start": today.isoformat(), "end": today.isoformat()}
    admin = portal_sign_in(
        Client(), "admin", project_id=sdk_admin.identity.find_project("admin").id
    )
    member = tenant.sign_in(Client())

    before = nova_usage(sdk_admin, pid, midnight)
    page = unescape(admin.get("/quotas/admin/usage/", period).content.decode())
    admin_csv = rows_of(streamed(admin.get("/quotas/admin/usage/export/", period)))
    summary = rows_of(streamed(member.get("/quotas/usage/export/", period | {"rows": "summary"})))
    instances = rows_of(
        streamed(member.get("/quotas/usage/export/", period | {"rows": "instances"}))
    )
    member_page = unescape(member.get("/project/overview/usage/", period).content.decode())
    after = nova_usage(sdk_admin, pid, midnight)

    # The admin's page: the project's row.
    row = re.search(rf'<tr data-project-id="{pid}">(.*?)</tr>', page, re.S)
    assert row is not None, page_errors(page)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert tenant.name in row.group(1)
    assert cells[:3] == ["2", "3", str(4096 + 128)]  # active instances, vCPUs, RAM
    assert cells[6:] == ["1", "2"]  # one volume of 2 GiB
    for value, key in zip(cells[3:6], HOURS.values(), strict=True):
        assert between(value, before, after, key), (key, value, before[key], after[key])

    # The CSVs: the admin's (every project) and the member's own summary.
    for found in ([r for r in admin_csv if r["project_id"] == pid], summary):
        assert len(found) == 1
        line = found[0]
        assert line["project_name"] == tenant.name and line["period_start"] == f"{today}T00:00:00Z"
        assert (line["active_instances"], line["volumes"], line["volume_gb"]) == ("2", "1", "2")
        for column, key in HOURS.items():
            assert between(line[column], before, after, key), (column, line[column])

    # The member's instances: as Nova lists them.
    nova_servers = {s["instance_id"]: s for s in after["server_usages"]}
    assert {r["instance_id"] for r in instances} == set(nova_servers)
    for r in instances:
        nova = nova_servers[r["instance_id"]]
        assert (r["instance_name"], r["flavor"], r["state"]) == (
            nova["name"],
            nova["flavor"],
            "active",
        )
        assert (int(r["vcpus"]), int(r["ram_mb"]), int(r["disk_gb"])) == (
            nova["vcpus"],
            nova["memory_mb"],
            nova["local_gb"],
        )
        assert float(r["hours"]) <= round(nova["hours"], 2) + 0.005
    assert "usage-medium" in member_page and "usage-nano" in member_page

    # A large export runs as a job in the worker; its file holds the same row.
    with override_settings(STACKDESK_USAGE_EXPORT_STREAM_LIMIT=0):
        offer = admin.get("/quotas/admin/usage/export/", period)
        assert "It is large" in offer.content.decode()
        response = admin.post("/quotas/admin/usage/export/", period)
    op = Operation.objects.get(kind="export_usage")
    deadline = time.monotonic() + 120
    while op.state not in Operation.FINISHED and time.monotonic() < deadline:
        time.sleep(0.5)
        op.refresh_from_db()
    assert op.state == "succeeded", (op.error, op.log)
    assert "Download the CSV" in admin.get(response["Location"]).content.decode()
    download = admin.get(f"/quotas/exports/{op.pk}/download/")
    exported = [r for r in rows_of(streamed(download)) if r["project_id"] == pid]
    assert len(exported) == 1 and exported[0]["volumes"] == "1"
    final = nova_usage(sdk_admin, pid, midnight)
    for column, key in HOURS.items():
        assert between(exported[0][column], before, final, key)
    assert member.get(f"/quotas/exports/{op.pk}/download/").status_code == 404

    # The contract the fake keeps too, on this project and its two servers.
    gw = QuotasGateway(sdk_admin)
    contract.check_usage_pages(gw, pid, midnight.replace(tzinfo=UTC), datetime.now(UTC), servers=2)
    contract.check_quota_sets(gw, pid, instances_in_use=2)
