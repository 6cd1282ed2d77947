"""Compute on the all-in-one cloud, through the portal's pages, as a project member.

One rich scenario launches a real server (two networks, a security group, a key pair made
through the portal) and drives every instance action against it; a second one proves the
refusals: a flavor no host can take ends in ERROR with Nova's "No valid host" shown, a
project quota of one instance refuses the second launch before Nova is asked, and a bulk
delete clears the project. The devcloud's fake virt driver has no real guests: its console
log is a constant and snapshots stay `queued` in Glance (the test checks what the API does).
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django import db
from django.test import Client

from compute.gateway import ComputeGateway, LaunchSpec, Nic, Server
from compute.hints import explain
from portal.errors import Rejected
from tests.cloud.waiting import wait_for
from tests.conftest import page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
HTMX = {"HX-Request": "true"}


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def settled(gw: ComputeGateway, server_id: str, timeout: float = 180) -> Server:
    """Wait as the page's polling row does: until Nova reports no task and a settled status."""
    deadline = time.monotonic() + timeout
    while True:
        server = gw.get_server(server_id)
        if not server.is_transitional or time.monotonic() > deadline:
            return server
        time.sleep(0.5)


def network(conn: Any, name: str, cidr: str) -> tuple[Any, Any]:
    net = conn.network.create_network(name=name)
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr=cidr, name=name)
    return net, subnet


def act(client: Client, server_id: str, path: str, data: dict[str, Any] | None = None) -> str:
    """Post an action as a browser without JavaScript would; return the page it lands on."""
    response = client.post(f"/compute/servers/{server_id}/{path}/", data or {}, follow=True)
    assert response.status_code == 200, path
    page = response.content.decode()
    alerts = re.findall(r"alert alert-danger[^>]*>(.*?)</div>", page, re.S)
    assert not alerts, (path, [text(a) for a in alerts])
    return page


def launch_data(**fields: Any) -> dict[str, Any]:
    data = {
        "_step": "configuration",
        "_launch": "1",
        "description": "",
        "availability_zone": "",
        "count": "1",
        "source_type": "image",
        "key_name": "",
        "user_data": "",
        "server_group": "",
        "scheduler_hints": "",
        "metadata": "",
    }
    data.update(fields)
    return data


def ids(conn: Any) -> dict[str, str]:
    image = conn.image.find_image("tiny-qcow2")
    flavors = {f.name: f.id for f in conn.compute.flavors()}
    return {"image": image.id, **flavors}


