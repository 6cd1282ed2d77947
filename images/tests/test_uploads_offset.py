"""A chunk's X-Upload-Offset from a careless or hostile client: refused with a message,
nothing written (a negative offset reached os.pwrite and gave a 500)."""

from __future__ import annotations

import pytest
from django.test import Client

from images.models import ImageUpload
from images.tests.fakes import FakeImagesGateway
from images.tests.test_upload import CHUNK, DATA, send, start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("offset", ["-1", "-65536", f"-{10**30}"])
def test_a_negative_offset_is_refused_and_writes_nothing(
    member_client: Client, fake: FakeImagesGateway, offset: str
) -> None:
    state = start(member_client)
    assert send(member_client, state, DATA, 0, CHUNK).json()["received"] == CHUNK
    upload = ImageUpload.objects.get()
    before = upload.path.read_bytes()

    response = member_client.post(
        state["chunk_url"],
        b"\xff" * 1024,
        content_type="application/octet-stream",
        headers={"X-Upload-Offset": offset},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "X-Upload-Offset must be 0 or more."
    upload.refresh_from_db()
    assert upload.received == CHUNK and upload.state == "receiving"
    assert upload.path.read_bytes() == before


@pytest.mark.parametrize("offset", ["", "1e3", "0x10", "\u0661\u0660"])
def test_an_offset_that_is_not_a_plain_number_is_refused(
    member_client: Client, fake: FakeImagesGateway, offset: str
) -> None:
    state = start(member_client)
    response = member_client.post(
        state["chunk_url"],
        DATA[:CHUNK],
        content_type="application/octet-stream",
        headers={"X-Upload-Offset": offset},
    )
    assert response.status_code in (400, 409), response.content
    assert ImageUpload.objects.get().received == 0
