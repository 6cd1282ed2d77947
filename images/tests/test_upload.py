"""The chunked, resumable upload and the upload_image job, against the fake Glance."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from images import uploads
from images.models import ImageUpload
from images.tasks import spec_from, upload_image
from images.tests.fakes import FakeImagesGateway
from images.uploads import FollowingReader
from portal.errors import CloudUnavailable, Rejected
from portal.models import Operation

pytestmark = pytest.mark.django_db

CHUNK = 64 * 1024  # the tests' configured chunk size
DATA = b"QFI\xfb\x00\x00\x00\x03" + bytes(range(256)) * 1000  # 256 008 bytes: 4 chunks
MD5 = hashlib.md5(DATA, usedforsecurity=False).hexdigest()


@pytest.fixture(autouse=True)
def small_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's reader hands out at most 16 KiB at a time here (1 MiB in production) and
    punches out what it sent in 16 KiB steps (4 MiB), so a test file of a few chunks is still
    read, and released, in many blocks."""
    monkeypatch.setattr(FollowingReader, "BLOCK", 16 * 1024)
    monkeypatch.setattr(uploads, "RELEASE_STEP", 16 * 1024)


@pytest.fixture
def punching(upload_settings: Path) -> None:
    """The tests about punched-out bytes need a file system that can punch holes (ext4, xfs,
    btrfs, tmpfs can); elsewhere the portal keeps the file whole, as another test shows."""
    upload_settings.mkdir(parents=True, exist_ok=True)
    probe = upload_settings / "probe"
    probe.write_bytes(b"x" * 8192)
    fd = os.open(probe, os.O_RDWR)
    try:
        if not uploads.punch_hole(fd, 0, 4096):
            pytest.skip("the test folder's file system cannot punch holes")
    finally:
        os.close(fd)
        probe.unlink()


def start(client: Client, data: bytes = DATA, **changes: str) -> dict[str, Any]:
    fields = {
        "name": "cirros",
        "source": "file",
        "disk_format": "qcow2",
        "container_format": "bare",
        "min_disk": "0",
        "min_ram": "0",
        "visibility": "private",
        "file_name": "cirros.qcow2",
        "file_size": str(len(data)),
        **changes,
    }
    response = client.post("/images/create/", fields, headers={"X-Upload-Mode": "chunked"})
    assert response.status_code == 201, response.content.decode()[:2000]
    state: dict[str, Any] = response.json()
    return state


def send(client: Client, state: dict[str, Any], data: bytes, offset: int, end: int) -> Any:
    return client.post(
        state["chunk_url"],
        data[offset:end],
        content_type="application/octet-stream",
        headers={"X-Upload-Offset": str(offset)},
    )


def send_all(client: Client, state: dict[str, Any], data: bytes, offset: int = 0) -> None:
    while offset < len(data):
        response = send(client, state, data, offset, offset + CHUNK)
        assert response.status_code == 200, response.content
        offset = response.json()["received"]


def run_job(upload: ImageUpload) -> Operation:
    upload.refresh_from_db()
    assert upload.operation is not None
    upload_image(upload.operation.pk)
    upload.operation.refresh_from_db()
    return upload.operation


