from __future__ import annotations

from collections.abc import Iterator

import pytest

from compute.gateway import ComputeGateway
from compute.tests.fakes import FakeComputeGateway
from portal.gateways import override


@pytest.fixture
def fake() -> Iterator[FakeComputeGateway]:
    gw = FakeComputeGateway()
    with override(ComputeGateway, gw):
        yield gw
