"""The usage report: Admin › Overview, its streamed CSV and the export job, and the project's
own CSV, against the fake Nova usage API (paged by instance, hours as Nova counts them)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.test import Client

from conftest import Persona, sign_in
from portal.models import Operation
from projects.tests.fakes import FakeProjectsGateway
from quotas import usage
from quotas.gateway import VolumeSize
from quotas.tasks import export_usage
from quotas.tests.fakes import FakeQuotasGateway, FakeServer
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

TODAY = datetime.now(UTC).date()
D = datetime.combine(TODAY, time.min, tzinfo=UTC)  # today, 00:00 UTC
RANGE = {
    "start": (TODAY - timedelta(days=3)).isoformat(),
    "end": (TODAY - timedelta(days=1)).isoformat(),
}
ADMIN_PAGE, ADMIN_CSV, PROJECT_CSV = (
    "/quotas/admin/usage/",
    "/quotas/admin/usage/export/",
    "/quotas/usage/export/",
)


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def body(response: object) -> str:
    chunks: Iterable[bytes] = response.streaming_content  # type: ignore[attr-defined]
    return b"".join(chunks).decode()


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def cloud(quota_fake: FakeQuotasGateway, keystone_fake: FakeProjectsGateway) -> FakeQuotasGateway:
    """demo: one server running through the whole period (2 vCPUs), one that ran 6 hours;
    study1: one long-running server; volumes in demo, and in a project with no servers."""
    quota_fake.servers = [
        FakeServer("p-demo", "i-a", "web-a", D - timedelta(days=3), vcpus=2),
        FakeServer(
            "p-demo",
            "i-b",
            "batch-b",
            D - timedelta(days=2, hours=-12),
            D - timedelta(days=2, hours=-18),
        ),
        FakeServer(
            "p-study1",
            "i-c",
            "calc",
            D - timedelta(days=10),
            flavor="m1.tiny",
            memory_mb=512,
            local_gb=1,
        ),
        FakeServer("p-demo", "i-old", "gone", D - timedelta(days=30), D - timedelta(days=20)),
    ]
    quota_fake.volumes = [
        VolumeSize("v-1", "p-demo", 10),
        VolumeSize("v-2", "p-demo", 20),
        VolumeSize("v-3", "p-orphan", 5),
    ]
    return quota_fake


DEMO = ["1", "2", "2048", "150.00", "1560.00", "159744.00", "2", "30"]
STUDY1 = ["1", "1", "512", "72.00", "72.00", "36864.00", "0", "0"]
ORPHAN = ["0", "0", "0", "0.00", "0.00", "0.00", "1", "5"]


def page_rows(page: str) -> dict[str, list[str]]:
    """Project -> its figures, as the page's table shows them."""
    import re

    rows = {}
    for name, cells in re.findall(
        r'<tr data-project-id="[^"]+">\s*<th[^>]*>([^<]+)</th>(.*?)</tr>', page, re.S
    ):
        rows[name.strip()] = re.findall(r"<td[^>]*>([^<]*)</td>", cells)
    return rows


def test_admin_usage_joins_projects_across_nova_pages(
    admin_client: Client, cloud: FakeQuotasGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usage, "PAGE_SIZE", 1)  # every instance on a page of its own
    page = html(admin_client.get(ADMIN_PAGE, RANGE))
    assert page_rows(page) == {"demo": DEMO, "study1": STUDY1, "p-orphan": ORPHAN}


def test_admin_usage_page_makes_few_calls(
    admin_client: Client, cloud: FakeQuotasGateway, keystone_fake: FakeProjectsGateway
) -> None:
    admin_client.get(ADMIN_PAGE, RANGE)
    assert keystone_fake.calls + cloud.calls == 3  # names, volumes, one usage page


def test_default_period_is_this_month(admin_client: Client, cloud: FakeQuotasGateway) -> None:
    page = html(admin_client.get(ADMIN_PAGE))
    assert f'value="{TODAY.replace(day=1).isoformat()}"' in page
    assert f'value="{TODAY.isoformat()}"' in page
    assert "Usage from" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"start": "2026-02-10", "end": "2026-02-01"},
            "The end date must be on or after the start date.",
        ),
        (
            {"start": TODAY.isoformat(), "end": (TODAY + timedelta(days=1)).isoformat()},
            "The end date cannot be in the future.",
        ),
        ({"start": "yesterday", "end": TODAY.isoformat()}, "Enter a valid date."),
        ({"start": "", "end": TODAY.isoformat()}, "This field is required."),
        ({"start": "0001-01-01", "end": TODAY.isoformat()}, "Enter a date on or after 2010-01-01."),
        ({"start": "0999-12-31", "end": "2009-12-31"}, "Enter a date on or after 2010-01-01."),
    ],
)
def test_bad_periods_are_refused_at_the_field(
    admin_client: Client,
    member_client: Client,
    cloud: FakeQuotasGateway,
    query: dict[str, str],
    message: str,
) -> None:
    for client, url in ((admin_client, ADMIN_PAGE), (member_client, "/project/overview/usage/")):
        response = client.get(url, query)
        assert response.status_code == 400
        assert message in " ".join(page_errors(html(response)))
        assert f'value="{query["end"]}"' in html(response)  # what was typed stays
    assert admin_client.get(ADMIN_CSV, query).status_code == 400