def test_launch_then_every_action_on_real_servers(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("compute")
    conn = tenant.conn
    known = ids(conn)
    net1, sub1 = network(conn, "front", "10.61.0.0/24")
    net2, _sub2 = network(conn, "back", "10.62.0.0/24")
    public = conn.network.find_network("public1")
    router = conn.network.create_router(
        name="edge", external_gateway_info={"network_id": public.id}
    )
    conn.network.add_interface_to_router(router, subnet=sub1.id)
    web = conn.network.create_security_group(name="web", description="HTTP in")
    conn.network.create_security_group_rule(
        security_group_id=web.id,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=80,
        port_range_max=80,
    )
    default = next(g for g in conn.network.security_groups() if g.name == "default")
    volume = conn.block_storage.create_volume(size=1, name="data")
    client = tenant.sign_in(Client())
    gw = ComputeGateway(conn)

    # A key pair made through the portal: the private key comes back once.
    created = client.post("/compute/keypairs/create/", {"name": "compute-key"}).content.decode()
    assert "BEGIN" in created and "PRIVATE KEY" in created
    assert conn.compute.find_keypair("compute-key") is not None

    # The wizard offers what the project has.
    wizard = client.get("/compute/servers/launch/").content.decode()
    for name in ("front", "back", "web", "compute-key", "tiny-qcow2"):
        assert name in wizard, name

    # Two instances at once, on two networks, with a security group and the key pair.
    launched = client.post(
        "/compute/servers/launch/",
        launch_data(
            name="app",
            count="2",
            image=known["image"],
            flavor=known["m1.nano"],
            nic_1=f"net:{net1.id}",
            nic_2=f"net:{net2.id}",
            security_groups=[default.id, web.id],
            key_name="compute-key",
            metadata="role=app",
        ),
    )
    assert launched.status_code == 302, page_errors(launched.content.decode())
    servers = {s.name: s.id for s in conn.compute.servers()}
    assert set(servers) == {"app-1", "app-2"}
    listing = client.get("/compute/servers/").content.decode()
    for server_id in servers.values():
        row = re.search(rf'<tr id="server-{server_id}".*?</tr>', listing, re.S)
        assert row and "every 2s" in row.group(0)  # new rows poll while they build

    # Each row polls itself until it settles (286 stops htmx), then shows what a tenant expects.
    for server_id in servers.values():
        row_url = f"/compute/servers/{server_id}/row/"
        wait_for(lambda u=row_url: client.get(u, headers=HTMX).status_code == 286, 120, "ACTIVE")
        row_html = client.get(row_url, headers=HTMX).content.decode()
        for expected in ("ACTIVE", "tiny-qcow2", "m1.nano", "compute-key", "front:", "back:"):
            assert expected in row_html, expected
        real = gw.get_server(server_id)
        assert set(real.networks) == {"front", "back"} and real.key_name == "compute-key"
        assert set(real.security_groups) == {"default", "web"}

    first, second = servers["app-1"], servers["app-2"]
    overview = text(client.get(f"/compute/servers/{first}/").content.decode())
    assert "web" in overview and "tcp" in overview and "80" in overview and "role app" in overview

    # Every action, as the buttons post them, each waited for until Nova settles it. The two
    # servers are driven side by side (own sign-in each) to keep the test short.
    def state_actions() -> None:
        browser = tenant.sign_in(Client())
        for path, data, status in (
            ("pause", {}, "PAUSED"),
            ("unpause", {}, "ACTIVE"),
            ("suspend", {}, "SUSPENDED"),
            ("resume", {}, "ACTIVE"),
            ("stop", {}, "SHUTOFF"),
            ("start", {}, "ACTIVE"),
            ("reboot", {}, "ACTIVE"),
            ("reboot", {"hard": "1"}, "ACTIVE"),
            ("rescue", {"image": "", "password": ""}, "RESCUE"),
            ("unrescue", {}, "ACTIVE"),
            ("rebuild", {"image": known["image"]}, "ACTIVE"),
            ("shelve", {}, "SHELVED_OFFLOADED"),
            ("unshelve", {}, "ACTIVE"),
        ):
            act(browser, first, path, data)
            assert settled(gw, first).status == status, path

        # Lock: Nova refuses the owner's actions, the portal says why; unlock.
        act(browser, first, "lock")
        refused = browser.post(f"/compute/servers/{first}/stop/", follow=True)
        assert "is locked" in text(refused.content.decode())
        assert "Unlock it first" in text(refused.content.decode())
        act(browser, first, "unlock")
        assert not gw.get_server(first).locked

        # Snapshot: Glance has the image at once; the fake driver uploads no data, so it
        # stays queued on the devcloud.
        act(browser, first, "snapshot", {"name": "app-snap"})
        snapshot = wait_for(lambda: conn.image.find_image("app-snap"), 30, "snapshot image")
        assert snapshot.status in ("queued", "saving", "active")
        assert snapshot.instance_uuid == first
        settled(gw, first)

    def resource_actions() -> None:
        browser = tenant.sign_in(Client())
        for path, data, status in (
            ("resize", {"flavor": known["m1.tiny"]}, "VERIFY_RESIZE"),
            ("resize/revert", {}, "ACTIVE"),
            ("resize", {"flavor": known["m1.tiny"]}, "VERIFY_RESIZE"),
        ):
            act(browser, second, path, data)
            assert settled(gw, second).status == status, path
        page = act(browser, second, "resize/confirm")
        assert "leaving=VERIFY_RESIZE" in page  # the header watches Nova finish the confirm
        wait_for(lambda: gw.get_server(second).status == "ACTIVE", 60, "confirmed resize")
        assert gw.get_server(second).flavor.name == "m1.tiny"

        # Edit: rename and drop the web security group.
        act(
            browser,
            second,
            "edit",
            {"name": "app-two", "description": "tier 2", "security_groups": [default.id]},
        )
        edited = gw.get_server(second)
        assert (edited.name, edited.description) == ("app-two", "tier 2")
        assert edited.security_groups == ("default",)

        # Interfaces: attach one on "back" again, then detach it.
        before = {p.id for p in gw.list_ports(device_id=second)}
        act(browser, second, "interfaces", {"network": net2.id, "port": ""})
        added = wait_for(
            lambda: {p.id for p in gw.list_ports(device_id=second)} - before, 60, "new port"
        )
        act(browser, second, "interfaces/remove", {"port": added.pop()})
        wait_for(lambda: {p.id for p in gw.list_ports(device_id=second)} == before, 60, "detach")

        # Floating IP: allocate from public1 onto the front port, then disassociate.
        front = next(p for p in gw.list_ports(device_id=second) if p.network_id == net1.id)
        act(browser, second, "floating-ip", {"floating_ip": f"new:{public.id}", "port": front.id})
        fip = next(conn.network.ips(port_id=front.id))
        assert fip.floating_ip_address.startswith("192.168.")
        act(browser, second, "floating-ip/remove", {"floating_ip": fip.id})
        assert conn.network.get_ip(fip.id).port_id is None

        # Volumes (Cinder with a fake driver): attach, then detach.
        wait_for(lambda: conn.block_storage.get_volume(volume.id).status == "available", 60, "v")
        act(browser, second, "volumes", {"volume": volume.id})
        wait_for(lambda: conn.block_storage.get_volume(volume.id).status == "in-use", 60, "in-use")
        assert "data (1 GB)" in browser.get(f"/compute/servers/{second}/").content.decode()
        act(browser, second, "volumes/remove", {"volume": volume.id})
        wait_for(lambda: conn.block_storage.get_volume(volume.id).status == "available", 60, "off")

    def in_thread(work: Any) -> Any:
        def run() -> None:
            try:
                work()
            finally:
                db.connection.close()  # each thread's own database connection

        return run

    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(in_thread(state_actions)), pool.submit(in_thread(resource_actions))]
        for job in jobs:
            job.result()

    # Log, console and action log tabs.
    log = client.get(f"/compute/servers/{first}/?tab=log&lines=100").content.decode()
    assert "FAKE CONSOLE OUTPUT" in log
    console = client.get(f"/compute/servers/{first}/?tab=console").content.decode()
    assert re.search(r'<iframe[^>]+src="http://127.0.0.1:6080/vnc_auto.html\?path=', console)
    actions_tab = client.get(f"/compute/servers/{first}/?tab=actions").content.decode()
    for name in ("create", "pause", "rescue", "lock", "shelve", "createImage"):
        assert f"<td>{name}</td>" in actions_tab, name
    assert re.search(r"req-[0-9a-f-]{36}", actions_tab) and tenant.user.id in actions_tab

    # Delete with confirmation: the row goes away once Nova has deleted the server.
    confirm = client.get(f"/compute/servers/{first}/delete/").content.decode()
    assert "This cannot be undone." in confirm
    response = client.post(f"/compute/servers/{first}/delete/")
    assert response["Location"] == "/compute/servers/"
    row_url = f"/compute/servers/{first}/row/"
    wait_for(lambda: client.get(row_url, headers=HTMX).content == b"", 120, "deleted")


