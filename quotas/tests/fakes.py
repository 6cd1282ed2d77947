"""In-memory stand-in for QuotasGateway: quotas with usage, default quotas, Nova's usage API
(paged by instance, in project order, hours counted inside the period as Nova counts them)
and Cinder volumes. It refuses what the clouds refuse, with their words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal.errors import CloudUnavailable, NotFound, Rejected
from portal.validators import INT32_MAX
from quotas import catalog
from quotas.gateway import (
    NetworkQuota,
    Quota,
    QuotaSet,
    QuotasGateway,
    ServerUsage,
    TenantUsage,
    UsagePage,
    VolumePage,
    VolumeSize,
    _nova_param,
)

NOVA_DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "metadata_items": 128,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
CINDER_DEFAULTS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "backups": 10,
    "backup_gigabytes": 1000,
    "groups": 10,
}
NEUTRON_DEFAULTS = {
    "networks": 100,
    "subnets": 100,
    "ports": 500,
    "routers": 10,
    "floating_ips": 50,
    "security_groups": 10,
    "security_group_rules": 100,
}


@dataclass
class FakeServer:
    project_id: str
    instance_id: str
    name: str
    started_at: datetime
    ended_at: datetime | None = None
    flavor: str = "m1.small"
    vcpus: int = 1
    memory_mb: int = 2048
    local_gb: int = 20


def _hours_for(server: FakeServer, start: datetime, end: datetime) -> float:
    """Nova's SimpleTenantUsageController._hours_for."""
    if server.ended_at and server.ended_at < start:
        return 0.0
    if server.started_at > end:
        return 0.0
    stop = min(end, server.ended_at) if server.ended_at else end
    return (stop - max(server.started_at, start)).total_seconds() / 3600.0


