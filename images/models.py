"""The one piece of image state the portal owns: a file on its way from a browser to Glance."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Operation


def upload_dir() -> Path:
    """Where uploads are written. The web process and the worker must both see it (one
    machine, or a shared volume)."""
    path = Path(settings.STACKDESK_IMAGE_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class ImageUpload(models.Model):
    """A browser upload: chunks are appended to ONE file on disk (`path`) until `received`
    reaches `size`; the upload_image operation streams that file to Glance as it grows,
    punching out what Glance has been handed (see images/uploads.py), and deletes it at the
    end."""

    class State(models.TextChoices):
        RECEIVING = "receiving", _("Receiving")
        RECEIVED = "received", _("Received")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cloud_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64, db_index=True)
    project_id = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    # Bytes the job had handed to Glance were punched out of the file: a new attempt needs the
    # browser to send the file again from the start (set before the first byte goes).
    dropped = models.BooleanField(default=False)
    # How many times the file was started over from byte 0; each time it gets a new name, so
    # a chunk still on its way to the old file cannot land in the new one.
    restarts = models.PositiveIntegerField(default=0)
    # The create form's cleaned data (an ImageSpec as a dict).
    spec = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVING)
    # The upload_image job streaming this file to Glance (the latest, after a resume).
    operation = models.ForeignKey(Operation, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.received}/{self.size})"

    @property
    def path(self) -> Path:
        name = f"{self.id}.part" if not self.restarts else f"{self.id}.{self.restarts}.part"
        return upload_dir() / name

    @property
    def percent(self) -> int:
        return 100 if not self.size else int(self.received * 100 // self.size)

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.RECEIVING, self.State.RECEIVED)
