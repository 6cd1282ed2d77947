"""Volumes and what is made of them: snapshots, backups, transfers (Cinder, block storage v3).

Every view acts with the signed-in user's own token through VolumesGateway; the cloud's
policy decides (a reader sees no action buttons, and Cinder refuses its POSTs). Cinder works
asynchronously: a create, extend, retype, snapshot or backup is accepted at once and the list
and detail pages poll (htmx, every 2 s, 286 stops it) while anything shown is busy. Cinder's
refusals (400, 403, 404, 409, 413) are shown on the form in its own words; nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.actions import attempt, confirm_page, form_action, form_page
from portal.concurrency import concurrently
from portal.errors import CloudUnavailable, NotFound, Rejected
from portal.gateways import gateway
from portal.identity import PortalRequest, login_required, me
from portal.preferences import paged
from volumes import forms as f
from volumes.gateway import Backup, Snapshot, Volume, VolumesGateway

T = TypeVar("T")


def _gw(request: PortalRequest) -> VolumesGateway:
    return gateway(request, VolumesGateway)


def _posted(request: PortalRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _partial(request: PortalRequest) -> bool:
    """An htmx request that wants a piece of the page (the polling table), not the page."""
    return bool(request.htmx) and not request.htmx.boosted


def can_change(request: PortalRequest) -> bool:
    """Readers see no buttons that would only be refused; the cloud still decides."""
    return bool(set(me(request).roles) - {"reader"})


def _poll(request: PortalRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The page, or (polling) its #live partial: 286 tells htmx to stop when nothing is busy."""
    if _partial(request):
        return render(request, template + "#live", context, status=200 if context["busy"] else 286)
    return render(request, template, context)


def _unavailable(
    request: PortalRequest, template: str, exc: CloudUnavailable, **context: Any
) -> HttpResponse:
    """Cinder (or the service a list needs) is not answering: the page with a banner that says
    so and an empty table, 503, instead of no page at all. A poll gets the portal's usual
    htmx answer (the error middleware)."""
    if _partial(request):
        raise exc
    context.update(unavailable=str(exc), rows=[], busy=False, can_change=False)
    return render(request, template, context, status=503)


def _volume_url(volume_id: str) -> str:
    return reverse("volumes:get-volume", args=[volume_id])


# --- volumes -----------------------------------------------------------------------------------


@require_GET
@login_required
def list_volumes(request: PortalRequest) -> HttpResponse:
    """The project's volumes (two calls at once: Cinder's volumes, Nova's server names)."""
    gw = _gw(request)
    if not gw.has_volumes():
        return render(request, "volumes/list.html", {"no_service": True, "busy": False})
    try:
        volumes, servers = concurrently(gw.list_volumes, _optional(gw.list_server_names))
    except CloudUnavailable as exc:
        query = f.VolumeFilterForm(statuses=[])
        return _unavailable(request, "volumes/list.html", exc, query=query)
    statuses = sorted({v.status for v in volumes})
    query = f.VolumeFilterForm(request.GET or None, statuses=statuses)
    shown = volumes
    if query.is_valid():
        name, status = query.cleaned_data["name"].lower(), query.cleaned_data["status"]
        shown = [
            v
            for v in volumes
            if (not name or name in v.name.lower() or name == v.id)
            and (not status or v.status == status)
        ]
    names = servers or {}
    rows, pages = paged(request, shown)
    context = {
        "rows": [(v, attached_to(v, names)) for v in rows],
        "query": query,
        "busy": any(v.is_busy for v in rows),
        "can_change": can_change(request),
        **pages,
    }
    return _poll(request, "volumes/list.html", context)


def attached_to(volume: Volume, names: dict[str, str]) -> list[tuple[str, str]]:
    """(server name, device) of each attachment; the id where Nova did not say the name."""
    return [(names.get(a.server_id, a.server_id), a.device) for a in volume.attachments]


def _optional(call: Callable[[], T]) -> Callable[[], T | None]:
    """Server names (and, on the admin pages, project names) are a nicety: Nova or Keystone
    being away leaves ids, not an error page."""

    def run() -> T | None:
        try:
            return call()
        except (CloudUnavailable, Rejected, NotFound):
            return None

    return run