def test_csv_rows_are_the_page_rows_with_stable_headers(
    admin_client: Client, cloud: FakeQuotasGateway
) -> None:
    response = admin_client.get(ADMIN_CSV, RANGE)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    start = (TODAY - timedelta(days=3)).strftime("%Y%m%d")
    assert f'filename="usage-{start}-{TODAY:%Y%m%d}.csv"' in response["Content-Disposition"]
    rows = table(body(response))
    assert tuple(rows[0]) == usage.PROJECT_COLUMNS
    period = [f"{TODAY - timedelta(days=3)}T00:00:00Z", f"{TODAY}T00:00:00Z"]
    assert rows[1:] == [
        [*period, "p-demo", "demo", *DEMO],
        [*period, "p-study1", "study1", *STUDY1],
        [*period, "p-orphan", "", *ORPHAN],
    ]


def test_numbers_are_not_localised_in_korean(
    admin_client: Client, cloud: FakeQuotasGateway
) -> None:
    admin_client.cookies["django_language"] = "ko"
    page = html(admin_client.get(ADMIN_PAGE, RANGE))
    assert "모든 프로젝트의 사용량" in page and "159744.00" in page
    assert "159744.00" in body(admin_client.get(ADMIN_CSV, RANGE))


def test_the_csv_starts_before_the_first_usage_page_is_read(
    admin_client: Client, cloud: FakeQuotasGateway
) -> None:
    response = admin_client.get(ADMIN_CSV, RANGE)
    assert response.streaming
    lines = iter(response.streaming_content)  # type: ignore[attr-defined]
    assert next(lines).decode().startswith("period_start,period_end,project_id")
    assert cloud.calls == 0  # the header went out before Nova or Cinder was asked anything
    assert len(list(lines)) == 3


def test_no_block_storage_leaves_the_volume_columns_empty(
    admin_client: Client, cloud: FakeQuotasGateway
) -> None:
    cloud.services.discard("block-storage")
    rows = table(body(admin_client.get(ADMIN_CSV, RANGE)))
    assert [r[2] for r in rows[1:]] == ["p-demo", "p-study1"]
    assert rows[1][-2:] == ["", ""]
    assert "This cloud has no block storage service" in html(admin_client.get(ADMIN_PAGE, RANGE))


def test_members_cannot_see_all_projects_usage(
    member_client: Client, cloud: FakeQuotasGateway
) -> None:
    assert member_client.get(ADMIN_PAGE, RANGE).status_code == 403
    assert member_client.get(ADMIN_CSV, RANGE).status_code == 403
    assert member_client.post(ADMIN_CSV, RANGE).status_code == 403
    assert cloud.calls == 0 and not Operation.objects.exists()


# --- the project's own usage ----------------------------------------------------------------


def test_project_csv_of_instances_and_summary(
    member_client: Client, cloud: FakeQuotasGateway
) -> None:
    rows = table(body(member_client.get(PROJECT_CSV, RANGE | {"rows": "instances"})))
    assert tuple(rows[0]) == usage.INSTANCE_COLUMNS
    by_name = {r[5]: r for r in rows[1:]}
    assert set(by_name) == {"web-a", "batch-b"}  # demo's only; "gone" ended before the period
    web = by_name["web-a"]
    assert web[2:5] == ["p-demo", "demo", "i-a"]
    assert web[7:11] == ["2", "2048", "20", "active"] and web[14:16] == ["72.00", "144.00"]
    batch = by_name["batch-b"]
    assert batch[10] == "terminated" and batch[12].endswith("T18:00:00Z") and batch[13] == "21600"
    summary = table(body(member_client.get(PROJECT_CSV, RANGE | {"rows": "summary"})))
    assert summary[1][2:] == ["p-demo", "demo", *DEMO]


def test_project_csv_with_a_bad_period_goes_back_to_the_overview(
    member_client: Client, cloud: FakeQuotasGateway
) -> None:
    response = member_client.get(PROJECT_CSV, {"start": "2026-02-10", "end": "2026-02-01"})
    assert response.status_code == 302 and response["Location"] == "/project/overview/"


