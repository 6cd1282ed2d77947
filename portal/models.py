"""State the portal owns itself: long-running operations and a user's remembered project."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.identity import Identity


class OperationQuerySet(models.QuerySet["Operation"]):
    """The only ways to look jobs up: every lookup names whose jobs it wants.

    The portal's own rows must keep tenants apart as strictly as OpenStack's policy does, so
    a lookup by target (a router id, an image id, a host) is always narrowed to the
    requester's cloud and project (or, for an administrator's pages, cloud) first.
    """

    def of_cloud(self, who: Identity) -> OperationQuerySet:
        return self.filter(cloud_key=who.cloud_key)

    def of_project(self, who: Identity) -> OperationQuerySet:
        return self.filter(cloud_key=who.cloud_key, project_id=who.project_id)

    def of_user(self, who: Identity) -> OperationQuerySet:
        return self.filter(cloud_key=who.cloud_key, user_id=who.user_id)

    def visible_to(self, who: Identity) -> OperationQuerySet:
        """A user's own jobs; an administrator's: every job of their cloud."""
        return self.of_cloud(who) if who.is_admin else self.of_user(who)

    def active(self) -> OperationQuerySet:
        return self.filter(state__in=[Operation.State.QUEUED, Operation.State.RUNNING])


class Operation(models.Model):
    """A long job run by a Celery worker on behalf of the user who asked for it.

    The row is the job's whole truth: the UI polls it, the worker writes progress, log lines
    and errors to it, and the reaper (portal/operations.py) requeues or fails it when its
    worker stops sending heartbeats.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    kind = models.CharField(max_length=64)  # verb_noun, e.g. refresh_project_counts
    # English title, marked with gettext_noop where the job starts; translated when shown.
    title = models.CharField(max_length=255)
    task_name = models.CharField(max_length=200)  # the Celery task that runs it
    cloud_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64, db_index=True)
    user_name = models.CharField(max_length=255)
    project_id = models.CharField(max_length=64, db_index=True)
    project_name = models.CharField(max_length=255)
    target = models.CharField(max_length=255, blank=True)  # id of what it acts on
    target_name = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)  # what the job produced or has done
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    step = models.CharField(max_length=255, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    log = models.JSONField(default=list, blank=True)  # [[iso time, line], ...]
    error = models.TextField(blank=True)
    # Sealed (Fernet) token + catalog of the user who asked; blanked when the job finishes.
    credential = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_name or self.target} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    def summary(self) -> dict[str, Any]:
        return {"id": self.pk, "kind": self.kind, "state": self.state, "percent": self.percent}


class Preference(models.Model):
    """Per-user memory: the project used last, offered first at the next sign-in."""

    cloud_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64)
    last_project_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cloud_key", "user_id"], name="one_preference_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.cloud_key}"
