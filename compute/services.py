"""What the admin pages and the JSON API (compute/api.py) both do: the host jobs they start
and the multi-call reads those jobs are checked against. Views and API endpoints validate their
input with the same forms, then call these."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from compute import admin_forms as af
from compute import hosts as h
from compute import tasks
from compute.gateway import AdminGateway, ComputeService, Hypervisor, Server
from portal.concurrency import concurrently
from portal.errors import NotFound
from portal.identity import PortalRequest
from portal.models import Operation
from portal.operations import start_operation


def each(calls: list[Callable[[], Any]]) -> list[Any]:
    """A variable number of independent calls, all at once (portal.concurrency)."""
    if len(calls) < 2:
        return [call() for call in calls]
    return list(concurrently(*calls))


def host_capacities(gw: AdminGateway, hypervisors: list[Hypervisor]) -> dict[str, h.HostCapacity]:
    """Each hypervisor's Placement inventories and usages: two calls per host, all at once."""
    calls: list[Callable[[], Any]] = []
    for hv in hypervisors:
        calls.append(functools.partial(gw.list_resource_provider_inventories, hv.id))
        calls.append(functools.partial(gw.get_resource_provider_usages, hv.id))
    found = each(calls)
    return {
        hv.host: h.host_capacity(hv, found[2 * i], found[2 * i + 1])
        for i, hv in enumerate(hypervisors)
    }


def host_choices(gw: AdminGateway, server: Server) -> list[h.HostChoice]:
    services, hypervisors = concurrently(
        lambda: gw.list_services("nova-compute"), gw.list_hypervisors
    )
    capacities = host_capacities(gw, hypervisors)
    return h.target_hosts(server.host, services, capacities, h.flavor_needs(server.flavor))


def compute_service(gw: AdminGateway, *, host: str = "", service_id: str = "") -> ComputeService:
    for service in gw.list_services("nova-compute"):
        if (host and service.host == host) or (service_id and service.id == service_id):
            return service
    raise NotFound(_("There is no compute service on %(host)s.") % {"host": host or service_id})


def start_drain(
    request: PortalRequest, service: ComputeService, form: af.DrainHostForm
) -> Operation:
    return start_operation(
        request,
        tasks.drain_host,
        target=service.host,
        target_name=service.host,
        params={k: form.cleaned_data[k] for k in ("concurrency", "active", "stopped", "reason")},
        delegate=True,
    )


def start_evacuation(
    request: PortalRequest, service: ComputeService, form: af.HostJobForm
) -> Operation:
    return start_operation(
        request,
        tasks.evacuate_host,
        target=service.host,
        target_name=service.host,
        params={"concurrency": form.cleaned_data["concurrency"]},
        delegate=True,
    )


def start_server_move(request: PortalRequest, server: Server, form: af.TargetHostForm) -> Operation:
    """A live migration (LiveMigrateForm) or a cold one; no host: the scheduler chooses."""
    live = isinstance(form, af.LiveMigrateForm)
    params: dict[str, Any] = {"host": form.cleaned_data["host"]}
    if isinstance(form, af.LiveMigrateForm):
        params["block"] = form.block()
    return start_operation(
        request,
        tasks.live_migrate_server if live else tasks.migrate_server,
        target=server.id,
        target_name=server.name,
        params=params,
    )
