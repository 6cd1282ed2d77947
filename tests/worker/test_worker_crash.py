"""Operations in real Celery workers: a worker killed mid-job (SIGKILL of its whole process
group) leaves a job that the next worker resumes, or fails once its attempts are used up;
it is never left "running" forever."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from celery import current_app

from portal.models import Operation
from tests.worker.slow_tasks import count_slowly

pytestmark = pytest.mark.worker


def queue_counting(steps: int, delay: float) -> Operation:
    op = Operation.objects.create(
        kind=count_slowly.name,
        title=count_slowly.title,
        task_name=count_slowly.task.name,
        cloud_key="none",
        user_id="u-1",
        user_name="tester",
        project_id="p-1",
        project_name="test",
        params={"steps": steps, "delay": delay},
    )
    current_app.send_task(count_slowly.task.name, args=[op.pk])
    return op


def wait_for(op: Operation, condition: Callable[[Operation], bool], timeout: float) -> Operation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op.refresh_from_db()
        if condition(op):
            return op
        time.sleep(0.3)
    pytest.fail(f"timed out: {op.state} {op.percent}% {op.log[-3:]}")


def test_job_of_a_killed_worker_is_resumed_by_the_next_one(start_worker: Any) -> None:
    first = start_worker()
    op = queue_counting(steps=12, delay=0.5)
    wait_for(op, lambda o: o.percent >= 25, timeout=30)
    first.kill()
    at_kill = wait_for(op, lambda o: True, timeout=1).result["done"]
    time.sleep(2)
    op.refresh_from_db()
    assert op.state == "running"  # nobody is working on it, and nobody knows yet

    start_worker()
    op = wait_for(op, lambda o: o.state == "succeeded", timeout=60)
    assert op.attempts == 2
    starts = op.result["starts"]
    assert starts[0] == 0 and starts[1] >= at_kill  # resumed, not started over
    assert op.result["done"] == 12
    assert any("stopped answering" in line for _, line in op.log)


def test_job_is_failed_when_its_attempts_are_used_up(start_worker: Any) -> None:
    first = start_worker(STACKDESK_OPERATION_MAX_ATTEMPTS="1")
    op = queue_counting(steps=40, delay=0.5)
    wait_for(op, lambda o: o.percent >= 5, timeout=30)
    first.kill()

    start_worker(STACKDESK_OPERATION_MAX_ATTEMPTS="1")
    op = wait_for(op, lambda o: o.state == "failed", timeout=60)
    assert "stopped answering" in op.error and "tried 1 times" in op.error
    assert op.finished_at is not None
