"""Admin jobs that move instances between hosts: live_migrate_server, migrate_server (cold),
drain_host and evacuate_host. All four run the same engine, `move_instances`. And the beat
task that keeps the warm instances lists re-listed, refresh_warm_lists (at the end).

The job's `result` is its whole memory (Operation.result, saved with every progress report):

    {"source": host, "planned": true, "items": [item, ...]}

with one item per instance (compute/hosts.py `new_item`): pending -> migrating -> moved |
verify (a cold migration waiting for confirm or revert) | failed (reason) | skipped (reason).

An item is marked `migrating`, with the ids of the server's earlier migrations (`known`),
BEFORE Nova is asked to move it. A resumed job (the worker died) therefore never asks twice:
for an item marked migrating it first looks at Nova. A migration record that is not in
`known` is ours, and is followed. No record, no task state and the server still on its
host means the earlier attempt died before Nova heard of it: the item goes back to pending.
At most `concurrency` items are in flight at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import cast

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from compute import hosts as h
from compute import warm
from compute.gateway import (
    AdminGateway,
    ComputeGateway,
    Migration,
    Server,
    ServerMigration,
    ServerQuery,
)
from portal.errors import CloudUnavailable, NotFound, Rejected, SignInRequired
from portal.gateways import job_gateway, session_gateway
from portal.identity import sessions_in_use
from portal.operations import Job, job

logger = logging.getLogger(__name__)

# How often a job looks at Nova while instances move, and how many it moves at once unless
# the run says otherwise.
POLL_SECONDS = float(getattr(settings, "STACKDESK_MIGRATION_POLL", 2.0))
DRAIN_CONCURRENCY = int(getattr(settings, "STACKDESK_DRAIN_CONCURRENCY", 2))
# A drain of a big host takes long: its own time limit (the trust lives as long).
HOST_JOB_TIME_LIMIT = 24 * 3600
# The instance action Nova records for each kind of move (os-instance-actions).
NOVA_ACTIONS = {h.LIVE: "live-migration", h.COLD: "migrate", h.EVACUATE: "evacuate"}
# How many looks a move whose server and migration record disagree gets before the
# instance's host decides (at POLL_SECONDS apart: Nova has long settled by then).
SETTLE_LOOKS = 10


def pause(seconds: float) -> None:
    """Wait between looks at Nova (unit tests let time pass here instead)."""
    time.sleep(seconds)


# --- one instance ------------------------------------------------------------------------------


def _log(job: Job, item: h.MoveItem, text: str) -> None:
    job.progress(log=f"{item['name'] or item['id']}: {text}")


def _finish(job: Job, item: h.MoveItem, state: str, reason: str = "", dest: str = "") -> None:
    item.update({"state": state, "reason": reason, "finished": time.time()})
    if dest:
        item["dest"] = dest
    if state == h.MOVED:
        moved = _("moved to %(host)s") % {"host": dest}
        _log(job, item, f"{moved} — {reason}" if reason else moved)
    elif state == h.VERIFY:
        _log(job, item, _("on %(host)s, waiting for confirm or revert") % {"host": dest})
    else:
        _log(job, item, f"{state}: {reason}")


def _nova_reason(gw: AdminGateway, item: h.MoveItem, server: Server) -> str:
    """Nova's own words for a failed move (the fault, or the failed action's events), then
    where the instance really is."""
    reason = server.fault_message
    if not reason:
        wanted = NOVA_ACTIONS[item["kind"]]
        try:
            action = next(
                (a for a in gw.list_server_actions(item["id"]) if a.action == wanted), None
            )
            if action is not None:
                reason = " ".join(gw.list_server_action_events(item["id"], action.request_id))
        except (NotFound, Rejected):
            pass
    where = _("The instance is %(status)s on %(host)s.") % {
        "status": server.status,
        "host": server.host,
    }
    if not reason:
        reason = _("Nova reported the migration as failed without a reason.")
    return f"{reason} {where}"


def start_move(job: Job, gw: AdminGateway, item: h.MoveItem, source: str) -> None:
    """Record the move, then ask Nova for it; Nova's refusal fails this instance only (its
    words as they are: the tenant pages' hints speak of launches, not of moves)."""
    known = [m.id for m in gw.list_migrations(server_id=item["id"], limit=1000)]
    item.update(
        {"state": h.MIGRATING, "known": known, "attempt": job.op.attempts, "started": time.time()}
    )
    _log(job, item, _("asking Nova to move it (%(kind)s)") % {"kind": item["kind"]})
    target = str(item.get("target") or "")
    try:
        if item["kind"] == h.LIVE:
            gw.live_migrate_server(item["id"], target, item.get("block_migration", "auto"))
        elif item["kind"] == h.COLD:
            gw.migrate_server(item["id"], target)
        else:
            gw.evacuate_server(item["id"], target)
    except (Rejected, NotFound) as exc:
        where = _("The instance is %(status)s on %(host)s.") % {
            "status": item["status"],
            "host": source,
        }
        _finish(job, item, h.FAILED, f"{exc.message} {where}")


