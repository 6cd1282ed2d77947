"""Instances lists kept warm: the servers a user may see, kept in the shared cache (Redis) and
brought up to date with Nova's changes-since, so a page view costs at most one small call.

- Cold (no entry, or the last full list is older than STACKDESK_WARM_RELIST_SECONDS): one full
  list (GET /servers/detail, pages of 999), exactly what the page asked before.
- Re-listed by the worker: while it runs, the beat task compute.tasks.refresh_warm_lists lists
  the entries of the sessions in use in full again at four fifths of that age
  (`relist_servers`), so no view waits for a re-list (Nova takes seconds to list a thousand
  servers); without a worker the view re-lists when one is due, as above.
- Warm: one delta, GET /servers/detail?changes-since=T. Nova returns every server whose
  `updated` is at or after T, deleted ones too (status DELETED), which leave the list. T is
  Nova's own clock, never the portal's: when Nova last answered (its Date header; else the
  newest `updated` it returned), minus STACKDESK_WARM_OVERLAP_SECONDS (Nova's times have
  whole seconds and a change may commit a moment after a newer one); rows read twice
  replace a row only if they are not older (de-duplicated by id and `updated`).
- Settled: once a delta read at least the overlap after the cursor last moved (the portal's
  own clock, measuring only time elapsed) has brought nothing new, every change up to the
  cursor has been seen, so later deltas ask from the cursor's next second and get nothing
  until something changes. Without this, a Nova whose web server sends no Date header
  (uWSGI, as in the devcloud) would send the rows of its last burst of changes again on
  every view.
- Shared: a view within STACKDESK_WARM_FRESH_SECONDS (1) of a delta or full list that another
  view of the same entry finished asks nothing and shows that list: many users of one
  project cost Nova one delta a second, and every change still shows within the bound.
- Changes that leave `updated` alone (an address or a volume attached outside the portal)
  show at the next full re-list; the portal's own actions put the fresh row in at once
  (`note_server`), and its own address changes drop the entries (`forget`).
- Filters, sorting and marker paging run here, over the warm rows (`page_of`).

Tenant safety, the rule (docs/architecture.md, "Warm lists"):
1. An entry's key is the cloud's key, the project id ("all" for Admin › Instances across
   every project) and the set of the user's roles in that project: a reader, a member and an
   admin of one project may see different things under Nova's policy, so they never share.
2. An entry is only ever filled, and brought up to date, with the token of a user of its
   scope: in a view the requesting user's own (the gateway built on their connection), in the
   worker's re-list that of a signed-in session whose scope it is; through the same call that
   would show them the page without a cache.
3. Nothing from another key is ever merged in: a row the portal fetched after an action goes
   only into entries of its own project (`note_server`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from compute.gateway import ComputeGateway, Server, ServerPage, ServerQuery
from portal.errors import Rejected
from portal.identity import Identity

NAMESPACE = "warm-lists"  # tests set one of their own (conftest.py), so no test sees another's
FULL_PAGE = 999  # Nova's default osapi max_limit is 1000; the gateway asks one row more
# The worker re-lists an entry in use at this share of STACKDESK_WARM_RELIST_SECONDS, checking
# every tenth of it (portal/settings.py): done before a view would have to, not much more often.
RELIST_AHEAD = 0.8


@dataclass(frozen=True)
class Scope:
    """Who sees the same list: one cloud, one project (or "all"), one set of roles."""

    cloud_key: str
    project: str  # a project id, or "all" (all_tenants, Admin › Instances)
    roles: frozenset[str]

    @property
    def all_projects(self) -> bool:
        return self.project == "all"

    @property
    def key(self) -> str:
        named = json.dumps([self.cloud_key, self.project, sorted(self.roles)])
        return f"{NAMESPACE}:servers-v2:{hashlib.sha256(named.encode()).hexdigest()}"


def project_scope(identity: Identity) -> Scope:
    return Scope(identity.cloud_key, identity.project_id, frozenset(identity.roles))


def all_projects_scope(identity: Identity) -> Scope:
    return Scope(identity.cloud_key, "all", frozenset(identity.roles))


@dataclass
class Entry:
    """What the cache holds for one scope."""

    servers: dict[str, Server]
    # Nova's clock: when it last answered (its Date header), or the newest `updated` it
    # returned if that is later (None: nothing to go by)
    cursor: datetime | None
    listed_at: float  # when the last full list was read (the portal's clock, for re-lists)
    moved_at: float = 0.0  # when the cursor last moved (the portal's clock, elapsed time only)
    settled: bool = False  # every change up to the cursor seen (see the module's docstring)


def _stamp(server: Server) -> datetime | None:
    return server.updated_at or server.created_at


def _newest(servers: Iterable[Server], start: datetime | None) -> datetime | None:
    stamps = [s for s in (_stamp(x) for x in servers) if s is not None]
    if start is not None:
        stamps.append(start)
    return max(stamps) if stamps else None


def _read_all(
    gw: ComputeGateway, scope: Scope, since: datetime | None = None
) -> tuple[list[Server], datetime | None]:
    """Every server (or every change since `since`) in pages of FULL_PAGE, usually one call,
    and Nova's clock when it began to answer."""
    found: list[Server] = []
    marker, as_of = "", None
    while True:
        page = gw.list_servers(
            ServerQuery(
                limit=FULL_PAGE,
                marker=marker,
                all_projects=scope.all_projects,
                changes_since=since,
            )
        )
        found += page.servers
        as_of = as_of or page.as_of
        if not page.next_marker:
            return found, as_of
        marker = page.next_marker


