"""The audit log (issue 15 §4): one record per change, through the pages and the JSON API,
with every app's fake gateway; what it keeps (no secrets), who sees it, the CSV, retention."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway, FakeComputeGateway
from conftest import PERSONAS, persona_identity
from images.gateway import ImagesGateway
from images.tests.fakes import FakeImagesGateway
from network.gateway import NetworkGateway
from network.tasks import delete_router
from network.tests.fakes import FakeNetworkGateway
from portal import audit
from portal.errors import Rejected
from portal.gateways import override
from portal.models import AuditRecord, Operation
from portal.operations import cancel_operation
from portal.tasks import reap_operations
from projects.gateway import ProjectsGateway
from projects.tests.fakes import FakeProjectsGateway
from quotas.gateway import QuotasGateway
from quotas.tests.fakes import FakeQuotasGateway
from volumes.gateway import VolumesGateway
from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    found: dict[str, Any] = {
        "compute": FakeComputeGateway(),
        "network": FakeNetworkGateway(),
        "images": FakeImagesGateway(),
    }
    with ExitStack() as stack:
        stack.enter_context(override(ComputeGateway, found["compute"]))
        stack.enter_context(override(AdminGateway, FakeAdminGateway()))
        stack.enter_context(override(ImagesGateway, found["images"]))
        stack.enter_context(override(NetworkGateway, found["network"]))
        stack.enter_context(override(ProjectsGateway, FakeProjectsGateway()))
        stack.enter_context(override(QuotasGateway, FakeQuotasGateway()))
        stack.enter_context(override(VolumesGateway, FakeVolumesGateway()))
        yield found


def only_record() -> AuditRecord:
    records = list(AuditRecord.objects.all())
    assert len(records) == 1, [(r.url_name, r.result) for r in records]
    return records[0]


# --- one record per change, with its action, target and outcome -------------------------------


def test_a_router_delete_is_one_record_that_follows_its_job(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    router = fakes["network"].create_router("edge")
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    op = Operation.objects.get()
    record = only_record()
    assert (record.action, record.url_name) == ("delete_router", "network:delete-router")
    assert (record.target_type, record.target_id, record.target_name) == (
        "router",
        router.id,
        "edge",
    )
    assert (record.result, record.status, record.operation_id) == ("accepted", 302, op.pk)
    assert (record.user_name, record.user_domain, record.project_name) == (
        "member",
        "Default",
        "demo",
    )
    assert (record.channel, record.client_address) == ("browser", "127.0.0.1")

    delete_router(op.pk)  # what the worker runs
    assert only_record().result == "succeeded"


def test_a_failed_job_fails_its_record_and_a_cancelled_one_cancels_it(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    network = fakes["network"]
    router = network.create_router("edge")
    network.refusals["delete_router"] = Rejected("Router edge is still in use.", 409)
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    delete_router(Operation.objects.get().pk)
    record = only_record()
    assert (record.result, record.message) == ("failed", "Router edge is still in use.")

    other = network.create_router("other")
    member_client.post(f"/network/routers/{other.id}/delete/", {"name": "other"})
    op = Operation.objects.get(target=other.id)
    assert cancel_operation(op)
    assert AuditRecord.objects.get(operation=op).result == "cancelled"


def test_a_server_reboot_is_one_accepted_record(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    server = fakes["compute"].add_server("web-1")
    response = member_client.post(f"/compute/servers/{server.id}/reboot/", {"hard": "1"})
    assert response.status_code == 302
    record = only_record()
    assert (record.action, record.target_type, record.target_id) == (
        "reboot_server",
        "server",
        server.id,
    )
    assert (record.result, record.input) == ("accepted", {"hard": "1"})


def test_an_image_update_is_one_record_with_its_name(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    image = fakes["images"].add("cirros", stores="fs")
    data = {
        "name": "cirros-2",
        "description": "",
        "disk_format": "qcow2",
        "container_format": "bare",
        "architecture": "",
        "min_disk": "0",
        "min_ram": "0",
        "visibility": "private",
        "properties": "",
    }
    member_client.post(f"/images/{image.id}/edit/", data)
    record = only_record()
    assert (record.action, record.target_type, record.target_id) == (
        "update_image",
        "image",
        image.id,
    )
    assert (record.target_name, record.result) == ("cirros-2", "accepted")


def test_a_create_names_what_it_made(member_client: Client, fakes: dict[str, Any]) -> None:
    member_client.post("/network/routers/create/", {"name": "made"})
    router = next(r for r in fakes["network"].routers.values() if r.name == "made")
    record = only_record()
    assert (record.action, record.target_type, record.target_id) == (
        "create_router",
        "router",
        router.id,
    )


def test_a_refused_change_is_recorded_with_the_clouds_reason(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    server = fakes["compute"].add_server("web-1")
    fakes["compute"].refusals["reboot_server"] = Rejected(
        "Cannot 'reboot' instance while it is in task_state powering-off", 409
    )
    member_client.post(f"/compute/servers/{server.id}/reboot/", headers=HTMX)
    record = only_record()
    assert record.result == "refused"
    assert "while it is in task_state powering-off" in record.message


def test_a_refused_form_is_recorded_with_its_error(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    fakes["network"].limits["router"] = 0
    response = member_client.post("/network/routers/create/", {"name": "edge"})
    assert response.status_code == 400
    record = only_record()
    assert (record.result, record.status) == ("refused", 400)
    assert "Quota exceeded for resources: ['router']." in record.message


def test_a_cloud_error_the_view_lets_through_is_recorded(
    member_client: Client, fakes: dict[str, Any]
) -> None:
    response = member_client.post("/network/routers/no-such-router/delete/", {"name": "x"})
    assert response.status_code == 404
    record = only_record()
    assert (record.result, record.target_id) == ("refused", "no-such-router")
    assert record.message


# --- what is kept --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("confirm_password", True),
        ("credential_secret", True),
        ("credential_id", True),
        ("auth_key", True),
        ("csrfmiddlewaretoken", True),
        ("key_name", False),
        ("key", False),
        ("public_key", False),
        ("compute__key_pairs", False),  # a quota, not a key
        ("name", False),
    ],
)
def test_which_fields_are_secret(name: str, secret: bool) -> None:
    assert audit.is_secret(name) is secret


def test_secrets_are_never_stored(admin_client: Client, fakes: dict[str, Any]) -> None:
    admin_client.post(
        "/project/identity/users/create/",
        {
            "name": "newbie",
            "password": "hunter2-hunter2",
            "confirm": "x",
            "credential": "c-secret",
            "api_token": "t-secret",
            "access_key": "k-secret",
        },
    )
    record = only_record()
    stored = repr(record.input) + record.message + repr(record.request_ids)
    for secret in ("hunter2", "c-secret", "t-secret", "k-secret"):
        assert secret not in stored
    assert record.input["name"] == "newbie"


def test_text_postgresql_cannot_hold_is_replaced(
    member_client: Client, fakes: dict[str, Any], unit_cloud: Any
) -> None:
    member_client.post("/network/routers/create/", {"name": "a\x00b"})
    assert only_record().input["name"] == "a\ufffdb"
    AuditRecord.objects.all().delete()
    Client().post(
        "/api/v1/quotas/bulk/",
        '{"name": "x\\ud800y", "projects": []}',
        content_type="application/json",
        headers={"X-Auth-Token": "token-admin"},
    )
    assert only_record().input["name"] == "x?y"


def test_a_body_too_large_to_read_is_still_recorded(
    member_client: Client, fakes: dict[str, Any], settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    member_client.raise_request_exception = False
    response = member_client.post("/network/routers/create/", {f"f{i}": "x" for i in range(10)})
    assert response.status_code == 400
    record = only_record()
    # Django marks a body it refused as empty: the record is written, without its fields
    assert (record.result, record.status, record.input) == ("refused", 400, {})


def test_a_file_is_kept_as_its_name_and_size(member_client: Client) -> None:
    upload = io.BytesIO(b"x" * 1234)
    upload.name = "disk.img"
    member_client.post("/images/create/", {"name": "up", "file": upload})
    assert only_record().input["files"] == {"file": {"name": "disk.img", "size": 1234}}


# --- sign-in, sign-out, the JSON API -----------------------------------------------------------


def test_sign_out_is_recorded_under_who_signed_out(member_client: Client) -> None:
    member_client.post(reverse("portal:sign-out"))
    record = only_record()
    assert (record.action, record.user_name, record.project_name) == ("sign_out", "member", "demo")


def test_a_failed_sign_in_is_recorded_with_the_name_tried_and_no_password(
    client: Client, unit_cloud: Any
) -> None:
    response = client.post(
        reverse("portal:sign-in"),
        {
            "cloud": "unit:RegionOne",
            "method": "password",
            "username": "member",
            "password": "wrong-pw",
            "domain": "Default",
        },
    )
    assert response.status_code == 400
    record = only_record()
    assert (record.action, record.result, record.user_name) == ("sign_in", "refused", "member")
    assert "wrong-pw" not in repr(record.input) and "password" not in record.input
    assert "not correct" in record.message


def test_a_sign_in_is_recorded_under_who_signed_in(client: Client, unit_cloud: Any) -> None:
    response = client.post(
        reverse("portal:sign-in"),
        {
            "cloud": "unit:RegionOne",
            "method": "password",
            "username": "member",
            "password": unit_cloud.users["member"].password,
            "domain": "Default",
        },
    )
    assert response.status_code == 302
    record = only_record()
    assert (record.action, record.result, record.user_id) == ("sign_in", "accepted", "u-member")
    assert record.project_name == "demo"


def test_a_sign_in_with_a_project_choice_and_a_switch_are_three_records(
    client: Client, keystone: Any
) -> None:
    sign_in_form = {
        "cloud": "fake:RegionOne",
        "method": "password",
        "username": "admin",
        "password": "admin-pw",
        "domain": "Default",
    }
    client.post(reverse("portal:sign-in"), sign_in_form)  # member of admin and demo: a choice
    client.post(reverse("portal:choose-project"), {"project_id": "p-admin"})
    client.post(reverse("portal:switch-project"), {"project_id": "p-demo"})
    client.post(reverse("portal:switch-project"), {"project_id": "p-study1"})  # not a member
    found = [
        (r.action, r.result, r.user_name, r.project_name, r.input.get("project_id"))
        for r in AuditRecord.objects.order_by("pk")
    ]
    assert found == [
        ("sign_in", "accepted", "admin", "", None),
        ("choose_project", "accepted", "admin", "admin", "p-admin"),
        ("switch_project", "accepted", "admin", "admin", "p-demo"),  # from the project left
        ("switch_project", "refused", "admin", "demo", "p-study1"),
    ]


def test_an_api_call_from_ansible_is_recorded_as_ansible(client: Client, unit_cloud: Any) -> None:
    token = "token-member"  # the unit cloud's persona tokens
    op = Operation.objects.create(
        kind="k", cloud_key="unit:RegionOne", user_id="u-member", project_id="p-demo"
    )
    response = Client().post(
        f"/api/v1/operations/{op.pk}/cancel/",
        headers={"X-Auth-Token": token, "User-Agent": "ansible-httpget"},
    )
    assert response.status_code == 200
    record = only_record()
    assert (record.channel, record.action, record.target_id) == (
        "ansible",
        "cancel_operation",
        str(op.pk),
    )
    assert record.user_name == "member"


def test_an_api_call_without_a_token_is_not_a_change(client: Client) -> None:
    assert client.post("/api/v1/quotas/bulk/").status_code == 401
    assert not AuditRecord.objects.exists()


# --- every mutating URL writes exactly one record -------------------------------------------


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """Every URL pattern as (name, a path with each argument filled with a placeholder)."""
    for p in patterns:
        route = str(p.pattern)
        for converter in getattr(p.pattern, "converters", {}):
            route = route.replace(f"<int:{converter}>", "1")
            route = route.replace(f"<uuid:{converter}>", "00000000-0000-0000-0000-000000000000")
            for kind in ("str", "slug", "path"):
                route = route.replace(f"<{kind}:{converter}>", "nothing-here")
            route = route.replace(f"<{converter}>", "nothing-here")
        if isinstance(p, URLResolver):
            inner = ":".join(n for n in (namespace, p.namespace or "") if n)
            yield from walk(p.url_patterns, prefix + route, inner)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace else str(p.name)
            yield name, "/" + prefix + route


URLS = sorted(set(walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_url_conf() -> None:
    names = {name for name, _path in URLS}
    assert {"network:delete-router", "compute:reboot-server", "api:apply-quotas"} <= names
    assert len(URLS) > 150


@pytest.mark.parametrize("persona", ["member", "admin"])
def test_every_post_writes_exactly_one_record(
    persona: str, request: pytest.FixtureRequest, fakes: dict[str, Any], unit_cloud: Any
) -> None:
    """POST every URL (the arguments name nothing that exists: a view refuses, or does what
    it does): one record each, or none when the URL answers 405 (it takes no POST) or only
    carries data for a change recorded already (an upload's chunks)."""
    client: Client = request.getfixturevalue(f"{persona}_client")
    client.raise_request_exception = False
    token = f"token-{persona}"
    missing, extra = [], []
    for name, path in URLS:
        if name == "portal:sign-out":
            continue  # it ends the session the rest of the walk needs; tested above
        before = AuditRecord.objects.count()
        headers = {"X-Auth-Token": token} if path.startswith("/api/") else {}
        response = client.post(path, {"name": "walked"}, headers=headers)
        written = AuditRecord.objects.count() - before
        expected = 0 if response.status_code == 405 or name in audit.NOT_CHANGES else 1
        if written < expected:
            missing.append((name, response.status_code))
        elif written > expected:
            extra.append((name, written))
    assert not missing, f"changes without a record: {missing}"
    assert not extra, f"changes with more than one record: {extra}"
    assert AuditRecord.objects.filter(url_name="network:create-network").exists()


# --- who sees what ---------------------------------------------------------------------------


def _record(persona: str, action: str = "delete_router", **fields: Any) -> AuditRecord:
    who = persona_identity(PERSONAS[persona])
    return AuditRecord.objects.create(
        cloud_key=who.cloud_key,
        user_id=who.user_id,
        user_name=who.user_name,
        project_id=who.project_id,
        project_name=who.project_name,
        action=action,
        url_name="network:" + action.replace("_", "-"),
        target_type="router",
        target_id=fields.pop("target_id", "r-1"),
        result=fields.pop("result", "accepted"),
        channel="browser",
        **fields,
    )


def test_a_projects_log_is_for_its_members_and_readers_only(
    member_client: Client, reader_client: Client, outsider_client: Client
) -> None:
    _record("member", target_id="r-secret-1")
    for client in (member_client, reader_client):
        page = client.get("/audit/").content.decode()
        assert "r-secret-1" in page and "delete_router" in page
    page = outsider_client.get("/audit/").content.decode()
    assert "r-secret-1" not in page and "No changes recorded" in page
    export = outsider_client.get("/audit/export.csv")
    csv_text = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert "r-secret-1" not in csv_text
    assert outsider_client.get("/admin/audit/").status_code == 403


def test_the_admin_log_shows_every_project_of_the_cloud(admin_client: Client) -> None:
    _record("member", target_id="r-demo")
    _record("outsider", target_id="r-study")
    page = admin_client.get("/admin/audit/").content.decode()
    assert "r-demo" in page and "r-study" in page
    page = admin_client.get("/admin/audit/", {"project": "study1"}).content.decode()
    assert "r-demo" not in page and "r-study" in page


def test_the_filters(member_client: Client) -> None:
    _record("member", "delete_router", target_id="r-gone")
    _record("member", "create_network", target_id="n-new", result="refused")
    old = _record("member", "update_router", target_id="r-old")
    AuditRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))

    def shown(**query: str) -> set[str]:
        page = member_client.get("/audit/", query).content.decode()
        return {t for t in ("r-gone", "n-new", "r-old") if t in page}

    assert shown() == {"r-gone", "n-new", "r-old"}
    assert shown(result="refused") == {"n-new"}
    assert shown(action="delete-router") == {"r-gone"}
    assert shown(target="r-old") == {"r-old"}
    assert shown(user="memb") == {"r-gone", "n-new", "r-old"}
    assert shown(user="nobody") == set()
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert shown(start=since) == {"r-gone", "n-new"}
    response = member_client.get("/audit/", {"start": "2026-02-02", "end": "2026-02-01"})
    assert response.status_code == 400 and "The end is before the start." in response.text


