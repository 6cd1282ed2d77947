"""Block storage for the signed-in member: volumes, their snapshots, backups, transfers and
Cinder's user messages, through openstacksdk's block_storage (v3) proxy.

The only door to Cinder for volume pages. Each method makes about one SDK call with the
user's own connection and returns frozen dataclasses. Two reads are not Cinder's: the names
of the project's servers (Nova, one call, for "attached to") and the active images a volume
can be made from (Glance, one call).

Microversions: the SDK's Volume resource negotiates the highest version both sides know (up to
3.71), so an extend of an in-use volume (3.42) works where the cloud allows it; transfers use
/volume-transfers from 3.55 on (the SDK falls back to /os-volume-transfer before that); the
messages list is filtered by resource_uuid, which Cinder takes from 3.5 on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from openstack import exceptions
from openstack.connection import Connection

from portal.cloud import cloud_call
from portal.refs import Image, VolumeService

# Statuses Cinder reports while something is happening; a page that shows one polls.
BUSY_STATUSES = frozenset(
    {
        "creating",
        "attaching",
        "detaching",
        "deleting",
        "extending",
        "downloading",
        "uploading",
        "retyping",
        "reserved",
        "maintenance",
        "backing-up",
        "restoring-backup",
        "awaiting-transfer",
        "restoring",
    }
)
# Nova's server statuses in which it attaches a volume (a shelved-offloaded server needs
# 2.20 and a host to land on: left out, as the instances page does).
ATTACHABLE_STATUSES = frozenset({"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"})
MESSAGES_MICROVERSION = "3.5"  # GET /messages?resource_uuid=... (filtering came with 3.5)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if "+" not in text[10:] and "-" not in text[10:]:
        text += "+00:00"  # Cinder's times carry no zone; they are UTC
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Attachment:
    server_id: str
    device: str
    attachment_id: str = ""


@dataclass(frozen=True)
class Volume:
    id: str
    name: str
    size: int  # GiB
    status: str
    description: str = ""
    volume_type: str = ""
    is_bootable: bool = False
    is_encrypted: bool = False
    availability_zone: str = ""
    attachments: tuple[Attachment, ...] = ()
    snapshot_id: str = ""
    source_volume_id: str = ""
    image_name: str = ""  # the image it was made from (volume_image_metadata)
    metadata: tuple[tuple[str, str], ...] = ()
    created_at: datetime | None = None
    # An administrator's token sees these (os-vol-tenant-attr, os-vol-host-attr); else "".
    project_id: str = ""
    host: str = ""  # host@backend#pool, where Cinder placed it

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_busy(self) -> bool:
        return self.status in BUSY_STATUSES


@dataclass(frozen=True)
class Snapshot:
    id: str
    name: str
    size: int
    status: str
    volume_id: str
    description: str = ""
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_busy(self) -> bool:
        return self.status in BUSY_STATUSES


@dataclass(frozen=True)
class Backup:
    id: str
    name: str
    size: int
    status: str
    volume_id: str
    description: str = ""
    is_incremental: bool = False
    fail_reason: str = ""
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_busy(self) -> bool:
        return self.status in BUSY_STATUSES


@dataclass(frozen=True)
class Transfer:
    id: str
    name: str
    volume_id: str
    auth_key: str = ""  # only in the answer to its creation, never again
    created_at: datetime | None = None


@dataclass(frozen=True)
class VolumeType:
    id: str
    name: str
    description: str = ""
    # What an administrator sees (a member's list leaves extra specs out).
    is_public: bool = True
    extra_specs: tuple[tuple[str, str], ...] = ()
    qos_specs_id: str = ""


@dataclass(frozen=True)
class QosSpec:
    id: str
    name: str
    consumer: str  # "back-end", "front-end" (Nova applies it) or "both"
    specs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StoragePool:
    """One of the scheduler's pools (GET /scheduler-stats/get_pools?detail=True), in GiB.
    A figure the driver does not report is None ("unknown" or "infinite" included)."""

    name: str  # host@backend#pool
    backend: str
    protocol: str
    total_gb: float | None
    free_gb: float | None
    allocated_gb: float | None
    provisioned_gb: float | None
    thin: bool = False
    max_over_subscription_ratio: str = ""
    state: str = ""

    @property
    def used_percent(self) -> int | None:
        if not self.total_gb or self.free_gb is None:
            return None
        return round(100 * (self.total_gb - self.free_gb) / self.total_gb)


@dataclass(frozen=True)
class Message:
    """One of Cinder's user messages: what went wrong, in words meant for the user."""

    id: str
    text: str
    level: str = ""
    event_id: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class VolumeLimits:
    volumes_used: int
    volumes_max: int  # -1: unlimited
    gigabytes_used: int
    gigabytes_max: int


