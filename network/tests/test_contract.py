"""The contract checks (network/tests/contract.py) against the fake; the cloud layer runs them
against Neutron (tests/cloud/test_network_contract.py)."""

from __future__ import annotations

from network.tests import contract
from network.tests.fakes import FakeNetworkGateway


def test_networks_subnets_and_ports() -> None:
    fake = FakeNetworkGateway()
    contract.check_networks_subnets_and_ports(fake, fake.project_id)


def test_security_group_rules() -> None:
    fake = FakeNetworkGateway()
    contract.check_security_group_rules(fake, fake.project_id)


def test_routers_and_floating_ips() -> None:
    fake = FakeNetworkGateway()
    contract.check_routers_and_floating_ips(fake, fake.project_id, fake.public_id)
