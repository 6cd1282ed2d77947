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
    """Per-user memory: the project used last, offered first at the next sign-in, and the
    user's Settings (portal/preferences.py); empty language or time zone: not chosen."""

    cloud_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64)
    last_project_id = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=16, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    page_size = models.PositiveSmallIntegerField(default=20)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cloud_key", "user_id"], name="one_preference_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.cloud_key}"


class AuditRecordQuerySet(models.QuerySet["AuditRecord"]):
    """Like Operation's: every lookup names whose records it wants (a project's, for its
    members; a cloud's, for its administrators)."""

    def of_cloud(self, who: Identity) -> AuditRecordQuerySet:
        return self.filter(cloud_key=who.cloud_key)

    def of_project(self, who: Identity) -> AuditRecordQuerySet:
        return self.filter(cloud_key=who.cloud_key, project_id=who.project_id)


class AuditRecord(models.Model):
    """One change asked of the portal (a page's form or button, a JSON API call, a sign-in):
    who, where, what, with which input (secrets left out) and how it ended. Written by
    portal/audit.py, never edited by hand; a job's record follows the job to its end."""

    class Result(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")
        # a job's record, once the job is over
        SUCCEEDED = "succeeded", _("Succeeded")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        BROWSER = "browser", _("Browser")
        API = "api", _("API")
        ANSIBLE = "ansible", _("Ansible")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    cloud_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64, blank=True)
    user_name = models.CharField(max_length=255, blank=True)
    user_domain = models.CharField(max_length=255, blank=True)
    project_id = models.CharField(max_length=64, blank=True)
    project_name = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64)  # verb_noun of the URL name: delete_router
    url_name = models.CharField(max_length=128)  # network:delete-router
    target_type = models.CharField(max_length=64, blank=True)  # router
    target_id = models.CharField(max_length=255, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    input = models.JSONField(default=dict, blank=True)  # posted fields, secrets left out
    result = models.CharField(max_length=16, choices=Result.choices)
    status = models.PositiveSmallIntegerField(default=0)  # the portal's HTTP answer
    message = models.CharField(max_length=500, blank=True)  # why it was refused or failed
    request_ids = models.JSONField(default=list, blank=True)  # x-openstack-request-id values
    client_address = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_records"
    )

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["cloud_key", "project_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_name or self.target_id} ({self.result})"
