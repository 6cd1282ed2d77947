"""The portal's own metrics for Prometheus: GET /metrics (docs/operations.md says how to scrape).

What is counted: requests per view (its URL name, never the path: ids must not become label
values), OpenStack calls per service, finished jobs; what is read when scraped: job rows by
kind and state (one GROUP BY), and the Celery queue's length in Redis.

Several gunicorn workers (each with threads) and Celery workers count at once. They use
prometheus_client's multiprocess mode: each process writes its counts to an mmap file of its
own in PROMETHEUS_MULTIPROC_DIR (settings puts it in the state folder, which the web processes
and the worker already share) and a scrape adds the files up. Counting in Redis instead would
add a network round trip to every page and every OpenStack call, and a checkout without Redis
would have no metrics; a process's own in-memory counters (the library's default) would show
whichever gunicorn worker happened to answer the scrape. The folder keeps a dead process's
counts in the totals (counters must not go down); its files are folded into one archive file
per type when a scrape finds it dead, so the folder does not grow with every restart. Gauges
are computed at scrape time, so no process leaves gauge files behind.
"""

from __future__ import annotations

import fcntl
import hmac
import ipaddress
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict as _MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector as _MultiProcessCollector

from portal import throttle

# prometheus_client picks per-process or multiprocess values when first imported; settings
# sets PROMETHEUS_MULTIPROC_DIR before that. Imported earlier, every process would count
# for itself and a scrape would show one gunicorn worker's share: refuse to start instead.
if not getattr(values.ValueClass, "_multiprocess", False):
    raise ImproperlyConfigured(
        "prometheus_client was imported before portal.settings set PROMETHEUS_MULTIPROC_DIR."
    )