def test_chunked_upload_end_to_end(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as sent:
        state = start(member_client)
    assert len(sent) == 1  # the job is queued at once: it streams while the chunks arrive
    assert (state["received"], state["size"], state["chunk_bytes"]) == (0, len(DATA), CHUNK)
    upload = ImageUpload.objects.get()
    assert upload.spec["name"] == "cirros" and upload.operation is not None

    send_all(member_client, state, DATA)

    upload.refresh_from_db()
    assert upload.state == "received" and upload.path.read_bytes() == DATA
    listing = member_client.get("/images/").content.decode()
    assert "Uploads from your browser" in listing and "(100%)" in listing

    op = run_job(upload)
    assert op.state == "succeeded", (op.error, op.log)
    (doc,) = fake.images.values()
    assert doc["status"] == "active" and doc["size"] == len(DATA)
    assert op.result["image_id"] == doc["id"] and op.result["status"] == "active"
    assert fake.largest_read <= 64 * 1024 < len(DATA)  # streamed in blocks, never whole
    upload.refresh_from_db()
    assert upload.state == "done" and not upload.path.exists()
    assert "Uploads from your browser" not in member_client.get("/images/").content.decode()


def test_resume_after_a_dropped_chunk(member_client: Client, fake: FakeImagesGateway) -> None:
    state = start(member_client)
    assert send(member_client, state, DATA, 0, CHUNK).json()["received"] == CHUNK
    # A chunk from beyond what the portal has is refused with where to go on from.
    skipped = send(member_client, state, DATA, 2 * CHUNK, 3 * CHUNK)
    assert skipped.status_code == 409 and skipped.json()["received"] == CHUNK
    # The browser asks, as it does after a dropped connection, and sends again.
    status = member_client.get(state["status_url"], headers={"Accept": "application/json"})
    assert status.json()["received"] == CHUNK
    # A chunk sent twice (the answer was lost) is harmless.
    assert send(member_client, state, DATA, 0, CHUNK).json()["received"] == CHUNK
    send_all(member_client, state, DATA, offset=CHUNK)
    upload = ImageUpload.objects.get()
    assert upload.path.read_bytes() == DATA
    assert run_job(upload).state == "succeeded"
    assert next(iter(fake.images.values()))["size"] == len(DATA)


def test_chunks_that_do_not_fit_are_refused(member_client: Client, fake: FakeImagesGateway) -> None:
    state = start(member_client)
    too_far = send(member_client, state, DATA + b"extra", 0, len(DATA) + 5)
    assert too_far.status_code == 400
    assert "does not fit the declared file size" in too_far.json()["error"]
    no_offset = member_client.post(
        state["chunk_url"], b"x", content_type="application/octet-stream"
    )
    assert no_offset.status_code == 400
    assert member_client.get(state["chunk_url"]).status_code == 405  # POST only


def test_wrong_format_is_refused_at_the_first_chunk(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    random_bytes = bytes(range(256)) * 512
    with django_capture_on_commit_callbacks(execute=False):
        state = start(member_client, random_bytes)
        response = send(member_client, state, random_bytes, 0, CHUNK)
    assert response.status_code == 415
    assert response.json() == {
        "error": "The file is not a QCOW2 image (it has no QCOW2 header).",
        "field": "disk_format",
    }
    upload = ImageUpload.objects.get()
    assert upload.state == "failed" and not upload.path.exists()
    assert upload.operation is not None
    upload.operation.refresh_from_db()
    assert upload.operation.state == "cancelled"
    later = send(member_client, state, random_bytes, CHUNK, 2 * CHUNK)
    assert later.status_code == 410


def test_glance_refusal_fails_the_job_with_its_reason_and_leaves_no_image(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    # Past the portal's look at the first bytes, Glance inspects the whole stream.
    state = start(member_client, DATA, disk_format="vhd")
    send_all(member_client, state, DATA)
    fake.failures["upload_image"] = Rejected(
        "415 Unsupported Media Type: Image disk_format vhd does not match stream data qcow2",
        415,
    )
    op = run_job(ImageUpload.objects.get())
    assert op.state == "failed"
    assert "Image disk_format vhd does not match stream data qcow2" in op.error
    assert fake.images == {}  # no orphaned image
    upload = ImageUpload.objects.get()
    assert upload.state == "failed" and not upload.path.exists()
    listing = member_client.get("/images/").content.decode()
    assert "Uploads from your browser" not in listing


def test_quota_refusal(member_client: Client, fake: FakeImagesGateway) -> None:
    fake.failures["create_image"] = Rejected("413 Request Entity Too Large: image quota", 413)
    state = start(member_client)
    send_all(member_client, state, DATA)
    op = run_job(ImageUpload.objects.get())
    assert op.state == "failed" and "image quota" in op.error and fake.images == {}


def test_a_browser_that_stops_sending_is_given_up_and_can_resume(
    member_client: Client,
    fake: FakeImagesGateway,
    django_capture_on_commit_callbacks: Any,
    punching: None,
) -> None:
    state = start(member_client)
    send(member_client, state, DATA, 0, 2 * CHUNK)
    upload = ImageUpload.objects.get()
    first = run_job(upload)  # the job sends what there is, then waits 0.5 s in vain
    assert first.state == "failed"
    assert "The browser stopped sending the file for 0.5 seconds" in first.error
    assert fake.images == {}  # the half-made image was deleted
    upload.refresh_from_db()
    # The bytes sent to Glance had been punched out of the file: the upload started over.
    assert (upload.state, upload.received, upload.restarts) == ("receiving", 0, 1)
    assert upload.path.read_bytes() == b""

    # The browser comes back: its next chunk is told "from byte 0"; the first chunk starts a
    # new job and the browser sends the whole file again.
    back = send(member_client, state, DATA, 2 * CHUNK, 3 * CHUNK)
    assert back.status_code == 409 and back.json()["received"] == 0
    with django_capture_on_commit_callbacks(execute=False) as sent:
        send_all(member_client, state, DATA, offset=0)
    assert len(sent) == 1
    second = run_job(upload)
    assert second.pk != first.pk and second.state == "succeeded"
    assert next(iter(fake.images.values()))["checksum"] == MD5


def test_cloud_unavailable_retries_from_the_file(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    state = start(member_client)
    send_all(member_client, state, DATA)
    fake.failures["upload_image"] = CloudUnavailable("503 Service Unavailable")
    upload = ImageUpload.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        op = run_job(upload)
    assert op.state == "queued" and "retrying in 5 s" in op.log[-1][1]
    assert fake.images == {} and upload.path.exists()
    del fake.failures["upload_image"]
    op = run_job(upload)
    assert op.state == "succeeded" and op.attempts == 2
    assert len(fake.images) == 1


def test_cancel_an_upload(member_client: Client, fake: FakeImagesGateway) -> None:
    state = start(member_client)
    send(member_client, state, DATA, 0, CHUNK)
    upload = ImageUpload.objects.get()
    response = member_client.post(state["cancel_url"], headers={"Accept": "application/json"})
    assert response.json()["state"] == "cancelled"
    upload.refresh_from_db()
    assert upload.state == "cancelled" and not upload.path.exists()
    assert upload.operation is not None
    op = run_job(upload)
    assert op.state == "cancelled" and fake.images == {}  # the job never made an image


def test_cancel_while_the_job_sends(
    member_client: Client, fake: FakeImagesGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("images.tasks.PROGRESS_EVERY", 0)
    state = start(member_client)
    send_all(member_client, state, DATA)
    upload = ImageUpload.objects.get()

    def cancel_midway(image_id: str, data: Any) -> None:
        data.read(CHUNK)
        member_client.post(state["cancel_url"])
        data.read(CHUNK)  # the job notices on its next look at the row

    fake.upload_image = cancel_midway  # type: ignore[method-assign]
    upload.refresh_from_db()
    upload.path.write_bytes(DATA)
    op = run_job(upload)
    assert op.state == "cancelled" and fake.images == {}
    assert any("cancelled by the user" in line for _t, line in op.log)


def test_uploads_are_private_to_their_user(
    member_client: Client, outsider_client: Client, fake: FakeImagesGateway
) -> None:
    state = start(member_client)
    assert outsider_client.get(state["status_url"]).status_code == 404
    assert send(outsider_client, state, DATA, 0, CHUNK).status_code == 404
    assert outsider_client.post(state["cancel_url"]).status_code == 404
    page = member_client.get(state["status_url"]).content.decode()
    assert "Choose the same file to continue the upload" in page and "cirros.qcow2" in page


def test_resume_starts_a_new_job_when_the_last_one_ended(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    state = start(member_client)
    send_all(member_client, state, DATA)
    upload = ImageUpload.objects.get()
    assert upload.operation is not None
    first = upload.operation
    resumed = member_client.post(f"/images/uploads/{upload.pk}/resume/")
    assert resumed.json()["operation"]["id"] == first.pk  # still queued: nothing new
    Operation.objects.filter(pk=first.pk).update(state="failed", error="gave up")
    with django_capture_on_commit_callbacks(execute=False) as sent:
        resumed = member_client.post(f"/images/uploads/{upload.pk}/resume/")
    assert len(sent) == 1 and resumed.json()["operation"]["id"] != first.pk
    assert run_job(upload).state == "succeeded" and len(fake.images) == 1


def test_bytes_sent_to_glance_leave_the_file(
    member_client: Client, fake: FakeImagesGateway, punching: None
) -> None:
    state = start(member_client)
    send_all(member_client, state, DATA)
    upload = ImageUpload.objects.get()
    seen: dict[str, Any] = {}
    glance = fake.upload_image

    def glance_then_look(image_id: str, data: Any) -> None:
        glance(image_id, data)  # reads the whole file, block by block
        fd = os.open(upload.path, os.O_RDONLY)
        try:
            seen["first_data"] = os.lseek(fd, 0, os.SEEK_DATA)
            seen["size"] = os.fstat(fd).st_size
            seen["head"] = os.pread(fd, CHUNK, 0)
        finally:
            os.close(fd)
        seen["dropped"] = ImageUpload.objects.get(pk=upload.pk).dropped

    fake.upload_image = glance_then_look  # type: ignore[method-assign]
    op = run_job(upload)
    assert op.state == "succeeded", (op.error, op.log)
    # Glance has every byte; the file had given up all but the last blocks: deallocated (no
    # data before the first one left), read as zeros, its size unchanged.
    assert next(iter(fake.images.values()))["checksum"] == MD5
    assert seen["first_data"] >= 2 * CHUNK and seen["head"] == bytes(CHUNK)
    assert seen["size"] == len(DATA) and seen["dropped"] is True


def test_glance_lost_midway_the_browser_still_sending_starts_over(
    member_client: Client,
    fake: FakeImagesGateway,
    django_capture_on_commit_callbacks: Any,
    upload_settings: Path,
    punching: None,
) -> None:
    state = start(member_client)
    send_all(member_client, state, DATA[: 3 * CHUNK])  # 3 of 4 chunks; the 4th is on its way
    fake.fail_after = (2 * CHUNK, CloudUnavailable("503 Service Unavailable"))
    upload = ImageUpload.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        first = run_job(upload)
    assert first.state == "queued" and "retrying in 5 s" in first.log[-1][1]
    upload.refresh_from_db()
    assert upload.dropped and fake.images == {}

    # The retry starts over: the browser's next chunk is told to go back to byte 0.
    glance = fake.upload_image

    def browser_meanwhile(image_id: str, data: Any) -> None:
        late = send(member_client, state, DATA, 3 * CHUNK, len(DATA))
        assert late.status_code == 409 and late.json()["received"] == 0
        send_all(member_client, state, DATA)
        glance(image_id, data)

    fake.upload_image = browser_meanwhile  # type: ignore[method-assign]
    second = run_job(upload)
    assert second.state == "succeeded" and second.attempts == 2, (second.error, second.log)
    assert any("sending from the start" in line for _t, line in second.log)
    (doc,) = fake.images.values()
    assert doc["checksum"] == MD5
    upload.refresh_from_db()
    assert (upload.state, upload.restarts) == ("done", 1)
    assert list(upload_settings.iterdir()) == []  # neither the old file nor the new one


def test_glance_lost_after_the_browser_finished_asks_for_the_file_again(
    member_client: Client,
    fake: FakeImagesGateway,
    django_capture_on_commit_callbacks: Any,
    punching: None,
) -> None:
    state = start(member_client)
    send_all(member_client, state, DATA)
    fake.fail_after = (2 * CHUNK, CloudUnavailable("503 Service Unavailable"))
    upload = ImageUpload.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(upload).state == "queued"
    retry = run_job(upload)  # nobody is sending: it ends at once, without making an image
    assert retry.state == "failed" and fake.calls.count("create_image") == 1
    assert "choose the same file to send it again" in retry.error
    upload.refresh_from_db()
    assert (upload.state, upload.received, upload.dropped) == ("receiving", 0, False)
    page = member_client.get(state["status_url"]).content.decode()
    assert "Choose the same file to continue the upload" in page and "(0%)" in page

    # The upload's page resumes it: from byte 0, in a new job.
    with django_capture_on_commit_callbacks(execute=False) as sent:
        resumed = member_client.post(
            f"/images/uploads/{upload.pk}/resume/", headers={"Accept": "application/json"}
        )
    assert resumed.json()["received"] == 0 and len(sent) == 1
    send_all(member_client, state, DATA)
    assert run_job(upload).state == "succeeded"
    assert next(iter(fake.images.values()))["checksum"] == MD5


def test_a_lost_worker_s_image_goes_when_the_file_must_be_sent_again(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    state = start(member_client)
    send_all(member_client, state, DATA)
    # A worker died mid-stream: its image stays behind, its job is requeued by the reaper.
    upload = ImageUpload.objects.get()
    left = fake.create_image(spec_from(upload.spec))
    assert upload.operation is not None
    Operation.objects.filter(pk=upload.operation.pk).update(result={"image_id": left.id})
    ImageUpload.objects.filter(pk=upload.pk).update(dropped=True)
    op = run_job(upload)
    assert op.state == "failed" and "choose the same file to send it again" in op.error
    assert fake.images == {}
    assert any("the file must be sent again" in line for _t, line in op.log)


def test_where_holes_cannot_be_punched_a_retry_sends_the_file_from_disk(
    member_client: Client,
    fake: FakeImagesGateway,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "_fallocate", None)  # as on a file system without it
    state = start(member_client)
    send_all(member_client, state, DATA)
    fake.fail_after = (2 * CHUNK, CloudUnavailable("503 Service Unavailable"))
    upload = ImageUpload.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(upload).state == "queued"
    upload.refresh_from_db()
    assert not upload.dropped and upload.path.read_bytes() == DATA
    op = run_job(upload)  # no browser needed
    assert op.state == "succeeded" and op.attempts == 2
    assert next(iter(fake.images.values()))["checksum"] == MD5


def test_a_chunk_on_its_way_when_the_upload_started_over(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    state = start(member_client)
    send(member_client, state, DATA, 0, CHUNK)
    stale = ImageUpload.objects.get()
    uploads.start_over(ImageUpload.objects.get())
    # Its file is gone: refused, with where to go on from.
    late = send(member_client, state, DATA, CHUNK, 2 * CHUNK)
    assert late.status_code == 409 and late.json()["received"] == 0
    # It had opened the old file just before: the bytes go there, `received` stays put.
    stale.path.touch()
    chunk = uploads.StreamBody(io.BytesIO(DATA[CHUNK : 2 * CHUNK]))
    assert uploads.write_chunk(stale, CHUNK, CHUNK, chunk) == 0
    fresh = ImageUpload.objects.get()
    assert (fresh.received, fresh.restarts) == (0, 1) and fresh.path.read_bytes() == b""


def test_a_chunk_costs_three_queries(
    member_client: Client, fake: FakeImagesGateway, django_assert_num_queries: Any
) -> None:
    state = start(member_client)
    send(member_client, state, DATA, 0, CHUNK)
    # The session, the upload with its job, moving `received` on.
    with django_assert_num_queries(3):
        assert send(member_client, state, DATA, CHUNK, 2 * CHUNK).status_code == 200
