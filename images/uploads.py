"""Chunked, resumable uploads: the one file on disk between the browser and Glance.

The browser sends the file in chunks (POST, raw body, `X-Upload-Offset: <first byte>`); each
chunk is copied straight from the request into ONE file under the upload folder (under
gunicorn, straight from its socket: SocketBody), and `received` moves on once the chunk is
whole. A dropped chunk is simply sent again from
`received`, which the browser can ask for at any time. Meanwhile the upload_image job reads the
same file with a FollowingReader that hands Glance the bytes already received and waits for
the rest, so the image is streamed straight through: neither process ever holds more than a
block.

Bytes the job has handed to Glance are punched out of the file (fallocate PUNCH_HOLE), so the
page cache drops them before the kernel writes them back: the temporary copy of a large image
never reaches the disk, which Glance's own store is writing at the same moment. The price:
Glance cannot continue a half-written image, so a new attempt (the cloud did not answer, the
worker was lost, the browser went silent) needs the file again, and the punched bytes are gone.
The upload then starts over (`start_over`): `received` goes back to 0 and the browser, told so
at its next chunk or when the user resumes, sends the file again from the start.
"""

from __future__ import annotations

import ctypes
import errno
import io
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from images.models import ImageUpload

logger = logging.getLogger(__name__)

# Bytes per read from the request: the one buffer a chunk goes through on its way to the file.
# Where a server's own body reader is used (StreamBody), 1 MiB suits gunicorn's best: it
# receives up to 1 MiB at a time and copies what it hands out; reading less makes it copy the
# rest again for every read (256 KiB: 3x the CPU), reading more makes it join pieces (8 MiB: 2x).
BODY_BLOCK = 1024 * 1024
BLOCK = 1024 * 1024
# The job punches out what it has sent in steps of this many bytes.
RELEASE_STEP = 4 * 1024 * 1024
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
    """A request body, read into the caller's buffer: 0 at its end."""

    def readinto(self, buffer: memoryview, /) -> int: ...


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class StreamBody:
    """Any WSGI input (Django's request): its read() blocks, copied into the buffer."""

    def __init__(self, stream: Readable) -> None:
        self.stream = stream

    def readinto(self, buffer: memoryview, /) -> int:
        block = self.stream.read(len(buffer))
        buffer[: len(block)] = block
        return len(block)


class SocketBody:
    """The rest of a request body, received straight from gunicorn's client socket.

    gunicorn (the portal's server: bin/demo, the Dockerfile) hands the application a body
    reader that copies each block several times through its buffers, most of the web
    process's CPU for a chunk of an image (gthread worker, 1 MiB reads: 1.2 to 1.6 CPU-s per
    GiB; received straight from the socket: 0.6 to 0.7). Its environ also carries the client's
    socket. For a body of known length (a LengthReader over a SocketUnreader) this takes what
    its reader holds already, then receives the rest from the socket, and keeps the reader's
    count of the bytes still on the socket true at every step: whatever is left unread (a
    refused chunk) is drained by gunicorn as usual before the next request on the connection.
    """

    def __init__(self, held: bytes, sock: socket.socket, reader: Any) -> None:
        self.held, self.sock, self.reader = held, sock, reader

    @classmethod
    def of(cls, environ: dict[str, Any]) -> SocketBody | None:
        """The body of this gunicorn request, or None when it is not one we can take over."""
        sock, body = environ.get("gunicorn.socket"), environ.get("wsgi.input")
        if sock is None or body is None or body.__class__.__module__ != "gunicorn.http.body":
            return None
        reader: Any = getattr(body, "reader", None)
        unreader: Any = getattr(reader, "unreader", None)
        if (
            type(body).__name__ != "Body"
            or type(reader).__name__ != "LengthReader"
            or type(unreader).__name__ != "SocketUnreader"
            or getattr(unreader, "sock", None) is not sock
        ):
            return None
        # Bytes the Body holds were counted off the reader's length already; bytes its
        # unreader holds were not.
        held = body.buf.getvalue()
        body.buf = io.BytesIO()
        buffered = unreader.take_buffered()
        reader.length -= len(buffered)
        return cls(held + buffered, sock, reader)

    def readinto(self, buffer: memoryview, /) -> int:
        if self.held:
            n = min(len(self.held), len(buffer))
            buffer[:n] = self.held[:n]
            self.held = self.held[n:]
            return n
        want = min(len(buffer), self.reader.length)
        if want <= 0:
            return 0
        n = self.sock.recv_into(buffer, want)
        self.reader.length -= n
        return n


