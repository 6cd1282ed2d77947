"""Quotas, default quotas, usage and volume totals, from Nova, Cinder and Neutron.

Every method makes one API call with the caller's own connection. Usage and volume listings
return one page each (limit + marker): the report pages through them itself, so a year of
usage for a thousand projects is never held whole (quotas/usage.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from openstack import exceptions
from openstack.connection import Connection

from portal.cloud import cloud_call
from quotas import catalog

# Nova pages os-simple-tenant-usage (limit/marker, next links) from microversion 2.40.
USAGE_MICROVERSION = "2.40"


@dataclass(frozen=True)
class Quota:
    limit: int  # -1: unlimited
    in_use: int

    @property
    def unlimited(self) -> bool:
        return self.limit == catalog.UNLIMITED


@dataclass(frozen=True)
class QuotaSet:
    """One service's quotas of one project, with what the project uses now."""

    service: str
    quotas: Mapping[str, Quota]


@dataclass(frozen=True)
class NetworkQuota:
    """A project whose network quotas are its own (not Neutron's configured defaults)."""

    project_id: str
    limits: Mapping[str, int]


@dataclass(frozen=True)
class ServerUsage:
    instance_id: str
    name: str
    flavor: str
    vcpus: int
    memory_mb: int
    local_gb: int
    hours: float  # hours inside the period
    started_at: datetime | None
    ended_at: datetime | None
    state: str
    uptime: int  # seconds since launch (to the end, for deleted servers)

    @property
    def active(self) -> bool:
        return self.ended_at is None

    @property
    def uptime_parts(self) -> tuple[int, int, int]:
        """(days, hours, minutes) of uptime, for pages."""
        minutes = self.uptime // 60
        return minutes // 1440, minutes % 1440 // 60, minutes % 60


@dataclass(frozen=True)
class TenantUsage:
    """A project's usage over the period, or a part of it: Nova pages by instance, so one
    project can span two pages (quotas/usage.py joins the parts)."""

    project_id: str
    servers: tuple[ServerUsage, ...]
    hours: float
    vcpu_hours: float
    disk_gb_hours: float
    ram_mb_hours: float


@dataclass(frozen=True)
class UsagePage:
    usages: tuple[TenantUsage, ...]
    next_marker: str | None


@dataclass(frozen=True)
class VolumeSize:
    """A volume as usage counts it: its size, by project (GiB-hours)."""

    id: str
    project_id: str
    size_gb: int