@dataclass(frozen=True)
class VolumeSpec:
    """What a create asks Cinder for; at most one source."""

    name: str
    size: int
    description: str = ""
    volume_type: str = ""
    availability_zone: str = ""
    image_id: str = ""
    snapshot_id: str = ""
    source_volume_id: str = ""


def to_volume(v: Any) -> Volume:
    image_meta = v.volume_image_metadata or {}
    return Volume(
        id=v.id,
        name=v.name or "",
        size=int(v.size or 0),
        status=v.status or "",
        description=v.description or "",
        volume_type=v.volume_type or "",
        is_bootable=bool(v.is_bootable),
        is_encrypted=bool(v.is_encrypted),
        availability_zone=v.availability_zone or "",
        attachments=tuple(
            Attachment(
                a.get("server_id") or "", a.get("device") or "", a.get("attachment_id") or ""
            )
            for a in v.attachments or []
        ),
        snapshot_id=v.snapshot_id or "",
        source_volume_id=v.source_volume_id or "",
        image_name=str(image_meta.get("image_name") or ""),
        metadata=tuple(sorted((str(k), str(val)) for k, val in (v.metadata or {}).items())),
        created_at=_parse_time(v.created_at),
        project_id=v.project_id or "",
        host=v.host or "",
    )


def volume_from_json(v: Mapping[str, Any]) -> Volume:
    """The same Volume from Cinder's JSON, for the lists: building openstacksdk's Volume
    resources costs about 3 ms each (0.6 s for 200, more than Cinder's answer takes)."""
    bootable = v.get("bootable")
    image_meta = v.get("volume_image_metadata") or {}
    return Volume(
        id=str(v["id"]),
        name=str(v.get("name") or ""),
        size=int(v.get("size") or 0),
        status=str(v.get("status") or ""),
        description=str(v.get("description") or ""),
        volume_type=str(v.get("volume_type") or ""),
        # Cinder sends "true"/"false" strings (the SDK's Body(type=bool) reads them the same)
        is_bootable=str(bootable).lower() == "true"
        if isinstance(bootable, str)
        else bool(bootable),
        is_encrypted=bool(v.get("encrypted")),
        availability_zone=str(v.get("availability_zone") or ""),
        attachments=tuple(
            Attachment(
                a.get("server_id") or "", a.get("device") or "", a.get("attachment_id") or ""
            )
            for a in v.get("attachments") or []
        ),
        snapshot_id=str(v.get("snapshot_id") or ""),
        source_volume_id=str(v.get("source_volid") or ""),
        image_name=str(image_meta.get("image_name") or ""),
        metadata=tuple(sorted((str(k), str(val)) for k, val in (v.get("metadata") or {}).items())),
        created_at=_parse_time(v.get("created_at")),
        project_id=str(v.get("os-vol-tenant-attr:tenant_id") or ""),
        host=str(v.get("os-vol-host-attr:host") or ""),
    )


def _pairs(specs: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (specs or {}).items()))


def to_volume_type(t: Any) -> VolumeType:
    return VolumeType(
        id=t.id,
        name=t.name or t.id,
        description=t.description or "",
        is_public=t.is_public is not False,
        extra_specs=_pairs(t.extra_specs),
    )


def volume_type_from_json(t: Mapping[str, Any]) -> VolumeType:
    """From Cinder's own JSON: the SDK's Type drops qos_specs_id."""
    public = t.get("os-volume-type-access:is_public", t.get("is_public", True))
    return VolumeType(
        id=str(t["id"]),
        name=str(t.get("name") or t["id"]),
        description=str(t.get("description") or ""),
        is_public=public is not False,
        extra_specs=_pairs(t.get("extra_specs")),
        qos_specs_id=str(t.get("qos_specs_id") or ""),
    )


def to_qos_spec(q: Any) -> QosSpec:
    return QosSpec(q.id, q.name or q.id, q.consumer or "", _pairs(q.specs))


