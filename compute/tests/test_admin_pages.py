"""The admin compute pages through the Django test client against the fake cloud: what they
show, their call budgets, every form path and refusal, and the host jobs they start."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client

from compute import gateway as g
from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway
from conftest import UNIT_CLOUD
from portal.errors import Rejected
from portal.gateways import override
from portal.models import Operation

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def cloud() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    cache.clear()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


def text(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_hypervisors_show_summary_per_host_and_capacity_in_few_calls(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.add_server("a", flavor=g.FlavorSpec("m1.medium", 2, 4096, 40))
    cloud.add_server("b", host="compute2")
    cloud.create_aggregate("fast", "")
    cloud.add_host_to_aggregate("1", "compute1")
    cloud.add_host_to_aggregate("1", "compute2")
    cloud.calls.clear()
    page = text(admin_client.get("/compute/admin/hypervisors/"))
    # Nova's hypervisors, aggregates, flavors, then Placement twice per host.
    assert sum(cloud.calls.values()) == 3 + 2 * 3
    assert "3 of 192 used" in page  # vCPUs across the cloud (16 x 4.0 x 3)
    assert "4224 of 96768 MB used" in page
    assert "compute1 fake up enabled 2 / 64" in page
    # compute1 has 62 vCPUs, 28160 MB and 460 GB free: m1.tiny (512 MB) is RAM-bound at 55,
    # m1.small (2 GB) at 13, m1.medium (2 vCPU, 4 GB, 40 GB) at 6; x1.oversize fits nowhere.
    row = re.search(r"compute1 ((?:\d+ ){5})", page.split("Capacity: how many more")[1])
    assert row and row.group(1).split() == ["62", "55", "13", "6", "0"]
    assert "Aggregate fast (compute1, compute2)" in page


def test_hypervisors_are_kept_briefly_until_the_portal_changes_something(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.add_server("a", flavor=g.FlavorSpec("m1.medium", 2, 4096, 40))
    assert "2 of 192 used" in text(admin_client.get("/compute/admin/hypervisors/"))
    cloud.add_server("b", host="compute2")  # outside the portal: shown within 30 s
    cloud.calls.clear()
    page = text(admin_client.get("/compute/admin/hypervisors/"))
    assert sum(cloud.calls.values()) == 0 and "2 of 192 used" in page
    assert re.search(r"Read at \d\d:\d\d:\d\d", page)
    assert "3 of 192 used" in text(admin_client.get("/compute/admin/hypervisors/?fresh=1"))
    assert sum(cloud.calls.values()) == 3 + 2 * 3  # Read again: every call
    # A change made through the portal (the audit log records it) shows at once.
    cloud.add_server("c", host="compute3")
    admin_client.post("/compute/admin/services/svc-compute2/disable/", {"reason": "fan"})
    cloud.calls.clear()
    assert "4 of 192 used" in text(admin_client.get("/compute/admin/hypervisors/"))
    assert cloud.calls["list_hypervisors"] == 1
    # While a job of the cloud runs (a host draining), nothing about hosts is kept.
    Operation.objects.create(
        kind="drain_host", title="Drain", cloud_key=UNIT_CLOUD, user_id="u", target="compute1"
    )
    cloud.calls.clear()
    admin_client.get("/compute/admin/hypervisors/")
    admin_client.get("/compute/admin/hypervisors/")
    assert cloud.calls["list_hypervisors"] == 2


def test_admin_instances_keep_hosts_and_project_names_briefly(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.add_server("a")
    admin_client.get("/compute/admin/servers/")
    cloud.calls.clear()
    admin_client.get("/compute/admin/servers/")
    # the warm servers' delta and the image names; hosts and projects kept (no Keystone)
    assert cloud.calls["list_servers"] == 1
    assert cloud.calls["list_projects"] == 0 and cloud.calls["list_services"] == 0


def test_services_enable_disable_with_reason_and_force_down(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    page = text(admin_client.get("/compute/admin/services/"))
    assert "nova-conductor controller internal enabled up" in page
    assert "Evacuate host" not in page  # every compute host is up
    url = "/compute/admin/services/svc-compute2/disable/"
    refused = admin_client.post(url, {"reason": ""}, headers=HTMX)
    assert refused.status_code == 400 and "This field is required." in text(refused)
    done = admin_client.post(url, {"reason": "fan noise"})
    assert done.status_code == 302
    assert cloud.services["compute2"].disabled_reason == "fan noise"
    assert "compute2 is disabled." in text(admin_client.get(done["Location"]))
    admin_client.post("/compute/admin/services/svc-compute2/enable/")
    assert cloud.services["compute2"].status == "enabled"
    admin_client.post("/compute/admin/services/svc-compute3/forced-down/", {"forced": "1"})
    assert cloud.services["compute3"].forced_down
    page = text(admin_client.get("/compute/admin/services/"))
    assert "forced down" in page and "Evacuate host" in page
    admin_client.post("/compute/admin/services/svc-compute3/forced-down/", {"forced": "0"})
    assert not cloud.services["compute3"].forced_down
    cloud.refusals["enable_service"] = Rejected("Policy doesn't allow it.", 403)
    refused = admin_client.post("/compute/admin/services/svc-compute2/enable/", follow=True)
    assert "Not enabled: Policy doesn't allow it." in text(refused)


def test_drain_form_refuses_bad_input_then_starts_a_delegated_job(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    url = "/compute/admin/hosts/compute1/drain/"
    form = admin_client.get(url, headers=HTMX)
    assert 'value="2"' in form.content.decode()  # the default concurrency
    bad = admin_client.post(url, {"concurrency": "0", "active": "live", "stopped": "cold"})
    assert bad.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in text(bad)
    assert admin_client.get("/compute/admin/hosts/nowhere/drain/").status_code == 404
    started = admin_client.post(
        url,
        {"concurrency": "3", "active": "live", "stopped": "skip", "reason": "RAM"},
        headers=HTMX,
    )
    op = Operation.objects.get(kind="drain_host")
    assert started["HX-Redirect"] == f"/compute/admin/operations/{op.pk}/"
    assert op.target == "compute1"
    assert op.params == {"concurrency": 3, "active": "live", "stopped": "skip", "reason": "RAM"}
    # No service user in the unit cloud: the job says it acts with the sign-in only.
    assert "The portal has no service user" in op.log[0][1]
    page = admin_client.get(f"/compute/admin/operations/{op.pk}/")
    assert 'hx-trigger="every 2s"' in page.content.decode()


def test_evacuate_is_offered_and_accepted_only_for_a_down_host(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    url = "/compute/admin/hosts/compute1/evacuate/"
    assert "compute1 is up: evacuation is for a host" in text(admin_client.get(url))
    refused = admin_client.post(url, {"concurrency": "2"})
    assert refused.status_code == 400 and not Operation.objects.exists()
    cloud.set_service("compute1", state="down")
    started = admin_client.post(url, {"concurrency": "2"})
    assert started.status_code == 302
    assert Operation.objects.get().kind == "evacuate_host"


def test_aggregates_create_hosts_metadata_delete_and_refusals(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    base = "/compute/admin/aggregates/"
    assert (
        admin_client.post(base, {"name": "gpu", "availability_zone": "az-gpu"}).status_code == 302
    )
    duplicate = admin_client.post(base, {"name": "gpu", "availability_zone": ""})
    assert duplicate.status_code == 400 and "Aggregate gpu already exists." in text(duplicate)
    assert 'value="gpu"' in duplicate.content.decode()  # the form comes back filled
    admin_client.post(base + "1/hosts/", {"host": "compute2"})
    admin_client.post(base + "1/metadata/", {"key": "ssd", "value": "true"})
    bad_key = admin_client.post(base + "1/metadata/", {"key": "a b", "value": "x"}, follow=True)
    assert "Use letters, digits and _ . : - only." in text(bad_key)
    page = text(admin_client.get(base))
    assert "gpu az-gpu compute2 Remove" in page and "ssd = true" in page
    assert "nova compute1, compute2, compute3" in page  # the availability zones
    refused = admin_client.post(base + "1/delete/", follow=True)
    assert "Cannot remove aggregate 1: it has hosts" in text(refused)
    admin_client.post(base + "1/metadata/", {"remove": "ssd"})
    admin_client.post(base + "1/hosts/remove/", {"host": "compute2"})
    assert cloud.aggregates["1"].hosts == () and cloud.aggregates["1"].metadata == ()
    admin_client.post(base + "1/delete/")
    assert not cloud.aggregates


def test_all_instances_with_project_host_filters_and_migration_actions(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    mine = cloud.add_server("admin-vm")
    theirs = cloud.add_server("demo-vm", project_id="p-demo", host="compute2")
    cloud.add_server("off-vm", project_id="p-demo", vm_state="stopped", host="compute2")
    cloud.calls.clear()
    page = admin_client.get("/compute/admin/servers/").content.decode()
    assert sum(cloud.calls.values()) == 4  # services + projects, then servers + images
    assert "admin-vm" in page and "demo-vm" in page and "compute2" in page
    assert f"/compute/servers/{mine.id}/admin-actions/" in page  # the menu, read when opened
    menu = admin_client.get(f"/compute/servers/{mine.id}/admin-actions/", headers=HTMX)
    assert f'hx-post="/compute/servers/{mine.id}/live-migrate/"' in menu.content.decode()
    assert "Live migrate to a host…" in text(menu) and "Cold migrate…" in text(menu)
    assert "Shut off" in text(menu)  # the tenant actions too
    off_menu = text(admin_client.get(f"/compute/servers/{cloud.order[2]}/admin-actions/"))
    assert "Cold migrate…" in off_menu and "Live migrate" not in off_menu
    filtered = admin_client.get("/compute/admin/servers/?project=p-demo&host=compute2")
    body = filtered.content.decode()
    assert theirs.id in body and mine.id not in body
    assert "Projects: p-demo demo" in text(filtered)
    partial = admin_client.get("/compute/admin/servers/?status=SHUTOFF", headers=HTMX)
    assert "off-vm" in partial.content.decode() and "demo-vm" not in partial.content.decode()


def test_live_migrate_form_shows_unusable_hosts_disabled_and_refuses_them(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    server = cloud.add_server("vm")
    cloud.set_service("compute3", status="disabled", disabled_reason="dead fan")
    url = f"/compute/servers/{server.id}/live-migrate/"
    form = admin_client.get(url, headers=HTMX).content.decode()
    assert re.search(r'<option value="compute3" disabled>compute3 — [^<]*dead fan', form)
    assert '<option value="compute2">compute2</option>' in form
    assert "compute1" not in re.findall(r'<option value="([^"]*)"', form)  # where it runs
    refused = admin_client.post(url, {"host": "compute3", "block_migration": "auto"})
    assert refused.status_code == 400
    assert "compute3 cannot take this instance: its compute service is disabled (dead fan)" in (
        text(refused)
    )
    assert not Operation.objects.exists()
    chosen = admin_client.post(url, {"host": "compute2", "block_migration": "no"})
    op = Operation.objects.get()
    assert chosen["Location"] == f"/compute/admin/operations/{op.pk}/"
    assert op.params == {"host": "compute2", "block": False}


def test_one_click_live_migration_and_the_operation_page(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    server = cloud.add_server("vm")
    cloud.calls.clear()
    response = admin_client.post(
        f"/compute/servers/{server.id}/live-migrate/",
        headers={**HTMX, "HX-Target": f"server-{server.id}"},
    )
    op = Operation.objects.get()
    assert response["HX-Redirect"] == f"/compute/admin/operations/{op.pk}/"
    assert op.params == {"host": "", "block": "auto"}
    assert cloud.calls["list_hypervisors"] == 0  # one click: no host list needed
    # The running job's card: Nova's record, abort and force complete while Nova allows.
    op.result = {
        "source": "compute1",
        "planned": True,
        "items": [
            {
                "id": server.id,
                "name": "vm",
                "state": "migrating",
                "kind": "live",
                "migration_id": 7,
                "dest": "",
                "progress": {
                    "status": "running",
                    "memory_total": 2**30,
                    "memory_processed": 2**29,
                    "abortable": True,
                    "forceable": True,
                },
            }
        ],
    }
    op.state, op.percent = "running", 55
    op.save()
    card = admin_client.get(f"/compute/admin/operations/{op.pk}/", headers=HTMX)
    assert card.status_code == 200 and 'hx-trigger="every 2s"' in card.content.decode()
    page = text(card)
    assert "#7 · running" in page and "512.0 MB / 1.0 GB" in page
    assert "Abort migration" in page and "Force complete" in page
    op.state = "succeeded"
    op.save()
    assert admin_client.get(f"/compute/admin/operations/{op.pk}/", headers=HTMX).status_code == 286


def test_abort_and_force_complete_follow_nova(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    server = cloud.add_server("vm")
    cloud.live_migrate_server(server.id)
    base = f"/compute/servers/{server.id}/migrations/1/"
    cloud.settle()  # queued -> running
    forced = admin_client.post(base + "force-complete/", {"next": "/compute/admin/migrations/"})
    assert forced["Location"] == "/compute/admin/migrations/"
    aborted = admin_client.post(base + "abort/", follow=True)
    assert "Nova is aborting the live migration." in text(aborted)
    assert cloud.moves[0].migration.status == "cancelled"
    again = admin_client.post(base + "abort/", follow=True)
    assert "The migration was not aborted: Migration 1 state of instance" in text(again)
    late = admin_client.post(base + "force-complete/", follow=True)
    assert "not forced to complete" in text(late) and "is cancelled" in text(late)


def test_migrations_page_filters_and_links_to_instances_and_operations(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    a = cloud.add_server("a")
    b = cloud.add_server("b", vm_state="stopped")
    cloud.live_migrate_server(a.id)
    cloud.migrate_server(b.id)
    op = Operation.objects.create(
        kind="live_migrate_server", title="t", target=a.id, cloud_key=UNIT_CLOUD
    )
    elsewhere = Operation.objects.create(kind="live_migrate_server", title="t", target=a.id)
    page = admin_client.get("/compute/admin/migrations/").content.decode()
    assert f"/compute/admin/operations/{elsewhere.pk}/" not in page  # another cloud's job
    assert f"/compute/servers/{a.id}/" in page and f"/compute/admin/operations/{op.pk}/" in page
    live = text(admin_client.get("/compute/admin/migrations/?migration_type=live-migration"))
    assert a.id in live and b.id not in live
    bad = text(admin_client.get("/compute/admin/migrations/?server_id=not%20an%20id"))
    assert "Paste an instance's ID (a UUID)." in bad
    none = text(admin_client.get("/compute/admin/migrations/?status=error"))
    assert "No migration matches these filters." in none


def test_health_page_says_none_reported_and_the_banner_names_what_is_down(
    admin_client: Client, member_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.calls.clear()
    page = text(admin_client.get("/compute/admin/health/"))
    assert sum(cloud.calls.values()) == 4 + len(cloud.endpoints)
    assert "None reported: this cloud's Neutron runs no agents." in page
    assert "Every service reports up and every endpoint answers." in page
    assert "http://127.0.0.1:8774/v2.1 yes HTTP 200 3 ms" in page
    # Every admin page loads the banner; a tenant page does not.
    assert 'hx-get="/compute/admin/health/?part=banner"' in (
        admin_client.get("/compute/admin/services/").content.decode()
    )
    assert "part=banner" not in member_client.get("/compute/servers/").content.decode()
    assert text(admin_client.get("/compute/admin/health/?part=banner")) == ""
    cache.clear()
    cloud.set_service("compute2", forced_down=True)
    cloud.unreachable.add("http://127.0.0.1:5000/v3")
    cloud.network_agents.append(g.NetworkAgent("ag", "L3 agent", "neutron-l3-agent", "net1", False))
    banner = text(admin_client.get("/compute/admin/health/?part=banner"))
    assert "3 parts of the cloud are down:" in banner
    assert "Nova nova-compute on compute2 is down." in banner
    assert "Neutron neutron-l3-agent on net1 is down." in banner
    assert "http://127.0.0.1:5000/v3 does not answer (ConnectFailure)." in banner
    cloud.set_service("compute2", forced_down=False)
    assert "compute2" in text(admin_client.get("/compute/admin/health/?part=banner"))  # cached
