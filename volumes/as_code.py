"""The volumes forms as `openstack` commands and openstack.cloud tasks (portal/as_code.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.as_code import Code, Draft, placeholder, writes


@writes("volumes:create-volume")
def create_volume(draft: Draft) -> Code:
    name, source = draft.need("name"), draft.text("source_type")
    image = draft.need("image") if source == "image" else None
    snapshot = draft.need("snapshot") if source == "snapshot" else None
    volume = draft.need("source_volume") if source == "volume" else None
    size = draft.number("size")
    kind, zone, description = (
        draft.text(k) or None for k in ("volume_type", "availability_zone", "description")
    )
    return Code(
        commands=(
            draft.openstack(
                "volume create",
                name,
                size=size,
                type=kind,
                image=image,
                snapshot=snapshot,
                source=volume,
                availability_zone=zone,
                description=description,
            ),
        ),
        tasks=(
            draft.task(
                "volume",
                _("Create the volume"),
                name=name,
                size=size,
                volume_type=kind,
                image=image,
                snapshot_id=snapshot,
                volume=volume,
                availability_zone=zone,
                description=description,
                # The module's is_bootable defaults to false and it updates a volume to what
                # it is given: without this a second run would unset the image's bootable flag.
                is_bootable=True if image else None,
                state="present",
            ),
        ),
    )


def _specs(text: str) -> dict[str, str]:
    """The key=value lines typed so far (a line without = is left out)."""
    pairs = (line.partition("=") for line in text.splitlines())
    return {k.strip(): v.strip() for k, sep, v in pairs if sep and k.strip()}


def _property(specs: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in specs.items()]


@writes("volumes:delete-volumes")
def delete_volumes(draft: Draft) -> Code:
    ids = draft.all("volume_ids") or ["<volume-id>"]
    return Code(
        commands=(draft.openstack("volume delete", *ids),),
        tasks=tuple(
            draft.task("volume", _("Delete the volume"), name=i, state="absent") for i in ids
        ),
    )


@writes("volumes:delete-volume")
def delete_volume(draft: Draft, volume_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume delete", volume_id),),
        tasks=(draft.task("volume", _("Delete the volume"), name=volume_id, state="absent"),),
    )


@writes("volumes:update-volume")
def update_volume(draft: Draft, volume_id: str) -> Code:
    bootable = draft.flag("bootable")
    return Code(
        commands=(
            draft.openstack(
                "volume set",
                volume_id,
                name=draft.need("name"),
                description=draft.text("description"),
                bootable=bootable,
                non_bootable=not bootable,
            ),
        ),
        note=_(
            "openstack.cloud.volume cannot rename a volume nor change its description: "
            "the command only."
        ),
    )


@writes("volumes:extend-volume")
def extend_volume(draft: Draft, volume_id: str) -> Code:
    size = draft.number("size")
    return Code(
        commands=(draft.openstack("volume set", volume_id, size=size),),
        tasks=(
            draft.task(
                "volume", _("Extend the volume"), name=volume_id, size=size, state="present"
            ),
        ),
    )


@writes("volumes:retype-volume")
def retype_volume(draft: Draft, volume_id: str) -> Code:
    kind, policy = draft.need("volume_type"), draft.text("migration_policy") or "never"
    return Code(
        commands=(draft.openstack("volume set", volume_id, type=kind, migration_policy=policy),),
        tasks=(
            draft.task(
                "volume_retype",
                _("Change the volume's type"),
                volume=volume_id,
                new_type=kind,
                migration_policy=policy,
            ),
        ),
    )


@writes("volumes:upload-volume-to-image")
def upload_volume_to_image(draft: Draft, volume_id: str) -> Code:
    name, disk_format = draft.need("image_name"), draft.text("disk_format") or "raw"
    return Code(
        commands=(
            draft.openstack(
                "image create",
                name,
                volume=volume_id,
                disk_format=disk_format,
                container_format="bare",
            ),
        ),
        tasks=(
            draft.task(
                "image",
                _("Upload the volume to an image"),
                name=name,
                volume=volume_id,
                disk_format=disk_format,
                container_format="bare",
                state="present",
            ),
        ),
        note=_("openstack.cloud.image marks its volume option deprecated; it still works."),
    )


@writes("volumes:attach-volume")
def attach_volume(draft: Draft, volume_id: str) -> Code:
    server = draft.need("server")
    return Code(
        commands=(draft.openstack("server add volume", server, volume_id),),
        tasks=(
            draft.task(
                "server_volume",
                _("Attach the volume"),
                server=server,
                volume=volume_id,
                state="present",
            ),
        ),
    )


@writes("volumes:detach-volume")
def detach_volume(draft: Draft, volume_id: str) -> Code:
    server = draft.need("server")
    return Code(
        commands=(draft.openstack("server remove volume", server, volume_id),),
        tasks=(
            draft.task(
                "server_volume",
                _("Detach the volume"),
                server=server,
                volume=volume_id,
                state="absent",
            ),
        ),
    )


# --- snapshots, backups, transfers -------------------------------------------------------------


@writes("volumes:create-snapshot")
def create_snapshot(draft: Draft, volume_id: str) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    return Code(
        commands=(
            draft.openstack(
                "volume snapshot create", name, volume=volume_id, description=description
            ),
        ),
        tasks=(
            draft.task(
                "volume_snapshot",
                _("Snapshot the volume"),
                name=name,
                volume=volume_id,
                description=description,
                state="present",
            ),
        ),
    )


@writes("volumes:update-snapshot")
def update_snapshot(draft: Draft, snapshot_id: str) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "volume snapshot set",
                snapshot_id,
                name=draft.need("name"),
                description=draft.text("description"),
            ),
        ),
        note=_("openstack.cloud.volume_snapshot cannot change a snapshot: the command only."),
    )


@writes("volumes:delete-snapshot")
def delete_snapshot(draft: Draft, snapshot_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume snapshot delete", snapshot_id),),
        tasks=(
            draft.task(
                "volume_snapshot", _("Delete the snapshot"), name=snapshot_id, state="absent"
            ),
        ),
    )


@writes("volumes:create-backup")
def create_backup(draft: Draft, volume_id: str) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    incremental = draft.flag("incremental")
    return Code(
        commands=(
            draft.openstack(
                "volume backup create",
                volume_id,
                name=name,
                description=description,
                incremental=incremental,
            ),
        ),
        tasks=(
            draft.task(
                "volume_backup",
                _("Back up the volume"),
                name=name,
                volume=volume_id,
                description=description,
                is_incremental=incremental,
                state="present",
            ),
        ),
    )


@writes("volumes:restore-backup")
def restore_backup(draft: Draft, backup_id: str) -> Code:
    if draft.text("target") == "existing":
        command = draft.openstack(
            "volume backup restore", backup_id, draft.need("volume"), force=True
        )
    else:
        command = draft.openstack("volume backup restore", backup_id, draft.need("name"))
    return Code(
        commands=(command,),
        note=_("openstack.cloud has no module that restores a backup: the command only."),
    )


@writes("volumes:delete-backup")
def delete_backup(draft: Draft, backup_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume backup delete", backup_id),),
        tasks=(
            draft.task("volume_backup", _("Delete the backup"), name=backup_id, state="absent"),
        ),
    )


@writes("volumes:create-transfer")
def create_transfer(draft: Draft, volume_id: str) -> Code:
    return Code(
        commands=(
            draft.openstack("volume transfer request create", volume_id, name=draft.need("name")),
        ),
        note=_("openstack.cloud has no module for volume transfers: the command only."),
    )


@writes("volumes:accept-transfer")
def accept_transfer(draft: Draft) -> Code:
    # The authorization key is a secret the giver was shown: never echoed, a placeholder.
    return Code(
        commands=(
            draft.openstack(
                "volume transfer request accept",
                draft.need("transfer_id"),
                auth_key=placeholder("auth_key"),
            ),
        ),
        note=_("openstack.cloud has no module for volume transfers: the command only."),
    )


@writes("volumes:delete-transfer")
def delete_transfer(draft: Draft, transfer_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume transfer request delete", transfer_id),),
        note=_("openstack.cloud has no module for volume transfers: the command only."),
    )


# --- administrators ----------------------------------------------------------------------------


@writes("volumes:reset-volume-status")
def reset_volume_status(draft: Draft, volume_id: str) -> Code:
    attach = draft.text("attach_status")
    return Code(
        commands=(
            draft.openstack(
                "volume set",
                volume_id,
                state=draft.need("status"),
                attached=attach == "attached",
                detached=attach == "detached",
            ),
        ),
        note=_("openstack.cloud has no module that resets a volume's status: the command only."),
    )


@writes("volumes:create-volume-type")
def create_volume_type(draft: Draft) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    public, specs = draft.flag("is_public"), _specs(draft.text("extra_specs"))
    return Code(
        commands=(
            draft.openstack(
                "volume type create",
                name,
                description=description,
                public=public,
                private=not public,
                property=_property(specs),
            ),
        ),
        tasks=(
            draft.task(
                "volume_type",
                _("Create the volume type"),
                name=name,
                description=description,
                is_public=public,
                extra_specs=specs or None,
                state="present",
            ),
        ),
    )


@writes("volumes:update-volume-type-extra-specs")
def update_volume_type_extra_specs(draft: Draft, type_id: str) -> Code:
    spec = f"{draft.need('key')}={draft.text('value') or placeholder('value')}"
    return Code(
        commands=(draft.openstack("volume type set", type_id, property=[spec]),),
        note=_(
            "openstack.cloud.volume_type sets all of a type's extra specs at once (it removes "
            "those it is not given): the command only."
        ),
    )


@writes("volumes:delete-volume-type-extra-spec")
def delete_volume_type_extra_spec(draft: Draft, type_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume type unset", type_id, property=[draft.need("key")]),),
        note=_(
            "openstack.cloud.volume_type sets all of a type's extra specs at once (it removes "
            "those it is not given): the command only."
        ),
    )


@writes("volumes:add-volume-type-access")
def add_volume_type_access(draft: Draft, type_id: str) -> Code:
    project = draft.need("project")
    return Code(
        commands=(draft.openstack("volume type set", type_id, project=project),),
        tasks=(
            draft.task(
                "volume_type_access",
                _("Let the project use the volume type"),
                name=type_id,
                project=project,
                state="present",
            ),
        ),
    )


@writes("volumes:remove-volume-type-access")
def remove_volume_type_access(draft: Draft, type_id: str) -> Code:
    project = draft.need("project")
    return Code(
        commands=(draft.openstack("volume type unset", type_id, project=project),),
        tasks=(
            draft.task(
                "volume_type_access",
                _("Stop the project using the volume type"),
                name=type_id,
                project=project,
                state="absent",
            ),
        ),
    )


@writes("volumes:delete-volume-type")
def delete_volume_type(draft: Draft, type_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume type delete", type_id),),
        tasks=(
            draft.task("volume_type", _("Delete the volume type"), name=type_id, state="absent"),
        ),
    )


@writes("volumes:create-qos-spec")
def create_qos_spec(draft: Draft) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "volume qos create",
                draft.need("name"),
                consumer=draft.text("consumer") or "back-end",
                property=_property(_specs(draft.text("specs"))),
            ),
        ),
        note=_("openstack.cloud has no module for QoS specs: the command only."),
    )


@writes("volumes:associate-qos-spec")
def associate_qos_spec(draft: Draft, qos_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume qos associate", qos_id, draft.need("volume_type")),),
        note=_("openstack.cloud has no module for QoS specs: the command only."),
    )


@writes("volumes:disassociate-qos-spec")
def disassociate_qos_spec(draft: Draft, qos_id: str) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "volume qos disassociate", qos_id, volume_type=draft.need("volume_type")
            ),
        ),
        note=_("openstack.cloud has no module for QoS specs: the command only."),
    )


@writes("volumes:delete-qos-spec")
def delete_qos_spec(draft: Draft, qos_id: str) -> Code:
    return Code(
        commands=(draft.openstack("volume qos delete", qos_id),),
        note=_("openstack.cloud has no module for QoS specs: the command only."),
    )


@writes("volumes:enable-volume-service")
def enable_volume_service(draft: Draft) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "volume service set", draft.need("host"), draft.need("binary"), enable=True
            ),
        ),
        note=_("openstack.cloud has no module that enables a volume service: the command only."),
    )


@writes("volumes:disable-volume-service")
def disable_volume_service(draft: Draft) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "volume service set",
                draft.need("host"),
                draft.need("binary"),
                disable=True,
                disable_reason=draft.text("reason"),
            ),
        ),
        note=_("openstack.cloud has no module that disables a volume service: the command only."),
    )
