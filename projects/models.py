from django.db import models


class ProjectCounts(models.Model):
    """The last counted number of each resource in a project (the refresh_project_counts job)."""

    cloud_key = models.CharField(max_length=255)
    project_id = models.CharField(max_length=64)
    counts = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField()
    operation = models.ForeignKey(
        "portal.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cloud_key", "project_id"], name="one_count_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"counts of {self.project_id}"
