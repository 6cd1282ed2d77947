"""The gateway against a real HTTP Prometheus (fake_prometheus.py): figures, states and
reasons, and every way an answer can fail, each a "no data" section naming the target."""

from __future__ import annotations

import socket

from monitoring import gateway as g
from monitoring.tests.fake_prometheus import FakePrometheus


def reasons(section: g.Section) -> str:
    return " | ".join(str(r) for r in section.reasons)


def test_rabbitmq_figures_per_queue_of_nova_neutron_and_cinder(prometheus: FakePrometheus) -> None:
    health = g.get_rabbitmq_health(g.Prometheus(prometheus.url))
    assert health.section.state == "ok", reasons(health.section)
    assert health.section.target == "rabbitmq 127.0.0.1:15692"
    assert health.node == "rabbit@localhost"
    by_name = {q.name: q for q in health.service_queues}
    # replies and other applications' queues are counted, not listed
    assert set(by_name) == {"compute.compute1", "conductor", "cinder-volume", "q-plugin"}
    assert by_name["conductor"] == g.Queue("devcloud", "conductor", "nova", 2, 1, 2)
    assert by_name["q-plugin"].service == "neutron"
    assert by_name["cinder-volume"].service == "cinder"
    assert len(health.queues) == 6
    assert {q.name: q.service for q in health.queues}["reply_4089a65b"] == "reply"
    assert (health.ready, health.unacked) == (9, 1)
    assert reasons(health.section) == "4 queues of nova, neutron and cinder, each with a consumer."


def test_no_queue_of_the_services_is_no_data(prometheus: FakePrometheus) -> None:
    """As on a cloud whose services declared their queues before the plugin was enabled."""
    prometheus.series = [
        s for s in prometheus.series if s[0].get("queue", "celery") in {"celery", "reply_4089a65b"}
    ]
    health = g.get_rabbitmq_health(g.Prometheus(prometheus.url))
    assert health.section.state == "no data"
    assert "reports no queue of nova, neutron or cinder" in reasons(health.section)
    assert "Restart the services" in reasons(health.section)
    assert [q.name for q in health.queues] == ["celery", "reply_4089a65b"]
    assert health.section.scraped  # the page still shows what RabbitMQ reports


def test_a_service_queue_without_consumer_is_an_error(prometheus: FakePrometheus) -> None:
    prometheus.series = [
        (
            labels,
            0
            if labels.get("queue") == "cinder-volume"
            and labels["__name__"] == "rabbitmq_queue_consumers"
            else value,
        )
        for labels, value in prometheus.series
    ]
    health = g.get_rabbitmq_health(g.Prometheus(prometheus.url))
    assert health.section.state == "error"
    assert "No process consumes cinder-volume" in reasons(health.section)


def test_a_backlog_is_a_warning_and_an_alarm_an_error(prometheus: FakePrometheus) -> None:
    prometheus.series = [
        (
            labels,
            50
            if labels.get("queue") == "conductor"
            and labels["__name__"] == "rabbitmq_queue_messages_ready"
            else value,
        )
        for labels, value in prometheus.series
    ]
    health = g.get_rabbitmq_health(g.Prometheus(prometheus.url))
    assert health.section.state == "warning"
    assert "Messages wait in conductor" in reasons(health.section)
    prometheus.set_value("rabbitmq_alarms_memory_used_watermark", 1)
    health = g.get_rabbitmq_health(g.Prometheus(prometheus.url))
    assert health.section.state == "error"
    assert "more memory than its watermark" in reasons(health.section)


def test_mariadb_connections_slow_queries_and_no_replication(prometheus: FakePrometheus) -> None:
    health = g.get_mariadb_health(g.Prometheus(prometheus.url))
    assert health.section.state == "ok"
    assert (health.connections, health.max_connections, health.max_used_connections) == (
        39,
        151,
        40,
    )
    assert (health.slow_queries, health.slow_queries_last_hour) == (4, 0)
    assert health.replicas == ()
    assert reasons(health.section) == "Up; 39 of 151 connections in use."


def test_mariadb_warnings_and_errors(prometheus: FakePrometheus) -> None:
    prometheus.set_value("mysql_global_status_threads_connected", 140)
    prometheus.increases["mysql_global_status_slow_queries"] = 3
    health = g.get_mariadb_health(g.Prometheus(prometheus.url))
    assert health.section.state == "warning"
    assert "140 of 151 connections in use" in reasons(health.section)
    assert "3 slow queries in the last hour" in reasons(health.section)
    replica = {
        "job": "mysqld",
        "instance": "127.0.0.1:9104",
        "master_host": "db1",
        "channel_name": "",
    }
    prometheus.add("mysql_slave_status_slave_io_running", 1, **replica)
    prometheus.add("mysql_slave_status_slave_sql_running", 0, **replica)
    prometheus.add("mysql_slave_status_seconds_behind_master", 12, **replica)
    health = g.get_mariadb_health(g.Prometheus(prometheus.url))
    assert health.section.state == "error"
    assert health.replicas == (g.Replica("", "db1", True, False, 12.0),)
    assert "Replication from db1 has stopped." in reasons(health.section)
    prometheus.set_value("mysql_up", 0)
    health = g.get_mariadb_health(g.Prometheus(prometheus.url))
    assert health.section.state == "error"
    assert "cannot reach MariaDB" in reasons(health.section)


