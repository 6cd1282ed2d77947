"""The user's token never reaches a log line or the broker."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from portal.models import Operation
from portal.tests.fake_keystone import FakeKeystone

pytestmark = pytest.mark.django_db


def test_sign_in_and_a_job_leak_no_token(
    client: Client,
    keystone: FakeKeystone,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, object]] = []
    from celery import current_app

    monkeypatch.setattr(
        current_app, "send_task", lambda name, args, **kw: sent.append((name, args))
    )
    caplog.set_level(logging.DEBUG)
    client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": "fake:RegionOne",
            "username": "member",
            "password": "member-pw",
            "domain": "Default",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        client.post("/project/overview/refresh-counts/")
    tokens = list(keystone.tokens)
    assert tokens and sent
    op = Operation.objects.get()
    assert sent == [(op.task_name, [op.pk])]  # the broker carries the operation id, nothing else
    for token in tokens:
        assert token not in caplog.text
        assert token not in op.credential
    assert "member-pw" not in caplog.text
