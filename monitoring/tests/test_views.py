"""Admin › System Health's RabbitMQ, MariaDB and Ceph sections and their banner, through the
views, against the fake Prometheus (a real HTTP server)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client, override_settings

from monitoring.tests.fake_prometheus import FakePrometheus

URL = "/monitoring/admin/health/"
HTMX = {"HX-Request": "true"}


def text(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_sections_show_state_word_reason_and_figures(
    admin_client: Client, prometheus: FakePrometheus
) -> None:
    response = admin_client.get(URL, headers=HTMX)
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in response.content.decode()  # the partial only
    assert "RabbitMQ ✓ OK" in page
    assert "Node rabbit@localhost: 6 queues reported, 9 messages ready, 1 unacknowledged." in page
    assert "nova conductor (devcloud) 2 1 2" in page
    assert "celery" not in page  # not a queue of nova, neutron or cinder
    assert "MariaDB ✓ OK" in page
    assert "39 of 151 (at most 40 since the server started)" in page
    assert "4 since the server started, 0 in the last hour" in page
    assert "none: this server replicates from no other" in page
    assert "Ceph ✓ OK" in page
    assert "238.9 KB used of 3.0 GB (0.0 %)" in page
    assert "1 up and 1 in, of 1" in page
    assert "images 192.1 KB 2.8 GB 7" in page
    assert "From Prometheus, target ceph 127.0.0.1:9283" in page
    # one query per section, and MariaDB's slow queries of the last hour
    assert len(prometheus.queries) == 4


def test_without_javascript_it_is_a_page_of_its_own(
    admin_client: Client, prometheus: FakePrometheus
) -> None:
    response = admin_client.get(URL)
    assert "<html" in response.content.decode()
    assert "Back to System Health" in text(response)
    assert "Ceph ✓ OK" in text(response)


def test_problems_show_in_the_sections_and_the_banner(
    admin_client: Client, prometheus: FakePrometheus
) -> None:
    prometheus.set_value("ceph_health_status", 1)
    prometheus.add(
        "ceph_health_detail",
        1,
        name="OSD_DOWN",
        severity="HEALTH_WARN",
        job="ceph",
        instance="127.0.0.1:9283",
    )
    prometheus.set_value("mysql_up", 0)
    page = text(admin_client.get(URL, headers=HTMX))
    assert "Ceph ! Warning" in page
    assert "OSD_DOWN: One or more OSDs (the daemons that store data) are down." in page
    assert "MariaDB ✕ Error" in page
    banner = text(admin_client.get(URL + "?part=banner", headers=HTMX))
    assert banner.startswith("RabbitMQ, MariaDB or Ceph reports a problem:")
    assert "Ceph: OSD_DOWN: One or more OSDs" in banner
    assert "MariaDB: The exporter answers but cannot reach MariaDB (mysql_up is 0)." in banner
    assert "RabbitMQ" not in banner.removeprefix("RabbitMQ, MariaDB or Ceph")


def test_the_banner_is_empty_when_all_is_well_and_cached(
    admin_client: Client, prometheus: FakePrometheus
) -> None:
    assert text(admin_client.get(URL + "?part=banner", headers=HTMX)) == ""
    asked = len(prometheus.queries)
    prometheus.set_value("mysql_up", 0)
    assert text(admin_client.get(URL + "?part=banner", headers=HTMX)) == ""  # cached 30 s
    assert len(prometheus.queries) == asked


def test_an_unreachable_prometheus_is_no_data_never_a_500(admin_client: Client) -> None:
    with override_settings(STACKDESK_PROMETHEUS_URL="http://127.0.0.1:9"):
        response = admin_client.get(URL, headers=HTMX)
        banner = admin_client.get(URL + "?part=banner", headers=HTMX)
    assert response.status_code == 200
    page = text(response)
    assert page.count("? No data") == 3
    assert "Prometheus at http://127.0.0.1:9 is not reachable" in page
    assert "From Prometheus, target rabbitmq" in page
    assert text(banner) == ""  # no data is not the cloud's problem


def test_a_failed_scrape_names_its_target(admin_client: Client, prometheus: FakePrometheus) -> None:
    prometheus.series = [s for s in prometheus.series if s[0].get("job") != "rabbitmq"]
    prometheus.targets = [t for t in prometheus.targets if t["labels"]["job"] != "rabbitmq"]
    prometheus.add_target("rabbitmq", "127.0.0.1:15692", "/metrics/per-object", error="EOF")
    page = text(admin_client.get(URL, headers=HTMX))
    assert "RabbitMQ ? No data" in page
    assert "queues reported" not in page  # no figures without a scrape
    assert (
        "The last scrape of rabbitmq 127.0.0.1:15692 failed: "
        "http://127.0.0.1:15692/metrics/per-object: EOF"
    ) in page
    assert "MariaDB ✓ OK" in page


@override_settings(STACKDESK_PROMETHEUS_URL="")
def test_not_configured_says_what_it_would_show_and_how_to_enable(admin_client: Client) -> None:
    page = text(admin_client.get(URL, headers=HTMX))
    assert "Not configured." in page
    assert "consumers per queue of nova, neutron and cinder" in page
    assert "set STACKDESK_PROMETHEUS_URL to a Prometheus" in page
    assert text(admin_client.get(URL + "?part=banner", headers=HTMX)) == ""


def test_in_korean(admin_client: Client, prometheus: FakePrometheus) -> None:
    prometheus.set_value("mysql_up", 0)
    page = text(admin_client.get(URL, headers={**HTMX, "Accept-Language": "ko"}))
    assert "정상" in page
    assert "오류" in page
    assert "MariaDB에 연결하지 못합니다" in page
    assert "Error" not in page


def test_no_service_queue_is_no_data_with_rabbitmq_s_figures(
    admin_client: Client, prometheus: FakePrometheus
) -> None:
    prometheus.series = [s for s in prometheus.series if s[0].get("queue", "celery") == "celery"]
    page = text(admin_client.get(URL, headers=HTMX))
    assert "RabbitMQ ? No data" in page
    assert "Restart the services to see theirs." in page
    assert "Node rabbit@localhost: 1 queues reported, 7 messages ready, 0 unacknowledged." in page
    assert "None reported." in page


@pytest.mark.parametrize("persona", ["member_client", "reader_client"])
def test_only_admins(persona: str, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(persona)
    assert client.get(URL).status_code == 403
