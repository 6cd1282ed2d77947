"""The quota and usage contract (quotas/tests/contract.py) against the fake; the cloud layer
runs the same checks against Nova, Cinder and Neutron."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quotas import catalog
from quotas.tests import contract
from quotas.tests.fakes import FakeQuotasGateway, FakeServer


def test_the_fake_keeps_the_quota_contract() -> None:
    fake = FakeQuotasGateway()
    fake.in_use["p-x"] = {catalog.COMPUTE: {"instances": 2}}
    contract.check_quota_sets(fake, "p-x", instances_in_use=2)


def test_the_fake_keeps_the_usage_contract() -> None:
    now = datetime.now(UTC)
    fake = FakeQuotasGateway()
    fake.servers = [
        FakeServer("p-x", f"i-{n}", f"s{n}", now - timedelta(minutes=30 - n)) for n in range(3)
    ] + [FakeServer("p-w", "i-w", "before", now - timedelta(hours=2))]
    contract.check_usage_pages(fake, "p-x", now - timedelta(hours=1), now, servers=3)