def test_ceph_capacity_pools_and_osds(prometheus: FakePrometheus) -> None:
    health = g.get_ceph_health(g.Prometheus(prometheus.url))
    assert health.section.state == "ok"
    assert health.status == "HEALTH_OK"
    assert health.checks == ()  # OSD_DOWN was active once, it is 0 now
    assert (health.used_bytes, health.total_bytes) == (244679, 3221225472)
    assert health.pools == (
        g.Pool("images", 196721, 3059919360, 7),
        g.Pool("volumes", 0, 3059919360, 0),
    )
    assert (health.osds, health.osds_up, health.osds_in) == (1, 1, 1)


def test_ceph_checks_in_plain_words(prometheus: FakePrometheus) -> None:
    c = {"job": "ceph", "instance": "127.0.0.1:9283"}
    prometheus.set_value("ceph_health_status", 2)
    prometheus.add(
        "ceph_health_detail", 1, name="POOL_NO_REDUNDANCY", severity="Severity.warn", **c
    )
    prometheus.add("ceph_health_detail", 1, name="OSD_FULL", severity="HEALTH_ERR", **c)
    prometheus.add("ceph_health_detail", 1, name="NEW_CHECK_X", severity="HEALTH_WARN", **c)
    health = g.get_ceph_health(g.Prometheus(prometheus.url))
    assert health.status == "HEALTH_ERR"
    assert health.section.state == "error"
    assert [(c.code, c.severity) for c in health.checks] == [
        ("OSD_FULL", "error"),
        ("NEW_CHECK_X", "warning"),
        ("POOL_NO_REDUNDANCY", "warning"),
    ]
    text = reasons(health.section)
    assert "OSD_FULL: An OSD is full: the cluster refuses writes." in text
    assert "POOL_NO_REDUNDANCY: A pool keeps a single copy of its data." in text
    assert "NEW_CHECK_X: NEW_CHECK_X" in text  # unknown to us: Ceph's code as it is


def test_a_failed_scrape_is_no_data_with_the_target_and_prometheus_error(
    prometheus: FakePrometheus,
) -> None:
    prometheus.series = [s for s in prometheus.series if s[0].get("job") != "ceph"]
    prometheus.targets = [t for t in prometheus.targets if t["labels"]["job"] != "ceph"]
    prometheus.add_target("ceph", "127.0.0.1:9283", error="connection refused")
    health = g.get_ceph_health(g.Prometheus(prometheus.url))
    assert health.section.state == "no data"
    assert not health.section.scraped
    assert health.section.target == "ceph 127.0.0.1:9283"
    assert reasons(health.section) == (
        "The last scrape of ceph 127.0.0.1:9283 failed: "
        "http://127.0.0.1:9283/metrics: connection refused"
    )
    # the other sections do not suffer
    assert g.get_mariadb_health(g.Prometheus(prometheus.url)).section.state == "ok"


def test_a_job_prometheus_does_not_scrape_is_no_data(prometheus: FakePrometheus) -> None:
    prometheus.series = [s for s in prometheus.series if s[0].get("job") != "mysqld"]
    health = g.get_mariadb_health(g.Prometheus(prometheus.url))
    assert health.section.state == "no data"
    assert reasons(health.section) == "Prometheus scrapes no job named mysqld / mariadb."


def test_unreachable_prometheus_is_no_data() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    health = g.get_rabbitmq_health(g.Prometheus(f"http://127.0.0.1:{port}"))
    assert health.section.state == "no data"
    assert f"Prometheus at http://127.0.0.1:{port} is not reachable" in reasons(health.section)
    assert health.queues == ()


def test_bad_answers_are_no_data(prometheus: FakePrometheus) -> None:
    api = g.Prometheus(prometheus.url)
    prometheus.fail_with = 503
    assert reasons(g.get_ceph_health(api).section) == "Prometheus answered HTTP 503."
    prometheus.fail_with = 0
    prometheus.body = b"<html>a proxy's login page</html>"
    assert reasons(g.get_ceph_health(api).section) == "Prometheus' answer is not JSON."
    prometheus.body = b'{"status": "error", "errorType": "timeout", "error": "query timed out"}'
    assert reasons(g.get_ceph_health(api).section) == (
        "Prometheus refused the query: query timed out"
    )
    prometheus.body = b'{"status": "success", "data": {"resultType": "matrix", "result": []}}'
    assert "something other than a vector" in reasons(g.get_ceph_health(api).section)
    prometheus.body = (
        b'{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}'
    )
    assert reasons(g.get_ceph_health(api).section) == "Prometheus' answer is not a query result."


def test_a_slow_prometheus_is_no_data_after_the_timeout(prometheus: FakePrometheus) -> None:
    prometheus.delay = 1.0
    health = g.get_mariadb_health(g.Prometheus(prometheus.url, timeout=0.2))
    assert health.section.state == "no data"
    assert "not reachable" in reasons(health.section)
