"""Domain types that more than one app reads, declared once (issue 12): an app that shows
another app's resource (the launch wizard's and the attach form's volumes, a volume made from
an image) reads it as this, and the owning app keeps its own richer type (volumes.gateway).
Frozen dataclasses holding only what the pages need, as every gateway returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class VolumeAttachment:
    volume_id: str
    device: str
    server_id: str


@dataclass(frozen=True)
class Volume:
    id: str
    name: str
    size: int  # GiB
    status: str
    is_bootable: bool = False
    attachments: tuple[VolumeAttachment, ...] = ()
    volume_type: str = ""
    description: str = ""
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.id
