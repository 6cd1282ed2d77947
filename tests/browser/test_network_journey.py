"""A person builds a small network in the browser: a network with a subnet and then a second
one; a security group with a rule from a preset; a router; a floating IP allocated and
associated with an instance; and the new router in the topology picture."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_network_journey(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("net-journey")
    page.goto(live_server.url + "/network/networks/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Networks")).to_be_visible()
    modal = page.locator("#sd-modal")

    # a network with its first subnet, in the modal
    page.get_by_role("link", name="Create network").click()
    expect(modal.get_by_text("0 of 100 used").first).to_be_visible()
    modal.get_by_label("Network name").fill("was-net")
    modal.get_by_label("Subnet name").fill("was-a")
    modal.get_by_label("Network address (CIDR)").fill("172.31.0.5/24")
    modal.get_by_role("button", name="Create network").click()
    expect(
        modal.get_by_text("has host bits set: the network address is 172.31.0.0/24")
    ).to_be_visible()
    expect(modal.get_by_label("Network name")).to_have_value("was-net")  # nothing lost
    modal.get_by_label("Network address (CIDR)").fill("172.31.0.0/24")
    modal.get_by_role("button", name="Create network").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_text("Network was-net created.")).to_be_visible()

    # ... and a second subnet on it
    page.get_by_role("link", name="was-net", exact=True).click()
    expect(page.get_by_role("heading", name="Network was-net")).to_be_visible()
    page.get_by_role("link", name="Create subnet").click()
    modal.get_by_label("Subnet name").fill("was-b")
    modal.get_by_label("Network address (CIDR)").fill("172.31.1.0/24")
    modal.get_by_role("button", name="Create subnet").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_role("cell", name="172.31.0.0/24")).to_be_visible()
    expect(page.get_by_role("cell", name="172.31.1.0/24")).to_be_visible()

    # a security group, and a rule from the HTTPS preset
    page.get_by_role("link", name="Security Groups", exact=True).click()
    page.get_by_role("link", name="Create security group").click()
    modal.get_by_label("Name").fill("2d-was")
    modal.get_by_role("button", name="Create security group").click()
    expect(modal).to_be_hidden()
    page.get_by_role("link", name="Add a rule to 2d-was").click()
    modal.get_by_role("link", name="HTTPS").click()
    expect(modal.get_by_label("Port or port range")).to_have_value("443")
    modal.get_by_role("button", name="Add rule").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_text("Rule added to 2d-was.")).to_be_visible()
    page.get_by_role("link", name="2d-was", exact=True).click()
    rule = page.get_by_role("row").filter(has_text="Ingress").filter(has_text="443")
    expect(rule).to_contain_text("0.0.0.0/0")

    # a router on public1 with an interface on was-a
    page.get_by_role("link", name="Routers", exact=True).click()
    page.get_by_role("link", name="Create router").click()
    modal.get_by_label("Router name").fill("was-router")
    modal.get_by_label("External network (gateway)").select_option(label="public1")
    modal.get_by_role("button", name="Create router").click()
    expect(modal).to_be_hidden()
    page.get_by_role("link", name="was-router", exact=True).click()
    page.get_by_role("link", name="Add interface").click()
    modal.get_by_label("Subnet").select_option(label="was-net: was-a (172.31.0.0/24)")
    modal.get_by_role("button", name="Add interface").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_role("cell", name="172.31.0.1", exact=True)).to_be_visible()

    # deleting the network now is refused, with Neutron's reason, and nothing changes
    page.get_by_role("link", name="Networks", exact=True).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete network was-net").click()
    expect(page.get_by_text("There are one or more ports still in use")).to_be_visible()
    expect(page.get_by_role("link", name="was-net", exact=True)).to_be_visible()

    # an instance there (launching is the compute app's), then a floating IP for it
    sdk = tenant.conn
    image = next(i for i in sdk.image.images(visibility="public") if i.status == "active")
    server = sdk.compute.create_server(
        name="was-1",
        flavor_id=sdk.compute.find_flavor("m1.nano").id,
        image_id=image.id,
        # On was-a, the subnet the router reaches (Neutron could pick either subnet).
        networks=[{"uuid": sdk.network.find_network("was-net").id, "fixed_ip": "172.31.0.20"}],
    )
    sdk.compute.wait_for_server(server, status="ACTIVE", wait=180)
    page.get_by_role("link", name="Floating IPs", exact=True).click()
    page.get_by_role("link", name="Allocate IP").click()
    modal.get_by_label("Pool (external network)").select_option(label="public1")
    modal.get_by_role("button", name="Allocate IP").click()
    expect(modal).to_be_hidden()
    page.get_by_role("link", name=re.compile(r"^Associate ")).click()
    target = modal.get_by_label("Instance port")
    expect(target).to_contain_text("was-1: 172.31.0.")
    target.select_option(index=0)
    modal.get_by_role("button", name="Associate").click()
    expect(modal).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="was-1")
    expect(row).to_contain_text("172.31.0.")
    expect(row.get_by_role("button", name=re.compile(r"^Disassociate "))).to_be_visible()

    # the topology shows the new router; it links to the router's page
    page.get_by_role("link", name="Network Topology", exact=True).click()
    router = page.get_by_role("link", name="Router was-router")
    expect(router).to_be_visible()
    expect(page.get_by_role("link", name="Network was-net")).to_be_visible()
    router.click()
    expect(page.get_by_role("heading", name="Router was-router")).to_be_visible()
