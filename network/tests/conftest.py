"""The network app's unit tests run every view against FakeNetworkGateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from network.gateway import NetworkGateway
from network.tests.fakes import FakeNetworkGateway
from portal.gateways import override


@pytest.fixture
def fake() -> Iterator[FakeNetworkGateway]:
    gw = FakeNetworkGateway()
    with override(NetworkGateway, gw):
        yield gw