def _full(gw: ComputeGateway, scope: Scope) -> Entry:
    listed, as_of = _read_all(gw, scope)
    servers = {s.id: s for s in listed if s.status != "DELETED"}
    now = time.time()
    return Entry(servers, _newest(servers.values(), as_of), now, moved_at=now)


def _apply(entry: Entry, changed: list[Server], as_of: datetime | None = None) -> bool:
    """Put a delta in; True if a row came, went or changed."""
    moved = False
    for server in changed:
        held = entry.servers.get(server.id)
        held_at, read_at = (_stamp(held) if held else None), _stamp(server)
        if held_at and read_at and read_at < held_at:
            continue  # an older read of a row already newer here
        if server.status == "DELETED":
            moved = entry.servers.pop(server.id, None) is not None or moved
        elif held != server:
            entry.servers[server.id] = server
            moved = True
    if changed:  # else the next delta asks from the same time and gets nothing either
        known = [t for t in (entry.cursor, as_of) if t is not None]
        newest = _newest(changed, max(known) if known else None)
        if newest != entry.cursor:
            entry.cursor, moved = newest, True
            entry.moved_at, entry.settled = time.time(), False
    return moved


def _timeout() -> int:
    # An entry nobody reads expires; one that is read is re-listed long before.
    return max(settings.STACKDESK_WARM_RELIST_SECONDS * 4, 600)


def warm_servers(gw: ComputeGateway, scope: Scope) -> list[Server]:
    """The scope's servers, read with `gw` (the requesting user's own connection): one full
    list when cold or due for a re-list, else one changes-since delta."""
    # Read before the entry: a delta's mark is set only after its rows were stored.
    asked: float | None = cache.get(scope.key + ":asked")
    entry: Entry | None = cache.get(scope.key)
    if (
        entry is not None
        and asked is not None
        and time.time() - asked < settings.STACKDESK_WARM_FRESH_SECONDS
    ):
        return list(entry.servers.values())  # brought up to date just now by another view
    asked_at = time.time()
    if (
        entry is None
        or entry.cursor is None  # nothing listed yet, so no time of Nova's to ask from
        or time.time() - entry.listed_at > settings.STACKDESK_WARM_RELIST_SECONDS
    ):
        entry = _full(gw, scope)
        cache.set(scope.key, entry, _timeout())
        _mark_asked(scope, asked_at)
        return list(entry.servers.values())
    overlap = timedelta(seconds=settings.STACKDESK_WARM_OVERLAP_SECONDS)
    since = entry.cursor + timedelta(seconds=1) if entry.settled else entry.cursor - overlap
    try:
        changed, as_of = _read_all(gw, scope, since)
    except Rejected:  # a cloud that refuses changes-since: the page still works, cold
        entry = _full(gw, scope)
        cache.set(scope.key, entry, _timeout())
        return list(entry.servers.values())
    moved = _apply(entry, changed, as_of)
    if not moved and not entry.settled:
        # asked at least the overlap after the cursor moved, and nothing new: settled
        entry.settled = asked_at - entry.moved_at >= settings.STACKDESK_WARM_OVERLAP_SECONDS
        moved = entry.settled
    if moved:  # most views change nothing and write only the mark
        cache.set(scope.key, entry, _timeout())
    _mark_asked(scope, asked_at)
    return list(entry.servers.values())