def test_no_valid_host_quota_of_one_boot_from_volume_and_bulk_delete(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("compute-limits")
    conn = tenant.conn
    known = ids(conn)
    net, _subnet = network(conn, "only", "10.63.0.0/24")
    client = tenant.sign_in(Client())
    gw = ComputeGateway(conn)
    common = {"image": known["image"], "nic_1": f"net:{net.id}", "security_groups": []}

    # Enough RAM quota for x1.oversize (64 GiB), which no 32 GiB host can take.
    sdk_admin.set_compute_quotas(tenant.project.id, ram=200000, instances=10)
    response = client.post(
        "/compute/servers/launch/",
        launch_data(name="huge", flavor=known["x1.oversize"], **common),
    )
    assert response.status_code == 302, text(response.content.decode())[:2000]
    huge = next(conn.compute.servers(name="^huge$"))
    assert settled(gw, huge.id).status == "ERROR"
    listing = text(client.get("/compute/servers/").content.decode())
    assert "No valid host was found" in listing
    assert "No compute host has room for this flavor" in listing
    detail = text(client.get(f"/compute/servers/{huge.id}/").content.decode())
    assert "Nova reports a fault: No valid host was found" in detail

    # Boot from an existing bootable volume (the fake virt driver needs no data in it).
    volume = conn.block_storage.create_volume(size=1, name="boot-disk")
    wait_for(lambda: conn.block_storage.get_volume(volume.id).status == "available", 60, "vol")
    conn.block_storage.set_volume_bootable_status(volume, True)
    wizard = client.get(f"/compute/servers/launch/?volume={volume.id}").content.decode()
    assert re.search(rf'value="{volume.id}"[^>]*selected', wizard)
    response = client.post(
        "/compute/servers/launch/",
        launch_data(
            name="from-volume",
            flavor=known["m1.nano"],
            source_type="volume",
            volume=volume.id,
            **{**common, "image": ""},
        ),
    )
    assert response.status_code == 302, text(response.content.decode())[:2000]
    from_volume = next(conn.compute.servers(name="^from-volume$"))
    assert settled(gw, from_volume.id).status == "ACTIVE"
    row = client.get(f"/compute/servers/{from_volume.id}/row/", headers=HTMX).content.decode()
    assert "Booted from volume" in row

    # Boot from a new volume made from the image: the portal asks Nova for it (a block
    # device mapping from the image); the devcloud's Cinder writes it to RBD (Ceph), so the
    # server goes ACTIVE on a volume that is deleted with it.
    response = client.post(
        "/compute/servers/launch/",
        launch_data(
            name="on-new-volume",
            flavor=known["m1.nano"],
            create_volume="on",
            volume_size="1",
            delete_volume_on_delete="on",
            **common,
        ),
    )
    assert response.status_code == 302, page_errors(response.content.decode())
    new_volume = next(conn.compute.servers(name="^on-new-volume$"))
    built = settled(gw, new_volume.id)
    assert built.image_id == ""  # booted from a volume, not an image
    assert built.status == "ACTIVE" and len(built.volume_ids) == 1
    boot_volume = conn.block_storage.get_volume(built.volume_ids[0])
    assert boot_volume.status == "in-use" and boot_volume.is_bootable

    # Bulk delete them (the confirmation comes first without JavaScript).
    selected = {"action": "delete_server", "server_id": [huge.id, from_volume.id, new_volume.id]}
    confirm = client.post("/compute/servers/bulk/", selected).content.decode()
    assert "Delete these 3 instances?" in confirm and "<li>huge</li>" in confirm
    done = client.post("/compute/servers/bulk/", {**selected, "confirmed": "1"}, follow=True)
    assert "Deleting 3 instances." in done.content.decode()
    wait_for(lambda: not list(conn.compute.servers()), 120, "bulk delete")
    # delete_volume_on_delete: Nova deleted the new boot volume with its server
    wait_for(
        lambda: boot_volume.id not in {v.id for v in conn.block_storage.volumes()},
        120,
        "boot volume deleted",
    )

    # The wizard disables flavors the remaining quota cannot hold, with the reason.
    sdk_admin.set_compute_quotas(tenant.project.id, ram=1024)
    wizard = client.get("/compute/servers/launch/").content.decode()
    small = re.search(
        r"<tr[^>]*>\s*<td><input[^>]*>\s*</td>\s*<td><label[^>]*>m1\.small<.*?</tr>", wizard, re.S
    )
    assert small and "disabled" in small.group(0)
    assert "Not enough RAM quota left (1024 MB left)." in small.group(0)
    sdk_admin.set_compute_quotas(tenant.project.id, ram=51200)

    # A quota of one instance: the first launch goes, the second is refused before Nova.
    sdk_admin.set_compute_quotas(tenant.project.id, instances=1)
    first = client.post(
        "/compute/servers/launch/", launch_data(name="one", flavor=known["m1.nano"], **common)
    )
    assert first.status_code == 302
    # Nova's /limits counts an instance only once it has left the build-request stage (a
    # second or so); until then only Nova's own quota check at create time sees it.
    one = next(conn.compute.servers(name="^one$"))
    settled(gw, one.id)
    second = client.post(
        "/compute/servers/launch/", launch_data(name="two", flavor=known["m1.nano"], **common)
    )
    assert second.status_code == 400, page_errors(second.content.decode())
    errors = page_errors(second.content.decode())
    assert "Your project can launch 0 more instances (quota 1, 1 in use)." in errors, errors
    assert [s.name for s in conn.compute.servers()] == ["one"]
    assert "quota reached" in client.get("/compute/servers/").content.decode()

    # Nova's own refusal, had the launch reached it, is what the portal shows with a hint.
    spec = LaunchSpec(
        name="three",
        flavor_id=known["m1.nano"],
        source_type="image",
        source_id=known["image"],
        nics=(Nic(network_id=net.id),),
    )
    with pytest.raises(Rejected) as refused:
        gw.create_server(spec)
    assert refused.value.status == 403 and "Quota exceeded for instances" in str(refused.value)
    assert "used up its quota" in explain(refused.value)
