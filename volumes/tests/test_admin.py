"""Admin › Volume through the test client against the fake Cinder: every project's volumes,
reset status, volume types (extra specs, private access, default type), QoS specs, storage
pools and Cinder's services; bad input is refused with a clear message and changes nothing."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from portal.errors import CloudUnavailable
from portal.models import AuditRecord
from volumes.gateway import QosSpec, VolumeType
from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db

ADMIN_PAGES = (
    "/volumes/admin/volumes/",
    "/volumes/admin/types/",
    "/volumes/admin/types/create/",
    "/volumes/admin/types/t-ceph/",
    "/volumes/admin/qos/",
    "/volumes/admin/qos/create/",
    "/volumes/admin/pools/",
    "/volumes/admin/services/",
)


def text(response: Any) -> str:
    return str(html.unescape(response.content.decode()))


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_answer_admins_and_refuse_everyone_else(
    url: str,
    admin_client: Client,
    member_client: Client,
    reader_client: Client,
    fake: FakeVolumesGateway,
) -> None:
    assert admin_client.get(url).status_code == 200
    assert member_client.get(url).status_code == 403
    assert reader_client.get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to sign in


def test_a_member_cannot_reset_a_status_or_delete_a_type(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("stuck", status="attaching")
    answer = member_client.post(f"/volumes/admin/volumes/{v.id}/reset-status/", {"status": "error"})
    assert answer.status_code == 403
    assert member_client.post("/volumes/admin/types/t-fast/delete/").status_code == 403
    assert fake.volumes[v.id].status == "attaching"
    assert "fast" in {t.name for t in fake.types}


def test_all_volumes_of_all_projects_with_project_and_host_in_two_calls(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    mine = fake.add_volume("demo-data", 3, host="devcloud@ceph#ceph")
    fake.project = "p-study1"
    theirs = fake.add_volume("study-data", 5, status="error", host="other@lvm#lvm")
    for n in range(30):
        fake.add_volume(f"zz-bulk-{n}", host="devcloud@ceph#ceph")
    fake.calls.clear()
    page = text(admin_client.get("/volumes/admin/volumes/"))
    assert sorted(fake.calls) == ["list_all_volumes", "list_project_names"]  # no per-row call
    assert page.count('<tr id="volume-') == 20  # a page of them (the default page size)
    assert "32 volumes of 32 match, 38 GiB." in page and "Page 1 of 2 (32 in all)" in page
    for expected in ("demo-data", "study-data", "demo", "study1", "devcloud@ceph#ceph"):
        assert expected in page, expected
    assert "other@lvm#lvm" in page and "5 GiB" in page and "ceph" in page
    assert f"/volumes/admin/volumes/{mine.id}/reset-status/" in page
    by_project = text(admin_client.get("/volumes/admin/volumes/?project=p-study1"))
    assert "study-data" in by_project and "demo-data" not in by_project
    by_host = text(admin_client.get("/volumes/admin/volumes/?host=other@lvm%23lvm"))
    assert "study-data" in by_host and "zz-bulk-1" not in by_host
    second = text(admin_client.get("/volumes/admin/volumes/?host=devcloud@ceph%23ceph&page=2"))
    assert second.count('<tr id="volume-') == 11 and "Page 2 of 2 (31 in all)" in second
    assert (
        "?host=devcloud%40ceph%23ceph&amp;page=1"
        in admin_client.get(
            "/volumes/admin/volumes/?host=devcloud@ceph%23ceph&page=2"
        ).content.decode()
    )  # the link back keeps the filter
    by_status = text(admin_client.get("/volumes/admin/volumes/?status=error"))
    assert theirs.name in by_status and "demo-data" not in by_status


def test_without_keystone_projects_are_shown_by_id(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.add_volume("data")
    fake.failures["list_project_names"] = CloudUnavailable("keystone: 503")
    page = text(admin_client.get("/volumes/admin/volumes/"))
    assert "p-demo" in page and "projects are shown by their ID" in page


def test_a_cinder_outage_is_a_banner_on_the_lists_and_a_clear_page_elsewhere(
    admin_client: Client, member_client: Client, fake: FakeVolumesGateway
) -> None:
    down = CloudUnavailable("block-storage: 503 Service Unavailable")
    for call in (
        "list_volumes",
        "list_snapshots",
        "list_backups",
        "list_transfers",
        "list_all_volumes",
        "list_all_volume_types",
        "list_storage_pools",
        "get_volume",
    ):
        fake.failures[call] = down
    lists = ["/volumes/", "/volumes/snapshots/", "/volumes/backups/", "/volumes/transfers/"]
    for client, url in [(member_client, u) for u in lists] + [
        (admin_client, "/volumes/admin/volumes/")
    ]:
        answer = client.get(url)
        page = text(answer)
        assert answer.status_code == 503, url
        assert "block storage (Cinder) could not be reached" in page, url
        assert "503 Service Unavailable" in page and 'class="nav nav-tabs' in page, url
        assert "Create volume" not in page, url  # nothing offered that would fail
    polled = member_client.get("/volumes/", headers={"HX-Request": "true"})
    assert polled.status_code == 503  # the error middleware's htmx answer, not a 500
    for client, url in (
        (admin_client, "/volumes/admin/types/"),
        (admin_client, "/volumes/admin/pools/"),
        (member_client, f"/volumes/{'0' * 8}-0000-0000-0000-{'0' * 12}/"),
    ):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert "The cloud is not answering" in text(answer), url


def test_reset_a_stuck_volume_with_a_confirmation_and_an_audit_record(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("stuck", status="detaching")
    url = f"/volumes/admin/volumes/{v.id}/reset-status/"
    form = text(admin_client.get(url))
    assert "Now: detaching" in form and "Only Cinder's record changes" in form
    answer = admin_client.post(url, {"status": "available", "attach_status": "detached"})
    assert answer.status_code == 302
    assert fake.volumes[v.id].status == "available"
    record = AuditRecord.objects.get(action="reset_volume_status")
    assert record.target_id == v.id and record.result == "accepted"
    assert "The status of stuck is now available." in text(admin_client.get(answer["Location"]))


def test_reset_to_an_invalid_status_changes_nothing(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("stuck", status="attaching")
    url = f"/volumes/admin/volumes/{v.id}/reset-status/"
    for data in ({"status": "bogus"}, {"status": "available", "attach_status": "half"}, {}):
        answer = admin_client.post(url, data)
        assert answer.status_code == 400, data
        assert "Select a valid choice" in text(answer) or "This field is required" in text(answer)
    assert fake.volumes[v.id].status == "attaching"
    assert "reset_volume_status" not in fake.calls
    refused = admin_client.post(url, {"status": "in-use"})  # Cinder's own refusal
    assert refused.status_code == 400
    assert "volume does not have any attachments" in text(refused)
    assert fake.volumes[v.id].status == "attaching"


# --- volume types ------------------------------------------------------------------------------


def test_types_list_shows_default_private_extra_specs_and_qos(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.qos["q1"] = QosSpec("q1", "gold", "back-end", (("total_iops_sec", "500"),))
    fake.types.append(VolumeType("t-priv", "secret", is_public=False, qos_specs_id="q1"))
    fake.calls.clear()
    page = text(admin_client.get("/volumes/admin/types/"))
    assert len(fake.calls) == 3
    assert "volume_backend_name=ceph" in page and "No (private)" in page and "gold" in page
    row = page.split('id="type-t-ceph"')[1].split("</tr>")[0]
    assert "Default" in row


def test_create_a_private_type_with_extra_specs_and_give_a_project_access(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    answer = admin_client.post(
        "/volumes/admin/types/create/",
        {"name": "gold", "description": "SSD", "extra_specs": "volume_backend_name=ceph\n\n"},
    )
    assert answer.status_code == 302
    made = next(t for t in fake.types if t.name == "gold")
    assert answer["Location"] == f"/volumes/admin/types/{made.id}/"
    assert not made.is_public and made.extra_specs == (("volume_backend_name", "ceph"),)
    page = text(admin_client.get(answer["Location"]))
    assert "No project may use this private type yet." in page and "study1" in page
    url = f"/volumes/admin/types/{made.id}/access/"
    assert admin_client.post(url + "add/", {"project": "p-study1"}).status_code == 302
    assert fake.type_access[made.id] == ["p-study1"]
    again = admin_client.post(url + "add/", {"project": "p-study1"}, follow=True)
    assert "already exists" in text(again) and fake.type_access[made.id] == ["p-study1"]
    admin_client.post(url + "remove/", {"project": "p-study1"})
    assert fake.type_access[made.id] == []


def test_a_duplicate_type_name_is_refused_in_cinders_words(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    before = list(fake.types)
    answer = admin_client.post("/volumes/admin/types/create/", {"name": "ceph", "is_public": "on"})
    assert answer.status_code == 400
    assert "Volume Type ceph already exists." in text(answer)
    assert fake.types == before


def test_malformed_extra_specs_create_nothing(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    before = list(fake.types)
    for specs in ("no-equals-sign", "bad key=1", "volume_backend_name=", "a=1\na=2"):
        answer = admin_client.post(
            "/volumes/admin/types/create/", {"name": "new", "extra_specs": specs}
        )
        assert answer.status_code == 400, specs
        assert "key=value" in text(answer) or "given twice" in text(answer), specs
    assert fake.types == before and "create_volume_type" not in fake.calls


def test_set_and_remove_an_extra_spec_and_refuse_a_malformed_key(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    url = "/volumes/admin/types/t-fast/extra-specs/"
    assert (
        admin_client.post(url, {"key": "capabilities:thin", "value": "<is> True"}).status_code
        == 302
    )
    assert dict(fake._type("t-fast").extra_specs) == {"capabilities:thin": "<is> True"}
    page = text(admin_client.post(url, {"key": "bad key!", "value": "1"}, follow=True))
    assert "A key is letters, digits" in page
    assert dict(fake._type("t-fast").extra_specs) == {"capabilities:thin": "<is> True"}
    admin_client.post(url + "delete/", {"key": "capabilities:thin"})
    assert fake._type("t-fast").extra_specs == ()


def test_deleting_a_type_in_use_or_the_default_is_refused_clearly(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    fake.add_volume("data", volume_type="fast")
    answer = admin_client.post("/volumes/admin/types/t-fast/delete/")
    assert answer.status_code == 400
    assert "Target volume type is still in use." in text(answer)
    answer = admin_client.post("/volumes/admin/types/t-ceph/delete/")
    assert "is a default volume type and cannot be deleted." in text(answer)
    assert {t.name for t in fake.types} == {"ceph", "fast"}
    fake.volumes.clear()
    assert admin_client.post("/volumes/admin/types/t-fast/delete/").status_code == 302
    assert {t.name for t in fake.types} == {"ceph"}


# --- QoS specs ---------------------------------------------------------------------------------


def test_create_associate_disassociate_and_delete_a_qos_spec(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    answer = admin_client.post(
        "/volumes/admin/qos/create/",
        {"name": "gold", "consumer": "front-end", "specs": "total_iops_sec=500"},
    )
    assert answer.status_code == 302
    spec = next(iter(fake.qos.values()))
    assert (spec.consumer, spec.specs) == ("front-end", (("total_iops_sec", "500"),))
    base = f"/volumes/admin/qos/{spec.id}/"
    admin_client.post(base + "associate/", {"volume_type": "t-fast"})
    assert fake._type("t-fast").qos_specs_id == spec.id
    page = text(admin_client.get("/volumes/admin/qos/"))
    assert "total_iops_sec=500" in page and "Disassociate" in page
    refused = text(admin_client.post(base + "delete/"))
    assert "Qos specs still in use." in refused and spec.id in fake.qos
    admin_client.post(base + "disassociate/", {"volume_type": "t-fast"})
    assert fake._type("t-fast").qos_specs_id == ""
    assert admin_client.post(base + "delete/").status_code == 302
    assert not fake.qos


def test_a_malformed_qos_key_or_an_unknown_type_changes_nothing(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    answer = admin_client.post(
        "/volumes/admin/qos/create/",
        {"name": "gold", "consumer": "back-end", "specs": "total iops=500"},
    )
    assert answer.status_code == 400 and "is not key=value" in text(answer)
    assert not fake.qos
    fake.qos["q1"] = QosSpec("q1", "gold", "back-end")
    page = text(
        admin_client.post(
            "/volumes/admin/qos/q1/associate/", {"volume_type": "t-none"}, follow=True
        )
    )
    assert "Select a valid choice" in page
    assert all(not t.qos_specs_id for t in fake.types)


# --- pools and services ------------------------------------------------------------------------


def test_pools_show_capacity_in_one_call(admin_client: Client, fake: FakeVolumesGateway) -> None:
    fake.calls.clear()
    page = text(admin_client.get("/volumes/admin/pools/"))
    assert fake.calls == ["list_storage_pools"]
    for figure in ("devcloud@ceph#ceph", "2.85", "2.50", "3.00", "12 %", "20.0"):
        assert figure in page, figure


def test_services_disable_with_a_reason_and_enable(
    admin_client: Client, fake: FakeVolumesGateway
) -> None:
    page = text(admin_client.get("/volumes/admin/services/"))
    assert "cinder-volume" in page and "devcloud@ceph" in page and "up" in page
    url = "/volumes/admin/services/"
    target = {"host": "devcloud@ceph", "binary": "cinder-volume"}
    refused = text(admin_client.post(url + "disable/", target, follow=True))
    assert "This field is required" in refused
    assert all(s.is_enabled for s in fake.services)
    admin_client.post(url + "disable/", target | {"reason": "disk swap"})
    service = fake._service("devcloud@ceph", "cinder-volume")
    assert (service.status, service.disabled_reason) == ("disabled", "disk swap")
    assert "disk swap" in text(admin_client.get(url))
    admin_client.post(url + "enable/", target)
    assert fake._service("devcloud@ceph", "cinder-volume").is_enabled
    unknown = text(
        admin_client.post(url + "enable/", {"host": "x", "binary": "cinder-volume"}, follow=True)
    )
    assert "could not be found" in unknown


# --- tenant: edit a snapshot, the bootable flag -------------------------------------------------


def test_edit_a_snapshot(member_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("data")
    snap = fake.create_snapshot(v.id, "nightly", "", False)
    url = f"/volumes/snapshots/{snap.id}/edit/"
    assert f'href="{url}"' in text(member_client.get(f"/volumes/{v.id}/"))
    assert f'href="{url}"' in text(member_client.get("/volumes/snapshots/"))
    assert 'value="nightly"' in text(member_client.get(url))
    assert member_client.post(url, {"name": "weekly", "description": "kept"}).status_code == 302
    assert (fake.snapshots[snap.id].name, fake.snapshots[snap.id].description) == (
        "weekly",
        "kept",
    )
    assert member_client.post(url, {"name": ""}).status_code == 400
    assert fake.snapshots[snap.id].name == "weekly"


def test_a_reader_cannot_edit_a_snapshot(reader_client: Client, fake: FakeVolumesGateway) -> None:
    v = fake.add_volume("data")
    snap = fake.create_snapshot(v.id, "nightly", "", False)
    fake.read_only = True
    answer = reader_client.post(f"/volumes/snapshots/{snap.id}/edit/", {"name": "hacked"})
    assert answer.status_code == 400 and "Policy doesn't allow" in text(answer)
    assert fake.snapshots[snap.id].name == "nightly"


def test_edit_sets_and_clears_the_bootable_flag(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    v = fake.add_volume("data")
    url = f"/volumes/{v.id}/edit/"
    member_client.post(url, {"name": "data", "bootable": "on"})
    assert fake.volumes[v.id].is_bootable
    fake.calls.clear()
    member_client.post(url, {"name": "data2", "bootable": "on"})
    assert "set_volume_bootable_status" not in fake.calls  # unchanged: not sent
    member_client.post(url, {"name": "data2"})
    assert not fake.volumes[v.id].is_bootable and fake.volumes[v.id].name == "data2"


def test_admin_pages_speak_korean(admin_client: Client, fake: FakeVolumesGateway) -> None:
    admin_client.cookies["django_language"] = "ko"
    fake.qos["q1"] = QosSpec("q1", "gold", "back-end")
    for url, words in (
        ("/volumes/admin/pools/", ("스토리지 풀", "씬 프로비저닝")),
        ("/volumes/admin/services/", ("볼륨 서비스", "비활성화")),
        ("/volumes/admin/types/", ("볼륨 유형 만들기", "기본")),
        ("/volumes/admin/qos/", ("QoS 사양 만들기", "연결")),
    ):
        page = text(admin_client.get(url))
        assert all(w in page for w in words), url