def _live_progress(gw: AdminGateway, item: h.MoveItem) -> None:
    """Nova's in-progress record of our live migration: its id, status and bytes copied."""
    found: ServerMigration | None = next(
        (m for m in gw.list_server_migrations(item["id"]) if m.id not in item["known"]), None
    )
    if found is None:
        return
    item["migration_id"] = found.id
    item["progress"] = {
        "status": found.status,
        "memory_total": found.memory_total,
        "memory_processed": found.memory_processed,
        "disk_total": found.disk_total,
        "disk_processed": found.disk_processed,
        "percent": found.percent,
        "abortable": found.abortable,
        "forceable": found.forceable,
    }


def check_move(job: Job, gw: AdminGateway, item: h.MoveItem, source: str) -> None:
    """Look at Nova for an instance marked migrating, and settle its state when Nova has.

    Only a look whose two reads agree settles it (compute/hosts.py `move_outcome`): a
    failure is said when a later look, read afresh, still shows it; a disagreement is looked
    at again, up to SETTLE_LOOKS times, and then the instance's own host decides."""
    try:
        server = gw.get_server(item["id"])
    except NotFound:
        _finish(job, item, h.SKIPPED, _("The instance was deleted meanwhile."))
        return
    if server.task_state and item["migration_id"]:
        # Still moving: one call per look (plus the live migration's progress record).
        if item["kind"] == h.LIVE:
            _live_progress(gw, item)
        return
    ours = [m for m in gw.list_migrations(server_id=item["id"]) if m.id not in item["known"]]
    migration = max(ours, key=lambda m: m.id) if ours else None
    progress = item.setdefault("progress", {})
    if migration is not None:
        item["migration_id"] = migration.id
        progress["status"] = migration.status
    elif not server.task_state and server.host == source and item["attempt"] != job.op.attempts:
        # Marked by an attempt that died before Nova heard of it: ask now, once.
        item.update({"state": h.PENDING, "known": []})
        _log(job, item, _("the earlier attempt never reached Nova; moving it now"))
        return
    outcome = h.move_outcome(server, migration, source)
    if outcome == h.MIGRATING:
        if item["kind"] == h.LIVE and migration is not None and migration.is_running:
            _live_progress(gw, item)
        return  # the next look needs only the server while Nova works
    progress.update(abortable=False, forceable=False)
    if outcome != h.MOVED:
        looks = item["doubts"] = int(item.get("doubts", 0)) + 1
        if looks < 2 or (outcome == h.UNSURE and looks <= SETTLE_LOOKS):
            return  # the next look, after a pause, reads both again
        outcome = h.MOVED if server.host != source else h.FAILED
    if outcome == h.FAILED:
        _finish(job, item, h.FAILED, _nova_reason(gw, item, server))
    elif server.status == "VERIFY_RESIZE":
        if not item.get("confirm"):
            _finish(job, item, h.VERIFY, dest=server.host)
        elif not item.get("confirmed"):
            gw.confirm_server_resize(item["id"])
            item["confirmed"] = True
            _log(job, item, _("confirming the migration on %(host)s") % {"host": server.host})
        # else: Nova confirms in the background, without a task state
    else:
        _finish(job, item, h.MOVED, _landed_note(item, server, migration), server.host)


