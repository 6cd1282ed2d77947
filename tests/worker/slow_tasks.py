"""A job that only counts, slowly, loaded into test workers (`--include`): it exercises the
operation machinery (claim, heartbeat, resume, reaper) without a cloud."""

from __future__ import annotations

import time

from portal.operations import Job, job


@job("Count slowly")
def count_slowly(job: Job) -> None:
    steps, delay = job.params["steps"], job.params["delay"]
    done = job.result.get("done", 0)  # resume where an earlier attempt stopped
    job.result.setdefault("starts", []).append(done)
    for i in range(done, steps):
        time.sleep(delay)
        job.result["done"] = i + 1
        job.progress(step=f"step {i + 1} of {steps}", percent=(i + 1) * 100 // steps)
