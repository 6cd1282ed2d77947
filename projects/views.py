from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.identity import PortalRequest, login_required, me
from portal.models import Operation
from portal.operations import start_operation
from projects import tasks
from projects.models import ProjectCounts


def _counts_context(request: PortalRequest) -> dict[str, object]:
    identity = me(request)
    counts = ProjectCounts.objects.filter(
        cloud_key=identity.cloud_key, project_id=identity.project_id
    ).first()
    pending = Operation.objects.filter(
        kind="refresh_project_counts",
        cloud_key=identity.cloud_key,
        project_id=identity.project_id,
        state__in=[Operation.State.QUEUED, Operation.State.RUNNING],
    ).first()
    rows = [
        (label, counts.counts.get(key) if counts else None) for key, label, _s, _f in tasks.COUNTERS
    ]
    return {"counts": counts, "rows": rows, "op": pending}


@require_GET
@login_required
def overview(request: PortalRequest) -> HttpResponse:
    context = _counts_context(request)
    if request.htmx and not request.htmx.boosted:
        # The counts card polls while a refresh runs; 286 stops the polling.
        status = 200 if context["op"] else 286
        return render(request, "projects/overview.html#counts", context, status=status)
    return render(request, "projects/overview.html", context)


@require_POST
@login_required
def refresh_project_counts(request: PortalRequest) -> HttpResponse:
    if _counts_context(request)["op"] is None:
        start_operation(
            request,
            tasks.refresh_project_counts,
            kind="refresh_project_counts",
            title=tasks.REFRESH_TITLE,
            target=me(request).project_id,
            target_name=me(request).project_name,
        )
    if request.htmx:
        return render(request, "projects/overview.html#counts", _counts_context(request))
    messages.info(request, _("Counting has started."))
    return redirect("projects:overview")
