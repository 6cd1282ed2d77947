"""Long jobs: starting them from a view, running them in a worker, and recovering lost ones.

The life of an Operation row:

    queued --claim--> running --> succeeded | failed | cancelled
       ^                 |
       +-- requeue ------+   (cloud unavailable: retried with backoff;
                              worker lost: the reaper requeues it, or fails it after
                              STACKDESK_OPERATION_MAX_ATTEMPTS attempts)

A kind of job is declared once, beside its work, with `@job(title)` over a function that
takes the Job (`def delete_router(job: Job) -> None` in network/tasks.py): that makes its
JobKind (the verb-noun name stored as Operation.kind, the English title, the Celery task) and
the task, which takes one argument, the operation id (STYLE.md §5), claims the row and runs the
body inside `running()`; nothing happens when there is nothing to do (already finished,
cancelled, or claimed by a live worker), which makes redelivered messages harmless. Views
start a kind with `start_operation(request, tasks.delete_router, target=...)` and look its
rows up by `tasks.delete_router.name`. The user's token travels only inside the row, sealed;
never on the broker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task, current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit, cloud, metrics
from portal.crypto import seal, unseal
from portal.errors import CloudError, CloudUnavailable, Rejected, SignInRequired
from portal.identity import PortalRequest, confirm_sign_in, me, session_credential
from portal.models import Operation

logger = logging.getLogger(__name__)
READER_ROLE = "reader"
State = Operation.State


class OperationCancelled(Exception):
    """Raised inside a running job when the user cancelled it."""


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its verb-noun name (Operation.kind; the task is `<module>.<name>`), its
    English title (marked with gettext_noop, translated when shown) and its Celery task."""

    name: str
    title: str
    task: Task[[int], None]
    changes: bool = True  # False: the job only reads (counts, exports), a reader may run it

    def __call__(self, operation_id: int) -> None:
        """Run the job here and now, as a worker does with its message (tests, benchmarks)."""
        self.task(operation_id)


def job(
    title: str, *, changes: bool = True, **options: Any
) -> Callable[[Callable[[Job], None]], JobKind]:
    """Declare a kind of job over the function that does its work with a Job; `changes=False`
    for one that only reads. `options` go to Celery (time limits); every job task is
    acks_late and keeps no result."""

    def declare(body: Callable[[Job], None]) -> JobKind:
        @shared_task(
            name=f"{body.__module__}.{body.__name__}", acks_late=True, ignore_result=True, **options
        )
        def run(operation_id: int) -> None:
            with running(operation_id) as current:
                if current is not None:
                    body(current)

        return JobKind(body.__name__, title, run, changes)

    return declare


def ensure_may_start(request: PortalRequest, kind: JobKind) -> None:
    """A token that carries only the reader role changes nothing (Keystone's default roles:
    reader < member < admin), so a job that changes things is refused before its row exists,
    not later by the cloud. Other roles (custom ones included) are left to the cloud."""
    if kind.changes and set(me(request).roles) <= {READER_ROLE}:
        raise Rejected(
            _("Your role in this project is reader: it can look at things, not change them."),
            403,
        )


def start_operation(
    request: PortalRequest,
    kind: JobKind,
    *,
    target: str = "",
    target_name: str = "",
    params: dict[str, Any] | None = None,
    delegate: bool = False,
) -> Operation:
    """Create the row (with the user's sealed token) and queue the task once it is committed.

    `delegate`: the job may outlast the user's token (a host drain), so it also gets a
    Keystone trust to the portal's service user (portal/cloud.py), deleted when it ends.
    Keystone confirms the user's token first: a revoked one starts nothing."""
    identity = me(request)
    ensure_may_start(request, kind)
    confirm_sign_in(request)
    credential = session_credential(request)
    sealed: dict[str, Any] = {"token": credential["token"], "body": credential["body"]}
    notes = []
    if delegate:
        trust_id, note = _delegate(request, kind.task)
        notes.append(_line(note))
        if trust_id:
            sealed["trust_id"] = trust_id
    # The job and its audit record are written together: a job never goes unrecorded.
    with transaction.atomic():
        op = Operation.objects.create(
            kind=kind.name,
            title=kind.title,
            task_name=kind.task.name,
            cloud_key=identity.cloud_key,
            user_id=identity.user_id,
            user_name=identity.user_name,
            project_id=identity.project_id,
            project_name=identity.project_name,
            target=target,
            target_name=target_name,
            params=params or {},
            credential=seal(sealed),
            step=_("Waiting for a worker"),
            log=notes,
        )
        audit.record_job(request, op)
    _send(op, countdown=0)
    return op


