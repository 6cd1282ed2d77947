"""A job that only counts, slowly, loaded into test workers (`--include`): it exercises the
operation machinery (claim, heartbeat, resume, reaper) without a cloud."""

from __future__ import annotations

import time

from celery import shared_task

from portal.operations import running


@shared_task(acks_late=True, ignore_result=True)
def count_slowly(operation_id: int) -> None:
    with running(operation_id) as job:
        if job is None:
            return
        steps, delay = job.params["steps"], job.params["delay"]
        done = job.result.get("done", 0)  # resume where an earlier attempt stopped
        job.result.setdefault("starts", []).append(done)
        for i in range(done, steps):
            time.sleep(delay)
            job.result["done"] = i + 1
            job.progress(step=f"step {i + 1} of {steps}", percent=(i + 1) * 100 // steps)
