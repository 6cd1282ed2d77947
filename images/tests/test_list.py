"""Project › Compute › Images, Admin › Images and the detail page, against the fake Glance."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from images.tests.fakes import FakeImagesGateway

pytestmark = pytest.mark.django_db


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/images/[0-9a-f-]{36}/">([^<]+)</a>', html)


def seed(fake: FakeImagesGateway) -> None:
    fake.add("ubuntu", size=300, visibility="public", owner="p-admin")
    fake.add("mine", size=100)
    fake.add("snap-1", size=200, image_type="snapshot", status="active")
    fake.add("shared-in", size=50, visibility="shared", owner="p-study1", disk_format="raw")
    fake.add("other-private", size=10, owner="p-study1")
    fake.add("arriving", size=None, status="saving")


def test_list_shows_every_column(member_client: Client, fake: FakeImagesGateway) -> None:
    fake.add("ubuntu", size=3 * 1024**2, visibility="public", owner="p-admin", protected=True)
    fake.add("snap-1", image_type="snapshot", disk_format="raw")
    page = member_client.get("/images/").content.decode()
    row = page[page.index(">ubuntu<") :].split("</tr>")[0]
    for cell in ("p-admin", "Image", "active", "public", "Yes", "QCOW2", "3.0\xa0MB"):
        assert cell in row, cell
    snap = page[page.index(">snap-1<") :].split("</tr>")[0]
    assert "Snapshot" in snap and "This project" in snap and "RAW" in snap
    assert fake.calls == ["list_images"]  # one call for the whole page


def test_filter_and_sort(member_client: Client, fake: FakeImagesGateway) -> None:
    seed(fake)
    assert names(member_client.get("/images/?sort=-size").content.decode())[:3] == [
        "ubuntu",
        "snap-1",
        "mine",
    ]
    assert names(member_client.get("/images/?type=snapshot").content.decode()) == ["snap-1"]
    assert names(member_client.get("/images/?visibility=shared").content.decode()) == ["shared-in"]
    assert names(member_client.get("/images/?q=UBU").content.decode()) == ["ubuntu"]
    assert names(member_client.get("/images/?disk_format=raw").content.decode()) == ["shared-in"]
    empty = member_client.get("/images/?status=killed").content.decode()
    assert names(empty) == [] and "No images match." in empty


def test_rows_poll_while_an_image_is_busy(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add("arriving", status="saving")
    htmx = {"HX-Request": "true"}
    busy = member_client.get("/images/", headers=htmx)
    assert busy.status_code == 200 and 'hx-trigger="every 2s"' in busy.content.decode()
    assert "<html" not in busy.content.decode()  # the table partial only
    fake.images[image.id]["status"] = "active"
    done = member_client.get("/images/", headers=htmx)
    assert done.status_code == 286 and "every 2s" not in done.content.decode()


def test_an_admins_project_page_hides_other_projects_private_images(
    admin_client: Client, fake: FakeImagesGateway
) -> None:
    seed(fake)
    fake.add("admins-own", owner="p-admin")
    shown = names(admin_client.get("/images/").content.decode())
    assert "admins-own" in shown and "ubuntu" in shown
    assert "other-private" not in shown and "mine" not in shown


def test_admin_images_lists_all_with_owner_names(
    admin_client: Client, member_client: Client, fake: FakeImagesGateway
) -> None:
    seed(fake)
    page = admin_client.get("/images/admin/").content.decode()
    assert set(names(page)) == {i["name"] for i in fake.images.values()}
    row = page[page.index(">other-private<") :].split("</tr>")[0]
    assert "study1" in row
    assert sorted(fake.calls) == ["list_images", "list_projects"]  # side by side
    assert member_client.get("/images/admin/").status_code == 403
    assert "All images" not in member_client.get("/images/").content.decode()


def test_detail_shows_all_properties(member_client: Client, fake: FakeImagesGateway) -> None:
    image = fake.add(
        "ubuntu",
        description="Jammy",
        architecture="x86_64",
        hw_disk_bus="virtio",
        os_distro="ubuntu",
        min_disk=5,
        min_ram=512,
        checksum="abc123",
    )
    page = member_client.get(f"/images/{image.id}/").content.decode()
    for text in ("Jammy", "x86_64", "hw_disk_bus", "virtio", "os_distro", "5 GB", "512 MB"):
        assert text in page, text
    assert "abc123" in page and image.id in page
    assert f'/images/{image.id}/create-volume/"' in page  # the cloud has block storage
    missing = member_client.get("/images/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404 and "No image found" in missing.content.decode()


def test_no_volume_action_without_block_storage(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    fake.services = {"image"}
    image = fake.add("ubuntu")
    assert "create-volume" not in member_client.get(f"/images/{image.id}/").content.decode()
    assert member_client.get(f"/images/{image.id}/create-volume/").status_code == 404


def test_pages_need_a_sign_in(client: Client, fake: FakeImagesGateway) -> None:
    response = client.get("/images/")
    assert response.status_code == 302 and "/auth/sign-in/" in response["Location"]
    assert fake.calls == []


def test_changes_are_offered_on_the_projects_own_images_only(
    member_client: Client, admin_client: Client, fake: FakeImagesGateway
) -> None:
    theirs = fake.add("public-of-others", visibility="public", owner="p-admin")
    mine = fake.add("mine")
    page = member_client.get("/images/").content.decode()
    assert f"/images/{mine.id}/delete/" in page and f"/images/{mine.id}/edit/" in page
    assert f"/images/{theirs.id}/delete/" not in page and f"/images/{theirs.id}/edit/" not in page
    assert f"/images/{theirs.id}/delete/" in admin_client.get("/images/admin/").content.decode()


def test_another_projects_image_stuck_queued_does_not_keep_the_page_polling(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    """A community image someone created and never uploaded stays "queued" for ever; every
    tenant sees it, and its status must not keep their pages polling."""
    fake.add("never-uploaded", status="queued", visibility="community", owner="p-elsewhere")
    response = member_client.get("/images/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "never-uploaded" in html and response.status_code == 286 and "every 2s" not in html
