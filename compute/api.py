"""The JSON API's host jobs and followed migrations (admin): the same forms, checks and
services (compute/services.py) as the admin pages, answered in JSON (portal/api.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from compute import admin_forms as af
from compute import hosts as h
from compute import services, tasks
from compute.gateway import AdminGateway
from portal.api import (
    JOB_STARTED,
    ApiRefusal,
    Fields,
    accepted,
    api_view,
    bound_form,
    form_error,
    request_body,
)
from portal.gateways import gateway
from portal.identity import PortalRequest
from portal.models import Operation


def host_job_report(op: Operation) -> dict[str, Any]:
    """Moved/failed/… counts of a host job (the job's own, or counted so far while it runs)."""
    report: dict[str, Any] = op.result.get("report") or h.counts(op.result.get("items") or [])
    return report


@api_view(
    "POST",
    admin=True,
    replies={202: JOB_STARTED},
    errors=(404, 409),
    body=Fields(af.DrainHostForm, {"concurrency": tasks.DRAIN_CONCURRENCY}),
)
def drain_host(request: PortalRequest, host: str) -> HttpResponse:
    """Disable the host's compute service, then move every instance off it (as
    compute.admin_views.drain_host: the same form and job)."""
    service = services.compute_service(gateway(request, AdminGateway), host=host)
    form = bound_form(af.DrainHostForm, request, concurrency=tasks.DRAIN_CONCURRENCY)
    if not form.is_valid():
        return form_error(form)
    return accepted(services.start_drain(request, service, form))


@api_view(
    "POST",
    admin=True,
    replies={202: JOB_STARTED},
    errors=(404, 409),
    body=Fields(af.HostJobForm, {"concurrency": tasks.DRAIN_CONCURRENCY}),
)
def evacuate_host(request: PortalRequest, host: str) -> HttpResponse:
    """Rebuild every instance of a failed host elsewhere; refused (409) unless the host is
    down (as compute.admin_views.evacuate_host)."""
    service = services.compute_service(gateway(request, AdminGateway), host=host)
    refusal = h.evacuation_refusal(service)
    if refusal:
        raise ApiRefusal(refusal, 409)
    form = bound_form(af.HostJobForm, request, concurrency=tasks.DRAIN_CONCURRENCY)
    if not form.is_valid():
        return form_error(form)
    return accepted(services.start_evacuation(request, service, form))


def _move_server(request: PortalRequest, server_id: str, *, live: bool) -> HttpResponse:
    """As compute.admin_views._server_moves: without a host the scheduler chooses; a host is
    checked against the usable ones, with the reason when it cannot take the server."""
    gw = gateway(request, AdminGateway)
    server = gw.get_server(server_id)
    choices = services.host_choices(gw, server) if request_body(request).get("host") else []
    form_class = af.LiveMigrateForm if live else af.TargetHostForm
    form = bound_form(form_class, request, choices=choices)
    if not form.is_valid():
        return form_error(form)
    return accepted(services.start_server_move(request, server, form))


@api_view(
    "POST",
    admin=True,
    replies={202: JOB_STARTED},
    errors=(404, 409),
    body=Fields(af.LiveMigrateForm, {"choices": []}),
)
def live_migrate_server(request: PortalRequest, server_id: str) -> HttpResponse:
    """Live-migrate one instance and follow it to the end; without a host the scheduler
    chooses (as compute.admin_views.live_migrate_server)."""
    return _move_server(request, server_id, live=True)


@api_view(
    "POST",
    admin=True,
    replies={202: JOB_STARTED},
    errors=(404, 409),
    body=Fields(af.TargetHostForm, {"choices": []}),
)
def migrate_server(request: PortalRequest, server_id: str) -> HttpResponse:
    """Cold-migrate one instance, followed until it waits on its new host (VERIFY_RESIZE)
    for a confirmation with Nova (as compute.admin_views.migrate_server)."""
    return _move_server(request, server_id, live=False)
