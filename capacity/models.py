"""Capacity samples the portal takes itself (capacity/sampling.py): no OpenStack API keeps
the history of Placement's figures or of a project's quota usage.

Every row carries its cloud's key (portal/cloud.py Cloud.key): a page shows only the rows of
the signed-in user's cloud, and a project's rows only to that project. Rows of one sampling
round share their `taken_at`, so the hosts of an aggregate add up per round.
"""

from __future__ import annotations

from django.db import models

CLOUD_TOTAL = ""  # provider_id of a round's whole-cloud row


class CapacitySample(models.Model):
    """One resource provider's (a hypervisor's) Placement figures at one time, or, with
    provider_id CLOUD_TOTAL, the whole cloud's: used and capacity ((total - reserved) x
    allocation ratio) of vCPUs, RAM (MiB) and local disk (GiB), and the instances on it."""

    cloud_key = models.CharField(max_length=255)
    taken_at = models.DateTimeField()
    provider_id = models.CharField(max_length=64, blank=True)
    provider_name = models.CharField(max_length=255, blank=True)
    vcpus_used = models.BigIntegerField(default=0)
    vcpus_capacity = models.BigIntegerField(default=0)
    ram_mb_used = models.BigIntegerField(default=0)
    ram_mb_capacity = models.BigIntegerField(default=0)
    disk_gb_used = models.BigIntegerField(default=0)
    disk_gb_capacity = models.BigIntegerField(default=0)
    instances = models.IntegerField(default=0)

    class Meta:
        indexes = [
            # a chart: one host's (or the cloud's) rows over a time range
            models.Index(
                fields=["cloud_key", "provider_name", "taken_at"], name="capacity_host_time"
            ),
            # the latest round, an aggregate's hosts over a range
            models.Index(fields=["cloud_key", "taken_at"], name="capacity_cloud_time"),
            models.Index(fields=["taken_at"], name="capacity_purge"),  # the retention purge
        ]

    def __str__(self) -> str:
        return f"{self.cloud_key} {self.provider_name or 'cloud'} {self.taken_at:%Y-%m-%d %H:%M}"


class ProjectUsageSample(models.Model):
    """One project's quota usage at one time, as Nova, Cinder and Neutron count it; None
    where the cloud has no such service (or it did not answer)."""

    cloud_key = models.CharField(max_length=255)
    project_id = models.CharField(max_length=64)
    taken_at = models.DateTimeField()
    instances = models.IntegerField(default=0)
    vcpus = models.IntegerField(default=0)
    ram_mb = models.BigIntegerField(default=0)
    volume_gb = models.BigIntegerField(null=True, blank=True)
    floating_ips = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["cloud_key", "project_id", "taken_at"], name="capacity_project_time"
            ),
            models.Index(fields=["taken_at"], name="capacity_project_purge"),
        ]

    def __str__(self) -> str:
        return f"{self.cloud_key} {self.project_id} {self.taken_at:%Y-%m-%d %H:%M}"
