"""What the quota pages and the JSON API both do: read a project's quota sets, start the bulk
quotas job, and write the portal's network defaults to a project just created (quotas/apps.py
hands that one to projects.admin_views.AFTER_CREATE_PROJECT)."""

from __future__ import annotations

from typing import Any

from portal.concurrency import concurrently
from portal.gateways import gateway
from portal.identity import PortalRequest, me
from portal.models import Operation
from portal.operations import start_operation
from projects.gateway import ProjectsGateway
from quotas import catalog, tasks
from quotas.forms import BulkQuotaForm
from quotas.gateway import QuotaSet, QuotasGateway
from quotas.models import NetworkDefaultsApplied, NetworkQuotaDefaults


def read_quota_sets(gw: QuotasGateway, project_id: str) -> dict[str, QuotaSet]:
    """The project's quotas with usage, from each service the cloud has, at once."""

    def read(service: str) -> QuotaSet | None:
        if not gw.has_service(catalog.SERVICE_TYPES[service]):
            return None
        return {
            catalog.COMPUTE: gw.get_compute_quota_set,
            catalog.VOLUME: gw.get_volume_quota_set,
            catalog.NETWORK: gw.get_network_quota,
        }[service](project_id)

    found = concurrently(
        lambda: read(catalog.COMPUTE), lambda: read(catalog.VOLUME), lambda: read(catalog.NETWORK)
    )
    return {s.service: s for s in found if s is not None}


def bulk_quota_choices(request: PortalRequest) -> dict[str, Any]:
    """BulkQuotaForm's choices: the cloud's quota services and every project."""
    pgw, qgw = gateway(request, ProjectsGateway), gateway(request, QuotasGateway)
    services = [s for s in catalog.SERVICE_TYPES if qgw.has_service(catalog.SERVICE_TYPES[s])]
    return {"services": services, "projects": [(p.id, p.name) for p in pgw.list_projects()]}


def start_bulk_quotas(request: PortalRequest, form: BulkQuotaForm) -> Operation:
    """The apply_quotas job (the page's and the JSON API's): one quota set, several projects."""
    chosen = [[pid, form.project_names[pid]] for pid in form.cleaned_data["projects"]]
    return start_operation(
        request,
        tasks.apply_quotas,
        target_name=", ".join(name for _pid, name in chosen)[:255],
        params={"projects": chosen, "values": form.values()},
    )


def follow_network_defaults(request: PortalRequest, project_id: str) -> None:
    """Neutron cannot hold the portal's network defaults: write them to the new project."""
    cloud_key = me(request).cloud_key
    values = NetworkQuotaDefaults.values_for(cloud_key)
    if values:
        gateway(request, QuotasGateway).update_network_quota(project_id, values)
        NetworkDefaultsApplied.objects.get_or_create(cloud_key=cloud_key, project_id=project_id)