def relist_servers(gw: ComputeGateway, scope: Scope) -> bool:
    """For the worker (compute.tasks.refresh_warm_lists), with `gw` on the token of a session
    of `scope`: list the entry in full again at four fifths of the age a view would re-list
    it at (RELIST_AHEAD). An entry nobody views (none in the cache) is not made. True if it
    was re-listed."""
    held: Entry | None = cache.get(scope.key)
    if (
        held is None
        or time.time() - held.listed_at < RELIST_AHEAD * settings.STACKDESK_WARM_RELIST_SECONDS
    ):
        return False
    entry = _full(gw, scope)
    now: Entry | None = cache.get(scope.key)
    if now is None or now.listed_at != held.listed_at:
        return False  # dropped (the portal changed addresses) or re-listed meanwhile
    cache.set(scope.key, entry, _timeout())
    # Changes during the list (views applied them to the old entry): the next view asks.
    cache.delete(scope.key + ":asked")
    return True


def _mark_asked(scope: Scope, asked_at: float) -> None:
    """Every change before `asked_at` is in the scope's entry now (see "Shared")."""
    fresh = settings.STACKDESK_WARM_FRESH_SECONDS
    if fresh > 0:
        cache.set(scope.key + ":asked", asked_at, math.ceil(fresh))


def note_server(identity: Identity, server_id: str, server: Server | None) -> None:
    """After the portal's own action: the fresh row (None: the server is gone) goes into the
    user's warm entries at once. Only into entries of the server's own project (and the
    admin's all-projects list); an entry that does not exist is not created."""
    scopes = [project_scope(identity)]
    if identity.is_admin:
        scopes.append(all_projects_scope(identity))
    for scope in scopes:
        entry: Entry | None = cache.get(scope.key)
        if entry is None:
            continue
        if server is None:
            if entry.servers.pop(server_id, None) is not None:
                cache.set(scope.key, entry, _timeout())
        elif scope.all_projects or server.project_id == scope.project:
            entry.servers[server.id] = server
            cache.set(scope.key, entry, _timeout())


def forget(identity: Identity) -> None:
    """After the portal changed what changes-since cannot report (a server's addresses): the
    user's entries are dropped, so their next view reads the list in full."""
    cache.delete(project_scope(identity).key)
    if identity.is_admin:
        cache.delete(all_projects_scope(identity).key)


# --- filters, sorting and paging over the warm rows -------------------------------------------

SORT_FIELDS: dict[str, Callable[[Server], Any]] = {
    "display_name": lambda s: s.name.casefold(),
    "created_at": lambda s: s.created_at.timestamp() if s.created_at else 0.0,
    "vm_state": lambda s: s.vm_state,
    "availability_zone": lambda s: s.availability_zone.casefold(),
    "key_name": lambda s: s.key_name.casefold(),
}


def _pattern(text: str) -> re.Pattern[str] | None:
    """Nova matches name and ip as regular expressions (the form escapes a user's text)."""
    if not text:
        return None
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(text), re.IGNORECASE)


def matches(query: ServerQuery, image_names: dict[str, str]) -> Callable[[Server], bool]:
    name, ip = _pattern(query.name), _pattern(query.ip)
    flavor, image = _pattern(query.flavor), _pattern(query.image)

    def match(s: Server) -> bool:
        if query.status and s.status != query.status:
            return False
        if query.host and s.host != query.host:
            return False
        if query.project_id and s.project_id != query.project_id:
            return False
        if name and not name.search(s.name):
            return False
        if ip and not any(ip.search(a.addr) for a in s.addresses):
            return False
        if flavor and not flavor.search(s.flavor.name):
            return False
        return not image or bool(
            s.image_id
            and (image.search(image_names.get(s.image_id, "")) or image.search(s.image_id))
        )

    return match


def page_of(
    servers: list[Server], query: ServerQuery, image_names: dict[str, str] | None = None
) -> ServerPage:
    """One page like Nova's marker/limit paging, over the warm rows. A marker that is gone
    (its server deleted meanwhile) gives the first page rather than an error."""
    rows = [s for s in servers if matches(query, image_names or {})(s)]
    field = SORT_FIELDS.get(query.sort_key, SORT_FIELDS["created_at"])
    rows.sort(key=lambda s: (field(s), s.id), reverse=query.sort_dir == "desc")
    ids = [s.id for s in rows]
    limit = max(query.limit, 1)
    at = ids.index(query.marker) if query.marker in ids else -1
    if query.backwards and at >= 0:
        start = max(at - limit, 0)
        page = rows[start:at]
        return ServerPage(
            tuple(page),
            next_marker=page[-1].id if page else "",
            prev_marker=page[0].id if (start > 0 and page) else "",
        )
    start = at + 1
    page = rows[start : start + limit]
    return ServerPage(
        tuple(page),
        next_marker=page[-1].id if (start + limit < len(rows) and page) else "",
        prev_marker=page[0].id if (start > 0 and page) else "",
    )