def test_the_csv_export_streams_the_filtered_records(member_client: Client) -> None:
    _record("member", "delete_router", target_id="r-gone", request_ids=["req-1"])
    _record("member", "create_network", target_id="n-new", result="refused")
    response = member_client.get("/audit/export.csv", {"result": "accepted"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == list(audit.COLUMNS)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["action"], row["target_id"], row["request_ids"]) == (
        "delete_router",
        "r-gone",
        "req-1",
    )


def test_the_api_lists_the_callers_project_and_everything_for_an_admin(
    client: Client, unit_cloud: Any
) -> None:
    _record("member", target_id="r-demo")
    _record("outsider", target_id="r-study")

    def listed(persona: str, **query: str) -> Any:
        token = f"token-{persona}"
        return client.get("/api/v1/audit/", query, headers={"X-Auth-Token": token})

    body = listed("member").json()
    assert [r["target_id"] for r in body["records"]] == ["r-demo"] and body["count"] == 1
    assert listed("member", all="1").status_code == 403
    assert {r["target_id"] for r in listed("admin", all="1").json()["records"]} == {
        "r-demo",
        "r-study",
    }
    refused = listed("member", start="tomorrow")
    assert refused.status_code == 400 and refused.json()["field"] == "start"
    assert not AuditRecord.objects.filter(action="list_audit_records").exists()  # a read


# --- retention -------------------------------------------------------------------------------


def test_old_records_go_with_the_reaper(settings: Any) -> None:
    settings.STACKDESK_AUDIT_KEEP_DAYS = 30
    kept, old = _record("member", target_id="kept"), _record("member", target_id="old")
    AuditRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    reap_operations()
    assert list(AuditRecord.objects.values_list("pk", flat=True)) == [kept.pk]