@require_GET
@login_required
def get_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    """Overview, attachments, snapshots, metadata and Cinder's messages: four calls at once."""
    gw = _gw(request)
    volume, snapshots, notes, servers = concurrently(
        lambda: gw.get_volume(volume_id),
        lambda: gw.list_snapshots(volume_id),
        lambda: gw.list_messages(volume_id),
        _optional(gw.list_server_names),
    )
    context = {
        "volume": volume,
        "snapshots": snapshots,
        "notes": notes,
        "attached": list(zip(volume.attachments, attached_to(volume, servers or {}), strict=True)),
        "busy": volume.is_busy or any(s.is_busy for s in snapshots),
        "can_change": can_change(request),
    }
    return _poll(request, "volumes/detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def create_volume(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    # Six calls at once (concurrently takes five: the last pair runs side by side itself).
    images, snapshots, volumes, types, (zones, limits) = concurrently(
        gw.list_images,
        gw.list_snapshots,
        gw.list_volumes,
        gw.list_volume_types,
        lambda: concurrently(gw.list_availability_zones, gw.get_limits),
    )
    form = f.CreateVolumeForm(
        _posted(request),
        images=images,
        snapshots=snapshots,
        volumes=volumes,
        types=types,
        zones=zones,
        initial=_source_initial(request),
    )

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        volume = gw.create_volume(form.spec())
        return _("Creating volume %(name)s.") % {"name": volume.label}, _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Create a volume"),
        submit=_("Create volume"),
        cancel=reverse("volumes:list-volumes"),
        aside="volumes/quota_aside.html",
        limits=limits,
    )


def _source_initial(request: PortalRequest) -> dict[str, str]:
    """?snapshot=<id> or ?volume=<id> (links from a snapshot or a volume) preselects it."""
    for kind, field in (("snapshot", "snapshot"), ("volume", "source_volume"), ("image", "image")):
        if value := request.GET.get(kind):
            return {"source_type": kind, field: value}
    return {}


