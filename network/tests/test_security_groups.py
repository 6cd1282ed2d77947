"""Security groups and their rules: every rule field, presets, duplicates and invalid rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from network.forms import SecurityGroupRuleForm
from network.gateway import SecurityGroup, SecurityGroupRule
from network.tests.fakes import FakeNetworkGateway

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def rule(**changes: Any) -> dict[str, Any]:
    data = {
        "direction": "ingress",
        "ether_type": "IPv4",
        "protocol": "tcp",
        "protocol_number": "",
        "port": "22",
        "icmp_type": "",
        "icmp_code": "",
        "remote": "cidr",
        "remote_ip_prefix": "0.0.0.0/0",
        "remote_group_id": "",
        "description": "",
    }
    data.update(changes)
    return data


def test_list_security_groups(member_client: Client, fake: FakeNetworkGateway) -> None:
    fake.create_security_group("web", "front ends")
    fake.calls = 0
    page = member_client.get("/network/security-groups/").content.decode()
    assert fake.calls == 2
    assert "default" in page and "web" in page and "front ends" in page
    assert "2 of 10 used" in page and "4 of 100 used" in page  # groups, and their rules
    assert "Delete security group web" in page
    assert "Delete security group default" not in page


def test_create_edit_delete_group(member_client: Client, fake: FakeNetworkGateway) -> None:
    response = member_client.post(
        "/network/security-groups/create/", {"name": "2d-was", "description": "WAS"}
    )
    group = next(g for g in fake.groups.values() if g.name == "2d-was")
    assert response["Location"] == f"/network/security-groups/{group.id}/"
    page = member_client.get(response["Location"]).content.decode()
    assert "Security group 2d-was" in page and "Egress" in page and "IPv6" in page
    response = member_client.post(
        f"/network/security-groups/{group.id}/edit/", {"name": "2d-was-2", "description": ""}
    )
    assert response.status_code == 302 and fake.groups[group.id].name == "2d-was-2"
    response = member_client.post(
        f"/network/security-groups/{group.id}/delete/", {"name": "2d-was-2"}
    )
    assert response["Location"] == "/network/security-groups/" and group.id not in fake.groups


def test_default_is_a_reserved_name(member_client: Client, fake: FakeNetworkGateway) -> None:
    response = member_client.post("/network/security-groups/create/", {"name": "default"})
    assert response.status_code == 400
    assert "“default” is the name of the group every project has." in response.content.decode()


def test_deleting_default_or_a_group_in_use_shows_neutrons_reason(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    response = member_client.post(
        f"/network/security-groups/{fake.default_group.id}/delete/", {"stay": "1"}, headers=HTMX
    )
    assert (
        response.status_code == 409
        and "removing default security group" in response.content.decode()
    )
    group = fake.create_security_group("web")
    net = fake.create_network(name="n")
    fake.create_subnet(network_id=net.id, cidr="10.0.0.0/24", ip_version=4)
    fake.create_port(network_id=net.id, security_group_ids=[group.id])
    response = member_client.post(
        f"/network/security-groups/{group.id}/delete/", {"stay": "1"}, headers=HTMX
    )
    assert f"Security Group {group.id} in use." in response.content.decode()


def test_security_group_quota(member_client: Client, fake: FakeNetworkGateway) -> None:
    fake.limits["security_group"] = 1
    form = member_client.get("/network/security-groups/create/").content.decode()
    assert "1 of 1 used" in form and "the cloud will refuse another" in form
    response = member_client.post("/network/security-groups/create/", {"name": "web"})
    assert (
        "Quota exceeded for resources: [&#x27;security_group&#x27;]." in response.content.decode()
    )


def test_presets_fill_the_rule_form(member_client: Client, fake: FakeNetworkGateway) -> None:
    group = fake.create_security_group("web")
    url = f"/network/security-groups/{group.id}/rules/create/"
    page = member_client.get(url).content.decode()
    for label in ("SSH", "HTTP", "HTTPS", "ICMP", "All TCP", "All UDP", "DNS", "RDP"):
        assert f">{label}</a>" in page
    https = member_client.get(url + "?preset=https").content.decode()
    assert 'name="port" value="443"' in https and 'value="tcp" selected' in https
    dns = member_client.get(url + "?preset=dns").content.decode()
    assert 'name="port" value="53"' in dns and 'value="udp" selected' in dns
    # in the modal, the preset refills the form in place and keeps it in the modal
    modal = member_client.get(
        url + "?preset=ssh&stay=1", headers={"HX-Request": "true", "HX-Target": "x"}
    ).content.decode()
    assert "<html" not in modal and 'name="stay"' in modal and 'value="22"' in modal
    assert f'hx-get="{url}?preset=http&amp;stay=1"' in modal


def test_add_rules_of_every_kind(member_client: Client, fake: FakeNetworkGateway) -> None:
    group = fake.create_security_group("2d-was")
    other = fake.create_security_group("db")
    url = f"/network/security-groups/{group.id}/rules/create/"
    for data in (
        rule(port="8080"),
        rule(port="9000-9099", description="admin consoles"),
        rule(protocol="udp", port="53", remote_ip_prefix="10.0.0.0/8"),
        rule(protocol="icmp", port="", icmp_type="8", icmp_code="0"),
        rule(protocol="any", port="", remote="group", remote_group_id=other.id),
        rule(protocol="number", protocol_number="47", port="", remote_ip_prefix=""),
        rule(
            direction="egress",
            ether_type="IPv6",
            protocol="tcp",
            port="443",
            remote_ip_prefix="::/0",
        ),
        rule(ether_type="IPv6", protocol="icmp", port="", remote_ip_prefix="fd00::1"),
    ):
        response = member_client.post(url, data)
        assert response.status_code == 302, response.content.decode()
    added = [r for r in fake.groups[group.id].rules if r.direction == "ingress" or r.port_range_min]
    as_tuples = {
        (
            r.direction,
            r.ether_type,
            r.protocol,
            r.port_range_min,
            r.port_range_max,
            r.remote_ip_prefix,
            r.remote_group_id,
        )
        for r in added
    }
    assert as_tuples == {
        ("ingress", "IPv4", "tcp", 8080, 8080, "0.0.0.0/0", None),
        ("ingress", "IPv4", "tcp", 9000, 9099, "0.0.0.0/0", None),
        ("ingress", "IPv4", "udp", 53, 53, "10.0.0.0/8", None),
        ("ingress", "IPv4", "icmp", 8, 0, "0.0.0.0/0", None),
        ("ingress", "IPv4", None, None, None, None, other.id),
        ("ingress", "IPv4", "47", None, None, None, None),
        ("egress", "IPv6", "tcp", 443, 443, "::/0", None),
        ("ingress", "IPv6", "ipv6-icmp", None, None, "fd00::1/128", None),
    }
    page = member_client.get(f"/network/security-groups/{group.id}/").content.decode()
    assert "9000-9099" in page and "admin consoles" in page and "group db" in page
    assert "type 8, code 0" in page


GROUP = SecurityGroup(
    "g1",
    "web",
    "p",
    "",
    (SecurityGroupRule("r1", "g1", "ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0", None),),
)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"direction": "sideways"}, "direction", "Select a valid choice."),
        ({"ether_type": "IPX"}, "ether_type", "Select a valid choice."),
        ({"protocol": "gre"}, "protocol", "Select a valid choice."),
        ({"protocol": "number", "protocol_number": "", "port": ""}, "protocol_number", "0 to 255"),
        (
            {"protocol": "number", "protocol_number": "256", "port": ""},
            "protocol_number",
            "0 to 255",
        ),
        ({"port": "ssh"}, "port", "Enter a port like 22 or a range like 8000-8080."),
        ({"port": "0"}, "port", "Ports are numbers from 1 to 65535."),
        ({"port": "70000"}, "port", "Ports are numbers from 1 to 65535."),
        ({"port": "90-80"}, "port", "The range 90-80 ends before it starts."),
        ({"protocol": "any"}, "port", "Ports apply to TCP, UDP and SCTP rules only."),
        ({"protocol": "icmp"}, "port", "ICMP has no ports; use the ICMP type and code."),
        ({"protocol": "icmp", "port": "", "icmp_type": "300"}, "icmp_type", "from 0 to 255"),
        ({"protocol": "icmp", "port": "", "icmp_code": "3"}, "icmp_code", "An ICMP code needs"),
        ({"icmp_type": "8"}, "icmp_type", "ICMP type and code apply to ICMP rules only."),
        ({"remote_ip_prefix": "10.0.0.300/8"}, "remote_ip_prefix", "is not a network address"),
        ({"remote_ip_prefix": "10.0.0.1/8"}, "remote_ip_prefix", "has host bits set"),
        (
            {"remote_ip_prefix": "::/0"},
            "remote_ip_prefix",
            "is an IPv6 network, but this needs IPv4",
        ),
        ({"remote": "group"}, "remote_group_id", "Choose the remote security group."),
        (
            {"remote": "group", "remote_group_id": "nope"},
            "remote_group_id",
            "Select a valid choice",
        ),
        ({"port": "22"}, "__all__", "This group already has a rule exactly like this one."),
        ({"port": "22", "remote_ip_prefix": ""}, "__all__", "already has a rule exactly like this"),
        ({"port": "22-22", "description": "x"}, "__all__", "already has a rule exactly like this"),
        ({"protocol": "number", "protocol_number": "6"}, "__all__", "already has a rule exactly"),
    ],
)
def test_invalid_and_duplicate_rules_are_refused(
    changes: dict[str, Any], field: str, message: str
) -> None:
    form = SecurityGroupRuleForm(rule(**changes), group=GROUP, groups=[GROUP])
    assert not form.is_valid()
    assert any(message in e for e in form.errors.get(field, [])), form.errors


def test_duplicate_rule_through_the_view_and_neutrons_word(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    group = fake.create_security_group("web")
    url = f"/network/security-groups/{group.id}/rules/create/"
    assert member_client.post(url, rule()).status_code == 302
    response = member_client.post(url, rule())
    assert response.status_code == 400
    assert "This group already has a rule exactly like this one." in response.content.decode()
    # Neutron's own refusal when the portal could not know (a rule added meanwhile)
    from portal.errors import Rejected

    fake.refusals["create_security_group_rule"] = Rejected(
        "Security group rule already exists. Rule id is 42.", 409
    )
    response = member_client.post(url, rule(port="23"))
    assert "Security group rule already exists. Rule id is 42." in response.content.decode()
    assert 'value="23"' in response.content.decode()  # the form comes back filled


def test_rule_quota_and_delete(member_client: Client, fake: FakeNetworkGateway) -> None:
    group = fake.create_security_group("web")
    fake.limits["security_group_rule"] = 4  # default's two and web's two egress rules
    url = f"/network/security-groups/{group.id}/rules/create/"
    assert "4 of 4 used" in member_client.get(url).content.decode()
    response = member_client.post(url, rule())
    assert (
        "Quota exceeded for resources: [&#x27;security_group_rule&#x27;]."
        in response.content.decode()
    )
    egress = fake.groups[group.id].rules[0]
    response = member_client.post(
        f"/network/security-groups/{group.id}/rules/{egress.id}/delete/",
        {"stay": "1"},
        headers=HTMX,
    )
    assert "Rule deleted." in response.content.decode()
    assert len(fake.groups[group.id].rules) == 1
