"""The overview page and the refresh_project_counts operation, against the fake gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from portal.gateways import override
from portal.models import Operation
from projects.gateway import ProjectsGateway
from projects.models import ProjectCounts
from projects.tasks import refresh_project_counts
from projects.tests.fakes import FakeProjectsGateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake() -> Iterator[FakeProjectsGateway]:
    gw = FakeProjectsGateway(servers=3, networks=2)
    with override(ProjectsGateway, gw):
        yield gw


def test_overview_before_any_count(member_client: Client, quota_fake: object) -> None:
    page = member_client.get("/project/overview/").content.decode()
    assert "Not counted yet." in page
    assert "Refresh counts" in page


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
