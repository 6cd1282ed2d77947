"""The same checks against the in-memory fake and the real gateway on the devcloud, so the
fake the unit tests use cannot drift from what Nova does: paging with markers, filters,
key pairs, server groups, state conflicts, locks, and the words of each refusal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from compute import gateway as g
from compute.tests.fakes import FakeComputeGateway
from portal.errors import NotFound, Rejected

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


@dataclass
class Side:
    gw: g.ComputeGateway
    settle: Callable[[str], g.Server]
    pass_time: Callable[[], None]
    network_id: str
    image_id: str
    flavors: dict[str, str]


def _real(make_tenant: Any) -> Side:
    tenant = make_tenant("compute-contract")
    conn = tenant.conn
    net = conn.network.create_network(name="contract")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.64.0.0/24")
    gw = g.ComputeGateway(conn)

    def settle(server_id: str) -> g.Server:
        deadline = time.monotonic() + 120
        while (server := gw.get_server(server_id)).is_transitional:
            assert time.monotonic() < deadline, server
            time.sleep(0.5)
        return server

    flavors = {f.name: f.id for f in gw.list_flavors()}
    image = conn.image.find_image("tiny-qcow2")
    return Side(gw, settle, lambda: None, net.id, image.id, flavors)


def _fake() -> Side:
    fake = FakeComputeGateway()

    def settle(server_id: str) -> g.Server:
        fake.settle()
        return fake.get_server(server_id)

    flavors = {f.name: f.id for f in fake.flavors}
    return Side(fake, settle, fake.settle, "net-private", "img-cirros", flavors)


@pytest.fixture(params=["fake", "real"])
def side(request: pytest.FixtureRequest, portal_clouds_yaml: Any) -> Iterator[Side]:
    if request.param == "fake":
        yield _fake()
    else:
        yield _real(request.getfixturevalue("make_tenant"))


def test_servers_page_filter_and_conflict_alike(side: Side) -> None:
    gw = side.gw
    first = gw.create_server(
        g.LaunchSpec(
            name="node",
            flavor_id=side.flavors["m1.nano"],
            source_type="image",
            source_id=side.image_id,
            count=3,
            nics=(g.Nic(network_id=side.network_id),),
        )
    )
    page = gw.list_servers(g.ServerQuery(limit=10))
    ids = [s.id for s in page.servers]
    assert len(ids) == 3 and first in ids, [s.name for s in page.servers]
    assert sorted(s.name for s in page.servers) == ["node-1", "node-2", "node-3"]
    for server_id in ids:
        assert side.settle(server_id).status == "ACTIVE"

    # Marker paging, forward and back, by name.
    by_name = g.ServerQuery(limit=2, sort_key="display_name", sort_dir="asc")
    one = gw.list_servers(by_name)
    assert [s.name for s in one.servers] == ["node-1", "node-2"]
    assert one.next_marker and not one.prev_marker
    two = gw.list_servers(g.ServerQuery(**{**by_name.__dict__, "marker": one.next_marker}))
    assert [s.name for s in two.servers] == ["node-3"] and not two.next_marker
    back = gw.list_servers(
        g.ServerQuery(**{**by_name.__dict__, "marker": two.prev_marker, "backwards": True})
    )
    assert [s.name for s in back.servers] == ["node-1", "node-2"] and not back.prev_marker

    # Filters are regular expressions in Nova: the portal escapes what users type.
    assert [s.name for s in gw.list_servers(g.ServerQuery(name="node\\-2")).servers] == ["node-2"]
    assert not gw.list_servers(g.ServerQuery(status="SHUTOFF")).servers

    # A conflicting state and a lock are refused with Nova's words.
    target = one.servers[0].id
    gw.stop_server(target)
    assert side.settle(target).status == "SHUTOFF"
    with pytest.raises(Rejected) as conflict:
        gw.pause_server(target)
    assert conflict.value.status == 409
    assert f"Cannot 'pause' instance {target} while it is in vm_state stopped" in str(
        conflict.value
    )
    gw.lock_server(target)
    with pytest.raises(Rejected) as locked:
        gw.start_server(target)
    assert locked.value.status == 409 and "is locked" in str(locked.value)
    gw.unlock_server(target)

    with pytest.raises(NotFound):
        gw.get_server("00000000-0000-0000-0000-000000000000")
    for server_id in ids:
        gw.delete_server(server_id)
    # Deleted servers leave Nova's list once the compute hosts are done.
    side.pass_time()
    deadline = time.monotonic() + 120
    while gw.list_servers(g.ServerQuery()).servers:
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_key_pairs_and_server_groups_alike(side: Side) -> None:
    gw = side.gw
    created = gw.create_keypair("contract-key")
    assert "PRIVATE KEY-----" in created.private_key and created.fingerprint
    assert [k.name for k in gw.list_keypairs()] == ["contract-key"]
    with pytest.raises(Rejected) as duplicate:
        gw.create_keypair("contract-key")
    assert duplicate.value.status == 409 and "already exists" in str(duplicate.value)
    gw.delete_keypair("contract-key")
    with pytest.raises(NotFound):
        gw.delete_keypair("contract-key")

    group = gw.create_server_group("spread", "soft-anti-affinity")
    assert [(x.name, x.policy) for x in gw.list_server_groups()] == [
        ("spread", "soft-anti-affinity")
    ]
    gw.delete_server_group(group.id)
    with pytest.raises(NotFound):
        gw.delete_server_group(group.id)

    flavors = {f.name: f for f in gw.list_flavors()}
    assert (flavors["m1.nano"].vcpus, flavors["m1.nano"].ram, flavors["m1.nano"].disk) == (
        1,
        128,
        1,
    )
    limits = gw.get_limits()
    assert limits.instances >= 1 and limits.instances_used == 0
