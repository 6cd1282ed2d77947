"""The overview page and the refresh_project_counts operation, against the fake gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client

from portal.gateways import override
from portal.models import Operation
from projects.gateway import ProjectsGateway
from projects.models import ProjectCounts
from projects.tasks import refresh_project_counts
from projects.tests.fakes import FakeProjectsGateway
from quotas import catalog
from quotas.tests.fakes import FakeQuotasGateway, FakeServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake() -> Iterator[FakeProjectsGateway]:
    gw = FakeProjectsGateway(servers=3, networks=2)
    with override(ProjectsGateway, gw):
        yield gw


def test_overview_before_any_count(member_client: Client, quota_fake: FakeQuotasGateway) -> None:
    page = member_client.get("/project/overview/?start=2026-01-01&end=2026-01-31").content.decode()
    assert "Not counted yet." in page
    assert "Refresh counts" in page
    # Limits and usage load themselves, each with a plain link when scripts are off.
    assert 'hx-get="/project/overview/limits/" hx-trigger="load"' in page
    assert 'href="/project/overview/usage/?start=2026-01-01&amp;end=2026-01-31"' in page
    assert quota_fake.calls == 0


def test_refresh_queues_one_operation_with_a_sealed_token(
    member_client: Client, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        response = member_client.post("/project/overview/refresh-counts/")
    assert response.status_code == 302
    op = Operation.objects.get()
    assert (op.kind, op.state, op.user_name, op.project_name) == (
        "refresh_project_counts",
        "queued",
        "member",
        "demo",
    )
    assert "token-member" not in op.credential and op.credential.startswith("gAAAA")
    assert len(callbacks) == 1  # the task is sent once the row is committed
    member_client.post("/project/overview/refresh-counts/")
    assert Operation.objects.count() == 1  # a second click while one is pending starts nothing


def test_refresh_counts_end_to_end(
    member_client: Client, fake: FakeProjectsGateway, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        member_client.post("/project/overview/refresh-counts/", headers={"HX-Request": "true"})
    op = Operation.objects.get()
    polling = member_client.get("/project/overview/", headers={"HX-Request": "true"})
    assert polling.status_code == 200 and "every 2s" in polling.content.decode()

    refresh_project_counts(op.pk)  # what the worker runs

    op.refresh_from_db()
    assert op.state == "succeeded" and op.percent == 100 and op.credential == ""
    counts = ProjectCounts.objects.get(project_id="p-demo").counts
    assert counts["servers"] == 3 and counts["networks"] == 2
    done = member_client.get("/project/overview/", headers={"HX-Request": "true"})
    assert done.status_code == 286  # polling stops
    assert "every 2s" not in done.content.decode()


def test_counts_skip_services_the_cloud_lacks(
    member_client: Client, django_capture_on_commit_callbacks: object
) -> None:
    gw = FakeProjectsGateway(servers=1, services={"compute", "image", "network"})
    with override(ProjectsGateway, gw), django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        member_client.post("/project/overview/refresh-counts/")
        refresh_project_counts(Operation.objects.get().pk)
    assert ProjectCounts.objects.get().counts["volumes"] is None


def test_cloud_down_requeues_then_resumes_without_recounting(
    member_client: Client, fake: FakeProjectsGateway, django_capture_on_commit_callbacks: object
) -> None:
    fake.unavailable = {"routers"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        member_client.post("/project/overview/refresh-counts/")
        op = Operation.objects.get()
        refresh_project_counts(op.pk)
    op.refresh_from_db()
    assert op.state == "queued" and op.attempts == 1
    assert "retrying in 5 s" in op.log[-1][1]
    assert len(callbacks) == 2  # the first send, and the retry
    assert op.result["servers"] == 3 and "routers" not in op.result

    fake.unavailable = set()
    fake.servers = 99  # a recount would see this; the resumed job must not count again
    refresh_project_counts(op.pk)
    op.refresh_from_db()
    assert op.state == "succeeded" and op.attempts == 2
    assert op.result["servers"] == 3 and op.result["routers"] == 0


def test_operations_are_private_to_their_user(
    member_client: Client,
    outsider_client: Client,
    admin_client: Client,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        member_client.post("/project/overview/refresh-counts/")
    op = Operation.objects.get()
    assert member_client.get(f"/operations/{op.pk}/").status_code == 200
    assert "Refresh resource counts" in member_client.get("/operations/").content.decode()
    assert outsider_client.get(f"/operations/{op.pk}/").status_code == 404
    assert "Refresh resource counts" not in outsider_client.get("/operations/").content.decode()
    assert outsider_client.post(f"/operations/{op.pk}/cancel/").status_code == 404
    assert admin_client.get(f"/operations/{op.pk}/").status_code == 200
    assert "Refresh resource counts" in admin_client.get("/admin/operations/").content.decode()


# --- limits as meters, and the project's usage --------------------------------------------


def test_meters_show_used_of_limit_for_the_members_own_project(
    member_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    quota_fake.in_use["p-demo"] = {
        catalog.COMPUTE: {"instances": 3, "cores": 6, "ram": 1536},
        catalog.VOLUME: {"volumes": 1, "gigabytes": 10},
        catalog.NETWORK: {"floating_ips": 1, "ports": 4},
    }
    quota_fake.limits["p-demo"] = {catalog.NETWORK: {"ports": -1}}
    quota_fake.in_use["p-study1"] = {catalog.COMPUTE: {"instances": 9}}  # not the member's
    page = member_client.get("/project/overview/limits/").content.decode()
    meters = dict(re.findall(r"<span>([^<]+)</span>\s*<span data-meter-text>([^<]+)</span>", page))
    assert meters == {
        "Instances": "3 used of 10",
        "vCPUs": "6 used of 20",
        "RAM (MiB)": "1536 used of 51200",
        "Volumes": "1 used of 10",
        "Volume storage (GiB)": "10 used of 1000",
        "Floating IPs": "1 used of 50",
        "Security groups": "0 used of 10",
        "Networks": "0 used of 100",
        "Ports": "4 used of unlimited",
        "Routers": "0 used of 10",
    }
    assert 'role="meter" aria-label="Instances" aria-valuemin="0" aria-valuenow="3"' in page


def test_meters_leave_out_services_the_cloud_lacks(
    member_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    quota_fake.services = {"compute"}
    response = member_client.get("/project/overview/limits/", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<html" not in page  # the section alone, for htmx
    assert 'aria-label="Instances"' in page and 'aria-label="Volumes"' not in page
    assert 'aria-label="Routers"' not in page


def test_overview_usage_for_a_period_with_csv_links(
    member_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=2), time.min, tzinfo=UTC)
    quota_fake.servers = [
        FakeServer("p-demo", "i-1", "web-1", start, vcpus=2, memory_mb=4096, local_gb=40),
        FakeServer("p-study1", "i-2", "other", start),
    ]
    query = {
        "start": (today - timedelta(days=2)).isoformat(),
        "end": (today - timedelta(days=1)).isoformat(),
    }
    page = member_client.get("/project/overview/usage/", query).content.decode()
    assert "web-1" in page and "other" not in page  # the member's own project only
    summary = re.search(r'<table[^>]*id="usage-summary".*?</table>', page, re.S)
    assert summary is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", summary.group(0))
    assert cells == ["1", "2", "4096", "96.00", "1920.00", "196608.00", "0", "0"]
    assert "48.00" in page  # hours of web-1 in the period
    csv_query = f"start={query['start']}&amp;end={query['end']}"
    assert f"/quotas/usage/export/?{csv_query}&amp;rows=instances" in page
    assert quota_fake.calls == 2  # one usage page, one volume page


def test_limits_are_kept_for_the_projects_users_until_the_portal_changes_something(
    member_client: Client, outsider_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    def instances(client: Client) -> str:
        page = client.get("/project/overview/limits/").content.decode()
        found = re.search(r"<span>Instances</span>\s*<span data-meter-text>([^<]+)</span>", page)
        assert found
        return found.group(1)

    quota_fake.in_use["p-demo"] = {catalog.COMPUTE: {"instances": 3}}
    quota_fake.in_use["p-study1"] = {catalog.COMPUTE: {"instances": 9}}
    assert instances(member_client) == "3 used of 10"
    calls = quota_fake.calls
    quota_fake.in_use["p-demo"] = {catalog.COMPUTE: {"instances": 4}}  # outside the portal
    assert instances(member_client) == "3 used of 10"  # the copy, within 2 s
    assert quota_fake.calls == calls
    # another project's user never gets the copy: their own project, read with their token
    assert instances(outsider_client) == "9 used of 10"
    # a change through the portal (a job started, recorded in the audit log) shows at once
    member_client.post("/project/overview/refresh-counts/")
    assert instances(member_client) == "4 used of 10"


def test_the_instances_pages_kept_quota_is_not_the_overviews(
    member_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    from compute.gateway import ComputeGateway
    from compute.tests.fakes import FakeComputeGateway

    with override(ComputeGateway, FakeComputeGateway()):
        assert member_client.get("/compute/servers/").status_code == 200  # keeps Nova's limits
    page = member_client.get("/project/overview/limits/").content.decode()
    assert 'aria-label="Instances"' in page and 'aria-label="Volumes"' in page
