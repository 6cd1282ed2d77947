from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacity.gateway import CapacityGateway
from capacity.tests.fakes import FakeCapacityGateway
from portal.gateways import override


@pytest.fixture
def fake() -> Iterator[FakeCapacityGateway]:
    gw = FakeCapacityGateway()
    with override(CapacityGateway, gw):
        yield gw
