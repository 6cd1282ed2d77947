"""How views and tasks get an app's gateway: built on the user's connection, or, in unit
tests, the in-memory fake installed with `override` (see */tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from portal.identity import PortalRequest, user_connection
from portal.operations import Job

G = TypeVar("G")

_overrides: dict[type[Any], Any] = {}


def gateway(request: PortalRequest, kind: Callable[..., G]) -> G:
    fake = _overrides.get(kind)  # type: ignore[call-overload]
    if fake is not None:
        return fake  # type: ignore[no-any-return]
    return kind(user_connection(request))


def job_gateway(job: Job, kind: Callable[..., G]) -> G:
    fake = _overrides.get(kind)  # type: ignore[call-overload]
    if fake is not None:
        return fake  # type: ignore[no-any-return]
    return kind(job.connection())


@contextmanager
def override(kind: type[G], fake: G) -> Iterator[G]:
    _overrides[kind] = fake
    try:
        yield fake
    finally:
        _overrides.pop(kind, None)
