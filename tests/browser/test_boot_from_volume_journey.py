"""A person launches an instance from the wizard onto a new volume made from the cloud's image
(its size chosen, the volume deleted with the instance), on the real Ceph-backed Cinder.
openstacksdk then sees a volume-backed server: no image of its own, its one attached volume
is the root device, made from the image. Deleted through the portal, the instance takes its
volume with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openstack.exceptions import NotFoundException
from playwright.sync_api import Page, expect

from tests.cloud.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SLOW = 180_000  # ms: Cinder writes the image to the volume before Nova boots it
STEP = 30_000  # ms: each wizard step reads the project's choices again


def volume_gone(conn: Any, volume_id: str) -> bool:
    """By id (this Cinder refuses find_volume's name filter)."""
    try:
        conn.block_storage.get_volume(volume_id)
    except NotFoundException:
        return True
    return False


def test_launch_onto_a_new_volume_deleted_with_the_instance(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("bfv-journey")
    conn = tenant.conn
    net = conn.network.create_network(name="bfv-net")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.66.0.0/24")
    image = conn.image.find_image("tiny-qcow2", ignore_missing=False)
    page.on("dialog", lambda dialog: dialog.accept())
    server_id, volume_ids = "", []
    try:
        page.goto(live_server.url + "/compute/servers/")
        page.get_by_label("User name", exact=True).fill(tenant.username)
        page.get_by_label("Password", exact=True).fill(tenant.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Instances")).to_be_visible()

        def now_on(step: str) -> None:
            expect(page.get_by_role("button", name=step)).to_have_attribute(
                "aria-current", "step", timeout=STEP
            )

        page.get_by_role("link", name="Launch instance").click()
        now_on("1. Details")
        page.get_by_label("Instance name").fill("bfv-vm")
        page.get_by_role("button", name="Next").click()
        now_on("2. Source")
        # "Image (new volume)": the image source, onto a new volume of a chosen size.
        page.get_by_role("radio", name="Image", exact=True).check()
        page.get_by_role("combobox", name="Image").select_option(label="tiny-qcow2")
        page.get_by_role("checkbox", name="Create a new volume").check()
        page.get_by_label("Volume size (GB)").fill("2")
        page.get_by_role("checkbox", name="Delete the volume when the instance is deleted").check()
        page.get_by_role("button", name="Next").click()
        now_on("3. Flavor")
        page.get_by_role("radio", name="m1.nano").check()
        page.get_by_role("button", name="Next").click()
        now_on("4. Networks")
        expect(page.get_by_label("Interface 1")).to_have_value(f"net:{net.id}")
        page.get_by_role("button", name="Next").click()
        now_on("5. Security and key pair")
        page.get_by_role("button", name="Launch instance").click()

        expect(page.get_by_text("Launching bfv-vm.")).to_be_visible()
        (server,) = list(conn.compute.servers(name="bfv-vm"))
        server_id = server.id
        row = page.get_by_role("row", name=re.compile("bfv-vm"))
        expect(row).to_contain_text("ACTIVE", timeout=SLOW)

        # Volume-backed, as Nova and Cinder see it.
        server = sdk_admin.compute.get_server(server_id)
        assert server.status == "ACTIVE"
        assert not (server.image and server.image.id), server.image
        attachments = list(sdk_admin.compute.volume_attachments(server_id))
        volume_ids = [a.volume_id for a in attachments]
        assert len(attachments) == 1, volume_ids
        assert attachments[0].device == server.root_device_name, (
            attachments[0].device,
            server.root_device_name,
        )
        volume = conn.block_storage.get_volume(volume_ids[0])
        assert (volume.size, volume.status, volume.is_bootable) == (2, "in-use", True)
        assert volume.volume_image_metadata["image_id"] == image.id
        assert [v["id"] for v in server.attached_volumes] == volume_ids

        # Deleted through the portal; Nova deletes the volume too (delete on terminate).
        page.get_by_role("link", name="bfv-vm").click()
        header = page.locator("#server-header")
        expect(header.get_by_role("link", name="Delete instance")).to_be_visible(timeout=SLOW)
        header.get_by_role("link", name="Delete instance").click()
        page.locator("#sd-modal").get_by_role("button", name="Delete instance").click()
        expect(page.get_by_text("Deleting bfv-vm.")).to_be_visible()
        expect(page.get_by_role("link", name="bfv-vm")).to_have_count(0, timeout=SLOW)
        wait_for(
            lambda: conn.compute.find_server(server_id) is None, 120, "the instance to go away"
        )
        wait_for(
            lambda: volume_gone(conn, volume_ids[0]),
            120,
            "its volume to be deleted with it",
        )
    finally:
        if server_id and conn.compute.find_server(server_id) is not None:
            conn.compute.delete_server(server_id, force=True)
            conn.compute.wait_for_delete(conn.compute.get_server(server_id), wait=120)
        for volume_id in volume_ids:
            if not volume_gone(conn, volume_id):
                conn.block_storage.delete_volume(volume_id, force=True)
