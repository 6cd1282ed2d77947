"""A small Prometheus on 127.0.0.1 for unit tests: real HTTP, the real gateway's requests.

It holds series (labels and a value, as the exporters' scrapes leave them) and targets, and
answers the two calls the portal makes: `/api/v1/query` for a selector of label matchers
(`{job=~"a|b",__name__=~"x|y"}`, what monitoring/gateway.py asks) or for `sum(increase(NAME
{...}[1h]))` (from `increases`), and `/api/v1/targets`. Anything else is Prometheus' own
"bad_data" answer. `fail_with` makes it answer an HTTP status, `body` a raw body, `delay`
answer late.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MATCHER = re.compile(r'(\w+)(=~|!~|!=|=)"([^"]*)"')
SELECTOR = re.compile(r"^\{([^}]*)\}$")
INCREASE = re.compile(r"^sum\(increase\((\w+)\{([^}]*)\}\[\w+\]\)\)$")


@dataclass
class FakePrometheus:
    series: list[tuple[dict[str, str], float]] = field(default_factory=list)
    increases: dict[str, float] = field(default_factory=dict)  # metric name -> its sum
    targets: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int = 0  # an HTTP status to answer instead
    body: bytes | None = None  # a raw body to answer instead
    delay: float = 0.0
    queries: list[str] = field(default_factory=list)
    url: str = ""

    def add(self, metric: str, value: float, /, **labels: str) -> None:
        self.series.append(({"__name__": metric, **labels}, value))

    def add_target(self, job: str, instance: str, path: str = "/metrics", error: str = "") -> None:
        """A scrape target with its `up` series (1, or 0 with the error of its last scrape)."""
        self.add("up", 0 if error else 1, job=job, instance=instance)
        self.targets.append(
            {
                "labels": {"job": job, "instance": instance},
                "scrapeUrl": f"http://{instance}{path}",
                "health": "down" if error else "up",
                "lastError": error,
            }
        )

    def set_value(self, name: str, value: float) -> None:
        self.series = [
            (labels, value if labels["__name__"] == name else v) for labels, v in self.series
        ]

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path == "/api/v1/targets":
            return 200, {"status": "success", "data": {"activeTargets": self.targets}}
        if path != "/api/v1/query":
            return 404, {"status": "error", "errorType": "not_found", "error": path}
        query = params.get("query", "")
        self.queries.append(query)
        if found := INCREASE.match(query):
            name = found.group(1)
            result = (
                []
                if name not in self.increases
                else [{"metric": {}, "value": [time.time(), str(self.increases[name])]}]
            )
            return 200, _vector(result)
        found = SELECTOR.match(query)
        if not found:
            return 400, {
                "status": "error",
                "errorType": "bad_data",
                "error": f"parse error: {query}",
            }
        matchers = MATCHER.findall(found.group(1))
        result = [
            {"metric": labels, "value": [time.time(), str(value)]}
            for labels, value in self.series
            if all(_matches(labels.get(label, ""), op, wanted) for label, op, wanted in matchers)
        ]
        return 200, _vector(result)


def _vector(result: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def _matches(value: str, op: str, wanted: str) -> bool:
    if op == "=":
        return value == wanted
    if op == "!=":
        return value != wanted
    matched = re.fullmatch(wanted, value) is not None
    return matched if op == "=~" else not matched


class _Server(ThreadingHTTPServer):
    prometheus: FakePrometheus


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.prometheus
        if fake.delay:
            time.sleep(fake.delay)
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        if fake.fail_with:
            self._send(fake.fail_with, b"<html>Service Unavailable</html>", "text/html")
            return
        if fake.body is not None:
            self._send(200, fake.body, "application/json")
            return
        status, answer = fake.answer(url.path, params)
        self._send(status, json.dumps(answer).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


def serve(prometheus: FakePrometheus) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.prometheus = prometheus
    prometheus.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


def devcloud_like() -> FakePrometheus:
    """What the all-in-one's Prometheus reports when all is well (devcloud's job names, the
    exporters' metric names and labels as scraped from them)."""
    fake = FakePrometheus()
    fake.add_target("rabbitmq", "127.0.0.1:15692", "/metrics/per-object")
    fake.add(
        "rabbitmq_identity_info",
        1,
        job="rabbitmq",
        instance="127.0.0.1:15692",
        rabbitmq_node="rabbit@localhost",
    )
    for queue, ready, unacked, consumers in (
        ("compute.compute1", 0, 0, 1),
        ("conductor", 2, 1, 2),
        ("cinder-volume", 0, 0, 1),
        ("q-plugin", 0, 0, 1),
        ("reply_4089a65b", 0, 0, 1),
        ("celery", 7, 0, 0),
    ):
        for metric, value in (
            ("rabbitmq_queue_messages_ready", ready),
            ("rabbitmq_queue_messages_unacked", unacked),
            ("rabbitmq_queue_consumers", consumers),
        ):
            fake.add(
                metric,
                value,
                job="rabbitmq",
                instance="127.0.0.1:15692",
                vhost="devcloud",
                queue=queue,
            )
    for alarm in (
        "rabbitmq_alarms_memory_used_watermark",
        "rabbitmq_alarms_free_disk_space_watermark",
    ):
        fake.add(alarm, 0, job="rabbitmq", instance="127.0.0.1:15692")

    fake.add_target("mysqld", "127.0.0.1:9104")
    for metric, value in (
        ("mysql_up", 1),
        ("mysql_global_status_threads_connected", 39),
        ("mysql_global_status_max_used_connections", 40),
        ("mysql_global_variables_max_connections", 151),
        ("mysql_global_status_slow_queries", 4),
    ):
        fake.add(metric, value, job="mysqld", instance="127.0.0.1:9104")
    fake.increases["mysql_global_status_slow_queries"] = 0

    fake.add_target("ceph", "127.0.0.1:9283")
    c = {"job": "ceph", "instance": "127.0.0.1:9283"}
    fake.add("ceph_health_status", 0, **c)
    fake.add("ceph_cluster_total_bytes", 3221225472, **c)
    fake.add("ceph_cluster_total_used_bytes", 244679, **c)
    fake.add("ceph_osd_up", 1, ceph_daemon="osd.0", **c)
    fake.add("ceph_osd_in", 1, ceph_daemon="osd.0", **c)
    for pool_id, name, stored, objects in (("1", "volumes", 0, 0), ("2", "images", 196721, 7)):
        fake.add("ceph_pool_metadata", 1, pool_id=pool_id, name=name, type="replicated", **c)
        fake.add("ceph_pool_stored", stored, pool_id=pool_id, **c)
        fake.add("ceph_pool_max_avail", 3059919360, pool_id=pool_id, **c)
        fake.add("ceph_pool_objects", objects, pool_id=pool_id, **c)
    # a check that was active once and is not now (the module keeps it, at 0)
    fake.add("ceph_health_detail", 0, name="OSD_DOWN", severity="HEALTH_WARN", **c)
    return fake