@require_http_methods(["GET", "POST"])
@login_required
def update_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    initial: dict[str, object] = {"name": volume.name, "description": volume.description}
    initial["bootable"] = volume.is_bootable
    form = f.UpdateVolumeForm(_posted(request), initial=initial)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.update_volume(volume.id, data["name"], data["description"])
        if data["bootable"] != volume.is_bootable:  # a separate action (os-set_bootable)
            gw.set_volume_bootable_status(volume.id, data["bootable"])
        return _("Volume updated."), _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Edit volume %(name)s") % {"name": volume.label},
        submit=_("Save"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def extend_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    form = f.ExtendVolumeForm(_posted(request), volume=volume)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.extend_volume(volume.id, data["size"])
        return _("Extending the volume to %(gb)d GiB.") % {"gb": data["size"]}, _volume_url(
            volume.id
        )

    return form_action(
        request,
        form,
        perform,
        title=_("Extend volume %(name)s") % {"name": volume.label},
        submit=_("Extend volume"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def retype_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume, types = concurrently(lambda: gw.get_volume(volume_id), gw.list_volume_types)
    form = f.RetypeVolumeForm(_posted(request), volume=volume, types=types)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.retype_volume(volume.id, data["volume_type"], data["migration_policy"])
        return _("Changing the volume's type."), _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Change the type of %(name)s") % {"name": volume.label},
        submit=_("Change type"),
        cancel=_volume_url(volume.id),
        intro=_("Now: %(type)s.") % {"type": volume.volume_type or "—"},
    )


@require_http_methods(["GET", "POST"])
@login_required
def upload_volume_to_image(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    form = f.UploadVolumeToImageForm(_posted(request), initial={"image_name": volume.name})

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        # force: Cinder copies an in-use volume only when told to (its data may be changing).
        gw.upload_volume_to_image(
            volume.id, data["image_name"], data["disk_format"], volume.status == "in-use"
        )
        message = _("Copying the volume to image %(name)s.") % {"name": data["image_name"]}
        return message, _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Upload %(name)s to an image") % {"name": volume.label},
        submit=_("Upload to image"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def attach_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    """From the volume: choose the instance (Nova makes the attachment)."""
    gw = _gw(request)
    volume, servers = concurrently(lambda: gw.get_volume(volume_id), gw.list_attachable_servers)
    form = f.ServerChoiceForm(_posted(request), servers=servers)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.attach_volume(volume.id, data["server"])
        return _("Attaching the volume."), _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Attach %(name)s to an instance") % {"name": volume.label},
        submit=_("Attach volume"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def detach_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume, names = concurrently(lambda: gw.get_volume(volume_id), _optional(gw.list_server_names))
    servers = {a.server_id: (names or {}).get(a.server_id, a.server_id) for a in volume.attachments}
    form = f.ServerChoiceForm(_posted(request), servers=servers)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.detach_volume(volume.id, data["server"])
        return _("Detaching the volume."), _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Detach %(name)s") % {"name": volume.label},
        submit=_("Detach volume"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_volume(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    return confirm_page(
        request,
        title=_("Delete volume %(name)s?") % {"name": volume.label},
        intro=_("The volume and its data are deleted. This cannot be undone."),
        submit=_("Delete volume"),
        cancel=_volume_url(volume.id),
        perform=lambda: gw.delete_volume(volume.id),
        done_message=_("Deleting volume %(name)s.") % {"name": volume.label},
        then=reverse("volumes:list-volumes"),
    )


@require_POST
@login_required
def delete_volumes(request: PortalRequest) -> HttpResponse:
    """Bulk delete from the list: each refusal is reported with Cinder's reason."""
    ids = [i for i in request.POST.getlist("volume_ids") if f.UUID.match(i)]
    if not ids:
        messages.error(request, _("Select the volumes to delete first."))  # nothing done
        return redirect("volumes:list-volumes")
    gw, deleted = _gw(request), 0
    for volume_id in ids:
        try:
            gw.delete_volume(volume_id)
        except (Rejected, NotFound) as exc:
            messages.error(request, f"{volume_id}: {exc}")
        else:
            deleted += 1
    if deleted:
        messages.success(
            request, _("Deleting %(n)d of %(total)d volumes.") % {"n": deleted, "total": len(ids)}
        )
    return redirect("volumes:list-volumes")


# --- snapshots ---------------------------------------------------------------------------------


@require_GET
@login_required
def list_snapshots(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    try:
        snapshots, volumes = concurrently(gw.list_snapshots, gw.list_volumes)
    except CloudUnavailable as exc:
        return _unavailable(request, "volumes/snapshots.html", exc)
    names = {v.id: v.label for v in volumes}
    context = {
        "rows": [(s, names.get(s.volume_id, s.volume_id)) for s in snapshots],
        "busy": any(s.is_busy for s in snapshots),
        "can_change": can_change(request),
    }
    return _poll(request, "volumes/snapshots.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def create_snapshot(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    form = f.CreateSnapshotForm(_posted(request))

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        # force: Cinder snapshots an in-use volume only when told to.
        made: Snapshot = gw.create_snapshot(
            volume.id, data["name"], data["description"], volume.status == "in-use"
        )
        return _("Creating snapshot %(name)s.") % {"name": made.label}, _volume_url(volume.id)

    return form_action(
        request,
        form,
        perform,
        title=_("Snapshot volume %(name)s") % {"name": volume.label},
        submit=_("Create snapshot"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def update_snapshot(request: PortalRequest, snapshot_id: str) -> HttpResponse:
    gw = _gw(request)
    snapshot = gw.get_snapshot(snapshot_id)
    initial = {"name": snapshot.name, "description": snapshot.description}
    form = f.UpdateSnapshotForm(_posted(request), initial=initial)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        gw.update_snapshot(snapshot.id, data["name"], data["description"])
        return _("Snapshot updated."), reverse("volumes:list-snapshots")

    return form_action(
        request,
        form,
        perform,
        title=_("Edit snapshot %(name)s") % {"name": snapshot.label},
        submit=_("Save"),
        cancel=reverse("volumes:list-snapshots"),
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_snapshot(request: PortalRequest, snapshot_id: str) -> HttpResponse:
    gw = _gw(request)
    snapshot = gw.get_snapshot(snapshot_id)
    return confirm_page(
        request,
        title=_("Delete snapshot %(name)s?") % {"name": snapshot.label},
        intro=_("Volumes made from it keep their data."),
        submit=_("Delete snapshot"),
        cancel=reverse("volumes:list-snapshots"),
        perform=lambda: gw.delete_snapshot(snapshot.id),
        done_message=_("Deleting snapshot %(name)s.") % {"name": snapshot.label},
        then=_volume_url(snapshot.volume_id),
    )


# --- backups -----------------------------------------------------------------------------------


@require_GET
@login_required
def list_backups(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    try:
        backups, volumes = concurrently(gw.list_backups, gw.list_volumes)
    except CloudUnavailable as exc:
        return _unavailable(request, "volumes/backups.html", exc)
    names = {v.id: v.label for v in volumes}
    context = {
        "rows": [(b, names.get(b.volume_id, b.volume_id)) for b in backups],
        "busy": any(b.is_busy for b in backups) or any(v.is_busy for v in volumes),
        "can_change": can_change(request),
    }
    return _poll(request, "volumes/backups.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def create_backup(request: PortalRequest, volume_id: str) -> HttpResponse:
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    form = f.CreateBackupForm(_posted(request))

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        # force: Cinder backs up an in-use volume only when told to.
        made: Backup = gw.create_backup(
            volume.id,
            data["name"],
            data["description"],
            data["incremental"],
            volume.status == "in-use",
        )
        return _("Creating backup %(name)s.") % {"name": made.label}, reverse(
            "volumes:list-backups"
        )

    return form_action(
        request,
        form,
        perform,
        title=_("Back up volume %(name)s") % {"name": volume.label},
        submit=_("Create backup"),
        cancel=_volume_url(volume.id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def restore_backup(request: PortalRequest, backup_id: str) -> HttpResponse:
    gw = _gw(request)
    backup, volumes = concurrently(lambda: gw.get_backup(backup_id), gw.list_volumes)
    form = f.RestoreBackupForm(_posted(request), backup=backup, volumes=volumes)

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        existing = data["volume"] if data["target"] == "existing" else ""
        volume_id = gw.restore_backup(backup.id, volume_id=existing, name=data["name"])
        return _("Restoring backup %(name)s.") % {"name": backup.label}, _volume_url(
            volume_id
        ) if volume_id else reverse("volumes:list-backups")

    return form_action(
        request,
        form,
        perform,
        title=_("Restore backup %(name)s") % {"name": backup.label},
        submit=_("Restore backup"),
        cancel=reverse("volumes:list-backups"),
        intro=_("Restoring onto an existing volume replaces all of its data."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_backup(request: PortalRequest, backup_id: str) -> HttpResponse:
    gw = _gw(request)
    backup = gw.get_backup(backup_id)
    return confirm_page(
        request,
        title=_("Delete backup %(name)s?") % {"name": backup.label},
        intro=_("The backup's data is deleted. This cannot be undone."),
        submit=_("Delete backup"),
        cancel=reverse("volumes:list-backups"),
        perform=lambda: gw.delete_backup(backup.id),
        done_message=_("Deleting backup %(name)s.") % {"name": backup.label},
        then=reverse("volumes:list-backups"),
    )


# --- transfers ---------------------------------------------------------------------------------


@require_GET
@login_required
def list_transfers(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    try:
        transfers, volumes = concurrently(gw.list_transfers, gw.list_volumes)
    except CloudUnavailable as exc:
        return _unavailable(request, "volumes/transfers.html", exc)
    names = {v.id: v.label for v in volumes}
    context = {
        "rows": [(t, names.get(t.volume_id, t.volume_id)) for t in transfers],
        "can_change": can_change(request),
    }
    return render(request, "volumes/transfers.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def create_transfer(request: PortalRequest, volume_id: str) -> HttpResponse:
    """Cinder shows the auth key in this one answer only: the page is not cached."""
    gw = _gw(request)
    volume = gw.get_volume(volume_id)
    form = f.CreateTransferForm(_posted(request), initial={"name": volume.name})
    if request.method == "POST" and form.is_valid():
        transfer = attempt(form, lambda: gw.create_transfer(volume.id, form.cleaned_data["name"]))
        if transfer is not None:
            response = render(
                request, "volumes/transfer_created.html", {"transfer": transfer, "volume": volume}
            )
            response["Cache-Control"] = "no-store"
            return response
    return form_page(
        request,
        form,
        title=_("Transfer volume %(name)s to another project") % {"name": volume.label},
        submit=_("Create transfer"),
        cancel=_volume_url(volume.id),
        intro=_("The other project accepts it with the transfer ID and the key shown next."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def accept_transfer(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    form = f.AcceptTransferForm(_posted(request))

    def perform(data: dict[str, Any]) -> tuple[str, str]:
        volume_id = gw.accept_transfer(data["transfer_id"], data["auth_key"])
        return _("The volume now belongs to this project."), _volume_url(
            volume_id
        ) if volume_id else reverse("volumes:list-volumes")

    return form_action(
        request,
        form,
        perform,
        title=_("Accept a volume transfer"),
        submit=_("Accept transfer"),
        cancel=reverse("volumes:list-transfers"),
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_transfer(request: PortalRequest, transfer_id: str) -> HttpResponse:
    gw = _gw(request)
    transfer = gw.get_transfer(transfer_id)
    return confirm_page(
        request,
        title=_("Cancel transfer %(name)s?") % {"name": transfer.name or transfer.id},
        intro=_("The volume stays in this project; the key no longer works."),
        submit=_("Cancel transfer"),
        cancel=reverse("volumes:list-transfers"),
        perform=lambda: gw.delete_transfer(transfer.id),
        done_message=_("Transfer cancelled."),
        then=reverse("volumes:list-transfers"),
    )
