from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.gateways import override
from volumes.gateway import VolumesGateway
from volumes.tests.fakes import FakeVolumesGateway


@pytest.fixture
def fake() -> Iterator[FakeVolumesGateway]:
    gw = FakeVolumesGateway()
    with override(VolumesGateway, gw):
        yield gw
