"""Chunked, resumable uploads: the one file on disk between the browser and Glance.

The browser sends the file in chunks (POST, raw body, `X-Upload-Offset: <first byte>`); each
chunk is copied in 1 MiB blocks into ONE file under the upload folder and `received` moves
on once the chunk is whole. A dropped chunk is simply sent again from `received`, which the
browser can ask for at any time. Meanwhile the upload_image job reads the same file with a
FollowingReader that hands Glance the bytes already received and waits for the rest, so the
image is streamed straight through: neither process ever holds more than a block.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from images.models import ImageUpload

BLOCK = 1024 * 1024
OPEN_STATES = (ImageUpload.State.RECEIVING, ImageUpload.State.RECEIVED)


def max_upload_bytes() -> int:
    """STACKDESK_IMAGE_UPLOAD_MAX_BYTES: the largest file the portal accepts."""
    return settings.STACKDESK_IMAGE_UPLOAD_MAX_BYTES


def chunk_bytes() -> int:
    """The chunk size the browser is told to use (it may send less, never more than 4x)."""
    return settings.STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES


def stall_seconds() -> float:
    """How long the upload job waits for the next bytes before it gives Glance up (Glance's
    server drops an idle request body after its own socket timeout, 60 s on the devcloud);
    the upload resumes in a new job when the browser comes back."""
    return settings.STACKDESK_IMAGE_UPLOAD_STALL_SECONDS


class ChunkRefused(Exception):
    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class UploadStalled(Exception):
    """No new bytes for stall_seconds(): the browser went away (for now)."""


class UploadCancelled(Exception):
    """The user cancelled the upload while the job was sending it."""


class Body(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def write_chunk(upload: ImageUpload, offset: int, length: int, body: Body) -> int:
    """Copy `length` bytes of `body` to the upload file at `offset`; returns the new received.

    A chunk may start anywhere up to `received` (a resend after a dropped connection
    overwrites bytes with the same bytes), never beyond it: there must be no hole.
    """
    if not upload.is_open:
        raise ChunkRefused(_("This upload is over."), 410)
    if offset > upload.received:
        raise ChunkRefused(_("Chunk out of order: send from byte %(n)d.") % {"n": upload.received})
    if length <= 0 or offset + length > upload.size or length > 4 * chunk_bytes():
        raise ChunkRefused(_("The chunk does not fit the declared file size."), 400)
    mode = "r+b" if upload.path.exists() else "wb"
    copied = 0
    with upload.path.open(mode) as out:
        out.seek(offset)
        while copied < length:
            block = body.read(min(BLOCK, length - copied))
            if not block:
                break
            out.write(block)
            copied += len(block)
    if copied < length:
        raise ChunkRefused(_("The chunk arrived incomplete; send it again."), 400)
    end = offset + length
    # Only ever forwards: a late duplicate of an earlier chunk must not move it back.
    ImageUpload.objects.filter(pk=upload.pk, received__lt=end).update(
        received=end, updated_at=timezone.now()
    )
    upload.refresh_from_db(fields=["received", "state"])
    if upload.received == upload.size and upload.state == ImageUpload.State.RECEIVING:
        ImageUpload.objects.filter(pk=upload.pk).update(state=ImageUpload.State.RECEIVED)
        upload.state = ImageUpload.State.RECEIVED
    return upload.received


def read_head(upload: ImageUpload, n: int) -> bytes:
    with upload.path.open("rb") as f:
        return f.read(n)


def discard(upload: ImageUpload, state: str) -> None:
    upload.path.unlink(missing_ok=True)
    ImageUpload.objects.filter(pk=upload.pk).update(state=state, updated_at=timezone.now())


def discard_stale(hours: int = 24) -> int:
    """Forget uploads nobody has touched for a day (the browser never came back)."""
    cutoff = timezone.now() - timedelta(hours=hours)
    stale = ImageUpload.objects.filter(
        state__in=[ImageUpload.State.RECEIVING, ImageUpload.State.RECEIVED],
        updated_at__lt=cutoff,
    )
    count = 0
    for upload in stale:
        discard(upload, ImageUpload.State.CANCELLED)
        count += 1
    return count


class FollowingReader:
    """A file-like view of an upload that is still arriving: read() returns the bytes on disk
    and blocks for bytes not yet written. len() is the declared size, so the HTTP client sends
    a Content-Length and streams read() blocks as they come.

    Bytes are available as soon as they are in the file (the size on disk, looked at every
    few milliseconds): a chunk is copied in order, and a chunk sent again after a dropped
    connection writes the same bytes at the same place, so whatever is in the file up to its
    size is the file's content. The row is looked at less often, for a cancel and for the
    stall limit.
    """

    POLL = 0.005  # seconds between looks at the file's size while waiting
    # read(n) returns up to this much even when asked for less: urllib3 asks for 16 KiB at a
    # time and sends whatever it gets; 1 MiB sends cost the worker far fewer calls, and
    # memory stays flat.
    BLOCK = BLOCK
    ROW_EVERY = 0.25  # seconds between looks at the upload row while waiting

    def __init__(
        self,
        upload: ImageUpload,
        on_progress: Callable[[int], None],
        progress_every: float = 2.0,
    ) -> None:
        self.upload_id = upload.pk
        self.size = upload.size
        self.file: Any = upload.path.open("rb")
        self.available = min(os.fstat(self.file.fileno()).st_size, self.size)
        self.pos = 0
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.last_report = time.monotonic()

    def __len__(self) -> int:
        return self.size

    def close(self) -> None:
        self.file.close()

    def _check_row(self) -> None:
        state = ImageUpload.objects.filter(pk=self.upload_id).values_list("state", flat=True)
        if state.first() not in OPEN_STATES:
            raise UploadCancelled

    def _wait_for_bytes(self) -> None:
        stalled_since = last_row = time.monotonic()
        self._check_row()
        while True:
            on_disk = min(os.fstat(self.file.fileno()).st_size, self.size)
            if on_disk > self.pos:
                self.available = on_disk
                return
            now = time.monotonic()
            if now - stalled_since > stall_seconds():
                raise UploadStalled
            if now - last_row >= self.ROW_EVERY:
                last_row = now
                self._check_row()
                self._report(force=False)
            time.sleep(self.POLL)

    def _report(self, force: bool) -> None:
        now = time.monotonic()
        if force or now - self.last_report >= self.progress_every:
            self.last_report = now
            self.on_progress(self.pos)

    def read(self, size: int = -1, /) -> bytes:
        if self.pos >= self.size:
            return b""
        if self.pos >= self.available:
            self._wait_for_bytes()
        want = self.available - self.pos
        if size is not None and size >= 0:
            want = min(want, max(size, self.BLOCK))
        data: bytes = self.file.read(want)
        self.pos += len(data)
        self._report(force=False)
        return data
