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