def _delegate(request: PortalRequest, task: Task[Any, Any]) -> tuple[str | None, str]:
    """A trust for a job that may outlast the token, and the log line that says how it acts."""
    identity = me(request)
    where = cloud.find_cloud(identity.cloud_key)
    # Long enough for every attempt of the job; a lost job's trust expires by itself.
    limit = getattr(task, "time_limit", None) or settings.CELERY_TASK_TIME_LIMIT
    lifetime = timedelta(seconds=limit * settings.STACKDESK_OPERATION_MAX_ATTEMPTS + 3600)
    try:
        credential = session_credential(request)
        trust_id = cloud.create_trust(
            where,
            credential["token"],
            credential["body"],
            identity.roles,
            timezone.now() + lifetime,
        )
    except CloudError as exc:
        return None, _(
            "Keystone refused a trust for this job (%(reason)s): it acts with your sign-in, "
            "and stops if that expires first."
        ) % {"reason": exc}
    if trust_id is None:
        return None, _(
            "The portal has no service user: this job acts with your sign-in, and stops if "
            "that expires first."
        )
    return trust_id, _(
        "Acts as you through a Keystone trust to the portal's service user (trust %(id)s), "
        "deleted when the job ends."
    ) % {"id": trust_id}


def _release(op: Operation, conn: cloud.Connection | None = None) -> None:
    """Delete the job's trust, if it has one, with the job's own connection when it made one
    (best effort: the trust expires by itself anyway)."""
    data = unseal(op.credential) if op.credential else None
    if not data or not data.get("trust_id"):
        return
    try:
        cloud.delete_trust(cloud.find_cloud(op.cloud_key), data["trust_id"], conn)
    except CloudError as exc:
        op.log.append(_line(_("The job's trust was not deleted: %(error)s") % {"error": exc}))
    else:
        op.log.append(_line(_("The job's trust was deleted.")))


def _send(op: Operation, countdown: float) -> None:
    task_name, op_id = op.task_name, op.pk
    transaction.on_commit(
        lambda: current_app.send_task(task_name, args=[op_id], countdown=countdown)
    )


def _line(text: str) -> list[str]:
    return [timezone.now().isoformat(timespec="seconds"), text]


class Job:
    """A running operation, as its task sees it."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self._connection: cloud.Connection | None = None

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.op.params
        return params

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self.op.result
        return result

    @property
    def open_connection(self) -> cloud.Connection | None:
        """The connection the job made, if any (its trust's token is still valid)."""
        return self._connection

    def connection(self) -> cloud.Connection:
        """An SDK connection acting as the user who started the job: through the job's trust
        when it has one (tokens renewed as they expire), else with the user's own token."""
        if self._connection is not None:
            return self._connection
        data = unseal(self.op.credential)
        if data is None:
            raise SignInRequired(_("The job's sign-in is no longer available."))
        where = cloud.find_cloud(self.op.cloud_key)
        if data.get("trust_id"):
            self._connection = cloud.trust_connection(where, data["trust_id"])
        else:
            self._connection = cloud.connect(where, data["token"], data["body"])
        return self._connection

    def progress(self, step: str | None = None, percent: int | None = None, log: str = "") -> None:
        """Record progress (and the result so far); stop here if the user cancelled."""
        op = self.op
        current = Operation.objects.filter(pk=op.pk).values_list("state", flat=True).first()
        if current == State.CANCELLED:
            raise OperationCancelled
        if step is not None:
            op.step = step
        if percent is not None:
            op.percent = max(0, min(100, percent))
        if log:
            op.log.append(_line(log))
        op.heartbeat_at = timezone.now()
        op.save(update_fields=["step", "percent", "log", "result", "heartbeat_at"])


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(operation_id: int) -> Operation | None:
    """Move a queued operation to running for this worker; None if it is not queued."""
    with transaction.atomic():
        op = Operation.objects.select_for_update().filter(pk=operation_id).first()
        if op is None or op.state != State.QUEUED:
            return None
        now = timezone.now()
        op.state = State.RUNNING
        op.attempts += 1
        op.worker = _worker_name()
        op.heartbeat_at = now
        op.started_at = op.started_at or now
        op.log.append(
            _line(
                _("Attempt %(n)d started on %(worker)s") % {"n": op.attempts, "worker": op.worker}
            )
        )
        op.save()
    return op


class _Heartbeat(threading.Thread):
    """Touches heartbeat_at while the job runs: the reaper tells live jobs from lost ones by it."""

    def __init__(self, op_id: int, worker: str) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{op_id}")
        self.op_id, self.worker = op_id, worker
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.STACKDESK_OPERATION_HEARTBEAT):
                Operation.objects.filter(
                    pk=self.op_id, state=State.RUNNING, worker=self.worker
                ).update(heartbeat_at=timezone.now())
        finally:
            connection.close()


def finish(
    op: Operation,
    state: str,
    error: str = "",
    log: str = "",
    conn: cloud.Connection | None = None,
) -> None:
    op.state = state
    op.error = error
    _release(op, conn)
    op.credential = ""
    op.finished_at = timezone.now()
    if state == State.SUCCEEDED:
        op.percent = 100
    if log:
        op.log.append(_line(log))
    op.save()
    audit.follow_job(op, state, error)
    metrics.observe_finished_job(op.kind, state, op.started_at, op.finished_at)


