from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "compute"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The JSON API reports a host job's counts (portal/api.py REPORTS).
        from compute import api, tasks
        from portal.api import REPORTS

        REPORTS.update(dict.fromkeys(tasks.HOST_JOBS, api.host_job_report))