def write_chunk(
    upload: ImageUpload, offset: int, length: int, body: Body, first: bytes = b""
) -> int:
    """Copy `length` bytes (`first`, already taken from the body, then the rest of `body`) to
    the upload file at `offset`; returns the new received.

    A chunk may start anywhere up to `received` (a resend after a dropped connection
    overwrites bytes with the same bytes), never beyond it: there must be no hole.
    """
    if not upload.is_open:
        raise ChunkRefused(_("This upload is over."), 410)
    if offset < 0:
        # os.pwrite refuses a negative position with EINVAL: refuse it before the file opens.
        raise ChunkRefused(_("X-Upload-Offset must be 0 or more."), 400)
    if offset > upload.received:
        raise ChunkRefused(_("Chunk out of order: send from byte %(n)d.") % {"n": upload.received})
    if length <= 0 or offset + length > upload.size or length > 4 * chunk_bytes():
        raise ChunkRefused(_("The chunk does not fit the declared file size."), 400)
    try:
        # No O_CREAT: the file is made with the upload (and by start_over); a chunk that
        # arrives after the upload started over must not bring the old file back.
        fd = os.open(upload.path, os.O_WRONLY)
    except FileNotFoundError:
        upload.refresh_from_db(fields=["received", "state", "restarts"])
        raise ChunkRefused(
            _("Chunk out of order: send from byte %(n)d.") % {"n": upload.received}
        ) from None
    try:
        copied = _copy(first, body, fd, offset, length)
    finally:
        os.close(fd)
    if copied < length:
        raise ChunkRefused(_("The chunk arrived incomplete; send it again."), 400)
    end = offset + length
    # Only ever forwards (a late duplicate of an earlier chunk must not move it back), and only
    # when the chunk still joins what the file holds (the upload may have started over while
    # it was on its way).
    moved = ImageUpload.objects.filter(
        pk=upload.pk,
        state=ImageUpload.State.RECEIVING,
        restarts=upload.restarts,
        received__gte=offset,
        received__lt=end,
    ).update(
        received=end,
        state=Case(
            When(size=end, then=Value(ImageUpload.State.RECEIVED)),
            default=F("state"),
        ),
        updated_at=timezone.now(),
    )
    if moved:
        upload.received = end
        if end == upload.size:
            upload.state = ImageUpload.State.RECEIVED
    else:
        upload.refresh_from_db(fields=["received", "state", "restarts"])
    return upload.received


def _copy(first: bytes, body: Body, fd: int, offset: int, length: int) -> int:
    """Write `first`, then the body, at `offset` until `length` bytes: one buffer, reused."""
    copied = _write_all(fd, memoryview(first)[:length], offset)
    buffer = memoryview(bytearray(min(BODY_BLOCK, max(length - copied, 0))))
    while copied < length:
        n = body.readinto(buffer[: length - copied])
        if not n:
            break
        copied += _write_all(fd, buffer[:n], offset + copied)
    return copied


def _write_all(fd: int, data: memoryview, at: int) -> int:
    done = 0
    while done < len(data):  # pwrite may write less than asked (a signal): go on from there
        done += os.pwrite(fd, data[done:], at + done)
    return done


def start_over(upload: ImageUpload) -> None:
    """The file lost bytes already sent (punched out) and a new attempt needs all of them:
    the upload goes back to byte 0 in a new, empty file (the next name, so that a chunk still
    on its way to the old file cannot land in it), and the browser is told to send the file
    again from the start (its next chunk is refused with `received` 0)."""
    old = upload.path
    ImageUpload.objects.filter(pk=upload.pk).update(
        received=0,
        dropped=False,
        restarts=F("restarts") + 1,
        state=ImageUpload.State.RECEIVING,
        updated_at=timezone.now(),
    )
    upload.refresh_from_db()
    upload.path.touch(mode=0o600)
    old.unlink(missing_ok=True)


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


