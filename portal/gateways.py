"""How views and tasks get an app's gateway: built on the user's connection, or, in unit
tests, the in-memory fake installed with `override` (see */tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from portal import cloud
from portal.identity import Identity, PortalRequest, user_connection
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


def session_gateway(identity: Identity, credential: dict[str, Any], kind: Callable[..., G]) -> G:
    """A gateway on a signed-in session's own token, for the worker's beat tasks
    (portal.identity.sessions_in_use)."""
    fake = _overrides.get(kind)  # type: ignore[call-overload]
    if fake is not None:
        return fake  # type: ignore[no-any-return]
    where = cloud.find_cloud(identity.cloud_key)
    return kind(cloud.connect(where, credential["token"], credential["body"]))


@contextmanager
def override(kind: type[G], fake: G) -> Iterator[G]:
    _overrides[kind] = fake
    try:
        yield fake
    finally:
        _overrides.pop(kind, None)
