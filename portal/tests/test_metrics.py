"""GET /metrics: what it counts, who may read it, and the multiprocess folder's upkeep.

The metrics folder lives on between runs (it is the slot's state folder), so every check
compares a scrape after the action with one before it.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.test import Client
from django.utils import timezone
from prometheus_client.mmap_dict import mmap_key
from prometheus_client.parser import text_string_to_metric_families

from portal import metrics, operations
from portal.models import Operation
from portal.tests.fake_keystone import FakeKeystone

pytestmark = pytest.mark.django_db

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(client: Client | None = None, **headers: str) -> dict[Sample, float]:
    response = (client or Client()).get("/metrics", **headers)  # type: ignore[arg-type]
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    found: dict[Sample, float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def make_op(**fields: object) -> Operation:
    defaults: dict[str, object] = {
        "kind": "test_job",
        "title": "Test job",
        "task_name": "tests.noop",
        "cloud_key": "unit:RegionOne",
        "user_id": "u-member",
        "user_name": "member",
        "project_id": "p-demo",
        "project_name": "demo",
    }
    return Operation.objects.create(**{**defaults, **fields})


# --- requests --------------------------------------------------------------------------------


def test_requests_are_counted_by_url_name_and_never_by_path(member_client: Client) -> None:
    before = scrape()
    member_client.get("/healthz")
    member_client.get("/healthz")
    assert member_client.get("/operations/987654/").status_code == 404  # someone else's id
    assert member_client.get("/no-such-page-424242/").status_code == 404
    response = Client().get("/metrics")
    after = scrape()

    text = response.content.decode()
    assert "987654" not in text and "424242" not in text and "/operations/" not in text
    ok = {"view": "portal:healthz", "method": "GET", "status": "2xx"}
    assert value(after, "stackdesk_http_requests_total", **ok) == (
        value(before, "stackdesk_http_requests_total", **ok) + 2
    )
    missing = {"view": "portal:operation", "method": "GET", "status": "4xx"}
    assert value(after, "stackdesk_http_requests_total", **missing) == (
        value(before, "stackdesk_http_requests_total", **missing) + 1
    )
    unknown = {"view": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, "stackdesk_http_requests_total", **unknown) == (
        value(before, "stackdesk_http_requests_total", **unknown) + 1
    )
    count = "stackdesk_http_request_duration_seconds_count"
    assert value(after, count, view="portal:healthz") == value(
        before, count, view="portal:healthz"
    ) + (2)
    assert value(after, "stackdesk_http_request_duration_seconds_sum", view="portal:healthz") > 0


# --- who may read it -------------------------------------------------------------------------


def test_refused_from_an_address_not_allowed_as_if_absent() -> None:
    outside = Client(REMOTE_ADDR="203.0.113.7")
    response = outside.get("/metrics")
    assert response.status_code == 404
    assert b"stackdesk_" not in response.content
    # the portal's ordinary 404 page, as for a path that does not exist (but for the path
    # itself and the CSRF token in the page)
    unknown = outside.get("/no-such-page/")

    def page(body: bytes, path: str) -> str:
        return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", body.decode()).replace(path, "PATH")

    assert page(unknown.content, "/no-such-page/") == page(response.content, "/metrics")


def test_the_token_lets_any_address_in_and_a_wrong_one_does_not(
    settings: SimpleNamespace,
) -> None:
    settings.STACKDESK_METRICS_TOKEN = "scrape-secret-1"
    outside = Client(REMOTE_ADDR="203.0.113.7")
    assert scrape(outside, HTTP_AUTHORIZATION="Bearer scrape-secret-1")
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-2").status_code == 404
    assert outside.get("/metrics", HTTP_AUTHORIZATION="scrape-secret-1").status_code == 404
    # a wrong token from an allowed address is refused too: it is someone's mistake to see
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 404


def test_allowed_networks_and_forwarded_clients(settings: SimpleNamespace) -> None:
    settings.STACKDESK_METRICS_ALLOWED = [ipaddress.ip_network("203.0.113.0/24")]
    assert scrape(Client(REMOTE_ADDR="203.0.113.7"))
    assert Client().get("/metrics").status_code == 404  # 127.0.0.1 no longer listed
    # behind a trusted proxy the forwarded client counts, not the proxy's address
    settings.STACKDESK_METRICS_ALLOWED = [ipaddress.ip_network("127.0.0.1/32")]
    settings.STACKDESK_TRUSTED_PROXIES = ["127.0.0.1"]
    proxied = Client().get("/metrics", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert proxied.status_code == 404


def test_only_get_and_head() -> None:
    assert Client().post("/metrics").status_code == 405
    assert Client(REMOTE_ADDR="203.0.113.7").post("/metrics").status_code == 404


def test_a_bad_allowed_entry_stops_the_portal_with_its_name() -> None:
    env = {**os.environ, "STACKDESK_METRICS_ALLOWED": "127.0.0.1,10.0.0.300"}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "STACKDESK_METRICS_ALLOWED: '10.0.0.300' is not an address or network." in run.stderr


# --- jobs and the queue ------------------------------------------------------------------------


def test_job_gauge_matches_the_operation_rows() -> None:
    for state in ("queued", "running", "running", "failed"):
        make_op(kind="drain_host", state=state)
    make_op(kind="upload_image", state="succeeded")
    samples = scrape()
    for kind in ("drain_host", "upload_image"):
        for state in Operation.State.values:
            rows = Operation.objects.filter(kind=kind, state=state).count()
            assert value(samples, "stackdesk_jobs", kind=kind, state=state) == rows
    assert value(samples, "stackdesk_jobs", kind="drain_host", state="running") == 2
    # a state with no rows reads 0 rather than vanishing
    assert ("stackdesk_jobs", frozenset({"kind": "drain_host", "state": "cancelled"}.items())) in (
        samples
    )


def test_a_finished_job_is_timed_by_kind_and_outcome() -> None:
    labels = {"kind": "metrics_test_job", "outcome": "failed"}
    before = scrape()
    op = make_op(kind="metrics_test_job", state="running")
    op.started_at = timezone.now() - timedelta(seconds=7)
    operations.finish(op, Operation.State.FAILED, error="boom")
    after = scrape()
    name = "stackdesk_job_duration_seconds"
    assert value(after, name + "_count", **labels) == value(before, name + "_count", **labels) + 1
    assert value(after, name + "_sum", **labels) - value(before, name + "_sum", **labels) >= 7
    le_5 = {**labels, "le": "5.0"}
    assert value(after, name + "_bucket", **le_5) == value(before, name + "_bucket", **le_5)


@pytest.mark.skipif(not settings.REDIS_URL, reason="the queue length is read from Redis")
def test_queue_length_is_the_redis_list_of_the_default_queue() -> None:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    low_priority = "celery\x06\x169"  # kombu's list for priority 9 messages of "celery"
    start = value(scrape(), "stackdesk_celery_queue_length", queue="celery")
    broker.rpush(low_priority, "metrics-test-1", "metrics-test-2")
    try:
        grown = value(scrape(), "stackdesk_celery_queue_length", queue="celery")
    finally:
        broker.lrem(low_priority, 0, "metrics-test-1")
        broker.lrem(low_priority, 0, "metrics-test-2")
    assert grown == start + 2


def test_a_broker_that_does_not_answer_reads_unknown_quickly(settings: SimpleNamespace) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    started = time.monotonic()
    length = value(scrape(), "stackdesk_celery_queue_length", queue="celery")
    assert math.isnan(length)
    assert time.monotonic() - started < 3


# --- calls to OpenStack -------------------------------------------------------------------------


def test_a_sign_in_is_an_upstream_identity_call(client: Client, keystone: FakeKeystone) -> None:
    form = {"method": "password", "cloud": "fake:RegionOne", "domain": "Default"}
    before = scrape()
    response = client.post("/auth/sign-in/", {**form, "username": "member", "password": "x"})
    assert response.status_code == 400  # the form again: wrong password
    client.post("/auth/sign-in/", {**form, "username": "member", "password": "member-pw"})
    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("stackdesk_upstream_requests_total", service="identity", status="2xx") >= 1
    assert grew("stackdesk_upstream_requests_total", service="identity", status="4xx") >= 1
    assert grew("stackdesk_upstream_errors_total", service="identity", code="401") >= 1
    assert grew("stackdesk_upstream_request_duration_seconds_count", service="identity") >= 2
    assert grew("stackdesk_upstream_request_duration_seconds_sum", service="identity") > 0


def test_the_service_comes_from_the_catalog_then_keystone_then_the_port() -> None:
    catalog = [
        {"type": "compute", "endpoints": [{"url": "https://cloud.example/compute/v2.1"}]},
        {"type": "volumev3", "endpoints": [{"url": "https://cloud.example/volume/v3/p1"}]},
        {"type": "object-store", "endpoints": [{"url": "https://swift.example/v1"}]},
    ]
    auth = SimpleNamespace(
        auth_ref=SimpleNamespace(service_catalog=SimpleNamespace(catalog=catalog))
    )
    keystone = "https://keystone.example/v3"
    assert metrics.service_of("https://cloud.example/compute/v2.1/servers", auth, keystone) == (
        "compute"
    )
    assert metrics.service_of("https://cloud.example/volume/v3/p1/volumes", auth, keystone) == (
        "block-storage"
    )
    assert metrics.service_of("https://swift.example/v1/c", auth, keystone) == "other"
    assert metrics.service_of("https://keystone.example/v3/auth/tokens", None, keystone) == (
        "identity"
    )
    assert metrics.service_of("http://10.0.0.5:9696/v2.0/networks", None, keystone) == "network"
    assert metrics.service_of("http://10.0.0.5:8080/x", None, keystone) == "other"


# --- the multiprocess folder --------------------------------------------------------------------


def _counter_file(path: Path, amount: float) -> None:
    key = mmap_key("stackdesk_fold_test", "stackdesk_fold_test_total", ["a"], ["b"], "test")
    store = metrics.MmapedDict(str(path))
    store.write_value(key, amount, 0.0)
    store.close()


def test_dead_processes_are_folded_into_the_archive_and_keep_their_counts(
    tmp_path: Path,
) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    _counter_file(tmp_path / f"counter_{dead_pid}.db", 3)
    _counter_file(tmp_path / "counter_archive.db", 2)
    _counter_file(tmp_path / f"counter_{os.getpid()}.db", 10)

    metrics.fold_dead_processes(tmp_path)

    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        f"counter_{os.getpid()}.db",
        "counter_archive.db",
    ]
    totals = {
        s.name: s.value
        for m in metrics.MultiProcessCollector(None, path=str(tmp_path)).collect()
        for s in m.samples
    }
    assert totals["stackdesk_fold_test_total"] == 15
