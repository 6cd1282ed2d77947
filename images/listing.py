"""Filtering and sorting an image list (a GET form), and what the list page shows beside the
images: uploads still coming from the browser and the jobs still filling images."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from images import tasks
from images.formats import DISK_FORMATS
from images.gateway import Image
from images.models import ImageUpload
from portal.identity import PortalRequest, me
from portal.models import Operation

SORTS: dict[str, tuple[Any, Callable[[Image], Any]]] = {
    "name": (_("Name"), lambda i: (i.name.lower(), i.id)),
    "status": (_("Status"), lambda i: (i.status, i.name.lower())),
    "size": (_("Size"), lambda i: (i.size or 0, i.name.lower())),
    "created": (_("Created"), lambda i: (i.created_at, i.id)),
    "owner": (_("Owner"), lambda i: (i.owner, i.name.lower())),
}
STATUSES = ["active", "queued", "saving", "importing", "deactivated", "killed"]
VISIBILITIES = ["private", "shared", "community", "public"]


@dataclass(frozen=True)
class Listing:
    images: list[Image]
    admin: bool
    owners: dict[str, str]


def filter_and_sort(images: list[Image], query: Mapping[str, str]) -> list[Image]:
    q = query.get("q", "").strip().lower()
    wanted = {
        "status": query.get("status", ""),
        "visibility": query.get("visibility", ""),
        "disk_format": query.get("disk_format", ""),
        "image_type": query.get("type", ""),
    }
    found = [
        i
        for i in images
        if (not q or q in i.name.lower() or q == i.id)
        and all(not v or getattr(i, k) == v for k, v in wanted.items())
    ]
    sort = query.get("sort", "name")
    key = SORTS.get(sort.lstrip("-"), SORTS["name"])[1]
    return sorted(found, key=key, reverse=sort.startswith("-"))


def _uploads_and_jobs(request: PortalRequest) -> tuple[list[ImageUpload], dict[str, Operation]]:
    identity = me(request)
    open_uploads = list(
        ImageUpload.objects.filter(
            cloud_key=identity.cloud_key,
            project_id=identity.project_id,
            state__in=[ImageUpload.State.RECEIVING, ImageUpload.State.RECEIVED],
        ).select_related("operation")
    )
    jobs = (
        Operation.objects.of_project(identity)
        .active()
        .filter(kind__in=[tasks.upload_image.name, tasks.import_image.name])
        .defer("credential")
    )
    by_image = {str(op.result["image_id"]): op for op in jobs if op.result.get("image_id")}
    return open_uploads, by_image


def list_context(request: PortalRequest, listing: Listing) -> dict[str, Any]:
    open_uploads, jobs = _uploads_and_jobs(request)
    rows = [
        (image, jobs.get(image.id), listing.owners.get(image.owner, "")) for image in listing.images
    ]
    live_uploads = any(u.operation and not u.operation.is_finished for u in open_uploads)
    # Poll while the project's own images are on their way. Another project's image left
    # "queued" (created, never uploaded) stays so for ever and must not keep every tenant's
    # page polling.
    project_id = me(request).project_id
    busy = (
        live_uploads
        or bool(jobs)
        or any(i.is_busy and i.owner == project_id for i in listing.images)
    )
    sort = request.GET.get("sort", "name")
    return {
        "rows": rows,
        "admin": listing.admin,
        "uploads": open_uploads,
        "busy": busy,
        "query": request.GET,
        "sort": sort,
        "sorts": [(k, label) for k, (label, _key) in SORTS.items()],
        "statuses": STATUSES,
        "visibilities": VISIBILITIES,
        "disk_formats": DISK_FORMATS,
        "project_id": me(request).project_id,
    }
