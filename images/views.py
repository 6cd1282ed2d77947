"""Project › Compute › Images and Admin › Images: list, detail, create (file or URL), edit,
protect, delete, create a volume; and the chunked upload endpoints the browser talks to."""

from __future__ import annotations

import re
import shutil
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from images import tasks, uploads
from images.formats import HEAD_BYTES, mismatch
from images.forms import CreateImageForm, CreateVolumeForm, EditImageForm
from images.gateway import Image, ImagesGateway, image_patch, names_by_id
from images.listing import Listing, filter_and_sort, list_context
from images.models import ImageUpload
from portal.actions import done, form_page
from portal.concurrency import concurrently
from portal.errors import CloudError, Rejected
from portal.gateways import gateway
from portal.identity import PortalRequest, admin_required, login_required, me, safe_next
from portal.models import Operation
from portal.operations import cancel_operation, ensure_may_start, start_operation

IMAGE_ID = re.compile(r"^[0-9a-fA-F-]{36}$")


def _gw(request: PortalRequest) -> ImagesGateway:
    return gateway(request, ImagesGateway)


def _back(request: PortalRequest, default: str) -> HttpResponse:
    return redirect(safe_next(request, request.POST.get("next")) or default)


# --- lists -----------------------------------------------------------------------------------


def _render_list(request: PortalRequest, listing: Listing) -> HttpResponse:
    context = list_context(request, listing)
    if request.htmx and not request.htmx.boosted:
        # The rows poll while something is on its way (286 stops them).
        status = 200 if context["busy"] else 286
        return render(request, "images/list.html#table", context, status=status)
    return render(request, "images/list.html", context)


@require_GET
@login_required
def list_images(request: PortalRequest) -> HttpResponse:
    identity, gw = me(request), _gw(request)
    images = gw.list_images(visibility="all")
    if identity.is_admin:
        # An admin's token sees every project's private images; this page is the project's.
        images = [i for i in images if i.owner == identity.project_id or i.visibility != "private"]
    listing = Listing(images=filter_and_sort(images, request.GET), admin=False, owners={})
    return _render_list(request, listing)


