"""Routers: gateway, interfaces, static routes, deletion, against the fake Neutron."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from network.gateway import Route, Router, Subnet
from network.tasks import delete_router
from network.tests.fakes import FakeNetworkGateway
from portal.errors import CloudUnavailable, Rejected
from portal.models import Operation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def layout(fake: FakeNetworkGateway) -> tuple[Router, Subnet, Subnet]:
    """The 2d-was layout: a network with two subnets and a router on public1."""
    net = fake.create_network(name="was-net")
    a = fake.create_subnet(network_id=net.id, cidr="172.31.0.0/24", ip_version=4, name="a")
    b = fake.create_subnet(network_id=net.id, cidr="172.31.1.0/24", ip_version=4, name="b")
    router = fake.create_router("was-router", True, fake.public_id)
    return router, a, b


def test_list_routers(member_client: Client, fake: FakeNetworkGateway) -> None:
    router, _a, _b = layout(fake)
    fake.calls = 0
    page = member_client.get("/network/routers/").content.decode()
    assert fake.calls == 3
    assert "was-router" in page and "public1" in page and router.external_ips[0].ip_address in page
    assert "1 of 10 used" in page


def test_create_router_with_a_gateway(member_client: Client, fake: FakeNetworkGateway) -> None:
    form = member_client.get("/network/routers/create/").content.decode()
    assert "public1" in form and "No gateway" in form and "0 of 10 used" in form
    response = member_client.post(
        "/network/routers/create/",
        {"name": "edge", "admin_state_up": "on", "external_network_id": fake.public_id},
    )
    router = next(r for r in fake.routers.values() if r.name == "edge")
    assert response["Location"] == f"/network/routers/{router.id}/"
    assert router.external_network_id == fake.public_id and router.external_ips


def test_create_router_quota(member_client: Client, fake: FakeNetworkGateway) -> None:
    fake.limits["router"] = 0
    response = member_client.post("/network/routers/create/", {"name": "edge"})
    assert response.status_code == 400
    assert "Quota exceeded for resources: [&#x27;router&#x27;]." in response.content.decode()


def test_detail_interfaces_and_routes_in_four_calls(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    router, a, b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    fake.add_interface_to_router(router.id, subnet_id=b.id)
    fake.add_extra_routes_to_router(router.id, [Route("10.50.0.0/24", "172.31.0.60")])
    fake.calls = 0
    page = member_client.get(f"/network/routers/{router.id}/").content.decode()
    assert fake.calls == 4
    assert "172.31.0.1" in page and "172.31.1.1" in page and "was-net" in page
    assert "10.50.0.0/24" in page and "172.31.0.60" in page
    assert "public1" in page and "Clear gateway" in page


def test_set_and_clear_the_gateway(member_client: Client, fake: FakeNetworkGateway) -> None:
    router = fake.create_router("edge")
    url = f"/network/routers/{router.id}/gateway/"
    response = member_client.post(url, {"network_id": fake.public_id})
    assert response.status_code == 302
    assert fake.routers[router.id].external_network_id == fake.public_id
    response = member_client.post(
        f"/network/routers/{router.id}/gateway/clear/", {"name": "edge", "stay": "1"}, headers=HTMX
    )
    assert "Gateway of router edge cleared." in response.content.decode()
    assert fake.routers[router.id].external_network_id is None
    # only external networks may be chosen
    net = fake.create_network(name="inside")
    response = member_client.post(url, {"network_id": net.id})
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()


def test_add_interfaces_by_subnet_and_by_address(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    router, a, b = layout(fake)
    url = f"/network/routers/{router.id}/interfaces/add/"
    form = member_client.get(url).content.decode()
    assert "was-net: a (172.31.0.0/24)" in form
    assert member_client.post(url, {"subnet_id": a.id}).status_code == 302
    form = member_client.get(url).content.decode()
    assert "172.31.0.0/24" not in form  # already attached: not offered again
    response = member_client.post(url, {"subnet_id": b.id, "ip_address": "172.31.0.9"})
    assert "172.31.0.9 is not a host address in 172.31.1.0/24." in response.content.decode()
    assert (
        member_client.post(url, {"subnet_id": b.id, "ip_address": "172.31.1.254"}).status_code
        == 302
    )
    addresses = sorted(
        ip.ip_address for p in fake.ports.values() if p.device_id == router.id for ip in p.fixed_ips
    )
    assert addresses == ["172.31.0.1", "172.31.1.254"]


def test_interface_refusal_keeps_no_port_behind(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    router, a, _b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    url = f"/network/routers/{router.id}/interfaces/add/"
    # a subnet already attached, offered by a stale form: Neutron's reason is shown
    response = member_client.post(url, {"subnet_id": a.id})
    assert response.status_code == 400
    ports_before = set(fake.ports)
    fake.refusals["add_interface_to_router"] = Rejected("Router already has a port on subnet", 400)
    b = next(s for s in fake.subnets.values() if s.name == "b")
    response = member_client.post(url, {"subnet_id": b.id, "ip_address": "172.31.1.77"})
    assert "Router already has a port on subnet" in response.content.decode()
    assert set(fake.ports) == ports_before  # the port made for the address was removed again


def test_static_routes(member_client: Client, fake: FakeNetworkGateway) -> None:
    router, a, _b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    url = f"/network/routers/{router.id}/routes/add/"
    response = member_client.post(url, {"destination": "10.50.0.0/24", "nexthop": "10.99.0.1"})
    assert "10.99.0.1 is not on any subnet this router is connected to" in response.content.decode()
    response = member_client.post(url, {"destination": "10.50.0.5/24", "nexthop": "172.31.0.60"})
    assert "has host bits set" in response.content.decode()
    response = member_client.post(url, {"destination": "10.50.0.0/24", "nexthop": "fd00::1"})
    assert "but this needs IPv4" in response.content.decode()
    assert (
        member_client.post(
            url, {"destination": "10.50.0.0/24", "nexthop": "172.31.0.60"}
        ).status_code
        == 302
    )
    assert fake.routers[router.id].routes == (Route("10.50.0.0/24", "172.31.0.60"),)
    response = member_client.post(url, {"destination": "10.50.0.0/24", "nexthop": "172.31.0.60"})
    assert "The router already has this route." in response.content.decode()
    response = member_client.post(
        f"/network/routers/{router.id}/routes/remove/",
        {"destination": "10.50.0.0/24", "nexthop": "172.31.0.60", "stay": "1"},
        headers=HTMX,
    )
    assert "Route to 10.50.0.0/24 removed." in response.content.decode()
    assert fake.routers[router.id].routes == ()


def test_remove_interface_refused_while_a_route_needs_it(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    router, a, _b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    fake.add_extra_routes_to_router(router.id, [Route("10.50.0.0/24", "172.31.0.60")])
    port = next(p for p in fake.ports.values() if p.device_id == router.id)
    url = f"/network/routers/{router.id}/interfaces/remove/"
    response = member_client.post(
        url, {"port_id": port.id, "address": "172.31.0.1", "stay": "1"}, headers=HTMX
    )
    assert response.status_code == 409
    assert "required by one or more routes" in response.content.decode()
    fake.remove_extra_routes_from_router(router.id, list(fake.routers[router.id].routes))
    response = member_client.post(url, {"port_id": port.id, "address": "172.31.0.1"})
    assert response.status_code == 302 and port.id not in fake.ports


def test_delete_router_is_a_job_that_removes_routes_and_interfaces_first(
    member_client: Client, fake: FakeNetworkGateway, django_capture_on_commit_callbacks: Any
) -> None:
    router, a, b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    fake.add_interface_to_router(router.id, subnet_id=b.id)
    fake.add_extra_routes_to_router(router.id, [Route("10.50.0.0/24", "172.31.0.60")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = member_client.post(
            f"/network/routers/{router.id}/delete/",
            {"name": "was-router", "stay": "1"},
            headers=HTMX,
        )
        member_client.post(  # a second click while it runs starts nothing new
            f"/network/routers/{router.id}/delete/",
            {"name": "was-router", "stay": "1"},
            headers=HTMX,
        )
    op = Operation.objects.get()
    assert (op.kind, op.target, op.target_name, op.state) == (
        "delete_router",
        router.id,
        "was-router",
        "queued",
    )
    assert len(callbacks) == 1
    html = response.content.decode()
    assert f'id="operation-{op.pk}-card"' in html and 'hx-swap-oob="beforeend"' in html
    page = member_client.get("/network/routers/", headers=HTMX).content.decode()
    assert "Deleting…" in page and "every 2s" in page  # the list polls while the job runs

    delete_router(op.pk)  # what the worker runs

    op.refresh_from_db()
    assert op.state == "succeeded", op.error
    assert op.result == {
        "seen": "was-router",
        "interfaces_removed": ["172.31.0.1", "172.31.1.1"],
        "deleted": "was-router",
    }
    assert router.id not in fake.routers
    assert not [p for p in fake.ports.values() if p.device_id == router.id]
    page = member_client.get("/network/routers/", headers=HTMX).content.decode()
    assert "was-router" not in page and "every 2s" not in page


def test_delete_router_job_is_resumable(member_client: Client, fake: FakeNetworkGateway) -> None:
    """A job that stopped half-way (here: the cloud went away) resumes and finishes."""
    router, a, b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    fake.add_interface_to_router(router.id, subnet_id=b.id)
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "was-router"})
    op = Operation.objects.get()
    fake.refusals["delete_router"] = CloudUnavailable("503 Service Unavailable")
    delete_router(op.pk)
    op.refresh_from_db()
    assert op.state == "queued" and "retrying" in op.log[-1][1]
    assert router.id in fake.routers and not fake._interfaces(router.id)
    delete_router(op.pk)
    op.refresh_from_db()
    assert op.state == "succeeded" and router.id not in fake.routers


def test_delete_router_from_its_page_opens_the_job(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    router = fake.create_router("edge")
    response = member_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    op = Operation.objects.get()
    assert response["Location"] == f"/operations/{op.pk}/"
    page = member_client.get(response["Location"]).content.decode()
    assert "Delete router" in page and "edge" in page


def test_delete_router_refused_while_a_floating_ip_needs_it(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    router, a, _b = layout(fake)
    fake.add_interface_to_router(router.id, subnet_id=a.id)
    server = fake.add_server("vm", a.network_id)
    port = next(p for p in fake.ports.values() if p.device_id == server.id)
    fip = fake.create_floating_ip(fake.public_id)
    fake.associate_floating_ip(fip.id, port.id)
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "was-router"})
    op = Operation.objects.get()
    delete_router(op.pk)
    op.refresh_from_db()
    assert op.state == "failed" and "required by one or more floating IPs" in op.error
    assert router.id in fake.routers


def test_delete_router_of_a_router_one_cannot_see_starts_nothing(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    response = member_client.post("/network/routers/no-such-router/delete/", {"name": "x"})
    assert response.status_code == 404
    assert not Operation.objects.exists()


def test_another_projects_delete_job_is_neither_reused_nor_shown(
    member_client: Client, outsider_client: Client, fake: FakeNetworkGateway
) -> None:
    """Defect 1 of the hardening issue: a study1 member's job for a demo router id blocked
    demo's own delete (it was reused) and marked the router "Deleting…" on demo's list."""
    router = fake.create_router("edge")
    outsider_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    theirs = Operation.objects.get()
    page = member_client.get("/network/routers/", headers=HTMX).content.decode()
    assert "edge" in page and "Deleting…" not in page
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    mine = Operation.objects.exclude(pk=theirs.pk).get()
    assert mine.project_id != theirs.project_id and mine.target == router.id


def test_delete_router_job_that_never_saw_the_router_fails(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    """ "The router is gone" is reported only by a job that saw the router before."""
    router = fake.create_router("edge")
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    op = Operation.objects.get()
    del fake.routers[router.id]  # gone, or never visible to this token, before the job ran
    delete_router(op.pk)
    op.refresh_from_db()
    assert op.state == "failed" and "gone" not in op.step and "deleted" not in op.result


def test_a_reader_starts_no_router_delete_and_is_not_sent_to_a_members_job(
    member_client: Client, reader_client: Client, fake: FakeNetworkGateway
) -> None:
    """The persona matrix found a reader's delete POST sent to the member's running job (and,
    without one, starting a job that Neutron would refuse later)."""
    router = fake.create_router("edge")
    reader_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    assert not Operation.objects.exists()
    member_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    response = reader_client.post(f"/network/routers/{router.id}/delete/", {"name": "edge"})
    assert response.status_code == 403 and "reader" in response.content.decode()
    assert Operation.objects.count() == 1
