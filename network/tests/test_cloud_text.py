"""Text Neutron cannot store: its MySQL tables are utf8 (three bytes a character), so an emoji
in a name or description used to reach Neutron and come back as a 500. Every form that sends
a name or a description refuses it at the field, and nothing is created or changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client

from network.tests.fakes import FakeNetworkGateway
from network.tests.test_networks import network_form
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

EMOJI = "web \U0001f600"  # U+1F600, beyond the Basic Multilingual Plane
MESSAGE = "The cloud cannot store emoji or other characters beyond U+FFFF"


def state(fake: FakeNetworkGateway) -> Any:
    return copy.deepcopy(
        (fake.networks, fake.subnets, fake.ports, fake.routers, fake.groups, fake.fips)
    )


def refused(response: Any, field_text: str = MESSAGE) -> None:
    assert response.status_code == 400, response.status_code
    errors = page_errors(response.content.decode())
    assert any(field_text in e and "U+1F600" in e for e in errors), errors


@pytest.mark.parametrize(
    "changes",
    [
        {"description": EMOJI},
        {"name": EMOJI},
        {"subnet-name": EMOJI},
    ],
)
def test_create_network_refuses_emoji(
    member_client: Client, fake: FakeNetworkGateway, changes: dict[str, str]
) -> None:
    before = state(fake)
    refused(member_client.post("/network/networks/create/", network_form(**changes)))
    assert state(fake) == before


def test_every_other_neutron_form_refuses_emoji(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    net = fake.create_network(name="web", description="")
    router = fake.create_router(name="edge")
    group = fake.create_security_group(name="web", description="")
    before = state(fake)
    posts = [
        (f"/network/networks/{net.id}/edit/", {"name": "web", "description": EMOJI}),
        (
            f"/network/networks/{net.id}/subnets/create/",
            {"name": EMOJI, "cidr": "10.9.0.0/24", "ip_version": "4", "enable_dhcp": "on"},
        ),
        (f"/network/networks/{net.id}/ports/create/", {"name": EMOJI, "admin_state_up": "on"}),
        ("/network/routers/create/", {"name": EMOJI}),
        (f"/network/routers/{router.id}/edit/", {"name": "edge", "description": EMOJI}),
        ("/network/security-groups/create/", {"name": "db", "description": EMOJI}),
        (f"/network/security-groups/{group.id}/edit/", {"name": EMOJI, "description": ""}),
        (
            f"/network/security-groups/{group.id}/rules/create/",
            {
                "direction": "ingress",
                "ether_type": "IPv4",
                "protocol": "tcp",
                "port": "22",
                "remote": "cidr",
                "description": EMOJI,
            },
        ),
        (
            "/network/floating-ips/allocate/",
            {"floating_network_id": fake.public_id, "description": EMOJI},
        ),
    ]
    for url, data in posts:
        response = member_client.post(url, data)
        assert response.status_code == 400, (url, response.status_code)
        assert MESSAGE in response.content.decode(), url
    assert state(fake) == before


def test_text_of_the_basic_plane_is_stored(member_client: Client, fake: FakeNetworkGateway) -> None:
    """Accents, CJK and symbols below U+FFFF are fine for Neutron: only the emoji goes."""
    text = "réseau 网络 ☃ 네트워크"
    response = member_client.post(
        "/network/networks/create/", network_form(description=text, with_subnet=None)
    )
    assert response.status_code == 302
    (net,) = [n for n in fake.networks.values() if n.name == "web"]
    assert net.description == text
