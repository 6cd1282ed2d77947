"""The Capacity Trends page, its charts and CSV (admins only, their own cloud's samples), and a
project's quota usage over time (its own project only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from capacity import services, tasks, trends
from capacity.models import CapacitySample, ProjectUsageSample
from capacity.sampling import sample_cloud
from capacity.tests.fakes import FakeCapacityGateway, FakeProject, host
from capacity.trends import Scope
from conftest import PERSONAS, UNIT_CLOUD
from portal.refs import Aggregate

pytestmark = pytest.mark.django_db
OTHER_CLOUD = "elsewhere:RegionOne"


def body(response: object) -> str:
    chunks: Iterable[bytes] = response.streaming_content  # type: ignore[attr-defined]
    return b"".join(chunks).decode()


def history(fake: FakeCapacityGateway, days: int = 8, per_day: int = 4) -> None:
    """`days` of rounds in which compute1's RAM use grows by 1024 MiB a day."""
    fake.add_host(host("rp-1", "compute1", vcpus=8, ram_mb=16896, disk_gb=100))
    fake.add_host(host("rp-2", "compute2"))
    fake.aggregates = [Aggregate("fast", ("compute1",)), Aggregate("empty")]
    demo = fake.add_project(FakeProject("p-demo", "demo"))
    now = timezone.now()
    rounds = days * per_day
    for i in range(rounds):
        fake.allocate("rp-1", "vm-grow", 1, int(1024 * i / per_day), 1)
        demo.instances, demo.ram_mb = 1 + i // per_day, 512 * (1 + i // per_day)
        sample_cloud(fake, UNIT_CLOUD, now - timedelta(days=days) + i * timedelta(days=1) / per_day)


def test_the_page_is_for_admins_only(
    fake: FakeCapacityGateway, member_client: Client, reader_client: Client, client: Client
) -> None:
    url = "/admin/capacity/"
    assert member_client.get(url).status_code == 403
    assert reader_client.get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302 and "/auth/sign-in/" in response["Location"]
    for path in ("chart.svg", "export.csv"):
        assert member_client.get(url + path).status_code == 403


def test_no_samples_yet_says_when_the_first_comes(
    fake: FakeCapacityGateway, admin_client: Client, settings: object
) -> None:
    settings.STACKDESK_CAPACITY_SAMPLE_EVERY = 900  # type: ignore[attr-defined]
    html = admin_client.get("/admin/capacity/").content.decode()
    assert "No samples yet; the first is taken within 15 minutes." in html
    assert "<img" not in html


def test_growth_is_charted_and_projected(fake: FakeCapacityGateway, admin_client: Client) -> None:
    history(fake)
    html = admin_client.get("/admin/capacity/?scope=host:compute1&range=30d").content.decode()
    # 16384 MiB capacity, about 7 GiB used and growing 1 GiB a day: runs out in about 8 days
    assert "RAM runs out in 8 days." in html or "RAM runs out in 9 days." in html, html
    assert "vCPUs does not run out, not at this rate." in html
    assert (
        'src="/admin/capacity/chart.svg?scope=host%3Acompute1&amp;range=30d&amp;resource=ram"'
        in html
    )
    assert '<option value="aggregate:fast"' in html
    assert 'value="aggregate:empty"' not in html  # an aggregate without hosts has no chart


