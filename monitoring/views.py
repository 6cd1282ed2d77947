"""Admin › System Health's RabbitMQ, MariaDB and Ceph sections, read from Prometheus.

System Health (compute/admin_views.py) loads these sections beside its own with htmx, so a
slow Prometheus delays only them; without JavaScript they are a page of their own.
`?part=banner` gives their problems to the admin banner every admin page loads.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from monitoring.gateway import (
    CephHealth,
    MariaDBHealth,
    Prometheus,
    RabbitMQHealth,
    get_ceph_health,
    get_mariadb_health,
    get_rabbitmq_health,
)
from portal.concurrency import concurrently
from portal.identity import PortalRequest, admin_required

BANNER_CACHE_SECONDS = 30  # as the rest of the banner (compute/admin_views.py)


def read_health(url: str) -> tuple[RabbitMQHealth, MariaDBHealth, CephHealth]:
    """The three sections at once: three Prometheus queries (four when MariaDB is up: its
    slow queries of the last hour are a query of their own), each bounded by the timeout."""
    prometheus = Prometheus(url)
    return concurrently(
        functools.partial(get_rabbitmq_health, prometheus),
        functools.partial(get_mariadb_health, prometheus),
        functools.partial(get_ceph_health, prometheus),
    )


def health_problems(url: str) -> list[str]:
    """'RabbitMQ: why' for each section in warning or error (no data is not the cloud's
    problem), in the active language."""
    rabbitmq, mariadb, ceph = read_health(url)
    return [
        f"{name}: {finding.reason}"
        for name, section in (
            ("RabbitMQ", rabbitmq.section),
            ("MariaDB", mariadb.section),
            ("Ceph", ceph.section),
        )
        for finding in section.findings
        if finding.state in {"warning", "error"}
    ]


@require_GET
@admin_required
def admin_health(request: PortalRequest) -> HttpResponse:
    url = settings.STACKDESK_PROMETHEUS_URL
    if request.GET.get("part") == "banner":
        problems: list[str] = []
        if url:
            key = f"stackdesk:monitoring-problems:{get_language()}"
            problems = cache.get(key)
            if problems is None:
                problems = health_problems(url)
                cache.set(key, problems, BANNER_CACHE_SECONDS)
        return render(request, "monitoring/health.html#banner", {"problems": problems})
    context: dict[str, Any] = {"url": url}
    if url:
        context["rabbitmq"], context["mariadb"], context["ceph"] = read_health(url)
    partial = bool(request.htmx) and not request.htmx.boosted
    template = "monitoring/health.html#sections" if partial else "monitoring/health.html"
    return render(request, template, context)
