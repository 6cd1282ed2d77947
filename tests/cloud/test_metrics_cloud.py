"""The portal's /metrics against the all-in-one cloud: a member's instances page shows up as
compute calls with their latency, and the answer is Prometheus text that parses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape() -> tuple[str, dict[Sample, float]]:
    response = Client().get("/metrics")  # the test client is 127.0.0.1: an allowed address
    assert response.status_code == 200
    text = response.content.decode()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def grew(
    before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str
) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_instances_page_shows_up_as_compute_calls(
    make_tenant: Any, portal_clouds_yaml: Any
) -> None:
    tenant = make_tenant("metrics")
    client = tenant.sign_in(Client())
    _, before = scrape()
    response = client.get("/compute/servers/")
    assert response.status_code == 200
    text, after = scrape()

    assert grew(before, after, "stackdesk_upstream_requests_total", service="compute", status="2xx")
    assert grew(
        before, after, "stackdesk_upstream_request_duration_seconds_count", service="compute"
    )
    assert (
        grew(before, after, "stackdesk_upstream_request_duration_seconds_sum", service="compute")
        > 0
    )
    page = {"view": "compute:list-servers", "method": "GET", "status": "2xx"}
    assert grew(before, after, "stackdesk_http_requests_total", **page) == 1
    # ids never become label values: not the tenant's project (in its catalog's URLs) nor user
    assert tenant.project.id not in text and tenant.user.id not in text
    # every call the page made was told apart by the catalog: none is "other"
    assert not grew(
        before, after, "stackdesk_upstream_requests_total", service="other", status="2xx"
    )
