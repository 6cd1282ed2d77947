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

from openstack import exceptions
from openstack.connection import Connection

from portal.cloud import cloud_call

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


@dataclass(frozen=True)
class Message:
    """One of Cinder's user messages: what went wrong, in words meant for the user."""

    id: str
    text: str
    level: str = ""
    event_id: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class ImageChoice:
    id: str
    name: str
    min_disk: int  # GiB
    size: int  # bytes

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def needs_gib(self) -> int:
        """The smallest volume the image fits in: its min_disk or its size, rounded up."""
        return max(self.min_disk, -(-self.size // 1024**3), 1)


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

    @cloud_call
    def list_volumes(self) -> list[Volume]:
        return sorted(
            (to_volume(v) for v in self.conn.block_storage.volumes(details=True)),
            key=lambda v: (v.name.lower(), v.id),
        )

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
        return [
            VolumeType(t.id, t.name or t.id, t.description or "")
            for t in self.conn.block_storage.types()
        ]

    @cloud_call
    def list_availability_zones(self) -> list[str]:
        return sorted(
            z.name
            for z in self.conn.block_storage.availability_zones()
            if (z.state or {}).get("available", True)
        )

    @cloud_call
    def list_images(self) -> list[ImageChoice]:
        return [
            ImageChoice(i.id, i.name or "", int(i.min_disk or 0), int(i.size or 0))
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
