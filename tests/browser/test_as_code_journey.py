"""A person opens "Show as code" beside a form and watches the command and the Ansible task
follow what they type, on a full page (create a volume) and in a modal (create a network),
then submits the form as usual; the command shown is the one for what was made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_code_follows_the_typing(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("as-code-journey")
    page.goto(live_server.url + "/volumes/create/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_text("Show as code").click()
    command = page.get_by_label("OpenStack command line")
    tasks = page.get_by_label("Ansible tasks")
    expect(command).to_contain_text("openstack --os-cloud devcloud volume create --size 1 '<name>'")
    page.get_by_label("Volume name").fill("typed-vol")
    page.get_by_label("Size (GiB)").fill("3")
    expect(command).to_have_text("openstack --os-cloud devcloud volume create --size 3 typed-vol")
    expect(tasks).to_contain_text("openstack.cloud.volume:")
    expect(tasks).to_contain_text("name: typed-vol")
    expect(tasks).to_contain_text("size: 3")
    page.get_by_role("button", name="Create volume").click()
    expect(page.get_by_role("heading", name="Volume typed-vol")).to_be_visible()
    (volume,) = list(tenant.conn.block_storage.volumes())
    assert (volume.name, volume.size) == ("typed-vol", 3)

    # In a modal: the panel swaps its own content, never the form around it.
    page.goto(live_server.url + "/network/networks/")
    modal = page.locator("#sd-modal")
    page.get_by_role("link", name="Create network").click()
    modal.get_by_text("Show as code").click()
    modal.get_by_label("Network name").fill("typed-net")
    expect(modal.get_by_label("OpenStack command line")).to_contain_text("network create typed-net")
    expect(modal.get_by_label("Network name")).to_have_value("typed-net")
    expect(modal.get_by_role("button", name="Create network")).to_be_visible()
