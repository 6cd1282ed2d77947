"""A person launches an instance through the wizard and watches it become ACTIVE, reads its
console log, reboots it, snapshots it and deletes it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SLOW = 120_000  # ms: the fake hypervisor takes a few seconds per state, more under load
STEP = 30_000  # ms: each wizard step reads the project's choices (11 calls) again


def test_launch_log_reboot_snapshot_delete(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("compute-journey")
    net = tenant.conn.network.create_network(name="journey-net")
    tenant.conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.65.0.0/24")
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(live_server.url + "/compute/servers/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()
    expect(page.get_by_text("No instances yet.")).to_be_visible()

    # The wizard, step by step (each Next shows the following step once validated).
    def now_on(step: str) -> None:
        expect(page.get_by_role("button", name=step)).to_have_attribute(
            "aria-current", "step", timeout=STEP
        )

    page.get_by_role("link", name="Launch instance").click()
    now_on("1. Details")
    page.get_by_label("Instance name").fill("journey-vm")
    page.get_by_role("button", name="Next").click()
    now_on("2. Source")
    page.get_by_role("combobox", name="Image").select_option(label="tiny-qcow2")
    page.get_by_role("button", name="Next").click()
    now_on("3. Flavor")
    page.get_by_role("radio", name="m1.nano").check()
    page.get_by_role("button", name="Next").click()
    now_on("4. Networks")
    expect(page.get_by_label("Interface 1")).to_have_value(f"net:{net.id}")
    page.get_by_role("button", name="Next").click()
    now_on("5. Security and key pair")
    expect(page.get_by_role("checkbox", name="default")).to_be_checked()
    page.get_by_role("button", name="Launch instance").click()

    # The new row appears at once and settles to ACTIVE by itself.
    expect(page.get_by_text("Launching journey-vm.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("journey-vm"))
    expect(row).to_contain_text("ACTIVE", timeout=SLOW)
    expect(row).to_contain_text("journey-net:")

    # Reboot from the row's menu (read when opened; the browser asks first): the row
    # refreshes itself until the instance is ACTIVE again.
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("button", name="Soft reboot").click()
    expect(page.get_by_text("Rebooting the instance.")).to_be_visible()
    expect(row).to_contain_text("ACTIVE", timeout=SLOW)
    expect(row).not_to_contain_text("rebooting", timeout=SLOW)

    # Its console log.
    page.get_by_role("link", name="journey-vm").click()
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page.get_by_label("Console log")).to_contain_text("FAKE CONSOLE OUTPUT")
    header = page.locator("#server-header")

    # Snapshot, in the dialog.
    page.get_by_role("link", name="Create snapshot").click()
    dialog = page.locator("#sd-modal")
    expect(dialog.get_by_role("heading", name="Create a snapshot of journey-vm")).to_be_visible()
    dialog.get_by_label("Snapshot name").fill("journey-snap")
    dialog.get_by_role("button", name="Create snapshot").click()
    expect(page.get_by_text("Snapshot requested.")).to_be_visible()
    assert tenant.conn.image.find_image("journey-snap") is not None
    page.get_by_role("link", name="Action Log").click()
    expect(page.get_by_role("cell", name="createImage", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="reboot", exact=True)).to_be_visible()

    # Delete, after confirming; the row leaves the list once Nova is done.
    expect(header.get_by_role("link", name="Delete instance")).to_be_visible(timeout=SLOW)
    header.get_by_role("link", name="Delete instance").click()
    dialog.get_by_role("button", name="Delete instance").click()
    expect(page.get_by_text("Deleting journey-vm.")).to_be_visible()
    expect(page).to_have_url(live_server.url + "/compute/servers/")
    expect(page.get_by_role("link", name="journey-vm")).to_have_count(0, timeout=SLOW)