def _landed_note(item: h.MoveItem, server: Server, migration: Migration | None) -> str:
    """What the report says of an instance that is on its new host, beyond that it is."""
    notes = []
    if migration is None:
        notes.append(_("Nova shows no migration record of it."))
    elif migration.status not in h.LANDED_MIGRATION:
        notes.append(
            _("Nova's migration record says %(status)s, yet the instance is there.")
            % {"status": migration.status}
        )
    if item["kind"] == h.EVACUATE and server.status == "SHUTOFF":
        # Nova rebuilds a stopped instance stopped, and (microversion 2.95) any other too.
        notes.append(_("It is SHUTOFF there: Nova leaves an evacuated instance stopped."))
    return " ".join(notes)


# --- the engine ------------------------------------------------------------------------------


def _plan_host(job: Job, gw: AdminGateway, source: str, evacuate: bool) -> list[h.MoveItem]:
    services = [s for s in gw.list_services("nova-compute") if s.host == source]
    service = services[0] if services else None
    if evacuate:
        refusal = h.evacuation_refusal(service)
        if refusal:
            raise Rejected(refusal, 409)
    elif service is not None and service.status == "enabled":
        reason = job.params.get("reason") or _("Drained by %(user)s") % {"user": job.op.user_name}
        gw.disable_service(service.id, reason)
        job.progress(log=_("Disabled the compute service of %(host)s.") % {"host": source})
    page = gw.list_servers(
        ServerQuery(
            all_projects=True, host=source, limit=1000, sort_key="created_at", sort_dir="asc"
        )
    )
    items = []
    for server in page.servers:
        if evacuate:
            kind, why = h.EVACUATE, ""
        else:
            kind, why = h.plan_move(
                server, job.params.get("active", h.LIVE), job.params.get("stopped", h.COLD)
            )
        item = h.new_item(server, kind, why)
        item["confirm"] = True  # a drain confirms its cold migrations itself
        items.append(item)
    return items


def _plan_one(job: Job, gw: AdminGateway, kind: str) -> tuple[str, list[h.MoveItem]]:
    server = gw.get_server(job.op.target)
    item = h.new_item(server, kind)
    item.update(
        {"target": job.params.get("host", ""), "block_migration": job.params.get("block", "auto")}
    )
    return server.host, [item]


