"""The broker losing its messages (Redis restarted without persistence, here: its database
flushed) under real Celery workers: a queued job is sent again by the reaper and runs once;
a running job finishes, once, whatever happened to its unacknowledged message."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.conf import settings

from tests.worker.test_worker_crash import queue_counting, wait_for

pytestmark = pytest.mark.worker


def lose_the_broker_data() -> None:
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_a_queued_job_whose_message_was_lost_is_sent_again_and_runs_once(
    start_worker: Any,
) -> None:
    op = queue_counting(steps=4, delay=0.1)  # no worker yet: the message waits in Redis
    lose_the_broker_data()
    start_worker(STACKDESK_OPERATION_MAX_BACKOFF="2")
    op = wait_for(op, lambda o: o.state == "succeeded", timeout=60)
    assert op.result["starts"] == [0] and op.attempts == 1
    assert any("sent again" in line for _, line in op.log)


def test_a_running_job_finishes_once_when_the_broker_loses_its_message(
    start_worker: Any,
) -> None:
    start_worker(STACKDESK_OPERATION_MAX_BACKOFF="2")
    op = queue_counting(steps=10, delay=0.4)
    wait_for(op, lambda o: o.percent >= 20, timeout=30)
    lose_the_broker_data()
    op = wait_for(op, lambda o: o.state == "succeeded", timeout=60)
    assert op.result["starts"] == [0] and op.attempts == 1 and op.result["done"] == 10
