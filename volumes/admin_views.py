"""Admin › Volume: every project's volumes with their host and backend, a stuck volume's status
reset, volume types (extra specs, access to private ones, the default type), QoS specs,
the scheduler's storage pools with their capacity, and Cinder's services.

Every view is `admin_required` and acts with the signed-in administrator's own token. Call
budgets (tested with the fake): all volumes 2 at once (Cinder's volumes of every project and
Keystone's project names, never one call per row); types 3 at once; a type 4 at once; QoS 2
at once; pools 1; services 1. A change is a POST; the audit middleware records it like any
other (portal/audit.py), its refusal included. Cinder's refusals (a type still in use, the
default type, a QoS spec still associated) are shown in its own words and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.actions import confirm_page, form_action
from portal.concurrency import concurrently
from portal.errors import CloudUnavailable, NotFound, Rejected
from portal.forms import PortalForm
from portal.identity import PortalRequest, admin_required
from portal.preferences import paged
from volumes import forms as f
from volumes.gateway import QosSpec, VolumeType
from volumes.views import (
    _gw,
    _optional,
    _poll,
    _posted,
    _unavailable,
)


def _project_choices(names: dict[str, str] | None) -> list[tuple[str, str]]:
    return sorted((names or {}).items(), key=lambda p: p[1].lower())


def _post_back(
    request: PortalRequest, form: PortalForm, perform: Callable[[dict[str, Any]], str], then: str
) -> HttpResponse:
    """A POST from a button or a small form on a page: done (its message) or refused (the
    form's or Cinder's reason), and back to the page either way; nothing changes when refused."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(then)
    try:
        done = perform(form.cleaned_data)
    except (Rejected, NotFound) as exc:
        messages.error(request, _("The cloud refused: %(reason)s") % {"reason": exc})
    else:
        messages.success(request, done)
    return redirect(then)


# --- every project's volumes -------------------------------------------------------------------


