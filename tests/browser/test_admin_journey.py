"""An administrator live-migrates an instance with one click from Admin › Instances and
watches the progress bar reach done, then drains a host from the compute services page and
reads the final report. The drained host is enabled again afterwards (the cloud is shared)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SLOW = 180_000  # ms: a live migration on the fake hypervisor takes 5-6 s, more under load
HOSTS = ("compute1", "compute2", "compute3")


def boot(tenant: Any, name: str, host: str) -> str:
    conn = tenant.conn
    image = next(i for i in conn.image.images() if i.visibility == "public")
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    server = conn.compute.create_server(
        name=name,
        image_id=image.id,
        flavor_id=flavor.id,
        networks="none",
        availability_zone=f"nova:{host}",
    )
    conn.compute.wait_for_server(server, status="ACTIVE", wait=180)
    return str(server.id)


def test_one_click_live_migration_then_drain_a_host(
    page: Page,
    live_server: Any,
    portal_clouds_yaml: Path,
    make_tenant: Any,
    start_worker: Any,
    sdk_admin: Any,
) -> None:
    tenant = make_tenant("admin-journey", roles=("admin", "member", "reader"))
    counts = Counter({host: 0 for host in HOSTS})
    counts.update(s.compute_host for s in sdk_admin.compute.servers(all_projects=True))
    source = min(HOSTS, key=lambda host: (counts[host], host))
    server_id = boot(tenant, "journey-vm", source)
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))

    page.goto(live_server.url + "/compute/admin/servers/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="All instances")).to_be_visible()

    # Admin › Instances, this project only; the row's menu offers the one-click migration.
    filters = page.get_by_role("search", name="Filter instances")
    filters.get_by_role("combobox", name="Project").select_option(label=tenant.name)
    expect(page.get_by_role("row")).to_have_count(2)  # the header and this project's one
    row = page.get_by_role("row", name=re.compile("journey-vm"))
    expect(row).to_contain_text(source)
    row.get_by_role("button", name="Actions for journey-vm").click()
    row.get_by_role("button", name="Live migrate", exact=True).click()

    # The operation page: the bar follows Nova's migration to done.
    expect(page.get_by_role("heading", name=re.compile("Live migrate instance"))).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100", timeout=SLOW)
    expect(page.get_by_text("Succeeded")).to_be_visible()
    expect(page.get_by_test_id("step")).to_have_text(re.compile(r"Moved to compute\d"))
    now_on = sdk_admin.compute.get_server(server_id).compute_host
    assert now_on != source

    # Drain the host the instance is now on, from the compute services page.
    try:
        page.get_by_role("link", name="Compute Services").click()
        service_row = page.get_by_role("row", name=re.compile(f"nova-compute {now_on}"))
        service_row.get_by_role("link", name="Drain host").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("heading", name=f"Drain {now_on}")).to_be_visible()
        dialog.get_by_label("Instances moved at once").fill("1")
        dialog.get_by_label("Reason for disabling the host").fill(tenant.name)
        dialog.get_by_role("button", name="Drain host").click()

        expect(page.get_by_role("heading", name=re.compile("Drain host"))).to_be_visible()
        expect(page.get_by_text("Succeeded")).to_be_visible(timeout=SLOW)
        expect(page.get_by_test_id("step")).to_have_text(
            re.compile(r"Moved \d+, failed 0, skipped \d+\.")
        )
        report = page.get_by_role("row", name=re.compile("journey-vm"))
        expect(report).to_contain_text("moved")
        expect(page.get_by_test_id("report-summary")).to_contain_text("failed 0")
        assert sdk_admin.compute.get_server(server_id).compute_host not in (now_on, "")
    finally:
        (service,) = sdk_admin.compute.services(binary="nova-compute", host=now_on)
        sdk_admin.compute.update_service(service.id, status="enabled")
