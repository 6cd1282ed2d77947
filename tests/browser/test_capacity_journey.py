"""An administrator opens Admin › Compute › Capacity Trends: the charts are drawn (SVG images
from the portal itself), the projection says when RAM runs out at the last 7 days' rate, and
picking a host charts that host. The samples are one real round of the sampling task against
the all-in-one, after a synthetic week of whole-cloud rounds in which RAM use grew."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from capacity import tasks
from capacity.models import CLOUD_TOTAL, CapacitySample
from tests.conftest import PORTAL_CLOUD_KEY, credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_week_of_growth() -> CapacitySample:
    """One real round, and before it a round every 6 hours for 7 days whose RAM use grew
    steadily to the real one: RAM then runs out within a couple of weeks at that rate."""
    assert tasks.sample_every_cloud(), "the service user sampled no cloud"
    real = CapacitySample.objects.get(cloud_key=PORTAL_CLOUD_KEY, provider_id=CLOUD_TOTAL)
    free = real.ram_mb_capacity - real.ram_mb_used
    per_round = max(1, free // (4 * 14))  # a fortnight's worth of growth left
    for i in range(1, 29):
        CapacitySample.objects.create(
            cloud_key=PORTAL_CLOUD_KEY,
            taken_at=real.taken_at - i * timedelta(hours=6),
            provider_id=CLOUD_TOTAL,
            vcpus_used=real.vcpus_used,
            vcpus_capacity=real.vcpus_capacity,
            ram_mb_used=max(0, real.ram_mb_used - i * per_round),
            ram_mb_capacity=real.ram_mb_capacity,
            disk_gb_used=real.disk_gb_used,
            disk_gb_capacity=real.disk_gb_capacity,
        )
    return real


def drawn(page: Page, image: Locator) -> None:
    """The browser loaded and decoded the image (an SVG it could not read has no width)."""
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_an_admin_reads_the_capacity_trends(
    page: Page, live_server: Any, portal_clouds_yaml: Path
) -> None:
    a_week_of_growth()
    username, password = credentials("admin")
    page.goto(live_server.url + "/compute/admin/hypervisors/")
    page.get_by_label("User name", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if page.get_by_role("heading", name="Choose a project").is_visible():
        page.get_by_role("button", name="Open admin").click()

    page.get_by_role("link", name="Capacity Trends").click()
    expect(page.get_by_role("heading", name="Capacity Trends", level=1)).to_be_visible()
    projection = page.locator("#capacity-projection")
    expect(projection).to_contain_text(re.compile(r"RAM runs out in \d+ days?\."))

    # the whole cloud's three charts, drawn: SVG images the browser decoded
    charts = page.get_by_role("img", name=re.compile("Chart of"))
    expect(charts).to_have_count(3)
    ram = page.get_by_role("img", name=re.compile("Chart of RAM"))
    drawn(page, ram)
    svg = page.request.get(live_server.url + str(ram.get_attribute("src")))
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "<svg" in svg.text() and "Capacity" in svg.text()

    # one host's charts, from the scope list
    host = page.get_by_label("Scope").locator("optgroup[label=Hosts] option").first
    name = host.inner_text()
    page.get_by_label("Scope").select_option(label=name)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"scope=host%3A{name}"))
    expect(ram).to_have_attribute("src", re.compile(rf"scope=host%3A{name}"))
    drawn(page, ram)
    page.get_by_text("The charts' numbers").click()
    expect(page.locator("#capacity-table tbody tr").first).to_be_visible()
