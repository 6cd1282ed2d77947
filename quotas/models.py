from django.db import models


class NetworkQuotaDefaults(models.Model):
    """The network default quotas set on Admin › Defaults.

    Nova and Cinder keep default quotas behind an API (the "default" quota class); Neutron
    reads its defaults from neutron.conf and has no API to change them. The portal keeps the
    network defaults here and applies them itself, as each project's own network quota, to
    every project that follows the defaults (quotas/tasks.py apply_network_defaults) and to
    projects created on Identity › Projects.
    """

    cloud_key = models.CharField(max_length=255, unique=True)
    values = models.JSONField(default=dict)  # quota key (quotas/catalog.py) -> limit
    updated_by = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"network defaults of {self.cloud_key}"

    @classmethod
    def values_for(cls, cloud_key: str) -> dict[str, int] | None:
        saved = cls.objects.filter(cloud_key=cloud_key).first()
        return dict(saved.values) if saved else None


class NetworkDefaultsApplied(models.Model):
    """A project whose own network quota the portal wrote from the network defaults, so it
    still follows them: the next defaults are written to it too, and going back to Neutron's
    configured defaults deletes its quota again. Projects with network quotas set any other
    way are never touched by a change of defaults."""

    cloud_key = models.CharField(max_length=255)
    project_id = models.CharField(max_length=64)
    applied_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cloud_key", "project_id"], name="one_default_follower_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} follows the network defaults"
