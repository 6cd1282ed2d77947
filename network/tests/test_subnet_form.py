"""Every subnet field is checked before Neutron sees it: each bad value gets its message at its
field, and good values come out in Neutron's words."""

from __future__ import annotations

from typing import Any

import pytest

from network.forms import SubnetForm
from network.gateway import Subnet


def form(others: tuple[Subnet, ...] = (), **changes: Any) -> SubnetForm:
    data = {
        "name": "",
        "cidr": "192.168.10.0/24",
        "ip_version": "4",
        "gateway_ip": "",
        "enable_dhcp": "on",
        "allocation_pools": "",
        "dns_nameservers": "",
        "host_routes": "",
        "ipv6_mode": "",
    }
    data.update(changes)
    return SubnetForm({k: v for k, v in data.items() if v is not None}, others=others)


EXISTING = Subnet("s1", "a", "n1", "p", "10.0.0.0/16", 4, "10.0.0.1", True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cidr": ""}, "cidr", "This field is required."),
        ({"cidr": "192.168.10.0"}, "cidr", "“192.168.10.0” has no prefix length."),
        ({"cidr": "192.168.300.0/24"}, "cidr", "“192.168.300.0/24” is not a network address."),
        ({"cidr": "192.168.10.0/33"}, "cidr", "is not a network address"),
        ({"cidr": "192.168.10.7/24"}, "cidr", "the network address is 192.168.10.0/24"),
        ({"cidr": "192.168.10.0/31"}, "cidr", "192.168.10.0/31 is too small to hold any host."),
        (
            {"cidr": "fd00::/64"},
            "cidr",
            "fd00::/64 is an IPv6 network, but IP version 4 is chosen.",
        ),
        ({"cidr": "10.0.5.0/24"}, "cidr", "10.0.5.0/24 overlaps subnet a (10.0.0.0/16)"),
        ({"ip_version": "5"}, "ip_version", "Select a valid choice."),
        ({"gateway_ip": "192.168.11.1"}, "gateway_ip", "The gateway 192.168.11.1 is not a host"),
        ({"gateway_ip": "192.168.10.0"}, "gateway_ip", "is not a host address inside"),
        ({"gateway_ip": "192.168.10.255"}, "gateway_ip", "is not a host address inside"),
        ({"gateway_ip": "gateway"}, "gateway_ip", "“gateway” is not an IP address."),
        (
            {"gateway_ip": "fd00::1"},
            "gateway_ip",
            "fd00::1 is an IPv6 address, but this needs IPv4.",
        ),
        (
            {"gateway_ip": "192.168.10.1", "no_gateway": "on"},
            "gateway_ip",
            "Leave the gateway empty when there is none.",
        ),
        (
            {"allocation_pools": "192.168.10.50"},
            "allocation_pools",
            "needs two values separated by a comma",
        ),
        (
            {"allocation_pools": "192.168.10.50,192.168.11.9"},
            "allocation_pools",
            "is not inside the host addresses of 192.168.10.0/24",
        ),
        (
            {"allocation_pools": "192.168.10.90,192.168.10.50"},
            "allocation_pools",
            "The pool 192.168.10.90-192.168.10.50 ends before it starts.",
        ),
        (
            {"allocation_pools": "192.168.10.10,192.168.10.50\n192.168.10.40,192.168.10.60"},
            "allocation_pools",
            "The pools 192.168.10.10-192.168.10.50 and 192.168.10.40-192.168.10.60 overlap.",
        ),
        (
            {"allocation_pools": "192.168.10.1,192.168.10.20"},
            "allocation_pools",
            "contains the gateway 192.168.10.1",
        ),
        (
            {"gateway_ip": "192.168.10.30", "allocation_pools": "192.168.10.2,192.168.10.40"},
            "allocation_pools",
            "contains the gateway 192.168.10.30",
        ),
        ({"dns_nameservers": "8.8.8.8\ndns.google"}, "dns_nameservers", "“dns.google” is not"),
        ({"dns_nameservers": "8.8.8.8\n8.8.8.8"}, "dns_nameservers", "8.8.8.8 is listed twice."),
        (
            {"dns_nameservers": "\n".join(f"10.0.0.{i}" for i in range(1, 7))},
            "dns_nameservers",
            "At most 5 DNS name servers are allowed.",
        ),
        ({"host_routes": "10.50.0.0/24"}, "host_routes", "needs two values"),
        ({"host_routes": "10.50.0.9/24,192.168.10.5"}, "host_routes", "has host bits set"),
        ({"host_routes": "10.50.0.0/24,fd00::5"}, "host_routes", "but this needs IPv4"),
        (
            {"host_routes": "10.50.0.0/24,192.168.10.5\n10.50.0.0/24,192.168.10.5"},
            "host_routes",
            "The route to 10.50.0.0/24 is listed twice.",
        ),
        ({"ipv6_mode": "slaac"}, "ipv6_mode", "IPv6 address modes apply to IPv6 subnets only."),
        (
            {"cidr": "fd00::/80", "ip_version": "6", "ipv6_mode": "slaac"},
            "cidr",
            "SLAAC needs a /64 network; fd00::/80 is not one.",
        ),
    ],
)
def test_bad_values_are_refused_at_their_field(
    changes: dict[str, Any], field: str, message: str
) -> None:
    f = form(others=(EXISTING,), **changes)
    assert not f.is_valid()
    assert any(message in e for e in f.errors.get(field, [])), f.errors


def test_a_full_ipv4_subnet_in_neutrons_words() -> None:
    f = form(
        name="web",
        gateway_ip="192.168.10.254",
        enable_dhcp=None,
        allocation_pools="192.168.10.10,192.168.10.99\n192.168.10.100-192.168.10.200",
        dns_nameservers="8.8.8.8\n2001:4860:4860::8888",
        host_routes="10.50.0.0/24,192.168.10.5",
    )
    assert f.is_valid(), f.errors
    assert f.subnet_attrs() == {
        "name": "web",
        "cidr": "192.168.10.0/24",
        "ip_version": 4,
        "gateway_ip": "192.168.10.254",
        "is_dhcp_enabled": False,
        "allocation_pools": [
            {"start": "192.168.10.10", "end": "192.168.10.99"},
            {"start": "192.168.10.100", "end": "192.168.10.200"},
        ],
        "dns_nameservers": ["8.8.8.8", "2001:4860:4860::8888"],
        "host_routes": [{"destination": "10.50.0.0/24", "nexthop": "192.168.10.5"}],
    }


def test_no_gateway_and_defaults() -> None:
    f = form(no_gateway="on")
    assert f.is_valid(), f.errors
    attrs = f.subnet_attrs()
    assert attrs["gateway_ip"] is None and "allocation_pools" not in attrs
    f = form()  # empty gateway: Neutron picks the first address
    assert f.is_valid() and "gateway_ip" not in f.subnet_attrs()


def test_ipv6_with_a_mode() -> None:
    f = form(
        cidr="fd00:10::/64", ip_version="6", ipv6_mode="dhcpv6-stateful", gateway_ip="fd00:10::1"
    )
    assert f.is_valid(), f.errors
    attrs = f.subnet_attrs()
    assert attrs["ip_version"] == 6 and attrs["gateway_ip"] == "fd00:10::1"
    assert attrs["ipv6_address_mode"] == attrs["ipv6_ra_mode"] == "dhcpv6-stateful"


def test_another_ip_version_may_share_the_network() -> None:
    assert form(others=(EXISTING,), cidr="fd00::/64", ip_version="6").is_valid()
