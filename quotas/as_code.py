"""The quota forms (a project's quotas, one quota set for several projects, the defaults) and
the usage exports as `openstack` commands and Ansible tasks."""

from __future__ import annotations

from typing import Any

from django.utils.http import urlencode
from django.utils.translation import gettext as _

from portal.as_code import Code, Draft, placeholder, writes
from quotas import catalog

# What `openstack quota set` calls a quota, where its option is not the key (OSC 10.2).
QUOTA_OPTIONS = {
    "metadata_items": "properties",
    "injected_file_content_bytes": "injected_file_size",
    "injected_file_path_bytes": "injected_path_size",
    "security_groups": "secgroups",
    "security_group_rules": "secgroup_rules",
}


def quota_values(draft: Draft) -> dict[str, dict[str, int]]:
    """service -> key -> the whole numbers typed in the quota fields (`<service>__<key>`)."""
    found: dict[str, dict[str, int]] = {}
    for quota in catalog.QUOTA_FIELDS:
        value = draft.number(quota.name)
        if isinstance(value, int):
            found.setdefault(quota.service, {})[quota.key] = value
    return found


def quota_options(values: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The `openstack quota set` options of these quotas."""
    return {
        QUOTA_OPTIONS.get(key, key): value
        for service in values.values()
        for key, value in service.items()
    }


@writes("quotas:update-quotas")
def update_quotas(draft: Draft, project_id: str) -> Code:
    values = quota_values(draft)
    flat = {key: value for service in values.values() for key, value in service.items()}
    return Code(
        commands=(draft.openstack("quota set", project_id, **quota_options(values)),),
        tasks=(draft.task("quota", _("Set the project's quotas"), name=project_id, **flat),),
    )


@writes("quotas:apply-quotas")
def apply_quotas(draft: Draft) -> Code:
    projects, values = draft.all("projects") or [placeholder("project_id")], quota_values(draft)
    body: dict[str, Any] = {"projects": projects}
    body |= {f"{s}__{k}": v for s, keys in values.items() for k, v in keys.items()}
    return Code(
        commands=(draft.portal_api("POST", "quotas/bulk/", body),),
        tasks=(
            draft.task(
                "stackdesk.portal.apply_quotas",
                _("Apply one quota set to several projects"),
                projects=projects,
                quotas=values,
            ),
        ),
        note=_("The portal's own job: its JSON API, and its stackdesk.portal.apply_quotas module."),
    )


@writes("quotas:defaults")
def defaults(draft: Draft) -> Code:
    values = quota_values(draft)
    kept = {s: v for s, v in values.items() if s != catalog.NETWORK}
    return Code(
        # OSC 10 deprecates --class: the services keep one class, set with --default.
        commands=(draft.openstack("quota set", default=True, **quota_options(kept)),)
        if kept
        else (),
        note=_(
            "openstack.cloud has no module for default quotas. The network defaults are the "
            "portal's own: it writes them to every project that follows the defaults."
        ),
    )


def _period(draft: Draft) -> dict[str, str]:
    return {k: draft.text(k) for k in ("start", "end") if draft.text(k)}


@writes("quotas:export-usage")
def export_usage(draft: Draft) -> Code:
    period = _period(draft)
    dest = "-".join(["usage", *period.values()]) + ".csv"
    path = f"usage.csv?{urlencode(period)}" if period else "usage.csv"
    return Code(
        commands=(draft.portal_api("GET", path) + f" -o {dest}",),
        tasks=(
            draft.task(
                "stackdesk.portal.usage_export",
                _("Export every project's usage"),
                start=period.get("start"),
                end=period.get("end"),
                dest=dest,
            ),
        ),
        note=_(
            "The usage CSV of the portal's JSON API, and its stackdesk.portal.usage_export module."
        ),
    )


@writes("quotas:export-project-usage")
def export_project_usage(draft: Draft) -> Code:
    period, project = _period(draft), placeholder("project_id")
    summary = draft.text("rows") == "summary"
    query = {**period, "project": project, **({"rows": "summary"} if summary else {})}
    dest = "usage.csv"
    return Code(
        commands=(draft.portal_api("GET", f"usage.csv?{urlencode(query)}") + f" -o {dest}",),
        tasks=(
            draft.task(
                "stackdesk.portal.usage_export",
                _("Export the project's usage"),
                start=period.get("start"),
                end=period.get("end"),
                project=project,
                rows="summary" if summary else None,
                dest=dest,
            ),
        ),
        note=_("Put your project's ID (openstack token issue shows it) in place of <project-id>."),
    )
