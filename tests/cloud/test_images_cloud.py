"""Images against the devcloud's real Glance (and Nova, Cinder), with a real Celery worker.

The browser's side of an upload (chunks over HTTP) is played by the Django test client; the
worker streams the file to Glance while the chunks arrive.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import http.server
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import openstack
import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from images.models import ImageUpload
from portal.models import Operation

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")
CHUNK = 1024 * 1024


def wait_for(
    what: str, fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 90
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; last: {result!r}")
        time.sleep(0.3)


def qcow2_file(folder: Path, megabytes: int = 3) -> Path:
    """A real qcow2 made by qemu-img, holding random data (so it is megabytes, not a header)."""
    raw, qcow2 = folder / "disk.raw", folder / "disk.qcow2"
    raw.write_bytes(os.urandom(megabytes * 1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-q", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    raw.unlink()
    return qcow2


def first_data(path: Path) -> int:
    """Where the file's first allocated byte is (its size when all of it was punched out)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_DATA)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # no data at all
            raise
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def start_upload(client: Client, path: Path, **fields: str) -> dict[str, Any]:
    data = {
        "name": path.stem,
        "source": "file",
        "disk_format": "qcow2",
        "container_format": "bare",
        "min_disk": "0",
        "min_ram": "0",
        "visibility": "private",
        "file_name": path.name,
        "file_size": str(path.stat().st_size),
        **fields,
    }
    response = client.post("/images/create/", data, headers={"X-Upload-Mode": "chunked"})
    assert response.status_code == 201, response.content.decode()[:3000]
    state: dict[str, Any] = response.json()
    return state


def send_chunk(client: Client, state: dict[str, Any], data: bytes, offset: int) -> Any:
    response = client.post(
        state["chunk_url"],
        data[offset : offset + CHUNK],
        content_type="application/octet-stream",
        headers={"X-Upload-Offset": str(offset)},
    )
    assert response.status_code == 200, response.content
    return response.json()


def finished(op_id: int) -> Operation:
    return wait_for(
        "the job to finish",
        lambda: Operation.objects.get(pk=op_id),
        lambda op: op.is_finished,
        timeout=120,
    )


def messages_of(html: str) -> str:
    return " ".join(re.findall(r'role="alert">\s*(.*?)\s*<button', html, re.S))


