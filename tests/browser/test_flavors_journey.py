"""An administrator creates a private flavor in Admin › Flavors (in the modal), sets an extra
spec with the suggested key, gives their project access and deletes the flavor after reading
what Nova does to instances that use it; then downloads a clouds.yaml from Project › API
Access. The flavor is deleted in `finally` too (the cloud is shared)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_private_flavor_then_download_clouds_yaml(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("fl-journey", roles=("admin", "member", "reader"))
    name = "fl-" + os.urandom(4).hex()
    page.goto(live_server.url + "/compute/admin/flavors/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Flavors")).to_be_visible()
    try:
        page.get_by_role("link", name="Create flavor").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("heading", name="Create a flavor")).to_be_visible()
        dialog.get_by_label("Name").fill(name)
        dialog.get_by_label("vCPUs").fill("1")
        dialog.get_by_label("RAM (MiB)").fill("-64")
        dialog.get_by_label("Root disk (GiB)").fill("0")
        dialog.get_by_label("Public").uncheck()
        dialog.get_by_role("button", name="Create flavor").click()
        # the browser itself refuses a negative size (min="1"): nothing is sent
        assert dialog.get_by_label("RAM (MiB)").evaluate("e => e.validity.rangeUnderflow")
        assert sdk_admin.compute.find_flavor(name) is None
        dialog.get_by_label("RAM (MiB)").fill("64")
        dialog.get_by_role("button", name="Create flavor").click()
        expect(page.get_by_role("heading", name=f"Flavor {name}")).to_be_visible()
        expect(page.get_by_text(f"Flavor {name} created.")).to_be_visible()

        spec = page.locator("form", has=page.get_by_role("button", name="Set"))
        spec.get_by_label("Key").fill("hw:cpu_policy")
        spec.get_by_label("Value").fill("shared")
        spec.get_by_role("button", name="Set").click()
        expect(page.get_by_role("row", name=re.compile("hw:cpu_policy shared"))).to_be_visible()

        access = page.locator("form", has=page.get_by_role("button", name="Give access"))
        access.get_by_label("Project").select_option(label=f"{tenant.name} ({tenant.project.id})")
        access.get_by_role("button", name="Give access").click()
        expect(
            page.get_by_text(f"Project {tenant.project.id} may use this flavor.")
        ).to_be_visible()
        flavor = sdk_admin.compute.find_flavor(name, ignore_missing=False)
        given = [a["tenant_id"] for a in sdk_admin.compute.get_flavor_access(flavor.id)]
        assert given == [tenant.project.id]

        page.get_by_role("link", name="Delete flavor").click()
        dialog = page.get_by_role("dialog")
        expect(
            dialog.get_by_text("Nova deletes a flavor even while instances use it.")
        ).to_be_visible()
        dialog.get_by_role("button", name="Delete flavor").click()
        expect(page.get_by_text(f"Flavor {name} deleted.")).to_be_visible()
        expect(page.get_by_role("heading", name="Flavors")).to_be_visible()
        assert sdk_admin.compute.find_flavor(name) is None
    finally:
        left = sdk_admin.compute.find_flavor(name)
        if left is not None:
            sdk_admin.compute.delete_flavor(left.id)

    page.get_by_role("link", name="API Access").click()
    expect(page.get_by_role("heading", name="API Access")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^compute nova public"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download clouds.yaml").click()
    assert download.value.suggested_filename == "clouds.yaml"
    entry = next(iter(yaml.safe_load(Path(download.value.path()).read_text())["clouds"].values()))
    assert entry["auth"]["username"] == tenant.username
    assert entry["auth"]["project_id"] == tenant.project.id
    assert "password" not in entry["auth"]
