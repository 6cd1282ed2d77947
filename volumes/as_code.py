"""The volumes forms as `openstack` commands and openstack.cloud tasks (portal/as_code.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.as_code import Code, Draft, writes


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
                state="present",
            ),
        ),
    )
