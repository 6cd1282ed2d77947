from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from images.gateway import ImagesGateway
from images.tests.fakes import FakeImagesGateway
from portal.gateways import override


@pytest.fixture
def fake() -> Iterator[FakeImagesGateway]:
    gw = FakeImagesGateway()
    with override(ImagesGateway, gw):
        yield gw


@pytest.fixture(autouse=True)
def upload_settings(settings: Any, tmp_path: Path) -> Path:
    """Uploads go to the test's own folder, in small chunks, and stalls are noticed fast."""
    folder = tmp_path / "uploads"
    settings.STACKDESK_IMAGE_UPLOAD_DIR = str(folder)
    settings.STACKDESK_IMAGE_UPLOAD_MAX_BYTES = 1024 * 1024
    settings.STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES = 64 * 1024
    settings.STACKDESK_IMAGE_UPLOAD_STALL_SECONDS = 0.5
    return folder
