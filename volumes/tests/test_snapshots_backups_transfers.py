"""Snapshots, backups (create full/incremental, restore to a new or an existing volume) and
transfers (the key shown once, accepted by another project), against the fake Cinder."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db


def test_snapshot_create_list_and_delete(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("db", 3)
    fake.attach(v.id)  # in use: the portal asks with force, as Cinder requires
    response = member_client.post(f"/volumes/{v.id}/snapshots/create/", {"name": "nightly"})
    assert response.status_code == 302 and response["Location"] == f"/volumes/{v.id}/"
    (snap,) = fake.snapshots.values()
    assert (snap.name, snap.size, snap.status) == ("nightly", 3, "creating")
    listing = member_client.get("/volumes/snapshots/")
    assert 'hx-trigger="every 2s"' in listing.content.decode()  # creating: it polls
    fake.settle()
    listing = member_client.get("/volumes/snapshots/", headers={"HX-Request": "true"})
    assert listing.status_code == 286 and "nightly" in listing.content.decode()
    assert "db" in listing.content.decode()  # the volume's name, not its id
    deleted = member_client.post(f"/volumes/snapshots/{snap.id}/delete/")
    assert deleted.status_code == 302 and not fake.snapshots


def test_snapshot_needs_a_name(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("db")
    response = member_client.post(f"/volumes/{v.id}/snapshots/create/", {"name": ""})
    assert response.status_code == 400 and not fake.snapshots


def test_a_volume_with_snapshots_cannot_be_deleted(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("db")
    member_client.post(f"/volumes/{v.id}/snapshots/create/", {"name": "keep"})
    fake.settle()
    response = member_client.post(f"/volumes/{v.id}/delete/")
    assert response.status_code == 400 and "have snapshots" in response.content.decode()
    assert v.id in fake.volumes


def test_backup_full_then_incremental(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("db", 2)
    first = member_client.post(
        f"/volumes/{v.id}/backups/create/", {"name": "b1", "incremental": "on"}
    )
    assert first.status_code == 400 and "No backups available" in first.content.decode()
    assert not fake.backups
    assert member_client.post(f"/volumes/{v.id}/backups/create/", {"name": "b1"}).status_code == 302
    fake.settle()
    incremental = member_client.post(
        f"/volumes/{v.id}/backups/create/", {"name": "b2", "incremental": "on"}
    )
    assert incremental.status_code == 302
    kinds = {b.name: b.is_incremental for b in fake.backups.values()}
    assert kinds == {"b1": False, "b2": True}
    page = member_client.get("/volumes/backups/").content.decode()
    assert "Incremental" in page and "Full" in page


def test_restore_to_a_new_volume(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("db", 2)
    member_client.post(f"/volumes/{v.id}/backups/create/", {"name": "b1"})
    fake.settle()
    (backup,) = fake.backups.values()
    response = member_client.post(
        f"/volumes/backups/{backup.id}/restore/", {"target": "new", "name": "restored"}
    )
    restored = next(x for x in fake.volumes.values() if x.name == "restored")
    assert response.status_code == 302 and response["Location"] == f"/volumes/{restored.id}/"
    assert (restored.size, restored.status) == (2, "restoring-backup")


def test_restore_onto_an_existing_volume(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("db", 2)
    target, small, busy = fake.add_volume("t", 3), fake.add_volume("s", 1), fake.add_volume("u", 4)
    fake.attach(busy.id)
    member_client.post(f"/volumes/{v.id}/backups/create/", {"name": "b1"})
    fake.settle()
    (backup,) = fake.backups.values()
    url = f"/volumes/backups/{backup.id}/restore/"
    page = member_client.get(url).content.decode()
    # Only available volumes at least as large as the backup are offered.
    assert target.id in page and small.id not in page and busy.id not in page
    for refused in (small.id, busy.id, ""):
        response = member_client.post(url, {"target": "existing", "volume": refused})
        assert response.status_code == 400
    assert fake.volumes[busy.id].status == "in-use"
    ok = member_client.post(url, {"target": "existing", "volume": target.id})
    assert ok.status_code == 302 and fake.volumes[target.id].status == "restoring-backup"


def test_restore_of_an_unfinished_backup_shows_cinders_reason(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("db", 2)
    member_client.post(f"/volumes/{v.id}/backups/create/", {"name": "b1"})
    (backup,) = fake.backups.values()  # still creating
    response = member_client.post(
        f"/volumes/backups/{backup.id}/restore/", {"target": "new", "name": "r"}
    )
    assert response.status_code == 400 and "must be available" in response.content.decode()
    assert len(fake.volumes) == 1


def test_backup_delete(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("db", 2)
    member_client.post(f"/volumes/{v.id}/backups/create/", {"name": "b1"})
    (backup,) = fake.backups.values()
    refused = member_client.post(f"/volumes/backups/{backup.id}/delete/")
    assert refused.status_code == 400 and fake.backups
    fake.settle()
    assert member_client.post(f"/volumes/backups/{backup.id}/delete/").status_code == 302
    assert not fake.backups


def test_transfer_shows_the_key_once_and_another_project_accepts(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("move-me")
    response = member_client.post(f"/volumes/{v.id}/transfers/create/", {"name": "to study1"})
    page = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    transfer_id = re.search(r'id="transfer-id">([^<]+)<', page).group(1)
    key = re.search(r'id="transfer-key">([^<]+)<', page).group(1)
    assert key == fake.transfers[transfer_id].auth_key
    listing = member_client.get("/volumes/transfers/").content.decode()
    assert transfer_id in listing and key not in listing  # never shown again
    assert fake.volumes[v.id].status == "awaiting-transfer"

    fake.project = "p-study1"  # from here on the token is another project's
    wrong = member_client.post(
        "/volumes/transfers/accept/", {"transfer_id": transfer_id, "auth_key": "0" * 16}
    )
    assert wrong.status_code == 400 and "invalid auth key" in wrong.content.decode()
    assert fake.owners[v.id] == "p-demo"
    ok = member_client.post(
        "/volumes/transfers/accept/", {"transfer_id": transfer_id, "auth_key": key}
    )
    assert ok.status_code == 302 and ok["Location"] == f"/volumes/{v.id}/"
    assert fake.owners[v.id] == "p-study1" and fake.volumes[v.id].status == "available"


@pytest.mark.parametrize(
    ("transfer_id", "auth_key"),
    [("", "abc"), ("x" * 65, "abc"), ("../../etc", "abc"), ("0c9b-11", "a b"), ("0c9b", "")],
)
def test_accept_refuses_malformed_input(
    member_client: Client, fake: FakeVolumesGateway, transfer_id: str, auth_key: str
) -> None:
    response = member_client.post(
        "/volumes/transfers/accept/", {"transfer_id": transfer_id, "auth_key": auth_key}
    )
    assert response.status_code == 400 and "accept_transfer" not in fake.calls


def test_transfer_cancel(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("stay")
    member_client.post(f"/volumes/{v.id}/transfers/create/", {"name": "t"})
    (transfer_id,) = fake.transfers
    response = member_client.post(f"/volumes/transfers/{transfer_id}/delete/")
    assert response.status_code == 302 and not fake.transfers
    assert fake.volumes[v.id].status == "available"


def test_transfer_of_an_attached_volume_is_refused(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("busy")
    fake.attach(v.id)
    response = member_client.post(f"/volumes/{v.id}/transfers/create/", {"name": "t"})
    assert response.status_code == 400 and "must be available" in response.content.decode()
    assert not fake.transfers


def test_reader_is_refused_everywhere(reader_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("ro")
    fake.read_only = True
    for url, data in (
        (f"/volumes/{v.id}/snapshots/create/", {"name": "s"}),
        (f"/volumes/{v.id}/backups/create/", {"name": "b"}),
        (f"/volumes/{v.id}/transfers/create/", {"name": "t"}),
    ):
        assert reader_client.post(url, data).status_code == 400, url
    assert not fake.snapshots and not fake.backups and not fake.transfers
    for page in ("/volumes/snapshots/", "/volumes/backups/", "/volumes/transfers/"):
        html = reader_client.get(page).content.decode()
        assert "Accept a transfer" not in html and "btn-outline-danger" not in html
