"""Volumes list, detail, create, edit, extend, retype, upload to image and delete, through the
test client against the fake Cinder."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import PERSONAS, sign_in
from volumes.gateway import Message, Snapshot
from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db


def test_list_shows_every_column_and_links_to_detail(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("db-data", 8, is_bootable=True, is_encrypted=True)
    fake.attach(v.id, "srv-1", "/dev/vdc")
    page = member_client.get("/volumes/").content.decode()
    assert f'href="/volumes/{v.id}/"' in page
    assert "db-data" in page and "8 GiB" in page and "ceph" in page and "nova" in page
    assert "web-1 on /dev/vdc" in page
    assert "hx-trigger" not in page  # nothing busy, nothing polls


def test_list_polls_while_busy_and_stops_with_286(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.add_volume("new", status="creating")
    page = member_client.get("/volumes/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert member_client.get("/volumes/", headers={"HX-Request": "true"}).status_code == 200
    fake.settle()
    settled = member_client.get("/volumes/", headers={"HX-Request": "true"})
    assert settled.status_code == 286
    assert "available" in settled.content.decode() and "<html" not in settled.content.decode()


def test_filter_by_name_and_status(member_client: Client, fake: FakeVolumesGateway) -> None:
    fake.add_volume("alpha")
    fake.add_volume("beta", status="error")
    page = member_client.get("/volumes/?name=alp").content.decode()
    assert "alpha" in page and "beta" not in page
    page = member_client.get("/volumes/?status=error").content.decode()
    assert "beta" in page and "alpha" not in page


def test_no_block_storage(member_client: Client, fake: FakeVolumesGateway) -> None:
    fake.service = False
    page = member_client.get("/volumes/").content.decode()
    assert "no block storage service" in page


def test_detail_shows_overview_attachments_snapshots_metadata_and_messages(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("db", 4, metadata=(("purpose", "mysql"),), image_name="debian")
    fake.attach(v.id)
    fake.snapshots["s1"] = Snapshot("s1", "nightly", 4, "available", v.id)
    fake.messages[v.id] = [Message("m1", "attach volume failed: the instance is gone", "ERROR")]
    page = member_client.get(f"/volumes/{v.id}/").content.decode()
    for text in ("db", "4 GiB", "purpose", "mysql", "debian", "web-1 on /dev/vdb", "nightly"):
        assert text in page, text
    assert "attach volume failed: the instance is gone" in page
    assert f"/compute/servers/launch/?volume={v.id}" not in page  # not bootable: no launch link


def test_a_bootable_volume_offers_to_launch_from_it(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("boot", is_bootable=True)
    page = member_client.get(f"/volumes/{v.id}/").content.decode()
    assert f'href="/compute/servers/launch/?volume={v.id}"' in page
    assert fake.calls.count("list_messages") == 1


def test_detail_of_another_projects_volume_is_404(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.project = "p-study1"
    theirs = fake.add_volume("theirs")
    fake.project = "p-demo"
    assert member_client.get(f"/volumes/{theirs.id}/").status_code == 404


def test_create_blank_with_type_and_zone(member_client: Client, fake: FakeVolumesGateway) -> None:
    page = member_client.get("/volumes/create/").content.decode()
    assert "Volumes: 0 of 10" in page and "Gigabytes: 0 of 100 GiB" in page
    response = member_client.post(
        "/volumes/create/",
        {
            "name": "scratch",
            "size": "3",
            "source_type": "blank",
            "volume_type": "fast",
            "availability_zone": "nova",
        },
    )
    (made,) = fake.volumes.values()
    assert response.status_code == 302 and response["Location"] == f"/volumes/{made.id}/"
    assert (made.name, made.size, made.volume_type, made.status) == (
        "scratch",
        3,
        "fast",
        "creating",
    )


def test_create_from_image_needs_its_size(member_client: Client, fake: FakeVolumesGateway) -> None:
    image = fake.add_image("debian", min_disk=5)
    data = {"name": "boot", "size": "2", "source_type": "image", "image": image}
    small = member_client.post("/volumes/create/", data)
    assert small.status_code == 400 and not fake.volumes
    assert "at least 5 GiB" in small.content.decode()
    assert member_client.post("/volumes/create/", {**data, "size": "5"}).status_code == 302
    (made,) = fake.volumes.values()
    assert made.is_bootable and made.image_name == "debian"


def test_create_from_snapshot_and_from_volume(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    source = fake.add_volume("src", 4)
    fake.snapshots["s1"] = Snapshot("s1", "", 4, "available", source.id)
    page = member_client.get("/volumes/create/?snapshot=s1").content.decode()
    assert 'value="s1" selected' in page
    refused = member_client.post(
        "/volumes/create/", {"name": "c", "size": "3", "source_type": "snapshot", "snapshot": "s1"}
    )
    assert refused.status_code == 400 and len(fake.volumes) == 1
    ok = member_client.post(
        "/volumes/create/", {"name": "c", "size": "4", "source_type": "snapshot", "snapshot": "s1"}
    )
    assert ok.status_code == 302
    clone = member_client.post(
        "/volumes/create/",
        {"name": "d", "size": "6", "source_type": "volume", "source_volume": source.id},
    )
    assert clone.status_code == 302
    made = {v.name: v for v in fake.volumes.values()}
    assert made["c"].snapshot_id == "s1" and made["d"].source_volume_id == source.id


def test_create_without_choosing_the_source_is_refused(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    response = member_client.post(
        "/volumes/create/", {"name": "x", "size": "1", "source_type": "image", "image": ""}
    )
    assert response.status_code == 400 and "Choose the source." in response.content.decode()
    assert not fake.volumes


@pytest.mark.parametrize("size", ["0", "-1", str(2**31), "1e3", ""])
def test_create_refuses_sizes_out_of_bounds(
    member_client: Client, fake: FakeVolumesGateway, size: str
) -> None:
    response = member_client.post(
        "/volumes/create/", {"name": "x", "size": size, "source_type": "blank"}
    )
    assert response.status_code == 400 and not fake.volumes


def test_create_refuses_emoji_names(member_client: Client, fake: FakeVolumesGateway) -> None:
    response = member_client.post(
        "/volumes/create/", {"name": "db \U0001f600", "size": "1", "source_type": "blank"}
    )
    assert response.status_code == 400 and "U+1F600" in response.content.decode()
    assert not fake.volumes


def test_quota_exceeded_is_shown_in_cinders_words(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.quota_gigabytes = 5
    response = member_client.post(
        "/volumes/create/", {"name": "big", "size": "6", "source_type": "blank"}
    )
    assert response.status_code == 400
    assert "exceeds allowed gigabytes quota" in response.content.decode()
    assert not fake.volumes


def test_update_name_and_description(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("old")
    response = member_client.post(
        f"/volumes/{v.id}/edit/", {"name": "new", "description": "for logs"}
    )
    assert response.status_code == 302
    assert (fake.volumes[v.id].name, fake.volumes[v.id].description) == ("new", "for logs")


@pytest.mark.parametrize("status", ["available", "in-use"])
def test_extend_grows_available_and_in_use(
    member_client: Client, fake: FakeVolumesGateway, status: str
) -> None:
    v = fake.add_volume("grow", 2)
    if status == "in-use":
        fake.attach(v.id)
    assert member_client.post(f"/volumes/{v.id}/extend/", {"size": "5"}).status_code == 302
    fake.settle()
    assert (fake.volumes[v.id].size, fake.volumes[v.id].status) == (5, status)


def test_extend_refuses_the_same_or_a_smaller_size(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("grow", 4)
    for size in ("4", "3"):
        response = member_client.post(f"/volumes/{v.id}/extend/", {"size": size})
        assert response.status_code == 400
        assert "more than 4 GiB" in response.content.decode()
    assert fake.volumes[v.id].size == 4


def test_extend_shows_cinders_refusal(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("grow", 4)
    fake.quota_gigabytes = 5
    response = member_client.post(f"/volumes/{v.id}/extend/", {"size": "9"})
    assert response.status_code == 400 and "gigabytes quota" in response.content.decode()
    assert fake.volumes[v.id].size == 4


def test_retype(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("r")
    same = member_client.post(
        f"/volumes/{v.id}/retype/", {"volume_type": "ceph", "migration_policy": "never"}
    )
    assert same.status_code == 400 and "already has this type" in same.content.decode()
    never = member_client.post(
        f"/volumes/{v.id}/retype/", {"volume_type": "fast", "migration_policy": "never"}
    )
    assert never.status_code == 400 and "not allowed" in never.content.decode()
    assert fake.volumes[v.id].volume_type == "ceph"
    moved = member_client.post(
        f"/volumes/{v.id}/retype/", {"volume_type": "fast", "migration_policy": "on-demand"}
    )
    assert moved.status_code == 302 and fake.volumes[v.id].volume_type == "fast"


def test_upload_to_image(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("golden")
    fake.attach(v.id)  # an in-use volume is copied with force
    response = member_client.post(
        f"/volumes/{v.id}/upload/", {"image_name": "golden-img", "disk_format": "qcow2"}
    )
    assert response.status_code == 302
    assert list(fake.uploaded.values()) == [v.id]
    bad = member_client.post(f"/volumes/{v.id}/upload/", {"image_name": "x", "disk_format": "exe"})
    assert bad.status_code == 400 and len(fake.uploaded) == 1


def test_delete_refused_with_cinders_reason(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    attached = fake.add_volume("attached")
    fake.attach(attached.id)
    response = member_client.post(f"/volumes/{attached.id}/delete/")
    assert response.status_code == 400
    assert "must not be migrating, attached" in response.content.decode()
    assert attached.id in fake.volumes


def test_delete(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("gone")
    assert "Delete volume gone?" in member_client.get(f"/volumes/{v.id}/delete/").content.decode()
    response = member_client.post(f"/volumes/{v.id}/delete/")
    assert response.status_code == 302 and response["Location"] == "/volumes/"
    assert v.id not in fake.volumes


def test_bulk_delete_reports_each_refusal(member_client: Client, fake: FakeVolumesGateway) -> None:
    a, b = fake.add_volume("a"), fake.add_volume("b")
    fake.attach(b.id)
    response = member_client.post(
        "/volumes/delete/", {"volume_ids": [a.id, b.id, "../evil"]}, follow=True
    )
    page = response.content.decode()
    assert "Deleting 1 of 2 volumes." in page and "attached" in page
    assert a.id not in fake.volumes and b.id in fake.volumes
    assert member_client.get("/volumes/delete/").status_code == 405


def test_reader_sees_no_action_buttons_and_is_refused(
    reader_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("ro")
    fake.read_only = True  # a reader's token: Cinder's policy refuses every change
    listing = reader_client.get("/volumes/").content.decode()
    assert "ro" in listing and "Create volume" not in listing and "volume_ids" not in listing
    detail = reader_client.get(f"/volumes/{v.id}/").content.decode()
    assert "Extend" not in detail and "Delete" not in detail
    response = reader_client.post(f"/volumes/{v.id}/extend/", {"size": "9"})
    assert response.status_code == 400 and "Policy doesn" in response.content.decode()
    assert reader_client.post(f"/volumes/{v.id}/delete/").status_code == 400
    assert fake.volumes[v.id].size == 1


def test_outsider_cannot_see_or_change_the_projects_volume(
    client: Client, fake: FakeVolumesGateway, unit_cloud: object
) -> None:
    v = fake.add_volume("mine")
    fake.project = "p-study1"  # the outsider's token is scoped to study1
    outsider = sign_in(client, PERSONAS["outsider"])
    assert "mine" not in outsider.get("/volumes/").content.decode()
    assert outsider.get(f"/volumes/{v.id}/").status_code == 404
    assert outsider.post(f"/volumes/{v.id}/delete/").status_code == 404
    assert v.id in fake.volumes


def test_anonymous_is_sent_to_sign_in(client: Client, fake: FakeVolumesGateway, db: None) -> None:
    response = client.get("/volumes/")
    assert response.status_code == 302 and "/auth/sign-in/" in response["Location"]


def test_calls_per_page(member_client: Client, fake: FakeVolumesGateway) -> None:
    """No per-row calls: the list makes two calls whatever the number of volumes."""
    for i in range(20):
        v = fake.add_volume(f"v{i}")
        fake.attach(v.id)
    fake.calls.clear()
    member_client.get("/volumes/")
    assert sorted(fake.calls) == ["list_server_names", "list_volumes"]


def test_attach_and_detach_from_the_volume(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("data")
    form = member_client.get(f"/volumes/{v.id}/attach/").content.decode()
    assert ">web-1<" in form
    bogus = member_client.post(f"/volumes/{v.id}/attach/", {"server": "srv-other"})
    assert bogus.status_code == 400 and fake.volumes[v.id].status == "available"
    assert member_client.post(f"/volumes/{v.id}/attach/", {"server": "srv-1"}).status_code == 302
    assert fake.volumes[v.id].status == "in-use"
    detail = member_client.get(f"/volumes/{v.id}/").content.decode()
    assert "web-1 on /dev/vdb" in detail and "Detach" in detail
    again = member_client.post(f"/volumes/{v.id}/attach/", {"server": "srv-1"})
    assert again.status_code == 400 and "must be available" in again.content.decode()
    assert member_client.post(f"/volumes/{v.id}/detach/", {"server": "srv-1"}).status_code == 302
    assert fake.volumes[v.id].status == "available" and not fake.volumes[v.id].attachments


def test_calls_per_detail_and_create_page(member_client: Client, fake: FakeVolumesGateway) -> None:
    """Detail: four calls at once; the create form: six (its choices and the quota)."""
    v = fake.add_volume("d")
    fake.calls.clear()
    member_client.get(f"/volumes/{v.id}/")
    assert sorted(fake.calls) == [
        "get_volume",
        "list_messages",
        "list_server_names",
        "list_snapshots",
    ]
    fake.calls.clear()
    member_client.get("/volumes/create/")
    assert len(fake.calls) == 6 and len(set(fake.calls)) == 6


def test_the_list_shows_a_page_and_links_keep_the_filter(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.quota_volumes = 100
    for n in range(25):
        fake.add_volume(f"data-{n:02d}")
    fake.add_volume("other")
    fake.calls.clear()
    page = member_client.get("/volumes/?name=data").content.decode()
    assert page.count('<tr id="volume-') == 20 and "Page 1 of 2 (25 in all)" in page
    assert 'href="?name=data&amp;page=2"' in page
    assert sorted(fake.calls) == ["list_server_names", "list_volumes"]  # whatever the count
    second = member_client.get("/volumes/?name=data&page=2").content.decode()
    assert second.count('<tr id="volume-') == 5 and "data-24" in second and "other" not in second
