"""A person makes a volume from the cloud's image, watches it become available on its page,
extends it (a smaller size refused at the field) and snapshots it, on the real Ceph-backed
Cinder; the page's status follows Cinder by itself (htmx polling), no reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_detail_extend_snapshot(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("vol-journey")
    bs = tenant.conn.block_storage
    page.goto(live_server.url + "/volumes/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Volumes")).to_be_visible()
    expect(page.get_by_text("No volumes match.")).to_be_visible()

    page.get_by_role("link", name="Create volume").click()
    page.get_by_label("Volume name").fill("journey-vol")
    page.get_by_label("Source").select_option(label="Image")
    page.get_by_label("Image", exact=True).select_option(label="tiny-qcow2 (1 GiB)")
    page.get_by_label("Size (GiB)").fill("1")
    page.get_by_role("button", name="Create volume").click()

    expect(page.get_by_role("heading", name="Volume journey-vol")).to_be_visible()
    overview = page.locator("#volume-live")
    expect(overview.get_by_text("available", exact=True).first).to_be_visible(timeout=60_000)
    expect(overview.get_by_text("tiny-qcow2")).to_be_visible()

    page.get_by_role("link", name="Extend").click()
    page.get_by_label("New size (GiB)").fill("1")
    page.get_by_role("button", name="Extend volume").click()
    expect(page.get_by_text("The new size must be more than 1 GiB.")).to_be_visible()
    page.get_by_label("New size (GiB)").fill("2")
    page.get_by_role("button", name="Extend volume").click()
    expect(page.get_by_text("Extending the volume to 2 GiB.")).to_be_visible()
    expect(overview.get_by_text("2 GiB", exact=True)).to_be_visible(timeout=60_000)
    expect(overview.get_by_text("available", exact=True).first).to_be_visible(timeout=60_000)

    page.get_by_role("link", name="Create snapshot").click()
    page.get_by_label("Snapshot name").fill("journey-snap")
    page.get_by_role("button", name="Create snapshot").click()
    row = page.get_by_role("row").filter(has_text="journey-snap")
    expect(row.get_by_text("available", exact=True)).to_be_visible(timeout=60_000)

    (volume,) = list(bs.volumes())
    assert (volume.name, volume.size, volume.status) == ("journey-vol", 2, "available")
    (snapshot,) = list(bs.snapshots())
    assert (snapshot.name, snapshot.volume_id, snapshot.status) == (
        "journey-snap",
        volume.id,
        "available",
    )

    # The snapshot goes first (make_tenant's cleanup deletes volumes, not their snapshots).
    row.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete snapshot").click()
    expect(page.get_by_text("Deleting snapshot journey-snap.")).to_be_visible()
    deadline = 60
    while list(bs.snapshots()) and deadline:
        page.wait_for_timeout(1000)
        deadline -= 1
    assert not list(bs.snapshots())
