"""Long quota and usage jobs, each run as an Operation acting as the admin who asked:

- export_usage: every project's usage over a period, written to a CSV file in the state
  folder (STATE_DIR/exports) for the quotas:download-export view;
- apply_quotas: one quota set applied to several projects, each recorded as changed or
  refused with the cloud's reason;
- apply_network_defaults: Neutron has no API for its default quotas, so new network defaults
  are written to every project that follows the defaults (see quotas/models.py).

Each is idempotent: a retried job skips what an earlier attempt finished.
"""

from __future__ import annotations

import bisect
import csv
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal.errors import CloudError, NotFound, Rejected
from portal.gateways import job_gateway
from portal.operations import Job, job
from projects.gateway import ProjectsGateway
from quotas import catalog
from quotas.gateway import QuotaSet, QuotasGateway
from quotas.models import NetworkDefaultsApplied
from quotas.usage import (
    PROJECT_COLUMNS,
    Period,
    all_project_rows,
    project_usages,
    volume_totals,
)

UPDATERS: dict[str, Callable[[QuotasGateway, str, Mapping[str, int]], None]] = {
    catalog.COMPUTE: lambda gw, pid, values: gw.update_compute_quota_set(pid, values),
    catalog.VOLUME: lambda gw, pid, values: gw.update_volume_quota_set(pid, values),
    catalog.NETWORK: lambda gw, pid, values: gw.update_network_quota(pid, values),
}
READERS: dict[str, Callable[[QuotasGateway, str], QuotaSet]] = {
    catalog.COMPUTE: lambda gw, pid: gw.get_compute_quota_set(pid),
    catalog.VOLUME: lambda gw, pid: gw.get_volume_quota_set(pid),
    catalog.NETWORK: lambda gw, pid: gw.get_network_quota(pid),
}


# --- one project's quota changes, all or none -----------------------------------------------


@dataclass
class QuotaOutcome:
    """What became of one project's quota changes, service by service."""

    applied: list[str] = field(default_factory=list)  # the new values hold
    refused: list[list[str]] = field(default_factory=list)  # [service, the cloud's reason]
    restored: list[str] = field(default_factory=list)  # applied, then set back
    stuck: list[list[str]] = field(default_factory=list)  # [service, reason]: kept, not wanted
    skipped: list[str] = field(default_factory=list)  # not tried after a refusal

    @property
    def complete(self) -> bool:
        return not (self.refused or self.stuck or self.skipped)

    def rows(self) -> list[list[str]]:
        """[service, what happened], for the form and the job's report: every service that
        was not simply applied, so the admin reads exactly what holds now."""
        return [
            *self.refused,
            *([s, _("Not applied.")] for s in self.skipped),
            *([s, _("Not changed: set back to the previous values.")] for s in self.restored),
            *(
                [s, _("Applied, and could not be set back: %(reason)s") % {"reason": reason}]
                for s, reason in self.stuck
            ),
        ]


Update = Callable[[str, Mapping[str, int]], None]  # (service, values): one service's call


def project_quotas(gw: QuotasGateway, project_id: str) -> Update:
    """apply_quota_changes' writer for one project's quotas."""
    return lambda service, values: UPDATERS[service](gw, project_id, values)


def apply_quota_changes(
    update: Update,
    changes: Mapping[str, Mapping[str, int]],
    previous: Mapping[str, Mapping[str, int]],
) -> QuotaOutcome:
    """Apply each service's changes in turn. Nova, Cinder and Neutron each take their part
    alone, so when one refuses (or cannot be reached) the parts already applied are set back
    to `previous` (service -> key -> limit before), and whatever cannot be set back is said."""
    outcome = QuotaOutcome()
    services = list(changes)
    for index, service in enumerate(services):
        try:
            update(service, changes[service])
        except CloudError as exc:
            if not outcome.applied and not isinstance(exc, Rejected | NotFound):
                raise  # nothing to undo: a job retries it, a page says the cloud is away
            outcome.refused.append([service, exc.message])
            outcome.skipped = services[index + 1 :]
            break
        outcome.applied.append(service)
    if not outcome.refused:
        return outcome
    for service in reversed(outcome.applied):
        before = {key: previous[service][key] for key in changes[service]}
        try:
            update(service, before)
        except CloudError as exc:
            outcome.stuck.append([service, exc.message])
        else:
            outcome.restored.append(service)
    outcome.applied = [s for s, _reason in outcome.stuck]
    return outcome


def below_usage(
    current: Mapping[str, QuotaSet], changes: Mapping[str, Mapping[str, int]]
) -> list[list[str]]:
    """[service, reason] for each new limit below what the project uses: Nova, Cinder and
    Neutron (with check_limit) refuse those, so nothing is sent when one is found."""
    found = []
    for service, values in changes.items():
        for key, value in values.items():
            quota = current[service].quotas.get(key)
            if quota is not None and value != catalog.UNLIMITED and value < quota.in_use:
                label = next(q.label for q in catalog.fields_of(service) if q.key == key)
                found.append(
                    [
                        service,
                        _("%(quota)s: the project uses %(used)s, more than %(value)s.")
                        % {"quota": label, "used": quota.in_use, "value": value},
                    ]
                )
    return found


# --- export_usage -------------------------------------------------------------------------


def export_path(operation_id: int) -> Path:
    return Path(settings.STATE_DIR) / "exports" / f"usage-{operation_id}.csv"