def requeue(op: Operation, reason: str, delay: float) -> None:
    op.state = State.QUEUED
    op.heartbeat_at = timezone.now()  # queued from now: what the lost-message check counts from
    op.step = _("Waiting to retry")
    op.log.append(_line(reason))
    op.save()
    _send(op, countdown=delay)


def _backoff(attempts: int) -> float:
    return float(min(settings.STACKDESK_OPERATION_MAX_BACKOFF, 5 * 2 ** max(0, attempts - 1)))


@contextmanager
def running(operation_id: int) -> Iterator[Job | None]:
    # (Celery's Django fix-up closes stale database connections around every task.)
    op = claim(operation_id)
    if op is None:
        yield None
        return
    heartbeat = _Heartbeat(op.pk, op.worker)
    heartbeat.start()
    job = Job(op)
    try:
        yield job
    except OperationCancelled:
        op.log.append(_line(_("Stopped: cancelled by the user.")))
        _release(op, job.open_connection)
        op.credential = ""
        op.finished_at = timezone.now()
        op.save(update_fields=["log", "credential", "finished_at"])
    except CloudUnavailable as exc:
        if op.attempts < settings.STACKDESK_OPERATION_MAX_ATTEMPTS:
            delay = _backoff(op.attempts)
            requeue(
                op,
                _("The cloud did not answer (%(error)s); retrying in %(s)d s.")
                % {"error": exc, "s": delay},
                delay,
            )
        else:
            finish(op, State.FAILED, str(exc), conn=job.open_connection)
    except CloudError as exc:
        finish(op, State.FAILED, str(exc), conn=job.open_connection)
    except SoftTimeLimitExceeded:
        finish(op, State.FAILED, _("The job took longer than its time limit and was stopped."))
    except Exception as exc:
        # Anything unexpected: the row must not stay "running" forever. Record it, then let
        # Celery log the traceback.
        finish(op, State.FAILED, _("Internal error: %(error)s") % {"error": exc.__class__.__name__})
        raise
    else:
        op.refresh_from_db(fields=["state"])
        if op.state == State.RUNNING:
            finish(op, State.SUCCEEDED, conn=job.open_connection)
    finally:
        heartbeat.stopped.set()
        heartbeat.join()


def cancel_operation(op: Operation) -> bool:
    """Cancel a queued or running job. A running job stops at its next progress report."""
    updated = Operation.objects.filter(pk=op.pk, state__in=[State.QUEUED, State.RUNNING]).update(
        state=State.CANCELLED,
        finished_at=timezone.now(),
        credential="",
        step=_("Cancelled"),
    )
    if updated:
        audit.follow_job(op, State.CANCELLED)
    return updated == 1


def reap_stale_operations() -> list[int]:
    """Requeue (or fail) running jobs whose worker stopped sending heartbeats."""
    cutoff = timezone.now() - timedelta(seconds=settings.STACKDESK_OPERATION_STALE_AFTER)
    reaped = []
    for op in Operation.objects.filter(state=State.RUNNING, heartbeat_at__lt=cutoff):
        with transaction.atomic():
            fresh = Operation.objects.select_for_update().get(pk=op.pk)
            if fresh.state != State.RUNNING or (
                fresh.heartbeat_at and fresh.heartbeat_at >= cutoff
            ):
                continue
            reason = _("The worker running this job (%(worker)s) stopped answering.") % {
                "worker": fresh.worker
            }
            if fresh.attempts < settings.STACKDESK_OPERATION_MAX_ATTEMPTS:
                requeue(fresh, reason, delay=0)
            else:
                finish(
                    fresh,
                    State.FAILED,
                    reason
                    + " "
                    + _("It was tried %(n)d times; giving up.") % {"n": fresh.attempts},
                )
        reaped.append(op.pk)
    if reaped:
        logger.warning("reaped stale operations %s", reaped)
    resent = _resend_lost_messages()
    if resent:
        logger.warning("sent again the messages of queued operations %s", resent)
    return reaped + resent


def _resend_lost_messages() -> list[int]:
    """A queued job whose broker message is gone (Redis restarted without persistence, a
    broker that lost it) would wait for ever: once it has waited longer than any retry delay
    plus a worker's grace, its message is sent again. A duplicate costs nothing: claim()
    starts a queued job once, and later copies find it running or finished."""
    cutoff = timezone.now() - timedelta(
        seconds=settings.STACKDESK_OPERATION_STALE_AFTER + settings.STACKDESK_OPERATION_MAX_BACKOFF
    )
    waiting = Operation.objects.filter(state=State.QUEUED).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    resent = []
    for op in waiting.only("pk"):
        with transaction.atomic():
            fresh = Operation.objects.select_for_update().get(pk=op.pk)
            if fresh.state != State.QUEUED:
                continue
            fresh.heartbeat_at = timezone.now()  # when it was last sent: wait again from here
            fresh.log.append(_line(_("No worker took the job's message; it was sent again.")))
            fresh.save(update_fields=["heartbeat_at", "log"])
            _send(fresh, countdown=0)
        resent.append(op.pk)
    return resent
