"""upload_image and import_image: the two ways data reaches a new Glance image.

Both create the image record first and keep its id in job.result, so a retried attempt
(cloud unavailable, worker lost) finds it; a failure or a cancel deletes the half-made image,
so no empty "queued" image is ever left behind.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from images.gateway import ImagesGateway, ImageSpec
from images.models import ImageUpload
from images.uploads import (
    FollowingReader,
    UploadCancelled,
    UploadStalled,
    discard,
    stall_seconds,
    start_over,
)
from portal.errors import CloudError, CloudUnavailable, NotFound, Rejected
from portal.gateways import job_gateway
from portal.operations import Job, OperationCancelled, job

logger = logging.getLogger(__name__)

# Seconds between progress reports while sending (each is one row update, and the moment a
# cancel is noticed).
PROGRESS_EVERY = 2.0
# How long an import may take before the job gives up waiting for Glance.
IMPORT_WAIT_SECONDS = 3000


def spec_from(data: dict[str, Any]) -> ImageSpec:
    values = dict(data)
    values["properties"] = tuple(tuple(p) for p in values.get("properties", ()))
    return ImageSpec(**values)


def _delete_half_made(job: Job, gw: ImagesGateway, reason: str) -> None:
    image_id = job.result.pop("image_id", None)
    if not image_id:
        return
    try:
        gw.delete_image(image_id)
    except NotFound:
        pass
    except CloudError as exc:  # it stays; say so, the user can delete it from the list
        logger.warning("could not delete half-made image %s: %s", image_id, exc)
        _log(
            job,
            _("The image %(id)s could not be deleted: %(error)s") % {"id": image_id, "error": exc},
        )
        return
    _log(job, _("Deleted the unfinished image %(id)s (%(why)s).") % {"id": image_id, "why": reason})


def _log(job: Job, text: str) -> None:
    """A log line that is saved with the job's end (job.progress would stop a cancelled job
    before its clean-up is written down)."""
    job.op.log.append([timezone.now().isoformat(timespec="seconds"), text])


def _fresh_image(job: Job, gw: ImagesGateway, spec: ImageSpec) -> str:
    """The image record to fill. Glance cannot append to a half-written image, so a record
    left by an earlier attempt is deleted and made again."""
    if job.result.get("image_id"):
        _delete_half_made(job, gw, _("a new attempt starts over"))
    image = gw.create_image(spec)
    job.result["image_id"] = image.id
    job.progress(
        step=_("Image created: %(status)s") % {"status": image.status},
        log=_("Created image %(id)s (status %(status)s)")
        % {"id": image.id, "status": image.status},
    )
    return image.id


def _start_over(job: Job, gw: ImagesGateway, upload: ImageUpload) -> None:
    """An earlier attempt of this job sent part of the file, which was punched out of it
    (images/uploads.py): the browser must send the file again. While it is still sending, its
    next chunk is told to go back to byte 0 and this attempt streams the new bytes as usual;
    once it has sent everything, nobody is there to send it again, so the job ends here and the
    upload waits for its user (the upload's page resumes it from the start)."""
    browser_done = upload.state == ImageUpload.State.RECEIVED
    start_over(upload)
    if browser_done:
        # A worker that died mid-stream left its image behind (a new attempt would replace it).
        _delete_half_made(job, gw, _("the file must be sent again"))
        raise Rejected(
            _(
                "The cloud did not take the file, and the part already sent is no longer kept "
                "by the portal. Open the upload and choose the same file to send it again."
            )
        )
    _log(job, _("The part sent by the earlier attempt is no longer kept: sending from the start."))


@job(gettext_noop("Upload image"))
def upload_image(job: Job) -> None:
    upload = ImageUpload.objects.get(pk=job.params["upload_id"])
    if not upload.is_open:
        raise Rejected(_("The upload was cancelled before it reached the cloud."))
    gw = job_gateway(job, ImagesGateway)
    if upload.dropped:
        _start_over(job, gw, upload)
    size = upload.size

    def progress(sent: int) -> None:
        job.progress(
            step=_("Saving: %(sent)s of %(size)s sent to the cloud")
            % {"sent": filesizeformat(sent), "size": filesizeformat(size)},
            percent=sent * 100 // size if size else 0,
        )

    reader = FollowingReader(upload, progress, progress_every=PROGRESS_EVERY)
    try:
        image_id = _fresh_image(job, gw, spec_from(upload.spec))
        gw.upload_image(image_id, reader)
    except UploadStalled:
        _delete_half_made(job, gw, _("the browser stopped sending"))
        upload.refresh_from_db()
        if upload.dropped:
            # What was sent is gone from the file: the upload says 0 % and the browser, when it
            # comes back, is told to send from the start.
            start_over(upload)
        raise Rejected(
            _(
                "The browser stopped sending the file for %(s)s seconds. The unfinished image "
                "was deleted; open the upload again and choose the same file to resume."
            )
            % {"s": f"{stall_seconds():g}"}
        ) from None
    except (UploadCancelled, OperationCancelled):
        _delete_half_made(job, gw, _("cancelled by the user"))
        discard(upload, ImageUpload.State.CANCELLED)
        raise OperationCancelled from None
    except CloudUnavailable:
        _delete_half_made(job, gw, _("the cloud did not answer"))
        raise  # retried: from the file, or from the browser again if bytes were punched out
    except CloudError:
        _delete_half_made(job, gw, _("the cloud refused the data"))
        discard(upload, ImageUpload.State.FAILED)
        raise
    except Exception:
        # Not ours to judge (running() records it and Celery logs it), but the half-made
        # image must not outlive the attempt.
        _delete_half_made(job, gw, _("an internal error"))
        discard(upload, ImageUpload.State.FAILED)
        raise
    finally:
        reader.close()
    image = gw.get_image(image_id)
    discard(upload, ImageUpload.State.DONE)
    job.result["status"] = image.status
    job.progress(
        step=_("Image is %(status)s") % {"status": image.status},
        percent=100,
        log=_("Sent %(size)s; Glance reports %(status)s")
        % {"size": filesizeformat(size), "status": image.status},
    )


def _import_failure(gw: ImagesGateway, image_id: str, doc_status: str) -> str:
    tasks = gw.list_image_tasks(image_id)
    failed = [t.message for t in tasks if t.status == "failure" and t.message]
    if failed:
        return failed[0]
    return _("Glance stopped the import (image status %(status)s).") % {"status": doc_status}


@job(gettext_noop("Import image from URL"))
def import_image(job: Job) -> None:
    gw = job_gateway(job, ImagesGateway)
    spec, uri = spec_from(job.params["spec"]), job.params["uri"]
    try:
        if not job.result.get("import_started"):
            image_id = _fresh_image(job, gw, spec)
            gw.import_image(image_id, uri)
            job.result["import_started"] = True
            job.progress(
                step=_("Glance is downloading %(uri)s") % {"uri": uri},
                percent=10,
                log=_("Import (web-download) started"),
            )
        image_id = job.result["image_id"]
        deadline = time.monotonic() + IMPORT_WAIT_SECONDS
        while True:
            image = gw.get_image(image_id)
            props = dict(image.properties)
            if image.status == "active":
                break
            if image.status in {"killed", "deleted", "deactivated"} or props.get(
                "os_glance_failed_import"
            ):
                raise Rejected(_import_failure(gw, image_id, image.status))
            # Glance drops the task property when the import ends; back to queued with no
            # task means it ended badly (its task says why).
            if (
                image.status == "queued"
                and not props.get("os_glance_import_task")
                and any(t.status == "failure" for t in gw.list_image_tasks(image_id))
            ):
                raise Rejected(_import_failure(gw, image_id, image.status))
            if time.monotonic() > deadline:
                raise Rejected(_("Glance did not finish the import in time."))
            job.progress(
                step=_("Image is %(status)s") % {"status": image.status},
                percent=50 if image.status == "importing" else 20,
            )
            time.sleep(2)
    except CloudUnavailable:
        raise  # retried: the image id is kept in the result
    except (CloudError, OperationCancelled) as exc:
        reason = _("cancelled by the user") if isinstance(exc, OperationCancelled) else str(exc)
        _delete_half_made(job, gw, reason)
        raise
    job.result["status"] = image.status
    job.progress(step=_("Image is active"), percent=100, log=_("Import finished"))