def _single_percent(item: h.MoveItem) -> int:
    """A single live migration's bar follows Nova's status and the bytes it reports."""
    progress = item.get("progress") or {}
    status = progress.get("status", "")
    if item["state"] in h.DONE:
        return 100
    if status == "running":
        copied = progress.get("percent")
        return 20 + (int(copied) * 7 // 10 if copied is not None else 35)
    return {"queued": 5, "preparing": 10, "post-migrating": 95}.get(status, 3)


def move_instances(
    job: Job, gw: AdminGateway, plan: Callable[[], tuple[str, list[h.MoveItem]]]
) -> None:
    """Run (or resume) a host job to its end, then report."""
    state = cast(h.HostJobState, job.result)
    if state.get("planned") and state.get("version", 1) != h.JOB_STATE_VERSION:
        raise Rejected(
            _("This job was planned by another version of the portal; start it again."), 409
        )
    if not state.get("planned"):
        planned_source, planned = plan()
        state.update(
            {
                "version": h.JOB_STATE_VERSION,
                "source": planned_source,
                "items": planned,
                "planned": True,
            }
        )
        job.progress(
            step=_("Planned: %(n)d instances") % {"n": len(planned)},
            log=_("Planned %(n)d instances on %(host)s.")
            % {"n": len(planned), "host": planned_source},
        )
    source, items = state["source"], state["items"]
    limit = max(1, int(job.params.get("concurrency") or DRAIN_CONCURRENCY))
    total = len(items)
    while True:
        for item in items:
            if item["state"] == h.MIGRATING:
                check_move(job, gw, item, source)
        in_flight = sum(1 for i in items if i["state"] == h.MIGRATING)
        for item in items:
            if in_flight >= limit:
                break
            if item["state"] == h.PENDING:
                start_move(job, gw, item, source)
                in_flight += item["state"] == h.MIGRATING
        tally = h.counts(items)
        finished = total - tally[h.PENDING] - tally[h.MIGRATING]
        percent = _single_percent(items[0]) if total == 1 else finished * 100 // max(1, total)
        job.progress(
            step=_("%(done)d of %(total)d done, %(moving)d moving")
            % {"done": finished, "total": total, "moving": tally[h.MIGRATING]},
            percent=percent,
        )
        if not tally[h.PENDING] and not tally[h.MIGRATING]:
            break
        pause(POLL_SECONDS)
    _report(job, items, source)


def _report(job: Job, items: list[h.MoveItem], source: str) -> None:
    tally = h.counts(items)
    job.result["report"] = tally
    if len(items) == 1 and tally[h.FAILED]:
        raise Rejected(str(items[0]["reason"]))
    if tally[h.FAILED]:
        raise Rejected(
            _("%(failed)d of %(total)d instances could not be moved off %(host)s; see the report.")
            % {"failed": tally[h.FAILED], "total": len(items), "host": source}
        )
    if len(items) == 1 and tally[h.VERIFY]:
        step = _("On %(host)s: confirm or revert the migration.") % {"host": items[0]["dest"]}
    elif len(items) == 1 and tally[h.MOVED]:
        step = _("Moved to %(host)s.") % {"host": items[0]["dest"]}
    else:
        step = _("Moved %(moved)d, failed %(failed)d, skipped %(skipped)d.") % {
            "moved": tally[h.MOVED],
            "failed": tally[h.FAILED],
            "skipped": tally[h.SKIPPED],
        }
    job.progress(step=step, percent=100, log=step)


# --- the Celery tasks ------------------------------------------------------------------------


@job(gettext_noop("Live migrate instance"))
def live_migrate_server(job: Job) -> None:
    gw = job_gateway(job, AdminGateway)
    move_instances(job, gw, lambda: _plan_one(job, gw, h.LIVE))


@job(gettext_noop("Migrate instance"))
def migrate_server(job: Job) -> None:
    gw = job_gateway(job, AdminGateway)
    move_instances(job, gw, lambda: _plan_one(job, gw, h.COLD))


@job(
    gettext_noop("Drain host"),
    time_limit=HOST_JOB_TIME_LIMIT,
    soft_time_limit=HOST_JOB_TIME_LIMIT - 300,
)
def drain_host(job: Job) -> None:
    gw = job_gateway(job, AdminGateway)
    source = job.op.target
    move_instances(job, gw, lambda: (source, _plan_host(job, gw, source, evacuate=False)))


@job(
    gettext_noop("Evacuate host"),
    time_limit=HOST_JOB_TIME_LIMIT,
    soft_time_limit=HOST_JOB_TIME_LIMIT - 300,
)
def evacuate_host(job: Job) -> None:
    gw = job_gateway(job, AdminGateway)
    source = job.op.target
    move_instances(job, gw, lambda: (source, _plan_host(job, gw, source, evacuate=True)))


# The kinds whose rows are host jobs (their page, their JSON report).
HOST_JOBS = tuple(k.name for k in (live_migrate_server, migrate_server, drain_host, evacuate_host))


# --- the warm lists' re-list (compute/warm.py) --------------------------------------------------


@shared_task(ignore_result=True)
def refresh_warm_lists() -> int:
    """List in full again the warm entries of the sessions in use that are nearly due, each with
    the token of a session of its own scope (warm.relist_servers), so that no view waits for a
    re-list. No arguments: the tokens come from the sessions' rows. Returns how many it
    re-listed."""
    seen: set[str] = set()  # scopes asked this round (one session of a scope is enough)
    away: set[str] = set()  # clouds that did not answer: not asked again this round
    relisted = 0
    for identity, credential in sessions_in_use():
        scopes = [warm.project_scope(identity)]
        if identity.is_admin:
            scopes.append(warm.all_projects_scope(identity))
        scopes = [s for s in scopes if s.key not in seen]
        if identity.cloud_key in away or not scopes:
            continue
        gw = session_gateway(identity, credential, ComputeGateway)
        for scope in scopes:
            try:
                relisted += warm.relist_servers(gw, scope)
            except CloudUnavailable as exc:
                logger.warning("warm lists of %s not re-listed: %s", identity.cloud_key, exc)
                away.add(identity.cloud_key)
                break
            except (Rejected, SignInRequired):
                continue  # this token no longer serves: another session of the scope may
            seen.add(scope.key)
    return relisted