def _gib(value: Any) -> float | None:
    """Cinder's capacity figures are numbers, or the strings "unknown" and "infinite"."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_storage_pool(name: str, c: Mapping[str, Any]) -> StoragePool:
    return StoragePool(
        name=name,
        backend=str(c.get("volume_backend_name") or ""),
        protocol=str(c.get("storage_protocol") or ""),
        total_gb=_gib(c.get("total_capacity_gb")),
        free_gb=_gib(c.get("free_capacity_gb")),
        allocated_gb=_gib(c.get("allocated_capacity_gb")),
        provisioned_gb=_gib(c.get("provisioned_capacity_gb")),
        thin=bool(c.get("thin_provisioning_support")),
        max_over_subscription_ratio=str(c.get("max_over_subscription_ratio") or ""),
        state=str(c.get("backend_state") or ""),
    )


def to_snapshot(s: Any) -> Snapshot:
    return Snapshot(
        id=s.id,
        name=s.name or "",
        size=int(s.size or 0),
        status=s.status or "",
        volume_id=s.volume_id or "",
        description=s.description or "",
        created_at=_parse_time(s.created_at),
    )


def to_backup(b: Any) -> Backup:
    return Backup(
        id=b.id,
        name=b.name or "",
        size=int(b.size or 0),
        status=b.status or "",
        volume_id=b.volume_id or "",
        description=b.description or "",
        is_incremental=bool(b.is_incremental),
        fail_reason=b.fail_reason or "",
        created_at=_parse_time(b.created_at),
    )


def to_message(m: Mapping[str, Any]) -> Message:
    return Message(
        id=str(m.get("id") or ""),
        text=str(m.get("user_message") or ""),
        level=str(m.get("message_level") or ""),
        event_id=str(m.get("event_id") or ""),
        created_at=_parse_time(m.get("created_at")),
    )


class VolumesGateway:
    def __init__(self, conn: Connection) -> None:
        # Any: openstacksdk types its proxies as unions of API versions.
        self.conn: Any = conn

    def has_volumes(self) -> bool:
        """Whether the cloud has Cinder (from the token's catalog; no API call)."""
        return bool(self.conn.has_service("block-storage"))

    # --- volumes -------------------------------------------------------------------------

    def _volumes_detail(self, params: Mapping[str, Any]) -> list[Volume]:
        """GET /volumes/detail as JSON, page after page: Cinder cuts an answer at
        osapi_max_limit (1000) and links the next page, which starts after the last id."""
        found: list[Volume] = []
        query = dict(params)
        while True:
            resp = self.conn.block_storage.get("/volumes/detail", params=query)
            exceptions.raise_from_response(resp)
            body = resp.json()
            page = body.get("volumes", [])
            found += (volume_from_json(v) for v in page)
            more = any(link.get("rel") == "next" for link in body.get("volumes_links") or [])
            if not (more and page):
                return sorted(found, key=lambda v: (v.name.lower(), v.id))
            query["marker"] = page[-1]["id"]

    @cloud_call
    def list_volumes(self) -> list[Volume]:
        """The project's volumes: one call (more only past 1000 volumes)."""
        return self._volumes_detail({})

    @cloud_call
    def get_volume(self, volume_id: str) -> Volume:
        return to_volume(self.conn.block_storage.get_volume(volume_id))

    @cloud_call
    def create_volume(self, spec: VolumeSpec) -> Volume:
        attrs: dict[str, Any] = {"name": spec.name, "size": spec.size}
        for key, value in (
            ("description", spec.description),
            ("volume_type", spec.volume_type),
            ("availability_zone", spec.availability_zone),
            ("image_id", spec.image_id),
            ("snapshot_id", spec.snapshot_id),
            ("source_volume_id", spec.source_volume_id),
        ):
            if value:
                attrs[key] = value
        return to_volume(self.conn.block_storage.create_volume(**attrs))

    @cloud_call
    def update_volume(self, volume_id: str, name: str, description: str) -> None:
        self.conn.block_storage.update_volume(volume_id, name=name, description=description)

    @cloud_call
    def set_volume_bootable_status(self, volume_id: str, bootable: bool) -> None:
        """os-set_bootable: a separate action, not a field of the volume's update."""
        self.conn.block_storage.set_volume_bootable_status(volume_id, bootable)

    @cloud_call
    def delete_volume(self, volume_id: str) -> None:
        self.conn.block_storage.delete_volume(volume_id, ignore_missing=False)

    @cloud_call
    def extend_volume(self, volume_id: str, size: int) -> None:
        # An in-use volume needs 3.42; the SDK sends the highest version both sides know.
        self.conn.block_storage.extend_volume(volume_id, size)

    @cloud_call
    def retype_volume(self, volume_id: str, volume_type: str, migration_policy: str) -> None:
        """migration_policy "never" or "on-demand" (move the data to another backend)."""
        self.conn.block_storage.retype_volume(volume_id, volume_type, migration_policy)

    @cloud_call
    def upload_volume_to_image(
        self, volume_id: str, image_name: str, disk_format: str, force: bool
    ) -> str:
        """Cinder copies the volume into a new Glance image; returns the image's id."""
        answer = self.conn.block_storage.upload_volume_to_image(
            volume_id,
            image_name,
            force=force,
            disk_format=disk_format,
            container_format="bare",
        )
        return str((answer or {}).get("image_id") or "")

    @cloud_call
    def list_messages(self, volume_id: str) -> list[Message]:
        """Cinder's user messages about this volume (why a create or an attach failed)."""
        resp = self.conn.block_storage.get(
            "/messages",
            params={"resource_uuid": volume_id, "sort": "created_at:desc"},
            microversion=MESSAGES_MICROVERSION,
        )
        exceptions.raise_from_response(resp)
        return [to_message(m) for m in resp.json().get("messages", [])]

    # --- choices for the forms -----------------------------------------------------------

    @cloud_call
    def list_volume_types(self) -> list[VolumeType]:
        return [to_volume_type(t) for t in self.conn.block_storage.types()]

    @cloud_call
    def list_availability_zones(self) -> list[str]:
        return sorted(
            z.name
            for z in self.conn.block_storage.availability_zones()
            if (z.state or {}).get("available", True)
        )

    @cloud_call
    def list_images(self) -> list[Image]:
        return [
            Image(i.id, i.name or "", i.status or "", int(i.min_disk or 0), size=int(i.size or 0))
            for i in self.conn.image.images(status="active")
        ]

    @cloud_call
    def list_server_names(self) -> dict[str, str]:
        """The project's servers by id, for "attached to" (one Nova call, no details)."""
        return {s.id: s.name or s.id for s in self.conn.compute.servers(details=False)}

    @cloud_call
    def list_attachable_servers(self) -> dict[str, str]:
        """Servers that can take a volume now, by id (one Nova call)."""
        return {
            s.id: s.name or s.id
            for s in self.conn.compute.servers(details=True)
            if s.status in ATTACHABLE_STATUSES
        }

    @cloud_call
    def attach_volume(self, volume_id: str, server_id: str) -> None:
        """Nova attaches it (Nova's volume attachment API: Nova reserves the volume with
        Cinder and connects it on the host); the device name is Nova's choice."""
        self.conn.compute.create_volume_attachment(server_id, volume_id=volume_id)

    @cloud_call
    def detach_volume(self, volume_id: str, server_id: str) -> None:
        self.conn.compute.delete_volume_attachment(server_id, volume_id, ignore_missing=False)

    @cloud_call
    def get_limits(self) -> VolumeLimits:
        a = self.conn.block_storage.get_limits().absolute
        return VolumeLimits(
            int(a.total_volumes_used or 0),
            int(a.max_total_volumes if a.max_total_volumes is not None else -1),
            int(a.total_gigabytes_used or 0),
            int(a.max_total_volume_gigabytes if a.max_total_volume_gigabytes is not None else -1),
        )

    # --- snapshots -----------------------------------------------------------------------

    @cloud_call
    def list_snapshots(self, volume_id: str = "") -> list[Snapshot]:
        """The project's snapshots, or one volume's: filtered here, because Cinder's default
        resource_filters refuse volume_id to non-admins ("Invalid filters volume_id")."""
        found = (to_snapshot(s) for s in self.conn.block_storage.snapshots(details=True))
        return [s for s in found if not volume_id or s.volume_id == volume_id]

    @cloud_call
    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        return to_snapshot(self.conn.block_storage.get_snapshot(snapshot_id))

    @cloud_call
    def create_snapshot(self, volume_id: str, name: str, description: str, force: bool) -> Snapshot:
        """force: snapshot an in-use volume (Cinder refuses without it)."""
        return to_snapshot(
            self.conn.block_storage.create_snapshot(
                volume_id=volume_id, name=name, description=description, force=force
            )
        )

    @cloud_call
    def update_snapshot(self, snapshot_id: str, name: str, description: str) -> None:
        self.conn.block_storage.update_snapshot(snapshot_id, name=name, description=description)

    @cloud_call
    def delete_snapshot(self, snapshot_id: str) -> None:
        self.conn.block_storage.delete_snapshot(snapshot_id, ignore_missing=False)

    # --- backups -------------------------------------------------------------------------

    @cloud_call
    def list_backups(self) -> list[Backup]:
        return [to_backup(b) for b in self.conn.block_storage.backups(details=True)]

    @cloud_call
    def get_backup(self, backup_id: str) -> Backup:
        return to_backup(self.conn.block_storage.get_backup(backup_id))

    @cloud_call
    def create_backup(
        self, volume_id: str, name: str, description: str, incremental: bool, force: bool
    ) -> Backup:
        """incremental: only what changed since the last full backup; force: an in-use one."""
        return to_backup(
            self.conn.block_storage.create_backup(
                volume_id=volume_id,
                name=name,
                description=description,
                is_incremental=incremental,
                force=force,
            )
        )

    @cloud_call
    def restore_backup(self, backup_id: str, volume_id: str = "", name: str = "") -> str:
        """Onto an existing volume (its data is replaced), or a new one; returns its id."""
        restored = self.conn.block_storage.restore_backup(
            backup_id, volume=volume_id or None, name=name or None
        )
        return str(restored.volume_id or volume_id)

    @cloud_call
    def delete_backup(self, backup_id: str) -> None:
        self.conn.block_storage.delete_backup(backup_id, ignore_missing=False)

    # --- transfers -----------------------------------------------------------------------

    @cloud_call
    def list_transfers(self) -> list[Transfer]:
        return [
            Transfer(t.id, t.name or "", t.volume_id or "", created_at=_parse_time(t.created_at))
            for t in self.conn.block_storage.transfers(details=True)
        ]

    @cloud_call
    def get_transfer(self, transfer_id: str) -> Transfer:
        t = self.conn.block_storage.get_transfer(transfer_id)
        return Transfer(t.id, t.name or "", t.volume_id or "", created_at=_parse_time(t.created_at))

    @cloud_call
    def create_transfer(self, volume_id: str, name: str) -> Transfer:
        """The answer holds the auth key; Cinder never shows it again."""
        t = self.conn.block_storage.create_transfer(volume_id=volume_id, name=name)
        return Transfer(
            t.id,
            t.name or "",
            t.volume_id or volume_id,
            t.auth_key or "",
            _parse_time(t.created_at),
        )

    @cloud_call
    def accept_transfer(self, transfer_id: str, auth_key: str) -> str:
        """The volume joins the accepting project; returns its id."""
        accepted = self.conn.block_storage.accept_transfer(transfer_id, auth_key)
        return str(accepted.volume_id or "")

    @cloud_call
    def delete_transfer(self, transfer_id: str) -> None:
        self.conn.block_storage.delete_transfer(transfer_id, ignore_missing=False)

    # --- administrators: every project's volumes, types, QoS, pools, services -------------

    @cloud_call
    def list_all_volumes(self) -> list[Volume]:
        """Every project's volumes with their host (one call past 1000 only; admin only)."""
        return self._volumes_detail({"all_tenants": 1})

    @cloud_call
    def list_project_names(self) -> dict[str, str]:
        """Keystone's projects by id, for the project column (one call)."""
        return {p.id: p.name or p.id for p in self.conn.identity.projects()}

    @cloud_call
    def reset_volume_status(self, volume_id: str, status: str, attach_status: str) -> None:
        """os-reset_status: only Cinder's database changes, nothing on the backend. An empty
        attach_status leaves it as it is."""
        self.conn.block_storage.reset_volume_status(
            volume_id, status=status, attach_status=attach_status or None
        )

    @cloud_call
    def list_all_volume_types(self) -> list[VolumeType]:
        """Public and private types with their QoS association: GET /types?is_public=None
        (without it an admin sees only the public ones, Cinder's _parse_is_public), read as
        JSON because the SDK's Type drops qos_specs_id."""
        resp = self.conn.block_storage.get("/types", params={"is_public": "None"})
        exceptions.raise_from_response(resp)
        return sorted(
            (volume_type_from_json(t) for t in resp.json().get("volume_types", [])),
            key=lambda t: t.name.lower(),
        )

    @cloud_call
    def get_volume_type(self, type_id: str) -> VolumeType:
        resp = self.conn.block_storage.get(f"/types/{quote(type_id, safe='')}")
        exceptions.raise_from_response(resp)
        return volume_type_from_json(resp.json()["volume_type"])

    @cloud_call
    def get_default_volume_type(self) -> str:
        """The id of the type a volume gets when none is asked for ("" if Cinder has none):
        GET /types/default, which the SDK has no method for."""
        resp = self.conn.block_storage.get("/types/default")
        if resp.status_code == 404:
            return ""
        exceptions.raise_from_response(resp)
        return str(resp.json().get("volume_type", {}).get("id") or "")

    @cloud_call
    def create_volume_type(
        self, name: str, description: str, is_public: bool, extra_specs: Mapping[str, str]
    ) -> VolumeType:
        return to_volume_type(
            self.conn.block_storage.create_type(
                name=name,
                description=description or None,
                is_public=is_public,
                extra_specs=dict(extra_specs),
            )
        )

    @cloud_call
    def update_volume_type_extra_specs(self, type_id: str, specs: Mapping[str, str]) -> None:
        self.conn.block_storage.update_type_extra_specs(type_id, **specs)

    @cloud_call
    def delete_volume_type_extra_spec(self, type_id: str, key: str) -> None:
        self.conn.block_storage.delete_type_extra_specs(type_id, [key])

    @cloud_call
    def list_volume_type_access(self, type_id: str) -> list[str]:
        """The projects a private type is shared with (Cinder refuses this for a public one)."""
        return [
            str(a.get("project_id") or "") for a in self.conn.block_storage.get_type_access(type_id)
        ]

    @cloud_call
    def add_volume_type_access(self, type_id: str, project_id: str) -> None:
        self.conn.block_storage.add_type_access(type_id, project_id)

    @cloud_call
    def remove_volume_type_access(self, type_id: str, project_id: str) -> None:
        self.conn.block_storage.remove_type_access(type_id, project_id)

    @cloud_call
    def delete_volume_type(self, type_id: str) -> None:
        """Cinder refuses while a volume has the type, and for the default type."""
        self.conn.block_storage.delete_type(type_id, ignore_missing=False)

    @cloud_call
    def list_qos_specs(self) -> list[QosSpec]:
        return sorted(
            (to_qos_spec(q) for q in self.conn.block_storage.qos_specs()),
            key=lambda q: q.name.lower(),
        )

    @cloud_call
    def get_qos_spec(self, qos_id: str) -> QosSpec:
        return to_qos_spec(self.conn.block_storage.get_qos_spec(qos_id))

    @cloud_call
    def create_qos_spec(self, name: str, consumer: str, specs: Mapping[str, str]) -> QosSpec:
        # The specs travel as the body's own keys next to name and consumer (Cinder's API).
        return to_qos_spec(
            self.conn.block_storage.create_qos_spec(name=name, consumer=consumer, **specs)
        )

    @cloud_call
    def associate_qos_spec(self, qos_id: str, type_id: str) -> None:
        self.conn.block_storage.associate_qos_spec(qos_id, type_id)

    @cloud_call
    def disassociate_qos_spec(self, qos_id: str, type_id: str) -> None:
        self.conn.block_storage.disassociate_qos_spec(qos_id, type_id)

    @cloud_call
    def delete_qos_spec(self, qos_id: str) -> None:
        """Not forced: Cinder refuses while a type is associated with it."""
        self.conn.block_storage.delete_qos_spec(qos_id, ignore_missing=False)

    @cloud_call
    def list_storage_pools(self) -> list[StoragePool]:
        return sorted(
            (
                to_storage_pool(p.name or "", p.capabilities or {})
                for p in self.conn.block_storage.backend_pools()
            ),
            key=lambda p: p.name,
        )

    @cloud_call
    def list_volume_services(self) -> list[VolumeService]:
        return sorted(
            (
                VolumeService(
                    s.binary or "",
                    s.host or "",
                    s.availability_zone or "",
                    s.status or "",
                    s.state or "",
                    s.disabled_reason or "",
                    _parse_time(s.updated_at),
                )
                for s in self.conn.block_storage.services()
            ),
            key=lambda s: (s.binary, s.host),
        )

    @cloud_call
    def enable_volume_service(self, host: str, binary: str) -> None:
        # PUT /os-services/enable names the service by host and binary (it has no id).
        resp = self.conn.block_storage.put(
            "/os-services/enable", json={"host": host, "binary": binary}
        )
        exceptions.raise_from_response(resp)

    @cloud_call
    def disable_volume_service(self, host: str, binary: str, reason: str) -> None:
        resp = self.conn.block_storage.put(
            "/os-services/disable-log-reason",
            json={"host": host, "binary": binary, "disabled_reason": reason},
        )
        exceptions.raise_from_response(resp)
