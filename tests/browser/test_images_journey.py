"""A person uploads an image from a file (progress bar, one dropped connection on the way and
one outage long enough for the upload to start over), sees it become active, edits it and
deletes it; another upload, left halfway, is sent again from its own page."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from images.models import ImageUpload
from portal.models import Operation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHUNK = 1024 * 1024


def qcow2_file(folder: Path) -> Path:
    raw, qcow2 = folder / "journey.raw", folder / "journey.qcow2"
    raw.write_bytes(os.urandom(10 * CHUNK))
    subprocess.run(["qemu-img", "convert", "-q", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    return qcow2


def test_create_from_file_edit_and_delete(
    page: Page,
    live_server: Any,
    portal_clouds_yaml: Path,
    make_tenant: Any,
    start_worker: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    uploads = tmp_path / "uploads"
    settings.STACKDESK_IMAGE_UPLOAD_DIR = str(uploads)
    settings.STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES = CHUNK
    tenant = make_tenant("img-journey")
    # The job gives the browser up after 3 s of silence (30 s by default).
    start_worker(
        OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml),
        STACKDESK_IMAGE_UPLOAD_DIR=str(uploads),
        STACKDESK_IMAGE_UPLOAD_STALL_SECONDS="3",
    )
    qcow2 = qcow2_file(tmp_path)

    # The second chunk's connection drops once: the page asks where the portal stands and
    # carries on. From the seventh chunk on, the network is gone until the job has given the
    # browser up; the job had sent (and punched out of its file) the first megabytes, so the
    # upload starts over and the page sends the file again from the start.
    dropped: list[str] = []

    def job_gave_up() -> bool:
        return Operation.objects.filter(
            kind="upload_image", project_id=tenant.project.id, state="failed"
        ).exists()

    sizes: list[int] = []

    def flaky_network(route: Route) -> None:
        offset = int(route.request.headers.get("x-upload-offset", "-1"))
        sizes.append(len(route.request.post_data_buffer or b""))
        if offset == CHUNK and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        elif offset >= 6 * CHUNK and not job_gave_up():
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*/images/uploads/.*/chunk/$"), flaky_network)

    page.goto(live_server.url + "/images/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Images")).to_be_visible()

    page.get_by_role("link", name="Create image").click()
    page.get_by_label(re.compile(r"^Name")).fill("journey-image")
    page.get_by_label("Upload a file").check()
    page.get_by_label("Image file").set_input_files(str(qcow2))
    expect(page.get_by_label("Image URL")).to_be_hidden()
    page.get_by_label(re.compile(r"^Disk format")).select_option("QCOW2")
    # A member may not publish: refused at the field, and nothing chosen is lost.
    page.get_by_label(re.compile(r"^Visibility")).select_option(value="public")
    page.get_by_role("button", name="Create image").click()
    expect(page.get_by_text("Only administrators can make an image public.")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Name"))).to_have_value("journey-image")
    assert page.get_by_label("Image file").input_value().endswith("journey.qcow2")
    page.get_by_label(re.compile(r"^Visibility")).select_option(value="private")
    page.get_by_role("button", name="Create image").click()

    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    expect(page.get_by_text("The cloud needs the whole file again")).to_be_visible(timeout=60_000)
    # Done sending: the page goes to the list, where the row settles on "active".
    expect(page).to_have_url(live_server.url + "/images/", timeout=60_000)
    row = page.get_by_role("row").filter(has_text="journey-image")
    expect(row.get_by_text("active", exact=True)).to_be_visible(timeout=60_000)
    assert dropped, "the dropped chunk was never tried"
    assert CHUNK < max(sizes) <= 4 * CHUNK  # quick chunks grow, up to what the portal accepts
    (image,) = list(tenant.conn.image.images(owner=tenant.project.id))
    assert image.status == "active" and image.size == qcow2.stat().st_size
    assert image.checksum == hashlib.md5(qcow2.read_bytes(), usedforsecurity=False).hexdigest()
    upload = ImageUpload.objects.get(project_id=tenant.project.id)
    assert (upload.state, upload.restarts) == ("done", 1)

    row.get_by_role("link", name="journey-image").click()
    expect(page.get_by_role("heading", name="Image journey-image")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label(re.compile(r"^Minimum disk \(GB\)")).fill("3")
    page.get_by_label("Description").fill("edited in the browser")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Image journey-image was updated.")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="edited in the browser")).to_be_visible()
    assert tenant.conn.image.get_image(image.id).min_disk == 3

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Image journey-image was deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="journey-image")).to_have_count(0)
    assert tenant.conn.image.find_image(image.id) is None


def test_an_upload_left_halfway_is_sent_again_from_its_page(
    page: Page,
    live_server: Any,
    portal_clouds_yaml: Path,
    make_tenant: Any,
    start_worker: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    """The network goes for good halfway and the person leaves. The job gives the browser up;
    what it had sent is no longer in the portal's file, so the list says the upload is at 0 %.
    Later the person opens the upload, chooses the same file, and it is sent from the start."""
    uploads = tmp_path / "uploads"
    settings.STACKDESK_IMAGE_UPLOAD_DIR = str(uploads)
    settings.STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES = CHUNK
    tenant = make_tenant("img-resume")
    start_worker(
        OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml),
        STACKDESK_IMAGE_UPLOAD_DIR=str(uploads),
        STACKDESK_IMAGE_UPLOAD_STALL_SECONDS="3",
    )
    path = tmp_path / "halfway.raw"
    path.write_bytes(os.urandom(12 * CHUNK + 5))

    def network_gone_after_6_mib(route: Route) -> None:
        if int(route.request.headers.get("x-upload-offset", "-1")) >= 6 * CHUNK:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    chunks = re.compile(r".*/images/uploads/.*/chunk/$")
    page.route(chunks, network_gone_after_6_mib)
    page.goto(live_server.url + "/images/create/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(re.compile(r"^Name")).fill("halfway-image")
    page.get_by_label("Upload a file").check()
    page.get_by_label("Image file").set_input_files(str(path))
    page.get_by_label(re.compile(r"^Disk format")).select_option("RAW")
    page.get_by_role("button", name="Create image").click()
    expect(page.get_by_text("The connection dropped; resuming from")).to_be_visible()
    op = Operation.objects.get(kind="upload_image", project_id=tenant.project.id)
    deadline = time.monotonic() + 60
    while op.state != "failed" and time.monotonic() < deadline:
        # Not time.sleep: the page's chunk requests are routed through this thread, which
        # answers them only while it waits in Playwright.
        page.wait_for_timeout(300)
        op.refresh_from_db()
    assert "The browser stopped sending the file for 3 seconds" in op.error

    # The person comes back later (the network too).
    page.unroute(chunks)
    page.goto(live_server.url + "/images/")
    listed = page.get_by_role("listitem").filter(has_text="halfway-image")
    expect(listed).to_contain_text("(0%)")
    listed.get_by_role("link", name="halfway-image").click()
    expect(page.get_by_role("heading", name="Upload of halfway-image")).to_be_visible()
    page.get_by_label("Choose the same file to continue the upload").set_input_files(str(path))
    page.get_by_role("button", name="Resume upload").click()
    expect(page).to_have_url(live_server.url + "/images/", timeout=60_000)
    row = page.get_by_role("row").filter(has_text="halfway-image")
    expect(row.get_by_text("active", exact=True)).to_be_visible(timeout=60_000)
    (image,) = list(tenant.conn.image.images(owner=tenant.project.id))
    assert image.checksum == hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    upload = ImageUpload.objects.get(project_id=tenant.project.id)
    assert (upload.state, upload.restarts) == ("done", 1)
