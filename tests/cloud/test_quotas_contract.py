"""The quota and usage contract (quotas/tests/contract.py) against the real services, in a
throwaway project with servers of its own: the fake the unit tests use behaves like this too."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quotas.gateway import QuotasGateway
from quotas.tests import contract

pytestmark = [pytest.mark.cloud]


def wait_active(conn: Any, server_ids: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for server_id in server_ids:
        conn.compute.wait_for_server(
            conn.compute.get_server(server_id), wait=max(1, int(deadline - time.monotonic()))
        )


def test_nova_cinder_and_neutron_keep_the_contract(make_tenant: Any, sdk_admin: Any) -> None:
    tenant = make_tenant("quota-contract")
    start = datetime.now(UTC) - timedelta(minutes=1)
    conn = tenant.conn
    flavor, image = conn.compute.find_flavor("m1.nano"), conn.image.find_image("tiny-qcow2")
    servers = [
        conn.compute.create_server(
            name=f"contract-{n}", flavor_id=flavor.id, image_id=image.id, networks="none"
        ).id
        for n in range(3)
    ]
    wait_active(conn, servers)
    gw = QuotasGateway(sdk_admin)
    contract.check_quota_sets(gw, tenant.project.id, instances_in_use=3)
    contract.check_usage_pages(gw, tenant.project.id, start, datetime.now(UTC), servers=3)