def test_the_chart_is_an_svg_without_script(
    fake: FakeCapacityGateway, admin_client: Client
) -> None:
    history(fake, days=2)
    response = admin_client.get(
        "/admin/capacity/chart.svg?scope=aggregate:fast&range=7d&resource=ram"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    svg = response.content.decode()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "<script" not in svg
    assert "Used" in svg and "Capacity" in svg
    assert "dasharray" in svg  # told apart without colour


def test_unknown_scope_range_or_resource_is_a_404(
    fake: FakeCapacityGateway, admin_client: Client
) -> None:
    history(fake, days=1)
    for query in ("scope=host:nope", "scope=aggregate:nope", "range=1y", "scope=cloud:x"):
        assert admin_client.get("/admin/capacity/?" + query).status_code == 404, query
    assert admin_client.get("/admin/capacity/chart.svg?resource=gpus").status_code == 404


def test_the_csv_streams_every_sample_of_the_admins_cloud_only(
    fake: FakeCapacityGateway, admin_client: Client
) -> None:
    history(fake, days=1, per_day=2)
    CapacitySample.objects.create(
        cloud_key=OTHER_CLOUD,
        taken_at=timezone.now(),
        provider_id="rp-x",
        provider_name="secret-host",
    )
    response = admin_client.get("/admin/capacity/export.csv?range=7d")
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="capacity-7d.csv"'
    rows = list(csv.reader(io.StringIO(body(response))))
    assert rows[0][:3] == ["taken_at", "host", "vcpus_used"]
    assert len(rows) == 1 + 2 * 3  # two rounds of two hosts and the total
    assert {r[1] for r in rows[1:]} == {"compute1", "compute2", "(cloud)"}


def test_another_clouds_samples_never_show(fake: FakeCapacityGateway, admin_client: Client) -> None:
    CapacitySample.objects.create(
        cloud_key=OTHER_CLOUD,
        taken_at=timezone.now(),
        provider_id="rp-x",
        provider_name="secret-host",
    )
    html = admin_client.get("/admin/capacity/").content.decode()
    assert "secret-host" not in html
    assert "No samples yet" in html


def test_aggregates_unreadable_still_show_hosts(
    fake: FakeCapacityGateway, admin_client: Client
) -> None:
    history(fake, days=1)
    fake.unavailable = {"list_aggregates"}
    response = admin_client.get("/admin/capacity/")
    assert response.status_code == 200
    assert "Host aggregates could not be read" in response.content.decode()


# --- a project's quota usage over time --------------------------------------------------------


def test_the_overview_includes_the_projects_trends(member_client: Client) -> None:
    html = member_client.get("/project/overview/").content.decode()
    assert 'hx-get="/project/capacity/"' in html


def test_a_member_sees_only_their_own_projects_samples(
    fake: FakeCapacityGateway, member_client: Client, outsider_client: Client
) -> None:
    history(fake, days=2)
    ProjectUsageSample.objects.create(
        cloud_key=UNIT_CLOUD,
        project_id=PERSONAS["outsider"].project_id,
        taken_at=timezone.now(),
        instances=77,
    )
    ProjectUsageSample.objects.create(
        cloud_key=OTHER_CLOUD,
        project_id=PERSONAS["member"].project_id,
        taken_at=timezone.now(),
        instances=99,
    )
    html = member_client.get("/project/capacity/?range=7d", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="project-trends"' in html and "<html" not in html  # the partial
    assert '<td class="text-end">2</td>' in html
    assert ">77<" not in html and ">99<" not in html

    own = outsider_client.get("/project/capacity/").content.decode()
    assert ">77<" in own and '<td class="text-end">2</td>' not in own

    exported = member_client.get("/project/capacity/export.csv?range=30d")
    rows = list(csv.reader(io.StringIO(body(exported))))
    assert rows[0] == ["taken_at", "instances", "vcpus", "ram_mb", "volume_gb", "floating_ips"]
    assert len(rows) == 1 + 8 and {r[1] for r in rows[1:]} == {"1", "2"}


def test_a_project_without_samples_says_so(
    fake: FakeCapacityGateway, reader_client: Client
) -> None:
    html = reader_client.get("/project/capacity/").content.decode()
    assert "No samples yet" in html


def test_the_project_chart_draws_the_projects_series(
    fake: FakeCapacityGateway, member_client: Client, client: Client
) -> None:
    history(fake, days=1)
    response = member_client.get("/project/capacity/chart.svg?chart=sizes&range=24h")
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert "RAM (GiB)" in svg and "Volumes (GiB)" in svg and "<script" not in svg
    assert member_client.get("/project/capacity/chart.svg?chart=x").status_code == 404
    assert client.get("/project/capacity/chart.svg").status_code == 302


def test_a_chart_is_drawn_once_per_round(fake: FakeCapacityGateway, admin_client: Client) -> None:
    history(fake, days=1)
    url = "/admin/capacity/chart.svg?scope=host:compute1&range=24h&resource=ram"
    first = admin_client.get(url).content
    assert admin_client.get(url).content == first  # pygal gives each drawing a new id
    fake.allocate("rp-1", "vm-new", 1, 4096, 1)
    sample_cloud(fake, UNIT_CLOUD)
    assert admin_client.get(url).content != first


def test_the_worker_draws_the_clouds_charts_after_its_round(
    fake: FakeCapacityGateway, admin_client: Client
) -> None:
    history(fake, days=1)
    done = tasks.sample_every_cloud(lambda where: fake)  # the unit cloud, the admin's
    assert [r.cloud_key for r in done] == [UNIT_CLOUD]
    latest = trends.latest_round(UNIT_CLOUD)
    with translation.override("ko"):
        korean = services.capacity_chart(UNIT_CLOUD, Scope("cloud"), "30d", "ram", latest)
    assert "용량".encode() in korean  # drawn in every language
    english = services.capacity_chart(UNIT_CLOUD, Scope("cloud"), "30d", "ram", latest)
    page = admin_client.get("/admin/capacity/chart.svg?scope=cloud&range=30d&resource=ram")
    assert page.content == english  # the worker's drawing, from the cache
