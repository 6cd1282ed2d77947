"""The network contract checks against the real Neutron, in a throwaway project: the fake the
unit tests use behaves as these checks say, and so does the cloud."""

from __future__ import annotations

from typing import Any

import pytest

from network.gateway import NetworkGateway
from network.tests import contract

pytestmark = [pytest.mark.cloud]


def test_neutron_keeps_the_contract(make_tenant: Any, sdk_admin: Any) -> None:
    tenant = make_tenant("net-contract")
    gw = NetworkGateway(tenant.conn)
    public = sdk_admin.network.find_network("public1")
    contract.check_networks_subnets_and_ports(gw, tenant.project.id)
    contract.check_security_group_rules(gw, tenant.project.id)
    contract.check_routers_and_floating_ips(gw, tenant.project.id, public.id)
