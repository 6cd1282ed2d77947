"""In-memory stand-in for VolumesGateway: Cinder's volumes, snapshots, backups and transfers of
a few projects, with Cinder's rules where the portal depends on them (a source's size, quota,
delete refused with snapshots or attached, extend only grows, retype to another type, restore
onto an available volume large enough, a transfer's key). Work that Cinder does in the
background leaves a busy status until the test calls settle().

`read_only` stands for a reader's token: every change is refused with Cinder's policy answer.
`project` is whose token it is (a transfer is accepted by another project)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from portal.errors import CloudError, NotFound, Rejected
from portal.refs import Image, VolumeService
from volumes.gateway import (
    Attachment,
    Backup,
    Message,
    QosSpec,
    Snapshot,
    StoragePool,
    Transfer,
    Volume,
    VolumeLimits,
    VolumesGateway,
    VolumeSpec,
    VolumeType,
)

PROJECT = "p-demo"
IN_USE_OR_SNAPSHOTS = (
    "Invalid volume: Volume status must be available or error or error_restoring or "
    "error_extending or error_managing and must not be migrating, attached, belong to a group, "
    "have snapshots, awaiting a transfer, or be disassociated from snapshots after volume "
    "transfer."
)
# What Cinder's os-reset_status schema accepts (cinder/api/schemas/volume_actions.py).
RESET_STATUSES = frozenset(
    {"available", "in-use", "error", "maintenance", "creating", "attaching", "detaching"}
)
# What each busy status becomes when Cinder's background work is done.
SETTLES = {
    "creating": "available",
    "extending": "available",
    "retyping": "available",
    "backing-up": "available",
    "restoring-backup": "available",
    "uploading": "available",
    "downloading": "available",
}


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeVolumesGateway(VolumesGateway):
    volumes: dict[str, Volume] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # volume id -> project id
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    backups: dict[str, Backup] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=dict)
    images: dict[str, Image] = field(default_factory=dict)
    uploaded: dict[str, str] = field(default_factory=dict)  # image id -> volume id
    types: list[VolumeType] = field(
        default_factory=lambda: [
            VolumeType("t-ceph", "ceph", extra_specs=(("volume_backend_name", "ceph"),)),
            VolumeType("t-fast", "fast"),
        ]
    )
    default_type: str = "t-ceph"
    type_access: dict[str, list[str]] = field(default_factory=dict)  # private type -> projects
    qos: dict[str, QosSpec] = field(default_factory=dict)
    pools: list[StoragePool] = field(
        default_factory=lambda: [
            StoragePool("devcloud@ceph#ceph", "ceph", "ceph", 2.85, 2.5, 3.0, None, True, "20.0")
        ]
    )
    services: list[VolumeService] = field(
        default_factory=lambda: [
            VolumeService("cinder-scheduler", "devcloud", "nova", "enabled", "up"),
            VolumeService("cinder-volume", "devcloud@ceph", "nova", "enabled", "up"),
        ]
    )
    project_names: dict[str, str] = field(
        default_factory=lambda: {PROJECT: "demo", "p-study1": "study1"}
    )
    zones: list[str] = field(default_factory=lambda: ["nova"])
    servers: dict[str, str] = field(default_factory=lambda: {"srv-1": "web-1"})
    quota_volumes: int = 10
    quota_gigabytes: int = 100
    service: bool = True
    read_only: bool = False
    project: str = PROJECT
    failures: dict[str, CloudError] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    # --- arranging ---------------------------------------------------------------------------

    def add_volume(self, name: str = "data", size: int = 1, **fields: object) -> Volume:
        volume = Volume(
            id=str(uuid.uuid4()),
            name=name,
            size=size,
            status=str(fields.pop("status", "available")),
            volume_type=str(fields.pop("volume_type", "ceph")),
            availability_zone="nova",
            created_at=_now(),
            **fields,  # type: ignore[arg-type]
        )
        self.volumes[volume.id] = volume
        self.owners[volume.id] = self.project
        return volume

    def add_image(self, name: str = "cirros", min_disk: int = 1, size: int = 20 * 1024**2) -> str:
        image = Image(str(uuid.uuid4()), name, "active", min_disk, size=size)
        self.images[image.id] = image
        return image.id

    def attach(self, volume_id: str, server_id: str = "srv-1", device: str = "/dev/vdb") -> None:
        volume = self.volumes[volume_id]
        self.volumes[volume_id] = replace(
            volume, status="in-use", attachments=(Attachment(server_id, device, "att-1"),)
        )

    def settle(self) -> None:
        """Cinder's background work is done: busy statuses become their outcome."""
        for key, v in list(self.volumes.items()):
            self.volumes[key] = replace(v, status=SETTLES.get(v.status, v.status))
        for key, s in list(self.snapshots.items()):
            self.snapshots[key] = replace(s, status=SETTLES.get(s.status, s.status))
        for key, b in list(self.backups.items()):
            self.backups[key] = replace(b, status=SETTLES.get(b.status, b.status))

    # --- Cinder's rules ------------------------------------------------------------------------

    def _call(self, name: str, change: bool = False) -> None:
        self.calls.append(name)
        if name in self.failures:
            raise self.failures[name]
        if change and self.read_only:
            raise Rejected(f"Policy doesn't allow volume:{name} to be performed.", 403)

    def _volume(self, volume_id: str) -> Volume:
        if volume_id not in self.volumes or self.owners.get(volume_id) != self.project:
            raise NotFound(f"Volume {volume_id} could not be found.")
        return self.volumes[volume_id]

    def _mine(self) -> list[Volume]:
        return [v for k, v in self.volumes.items() if self.owners.get(k) == self.project]

    def _check_quota(self, count: int, gigabytes: int) -> None:
        mine = self._mine()
        if len(mine) + count > self.quota_volumes:
            raise Rejected(
                "VolumeLimitExceeded: Maximum number of volumes allowed "
                f"({self.quota_volumes}) exceeded for quota 'volumes'.",
                413,
            )
        used = sum(v.size for v in mine)
        if used + gigabytes > self.quota_gigabytes:
            raise Rejected(
                "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
                f"gigabytes quota. Requested {gigabytes}G, quota is {self.quota_gigabytes}G and "
                f"{used}G has been consumed.",
                413,
            )

    # --- the gateway -------------------------------------------------------------------------

    def has_volumes(self) -> bool:
        return self.service

    def list_volumes(self) -> list[Volume]:
        self._call("list_volumes")
        return sorted(self._mine(), key=lambda v: (v.name.lower(), v.id))

    def get_volume(self, volume_id: str) -> Volume:
        self._call("get_volume")
        return self._volume(volume_id)

    def create_volume(self, spec: VolumeSpec) -> Volume:
        self._call("create_volume", change=True)
        need, bootable = 1, False
        if spec.image_id:
            if spec.image_id not in self.images:
                raise Rejected(f"Invalid image identifier or unable to access {spec.image_id}.")
            need, bootable = self.images[spec.image_id].needs_gib, True
        if spec.snapshot_id:
            need = self._snapshot(spec.snapshot_id).size
        if spec.source_volume_id:
            need = self._volume(spec.source_volume_id).size
        if spec.size < need:
            raise Rejected(
                f"Invalid input received: Volume size '{spec.size}'GB cannot be smaller than "
                f"the source size {need}GB."
            )
        if spec.volume_type and spec.volume_type not in {t.name for t in self.types}:
            raise NotFound(f"Volume type with name {spec.volume_type} could not be found.")
        self._check_quota(1, spec.size)
        return self.add_volume(
            spec.name,
            spec.size,
            status="creating",
            description=spec.description,
            volume_type=spec.volume_type or "ceph",
            is_bootable=bootable,
            snapshot_id=spec.snapshot_id,
            source_volume_id=spec.source_volume_id,
            image_name=self.images[spec.image_id].name if spec.image_id else "",
        )

    def update_volume(self, volume_id: str, name: str, description: str) -> None:
        self._call("update_volume", change=True)
        volume = self._volume(volume_id)
        self.volumes[volume_id] = replace(volume, name=name, description=description)

    def set_volume_bootable_status(self, volume_id: str, bootable: bool) -> None:
        self._call("set_volume_bootable_status", change=True)
        volume = self._volume(volume_id)
        self.volumes[volume_id] = replace(volume, is_bootable=bootable)

    def delete_volume(self, volume_id: str) -> None:
        self._call("delete_volume", change=True)
        volume = self._volume(volume_id)
        has_snapshots = any(s.volume_id == volume_id for s in self.snapshots.values())
        if volume.status not in ("available", "error") or has_snapshots:
            raise Rejected(IN_USE_OR_SNAPSHOTS)
        del self.volumes[volume_id]
        del self.owners[volume_id]

    def extend_volume(self, volume_id: str, size: int) -> None:
        self._call("extend_volume", change=True)
        volume = self._volume(volume_id)
        if volume.status not in ("available", "in-use"):
            raise Rejected(
                f"Invalid volume: Volume {volume_id} status must be available or in-use."
            )
        if size <= volume.size:
            raise Rejected(
                "Invalid input received: New size for extend must be greater than current size."
                f" (current: {volume.size}, extended: {size})."
            )
        self._check_quota(0, size - volume.size)
        status = "extending" if volume.status == "available" else "in-use"
        self.volumes[volume_id] = replace(volume, size=size, status=status)

    def retype_volume(self, volume_id: str, volume_type: str, migration_policy: str) -> None:
        self._call("retype_volume", change=True)
        volume = self._volume(volume_id)
        if volume_type == volume.volume_type:
            raise Rejected("Invalid volume type: Retype requested to the same volume type.")
        if volume_type not in {t.name for t in self.types}:
            raise NotFound(f"Volume type with name {volume_type} could not be found.")
        if migration_policy == "never" and volume_type == "fast":
            raise Rejected("Volume migration is not allowed for this retype (policy: never).")
        self.volumes[volume_id] = replace(volume, volume_type=volume_type, status="retyping")

    def upload_volume_to_image(
        self, volume_id: str, image_name: str, disk_format: str, force: bool
    ) -> str:
        self._call("upload_volume_to_image", change=True)
        volume = self._volume(volume_id)
        if volume.status == "in-use" and not force:
            raise Rejected("Invalid volume: Volume status must be available.")
        image_id = str(uuid.uuid4())
        self.uploaded[image_id] = volume_id
        self.volumes[volume_id] = replace(volume, status="uploading")
        return image_id

    def list_messages(self, volume_id: str) -> list[Message]:
        self._call("list_messages")
        return list(self.messages.get(volume_id, []))

    def list_volume_types(self) -> list[VolumeType]:
        self._call("list_volume_types")
        return list(self.types)

    def list_availability_zones(self) -> list[str]:
        self._call("list_availability_zones")
        return list(self.zones)

    def list_images(self) -> list[Image]:
        self._call("list_images")
        return list(self.images.values())

    def list_server_names(self) -> dict[str, str]:
        self._call("list_server_names")
        return dict(self.servers)

    def list_attachable_servers(self) -> dict[str, str]:
        self._call("list_attachable_servers")
        return dict(self.servers)

    def attach_volume(self, volume_id: str, server_id: str) -> None:
        self._call("attach_volume", change=True)
        volume = self._volume(volume_id)
        if server_id not in self.servers:
            raise NotFound(f"Instance {server_id} could not be found.")
        if volume.status != "available":
            raise Rejected(
                f"Invalid volume: volume {volume_id} status must be available or downloading",
                400,
            )
        self.attach(volume_id, server_id)

    def detach_volume(self, volume_id: str, server_id: str) -> None:
        self._call("detach_volume", change=True)
        volume = self._volume(volume_id)
        if not any(a.server_id == server_id for a in volume.attachments):
            raise NotFound(f"volume_id {volume_id} not found as an attachment of {server_id}")
        left = tuple(a for a in volume.attachments if a.server_id != server_id)
        self.volumes[volume_id] = replace(
            volume, attachments=left, status="in-use" if left else "available"
        )

    def get_limits(self) -> VolumeLimits:
        self._call("get_limits")
        mine = self._mine()
        return VolumeLimits(
            len(mine), self.quota_volumes, sum(v.size for v in mine), self.quota_gigabytes
        )

    # --- snapshots ---------------------------------------------------------------------------

    def _snapshot(self, snapshot_id: str) -> Snapshot:
        snapshot = self.snapshots.get(snapshot_id)
        if snapshot is None or self.owners.get(snapshot.volume_id) != self.project:
            raise NotFound(f"Snapshot {snapshot_id} could not be found.")
        return snapshot

    def list_snapshots(self, volume_id: str = "") -> list[Snapshot]:
        self._call("list_snapshots")
        return [
            s
            for s in self.snapshots.values()
            if self.owners.get(s.volume_id) == self.project
            and (not volume_id or s.volume_id == volume_id)
        ]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        self._call("get_snapshot")
        return self._snapshot(snapshot_id)

    def create_snapshot(self, volume_id: str, name: str, description: str, force: bool) -> Snapshot:
        self._call("create_snapshot", change=True)
        volume = self._volume(volume_id)
        if volume.status != "available" and not (force and volume.status == "in-use"):
            raise Rejected(f"Invalid volume: Volume {volume_id} status must be available.")
        snapshot = Snapshot(
            str(uuid.uuid4()), name, volume.size, "creating", volume_id, description, _now()
        )
        self.snapshots[snapshot.id] = snapshot
        return snapshot

    def update_snapshot(self, snapshot_id: str, name: str, description: str) -> None:
        self._call("update_snapshot", change=True)
        snapshot = self._snapshot(snapshot_id)
        self.snapshots[snapshot_id] = replace(snapshot, name=name, description=description)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._call("delete_snapshot", change=True)
        snapshot = self._snapshot(snapshot_id)
        if snapshot.status not in ("available", "error"):
            raise Rejected("Invalid snapshot: Snapshot status must be available or error.")
        del self.snapshots[snapshot_id]

    # --- backups -----------------------------------------------------------------------------

    def _backup(self, backup_id: str) -> Backup:
        backup = self.backups.get(backup_id)
        if backup is None:
            raise NotFound(f"Backup {backup_id} could not be found.")
        return backup

    def list_backups(self) -> list[Backup]:
        self._call("list_backups")
        return list(self.backups.values())

    def get_backup(self, backup_id: str) -> Backup:
        self._call("get_backup")
        return self._backup(backup_id)

    def create_backup(
        self, volume_id: str, name: str, description: str, incremental: bool, force: bool
    ) -> Backup:
        self._call("create_backup", change=True)
        volume = self._volume(volume_id)
        if volume.status != "available" and not (force and volume.status == "in-use"):
            raise Rejected(
                f"Invalid volume: Volume to be backed up must be available or in-use, but the "
                f'current status is "{volume.status}".'
            )
        full = any(
            b.volume_id == volume_id and b.status == "available" for b in self.backups.values()
        )
        if incremental and not full:
            raise Rejected("Invalid backup: No backups available to do an incremental backup.")
        backup = Backup(
            str(uuid.uuid4()),
            name,
            volume.size,
            "creating",
            volume_id,
            description,
            incremental,
            created_at=_now(),
        )
        self.backups[backup.id] = backup
        return backup

    def restore_backup(self, backup_id: str, volume_id: str = "", name: str = "") -> str:
        self._call("restore_backup", change=True)
        backup = self._backup(backup_id)
        if backup.status != "available":
            raise Rejected("Invalid backup: Backup status must be available.")
        if volume_id:
            volume = self._volume(volume_id)
            if volume.status != "available":
                raise Rejected(
                    f"Invalid volume: Volume to be restored to must be available, but the "
                    f'current status is "{volume.status}".'
                )
            if volume.size < backup.size:
                raise Rejected(
                    f"Invalid volume: volume size {volume.size} is too small to restore backup "
                    f"of size {backup.size}."
                )
            self.volumes[volume_id] = replace(volume, status="restoring-backup")
            return volume_id
        self._check_quota(1, backup.size)
        return self.add_volume(name, backup.size, status="restoring-backup").id

    def delete_backup(self, backup_id: str) -> None:
        self._call("delete_backup", change=True)
        backup = self._backup(backup_id)
        if backup.status not in ("available", "error"):
            raise Rejected("Invalid backup: Backup status must be available or error.")
        del self.backups[backup_id]

    # --- transfers ---------------------------------------------------------------------------

    def list_transfers(self) -> list[Transfer]:
        self._call("list_transfers")
        return [
            replace(t, auth_key="")
            for t in self.transfers.values()
            if self.owners.get(t.volume_id) == self.project
        ]

    def get_transfer(self, transfer_id: str) -> Transfer:
        self._call("get_transfer")
        transfer = self.transfers.get(transfer_id)
        if transfer is None or self.owners.get(transfer.volume_id) != self.project:
            raise NotFound(f"Transfer {transfer_id} could not be found.")
        return replace(transfer, auth_key="")

    def create_transfer(self, volume_id: str, name: str) -> Transfer:
        self._call("create_transfer", change=True)
        volume = self._volume(volume_id)
        if volume.status != "available":
            raise Rejected(f"Invalid volume: Status of volume {volume_id} must be available.")
        transfer = Transfer(str(uuid.uuid4()), name, volume_id, secrets.token_hex(8), _now())
        self.transfers[transfer.id] = transfer
        self.volumes[volume_id] = replace(volume, status="awaiting-transfer")
        return transfer

    def accept_transfer(self, transfer_id: str, auth_key: str) -> str:
        self._call("accept_transfer", change=True)
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            raise NotFound(f"Transfer {transfer_id} could not be found.")
        if auth_key != transfer.auth_key:
            raise Rejected(
                f"Invalid auth key: Attempt to transfer {transfer_id} with invalid auth key."
            )
        del self.transfers[transfer_id]
        volume = self.volumes[transfer.volume_id]
        self.volumes[volume.id] = replace(volume, status="available")
        self.owners[volume.id] = self.project
        return volume.id

    def delete_transfer(self, transfer_id: str) -> None:
        self._call("delete_transfer", change=True)
        transfer = self.transfers.get(transfer_id)
        if transfer is None or self.owners.get(transfer.volume_id) != self.project:
            raise NotFound(f"Transfer {transfer_id} could not be found.")
        del self.transfers[transfer_id]
        volume = self.volumes[transfer.volume_id]
        self.volumes[volume.id] = replace(volume, status="available")

    # --- administrators ----------------------------------------------------------------------
    # The fake answers whoever asks: the views' admin_required is what keeps others out.

    def list_all_volumes(self) -> list[Volume]:
        self._call("list_all_volumes")
        return sorted(
            (replace(v, project_id=self.owners.get(k, "")) for k, v in self.volumes.items()),
            key=lambda v: (v.name.lower(), v.id),
        )

    def list_project_names(self) -> dict[str, str]:
        self._call("list_project_names")
        return dict(self.project_names)

    def reset_volume_status(self, volume_id: str, status: str, attach_status: str) -> None:
        self._call("reset_volume_status", change=True)
        if volume_id not in self.volumes:
            raise NotFound(f"Volume {volume_id} could not be found.")
        if status not in RESET_STATUSES:
            raise Rejected(f"Invalid input for field/attribute status. Value: {status}.")
        volume = self.volumes[volume_id]
        if status == "in-use" and not volume.attachments:
            raise Rejected(
                "Cannot reset-state to in-use because volume does not have any attachments."
            )
        attachments = () if attach_status == "detached" else volume.attachments
        self.volumes[volume_id] = replace(volume, status=status, attachments=attachments)

    def _type(self, type_id: str) -> VolumeType:
        found = next((t for t in self.types if t.id == type_id), None)
        if found is None:
            raise NotFound(f"Volume type {type_id} could not be found.")
        return found

    def _set_type(self, new: VolumeType) -> None:
        self.types = [new if t.id == new.id else t for t in self.types]

    def list_all_volume_types(self) -> list[VolumeType]:
        self._call("list_all_volume_types")
        return sorted(self.types, key=lambda t: t.name.lower())

    def get_volume_type(self, type_id: str) -> VolumeType:
        self._call("get_volume_type")
        return self._type(type_id)

    def get_default_volume_type(self) -> str:
        self._call("get_default_volume_type")
        return self.default_type

    def create_volume_type(
        self, name: str, description: str, is_public: bool, extra_specs: Mapping[str, str]
    ) -> VolumeType:
        self._call("create_volume_type", change=True)
        if any(t.name == name for t in self.types):
            raise Rejected(f"Volume Type {name} already exists.", 409)
        made = VolumeType(
            str(uuid.uuid4()), name, description, is_public, tuple(sorted(extra_specs.items()))
        )
        self.types.append(made)
        if not is_public:
            self.type_access[made.id] = []
        return made

    def update_volume_type_extra_specs(self, type_id: str, specs: Mapping[str, str]) -> None:
        self._call("update_volume_type_extra_specs", change=True)
        t = self._type(type_id)
        merged = dict(t.extra_specs) | dict(specs)
        self._set_type(replace(t, extra_specs=tuple(sorted(merged.items()))))

    def delete_volume_type_extra_spec(self, type_id: str, key: str) -> None:
        self._call("delete_volume_type_extra_spec", change=True)
        t = self._type(type_id)
        if key not in dict(t.extra_specs):
            raise NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
        self._set_type(replace(t, extra_specs=tuple(kv for kv in t.extra_specs if kv[0] != key)))

    def list_volume_type_access(self, type_id: str) -> list[str]:
        self._call("list_volume_type_access")
        if self._type(type_id).is_public:
            raise Rejected("Access list not available for public volume types.", 404)
        return list(self.type_access.get(type_id, []))

    def add_volume_type_access(self, type_id: str, project_id: str) -> None:
        self._call("add_volume_type_access", change=True)
        if self._type(type_id).is_public:
            raise Rejected(
                "Invalid volume type: Type access modification is not applicable "
                "to public volume type."
            )
        shared = self.type_access.setdefault(type_id, [])
        if project_id in shared:
            raise Rejected(
                f"Volume type access for {type_id} / {project_id} combination already exists.",
                409,
            )
        shared.append(project_id)

    def remove_volume_type_access(self, type_id: str, project_id: str) -> None:
        self._call("remove_volume_type_access", change=True)
        shared = self.type_access.get(self._type(type_id).id, [])
        if project_id not in shared:
            raise NotFound(f"Volume type access not found for {type_id} / {project_id}.")
        shared.remove(project_id)

    def delete_volume_type(self, type_id: str) -> None:
        self._call("delete_volume_type", change=True)
        t = self._type(type_id)
        if type_id == self.default_type:
            raise Rejected(
                f"The volume type {type_id} is a default volume type and cannot be deleted."
            )
        if any(v.volume_type == t.name for v in self.volumes.values()):
            raise Rejected("Target volume type is still in use.")  # types_manage.py
        self.types = [x for x in self.types if x.id != type_id]

    def list_qos_specs(self) -> list[QosSpec]:
        self._call("list_qos_specs")
        return sorted(self.qos.values(), key=lambda q: q.name.lower())

    def get_qos_spec(self, qos_id: str) -> QosSpec:
        self._call("get_qos_spec")
        if qos_id not in self.qos:
            raise NotFound(f"No such QoS spec {qos_id}.")
        return self.qos[qos_id]

    def create_qos_spec(self, name: str, consumer: str, specs: Mapping[str, str]) -> QosSpec:
        self._call("create_qos_spec", change=True)
        if any(q.name == name for q in self.qos.values()):
            raise Rejected(f"QoS Specs {name} already exists.", 409)
        made = QosSpec(str(uuid.uuid4()), name, consumer, tuple(sorted(specs.items())))
        self.qos[made.id] = made
        return made

    def associate_qos_spec(self, qos_id: str, type_id: str) -> None:
        self._call("associate_qos_spec", change=True)
        self.get_qos_spec(qos_id)
        t = self._type(type_id)
        if t.qos_specs_id:
            raise Rejected(
                f"Type {type_id} is already associated with another qos specs: {t.qos_specs_id}"
            )
        self._set_type(replace(t, qos_specs_id=qos_id))

    def disassociate_qos_spec(self, qos_id: str, type_id: str) -> None:
        self._call("disassociate_qos_spec", change=True)
        self.get_qos_spec(qos_id)
        t = self._type(type_id)
        if t.qos_specs_id != qos_id:
            raise NotFound(f"QoS spec {qos_id} is not associated with volume type {type_id}.")
        self._set_type(replace(t, qos_specs_id=""))

    def delete_qos_spec(self, qos_id: str) -> None:
        self._call("delete_qos_spec", change=True)
        self.get_qos_spec(qos_id)
        if any(t.qos_specs_id == qos_id for t in self.types):
            raise Rejected("Qos specs still in use.")  # qos_specs_manage.py, not forced
        del self.qos[qos_id]

    def list_storage_pools(self) -> list[StoragePool]:
        self._call("list_storage_pools")
        return list(self.pools)

    def list_volume_services(self) -> list[VolumeService]:
        self._call("list_volume_services")
        return list(self.services)

    def _service(self, host: str, binary: str) -> VolumeService:
        found = next((s for s in self.services if (s.host, s.binary) == (host, binary)), None)
        if found is None:
            raise NotFound(f"Service {binary} on host {host} could not be found.")
        return found

    def enable_volume_service(self, host: str, binary: str) -> None:
        self._call("enable_volume_service", change=True)
        found = self._service(host, binary)
        new = replace(found, status="enabled", disabled_reason="")
        self.services = [new if s is found else s for s in self.services]

    def disable_volume_service(self, host: str, binary: str, reason: str) -> None:
        self._call("disable_volume_service", change=True)
        found = self._service(host, binary)
        new = replace(found, status="disabled", disabled_reason=reason)
        self.services = [new if s is found else s for s in self.services]
