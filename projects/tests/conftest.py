"""The two in-memory gateways the Identity, quota and usage pages use, installed for a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.gateways import override
from projects.gateway import ProjectsGateway
from projects.tests.fakes import FakeProjectsGateway
from quotas.gateway import QuotasGateway
from quotas.tests.fakes import FakeQuotasGateway


@pytest.fixture
def keystone_fake() -> Iterator[FakeProjectsGateway]:
    fake = FakeProjectsGateway()
    with override(ProjectsGateway, fake):
        yield fake


@pytest.fixture
def quota_fake() -> Iterator[FakeQuotasGateway]:
    fake = FakeQuotasGateway()
    with override(QuotasGateway, fake):
        yield fake
