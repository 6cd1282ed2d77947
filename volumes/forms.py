"""The volumes app's forms. Every number is bounded (Cinder keeps sizes in MySQL INT columns)
and every name and description refuses what the cloud cannot store (portal.validators)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal import refs
from portal.forms import PortalForm
from portal.validators import INT32_MAX, cloud_text
from volumes import gateway as g

UUID = re.compile(r"^[0-9a-fA-F-]{1,64}$")
SOURCES = (
    ("blank", _("No source: an empty volume")),
    ("image", _("Image")),
    ("snapshot", _("Volume snapshot")),
    ("volume", _("Another volume")),
)
# What Cinder's upload-to-image offers (cinder/image/image_utils.py VALID_DISK_FORMATS).
DISK_FORMATS = (
    ("raw", "RAW"),
    ("qcow2", "QCOW2"),
    ("vmdk", "VMDK"),
    ("vdi", "VDI"),
    ("vhd", "VHD"),
    ("vhdx", "VHDX"),
)
MIGRATION_POLICIES = (
    ("never", _("Never: refuse if the data would have to move")),
    ("on-demand", _("On demand: move the data to the new type's backend if needed")),
)


def _name(label: Any, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=255, required=required, validators=[cloud_text], strip=True
    )


def _description() -> forms.CharField:
    return forms.CharField(
        label=_("Description"),
        max_length=255,
        required=False,
        widget=forms.Textarea({"rows": 2}),
        validators=[cloud_text],
    )


def _size(label: Any, initial: int = 1) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=INT32_MAX, initial=initial)


class VolumeFilterForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=255, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args: Any, statuses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any"))] + [(s, s) for s in statuses]  # type: ignore[attr-defined]


class CreateVolumeForm(PortalForm):
    name = _name(_("Volume name"))
    description = _description()
    source_type = forms.ChoiceField(label=_("Source"), choices=SOURCES, initial="blank")
    image = forms.ChoiceField(label=_("Image"), required=False)
    snapshot = forms.ChoiceField(label=_("Volume snapshot"), required=False)
    source_volume = forms.ChoiceField(label=_("Volume"), required=False)
    size = _size(_("Size (GiB)"))
    volume_type = forms.ChoiceField(label=_("Type"), required=False)
    availability_zone = forms.ChoiceField(label=_("Availability zone"), required=False)

    def __init__(
        self,
        *args: Any,
        images: list[refs.Image],
        snapshots: list[g.Snapshot],
        volumes: list[g.Volume],
        types: list[g.VolumeType],
        zones: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.images = {i.id: i for i in images}
        self.snapshots = {s.id: s for s in snapshots if s.status == "available"}
        self.volumes = {v.id: v for v in volumes if v.status in ("available", "in-use")}
        choose = [("", _("Choose…"))]
        self.fields["image"].choices = choose + [  # type: ignore[attr-defined]
            (i.id, f"{i.label} ({i.needs_gib} GiB)") for i in self.images.values()
        ]
        self.fields["snapshot"].choices = choose + [  # type: ignore[attr-defined]
            (s.id, f"{s.label} ({s.size} GiB)") for s in self.snapshots.values()
        ]
        self.fields["source_volume"].choices = choose + [  # type: ignore[attr-defined]
            (v.id, f"{v.label} ({v.size} GiB)") for v in self.volumes.values()
        ]
        self.fields["volume_type"].choices = [("", _("The cloud's default"))] + [  # type: ignore[attr-defined]
            (t.name, t.name) for t in types
        ]
        self.fields["availability_zone"].choices = [("", _("Any"))] + [  # type: ignore[attr-defined]
            (z, z) for z in zones
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, size = data.get("source_type"), data.get("size")
        field, need = (
            {"image": "image", "snapshot": "snapshot", "volume": "source_volume"}.get(
                kind or "", ""
            ),
            0,
        )
        if field:
            chosen = data.get(field) or ""
            if not chosen:
                self.add_error(field, _("Choose the source."))
                return data
            if kind == "image":
                need = self.images[chosen].needs_gib
            elif kind == "snapshot":
                need = self.snapshots[chosen].size
            else:
                need = self.volumes[chosen].size
        if size is not None and size < need:
            self.add_error(
                "size", _("The source needs a volume of at least %(gb)d GiB.") % {"gb": need}
            )
        return data

    def spec(self) -> g.VolumeSpec:
        data, kind = self.cleaned_data, self.cleaned_data["source_type"]
        return g.VolumeSpec(
            name=data["name"],
            size=data["size"],
            description=data["description"],
            volume_type=data["volume_type"],
            availability_zone=data["availability_zone"],
            image_id=data["image"] if kind == "image" else "",
            snapshot_id=data["snapshot"] if kind == "snapshot" else "",
            source_volume_id=data["source_volume"] if kind == "volume" else "",
        )


class UpdateVolumeForm(PortalForm):
    name = _name(_("Volume name"))
    description = _description()
    bootable = forms.BooleanField(
        label=_("Bootable (an instance can boot from it)"), required=False
    )


class ExtendVolumeForm(PortalForm):
    size = _size(_("New size (GiB)"))

    def __init__(self, *args: Any, volume: g.Volume, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.volume = volume
        field = self.fields["size"]
        field.initial = volume.size + 1
        field.help_text = _("Now %(gb)d GiB; a volume only grows.") % {"gb": volume.size}

    def clean_size(self) -> int:
        size: int = self.cleaned_data["size"]
        if size <= self.volume.size:
            raise forms.ValidationError(
                _("The new size must be more than %(gb)d GiB.") % {"gb": self.volume.size}
            )
        return size


class RetypeVolumeForm(PortalForm):
    volume_type = forms.ChoiceField(label=_("New type"))
    migration_policy = forms.ChoiceField(
        label=_("Migration policy"), choices=MIGRATION_POLICIES, initial="never"
    )

    def __init__(
        self, *args: Any, volume: g.Volume, types: list[g.VolumeType], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.volume = volume
        self.fields["volume_type"].choices = [(t.name, t.name) for t in types]  # type: ignore[attr-defined]

    def clean_volume_type(self) -> str:
        chosen: str = self.cleaned_data["volume_type"]
        if chosen == self.volume.volume_type:
            raise forms.ValidationError(_("The volume already has this type."))
        return chosen


class CreateSnapshotForm(PortalForm):
    name = _name(_("Snapshot name"), required=True)
    description = _description()


class UpdateSnapshotForm(PortalForm):
    name = _name(_("Snapshot name"), required=True)
    description = _description()


class UploadVolumeToImageForm(PortalForm):
    image_name = _name(_("Image name"), required=True)
    disk_format = forms.ChoiceField(label=_("Disk format"), choices=DISK_FORMATS, initial="raw")


class CreateBackupForm(PortalForm):
    name = _name(_("Backup name"), required=True)
    description = _description()
    incremental = forms.BooleanField(
        label=_("Incremental (only what changed since the last backup)"), required=False
    )


class RestoreBackupForm(PortalForm):
    target = forms.ChoiceField(
        label=_("Restore to"),
        choices=(("new", _("A new volume")), ("existing", _("An existing volume"))),
        initial="new",
        widget=forms.RadioSelect,
    )
    name = _name(_("New volume name"))
    volume = forms.ChoiceField(label=_("Existing volume"), required=False)

    def __init__(
        self, *args: Any, backup: g.Backup, volumes: list[g.Volume], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.backup = backup
        # Cinder restores onto an available volume at least as large as the backup.
        self.fits = {v.id: v for v in volumes if v.status == "available" and v.size >= backup.size}
        self.fields["volume"].choices = [("", _("Choose…"))] + [  # type: ignore[attr-defined]
            (v.id, f"{v.label} ({v.size} GiB)") for v in self.fits.values()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == "existing" and not data.get("volume"):
            self.add_error(
                "volume",
                _("Choose an available volume of at least %(gb)d GiB.") % {"gb": self.backup.size},
            )
        if data.get("target") == "new" and not data.get("name"):
            self.add_error("name", _("Name the new volume."))
        return data


class ServerChoiceForm(PortalForm):
    """Attach to / detach from which instance."""

    server = forms.ChoiceField(label=_("Instance"))

    def __init__(self, *args: Any, servers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["server"].choices = sorted(servers.items(), key=lambda s: s[1].lower())  # type: ignore[attr-defined]


class CreateTransferForm(PortalForm):
    name = _name(_("Transfer name"), required=True)


class AcceptTransferForm(PortalForm):
    transfer_id = forms.CharField(label=_("Transfer ID"), max_length=64)
    auth_key = forms.CharField(label=_("Authorization key"), max_length=64)

    def clean_transfer_id(self) -> str:
        value: str = self.cleaned_data["transfer_id"].strip()
        if not UUID.match(value):
            raise forms.ValidationError(_("A transfer ID is the UUID the giver was shown."))
        return value

    def clean_auth_key(self) -> str:
        value: str = self.cleaned_data["auth_key"].strip()
        if not re.fullmatch(r"[0-9A-Za-z]+", value):
            raise forms.ValidationError(_("An authorization key is letters and digits only."))
        return value


# --- administrators ----------------------------------------------------------------------------

# The statuses an administrator may set: what a stuck volume is really in. Cinder's schema
# takes transitional ones too (creating, attaching...), which would leave it stuck again;
# it refuses deleting, and in-use for a volume without attachments.
RESET_STATUSES = (
    ("available", _("available")),
    ("in-use", _("in-use")),
    ("error", _("error")),
    ("maintenance", _("maintenance")),
)
ATTACH_STATUSES = (
    ("", _("Leave as it is")),
    ("detached", _("detached")),
    ("attached", _("attached")),
)
QOS_CONSUMERS = (
    ("back-end", _("Back end (the storage applies it)")),
    ("front-end", _("Front end (the hypervisor applies it)")),
    ("both", _("Both")),
)
# Extra spec and QoS keys: what Cinder's own keys look like (volume_backend_name,
# capabilities:thin_provisioning_support, total_iops_sec); Cinder takes up to 255 characters.
SPEC_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


def parse_specs(text: str) -> dict[str, str]:
    """One key=value a line; blank lines are skipped. Any malformed line refuses it all."""
    specs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not SPEC_KEY.match(key) or not value or len(value) > 255:
            raise forms.ValidationError(
                _(
                    "Line %(n)d is not key=value: a key is letters, digits and _ . : - "
                    "(up to 255), and a value is not empty (up to 255 characters)."
                )
                % {"n": number}
            )
        if key in specs:
            raise forms.ValidationError(_("The key %(key)s is given twice.") % {"key": key})
        specs[key] = value
    return specs


def _specs_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=10_000,
        widget=forms.Textarea({"rows": 3}),
        help_text=help_text,
        validators=[cloud_text],
    )


class AdminVolumeFilterForm(PortalForm):
    name = forms.CharField(label=_("Name or ID"), max_length=255, required=False)
    project = forms.ChoiceField(label=_("Project"), required=False)
    host = forms.ChoiceField(label=_("Host"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(
        self,
        *args: Any,
        projects: list[tuple[str, str]],
        hosts: list[str],
        statuses: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["project"].choices = anything + projects  # type: ignore[attr-defined]
        self.fields["host"].choices = anything + [(h, h) for h in hosts]  # type: ignore[attr-defined]
        self.fields["status"].choices = anything + [(s, s) for s in statuses]  # type: ignore[attr-defined]


class ResetVolumeStatusForm(PortalForm):
    status = forms.ChoiceField(label=_("Status"), choices=RESET_STATUSES)
    attach_status = forms.ChoiceField(
        label=_("Attach status"), choices=ATTACH_STATUSES, required=False
    )


class CreateVolumeTypeForm(PortalForm):
    name = _name(_("Name"), required=True)
    description = _description()
    is_public = forms.BooleanField(
        label=_("Public (every project may use it)"), required=False, initial=True
    )
    extra_specs = _specs_field(
        _("Extra specs"),
        _("One key=value a line, e.g. volume_backend_name=ceph."),
    )

    def clean_extra_specs(self) -> dict[str, str]:
        return parse_specs(self.cleaned_data["extra_specs"])


class ExtraSpecForm(PortalForm):
    key = forms.CharField(label=_("Key"), max_length=255)
    value = forms.CharField(label=_("Value"), max_length=255, validators=[cloud_text])

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"].strip()
        if not SPEC_KEY.match(key):
            raise forms.ValidationError(_("A key is letters, digits and _ . : - only."))
        return key


class ExtraSpecKeyForm(PortalForm):
    key = forms.CharField(label=_("Key"), max_length=255)


class ProjectAccessForm(PortalForm):
    project = forms.ChoiceField(label=_("Project"))

    def __init__(self, *args: Any, projects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = projects  # type: ignore[attr-defined]


class CreateQosSpecForm(PortalForm):
    name = _name(_("Name"), required=True)
    consumer = forms.ChoiceField(label=_("Consumer"), choices=QOS_CONSUMERS, initial="back-end")
    specs = _specs_field(
        _("Specs"), _("One key=value a line, e.g. total_iops_sec=500 or read_bytes_sec=10485760.")
    )

    def clean_specs(self) -> dict[str, str]:
        return parse_specs(self.cleaned_data["specs"])


class QosTypeForm(PortalForm):
    volume_type = forms.ChoiceField(label=_("Volume type"))

    def __init__(self, *args: Any, types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volume_type"].choices = types  # type: ignore[attr-defined]


class VolumeServiceForm(PortalForm):
    """Cinder names a service by host and binary."""

    host = forms.CharField(max_length=255, widget=forms.HiddenInput)
    binary = forms.ChoiceField(
        choices=[(b, b) for b in ("cinder-volume", "cinder-scheduler", "cinder-backup")],
        widget=forms.HiddenInput,
    )


class DisableVolumeServiceForm(VolumeServiceForm):
    reason = forms.CharField(label=_("Reason"), max_length=255, validators=[cloud_text], strip=True)
