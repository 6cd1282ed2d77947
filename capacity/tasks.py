"""The periodic capacity sample (Celery beat: CELERY_BEAT_SCHEDULE "sample-capacity").

Not a job of a user (no Operation row, like the reaper in portal/tasks.py): the portal's
service user reads every configured cloud it belongs to; a cloud without one is skipped and
said so in the log. A round that overlaps a slow previous one does nothing (a cache lock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from capacity.gateway import CapacityGateway
from capacity.sampling import RoundResult, purge_old_samples, sample_cloud
from capacity.services import draw_cloud_charts
from portal import cloud
from portal.errors import CloudError

logger = logging.getLogger(__name__)
LOCK = "stackdesk:capacity:sampling"


def service_gateway(where: cloud.Cloud) -> CapacityGateway | None:
    conn = cloud.service_user_connection(where)
    return None if conn is None else CapacityGateway(conn, where)


def sample_every_cloud(
    connect: Callable[[cloud.Cloud], CapacityGateway | None] = service_gateway,
) -> list[RoundResult]:
    """One round for each configured cloud the service user belongs to, then the purge."""
    done = []
    for where in cloud.available_clouds():
        gw = connect(where)
        if gw is None:
            logger.info("capacity: no service user for %s, not sampled", where.key)
            continue
        try:
            result = sample_cloud(gw, where.key)
        except CloudError as exc:
            logger.warning("capacity: %s not sampled: %s", where.key, exc)
            continue
        logger.info(
            "capacity: %s sampled, %d providers, %d projects (%d not readable)",
            where.key,
            result.providers,
            result.projects,
            result.projects_skipped,
        )
        draw_cloud_charts(where.key)  # the first admin to look gets them at once
        done.append(result)
    purge_old_samples()
    return done


@shared_task(
    ignore_result=True,
    soft_time_limit=settings.STACKDESK_CAPACITY_SAMPLE_EVERY,
    time_limit=settings.STACKDESK_CAPACITY_SAMPLE_EVERY + 60,
)
def sample_capacity() -> int:
    if not cache.add(LOCK, "1", timeout=settings.STACKDESK_CAPACITY_SAMPLE_EVERY + 60):
        logger.info("capacity: the previous round is still running")
        return 0
    try:
        return len(sample_every_cloud())
    finally:
        cache.delete(LOCK)
