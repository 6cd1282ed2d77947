"""Project › Volumes: list, create (empty or from an image), attach, detach, delete."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from django.test import Client

from compute.gateway import ComputeGateway
from compute.tests.fakes import FakeComputeGateway
from portal.gateways import override

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_the_list_shows_attachments_and_what_each_volume_offers(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("db")
    data = fake.add_volume("data", size=5)
    boot = fake.add_volume("boot", size=1, is_bootable=True)
    member_client.post(f"/compute/servers/{server.id}/volumes/", {"volume": data.id})
    page = member_client.get("/compute/volumes/").content.decode()
    row = re.search(rf'<tr id="volume-{data.id}".*?</tr>', page, re.S)
    assert row and "in-use" in row.group(0) and ">db</a>" in row.group(0)
    assert "/dev/vdb" in row.group(0) and "Detach" in row.group(0) and "Delete" not in row.group(0)
    boot_row = re.search(rf'<tr id="volume-{boot.id}".*?</tr>', page, re.S)
    assert boot_row and f"/compute/servers/launch/?volume={boot.id}" in boot_row.group(0)
    assert "every 2s" not in page  # nothing is changing


def test_create_refuses_too_small_for_the_image_then_creates(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    small = member_client.post(
        "/compute/volumes/create/", {"name": "v", "size": "2", "image": "img-big"}
    )
    assert small.status_code == 400
    assert "The image needs a volume of at least 10 GB." in small.content.decode()
    zero = member_client.post("/compute/volumes/create/", {"name": "v", "size": "0"})
    assert "Ensure this value is greater than or equal to 1." in zero.content.decode()
    done = member_client.post(
        "/compute/volumes/create/", {"name": "v", "size": "10", "image": "img-big"}, follow=True
    )
    assert "Creating volume v." in done.content.decode()
    volume = next(iter(fake.volumes.values()))
    assert (volume.size, volume.is_bootable) == (10, True)


def test_cinder_quota_refusal_is_shown(member_client: Client, fake: FakeComputeGateway) -> None:
    fake.volume_gigabytes = 5
    response = member_client.post("/compute/volumes/create/", {"name": "big", "size": "8"})
    html = response.content.decode()
    assert response.status_code == 400 and "exceeds allowed gigabytes quota" in html
    assert "used up its quota" in html and 'value="big"' in html


def test_attach_detach_and_delete_from_the_volume(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("app")
    fake.add_server("off", vm_state="shelved_offloaded")
    volume = fake.add_volume("data", size=1)
    form = member_client.get(f"/compute/volumes/{volume.id}/attach/").content.decode()
    assert ">app<" in form and ">off<" not in form  # only instances that can take it
    response = member_client.post(
        f"/compute/volumes/{volume.id}/attach/", {"server": server.id}, headers=HTMX
    )
    assert "volumes-changed" in response.headers["HX-Trigger"]
    assert fake.volumes[volume.id].status == "in-use"
    refused = member_client.post(f"/compute/volumes/{volume.id}/delete/", follow=True)
    assert "Volume status must be available or error" in refused.content.decode()
    member_client.post(f"/compute/volumes/{volume.id}/detach/", {"server": server.id})
    assert fake.volumes[volume.id].status == "available"
    confirm = member_client.get(f"/compute/volumes/{volume.id}/delete/").content.decode()
    assert "Delete volume data" in confirm and "cannot be undone" in confirm
    member_client.post(f"/compute/volumes/{volume.id}/delete/")
    assert volume.id not in fake.volumes


def test_a_changing_volume_makes_the_table_poll(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.add_volume("new", status="creating")
    page = member_client.get("/compute/volumes/").content.decode()
    assert "volumes-changed from:body, every 2s" in page
    polled = member_client.get("/compute/volumes/", headers=HTMX)
    assert polled.status_code == 200
    fake.volumes = {k: replace(v, status="available") for k, v in fake.volumes.items()}
    assert member_client.get("/compute/volumes/", headers=HTMX).status_code == 286


def test_without_cinder_the_page_says_so(member_client: Client) -> None:
    with override(ComputeGateway, FakeComputeGateway(volumes=False)):
        page = member_client.get("/compute/volumes/").content.decode()
    assert "This cloud has no block storage service (Cinder)." in page
