"""Short-lived copies of what a page reads, shared by the users who would read the same:
the quotas on a project's overview, Admin › Hypervisors' figures, Admin › Instances' hosts
and project names (docs/architecture.md, "Kept copies").

The tenant rule of the warm lists (compute/warm.py) holds here too: a copy's key is the
cloud, the project (or "all" for admin pages across projects) and the set of the user's
roles there; it is only ever filled by the requesting user's own connection, through the
call that would show them the page without a copy. A copy lives `seconds` at most and only
while the portal has changed nothing in that cloud (`portal_changes`), so what the portal
does shows at once and what is done outside it within `seconds`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from portal.identity import Identity, PortalRequest, me
from portal.models import AuditRecord, Operation

T = TypeVar("T")
NAMESPACE = "kept"  # tests set one of their own (conftest.py)


def portal_changes(identity: Identity) -> str | None:
    """What the portal has changed in the identity's cloud, as a stamp that moves with every
    change it records (the audit log) and every job that finishes; None while a job of the
    cloud runs (a host draining, servers moving: nothing should be kept then)."""
    ops = Operation.objects.of_cloud(identity)
    if ops.active().exists():
        return None
    audited = AuditRecord.objects.of_cloud(identity).order_by("-id").values_list("id", flat=True)
    finished = ops.exclude(finished_at=None).order_by("-finished_at")
    last_job = finished.values_list("finished_at", flat=True).first()
    return f"{audited.first() or 0}:{last_job.timestamp() if last_job else 0}"


def kept(
    identity: Identity,
    what: str,
    read: Callable[[], T],
    seconds: int,
    stamp: str | None,
    *,
    all_projects: bool = False,
) -> T:
    """`read()`, or its copy kept for the identity's scope (see the module's docstring).
    `what` names the read as "app:thing" (compute:limits is Nova's, quotas:limits the three
    services'): one name, one kind of value. `stamp` is portal_changes(identity), asked once
    per view; None reads every time."""
    if stamp is None:
        return read()
    scope = [identity.cloud_key, "all" if all_projects else identity.project_id]
    named = json.dumps([*scope, sorted(identity.roles), what, stamp])
    key = f"{NAMESPACE}:{hashlib.sha256(named.encode()).hexdigest()}"
    held: T | None = cache.get(key)
    if held is None:
        held = read()
        if held is not None:  # a read that found nothing (a service down) is asked again
            cache.set(key, held, seconds)
    return held


def shared(identity: Identity, what: str, read: Callable[[], T]) -> T:
    """`read()`, shared by the views of one scope that come within
    STACKDESK_WARM_FRESH_SECONDS of each other, as the warm lists' deltas are: many users
    of one project cost the service one read a second, and a change made outside the
    portal still shows within the warm lists' bound."""
    seconds = math.ceil(settings.STACKDESK_WARM_FRESH_SECONDS)
    return kept(identity, what, read, seconds, portal_changes(identity) if seconds else None)


def kept_for_page(
    request: PortalRequest, what: str, read: Callable[[], T], seconds: int, *, all_projects: bool
) -> tuple[T, dict[str, Any]]:
    """kept() for a page that says when it read (portal/kept_note.html) and reads again on
    ?fresh=1: the value, and the note's context (read_at, kept_seconds)."""
    identity = me(request)
    stamp = None if request.GET.get("fresh") else portal_changes(identity)
    value, read_at = kept(
        identity, what, lambda: (read(), time.time()), seconds, stamp, all_projects=all_projects
    )
    note = {"read_at": datetime.fromtimestamp(read_at, tz=UTC), "kept_seconds": seconds}
    return value, note
