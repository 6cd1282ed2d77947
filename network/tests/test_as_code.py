"""The network forms' "show as code" panels (network/as_code.py, portal/as_code.py)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from network.tests.fakes import FakeNetworkGateway

pytestmark = pytest.mark.django_db

OS = "openstack --os-cloud unit"


def shown(client: Client, path: str, **fields: Any) -> str:
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200, answer.content.decode()[:300]
    text = html.unescape(answer.content.decode())
    assert "<html" not in text
    return text


# --- the form pages draw the panel with their initial values ---------------------------------


def test_the_create_network_form_shows_network_and_subnet(
    member_client: Client, fake: FakeNetworkGateway
) -> None:
    page = html.unescape(member_client.get("/network/networks/create/").content.decode())
    assert "Show as code" in page
    assert f"{OS} network create '<name>'" in page
    assert f"{OS} subnet create --network '<name>' --subnet-range '<subnet-cidr>' ''" in page
    assert "openstack.cloud.network:" in page and "openstack.cloud.subnet:" in page
    assert "is_dhcp_enabled: true" in page and "admin_state_up: true" in page


def test_the_rule_form_shows_its_preset(member_client: Client, fake: FakeNetworkGateway) -> None:
    group = fake.create_security_group("web")
    page = member_client.get(f"/network/security-groups/{group.id}/rules/create/?preset=ssh")
    text = html.unescape(page.content.decode())
    assert (
        f"{OS} security group rule create --ingress --ethertype IPv4 --protocol tcp "
        f"--dst-port 22 --remote-ip 0.0.0.0/0 {group.id}"
    ) in text
    assert "openstack.cloud.security_group_rule:" in text and "port_range_min: 22" in text


def test_the_router_form_shows_its_code(member_client: Client, fake: FakeNetworkGateway) -> None:
    page = html.unescape(member_client.get("/network/routers/create/").content.decode())
    assert f"{OS} router create '<name>'" in page
    assert "openstack.cloud.router:" in page and "is_admin_state_up: true" in page


def test_the_admin_network_form_shows_the_provider_attributes(
    admin_client: Client, fake: FakeNetworkGateway
) -> None:
    page = html.unescape(admin_client.get("/network/admin/networks/create/").content.decode())
    assert "network create --project" in page and "--provider-network-type vlan" in page


@pytest.mark.parametrize("kind", ["network", "router", "security group"])
def test_a_detail_page_shows_the_code_of_its_delete_button(
    member_client: Client, fake: FakeNetworkGateway, kind: str
) -> None:
    if kind == "network":
        made = fake.create_network(name="n").id
        path = f"/network/networks/{made}/"
    elif kind == "router":
        made = fake.create_router("r", True, None).id
        path = f"/network/routers/{made}/"
    else:
        made = fake.create_security_group("g").id
        path = f"/network/security-groups/{made}/"
    page = html.unescape(member_client.get(path).content.decode())
    assert f"{OS} {kind} delete {made}" in page and "Show as code" in page


# --- networks and subnets ---------------------------------------------------------------------


def test_create_network_with_a_subnet(member_client: Client) -> None:
    text = shown(
        member_client,
        "/network/networks/create/",
        name="app",
        admin_state_up="on",
        with_subnet="on",
        **{
            "subnet-name": "app-v4",
            "subnet-cidr": "10.20.0.0/24",
            "subnet-ip_version": "4",
            "subnet-gateway_ip": "10.20.0.1",
            "subnet-enable_dhcp": "on",
            "subnet-allocation_pools": "10.20.0.100,10.20.0.200",
            "subnet-dns_nameservers": "10.0.0.53\n10.0.0.54",
            "subnet-host_routes": "10.50.0.0/24,10.20.0.5",
        },
    )
    assert f"{OS} network create app\n" in text
    assert (
        f"{OS} subnet create --network app --subnet-range 10.20.0.0/24 --gateway 10.20.0.1 "
        "--allocation-pool start=10.20.0.100,end=10.20.0.200 --dns-nameserver 10.0.0.53 "
        "--dns-nameserver 10.0.0.54 --host-route destination=10.50.0.0/24,gateway=10.20.0.5 "
        "app-v4"
    ) in text
    for line in (
        "openstack.cloud.subnet:",
        "network: app",
        "cidr: 10.20.0.0/24",
        "gateway_ip: 10.20.0.1",
        "is_dhcp_enabled: true",
        "- start: 10.20.0.100",
        "- 10.0.0.54",
        "nexthop: 10.20.0.5",
    ):
        assert line in text


def test_create_network_disabled_without_subnet_nor_dhcp(member_client: Client) -> None:
    text = shown(member_client, "/network/networks/create/", name="x", description="d")
    assert f"{OS} network create --description d --disable x" in text
    assert "subnet" not in text and "admin_state_up: false" in text
    assert "has no description" in text  # the module's gap, said


def test_create_subnet_ipv6_no_gateway_no_dhcp(member_client: Client) -> None:
    text = shown(
        member_client,
        "/network/networks/net-1/subnets/create/",
        cidr="fd00:10::/64",
        ip_version="6",
        no_gateway="on",
        ipv6_mode="slaac",
    )
    assert (
        f"{OS} subnet create --network net-1 --subnet-range fd00:10::/64 --ip-version 6 "
        "--gateway none --no-dhcp --ipv6-address-mode slaac --ipv6-ra-mode slaac ''"
    ) in text
    assert "disable_gateway_ip: true" in text and "is_dhcp_enabled: false" in text


def test_admin_create_network_provider_attributes(admin_client: Client) -> None:
    text = shown(
        admin_client,
        "/network/admin/networks/create/",
        name="vlan-100",
        project_id="p-1",
        provider_network_type="vlan",
        provider_physical_network="physnet1",
        provider_segmentation_id="100",
        is_shared="on",
        is_router_external="on",
        admin_state_up="on",
    )
    assert (
        f"{OS} network create --project p-1 --provider-network-type vlan "
        "--provider-physical-network physnet1 --provider-segment 100 --share --external vlan-100"
    ) in text
    for line in (
        "project: p-1",
        "provider_network_type: vlan",
        "provider_segmentation_id: 100",
        "shared: true",
        "external: true",
    ):
        assert line in text


@pytest.mark.parametrize(
    ("path", "fields", "command", "task"),
    [
        (
            "/network/networks/n-1/edit/",
            {"name": "renamed", "description": "new"},
            f"{OS} network set --name renamed --description new --disable n-1",
            None,
        ),
        ("/network/networks/n-1/delete/", {}, f"{OS} network delete n-1", "state: absent"),
        (
            "/network/networks/n-1/subnets/s-1/edit/",
            {"name": "s", "gateway_ip": "10.0.0.254", "enable_dhcp": "on"},
            f"{OS} subnet set --name s --gateway 10.0.0.254 --dhcp --no-dns-nameservers "
            "--no-host-route s-1",
            None,
        ),
        (
            "/network/networks/n-1/subnets/s-1/delete/",
            {},
            f"{OS} subnet delete s-1",
            "openstack.cloud.subnet:",
        ),
        (
            "/network/networks/n-1/ports/create/",
            {
                "name": "vip",
                "subnet_id": "s-1",
                "ip_address": "10.0.0.9",
                "security_group_ids": ["g-1", "g-2"],
                "admin_state_up": "on",
            },
            f"{OS} port create --network n-1 --fixed-ip subnet=s-1,ip-address=10.0.0.9 "
            "--security-group g-1 --security-group g-2 vip",
            "subnet_id: s-1",
        ),
        (
            "/network/networks/n-1/ports/create/",
            {},
            f"{OS} port create --network n-1 --no-security-group --disable ''",
            "no_security_groups: true",
        ),
        (
            "/network/networks/n-1/ports/p-1/delete/",
            {},
            f"{OS} port delete p-1",
            "openstack.cloud.port:",
        ),
    ],
)
def test_network_subnet_and_port_forms(
    member_client: Client, path: str, fields: dict[str, Any], command: str, task: str | None
) -> None:
    text = shown(member_client, path, **fields)
    assert command in text
    if task is None:
        assert "Ansible tasks" not in text and "no Ansible task" in text
    else:
        assert task in text


# --- routers ----------------------------------------------------------------------------------


def test_create_router_with_gateway(member_client: Client) -> None:
    text = shown(
        member_client,
        "/network/routers/create/",
        name="edge",
        admin_state_up="on",
        external_network_id="pub",
    )
    assert f"{OS} router create --external-gateway pub edge" in text
    assert "openstack.cloud.router:" in text and "network: pub" in text


@pytest.mark.parametrize(
    ("path", "fields", "commands"),
    [
        (
            "/network/routers/r-1/edit/",
            {"name": "edge2", "admin_state_up": "on"},
            [f"{OS} router set --name edge2 --enable r-1"],
        ),
        (
            "/network/routers/r-1/gateway/",
            {"network_id": "pub"},
            [f"{OS} router set --external-gateway pub r-1"],
        ),
        ("/network/routers/r-1/gateway/clear/", {}, [f"{OS} router unset --external-gateway r-1"]),
        (
            "/network/routers/r-1/interfaces/add/",
            {"subnet_id": "s-1"},
            [f"{OS} router add subnet r-1 s-1"],
        ),
        (
            "/network/routers/r-1/interfaces/add/",
            {"subnet_id": "s-1", "ip_address": "10.0.0.7"},
            [
                f'PORT=$({OS} port create --network "$({OS} subnet show s-1 -f value -c '
                "network_id)\" --fixed-ip subnet=s-1,ip-address=10.0.0.7 -f value -c id '')",
                f'{OS} router add port r-1 "$PORT"',
            ],
        ),
        (
            "/network/routers/r-1/interfaces/remove/",
            {"port_id": "p-1", "address": "10.0.0.1"},
            [f"{OS} router remove port r-1 p-1"],
        ),
        (
            "/network/routers/r-1/routes/add/",
            {"destination": "10.50.0.0/24", "nexthop": "10.0.0.5"},
            [f"{OS} router add route --route destination=10.50.0.0/24,gateway=10.0.0.5 r-1"],
        ),
        (
            "/network/routers/r-1/routes/remove/",
            {"destination": "10.50.0.0/24", "nexthop": "10.0.0.5"},
            [f"{OS} router remove route --route destination=10.50.0.0/24,gateway=10.0.0.5 r-1"],
        ),
    ],
)
def test_router_forms_have_commands_only(
    member_client: Client, path: str, fields: dict[str, Any], commands: list[str]
) -> None:
    text = shown(member_client, path, **fields)
    for command in commands:
        assert command in text
    assert "Ansible tasks" not in text and "openstack.cloud" in text  # the note says why


def test_delete_router_clears_it_first(member_client: Client) -> None:
    text = shown(member_client, "/network/routers/r-1/delete/")
    assert f"{OS} router unset --external-gateway r-1\n{OS} router set --no-route r-1\n" in text
    assert (
        f"for port in $({OS} port list --router r-1 --device-owner network:router_interface "
        f'-f value -c ID); do {OS} router remove port r-1 "$port"; done'
    ) in text
    assert f"{OS} router delete r-1" in text
    assert "openstack.cloud.router:" in text and "state: absent" in text


# --- security groups --------------------------------------------------------------------------


def test_create_security_group(member_client: Client) -> None:
    text = shown(
        member_client, "/network/security-groups/create/", name="web", description="HTTP in"
    )
    assert f"{OS} security group create --description 'HTTP in' web" in text
    assert "openstack.cloud.security_group:" in text and "description: HTTP in" in text


RULE = {"direction": "ingress", "ether_type": "IPv4", "remote": "cidr"}


@pytest.mark.parametrize(
    ("fields", "command", "task_lines"),
    [
        (
            {"protocol": "tcp", "port": "8000-8080", "remote_ip_prefix": "10.0.0.0/8"},
            "--ingress --ethertype IPv4 --protocol tcp --dst-port 8000:8080 "
            "--remote-ip 10.0.0.0/8 g-1",
            ["protocol: tcp", "port_range_min: 8000", "port_range_max: 8080"],
        ),
        (
            {"protocol": "udp", "port": "53", "remote_ip_prefix": "192.0.2.7"},
            "--ingress --ethertype IPv4 --protocol udp --dst-port 53 --remote-ip 192.0.2.7/32 g-1",
            ["remote_ip_prefix: 192.0.2.7/32", "port_range_max: 53"],
        ),
        (
            {"protocol": "icmp", "icmp_type": "8", "icmp_code": "0", "remote_ip_prefix": ""},
            "--ingress --ethertype IPv4 --protocol icmp --icmp-type 8 --icmp-code 0 g-1",
            ["protocol: icmp", "port_range_min: 8", "port_range_max: 0"],
        ),
        (
            {"protocol": "icmp", "ether_type": "IPv6", "direction": "egress"},
            "--egress --ethertype IPv6 --protocol ipv6-icmp g-1",
            ["protocol: ipv6-icmp", "direction: egress", "ether_type: IPv6"],
        ),
        (
            {"protocol": "any", "remote": "group", "remote_group_id": "g-2"},
            "--ingress --ethertype IPv4 --protocol any --remote-group g-2 g-1",
            ["protocol: any", "remote_group: g-2"],
        ),
        (
            {"protocol": "number", "protocol_number": "47", "description": "GRE"},
            "--ingress --ethertype IPv4 --protocol 47 --description GRE g-1",
            ["protocol: '47'", "description: GRE"],
        ),
        (
            {"protocol": "number", "protocol_number": "132", "port": "9000"},
            "--ingress --ethertype IPv4 --protocol sctp --dst-port 9000 g-1",
            ["protocol: sctp"],
        ),
    ],
)
def test_rule_kinds(
    member_client: Client, fields: dict[str, str], command: str, task_lines: list[str]
) -> None:
    text = shown(member_client, "/network/security-groups/g-1/rules/create/", **(RULE | fields))
    assert f"{OS} security group rule create {command}" in text
    assert "openstack.cloud.security_group_rule:" in text and "security_group: g-1" in text
    for line in task_lines:
        assert line in text


@pytest.mark.parametrize(
    ("path", "fields", "command", "task"),
    [
        (
            "/network/security-groups/g-1/edit/",
            {"name": "web2", "description": "d"},
            f"{OS} security group set --name web2 --description d g-1",
            None,
        ),
        (
            "/network/security-groups/g-1/delete/",
            {},
            f"{OS} security group delete g-1",
            "openstack.cloud.security_group:",
        ),
        (
            "/network/security-groups/g-1/rules/r-1/delete/",
            {},
            f"{OS} security group rule delete r-1",
            None,
        ),
        (
            "/network/floating-ips/allocate/",
            {"floating_network_id": "pub", "floating_ip_address": "172.24.4.50"},
            f"{OS} floating ip create --floating-ip-address 172.24.4.50 pub",
            None,
        ),
        (
            "/network/floating-ips/f-1/associate/",
            {"target": "p-1 10.0.0.5"},
            f"{OS} floating ip set --port p-1 --fixed-ip-address 10.0.0.5 f-1",
            None,
        ),
        (
            "/network/floating-ips/f-1/disassociate/",
            {},
            f"{OS} floating ip unset --port f-1",
            None,
        ),
        ("/network/floating-ips/f-1/release/", {}, f"{OS} floating ip delete f-1", None),
    ],
)
def test_security_group_and_floating_ip_forms(
    member_client: Client, path: str, fields: dict[str, Any], command: str, task: str | None
) -> None:
    text = shown(member_client, path, **fields)
    assert command in text
    if task is None:
        assert "Ansible tasks" not in text and "no Ansible task" in text
    else:
        assert task in text