@pytest.mark.parametrize("start", ["0001-01-01", "0999-06-30", "2009-12-31"])
def test_a_period_before_2010_is_refused_before_any_csv_starts(
    admin_client: Client, member_client: Client, cloud: FakeQuotasGateway, start: str
) -> None:
    """A year below 1000 used to give a 200 and a CSV cut off after its header line (Nova
    refused the three-digit year only once the stream had started)."""
    period = {"start": start, "end": TODAY.isoformat()}
    refused = admin_client.get(ADMIN_CSV, period)
    assert refused.status_code == 400 and not refused.streaming
    assert "Enter a date on or after 2010-01-01." in page_errors(html(refused))
    own = member_client.get(PROJECT_CSV, period)
    assert own.status_code == 302 and own["Location"] == "/project/overview/"
    summary = member_client.get(PROJECT_CSV, period | {"rows": "summary"})
    assert summary.status_code == 302
    assert cloud.calls == 0  # refused before any usage was read


# --- large exports run as a job ---------------------------------------------------------------


def test_a_large_export_runs_as_a_job_with_a_download_only_its_owner_or_an_admin_can_fetch(
    admin_client: Client,
    member_client: Client,
    cloud: FakeQuotasGateway,
    settings: object,
    tmp_path: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    streamed = body(admin_client.get(ADMIN_CSV, RANGE))
    settings.STACKDESK_USAGE_EXPORT_STREAM_LIMIT = 5  # type: ignore[attr-defined]
    settings.STATE_DIR = tmp_path  # type: ignore[attr-defined]
    offer = admin_client.get(ADMIN_CSV, RANGE)
    assert not offer.streaming and "It is large, so it runs as a background job" in html(offer)
    assert not Operation.objects.exists()  # a GET starts nothing

    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        response = admin_client.post(ADMIN_CSV, RANGE)
    op = Operation.objects.get(kind="export_usage")
    assert response["Location"] == f"/quotas/exports/{op.pk}/"
    waiting = admin_client.get(response["Location"], headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and "every 2s" in html(waiting)
    assert admin_client.get(f"/quotas/exports/{op.pk}/download/").status_code == 404

    export_usage(op.pk)  # what the worker runs

    op.refresh_from_db()
    assert op.state == "succeeded" and op.result["rows"] == 3
    assert (tmp_path / "exports" / f"usage-{op.pk}.csv").exists()
    done = admin_client.get(response["Location"], headers={"HX-Request": "true"})
    assert done.status_code == 286 and "Download the CSV (3 rows)" in html(done)
    download = admin_client.get(f"/quotas/exports/{op.pk}/download/")
    assert body(download) == streamed  # the same file the browser would have streamed

    other_admin = sign_in(Client(), Persona("admin2", "admin", ("admin", "member")))
    assert other_admin.get(f"/quotas/exports/{op.pk}/download/").status_code == 200
    assert member_client.get(f"/quotas/exports/{op.pk}/download/").status_code == 404
    assert member_client.get(f"/quotas/exports/{op.pk}/").status_code == 404


def test_an_export_retried_after_it_finished_does_nothing_again(
    admin_client: Client,
    cloud: FakeQuotasGateway,
    settings: object,
    tmp_path: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    settings.STATE_DIR = tmp_path  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        admin_client.post(ADMIN_CSV, RANGE)
    op = Operation.objects.get()
    export_usage(op.pk)
    calls = cloud.calls
    Operation.objects.filter(pk=op.pk).update(state="queued")  # a redelivered message
    export_usage(op.pk)
    assert cloud.calls == calls


def test_period_covers_whole_utc_days_and_never_the_future() -> None:
    now = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
    period = usage.Period.from_dates(date(2026, 3, 1), date(2026, 3, 15), now=now)
    assert (period.start, period.end) == (datetime(2026, 3, 1, tzinfo=UTC), now)
    period = usage.Period.from_dates(date(2026, 2, 1), date(2026, 2, 28), now=now)
    assert period.end == datetime(2026, 3, 1, tzinfo=UTC) and period.days == 28


def test_names_a_spreadsheet_would_run_are_defused(
    member_client: Client, cloud: FakeQuotasGateway
) -> None:
    cloud.servers.append(
        FakeServer("p-demo", "i-z", '=HYPERLINK("http://x")', D - timedelta(days=2), flavor="-f")
    )
    rows = table(body(member_client.get(PROJECT_CSV, RANGE | {"rows": "instances"})))
    evil = next(r for r in rows if r[4] == "i-z")
    assert (evil[5], evil[6]) == ('\'=HYPERLINK("http://x")', "'-f")


def test_old_export_files_are_removed_when_a_new_export_runs(
    admin_client: Client,
    cloud: FakeQuotasGateway,
    settings: object,
    tmp_path: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    settings.STATE_DIR = tmp_path  # type: ignore[attr-defined]
    (tmp_path / "exports").mkdir()
    old, recent = (
        tmp_path / "exports" / "usage-900001.csv",
        tmp_path / "exports" / "usage-900002.csv",
    )
    old.write_text("x")
    recent.write_text("y")
    eight_days_ago = (datetime.now(UTC) - timedelta(days=8)).timestamp()
    os.utime(old, (eight_days_ago, eight_days_ago))
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        admin_client.post(ADMIN_CSV, RANGE)
    export_usage(Operation.objects.get().pk)
    assert not old.exists() and recent.exists()
