"""The launch wizard: steps validated one by one and again on launch, the flavor table that
disables what does not fit, the quota meter, and the refusals before and from Nova."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from compute import gateway as g
from compute.tests.fakes import FakeComputeGateway
from portal import refs
from portal.errors import Rejected

pytestmark = pytest.mark.django_db
URL = "/compute/servers/launch/"
HTMX = {"HX-Request": "true"}


def complete(**changes: Any) -> dict[str, Any]:
    """A launch with every step filled in, as the wizard posts it."""
    data: dict[str, Any] = {
        "_step": "configuration",
        "_launch": "1",
        "name": "web",
        "description": "",
        "availability_zone": "",
        "count": "1",
        "source_type": "image",
        "image": "img-cirros",
        "flavor": "f-nano",
        "nic_1": "net:net-private",
        "security_groups": ["sg-default"],
        "key_name": "",
        "user_data": "",
        "server_group": "",
        "scheduler_hints": "",
        "metadata": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def visible_step(html: str) -> str:
    match = re.search(r'aria-current="step">\s*\d+\. ([^<]+?)\s*<', html)
    assert match
    return match.group(1).strip()


def flavor_row(html: str, name: str) -> str:
    match = re.search(
        rf"<tr[^>]*>\s*<td><input[^>]*>\s*</td>\s*<td><label[^>]*>{name}</label>.*?</tr>",
        html,
        re.S,
    )
    assert match, name
    return match.group(0)


def test_the_wizard_opens_on_details_with_every_step(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    html = member_client.get(URL).content.decode()
    assert visible_step(html) == "Details"
    for label in ("Source", "Flavor", "Networks", "Security and key pair", "Configuration"):
        assert label in html
    assert "0 + 1 / 10" in html  # quota meter: instances in use + this launch / limit


def test_a_preselected_image_disables_flavors_too_small_for_it(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    html = member_client.get(URL + "?image=img-big").content.decode()
    assert 'value="img-big" selected' in html
    nano = flavor_row(html, "m1.nano")
    assert "disabled" in nano and "Disk too small for the image (needs 10 GB)." in nano
    assert "Too little RAM for the image (needs 1024 MB)." in nano
    small = flavor_row(html, "m1.small")
    assert "disabled" not in small and "Fits" in small


def test_flavors_over_the_remaining_quota_are_disabled(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    html = member_client.get(URL).content.decode()
    oversize = flavor_row(html, "x1.oversize")
    assert "disabled" in oversize and "Not enough RAM quota left (51200 MB left)." in oversize


def test_next_validates_the_step_and_keeps_what_was_typed(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    response = member_client.post(
        URL,
        {
            "_step": "details",
            "_goto": "source",
            "name": "",
            "description": "my notes",
            "count": "0",
        },
        headers=HTMX,
    )
    html = response.content.decode()
    assert visible_step(html) == "Details"
    assert "This field is required." in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert "my notes" in html
    moved = member_client.post(
        URL, {"_step": "details", "_goto": "source", "name": "web", "count": "2"}, headers=HTMX
    ).content.decode()
    assert visible_step(moved) == "Source" and 'value="web"' in moved
    assert "invalid-feedback" not in moved  # later steps show no premature errors
    assert "0 + 2 / 10" in moved


def test_count_above_the_quota_is_refused_at_the_field(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.limits["instances"] = 3
    fake.add_server("a")
    response = member_client.post(URL, complete(count="3"))
    assert response.status_code == 400
    assert "Your project can launch 2 more instances (quota 3, 1 in use)." in text(response)
    assert fake.calls["create_server"] == 0  # refused before Nova is asked


def test_a_launch_over_the_vcpu_quota_never_reaches_nova(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.limits["cores"] = 3
    response = member_client.post(URL, complete(count="2", flavor="f-medium"))
    html = response.content.decode()
    assert visible_step(html) == "Flavor"
    assert "Not enough vCPU quota left (3 left)." in text(response)
    assert "2 + 4 / 3" not in html and "0 + 4 / 3" in html  # the meter shows the request
    assert "Over quota by 1" in text(response)
    assert fake.calls["create_server"] == 0


def test_flavor_too_small_for_the_image_is_refused(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    response = member_client.post(URL, complete(image="img-big", flavor="f-nano"))
    assert visible_step(response.content.decode()) == "Flavor"
    assert "Disk too small for the image (needs 10 GB)." in text(response)
    assert fake.calls["create_server"] == 0


def test_a_new_volume_lifts_the_flavor_disk_limit(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    too_small = member_client.post(
        URL, complete(image="img-big", flavor="f-tiny", create_volume="on", volume_size="5")
    )
    assert "The volume must be at least 10 GB for this source." in text(too_small)
    response = member_client.post(
        URL,
        complete(
            image="img-big",
            flavor="f-tiny",
            create_volume="on",
            volume_size="",
            delete_volume_on_delete="on",
        ),
    )
    # m1.tiny has 512 MB, big-disk wants 1024 MB of RAM: still refused, for RAM only.
    assert "Too little RAM for the image (needs 1024 MB)." in text(response)
    assert "Disk too small" not in text(response)
    ok = member_client.post(
        URL, complete(image="img-big", flavor="f-small", create_volume="on", volume_size="")
    )
    assert ok.status_code == 302
    spec = fake.launched[-1]
    assert spec.create_volume and spec.volume_size == 10 and spec.source_id == "img-big"


def test_missing_network_is_refused(member_client: Client, fake: FakeComputeGateway) -> None:
    response = member_client.post(URL, complete(nic_1=""))
    assert visible_step(response.content.decode()) == "Networks"
    assert "Choose at least one network for the instance." in text(response)


def test_a_project_without_networks_is_told_to_create_one(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.networks = [n for n in fake.networks if n.is_external and not n.is_shared]
    response = member_client.post(URL, complete(nic_1=""))
    assert "The project has no network to attach to. Create a network first." in text(response)


def test_an_existing_volume_boots_one_instance_only(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    volume = fake.add_volume("boot", size=1, is_bootable=True)
    html = member_client.get(URL + f"?volume={volume.id}").content.decode()
    assert f'value="{volume.id}" selected' in html and 'value="volume" checked' in html, html
    response = member_client.post(URL, complete(source_type="volume", volume=volume.id, count="2"))
    assert "An existing volume boots one instance only." in text(response)
    ok = member_client.post(URL, complete(source_type="volume", volume=volume.id, image=""))
    assert ok.status_code == 302 and fake.launched[-1].source_type == "volume"


def test_bad_metadata_and_hints_are_refused_by_line(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    response = member_client.post(URL, complete(metadata="role=web\nno equals sign"))
    assert visible_step(response.content.decode()) == "Configuration"
    assert "Line 2 is not key=value." in text(response)


def test_a_full_launch_reaches_nova_with_every_choice(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.keypairs["mykey"] = g.Keypair("mykey", "aa")
    group = fake.create_server_group("spread", "anti-affinity")
    response = member_client.post(
        URL,
        complete(
            name="web",
            description="front end",
            count="3",
            nic_1="net:net-other",
            nic_2="net:net-private",
            security_groups=["sg-default", "sg-web"],
            key_name="mykey",
            user_data="#cloud-config\npackages: [nginx]\n",
            config_drive="on",
            server_group=group.id,
            scheduler_hints="different_host=abc\nbuild_near_host_ip=10.0.0.1",
            metadata="role=web\ntier = front",
        ),
    )
    assert response.status_code == 302 and response["Location"] == "/compute/servers/"
    spec = fake.launched[-1]
    assert spec.nics == (g.Nic(network_id="net-other"), g.Nic(network_id="net-private"))
    assert spec.security_group_ids == ("sg-default", "sg-web") and spec.key_name == "mykey"
    assert spec.config_drive and spec.server_group_id == group.id
    assert spec.metadata == (("role", "web"), ("tier", "front"))
    attrs = g.launch_attrs(spec)
    assert attrs["min_count"] == attrs["max_count"] == 3
    assert attrs["networks"] == [{"uuid": "net-other"}, {"uuid": "net-private"}]
    assert attrs["scheduler_hints"] == {
        "different_host": "abc",
        "build_near_host_ip": "10.0.0.1",
        "group": group.id,
    }
    page = member_client.get(response["Location"]).content.decode()
    assert "Launching 3 instances named web-1 to web-3." in page
    assert page.count('text-bg-primary">BUILD') == 3  # the new rows, at once
    assert page.count("every 2s") == 3  # and they poll
    fake.settle()
    assert {fs.server.status for fs in fake.servers.values()} == {"ACTIVE"}


def test_htmx_launch_redirects_the_browser(member_client: Client, fake: FakeComputeGateway) -> None:
    response = member_client.post(URL, complete(), headers=HTMX)
    assert response.headers["HX-Redirect"] == "/compute/servers/"


def test_novas_refusal_is_shown_on_the_wizard(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.refusals["create_server"] = Rejected(
        "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances", 403
    )
    response = member_client.post(URL, complete(description="kept"))
    assert response.status_code == 400
    body = text(response)
    assert "The cloud refused the launch: Quota exceeded for instances" in body
    assert "used up its quota" in body
    assert "kept" in response.content.decode()


def test_a_launch_that_ends_without_a_host_shows_the_fault(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.limits["ram"] = -1  # unlimited, so only the hosts can refuse x1.oversize
    member_client.post(URL, complete(name="huge", flavor="f-oversize"))
    fake.settle()
    page = text(member_client.get("/compute/servers/"))
    assert "No valid host was found. There are not enough hosts available." in page
    assert "No compute host has room for this flavor" in page


def test_a_key_pair_created_from_the_wizard_is_chosen(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    response = member_client.post(
        "/compute/keypairs/create/", {"name": "fresh", "for": "launch"}, headers=HTMX
    )
    html = response.content.decode()
    assert "BEGIN RSA PRIVATE KEY" in html
    assert 'id="launch-keypair-field" class="mb-3" hx-swap-oob="true"' in html
    assert '<option value="fresh" selected>fresh</option>' in html


def test_the_only_own_network_is_preselected(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.networks = [n for n in fake.networks if n.id != "net-other"]
    html = member_client.get(URL).content.decode()
    assert '<option value="net:net-private" selected>' in html
    assert "public1" in html  # a shared external network is offered, not chosen


def test_a_snapshot_preselects_the_snapshot_source(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    server = fake.add_server("vm")
    image_id = fake.create_server_image(server.id, "vm-snap")
    fake.images = [refs.Image(**{**i.__dict__, "status": "active"}) for i in fake.images]
    html = member_client.get(URL + f"?image={image_id}").content.decode()
    assert 'value="snapshot" checked' in html and f'value="{image_id}" selected' in html


def test_a_volume_snapshot_boots_on_a_new_volume_of_its_size(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    fake.volume_snapshots = [refs.VolumeSnapshot("snap-1", "nightly", 3, "available", "vol-x")]
    small = member_client.post(
        URL,
        complete(
            source_type="volume_snapshot", volume_snapshot="snap-1", image="", volume_size="2"
        ),
    )
    assert "The volume must be at least 3 GB for this source." in text(small)
    ok = member_client.post(
        URL, complete(source_type="volume_snapshot", volume_snapshot="snap-1", image="")
    )
    assert ok.status_code == 302
    attrs = g.launch_attrs(fake.launched[-1])
    assert "image_id" not in attrs
    assert attrs["block_device_mapping"] == [
        {
            "boot_index": 0,
            "uuid": "snap-1",
            "source_type": "snapshot",
            "destination_type": "volume",
            "delete_on_termination": False,
            "volume_size": 3,
        }
    ]