@pytest.fixture
def uploads_env(settings: Any, tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "uploads"
    settings.STACKDESK_IMAGE_UPLOAD_DIR = str(folder)
    settings.STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES = CHUNK
    return {"STACKDESK_IMAGE_UPLOAD_DIR": str(folder)}


def test_upload_streams_to_glance_then_protect_edit_volume_delete(
    portal_clouds_yaml: Path,
    start_worker: Any,
    make_tenant: Any,
    uploads_env: dict[str, str],
    tmp_path: Path,
) -> None:
    tenant = make_tenant("img-up")
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml), **uploads_env)
    client = tenant.sign_in(Client())
    qcow2 = qcow2_file(tmp_path)
    data = qcow2.read_bytes()
    state = start_upload(client, qcow2, name="img-cloud", description="made by qemu-img")

    # The first chunk: the worker creates the image and starts streaming before the rest.
    # (No Glance call from here until the last chunk: the devcloud's Glance serves one request
    # at a time, and the upload is that request.)
    send_chunk(client, state, data, 0)
    upload = ImageUpload.objects.get(pk=state["id"])
    assert upload.operation is not None
    op_id = upload.operation.pk
    op = wait_for(
        "the job to create the image and start sending",
        lambda: Operation.objects.get(pk=op_id),
        lambda op: "image_id" in op.result or op.is_finished,
    )
    assert not op.is_finished, (op.error, op.log)
    image_id = op.result["image_id"]
    upload.refresh_from_db()
    assert upload.received < upload.size  # Glance has the image before the portal has the file
    offset = CHUNK
    while offset < len(data):
        offset = send_chunk(client, state, data, offset)["received"]
    op = finished(op.pk)
    assert op.state == "succeeded", (op.error, op.log)

    image = tenant.conn.image.get_image(image_id)
    assert image.status == "active" and image.size == len(data)
    assert image.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert image.owner == tenant.project.id and image.disk_format == "qcow2"
    assert image.properties.get("description") == "made by qemu-img"
    assert not Path(uploads_env["STACKDESK_IMAGE_UPLOAD_DIR"], f"{state['id']}.part").exists()
    done = client.get("/images/", headers={"HX-Request": "true"})
    assert done.status_code == 286 and 'data-status="active"' in done.content.decode()

    # Protect, then fail to delete: Glance's own reason is shown.
    client.post(f"/images/{image_id}/protect/")
    assert tenant.conn.image.get_image(image_id).is_protected
    refused = client.post(f"/images/{image_id}/delete/", {"name": "img-cloud"}, follow=True)
    assert "is protected and cannot be deleted" in messages_of(refused.content.decode())
    client.post(f"/images/{image_id}/unprotect/")

    # Edit min disk: Glance keeps it, Nova then refuses a flavor with a smaller disk.
    form = client.get(f"/images/{image_id}/edit/").content.decode()
    assert 'name="min_disk" value="0"' in form
    edited = client.post(
        f"/images/{image_id}/edit/",
        {
            "name": "img-cloud",
            "description": "made by qemu-img",
            "architecture": "x86_64",
            "min_disk": "5",
            "min_ram": "0",
            "visibility": "shared",
            "properties": "os_distro=cirros",
        },
    )
    assert edited.status_code == 302, messages_of(edited.content.decode())
    image = tenant.conn.image.get_image(image_id)
    assert (image.min_disk, image.visibility, image.architecture) == (5, "shared", "x86_64")
    assert image.os_distro == "cirros"
    nano = tenant.conn.compute.find_flavor("m1.nano")  # 1 GB disk
    with pytest.raises(
        openstack.exceptions.BadRequestException,
        match="smaller than the minimum size specified in image metadata",
    ):
        tenant.conn.compute.create_server(
            name="too-small", image_id=image_id, flavor_id=nano.id, networks="none"
        )
    try:
        launch_url = reverse("compute:launch-server")
    except NoReverseMatch:
        launch_url = ""
    if launch_url:  # the compute app's wizard, preselected with this image
        assert (
            f"{launch_url}?image={image_id}" in client.get(f"/images/{image_id}/").content.decode()
        )
        wizard = client.get(f"{launch_url}?image={image_id}")
        html = wizard.content.decode()
        assert wizard.status_code == 200 and "img-cloud" in html
        # The wizard respects the new min disk: a 1 GB flavor is offered disabled, with why.
        assert "Disk too small for the image (needs 5 GB)." in html
        assert re.search(rf'value="{nano.id}"[^>]*disabled', html)

    # Create a volume from the image: Cinder (RBD on the devcloud's Ceph) downloads the qcow2
    # image and writes it converted onto the volume.
    made = client.post(
        f"/images/{image_id}/create-volume/", {"name": "vol-from-img", "size": "5"}, follow=True
    )
    assert "Volume vol-from-img is being created" in messages_of(made.content.decode())
    (volume,) = [v for v in tenant.conn.block_storage.volumes() if v.name == "vol-from-img"]
    volume = wait_for(
        "Cinder to finish with the volume",
        lambda: tenant.conn.block_storage.get_volume(volume.id),
        lambda v: v.status in ("available", "error"),
    )
    assert volume.status == "available" and volume.size == 5
    assert (volume.volume_image_metadata or {}).get("image_id") == image_id

    # Delete through the portal.
    deleted = client.post(f"/images/{image_id}/delete/", {"name": "img-cloud"}, follow=True)
    assert "Image img-cloud was deleted." in messages_of(deleted.content.decode())
    assert tenant.conn.image.find_image(image_id) is None


def test_glance_refuses_mismatched_data_and_leaves_no_image(
    portal_clouds_yaml: Path,
    start_worker: Any,
    make_tenant: Any,
    uploads_env: dict[str, str],
) -> None:
    tenant = make_tenant("img-bad")
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml), **uploads_env)
    client = tenant.sign_in(Client())
    # VHD has no header the portal can check up front; Glance inspects the stream.
    path = Path(uploads_env["STACKDESK_IMAGE_UPLOAD_DIR"]).parent / "random.vhd"
    data = os.urandom(2 * CHUNK + 123)
    path.write_bytes(data)
    state = start_upload(client, path, disk_format="vhd")
    offset = 0
    while offset < len(data):
        offset = send_chunk(client, state, data, offset)["received"]
    op = finished(ImageUpload.objects.get(pk=state["id"]).operation_id)  # type: ignore[arg-type]
    assert op.state == "failed"
    assert "does not match" in op.error, op.error  # Glance's own words
    assert list(tenant.conn.image.images(owner=tenant.project.id)) == []  # no orphan
    page = client.get(f"/operations/{op.pk}/").content.decode()
    assert "does not match" in page