def forget_old_exports(folder: Path) -> None:
    """Export files are kept STACKDESK_USAGE_EXPORT_KEEP_DAYS days (7 by default)."""
    days = settings.STACKDESK_USAGE_EXPORT_KEEP_DAYS
    cutoff = time.time() - days * 86400
    for old in folder.glob("usage-*.*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


@job(gettext_noop("Export usage"), changes=False)
def export_usage(job: Job) -> None:
    final = export_path(job.op.pk)
    if final.exists() and job.result.get("rows") is not None:
        return  # written by an earlier attempt
    period = Period(
        datetime.fromisoformat(job.params["start"]), datetime.fromisoformat(job.params["end"])
    )
    qgw, pgw = job_gateway(job, QuotasGateway), job_gateway(job, ProjectsGateway)
    job.progress(step=_("Reading projects and volumes"), percent=0)
    names = {p.id: p.name for p in pgw.list_projects()}
    order = sorted(names)
    volumes = volume_totals(qgw, all_projects=True)
    job.progress(step=_("Reading usage from the compute service"), percent=1)
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    forget_old_exports(final.parent)
    partial = final.with_suffix(".part")  # a retry starts the file again
    rows = 0
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(PROJECT_COLUMNS)
        for row in all_project_rows(project_usages(qgw, period), names, volumes):
            writer.writerow(row.cells(period))
            rows += 1
            if rows % 200 == 0:
                done = bisect.bisect_left(order, row.project_id) * 98 // max(1, len(order))
                job.progress(percent=1 + done, log=_("%(n)d rows written") % {"n": rows})
    partial.replace(final)
    job.result.update({"rows": rows, "bytes": final.stat().st_size, "file": final.name})
    job.progress(step=_("Ready to download"), log=_("%(n)d rows written") % {"n": rows})


# --- apply_quotas -------------------------------------------------------------------------


def apply_to_project(
    gw: QuotasGateway, project_id: str, values: Mapping[str, Mapping[str, int]]
) -> list[list[str]]:
    """All of the values or none: checked against the project's usage first, then applied
    with apply_quota_changes; returns [service, reason] for what was not simply applied."""
    try:
        current = {service: READERS[service](gw, project_id) for service in values}
    except (Rejected, NotFound) as exc:
        return [[next(iter(values)), exc.message]]
    if found := below_usage(current, values):
        return found
    previous = {s: {k: q.limit for k, q in qs.quotas.items()} for s, qs in current.items()}
    return apply_quota_changes(project_quotas(gw, project_id), values, previous).rows()


@job(gettext_noop("Apply quotas to projects"))
def apply_quotas(job: Job) -> None:
    gw = job_gateway(job, QuotasGateway)
    projects: list[list[str]] = job.params["projects"]  # [[id, name], ...]
    for index, (project_id, name) in enumerate(projects):
        if project_id in job.result:
            continue  # done by an earlier attempt
        job.progress(
            step=_("Applying quotas to %(name)s") % {"name": name},
            percent=index * 100 // len(projects),
        )
        refused = apply_to_project(gw, project_id, job.params["values"])
        status = "refused" if refused else "changed"
        job.result[project_id] = {"name": name, "status": status, "refused": refused}
        job.progress(log=f"{name}: {status}")


# --- apply_network_defaults ---------------------------------------------------------------


def _same(limits: Mapping[str, int], values: Mapping[str, int]) -> bool:
    return all(limits.get(key) == value for key, value in values.items())


@job(gettext_noop("Apply network default quotas"))
def apply_network_defaults(job: Job) -> None:
    """A project follows the network defaults when Neutron has no quota of its own for it, or
    when the portal wrote its quota from the previous defaults and nobody changed it since.
    New defaults equal to Neutron's configured ones are applied by deleting the quotas the
    portal wrote, so those projects are back on Neutron's own defaults."""
    qgw, pgw = job_gateway(job, QuotasGateway), job_gateway(job, ProjectsGateway)
    cloud_key = job.op.cloud_key
    previous: dict[str, int] = job.params["previous"]
    values: dict[str, int] = job.params["values"]
    job.progress(step=_("Finding the projects that follow the defaults"), percent=0)
    configured = qgw.get_network_quota_default()
    own = {q.project_id: q.limits for q in qgw.list_network_quotas()}
    ours = set(
        NetworkDefaultsApplied.objects.filter(cloud_key=cloud_key).values_list(
            "project_id", flat=True
        )
    )
    names = {p.id: p.name for p in pgw.list_projects()}
    back_to_configured = _same(configured, values)
    followers = sorted(
        (
            pid
            for pid in set(names) | ours
            if pid not in own or (pid in ours and _same(own[pid], previous))
        ),
        key=lambda pid: names.get(pid, pid),
    )
    for index, project_id in enumerate(followers):
        name = names.get(project_id, project_id)
        if project_id in job.result or (project_id not in own and back_to_configured):
            continue  # done by an earlier attempt, or already on Neutron's defaults
        job.progress(
            step=_("Applying network defaults to %(name)s") % {"name": name},
            percent=index * 100 // len(followers),
        )
        try:
            if back_to_configured:
                qgw.delete_network_quota(project_id)
                NetworkDefaultsApplied.objects.filter(
                    cloud_key=cloud_key, project_id=project_id
                ).delete()
            else:
                qgw.update_network_quota(project_id, values)
                NetworkDefaultsApplied.objects.get_or_create(
                    cloud_key=cloud_key, project_id=project_id
                )
            job.result[project_id] = {"name": name, "status": "changed", "refused": []}
        except (Rejected, NotFound) as exc:
            refused = [[catalog.NETWORK, exc.message]]
            job.result[project_id] = {"name": name, "status": "refused", "refused": refused}
        job.progress(log=f"{name}: {job.result[project_id]['status']}")
