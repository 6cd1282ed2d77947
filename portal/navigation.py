"""The Horizon-familiar side navigation: Project, Admin, Identity.

Entries name URLs; an entry whose URL is not (yet) registered is left out, so the menu shows
only pages that exist. Admin and Identity are shown only to admins; the views check again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    label: str | Promise
    url_name: str


@dataclass(frozen=True)
class Group:
    label: str | Promise
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    groups: tuple[Group, ...]
    admin_only: bool = False


NAVIGATION = (
    Section(
        "project",
        _("Project"),
        (
            Group(
                _("Project"),
                (
                    Entry(_("Overview"), "projects:overview"),
                    Entry(_("API Access"), "projects:api-access"),
                    Entry(_("Audit Log"), "portal:audit-log"),
                ),
            ),
            Group(
                _("Compute"),
                (
                    Entry(_("Instances"), "compute:list-servers"),
                    Entry(_("Images"), "images:list-images"),
                    Entry(_("Key Pairs"), "compute:list-keypairs"),
                    Entry(_("Server Groups"), "compute:list-server-groups"),
                ),
            ),
            Group(_("Volumes"), (Entry(_("Volumes"), "volumes:list-volumes"),)),
            Group(
                _("Network"),
                (
                    Entry(_("Network Topology"), "network:topology"),
                    Entry(_("Networks"), "network:list-networks"),
                    Entry(_("Routers"), "network:list-routers"),
                    Entry(_("Security Groups"), "network:list-security-groups"),
                    Entry(_("Floating IPs"), "network:list-floating-ips"),
                ),
            ),
        ),
    ),
    Section(
        "admin",
        _("Admin"),
        (
            Group(_("Admin"), (Entry(_("Overview"), "quotas:admin-usage"),)),
            Group(
                _("Compute"),
                (
                    Entry(_("Hypervisors"), "compute:admin-hypervisors"),
                    Entry(_("Capacity Trends"), "capacity:admin-capacity"),
                    Entry(_("Compute Services"), "compute:admin-services"),
                    Entry(_("Host Aggregates"), "compute:admin-aggregates"),
                    Entry(_("Flavors"), "compute:list-flavors"),
                    Entry(_("Instances"), "compute:admin-servers"),
                    Entry(_("Migrations"), "compute:admin-migrations"),
                    Entry(_("Images"), "images:admin-images"),
                ),
            ),
            Group(
                _("Volume"),
                (
                    Entry(_("Volumes"), "volumes:admin-volumes"),
                    Entry(_("Volume Types"), "volumes:admin-volume-types"),
                    Entry(_("QoS Specs"), "volumes:admin-qos-specs"),
                    Entry(_("Storage Pools"), "volumes:admin-storage-pools"),
                    Entry(_("Volume Services"), "volumes:admin-volume-services"),
                ),
            ),
            Group(
                _("Network"),
                (
                    Entry(_("Networks"), "network:admin-networks"),
                    Entry(_("Routers"), "network:admin-routers"),
                    Entry(_("Floating IPs"), "network:admin-floating-ips"),
                ),
            ),
            Group(
                _("System"),
                (
                    Entry(_("Defaults"), "quotas:defaults"),
                    Entry(_("System Health"), "compute:admin-health"),
                    Entry(_("All Operations"), "portal:admin-operations"),
                    Entry(_("Audit Log"), "portal:admin-audit-log"),
                ),
            ),
        ),
        admin_only=True,
    ),
    Section(
        "identity",
        _("Identity"),
        (
            Group(
                _("Identity"),
                (
                    Entry(_("Projects"), "projects:list-projects"),
                    Entry(_("Users"), "projects:list-users"),
                    Entry(_("Groups"), "projects:list-groups"),
                    Entry(_("Roles"), "projects:list-roles"),
                    Entry(_("Domains"), "projects:list-domains"),
                ),
            ),
        ),
        admin_only=True,
    ),
    Section(
        "user",
        _("Automation"),
        (
            Group(
                _("Automation"),
                (
                    Entry(_("Application Credentials"), "projects:list-app-credentials"),
                    Entry(_("Operations"), "portal:operations"),
                    Entry(_("Settings"), "portal:update-preferences"),
                ),
            ),
        ),
    ),
)


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def context(request: HttpRequest) -> dict[str, Any]:
    identity = getattr(request, "identity", None)
    if identity is None:
        return {}
    sections, crumbs, best = [], [], ""
    for section in NAVIGATION:
        if section.admin_only and not identity.is_admin:
            continue
        groups = []
        for group in section.groups:
            entries = []
            for entry in group.entries:
                url = _url(entry.url_name)
                if url is None:
                    continue
                active = request.path.startswith(url) and len(url) > len(best)
                if active:
                    best = url
                    crumbs = [section.label, group.label, entry.label]
                entries.append({"label": entry.label, "url": url})
            if entries:
                groups.append({"label": group.label, "entries": entries})
        if groups:
            sections.append({"key": section.key, "label": section.label, "groups": groups})
    if crumbs and crumbs[0] == crumbs[1]:
        crumbs = crumbs[1:]
    return {"nav_sections": sections, "nav_active_url": best, "nav_breadcrumb": crumbs}