# prometheus_client's multiprocess module has no annotations (mypy --strict refuses the calls)
MmapedDict: Any = _MmapedDict
MultiProcessCollector: Any = _MultiProcessCollector

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
JOB_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 3 * 3600.0, 12 * 3600.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "stackdesk_http_requests",
    "Requests answered, by view (URL name), method and status class.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "stackdesk_http_request_duration_seconds",
    "Time to answer a request, by view (URL name).",
    ["view"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_REQUESTS = Counter(
    "stackdesk_upstream_requests",
    "HTTP calls to OpenStack that got an answer, by service and status class.",
    ["service", "status"],
)
UPSTREAM_LATENCY = Histogram(
    "stackdesk_upstream_request_duration_seconds",
    "Time from sending a call to OpenStack to its answer's headers, by service.",
    ["service"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "stackdesk_upstream_errors",
    "Calls to OpenStack answered with a 4xx or 5xx status, by service and status code.",
    ["service", "code"],
)
JOB_DURATION = Histogram(
    "stackdesk_job_duration_seconds",
    "Time from a job's start to its end, by kind and outcome.",
    ["kind", "outcome"],
    buckets=JOB_BUCKETS,
)


# --- requests ------------------------------------------------------------------------------


def _view_label(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is not None:
        return match.view_name  # "compute:list-servers": one per URL pattern, no arguments
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"  # answered by WhiteNoise before any URL is resolved
    return "unmatched"  # 404 for an unknown path; the path itself is never a label


class RequestMetricsMiddleware:
    """Counts and times every request; first in MIDDLEWARE so the time is the whole answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_label(request)
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(view, method, f"{response.status_code // 100}xx").inc()
        HTTP_LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


# --- calls to OpenStack ----------------------------------------------------------------------

# Catalog types as the portal names its services; other types (object-store...) are "other",
# so a cloud's catalog cannot add label values.
_SERVICE_TYPES = {
    "compute": "compute",
    "network": "network",
    "image": "image",
    "identity": "identity",
    "block-storage": "block-storage",
    "volumev3": "block-storage",
    "volumev2": "block-storage",
    "volume": "block-storage",
    "placement": "placement",
}
# The services' registered default ports, for a session that has no catalog yet.
_SERVICE_PORTS = {
    5000: "identity",
    35357: "identity",
    8774: "compute",
    9696: "network",
    9292: "image",
    8776: "block-storage",
    8778: "placement",
}


def _catalog_service(auth: Any, url: str) -> str | None:
    """The service whose catalog endpoint the URL is on: same host and port, and the longest
    path prefix when several services share one (path-based deployments)."""
    ref = getattr(auth, "auth_ref", None)
    catalog = getattr(getattr(ref, "service_catalog", None), "catalog", None) or []
    target = urlsplit(url)
    best: tuple[int, str] | None = None
    for service in catalog:
        for endpoint in service.get("endpoints", []):
            where = urlsplit(endpoint.get("url", ""))
            if where.netloc != target.netloc:
                continue
            prefix = where.path.rstrip("/")
            score = len(prefix) if target.path.startswith(prefix) else 0
            name = _SERVICE_TYPES.get(service.get("type", ""), "other")
            if best is None or score > best[0]:
                best = (score, name)
    return best[1] if best else None


def service_of(url: str, auth: Any, identity_url: str) -> str:
    """Which OpenStack service a call went to: from the token's catalog, else the Keystone
    address the session was made for, else the service's default port."""
    if found := _catalog_service(auth, url):
        return found
    target = urlsplit(url)
    if target.netloc == urlsplit(identity_url).netloc:
        return "identity"
    return _SERVICE_PORTS.get(target.port or 0, "other")


def count_upstream_calls(session: Any, identity_url: str) -> None:
    """Counts and times every answer a keystoneauth Session gets (openstacksdk's calls go
    through it too), with a requests response hook: it sees retries and version discovery
    as the separate calls they are. A call that got no answer (refused, timed out) is not
    seen here: it reaches the page as CloudUnavailable."""

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        service = service_of(response.url, session.auth, identity_url)
        status = int(response.status_code)
        UPSTREAM_REQUESTS.labels(service, f"{status // 100}xx").inc()
        UPSTREAM_LATENCY.labels(service).observe(response.elapsed.total_seconds())
        if status >= 400:
            UPSTREAM_ERRORS.labels(service, str(status)).inc()

    session.session.hooks["response"].append(hook)


# --- jobs ----------------------------------------------------------------------------------


def observe_finished_job(kind: str, outcome: str, started: Any, finished: Any) -> None:
    """A finished job's run time (a job cancelled before it started has none)."""
    if started is not None and finished is not None:
        JOB_DURATION.labels(kind, outcome).observe((finished - started).total_seconds())


def _job_rows() -> Iterator[tuple[str, str, int]]:
    # By app registry rather than import: portal.cloud imports this module, and the import
    # layers (pyproject.toml) keep portal.models, which names portal.identity, above it.
    operation = apps.get_model("portal", "Operation")
    rows = operation.objects.order_by().values_list("kind", "state").annotate(n=Count("id"))
    for kind, state, n in rows:
        yield str(kind), str(state), int(n)


def _queue_length() -> float:
    """Messages waiting in Celery's default queue; NaN (unknown) when the broker is not
    Redis or does not answer within half a second, so a scrape never hangs on it."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return math.nan
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        # kombu keeps a queue's prioritised messages in lists of their own beside "celery"
        # (priority steps 3, 6, 9): the queue's length is the sum.
        pipe = client.pipeline(transaction=False)
        for name in ("celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"):
            pipe.llen(name)
        return float(sum(pipe.execute()))
    except redis.RedisError:
        return math.nan
    finally:
        client.close()


class _ScrapeTimeCollector:
    """What is read when Prometheus asks rather than counted: job rows and queue length."""

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "stackdesk_jobs",
            "Job (Operation) rows by kind and state.",
            labels=["kind", "state"],
        )
        counts: dict[str, dict[str, int]] = {}
        try:
            for kind, state, n in _job_rows():
                counts.setdefault(kind, {})[state] = n
        except DatabaseError as exc:
            # the requests and calls counted so far matter most while the database is down
            logger.warning("/metrics without job counts: %s", exc)
        else:
            states = apps.get_model("portal", "Operation").State.values
            for kind, by_state in sorted(counts.items()):
                # every state of a kind that has rows, 0 included, so a drained state reads 0
                # rather than vanishing
                for state in states:
                    jobs.add_metric([kind, state], by_state.get(state, 0))
            yield jobs
        queue = GaugeMetricFamily(
            "stackdesk_celery_queue_length",
            "Messages waiting in a Celery queue (NaN: the broker did not say).",
            labels=["queue"],
        )
        queue.add_metric(["celery"], _queue_length())
        yield queue


# --- the multiprocess folder -------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def fold_dead_processes(folder: Path) -> None:
    """Folds the counter and histogram files of processes that are gone into one archive
    file per type, under a lock (two gunicorn workers may scrape at once), so their counts
    stay in the totals while the folder holds files of live processes only. Needs the web
    and worker processes on one host (the pids are checked here)."""
    with (folder / ".fold.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for typ in ("counter", "histogram"):
            dead = [
                path
                for path in folder.glob(f"{typ}_*.db")
                if path.stem.split("_")[-1].isdigit() and not _alive(int(path.stem.split("_")[-1]))
            ]
            if not dead:
                continue
            archive = folder / f"{typ}_archive.db"
            sources = [str(p) for p in [*dead, archive] if p.exists()]
            merged = MultiProcessCollector.merge(sources, accumulate=False)
            scratch = folder / f".{typ}_archive.new"
            scratch.unlink(missing_ok=True)
            out = MmapedDict(str(scratch))
            for metric in merged:
                for sample in metric.samples:
                    key = json.dumps(
                        [metric.name, sample.name, sample.labels, metric.documentation],
                        sort_keys=True,
                    )
                    out.write_value(key, sample.value, 0.0)
            out.close()
            os.replace(scratch, archive)  # first the archive, then the dead files go
            for path in dead:
                path.unlink()


# --- the endpoint --------------------------------------------------------------------------


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.STACKDESK_METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and offered.startswith("Bearer "):
        return hmac.compare_digest(offered[len("Bearer ") :].encode(), token.encode())
    try:
        address = ipaddress.ip_address(throttle.client_address(request))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in settings.STACKDESK_METRICS_ALLOWED)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for allowed addresses or the bearer token; anyone else gets
    the portal's ordinary 404, as if there were nothing here. Reads no session."""
    if not _may_scrape(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    fold_dead_processes(folder)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    registry.register(_ScrapeTimeCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