def test_a_killed_worker_has_the_browser_send_the_file_again(
    portal_clouds_yaml: Path,
    start_worker: Any,
    make_tenant: Any,
    uploads_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The job punches what it has handed Glance out of the upload's file. When its worker
    dies mid-stream, the next attempt cannot send those bytes from the file: the upload starts
    over and the browser, told so at its next chunk, sends the file again from byte 0."""
    tenant = make_tenant("img-restart")
    env = {"OS_CLIENT_CONFIG_FILE": str(portal_clouds_yaml), **uploads_env}
    first = start_worker(**env)
    client = tenant.sign_in(Client())
    path = tmp_path / "restart.raw"
    data = os.urandom(10 * CHUNK + 123)
    path.write_bytes(data)
    state = start_upload(client, path, disk_format="raw")
    offset = 0
    while offset < 8 * CHUNK:
        offset = send_chunk(client, state, data, offset)["received"]

    upload = wait_for(
        "the job to punch out what it sent",
        lambda: ImageUpload.objects.get(pk=state["id"]),
        lambda u: u.dropped,
    )
    assert first_data(upload.path) >= 4 * CHUNK  # at least the first 4 MiB step is gone
    assert upload.path.stat().st_size == 8 * CHUNK  # the size stays

    first.kill()  # mid-stream: Glance has part of the image, the file has lost it
    start_worker(**env)  # its beat requeues the lost job; its pool runs the next attempt
    wait_for(
        "the next attempt to start the upload over",
        lambda: ImageUpload.objects.get(pk=state["id"]),
        lambda u: u.restarts == 1,
        timeout=60,
    )
    late = client.post(
        state["chunk_url"],
        data[offset : offset + CHUNK],
        content_type="application/octet-stream",
        headers={"X-Upload-Offset": str(offset)},
    )
    assert late.status_code == 409 and late.json()["received"] == 0
    offset = 0
    while offset < len(data):
        offset = send_chunk(client, state, data, offset)["received"]
    assert upload.operation_id is not None
    op = finished(upload.operation_id)
    assert op.state == "succeeded" and op.attempts == 2, (op.error, op.log)
    assert any("sending from the start" in line for _t, line in op.log)
    (image,) = list(tenant.conn.image.images(owner=tenant.project.id))  # the first one deleted
    assert image.status == "active" and image.size == len(data)
    assert image.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert list(Path(uploads_env["STACKDESK_IMAGE_UPLOAD_DIR"]).iterdir()) == []


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def test_import_from_a_url(
    portal_clouds_yaml: Path, start_worker: Any, make_tenant: Any, tmp_path: Path
) -> None:
    tenant = make_tenant("img-url")
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    qcow2 = qcow2_file(tmp_path, megabytes=1)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{qcow2.name}"
    client = tenant.sign_in(Client())
    try:
        response = client.post(
            "/images/create/",
            {
                "name": "from-url",
                "source": "url",
                "url": url,
                "disk_format": "qcow2",
                "container_format": "bare",
                "min_disk": "0",
                "min_ram": "0",
                "visibility": "private",
            },
        )
        assert response.status_code == 302, messages_of(response.content.decode())
        op = finished(Operation.objects.get(kind="import_image", project_id=tenant.project.id).pk)
    finally:
        httpd.shutdown()
    if op.state == "failed":
        # Whatever Glance refused, the portal shows its reason and leaves no image behind.
        assert op.error and list(tenant.conn.image.images(owner=tenant.project.id)) == []
    assert op.state == "succeeded", (op.error, op.log)
    image = tenant.conn.image.get_image(op.result["image_id"])
    assert image.status == "active" and image.size == qcow2.stat().st_size
