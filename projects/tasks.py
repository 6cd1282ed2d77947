"""refresh_project_counts: count a project's resources, one service call after another,
reporting each as a step, and store the counts for the overview page."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal.gateways import job_gateway
from portal.operations import Job, job
from projects.gateway import ProjectsGateway
from projects.models import ProjectCounts

# (result key, label, service type needed, gateway method)
COUNTERS: list[tuple[str, str, str, Callable[[ProjectsGateway], int]]] = [
    ("servers", gettext_noop("Instances"), "compute", lambda gw: gw.count_servers()),
    ("volumes", gettext_noop("Volumes"), "block-storage", lambda gw: gw.count_volumes()),
    ("images", gettext_noop("Images"), "image", lambda gw: gw.count_images()),
    ("networks", gettext_noop("Networks"), "network", lambda gw: gw.count_networks()),
    ("routers", gettext_noop("Routers"), "network", lambda gw: gw.count_routers()),
    ("floating_ips", gettext_noop("Floating IPs"), "network", lambda gw: gw.count_floating_ips()),
    (
        "security_groups",
        gettext_noop("Security groups"),
        "network",
        lambda gw: gw.count_security_groups(),
    ),
]


@job(gettext_noop("Refresh resource counts"), changes=False)
def refresh_project_counts(job: Job) -> None:
    gw = job_gateway(job, ProjectsGateway)
    for index, (key, label, service, count) in enumerate(COUNTERS):
        if key in job.result:  # counted by an earlier attempt: do not count again
            continue
        job.progress(
            step=_("Counting %(what)s") % {"what": _(label)}, percent=index * 100 // len(COUNTERS)
        )
        job.result[key] = count(gw) if gw.has_service(service) else None
        job.progress(log=f"{key}: {job.result[key]}")
    ProjectCounts.objects.update_or_create(
        cloud_key=job.op.cloud_key,
        project_id=job.op.project_id,
        defaults={"counts": job.result, "refreshed_at": timezone.now(), "operation": job.op},
    )
