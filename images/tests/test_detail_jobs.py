"""An image's page shows the upload and import jobs into it only to the project that runs them."""

from __future__ import annotations

import pytest
from django.test import Client

from images.models import ImageUpload
from images.tasks import spec_from
from images.tests.fakes import FakeImagesGateway
from images.tests.test_upload import start
from portal.models import Operation

pytestmark = pytest.mark.django_db


def test_another_projects_running_upload_is_not_shown(
    member_client: Client, outsider_client: Client, fake: FakeImagesGateway
) -> None:
    """Defect 2 of the hardening issue: anyone who could see a public or community image saw
    "Saving: 4.0 KB of 1.0 MB · Requested by demo" on its page."""
    state = start(member_client, visibility="community")
    # Half-way through: the job has made the image in Glance and is sending its bytes.
    upload = ImageUpload.objects.get()
    image_id = fake.create_image(spec_from(upload.spec)).id
    op = Operation.objects.get()
    op.result["image_id"] = image_id
    op.state = Operation.State.RUNNING
    op.save()
    mine = member_client.get(f"/images/{image_id}/").content.decode()
    assert f'id="operation-{op.pk}-card"' in mine
    theirs = outsider_client.get(f"/images/{image_id}/")
    assert theirs.status_code == 200  # a community image: the page itself is theirs to see
    html = theirs.content.decode()
    assert f"operation-{op.pk}" not in html and op.user_name not in html
    assert state["chunk_url"] not in html


def test_a_reader_keeps_no_upload_and_starts_no_import(
    reader_client: Client, fake: FakeImagesGateway
) -> None:
    """The persona matrix found a reader's import starting a job Glance refuses later."""
    for source in ({"source": "url", "url": "http://127.0.0.1:9/x.img"}, {}):
        fields = {
            "name": "r",
            "source": "file",
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_disk": "0",
            "min_ram": "0",
            "visibility": "private",
            "file_name": "x.qcow2",
            "file_size": "10",
            **source,
        }
        response = reader_client.post(
            "/images/create/", fields, headers={"X-Upload-Mode": "chunked"}
        )
        assert response.status_code == 403, response.content.decode()[:300]
    assert not Operation.objects.exists() and not ImageUpload.objects.exists()
