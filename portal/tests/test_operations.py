"""The operation state machine, run in-process (the worker layer runs it in a real worker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.test import Client
from django.utils import timezone

from portal.crypto import seal
from portal.errors import CloudUnavailable, Rejected
from portal.models import Operation
from portal.operations import cancel_operation, claim, reap_stale_operations, running

pytestmark = pytest.mark.django_db
State = Operation.State


def make_op(**fields: object) -> Operation:
    defaults: dict[str, object] = {
        "kind": "test_job",
        "title": "Test job",
        "task_name": "tests.noop",
        "cloud_key": "unit:RegionOne",
        "user_id": "u-member",
        "user_name": "member",
        "project_id": "p-demo",
        "project_name": "demo",
        "credential": seal({"token": "t", "body": {}}),
    }
    return Operation.objects.create(**{**defaults, **fields})


def test_claim_moves_queued_to_running_once() -> None:
    op = make_op()
    claimed = claim(op.pk)
    assert claimed is not None and claimed.state == State.RUNNING and claimed.attempts == 1
    assert claim(op.pk) is None  # a redelivered message finds nothing to do


def test_success_blanks_the_credential() -> None:
    op = make_op()
    with running(op.pk) as job:
        assert job is not None
        job.progress(step="half", percent=50, log="halfway")
    op.refresh_from_db()
    assert (op.state, op.percent, op.credential) == (State.SUCCEEDED, 100, "")
    assert op.log[-1][1] == "halfway" and op.finished_at is not None


def test_refusal_fails_with_the_clouds_reason() -> None:
    op = make_op()
    with running(op.pk):
        raise Rejected("Quota exceeded for instances: Requested 1, but already used 1 of 1", 403)
    op.refresh_from_db()
    assert op.state == State.FAILED and op.error.startswith("Quota exceeded")


def test_cloud_unavailable_is_retried_then_fails(
    settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.STACKDESK_OPERATION_MAX_ATTEMPTS = 2  # type: ignore[attr-defined]
    op = make_op()
    capture = django_capture_on_commit_callbacks(execute=False)  # type: ignore[operator]
    with capture as sent, running(op.pk):
        raise CloudUnavailable("503")
    op.refresh_from_db()
    assert op.state == State.QUEUED and len(sent) == 1  # sent again, with a countdown
    with running(op.pk):
        raise CloudUnavailable("503 again")
    op.refresh_from_db()
    assert op.state == State.FAILED and op.attempts == 2 and op.error == "503 again"


def test_time_limit_fails_the_job() -> None:
    op = make_op()
    with running(op.pk):
        raise SoftTimeLimitExceeded
    op.refresh_from_db()
    assert op.state == State.FAILED and "time limit" in op.error


def test_unexpected_error_fails_the_job_and_is_raised() -> None:
    op = make_op()
    with pytest.raises(ZeroDivisionError), running(op.pk):
        _ = 1 / 0
    op.refresh_from_db()
    assert op.state == State.FAILED and "ZeroDivisionError" in op.error


def test_cancel_stops_a_running_job_at_its_next_step() -> None:
    op = make_op()
    with running(op.pk) as job:
        assert job is not None
        job.progress(step="one", percent=10)
        assert cancel_operation(op)
        job.progress(step="two", percent=20)  # raises OperationCancelled, handled by running()
        pytest.fail("the job should have stopped")
    op.refresh_from_db()
    assert op.state == State.CANCELLED and op.credential == "" and op.percent == 10
    assert not cancel_operation(op)


def test_reaper_requeues_a_lost_job_then_gives_up(
    settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.STACKDESK_OPERATION_MAX_ATTEMPTS = 2  # type: ignore[attr-defined]
    stale = timezone.now() - timedelta(hours=1)
    op = make_op(state=State.RUNNING, attempts=1, heartbeat_at=stale, worker="w:1")
    fresh = make_op(state=State.RUNNING, attempts=1, heartbeat_at=timezone.now(), worker="w:2")
    with django_capture_on_commit_callbacks(execute=False) as sent:  # type: ignore[operator]
        assert reap_stale_operations() == [op.pk]
    op.refresh_from_db()
    assert op.state == State.QUEUED and "stopped answering" in op.log[-1][1] and len(sent) == 1
    fresh.refresh_from_db()
    assert fresh.state == State.RUNNING

    Operation.objects.filter(pk=op.pk).update(state=State.RUNNING, attempts=2, heartbeat_at=stale)
    reap_stale_operations()
    op.refresh_from_db()
    assert op.state == State.FAILED and "tried 2 times" in op.error and op.credential == ""


def test_polling_a_finished_operation_stops_htmx(member_client: Client) -> None:
    op = make_op(state=State.SUCCEEDED, percent=100)
    running_op = make_op()
    hx = {"HX-Request": "true"}
    assert member_client.get(f"/operations/{op.pk}/", headers=hx).status_code == 286
    assert member_client.get(f"/operations/{running_op.pk}/", headers=hx).status_code == 200
    page = member_client.get(f"/operations/{running_op.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'aria-valuenow="0"' in page


def test_reaper_sends_again_a_queued_job_whose_message_was_lost(
    settings: object, django_capture_on_commit_callbacks: object
) -> None:
    """Redis restarted without persistence loses the queue: the row is the truth, so a job
    queued for longer than any retry delay gets its message again (once per wait)."""
    long_ago = timezone.now() - timedelta(hours=1)
    lost = make_op(state=State.QUEUED)
    Operation.objects.filter(pk=lost.pk).update(created_at=long_ago)
    retried = make_op(state=State.QUEUED, heartbeat_at=long_ago, attempts=1)
    waiting = make_op(state=State.QUEUED)  # just queued: its message is on its way
    with django_capture_on_commit_callbacks(execute=False) as sent:  # type: ignore[operator]
        assert sorted(reap_stale_operations()) == sorted([lost.pk, retried.pk])
    assert len(sent) == 2
    lost.refresh_from_db()
    assert lost.state == State.QUEUED and "sent again" in lost.log[-1][1]
    with django_capture_on_commit_callbacks(execute=False) as sent:  # type: ignore[operator]
        assert reap_stale_operations() == []  # not again before another full wait
    assert not sent
    waiting.refresh_from_db()
    assert not waiting.log
