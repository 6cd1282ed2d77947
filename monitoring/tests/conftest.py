from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation

from monitoring.tests.fake_prometheus import FakePrometheus, devcloud_like, serve


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    """A Prometheus on 127.0.0.1 reporting a healthy all-in-one; the portal is pointed at it."""
    fake = devcloud_like()
    server, _thread = serve(fake)
    cache.clear()  # the banner's problems are cached
    with override_settings(STACKDESK_PROMETHEUS_URL=fake.url):
        yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The reasons are lazy translations rendered in the thread's active language: English
    here, whatever a test before left active; views follow the request's language."""
    with translation.override("en"):
        yield
