"""Moving one instance on the all-in-one cloud, through the admin pages and a real worker:
one-click live migration (the scheduler chooses), live migration to a chosen host, a live
migration to a disabled host refused at the form and, when the host is disabled after the
request, by Nova (its reason and the instance's real host reach the operation), cold
migration then confirm, and the migrations page. The admin is a throwaway project's user
with the admin role; the one host this test disables is enabled again in `finally`."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from portal.models import Operation
from tests.cloud.waiting import wait_for

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
HTMX = {"HX-Request": "true"}


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def finished(op_id: int, timeout: float = 180) -> Operation:
    def done() -> Operation | None:
        op = Operation.objects.get(pk=op_id)
        return op if op.is_finished else None

    return wait_for(done, timeout, f"operation {op_id}")  # type: ignore[no-any-return]


def op_id(response: Any) -> int:
    location = response.get("HX-Redirect") or response["Location"]
    match = re.fullmatch(r"/compute/admin/operations/(\d+)/", location)
    assert match, location
    return int(match.group(1))


def host_of(admin: Any, server_id: str) -> str:
    return str(admin.compute.get_server(server_id).compute_host)


def boot(conn: Any, name: str) -> str:
    image = next(i for i in conn.image.images() if i.visibility == "public")
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    server = conn.compute.create_server(
        name=name, image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    conn.compute.wait_for_server(server, status="ACTIVE", wait=180)
    return str(server.id)


def test_live_and_cold_migration_through_the_admin_pages(
    portal_clouds_yaml: Path, start_worker: Any, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("admmig", roles=("admin", "member", "reader"))
    server_id = boot(tenant.conn, f"{tenant.name}-vm")
    client = tenant.sign_in(Client())
    start = host_of(sdk_admin, server_id)
    others = sorted({"compute1", "compute2", "compute3"} - {start})
    refused_host, chosen_host = others
    (service,) = sdk_admin.compute.services(binary="nova-compute", host=refused_host)

    # Asked while the host is enabled, run after it was disabled: Nova refuses, and the
    # operation ends with Nova's reason and where the instance really is.
    url = f"/compute/servers/{server_id}/live-migrate/"
    late = op_id(client.post(url, {"host": refused_host, "block_migration": "auto"}))
    try:
        disabled = client.post(
            f"/compute/admin/services/{service.id}/disable/", {"reason": tenant.name}
        )
        assert disabled.status_code == 302
        form = client.get(url, headers=HTMX).content.decode()
        assert re.search(rf'<option value="{refused_host}" disabled>[^<]*{tenant.name}', form)
        refused = client.post(url, {"host": refused_host, "block_migration": "auto"})
        assert refused.status_code == 400
        assert f"{refused_host} cannot take this instance: its compute service is disabled" in (
            text(refused.content.decode())
        )
        start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
        op = finished(late)
        assert op.state == "failed", op.step
        assert "No valid host was found" in op.error or "unavailable" in op.error, op.error
        assert f"The instance is ACTIVE on {start}." in op.error
        assert host_of(sdk_admin, server_id) == start
    finally:
        sdk_admin.compute.update_service(service.id, status="enabled")

    # One click: the scheduler chooses.
    response = client.post(url, headers={**HTMX, "HX-Target": f"server-{server_id}"})
    op = finished(op_id(response))
    assert op.state == "succeeded", op.error
    moved_to = host_of(sdk_admin, server_id)
    assert moved_to != start and op.step == f"Moved to {moved_to}."
    assert op.result["items"][0]["progress"]["status"] == "completed"
    card = client.get(f"/compute/admin/operations/{op.pk}/", headers=HTMX)
    assert card.status_code == 286 and "100%" in card.content.decode()

    # A chosen host.
    target = next(h for h in ("compute1", "compute2", "compute3") if h != moved_to)
    op = finished(op_id(client.post(url, {"host": target, "block_migration": "auto"})))
    assert op.state == "succeeded", op.error
    assert host_of(sdk_admin, server_id) == target

    # Cold migration: it waits on its new host for a confirm.
    op = finished(op_id(client.post(f"/compute/servers/{server_id}/migrate/", {"host": ""})))
    assert op.state == "succeeded", op.error
    assert "confirm or revert" in op.step
    cold_host = host_of(sdk_admin, server_id)
    assert cold_host != target
    page = client.get(f"/compute/admin/operations/{op.pk}/").content.decode()
    assert "Confirm migration" in page and "Revert migration" in page
    client.post(f"/compute/servers/{server_id}/resize/confirm/", {"next": "/"})
    wait_for(
        lambda: tenant.conn.compute.get_server(server_id).status == "ACTIVE",
        120,
        "ACTIVE after confirm",
    )
    assert host_of(sdk_admin, server_id) == cold_host

    # Nova's records: one failed and two completed live migrations, one confirmed cold one.
    page = client.get(f"/compute/admin/migrations/?server_id={server_id}").content.decode()
    rows = re.findall(r'<tr id="migration-\d+">(.*?)</tr>', page, re.S)
    found = Counter(tuple(text(r).split()[1:3]) for r in rows)
    assert found[("live-migration", "completed")] == 2, found
    assert found[("live-migration", "error")] + found[("live-migration", "failed")] == 1, found
    assert found[("migration", "confirmed")] == 1, found
    assert f"/compute/admin/operations/{op.pk}/" in page
