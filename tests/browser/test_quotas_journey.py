"""Quota and usage journeys in the browser: an admin edits a project's quotas; a member sees
their meters move after an instance is launched; an admin downloads the usage CSV for a date
range and its rows are the page's rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, url: str, username: str, password: str, project: str = "") -> None:
    page.goto(url)
    page.get_by_label("User name", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if project and page.get_by_role("heading", name="Choose a project").is_visible():
        page.get_by_role("button", name=f"Open {project}").click()


def launch(conn: Any, name: str) -> Any:
    server = conn.compute.create_server(
        name=name,
        flavor_id=conn.compute.find_flavor("m1.nano").id,
        image_id=conn.image.find_image("tiny-qcow2").id,
        networks="none",
    )
    return conn.compute.wait_for_server(server, wait=120)


def test_admin_edits_a_projects_quotas(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("quota-journey")
    launch(tenant.conn, "qj-vm")
    sign_in(page, live_server.url + "/project/identity/projects/", *credentials("admin"), "admin")
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    page.get_by_role("search", name="Filter projects").get_by_label("Name or ID").fill(tenant.name)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=f"Edit quotas of {tenant.name}").click()
    expect(page.get_by_role("heading", name=f"Quotas of {tenant.name}")).to_be_visible()
    instances = page.get_by_role("spinbutton", name="Instances", exact=True)
    expect(instances).to_have_value("10")
    expect(page.get_by_text("In use: 1").first).to_be_visible()

    page.get_by_role("spinbutton", name="vCPUs", exact=True).fill("128")
    instances.fill("0")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.get_by_text("The project already uses 1; enter 1 or more, or -1.")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="vCPUs", exact=True)).to_have_value(
        "128"
    )  # nothing lost

    page.get_by_role("spinbutton", name="Instances", exact=True).fill("20")
    page.get_by_role("spinbutton", name="Floating IPs", exact=True).fill("-1")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.get_by_text(f"Quotas of {tenant.name} saved.")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Instances", exact=True)).to_have_value("20")
    floating = page.get_by_role("spinbutton", name="Floating IPs", exact=True)
    expect(floating).to_have_value("-1")
    expect(page.locator(".mb-3", has=floating).get_by_text("now unlimited")).to_be_visible()
    compute = sdk_admin.compute.get_quota_set(tenant.project.id)
    assert (compute.instances, compute.cores) == (20, 128)
    assert sdk_admin.network.get_quota(tenant.project.id).floating_ips == -1


def test_member_sees_their_meters_move_after_launching_an_instance(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("meters")
    sign_in(page, live_server.url + "/project/overview/", tenant.username, tenant.password)
    expect(page.get_by_role("heading", name=f"Project {tenant.name}")).to_be_visible()
    instances = page.get_by_role("meter", name="Instances")
    expect(instances).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_text("0 used of 10").first).to_be_visible()

    launch(tenant.conn, "meter-vm")
    page.reload()
    expect(instances).to_have_attribute("aria-valuenow", "1")
    expect(page.get_by_role("meter", name="vCPUs")).to_have_attribute("aria-valuenow", "1")
    expect(page.get_by_role("meter", name="RAM (MiB)")).to_have_attribute("aria-valuenow", "128")
    expect(page.get_by_text("1 used of 10")).to_be_visible()


def test_admin_downloads_the_usage_csv_and_its_rows_are_the_pages(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    # A project whose usage no longer changes: its server ran and was deleted; a volume stays.
    tenant = make_tenant("usage-csv")
    server = launch(tenant.conn, "csv-vm")
    volume = tenant.conn.block_storage.create_volume(size=1, name="csv-vol")
    tenant.conn.block_storage.wait_for_status(volume, "available", wait=120)
    tenant.conn.compute.delete_server(server)
    tenant.conn.compute.wait_for_delete(server, wait=120)
    today = datetime.now(UTC).date().isoformat()

    sign_in(page, live_server.url + "/quotas/admin/usage/", *credentials("admin"), "admin")
    expect(page.get_by_role("heading", name="Usage of all projects")).to_be_visible()
    page.get_by_label("From", exact=True).fill(today)
    page.get_by_label("To", exact=True).fill(today)
    page.get_by_role("button", name="Show usage").click()
    mine = page.locator(f'tr[data-project-id="{tenant.project.id}"]')
    expect(mine.get_by_role("rowheader")).to_have_text(tenant.name)
    shown = {
        str(row.get_attribute("data-project-id")): row.locator("td").all_inner_texts()
        for row in page.locator("#usage-table tbody tr[data-project-id]").all()
    }

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["period_start", "period_end", "project_id", "project_name"]
    figures = {r[2]: [v or "—" for v in r[4:]] for r in rows[1:]}
    # Our project's usage cannot change any more: its row is the page's, to the character.
    assert figures[tenant.project.id] == shown[tenant.project.id]
    assert shown[tenant.project.id][0] == "0" and shown[tenant.project.id][6:] == ["1", "1"]
    # The cloud is shared and live: other projects may start using it between the two reads,
    # and their running servers keep adding hours. Every project with compute usage on the
    # page is in the file, in the same order, with the same or more hours.
    used = [pid for pid, cells in shown.items() if any(float(v) > 0 for v in cells[3:6])]
    assert [pid for pid in figures if pid in used] == used
    for project_id in used:
        page_hours, file_hours = shown[project_id][3:6], figures[project_id][3:6]
        assert all(float(f) >= float(p) for f, p in zip(file_hours, page_hours, strict=True))