@dataclass
class FakeQuotasGateway(QuotasGateway):
    # project id -> service -> key -> limit; missing keys fall back to the defaults
    limits: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    # project id -> service -> key -> in use
    in_use: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    defaults: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            catalog.COMPUTE: dict(NOVA_DEFAULTS),
            catalog.VOLUME: dict(CINDER_DEFAULTS),
            catalog.NETWORK: dict(NEUTRON_DEFAULTS),  # neutron.conf: read-only in Neutron
        }
    )
    servers: list[FakeServer] = field(default_factory=list)
    volumes: list[VolumeSize] = field(default_factory=list)
    services: set[str] = field(default_factory=lambda: {"compute", "block-storage", "network"})
    refuse: dict[str, str] = field(default_factory=dict)  # service -> the cloud's reason
    unavailable: bool = False
    admin: bool = True  # whether the token may read every project (os-simple-tenant-usage:list)
    token_project: str = "p-demo"  # whose volumes a non-admin listing shows
    now: datetime | None = None  # Nova cuts the period at "now"
    calls: int = 0

    def _call(self) -> None:
        self.calls += 1
        if self.unavailable:
            raise CloudUnavailable("503 Service Unavailable")

    def has_service(self, service_type: str) -> bool:
        return service_type in self.services

    def limit(self, project_id: str, service: str, key: str) -> int:
        own = self.limits.get(project_id, {}).get(service, {})
        return own.get(key, self.defaults[service][key])

    def _quota_set(self, project_id: str, service: str) -> QuotaSet:
        self._call()
        used = self.in_use.get(project_id, {}).get(service, {})
        return QuotaSet(
            service=service,
            quotas={
                key: Quota(self.limit(project_id, service, key), used.get(key, 0))
                for key in catalog.keys_of(service)
            },
        )

    def get_compute_quota_set(self, project_id: str) -> QuotaSet:
        return self._quota_set(project_id, catalog.COMPUTE)

    def get_volume_quota_set(self, project_id: str) -> QuotaSet:
        return self._quota_set(project_id, catalog.VOLUME)

    def get_network_quota(self, project_id: str) -> QuotaSet:
        return self._quota_set(project_id, catalog.NETWORK)

    def _update(self, project_id: str, service: str, values: Mapping[str, int]) -> None:
        self._call()
        if service in self.refuse:
            raise Rejected(self.refuse[service], 403)
        used = self.in_use.get(project_id, {}).get(service, {})
        for key, value in values.items():
            if value < -1:
                raise Rejected(f"{key} must be >= -1", 400)
            if value > INT32_MAX:
                raise Rejected(f"{value} is greater than the maximum of {INT32_MAX}", 400)
            if value != -1 and value < used.get(key, 0):
                raise Rejected(
                    f"Quota limit {value} for {key} must be greater than or equal to already "
                    f"used and reserved {used.get(key, 0)}.",
                    400,
                )
        self.limits.setdefault(project_id, {}).setdefault(service, {}).update(values)

    def update_compute_quota_set(self, project_id: str, values: Mapping[str, int]) -> None:
        self._update(project_id, catalog.COMPUTE, values)

    def update_volume_quota_set(self, project_id: str, values: Mapping[str, int]) -> None:
        self._update(project_id, catalog.VOLUME, values)

    def update_network_quota(self, project_id: str, values: Mapping[str, int]) -> None:
        self._update(project_id, catalog.NETWORK, values)

    def _update_defaults(self, service: str, values: Mapping[str, int]) -> None:
        self._call()
        if service in self.refuse:
            raise Rejected(self.refuse[service], 403)
        for value in values.values():
            if not -1 <= value <= INT32_MAX:
                raise Rejected(f"{value} is not between -1 and {INT32_MAX}", 400)
        self.defaults[service].update(values)

    def get_compute_quota_class_set(self) -> dict[str, int]:
        self._call()
        return dict(self.defaults[catalog.COMPUTE])

    def update_compute_quota_class_set(self, values: Mapping[str, int]) -> None:
        self._update_defaults(catalog.COMPUTE, values)

    def get_volume_quota_class_set(self) -> dict[str, int]:
        self._call()
        return dict(self.defaults[catalog.VOLUME])

    def update_volume_quota_class_set(self, values: Mapping[str, int]) -> None:
        self._update_defaults(catalog.VOLUME, values)

    def get_network_quota_default(self) -> dict[str, int]:
        self._call()
        return dict(self.defaults[catalog.NETWORK])

    def list_network_quotas(self) -> list[NetworkQuota]:
        self._call()
        return [
            NetworkQuota(
                pid, {k: self.limit(pid, catalog.NETWORK, k) for k in own[catalog.NETWORK]}
            )
            for pid, own in sorted(self.limits.items())
            if own.get(catalog.NETWORK)
        ]

    def delete_network_quota(self, project_id: str) -> None:
        self._call()
        self.limits.get(project_id, {}).pop(catalog.NETWORK, None)

    # --- usage, as Nova computes and pages it -----------------------------------------------

    def _page(
        self,
        servers: list[FakeServer],
        start: datetime,
        end: datetime,
        limit: int,
        marker: str | None,
    ) -> UsagePage:
        for moment in (start, end):
            # Nova reads the time the gateway writes with strptime: four-digit years only.
            written = _nova_param(moment)
            try:
                datetime.strptime(written, "%Y-%m-%dT%H:%M:%S.%f")  # noqa: DTZ007 (as Nova)
            except ValueError:
                raise Rejected(f"Invalid datetime string: {written}", 400) from None
        if not start < end:
            raise Rejected(
                "Invalid start time. The start time cannot occur after the end time.", 400
            )
        end = min(end, self.now or datetime.now(UTC))
        chosen = sorted(
            (
                s
                for s in servers
                if (s.ended_at is None or s.ended_at > start) and s.started_at < end
            ),
            key=lambda s: (s.project_id, s.instance_id),
        )
        if marker is not None:
            ids = [s.instance_id for s in chosen]
            if marker not in ids:
                raise Rejected(f"Marker {marker} could not be found.", 400)
            chosen = chosen[ids.index(marker) + 1 :]
        window = chosen[:limit]
        parts: dict[str, list[ServerUsage]] = {}
        for s in window:
            hours = _hours_for(s, start, end)
            stop = s.ended_at or self.now or datetime.now(UTC)
            parts.setdefault(s.project_id, []).append(
                ServerUsage(
                    instance_id=s.instance_id,
                    name=s.name,
                    flavor=s.flavor,
                    vcpus=s.vcpus,
                    memory_mb=s.memory_mb,
                    local_gb=s.local_gb,
                    hours=hours,
                    started_at=s.started_at,
                    ended_at=s.ended_at,
                    state="terminated" if s.ended_at else "active",
                    uptime=int((stop - s.started_at).total_seconds()),
                )
            )
        usages = tuple(
            TenantUsage(
                project_id=pid,
                servers=tuple(servers_),
                hours=sum(u.hours for u in servers_),
                vcpu_hours=sum(u.vcpus * u.hours for u in servers_),
                disk_gb_hours=sum(u.local_gb * u.hours for u in servers_),
                ram_mb_hours=sum(u.memory_mb * u.hours for u in servers_),
            )
            for pid, servers_ in parts.items()
        )
        next_marker = window[-1].instance_id if len(window) == limit and window else None
        return UsagePage(usages=usages, next_marker=next_marker)

    def list_usages(
        self, start: datetime, end: datetime, *, limit: int, marker: str | None = None
    ) -> UsagePage:
        self._call()
        if not self.admin:
            raise Rejected(
                "Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.",
                403,
            )
        return self._page(self.servers, start, end, limit, marker)

    def get_usage(
        self,
        project_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int,
        marker: str | None = None,
    ) -> UsagePage:
        self._call()
        mine = [s for s in self.servers if s.project_id == project_id]
        return self._page(mine, start, end, limit, marker)

    def list_volumes(
        self, *, all_projects: bool, limit: int, marker: str | None = None
    ) -> VolumePage:
        self._call()
        if not self.has_service("block-storage"):
            raise NotFound("block-storage endpoint not found")
        chosen = sorted(
            (v for v in self.volumes if all_projects or v.project_id == self.token_project),
            key=lambda v: (v.project_id, v.id),
        )
        if marker is not None:
            chosen = chosen[[v.id for v in chosen].index(marker) + 1 :]
        window = chosen[:limit]
        if not all_projects:  # Cinder shows the owner to admins only
            window = [VolumeSize(v.id, "", v.size_gb) for v in window]
        next_marker = window[-1].id if len(window) == limit and window else None
        return VolumePage(volumes=tuple(window), next_marker=next_marker)