@require_GET
@admin_required
def admin_images(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    images, projects = concurrently(
        lambda: gw.list_images(visibility="all"), lambda: gw.list_projects()
    )
    listing = Listing(
        images=filter_and_sort(images, request.GET), admin=True, owners=names_by_id(projects)
    )
    return _render_list(request, listing)


@require_GET
@login_required
def get_image(request: PortalRequest, image_id: str) -> HttpResponse:
    gw = _gw(request)
    image = gw.get_image(image_id)
    context = {
        "image": image,
        "can_make_volume": gw.has_service("block-storage"),
        "ops": _image_operations(request, image.id),
    }
    return render(request, "images/detail.html", context)


def _image_operations(request: PortalRequest, image_id: str) -> list[Operation]:
    identity = me(request)
    # Only the requester's project's jobs: a public or community image is seen by every
    # tenant, the uploads into it (and who asked) are not theirs to see.
    return list(
        Operation.objects.of_project(identity)
        .filter(kind__in=[tasks.upload_image.name, tasks.import_image.name])
        .filter(result__image_id=image_id)
        .defer("credential")[:5]
    )


# --- create ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def create_image(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    form = CreateImageForm(request.POST or None, request.FILES or None, is_admin=identity.is_admin)
    chunked = request.headers.get("X-Upload-Mode") == "chunked"
    if request.method == "POST" and form.is_valid():
        # Before any byte is kept: a reader's upload would only be refused at its end.
        ensure_may_start(request, tasks.upload_image)
        data = form.cleaned_data
        if data["source"] == CreateImageForm.SOURCE_URL:
            if _start_import(request, form):
                return redirect("images:list-images")
        elif chunked:
            upload = _new_upload(request, form)
            return JsonResponse(_upload_state(upload), status=201)
        elif _start_file_upload(request, form):
            return redirect("images:list-images")
    context = {"form": form, "max_bytes": uploads.max_upload_bytes()}
    status = 400 if form.errors else 200
    if chunked or (request.htmx and not request.htmx.boosted):
        return render(request, "images/create.html#form", context, status=status)
    return render(request, "images/create.html", context, status=status)


def _start_import(request: PortalRequest, form: CreateImageForm) -> bool:
    if "web-download" not in _gw(request).get_import_methods():
        form.add_error("url", _("This cloud does not offer importing images from a URL."))
        return False
    spec = form.spec()
    start_operation(
        request,
        tasks.import_image,
        target_name=spec.name,
        params={"spec": spec.__dict__, "uri": form.cleaned_data["url"]},
    )
    messages.info(request, _("Glance is importing %(name)s.") % {"name": spec.name})
    return True


def _new_upload(request: PortalRequest, form: CreateImageForm) -> ImageUpload:
    identity = me(request)
    uploads.discard_stale()
    upload = ImageUpload.objects.create(
        cloud_key=identity.cloud_key,
        user_id=identity.user_id,
        project_id=identity.project_id,
        file_name=form.file_name_given()[:255],
        size=form.declared_size() or 0,
        spec=form.spec().__dict__,
    )
    upload.path.touch(mode=0o600)  # the job may open it before the first chunk arrives
    _ensure_job(request, upload)
    return upload


def _start_file_upload(request: PortalRequest, form: CreateImageForm) -> bool:
    """The form posted with the file itself (no JavaScript): Django has spooled it to a
    temporary file in blocks; it becomes the upload's file, complete."""
    received = form.cleaned_data["file"]
    head = received.read(HEAD_BYTES)
    received.seek(0)
    if problem := mismatch(form.cleaned_data["disk_format"], head):
        form.add_error("disk_format", problem)
        return False
    upload = _new_upload(request, form)
    if hasattr(received, "temporary_file_path"):
        shutil.move(received.temporary_file_path(), upload.path)
    else:
        with upload.path.open("wb") as out:
            for block in received.chunks():
                out.write(block)
    ImageUpload.objects.filter(pk=upload.pk).update(
        received=upload.size, state=ImageUpload.State.RECEIVED
    )
    messages.info(request, _("Uploading %(name)s to the cloud.") % {"name": upload.spec["name"]})
    return True


# --- the chunked upload ---------------------------------------------------------------------


def _my_upload(request: PortalRequest, upload_id: str) -> ImageUpload:
    """The signed-in user's upload with its job, in one query (a chunk is one of many)."""
    identity = me(request)
    return get_object_or_404(
        ImageUpload.objects.select_related("operation"),
        pk=upload_id,
        user_id=identity.user_id,
        cloud_key=identity.cloud_key,
    )


def _ensure_job(request: PortalRequest, upload: ImageUpload) -> Operation:
    """The upload's job, started (again) when there is none running: the first time, and
    when a browser resumes after the previous job gave up waiting."""
    op = upload.operation
    if op is not None and not op.is_finished:
        return op
    if upload.dropped:
        # The last job had sent part of the file and punched it out: this one needs it all.
        uploads.start_over(upload)
    op = start_operation(
        request,
        tasks.upload_image,
        target_name=upload.spec.get("name", ""),
        params={"upload_id": str(upload.pk)},
    )
    ImageUpload.objects.filter(pk=upload.pk).update(operation=op)
    upload.operation = op
    return op


def _upload_state(upload: ImageUpload) -> dict[str, Any]:
    op = upload.operation
    return {
        "id": str(upload.pk),
        "file_name": upload.file_name,
        "size": upload.size,
        "received": upload.received,
        "state": upload.state,
        "chunk_bytes": uploads.chunk_bytes(),
        "chunk_url": reverse("images:receive-chunk", args=[upload.pk]),
        "status_url": reverse("images:get-upload", args=[upload.pk]),
        "cancel_url": reverse("images:cancel-upload", args=[upload.pk]),
        "list_url": reverse("images:list-images"),
        "operation": op.summary() if op else None,
        "operation_url": reverse("portal:operation", args=[op.pk]) if op else None,
        "error": op.error if op else "",
    }


@require_GET
@login_required
def get_upload(request: PortalRequest, upload_id: str) -> HttpResponse:
    upload = _my_upload(request, upload_id)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(_upload_state(upload))
    return render(request, "images/upload.html", {"upload": upload, "op": upload.operation})


@require_POST
@login_required
def receive_chunk(request: PortalRequest, upload_id: str) -> HttpResponse:
    upload = _my_upload(request, upload_id)
    try:
        offset = int(request.headers.get("X-Upload-Offset", ""))
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        head = b""
        if offset == 0 and upload.is_open:
            # The file's first bytes, looked at before anything is written (the job may send
            # them on, and punch them out of the file, as soon as they are there).
            head = request.read(min(HEAD_BYTES, max(length, 0)))
            if problem := mismatch(upload.spec["disk_format"], head):
                _stop(upload, ImageUpload.State.FAILED)
                return JsonResponse({"error": problem, "field": "disk_format"}, status=415)
        body = uploads.SocketBody.of(request.META) or uploads.StreamBody(request)
        uploads.write_chunk(upload, offset, length, body, head)
    except ValueError:
        return JsonResponse({"error": _("X-Upload-Offset must be a number.")}, status=400)
    except uploads.ChunkRefused as exc:
        return JsonResponse({**_upload_state(upload), "error": exc.message}, status=exc.status)
    if upload.is_open:
        _ensure_job(request, upload)
    return JsonResponse(_upload_state(upload))


def _stop(upload: ImageUpload, state: str) -> None:
    uploads.discard(upload, state)
    if upload.operation is not None:
        cancel_operation(upload.operation)


@require_POST
@login_required
def resume_upload(request: PortalRequest, upload_id: str) -> HttpResponse:
    upload = _my_upload(request, upload_id)
    if upload.is_open:
        _ensure_job(request, upload)
    return JsonResponse(_upload_state(upload))


@require_POST
@login_required
def cancel_upload(request: PortalRequest, upload_id: str) -> HttpResponse:
    upload = _my_upload(request, upload_id)
    if upload.is_open:
        _stop(upload, ImageUpload.State.CANCELLED)
        messages.info(
            request, _("The upload of %(name)s was cancelled.") % {"name": upload.file_name}
        )
    if "application/json" in request.headers.get("Accept", ""):
        upload.refresh_from_db()
        return JsonResponse(_upload_state(upload))
    return redirect("images:list-images")


# --- edit, protect, delete -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def update_image(request: PortalRequest, image_id: str) -> HttpResponse:
    gw = _gw(request)
    image = gw.get_image(image_id)
    form = EditImageForm(
        request.POST or None,
        initial=EditImageForm.initial_for(image),
        image=image,
        is_admin=me(request).is_admin,
    )
    if request.method == "POST" and form.is_valid():
        try:
            gw.update_image(image.id, image_patch(image, form.spec()))
        except Rejected as exc:
            form.add_error(None, _("The cloud refused the change: %(reason)s") % {"reason": exc})
        else:
            message = _("Image %(name)s was updated.") % {"name": form.spec().name}
            return done(request, message, reverse("images:get-image", args=[image.id]))
    return form_page(
        request,
        form,
        title=_("Edit image %(name)s") % {"name": image.name or image.id},
        submit=_("Save changes"),
        cancel=reverse("images:get-image", args=[image.id]),
    )


def _set_protected(request: PortalRequest, image_id: str, protected: bool) -> HttpResponse:
    patch = [{"op": "replace", "path": "/protected", "value": protected}]
    try:
        image = _gw(request).update_image(image_id, patch)
    except Rejected as exc:
        messages.error(request, _("The cloud refused the change: %(reason)s") % {"reason": exc})
    else:
        text = _("%(name)s is protected.") if protected else _("%(name)s is no longer protected.")
        messages.success(request, text % {"name": image.name or image.id})
    return _back(request, reverse("images:get-image", args=[image_id]))


@require_POST
@login_required
def protect_image(request: PortalRequest, image_id: str) -> HttpResponse:
    return _set_protected(request, image_id, True)


@require_POST
@login_required
def unprotect_image(request: PortalRequest, image_id: str) -> HttpResponse:
    return _set_protected(request, image_id, False)


def _delete(request: PortalRequest, gw: ImagesGateway, image_id: str, name: str) -> bool:
    try:
        gw.delete_image(image_id)
    except CloudError as exc:
        messages.error(
            request,
            _("Image %(name)s was not deleted: %(reason)s") % {"name": name, "reason": exc},
        )
        return False
    return True


@require_POST
@login_required
def delete_image(request: PortalRequest, image_id: str) -> HttpResponse:
    name = request.POST.get("name") or image_id
    if _delete(request, _gw(request), image_id, name):
        messages.success(request, _("Image %(name)s was deleted.") % {"name": name})
        return _back(request, reverse("images:list-images"))
    return _back(request, reverse("images:get-image", args=[image_id]))


@require_POST
@login_required
def delete_images(request: PortalRequest) -> HttpResponse:
    ids = [i for i in request.POST.getlist("image_ids") if IMAGE_ID.match(i)]
    if not ids:
        # Nothing is done: an error, so the audit log records the request as refused.
        messages.error(request, _("Select the images to delete first."))
        return _back(request, reverse("images:list-images"))
    gw = _gw(request)
    deleted = sum(1 for image_id in ids if _delete(request, gw, image_id, image_id))
    if deleted:
        messages.success(
            request, _("%(n)d of %(total)d images deleted.") % {"n": deleted, "total": len(ids)}
        )
    return _back(request, reverse("images:list-images"))


# --- create a volume from an image ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def create_volume(request: PortalRequest, image_id: str) -> HttpResponse:
    gw = _gw(request)
    if not gw.has_service("block-storage"):
        raise Http404(_("This cloud has no block storage."))
    image: Image = gw.get_image(image_id)
    form = CreateVolumeForm(request.POST or None, image=image)
    if request.method == "POST" and form.is_valid():
        try:
            volume = gw.create_volume(
                image.id, form.cleaned_data["name"], form.cleaned_data["size"]
            )
        except Rejected as exc:
            form.add_error(None, _("The cloud refused the volume: %(reason)s") % {"reason": exc})
        else:
            message = _("Volume %(name)s is being created from %(image)s (status %(status)s).") % {
                "name": volume.name,
                "image": image.name,
                "status": volume.status,
            }
            return done(request, message, reverse("images:get-image", args=[image.id]))
    return form_page(
        request,
        form,
        title=_("Create a volume from %(name)s") % {"name": image.name or image.id},
        submit=_("Create volume"),
        cancel=reverse("images:get-image", args=[image.id]),
    )
