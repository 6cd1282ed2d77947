"""What capacity trends read from the cloud: Placement's resource providers (inventories,
usages, allocations), each project's quota usage (Nova, Cinder, Neutron), the projects the
portal's service user may read, and Nova's host aggregates for the admin page.

The sampler (capacity/sampling.py) acts as the portal's service user (portal/cloud.py
service_user_connection): its `service` role lets Placement answer, and the quota reads of a
project use a token scoped to that project (the reader role the operator granted it, e.g.
inherited from the domain; docs/operations.md). The admin page reads the aggregates with the
administrator's own token. The Placement reads are the same calls as compute/gateway.py's
(inventories, usages); the list and the allocations are raw requests parsed from JSON, with
the microversion that returns them whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openstack import exceptions
from openstack.connection import Connection

from portal import cloud
from portal.cloud import cloud_call
from portal.refs import Aggregate, Inventory, ProjectRef

PLACEMENT_MICROVERSION = "1.14"  # parent/root provider uuids in the list


@dataclass(frozen=True)
class Provider:
    """A Placement resource provider: for Nova's compute nodes, the hypervisor, with its
    hypervisor_hostname as name and the same uuid as Nova's hypervisor id (>= 2.53)."""

    id: str
    name: str
    parent_id: str = ""


@dataclass(frozen=True)
class ComputeUsage:
    instances: int
    vcpus: int
    ram_mb: int


def _json(resp: Any) -> Any:
    """A raw SDK request's JSON, raising the SDK's exception for an error status (translated
    by cloud_call like any other)."""
    exceptions.raise_from_response(resp)
    return resp.json()


def _used(usage: Any, key: str) -> int:
    return int((usage or {}).get(key) or 0)


class CapacityGateway:
    def __init__(self, conn: Connection, where: cloud.Cloud | None = None) -> None:
        self.conn = conn
        self.where = where  # the cloud, when the connection is the service user's

    def has_service(self, service_type: str) -> bool:
        return bool(self.conn.has_service(service_type))

    @cloud_call
    def for_project(self, project_id: str) -> CapacityGateway:
        """The same reads with the service user's token rescoped to one project (a Keystone
        call when the first read asks for the token; no password sign-in per project)."""
        if self.where is None:
            raise ValueError("for_project needs the service user's gateway")
        token = self.conn.session.get_token()
        conn = cloud.service_user_connection(self.where, project_id, token=token or "")
        if conn is None:
            raise ValueError("the portal has no service user for this cloud")
        return CapacityGateway(conn, self.where)

    # --- Placement -------------------------------------------------------------------------

    @cloud_call
    def list_resource_providers(self) -> list[Provider]:
        found = _json(
            self.conn.placement.get("/resource_providers", microversion=PLACEMENT_MICROVERSION)
        )
        providers = [
            Provider(
                id=str(p["uuid"]),
                name=str(p.get("name") or p["uuid"]),
                parent_id=str(p.get("parent_provider_uuid") or ""),
            )
            for p in found.get("resource_providers", [])
        ]
        return sorted(providers, key=lambda p: p.name)

    @cloud_call
    def list_resource_provider_inventories(self, provider_id: str) -> list[Inventory]:
        return [
            Inventory(
                resource_class=i.resource_class,
                total=int(i.total or 0),
                reserved=int(i.reserved or 0),
                allocation_ratio=float(i.allocation_ratio or 1.0),
            )
            for i in self.conn.placement.resource_provider_inventories(provider_id)
        ]

    @cloud_call
    def get_resource_provider_usages(self, provider_id: str) -> dict[str, int]:
        usages = self.conn.placement.fetch_resource_provider_usages(provider_id).usages or {}
        return {k: int(v or 0) for k, v in usages.items()}

    @cloud_call
    def list_resource_provider_allocations(self, provider_id: str) -> tuple[str, ...]:
        """The consumers holding resources of the provider: Nova's instances on that host
        (and, while one moves, its migration record)."""
        found = _json(self.conn.placement.get(f"/resource_providers/{provider_id}/allocations"))
        return tuple(sorted(found.get("allocations", {})))

    # --- Keystone --------------------------------------------------------------------------

    @cloud_call
    def list_user_projects(self) -> list[ProjectRef]:
        """The projects the connection's user holds a role on (GET /v3/auth/projects, which
        every user may ask for itself): whose quota usage the service user may read."""
        found = _json(self.conn.identity.get("/auth/projects"))
        projects = [
            ProjectRef(str(p["id"]), str(p.get("name") or p["id"]))
            for p in found.get("projects", [])
            if p.get("enabled", True)
        ]
        return sorted(projects, key=lambda p: p.name.lower())

    # --- quota usage (the same calls as quotas/gateway.py, with usage) ---------------------

    @cloud_call
    def get_compute_quota_set(self, project_id: str) -> ComputeUsage:
        usage = self.conn.compute.get_quota_set(project_id, usage=True).usage or {}
        return ComputeUsage(
            instances=_used(usage, "instances"),
            vcpus=_used(usage, "cores"),
            ram_mb=_used(usage, "ram"),
        )

    @cloud_call
    def get_volume_quota_set(self, project_id: str) -> int:
        """GiB of volumes (and snapshots) the project uses, as Cinder counts its quota."""
        usage = self.conn.block_storage.get_quota_set(project_id, usage=True).usage or {}
        return _used(usage, "gigabytes")

    @cloud_call
    def get_network_quota(self, project_id: str) -> int:
        """Floating IPs the project holds (Neutron's quota details: used per resource)."""
        found = self.conn.network.get_quota(project_id, details=True).to_dict(computed=False)
        return _used(found.get("floatingip") or found.get("floating_ips"), "used")

    # --- Nova (the administrator's own token) ----------------------------------------------

    @cloud_call
    def list_aggregates(self) -> list[Aggregate]:
        found = [
            Aggregate(name=a.name or "", hosts=tuple(sorted(a.hosts or ())))
            for a in self.conn.compute.aggregates()
        ]
        return sorted(found, key=lambda a: a.name.lower())
