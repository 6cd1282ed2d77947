"""The create form: every field check, the no-JavaScript file upload and URL import."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from images.models import ImageUpload
from images.tasks import import_image, upload_image
from images.tests.fakes import FakeImagesGateway
from portal.models import Operation

pytestmark = pytest.mark.django_db

QCOW2 = b"QFI\xfb\x00\x00\x00\x03" + bytes(4096)


def form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "cirros",
        "description": "tiny",
        "source": "url",
        "url": "http://127.0.0.1:8080/cirros.qcow2",
        "disk_format": "qcow2",
        "container_format": "bare",
        "architecture": "x86_64",
        "min_disk": "1",
        "min_ram": "64",
        "visibility": "private",
        "properties": "os_distro=cirros\nhw_disk_bus = virtio",
    }
    data.update(changes)
    return data


def field_errors(html: str, field: str) -> str:
    """The text after the field's input up to its block's end (where its errors are)."""
    start = html.index(f'name="{field}"')
    return html[start : html.index("</div>", html.index("invalid-feedback", start)) + 6]


def test_create_page(member_client: Client) -> None:
    page = member_client.get("/images/create/").content.decode()
    assert "Upload a file" in page and "Import from a URL" in page
    assert "images.js" in page and "1.0\xa0MB" in page  # the configured limit


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"url": "ftp://127.0.0.1/x.qcow2"}, "url", "Only http:// and https://"),
        ({"url": "file:///etc/passwd"}, "url", "Only http:// and https://"),
        ({"url": ""}, "url", "Enter the address of the image."),
        ({"visibility": "public"}, "visibility", "Only administrators can make an image public"),
        ({"disk_format": "qcow3"}, "disk_format", "Select a valid choice."),
        ({"min_disk": "-1"}, "min_disk", "greater than or equal to 0"),
        ({"properties": "just words"}, "properties", "Line 1 is not of the form key=value."),
        ({"properties": "a=b\nstatus=active"}, "properties", "“status” is not a custom property"),
        ({"source": "file", "url": ""}, "file", "Choose the image file."),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_lost(
    member_client: Client,
    fake: FakeImagesGateway,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = member_client.post("/images/create/", form(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in field_errors(html, field)
    assert 'value="cirros"' in html and "hw_disk_bus=virtio" in html  # the form comes back filled
    assert not Operation.objects.exists() and fake.calls == []


def test_an_admin_may_make_an_image_public(
    admin_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post("/images/create/", form(visibility="public"))
    assert response.status_code == 302
    assert Operation.objects.get().params["spec"]["visibility"] == "public"


def test_import_from_url_end_to_end(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = member_client.post("/images/create/", form())
    assert response.status_code == 302 and response["Location"] == "/images/"
    assert len(sent) == 1
    op = Operation.objects.get()
    assert (op.kind, op.target_name) == ("import_image", "cirros")

    import_image(op.pk)

    op.refresh_from_db()
    assert op.state == "succeeded", (op.error, op.log)
    (doc,) = fake.images.values()
    assert doc["status"] == "active" and doc["web_download_uri"].endswith("/cirros.qcow2")
    assert (doc["min_disk"], doc["min_ram"], doc["os_distro"], doc["hw_disk_bus"]) == (
        1,
        64,
        "cirros",
        "virtio",
    )
    assert (doc["description"], doc["architecture"]) == ("tiny", "x86_64")


def test_a_failed_import_says_why_and_leaves_no_image(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        member_client.post("/images/create/", form(url="http://127.0.0.1:8080/missing.qcow2"))
    op = Operation.objects.get()
    import_image(op.pk)
    op.refresh_from_db()
    assert op.state == "failed"
    assert "404 Client Error: Not Found for url: http://127.0.0.1:8080/missing.qcow2" in op.error
    assert fake.images == {}  # the half-made image was deleted
    assert any("Deleted the unfinished image" in line for _t, line in op.log)


def test_a_cloud_without_web_download_is_told_at_the_field(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    fake.import_methods = ("glance-direct",)
    response = member_client.post("/images/create/", form())
    assert "This cloud does not offer importing images from a URL." in field_errors(
        response.content.decode(), "url"
    )
    assert not Operation.objects.exists()


def test_file_upload_without_javascript(
    member_client: Client, fake: FakeImagesGateway, django_capture_on_commit_callbacks: Any
) -> None:
    file = SimpleUploadedFile("disk.qcow2", QCOW2, content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=False):
        response = member_client.post("/images/create/", form(source="file", url="", file=file))
    assert response.status_code == 302
    upload = ImageUpload.objects.get()
    assert (upload.file_name, upload.size, upload.received, upload.state) == (
        "disk.qcow2",
        len(QCOW2),
        len(QCOW2),
        "received",
    )
    assert upload.path.read_bytes() == QCOW2

    upload_image(upload.operation_id)  # type: ignore[arg-type]

    (doc,) = fake.images.values()
    assert doc["status"] == "active" and doc["size"] == len(QCOW2)
    upload.refresh_from_db()
    assert upload.state == "done" and not upload.path.exists()  # the temporary file is gone


def test_wrong_format_choice_is_refused_at_the_field(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    random_bytes = SimpleUploadedFile("disk.img", bytes(range(256)) * 64)
    response = member_client.post("/images/create/", form(source="file", url="", file=random_bytes))
    assert response.status_code == 400
    assert "The file is not a QCOW2 image" in field_errors(response.content.decode(), "disk_format")
    as_raw = SimpleUploadedFile("disk.raw", QCOW2)
    response = member_client.post(
        "/images/create/", form(source="file", url="", file=as_raw, disk_format="raw")
    )
    assert "The file is a QCOW2 image, not RAW" in response.content.decode()
    assert not ImageUpload.objects.exists() and fake.calls == []


def test_a_file_above_the_limit_is_refused(member_client: Client, fake: FakeImagesGateway) -> None:
    big = SimpleUploadedFile("big.qcow2", QCOW2 + bytes(1024 * 1024))
    response = member_client.post("/images/create/", form(source="file", url="", file=big))
    assert response.status_code == 400
    assert "this portal accepts images up to 1.0\xa0MB" in field_errors(
        response.content.decode(), "file"
    )
    declared = member_client.post(
        "/images/create/",
        form(source="file", url="", file_name="big.qcow2", file_size=str(2 * 1024**2)),
        headers={"X-Upload-Mode": "chunked"},
    )
    assert declared.status_code == 400 and "accepts images up to" in declared.content.decode()
    assert "<html" not in declared.content.decode()  # the form partial, for the script
    assert not ImageUpload.objects.exists()