@dataclass(frozen=True)
class VolumePage:
    volumes: tuple[VolumeSize, ...]
    next_marker: str | None


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _nova_time(value: str | None) -> datetime | None:
    """Nova writes naive UTC times ("2026-11-27T09:03:57.000000")."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _nova_param(moment: datetime) -> str:
    # Nova parses only "%Y-%m-%dT%H:%M:%S[.%f]" (no offset); our times are UTC.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _next_marker(data: dict[str, Any], links_key: str) -> str | None:
    for link in data.get(links_key) or []:
        if link.get("rel") == "next":
            found = parse_qs(urlparse(link["href"]).query).get("marker")
            return str(found[0]) if found else None
    return None


def _tenant_usage(raw: dict[str, Any]) -> TenantUsage:
    servers = tuple(
        ServerUsage(
            instance_id=s["instance_id"],
            name=s.get("name") or "",
            flavor=s.get("flavor") or "",
            vcpus=_int(s.get("vcpus")),
            memory_mb=_int(s.get("memory_mb")),
            local_gb=_int(s.get("local_gb")),
            hours=float(s.get("hours") or 0),
            started_at=_nova_time(s.get("started_at")),
            ended_at=_nova_time(s.get("ended_at")),
            state=s.get("state") or "",
            uptime=_int(s.get("uptime")),
        )
        for s in raw.get("server_usages") or []
    )
    return TenantUsage(
        project_id=raw["tenant_id"],
        servers=servers,
        hours=float(raw.get("total_hours") or 0),
        vcpu_hours=float(raw.get("total_vcpus_usage") or 0),
        disk_gb_hours=float(raw.get("total_local_gb_usage") or 0),
        ram_mb_hours=float(raw.get("total_memory_mb_usage") or 0),
    )


def _quota_set(service: str, limits: Mapping[str, Any], used: Mapping[str, Any]) -> QuotaSet:
    return QuotaSet(
        service=service,
        quotas={
            key: Quota(limit=_int(limits.get(key)), in_use=_int(used.get(key)))
            for key in catalog.keys_of(service)
            if limits.get(key) is not None
        },
    )


class QuotasGateway:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has_service(self, service_type: str) -> bool:
        """From the token's catalog; no API call."""
        return bool(self.conn.has_service(service_type))

    # --- a project's quotas, with usage -------------------------------------------------

    @cloud_call
    def get_compute_quota_set(self, project_id: str) -> QuotaSet:
        found = self.conn.compute.get_quota_set(project_id, usage=True)
        return _quota_set(catalog.COMPUTE, found.to_dict(computed=False), found.usage or {})

    @cloud_call
    def get_volume_quota_set(self, project_id: str) -> QuotaSet:
        found = self.conn.block_storage.get_quota_set(project_id, usage=True)
        return _quota_set(catalog.VOLUME, found.to_dict(computed=False), found.usage or {})

    @cloud_call
    def get_network_quota(self, project_id: str) -> QuotaSet:
        found = self.conn.network.get_quota(project_id, details=True).to_dict(computed=False)
        # details: every quota is {"limit": n, "used": n, "reserved": n}
        limits = {k: v["limit"] for k, v in found.items() if isinstance(v, dict)}
        used = {k: v.get("used", 0) for k, v in found.items() if isinstance(v, dict)}
        return _quota_set(catalog.NETWORK, limits, used)

    @cloud_call
    def update_compute_quota_set(self, project_id: str, values: Mapping[str, int]) -> None:
        attrs: dict[str, Any] = dict(values)
        self.conn.compute.update_quota_set(project_id, **attrs)

    @cloud_call
    def update_volume_quota_set(self, project_id: str, values: Mapping[str, int]) -> None:
        self.conn.block_storage.update_quota_set(project_id, **values)

    @cloud_call
    def update_network_quota(self, project_id: str, values: Mapping[str, int]) -> None:
        # check_limit: Neutron, like Nova and Cinder, then refuses a limit below usage.
        self.conn.network.update_quota(project_id, check_limit=True, **values)

    # --- default quotas -------------------------------------------------------------------

    @cloud_call
    def get_compute_quota_class_set(self) -> dict[str, int]:
        found = self.conn.compute.get_quota_class_set("default").to_dict(computed=False)
        return {k: _int(found[k]) for k in catalog.keys_of(catalog.COMPUTE) if k in found}

    @cloud_call
    def update_compute_quota_class_set(self, values: Mapping[str, int]) -> None:
        self.conn.compute.update_quota_class_set("default", **values)

    @cloud_call
    def get_volume_quota_class_set(self) -> dict[str, int]:
        found = self.conn.block_storage.get_quota_class_set("default").to_dict(computed=False)
        return {
            k: _int(found[k]) for k in catalog.keys_of(catalog.VOLUME) if found.get(k) is not None
        }

    @cloud_call
    def update_volume_quota_class_set(self, values: Mapping[str, int]) -> None:
        self.conn.block_storage.update_quota_class_set("default", **values)

    @cloud_call
    def get_network_quota_default(self) -> dict[str, int]:
        """Neutron's configured defaults (neutron.conf [quotas]); Neutron has no API to change
        them, so the portal applies its own network defaults project by project."""
        found = self.conn.network.get_quota_default(str(self.conn.current_project_id))
        values = found.to_dict(computed=False)
        return {
            k: _int(values[k])
            for k in catalog.keys_of(catalog.NETWORK)
            if values.get(k) is not None
        }

    @cloud_call
    def list_network_quotas(self) -> list[NetworkQuota]:
        """Projects whose network quotas differ from Neutron's defaults (admin only)."""
        found = []
        for quota in self.conn.network.quotas():
            values = quota.to_dict(computed=False)
            limits = {
                k: _int(values[k])
                for k in catalog.keys_of(catalog.NETWORK)
                if values.get(k) is not None
            }
            found.append(NetworkQuota(project_id=quota.project_id, limits=limits))
        return found

    @cloud_call
    def delete_network_quota(self, project_id: str) -> None:
        """Back to Neutron's configured defaults."""
        self.conn.network.delete_quota(project_id, ignore_missing=True)

    # --- usage -----------------------------------------------------------------------------

    def _usage_query(
        self, start: datetime, end: datetime, limit: int, marker: str | None
    ) -> dict[str, Any]:
        query: dict[str, Any] = {
            "start": _nova_param(start),
            "end": _nova_param(end),
            "detailed": 1,
            "limit": limit,
        }
        if marker:
            query["marker"] = marker
        return query

    @cloud_call
    def list_usages(
        self, start: datetime, end: datetime, *, limit: int, marker: str | None = None
    ) -> UsagePage:
        """One page of every project's usage (admin), `limit` instances long, in project order."""
        response = self.conn.compute.get(
            "/os-simple-tenant-usage",
            params=self._usage_query(start, end, limit, marker),
            microversion=USAGE_MICROVERSION,
            raise_exc=False,
        )
        exceptions.raise_from_response(response)
        data = response.json()
        return UsagePage(
            usages=tuple(_tenant_usage(u) for u in data.get("tenant_usages") or []),
            next_marker=_next_marker(data, "tenant_usages_links"),
        )

    @cloud_call
    def get_usage(
        self,
        project_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int,
        marker: str | None = None,
    ) -> UsagePage:
        """One page of one project's usage; a member may read their own project's."""
        response = self.conn.compute.get(
            f"/os-simple-tenant-usage/{project_id}",
            params=self._usage_query(start, end, limit, marker),
            microversion=USAGE_MICROVERSION,
            raise_exc=False,
        )
        exceptions.raise_from_response(response)
        data = response.json()
        raw = data.get("tenant_usage") or {}
        return UsagePage(
            usages=(_tenant_usage(raw),) if raw.get("tenant_id") else (),
            next_marker=_next_marker(data, "tenant_usage_links"),
        )

    @cloud_call
    def list_volumes(
        self, *, all_projects: bool, limit: int, marker: str | None = None
    ) -> VolumePage:
        """One page of volumes in project order: the caller's own, or every project's (admin)."""
        params: dict[str, Any] = {"sort": "project_id:asc,id:asc", "limit": limit}
        if all_projects:
            params["all_tenants"] = 1
        if marker:
            params["marker"] = marker
        response = self.conn.block_storage.get("/volumes/detail", params=params, raise_exc=False)
        exceptions.raise_from_response(response)
        data = response.json()
        volumes = tuple(
            VolumeSize(
                id=v["id"],
                project_id=v.get("os-vol-tenant-attr:tenant_id") or "",
                size_gb=_int(v.get("size")),
            )
            for v in data.get("volumes") or []
        )
        return VolumePage(volumes=volumes, next_marker=_next_marker(data, "volumes_links"))
