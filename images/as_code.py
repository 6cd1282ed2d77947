"""The images forms as `openstack` commands and openstack.cloud tasks (portal/as_code.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from portal.as_code import Code, Draft, Option, writes

VISIBILITIES = ("private", "shared", "community", "public")


def _properties(draft: Draft) -> dict[str, str]:
    """Description, architecture and the custom key=value lines typed so far (a line without
    = is left out): Glance keeps them all as properties."""
    found = {k: draft.text(k) for k in ("description", "architecture") if draft.text(k)}
    for line in draft.text("properties").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            found[key.strip()] = value.strip()
    return found


def _visibility(draft: Draft) -> str:
    chosen = draft.text("visibility")
    return chosen if chosen in VISIBILITIES else "private"


def _fields(draft: Draft) -> tuple[dict[str, Option], dict[str, Any]]:
    """What create and edit share: as the command's options and as the task's parameters."""
    visibility, protected, properties = (
        _visibility(draft),
        draft.flag("protected"),
        _properties(draft),
    )
    min_disk, min_ram = draft.number("min_disk"), draft.number("min_ram")
    # str: Draft.openstack leaves out an option that equals False, and 0 == False.
    options: dict[str, Option] = {
        "min_disk": str(min_disk),
        "min_ram": str(min_ram),
        visibility: True,
        "protected": protected,
        "unprotected": not protected,
        "property": [f"{k}={v}" for k, v in properties.items()],
    }
    params: dict[str, Any] = {
        "min_disk": min_disk,
        "min_ram": min_ram,
        "visibility": visibility,
        "is_protected": protected,
        "properties": properties or None,
    }
    return options, params


def _rerun_note(draft: Draft) -> str:
    """openstack.cloud.image compares a property by the image's SDK attribute of that name:
    one openstacksdk does not name (description, a custom key) is set again on every run."""
    if set(_properties(draft)) - {"architecture"}:
        return _(
            "openstack.cloud.image sets the description and the properties openstacksdk does "
            "not know again on every run, so it always reports a change."
        )
    return ""


@writes("images:create-image")
def create_image(draft: Draft) -> Code:
    name = draft.need("name")
    disk_format = draft.text("disk_format") or "qcow2"
    container_format = draft.text("container_format") or "bare"
    options, params = _fields(draft)
    if draft.text("source") == "url":
        url = draft.need("url")
        return Code(
            tasks=(
                draft.task(
                    "image",
                    _("Import the image from a URL"),
                    name=name,
                    disk_format=disk_format,
                    container_format=container_format,
                    import_method="web-download",
                    uri=url,
                    **params,
                    state="present",
                ),
            ),
            note=_(
                "The openstack client cannot have the cloud download an image from a URL "
                "(its --import takes a local file only): the Ansible task only."
            ),
        )
    file = "<file>"  # the browser sends the file's data, not where it is on your disk
    return Code(
        commands=(
            draft.openstack(
                "image create",
                name,
                disk_format=disk_format,
                container_format=container_format,
                file=file,
                **options,
            ),
        ),
        tasks=(
            draft.task(
                "image",
                _("Upload the image"),
                name=name,
                disk_format=disk_format,
                container_format=container_format,
                filename=file,
                **params,
                state="present",
            ),
        ),
        note=_rerun_note(draft),
    )


@writes("images:update-image")
def update_image(draft: Draft, image_id: str) -> Code:
    name = draft.need("name")
    options, params = _fields(draft)
    return Code(
        commands=(draft.openstack("image set", image_id, name=name, **options),),
        tasks=(
            draft.task(
                "image", _("Update the image"), id=image_id, name=name, **params, state="present"
            ),
        ),
        note=" ".join(
            (
                _(
                    "The command and the task add and change properties only: remove one taken "
                    "off the list with openstack image unset --property KEY."
                ),
                _rerun_note(draft),
            )
        ).strip(),
    )


@writes("images:protect-image")
def protect_image(draft: Draft, image_id: str) -> Code:
    return Code(
        commands=(draft.openstack("image set", image_id, protected=True),),
        tasks=(
            draft.task(
                "image", _("Protect the image"), id=image_id, is_protected=True, state="present"
            ),
        ),
    )


@writes("images:unprotect-image")
def unprotect_image(draft: Draft, image_id: str) -> Code:
    return Code(
        commands=(draft.openstack("image set", image_id, unprotected=True),),
        tasks=(
            draft.task(
                "image",
                _("Stop protecting the image"),
                id=image_id,
                is_protected=False,
                state="present",
            ),
        ),
    )


@writes("images:delete-image")
def delete_image(draft: Draft, image_id: str) -> Code:
    return Code(
        commands=(draft.openstack("image delete", image_id),),
        tasks=(draft.task("image", _("Delete the image"), name=image_id, state="absent"),),
    )


@writes("images:delete-images")
def delete_images(draft: Draft) -> Code:
    ids = draft.all("image_ids") or ["<image-id>"]
    return Code(
        commands=(draft.openstack("image delete", *ids),),
        tasks=tuple(
            draft.task("image", _("Delete the image"), name=i, state="absent") for i in ids
        ),
    )


@writes("images:create-volume")
def create_volume(draft: Draft, image_id: str) -> Code:
    name, size = draft.need("name"), draft.number("size")
    return Code(
        commands=(draft.openstack("volume create", name, size=size, image=image_id),),
        tasks=(
            draft.task(
                "volume",
                _("Create a volume from the image"),
                name=name,
                size=size,
                image=image_id,
                state="present",
            ),
        ),
    )