@require_GET
@admin_required
def admin_volumes(request: PortalRequest) -> HttpResponse:
    """Two calls at once: Cinder's volumes of all projects, Keystone's project names."""
    gw = _gw(request)
    try:
        volumes, names = concurrently(gw.list_all_volumes, _optional(gw.list_project_names))
    except CloudUnavailable as exc:
        query = f.AdminVolumeFilterForm(projects=[], hosts=[], statuses=[])
        return _unavailable(
            request, "volumes/admin_volumes.html", exc, query=query, matched=0, total=0
        )
    projects = names or {}
    query = f.AdminVolumeFilterForm(
        request.GET or None,
        projects=_project_choices(projects),
        hosts=sorted({v.host for v in volumes if v.host}),
        statuses=sorted({v.status for v in volumes}),
    )
    shown = volumes
    if query.is_valid():
        data = query.cleaned_data
        name = data["name"].lower()
        shown = [
            v
            for v in volumes
            if (not name or name in v.name.lower() or name == v.id)
            and (not data["project"] or v.project_id == data["project"])
            and (not data["host"] or v.host == data["host"])
            and (not data["status"] or v.status == data["status"])
        ]
    rows, pages = paged(request, shown)
    context = {
        "rows": [(v, projects.get(v.project_id, v.project_id)) for v in rows],
        "matched": len(shown),
        "total": len(volumes),
        "gigabytes": sum(v.size for v in shown),
        "query": query,
        "busy": any(v.is_busy for v in rows),
        "names_missing": names is None,
        **pages,
    }
    return _poll(request, "volumes/admin_volumes.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def reset_volume_status(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    form = f.ResetVolumeStatusForm(_posted(request), initial={"status": "available"})

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.reset_volume_status(volume.id, data["status"], data["attach_status"])
        now = {"name": volume.label, "status": data["status"]}
        return _("The status of %(name)s is now %(status)s.") % now, reverse(
            "volumes:admin-volumes"
        )

    return form_action(
        request,
        form,
        perform,
        title=_("Reset the status of %(name)s") % {"name": volume.label},
        submit=_("Reset status"),
        cancel=reverse("volumes:admin-volumes"),
        intro=_(
            "Now: %(status)s. Only Cinder's record changes: nothing is done on the storage or "
            "on the instance, so set the status the volume is really in."
        )
        % {"status": volume.status},
    )


# --- volume types ------------------------------------------------------------------------------


def _type_url(type_id: str) -> str:
    return reverse("volumes:get-volume-type", args=[type_id])


@require_GET
@admin_required
def admin_volume_types(request: PortalRequest) -> HttpResponse:
    """Three calls at once: the types (public and private), the default type, the QoS specs."""
    gw = _gw(request)
    types, default_id, qos = concurrently(
        gw.list_all_volume_types,
        _optional(gw.get_default_volume_type),
        _optional(gw.list_qos_specs),
    )
    qos_names = {q.id: q.name for q in qos or []}
    context = {
        "rows": [(t, qos_names.get(t.qos_specs_id, t.qos_specs_id)) for t in types],
        "default_id": default_id or "",
    }
    return render(request, "volumes/admin_types.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def create_volume_type(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    form = f.CreateVolumeTypeForm(_posted(request))

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        made: VolumeType = gw.create_volume_type(
            data["name"], data["description"], data["is_public"], data["extra_specs"]
        )
        return _("Volume type %(name)s created.") % {"name": made.name}, _type_url(made.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Create a volume type"),
        submit=_("Create volume type"),
        cancel=reverse("volumes:admin-volume-types"),
        intro=_("A private type is used only by the projects given access on its page."),
    )


@require_GET
@admin_required
def get_volume_type(request: PortalRequest, type_id: str) -> HttpResponse:
    """Four calls at once: the type, its access list (Cinder has none for a public type),
    the project names and the default type."""
    gw = _gw(request)
    volume_type, access, names, default_id = concurrently(
        lambda: gw.get_volume_type(type_id),
        _optional(lambda: gw.list_volume_type_access(type_id)),
        _optional(gw.list_project_names),
        _optional(gw.get_default_volume_type),
    )
    projects = names or {}
    shared = access or []
    context = {
        "type": volume_type,
        "is_default": volume_type.id == default_id,
        "access": [(p, projects.get(p, p)) for p in shared],
        "spec_form": f.ExtraSpecForm(),
        "access_form": f.ProjectAccessForm(
            projects=[p for p in _project_choices(projects) if p[0] not in shared]
        ),
    }
    return render(request, "volumes/admin_type.html", context)


@require_POST
@admin_required
def update_volume_type_extra_specs(request: PortalRequest, type_id: str) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.update_volume_type_extra_specs(type_id, {data["key"]: data["value"]})
        return _("Extra spec %(key)s set.") % {"key": data["key"]}

    return _post_back(request, f.ExtraSpecForm(request.POST), perform, _type_url(type_id))


@require_POST
@admin_required
def delete_volume_type_extra_spec(request: PortalRequest, type_id: str) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.delete_volume_type_extra_spec(type_id, data["key"])
        return _("Extra spec %(key)s removed.") % {"key": data["key"]}

    return _post_back(request, f.ExtraSpecKeyForm(request.POST), perform, _type_url(type_id))


def _access_form(request: PortalRequest) -> f.ProjectAccessForm:
    """Any project Keystone knows (the page offers only those not yet given access)."""
    names = _optional(_gw(request).list_project_names)() or {}
    return f.ProjectAccessForm(request.POST, projects=_project_choices(names))


@require_POST
@admin_required
def add_volume_type_access(request: PortalRequest, type_id: str) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.add_volume_type_access(type_id, data["project"])
        return _("The project may now use this type.")

    return _post_back(request, _access_form(request), perform, _type_url(type_id))


@require_POST
@admin_required
def remove_volume_type_access(request: PortalRequest, type_id: str) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.remove_volume_type_access(type_id, data["project"])
        return _("The project may no longer use this type.")

    return _post_back(request, _access_form(request), perform, _type_url(type_id))


@require_http_methods(["GET", "POST"])
@admin_required
def delete_volume_type(request: PortalRequest, type_id: str) -> HttpResponse:
    gw = _gw(request)
    volume_type = gw.get_volume_type(type_id)
    return confirm_page(
        request,
        title=_("Delete volume type %(name)s?") % {"name": volume_type.name},
        intro=_("Cinder refuses while a volume has this type, and for the default type."),
        submit=_("Delete volume type"),
        cancel=_type_url(volume_type.id),
        perform=lambda: gw.delete_volume_type(volume_type.id),
        done_message=_("Volume type %(name)s deleted.") % {"name": volume_type.name},
        then=reverse("volumes:admin-volume-types"),
    )


# --- QoS specs ---------------------------------------------------------------------------------


def _qos_url() -> str:
    return reverse("volumes:admin-qos-specs")


@require_GET
@admin_required
def admin_qos_specs(request: PortalRequest) -> HttpResponse:
    """Two calls at once: the QoS specs and the types (each names its QoS spec)."""
    gw = _gw(request)
    qos, types = concurrently(gw.list_qos_specs, gw.list_all_volume_types)
    rows = []
    for spec in qos:
        mine = [t for t in types if t.qos_specs_id == spec.id]
        free = [(t.id, t.name) for t in types if not t.qos_specs_id]
        rows.append((spec, mine, f.QosTypeForm(types=free) if free else None))
    return render(request, "volumes/admin_qos.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@admin_required
def create_qos_spec(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    form = f.CreateQosSpecForm(_posted(request))

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        made: QosSpec = gw.create_qos_spec(data["name"], data["consumer"], data["specs"])
        return _("QoS spec %(name)s created.") % {"name": made.name}, _qos_url()

    return form_action(
        request,
        form,
        perform,
        title=_("Create a QoS spec"),
        submit=_("Create QoS spec"),
        cancel=_qos_url(),
    )


def _type_form(request: PortalRequest) -> f.QosTypeForm:
    types = _gw(request).list_all_volume_types()
    return f.QosTypeForm(request.POST, types=[(t.id, t.name) for t in types])


@require_POST
@admin_required
def associate_qos_spec(request: PortalRequest, qos_id: str) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.associate_qos_spec(qos_id, data["volume_type"])
        return _("QoS spec associated with the volume type.")

    return _post_back(request, _type_form(request), perform, _qos_url())


@require_POST
@admin_required
def disassociate_qos_spec(request: PortalRequest, qos_id: str) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.disassociate_qos_spec(qos_id, data["volume_type"])
        return _("QoS spec no longer applies to the volume type.")

    return _post_back(request, _type_form(request), perform, _qos_url())


@require_http_methods(["GET", "POST"])
@admin_required
def delete_qos_spec(request: PortalRequest, qos_id: str) -> HttpResponse:
    gw = _gw(request)
    spec = gw.get_qos_spec(qos_id)
    return confirm_page(
        request,
        title=_("Delete QoS spec %(name)s?") % {"name": spec.name},
        intro=_("Cinder refuses while a volume type is associated with it."),
        submit=_("Delete QoS spec"),
        cancel=_qos_url(),
        perform=lambda: gw.delete_qos_spec(spec.id),
        done_message=_("QoS spec %(name)s deleted.") % {"name": spec.name},
        then=_qos_url(),
    )


# --- pools and services ------------------------------------------------------------------------


@require_GET
@admin_required
def admin_storage_pools(request: PortalRequest) -> HttpResponse:
    """One call: the scheduler's pools with their capacity (what it places volumes by)."""
    return render(request, "volumes/admin_pools.html", {"pools": _gw(request).list_storage_pools()})


@require_GET
@admin_required
def admin_volume_services(request: PortalRequest) -> HttpResponse:
    return render(
        request,
        "volumes/admin_services.html",
        {"services": _gw(request).list_volume_services()},
    )


@require_POST
@admin_required
def enable_volume_service(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.enable_volume_service(data["host"], data["binary"])
        return _("%(binary)s on %(host)s enabled.") % data

    form = f.VolumeServiceForm(request.POST)
    return _post_back(request, form, perform, reverse("volumes:admin-volume-services"))


@require_POST
@admin_required
def disable_volume_service(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)

    def perform(data: dict[str, Any]) -> str:
        gw.disable_volume_service(data["host"], data["binary"], data["reason"])
        return _("%(binary)s on %(host)s disabled.") % data

    form = f.DisableVolumeServiceForm(request.POST)
    return _post_back(request, form, perform, reverse("volumes:admin-volume-services"))