_PUNCH_HOLE = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE (linux/falloc.h)
_fallocate = getattr(ctypes.CDLL(None, use_errno=True), "fallocate", None)
if _fallocate is not None:
    _fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


def punch_hole(fd: int, offset: int, length: int) -> bool:
    """Deallocate a range of a file (its size stays): its pages leave the page cache, dirty
    or not, without being written back, and it reads as zeros afterwards. False when the
    file system or the platform cannot (then nothing changed)."""
    if _fallocate is None:
        return False
    if _fallocate(fd, _PUNCH_HOLE, offset, length) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code))


class FollowingReader:
    """A file-like view of an upload that is still arriving: read() returns the bytes on disk
    and blocks for bytes not yet written. len() is the declared size, so the HTTP client sends
    a Content-Length and streams read() blocks as they come.

    Bytes are available as soon as they are in the file (the size on disk, looked at every
    few milliseconds): a chunk is copied in order, and a chunk sent again after a dropped
    connection writes the same bytes at the same place, so whatever is in the file up to its
    size is the file's content. The row is looked at less often, for a cancel and for the
    stall limit.

    What an earlier read() returned has been handed to the HTTP client (it asks for the next
    block only once it has sent the last one), so it is punched out of the file in steps of
    RELEASE_STEP; the row says so (`dropped`) before the first byte goes.
    """

    POLL = 0.005  # seconds between looks at the file's size while waiting
    # read(n) returns up to this much even when asked for less: urllib3 asks for 16 KiB at a
    # time and sends whatever it gets; 1 MiB sends cost the worker far fewer calls, and
    # memory stays flat.
    BLOCK = BLOCK
    ROW_EVERY = 0.25  # seconds between looks at the upload row while waiting
    PUNCH = True  # punch out what was sent (tests turn it off to see the file whole)

    def __init__(
        self,
        upload: ImageUpload,
        on_progress: Callable[[int], None],
        progress_every: float = 2.0,
    ) -> None:
        self.upload_id = upload.pk
        self.size = upload.size
        # Read and write: punching a hole needs a descriptor open for writing.
        self.fd = os.open(upload.path, os.O_RDWR)
        self.available = min(os.fstat(self.fd).st_size, self.size)
        self.pos = 0
        self.released = 0  # bytes punched out of the file so far
        self.punching = self.PUNCH
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.last_report = time.monotonic()

    def __len__(self) -> int:
        return self.size

    def close(self) -> None:
        os.close(self.fd)

    def _check_row(self) -> None:
        state = ImageUpload.objects.filter(pk=self.upload_id).values_list("state", flat=True)
        if state.first() not in OPEN_STATES:
            raise UploadCancelled

    def _wait_for_bytes(self) -> None:
        stalled_since = last_row = time.monotonic()
        self._check_row()
        while True:
            on_disk = min(os.fstat(self.fd).st_size, self.size)
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

    def _release(self) -> None:
        """Punch out what was handed to the HTTP client, up to the last whole step."""
        upto = self.pos - self.pos % RELEASE_STEP
        if not self.punching or upto <= self.released:
            return
        if not self.released:
            # Said before it happens: a worker killed right after the punch still leaves a row
            # that tells the next attempt the file is no longer whole.
            ImageUpload.objects.filter(pk=self.upload_id).update(dropped=True)
        if punch_hole(self.fd, self.released, upto - self.released):
            self.released = upto
            return
        logger.info("upload folder cannot punch holes: the upload file is kept whole")
        self.punching = False
        if not self.released:
            ImageUpload.objects.filter(pk=self.upload_id).update(dropped=False)

    def read(self, size: int = -1, /) -> bytes:
        if self.pos >= self.size:
            return b""
        self._release()
        if self.pos >= self.available:
            self._wait_for_bytes()
        want = self.available - self.pos
        if size is not None and size >= 0:
            want = min(want, max(size, self.BLOCK))
        data = os.pread(self.fd, want, self.pos)
        self.pos += len(data)
        self._report(force=False)
        return data
