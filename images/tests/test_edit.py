"""Edit, protect/unprotect, delete, bulk delete and create a volume, against the fake Glance."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import PERSONAS, sign_in
from images.forms import ImageFieldsForm
from images.gateway import image_patch
from images.tests.fakes import FakeImagesGateway
from portal.errors import Rejected

pytestmark = pytest.mark.django_db


def edit_form(**changes: str) -> dict[str, str]:
    data = {
        "name": "cirros",
        "description": "",
        "disk_format": "qcow2",
        "container_format": "bare",
        "architecture": "",
        "min_disk": "0",
        "min_ram": "0",
        "visibility": "private",
        "properties": "os_distro=cirros\nimage_type=image",
    }
    data.update(changes)
    return data


def test_edit_form_is_filled_from_the_image(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add("cirros", description="tiny", os_distro="cirros", min_disk=2, stores="fs")
    page = member_client.get(f"/images/{image.id}/edit/").content.decode()
    assert 'value="cirros"' in page and "tiny</textarea>" in page and 'value="2"' in page
    assert "os_distro=cirros" in page and "stores=" not in page  # Glance's own: not editable
    assert "Fixed once the image has data." in page  # formats of an active image


def test_edit_changes_what_changed(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add("cirros", os_distro="cirros", hw_disk_bus="ide", stores="fs")
    response = member_client.post(
        f"/images/{image.id}/edit/",
        edit_form(
            name="cirros-2",
            min_disk="5",
            min_ram="128",
            description="Now with a description",
            properties="os_distro=cirros\nhw_qemu_guest_agent=yes",
            disk_format="raw",  # disabled for an active image: ignored
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/images/{image.id}/"
    doc = fake.images[image.id]
    assert (doc["name"], doc["min_disk"], doc["min_ram"]) == ("cirros-2", 5, 128)
    assert doc["description"] == "Now with a description" and doc["hw_qemu_guest_agent"] == "yes"
    assert "hw_disk_bus" not in doc  # removed from the text, removed from the image
    assert doc["stores"] == "fs" and doc["disk_format"] == "qcow2"
    detail = member_client.get(response["Location"]).content.decode()
    assert "Image cirros-2 was updated." in detail


def test_image_patch_touches_only_what_changed() -> None:
    image = FakeImagesGateway().add("a", os_distro="x", stores="fs", os_glance_import_task="t")
    form = ImageFieldsForm(edit_form(name="a", properties="os_distro=x\nnew=1"))
    assert form.is_valid(), form.errors
    assert image_patch(image, form.spec()) == [{"op": "add", "path": "/new", "value": "1"}]


def test_edit_refusals(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add("cirros")
    public = member_client.post(f"/images/{image.id}/edit/", edit_form(visibility="public"))
    assert public.status_code == 400
    assert "Only administrators can make an image public" in public.content.decode()
    fake.failures["update_image"] = Rejected("403 Forbidden: Not allowed to modify this image", 403)
    refused = member_client.post(f"/images/{image.id}/edit/", edit_form(min_disk="3"))
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "The cloud refused the change: 403 Forbidden: Not allowed to modify this image" in html
    assert 'name="min_disk" value="3"' in html  # the form comes back filled


def test_protect_then_delete_is_refused_then_unprotect_and_delete(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    image = fake.add("keep-me")
    member_client.post(f"/images/{image.id}/protect/", {"next": "/images/"})
    assert fake.images[image.id]["protected"] is True
    response = member_client.post(f"/images/{image.id}/delete/", {"name": "keep-me"})
    assert response["Location"] == f"/images/{image.id}/"
    page = member_client.get(response["Location"]).content.decode()
    assert "Image keep-me was not deleted: 403 Forbidden: Image" in page
    assert "is protected and cannot be deleted." in page and "Unprotect" in page
    member_client.post(f"/images/{image.id}/unprotect/")
    assert fake.images[image.id]["protected"] is False
    done = member_client.post(
        f"/images/{image.id}/delete/", {"name": "keep-me", "next": "/images/"}
    )
    assert done["Location"] == "/images/" and fake.images == {}
    assert "Image keep-me was deleted." in member_client.get("/images/").content.decode()


def test_mutations_are_post_only(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add("cirros")
    for action in ("protect", "unprotect", "delete"):
        assert member_client.get(f"/images/{image.id}/{action}/").status_code == 405
    assert member_client.get("/images/delete/").status_code == 405
    assert fake.images[image.id]["protected"] is False


def test_csrf_is_required(fake: FakeImagesGateway, unit_cloud: None) -> None:
    client = sign_in(Client(enforce_csrf_checks=True), PERSONAS["member"])
    image = fake.add("cirros")
    assert client.post(f"/images/{image.id}/delete/").status_code == 403
    assert image.id in fake.images


def test_bulk_delete(member_client: Client, fake: FakeImagesGateway) -> None:
    a, b, c = fake.add("a"), fake.add("b", protected=True), fake.add("c")
    response = member_client.post(
        "/images/delete/", {"image_ids": [a.id, b.id, "not-an-id"], "next": "/images/?sort=name"}
    )
    assert response["Location"] == "/images/?sort=name"
    assert set(fake.images) == {b.id, c.id}
    page = member_client.get("/images/").content.decode()
    assert "1 of 2 images deleted." in page and "is protected and cannot be deleted." in page
    nothing = member_client.post("/images/delete/", {})
    assert (
        "Select the images to delete first."
        in member_client.get(nothing["Location"]).content.decode()
    )


def test_create_volume_from_an_image(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add("cirros", min_disk=3, virtual_size=1024**3)
    page = member_client.get(f"/images/{image.id}/create-volume/").content.decode()
    assert "At least 3 GB for this image." in page
    small = member_client.post(f"/images/{image.id}/create-volume/", {"name": "v", "size": "2"})
    assert small.status_code == 400 and "The image needs at least 3 GB." in small.content.decode()
    fake.failures["create_volume"] = Rejected("413 VolumeSizeExceedsAvailableQuota", 413)
    quota = member_client.post(f"/images/{image.id}/create-volume/", {"name": "v", "size": "4"})
    assert "The cloud refused the volume: 413 VolumeSizeExceedsAvailableQuota" in (
        quota.content.decode()
    )
    del fake.failures["create_volume"]
    made = member_client.post(f"/images/{image.id}/create-volume/", {"name": "vol-1", "size": "4"})
    assert made.status_code == 302
    assert [(v.name, v.size) for v in fake.volumes] == [("vol-1", 4)]
    detail = member_client.get(made["Location"]).content.decode()
    assert "Volume vol-1 is being created from cirros (status creating)." in detail
