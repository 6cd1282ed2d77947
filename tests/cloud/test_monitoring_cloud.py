"""System Health's RabbitMQ, MariaDB and Ceph figures against the all-in-one's own exporters
(devcloud/prometheus.py), each proven by the server's own answer: `rabbitmqctl list_queues`,
`SHOW STATUS`, `ceph df`. Prometheus scrapes every 10 s and the exporters refresh on their own
clocks (RabbitMQ's queue statistics every 5 s, Ceph's manager module every 15 s), so each check
waits until Prometheus has seen the state the test arranged (or gives up after a minute).
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any, TypeVar

import amqp
import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from devcloud import backing, ceph
from devcloud import config as devcloud
from monitoring import gateway as g
from tests.conftest import portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")


@pytest.fixture
def prometheus() -> Iterator[g.Prometheus]:
    with override_settings(STACKDESK_PROMETHEUS_URL=devcloud.PROMETHEUS_URL):
        yield g.Prometheus(devcloud.PROMETHEUS_URL)


def eventually(read: Callable[[], T], agrees: Callable[[T], bool], timeout: float = 60) -> T:
    """`read()` until `agrees` says it matches what the server says now; the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if agrees(value) or time.monotonic() > deadline:
            return value
        time.sleep(2)


def rabbitmq_queues() -> dict[str, tuple[int, int, int]]:
    """RabbitMQ's own answer: queue -> (ready, unacknowledged, consumers) in devcloud's vhost."""
    out = subprocess.run(
        [  # noqa: S607 (Debian's rabbitmqctl, as devcloud/backing.py runs it)
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            devcloud.RABBIT_VHOST,
            "--no-table-headers",
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = (line.split("\t") for line in out.splitlines() if line.strip())
    return {name: (int(r), int(u), int(c)) for name, r, u, c in rows}


@pytest.fixture
def busy_queue() -> Iterator[str]:
    """A queue of our own in devcloud's vhost: 3 messages published, a consumer holding one
    unacknowledged (prefetch 1), so 2 ready, 1 unacknowledged, 1 consumer."""
    name = f"stackdesk-test-{uuid.uuid4().hex[:8]}"
    connection = amqp.Connection(
        f"{devcloud.HOST}:{devcloud.RABBITMQ_PORT}",
        userid=devcloud.RABBIT_USER,
        password=devcloud.RABBIT_PASSWORD,
        virtual_host=devcloud.RABBIT_VHOST,
    )
    connection.connect()
    channel = connection.channel()
    channel.queue_declare(name, auto_delete=False)
    try:
        for n in range(3):
            channel.basic_publish(amqp.Message(f"message {n}"), routing_key=name)
        channel.basic_qos(0, 1, False)
        tag = channel.basic_consume(name, callback=lambda message: None)
        connection.drain_events(timeout=10)  # the first message arrives and stays unacked
        yield name
        channel.basic_cancel(tag)  # else deleting the queue cancels it: an error here
    finally:
        channel.queue_delete(name)
        connection.close()


def test_a_queue_s_figures_equal_rabbitmq_s_own_answer(
    prometheus: g.Prometheus, busy_queue: str
) -> None:
    def ours() -> dict[str, g.Queue]:
        return {q.name: q for q in g.get_rabbitmq_health(prometheus).queues}

    assert rabbitmq_queues()[busy_queue] == (2, 1, 1)
    seen = eventually(ours, lambda queues: busy_queue in queues and queues[busy_queue].ready == 2)
    health = g.get_rabbitmq_health(prometheus)
    assert health.node, health.section.reasons  # scraped (its state may still be "no data":
    # services that declared their queues before the plugin was enabled report none)
    queue = seen[busy_queue]
    assert (queue.ready, queue.unacked, queue.consumers) == (2, 1, 1)
    assert queue.vhost == devcloud.RABBIT_VHOST
    assert queue.service == "other"

    # every queue of nova, neutron and cinder the exporter reports agrees with RabbitMQ too
    # (consumers: messages come and go faster than a scrape)
    theirs = rabbitmq_queues()
    for q in health.service_queues:
        if q.name in theirs:
            assert q.consumers == theirs[q.name][2], q


def test_mariadb_is_up_with_plausible_connections(prometheus: g.Prometheus) -> None:
    def threads_connected() -> int:
        out = backing.root_sql("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
        return int(out.split()[1])

    health = eventually(
        lambda: g.get_mariadb_health(prometheus),
        lambda h: abs(h.connections - threads_connected()) <= 5,
    )
    assert health.section.state in {"ok", "warning"}, health.section.reasons
    assert health.section.target == f"mysqld {devcloud.HOST}:{devcloud.MYSQLD_EXPORTER_PORT}"
    # OpenStack's services keep pools open: dozens of connections, never more than allowed
    assert abs(health.connections - threads_connected()) <= 5
    assert 0 < health.connections <= health.max_connections
    assert health.max_connections == int(backing.root_sql("SELECT @@max_connections").strip())
    slow = int(backing.root_sql("SHOW GLOBAL STATUS LIKE 'Slow_queries'").split()[1])
    assert health.slow_queries <= slow
    assert health.replicas == ()  # the all-in-one's MariaDB replicates from no other


def test_ceph_capacity_and_pools_equal_ceph_df(prometheus: g.Prometheus) -> None:
    def read() -> tuple[g.CephHealth, dict[str, Any]]:
        return g.get_ceph_health(prometheus), ceph.ceph("df")

    def agrees(reading: tuple[g.CephHealth, dict[str, Any]]) -> bool:
        health, df = reading
        pools = {p["name"]: (p["stats"]["stored"], p["stats"]["objects"]) for p in df["pools"]}
        return (health.total_bytes, health.used_bytes) == (
            df["stats"]["total_bytes"],
            df["stats"]["total_used_bytes"],
        ) and {p.name: (p.stored, p.objects) for p in health.pools} == pools

    # other tests write volumes and images meanwhile: a reading that agrees with the `ceph df`
    # taken right after it, within two minutes (the module's cache and the scrape: up to 25 s)
    health, df = eventually(read, agrees, timeout=120)
    assert health.section.state != "no data", health.section.reasons
    assert health.total_bytes == df["stats"]["total_bytes"] > 0
    assert health.used_bytes == df["stats"]["total_used_bytes"]
    assert {p.name: (p.stored, p.objects) for p in health.pools} == {
        p["name"]: (p["stats"]["stored"], p["stats"]["objects"]) for p in df["pools"]
    }
    status = ceph.ceph("status")
    assert health.status == status["health"]["status"]
    assert {c.code for c in health.checks} == set(status["health"]["checks"])
    assert (health.osds, health.osds_up, health.osds_in) == (
        status["osdmap"]["num_osds"],
        status["osdmap"]["num_up_osds"],
        status["osdmap"]["num_in_osds"],
    )


def text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_system_health_as_admin_shows_the_three_sections(
    portal_clouds_yaml: Path, prometheus: g.Prometheus
) -> None:
    cache.clear()
    client = portal_sign_in(Client(), "admin")
    page = client.get("/compute/admin/health/")
    assert page.status_code == 200
    # the sections load after the page, from monitoring's view
    assert 'hx-get="/monitoring/admin/health/"' in page.content.decode()
    sections = client.get("/monitoring/admin/health/", headers={"HX-Request": "true"})
    assert sections.status_code == 200
    shown = text(sections)
    for heading in ("MariaDB", "Ceph"):
        assert re.search(rf"{heading} . (OK|Warning|Error)", shown), shown
    # RabbitMQ's figures are there even when no queue of the services is (see gateway.py)
    assert re.search(r"RabbitMQ . (OK|Warning|Error|No data)", shown), shown
    assert re.search(r"Node rabbit@\S+: \d+ queues reported", shown), shown
    assert "not reachable" not in shown
    assert "The last scrape" not in shown
    assert f"From Prometheus, target ceph {devcloud.HOST}:{devcloud.CEPH_PROMETHEUS_PORT}" in shown
    total = ceph.ceph("df")["stats"]["total_bytes"]
    assert f"of {total / 2**30:.1f} GB" in shown
    banner = client.get("/compute/admin/health/?part=banner")
    assert 'hx-get="/monitoring/admin/health/?part=banner"' in banner.content.decode()
