"""The launch wizard: one form in steps (Details, Source, Flavor, Networks, Access,
Configuration), rendered in one template, validated step by step and again on launch.

Every step's fields are in the one HTML form, so nothing typed is lost when moving between
steps or when a step comes back with errors. Moving forward validates the steps before the
target; "Launch" validates all of them and then checks the project's quota before Nova is
called. Steps not being validated are rendered unbound with the posted values as initial
data, so they show what was typed without premature errors.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from compute import gateway as g
from compute.forms import server_name
from portal import refs
from portal.concurrency import concurrently
from portal.forms import PortalForm

STEPS: tuple[tuple[str, str | Promise], ...] = (
    ("details", _("Details")),
    ("source", _("Source")),
    ("flavor", _("Flavor")),
    ("networks", _("Networks")),
    ("access", _("Security and key pair")),
    ("configuration", _("Configuration")),
)
STEP_NAMES = tuple(name for name, _label in STEPS)
MAX_COUNT = 100  # one request; Nova's own limit is the project's quota
NIC_SLOTS = 4
USER_DATA_MAX = 65535  # Nova's limit, on the base64-encoded text
GIB = 1024**3


@dataclass(frozen=True)
class LaunchChoices:
    """Everything the wizard offers, read once per request."""

    flavors: list[g.Flavor]
    images: list[refs.Image]
    limits: g.Limits
    zones: list[g.AvailabilityZone]
    networks: list[refs.Network]
    ports: list[refs.Port]
    security_groups: list[refs.SecurityGroup]
    keypairs: list[g.Keypair]
    server_groups: list[g.ServerGroup]
    volumes: list[refs.Volume]
    volume_snapshots: list[refs.VolumeSnapshot]
    has_volumes: bool

    @property
    def boot_images(self) -> list[refs.Image]:
        return [i for i in self.images if i.status == "active" and not i.is_snapshot]

    @property
    def snapshots(self) -> list[refs.Image]:
        return [i for i in self.images if i.status == "active" and i.is_snapshot]

    @property
    def bootable_volumes(self) -> list[refs.Volume]:
        return [v for v in self.volumes if v.status == "available" and v.is_bootable]

    @property
    def available_snapshots(self) -> list[refs.VolumeSnapshot]:
        return [s for s in self.volume_snapshots if s.status == "available"]

    @property
    def internal_networks(self) -> list[refs.Network]:
        return [n for n in self.networks if not n.is_external or n.is_shared]

    @property
    def free_ports(self) -> list[refs.Port]:
        return [p for p in self.ports if not p.device_id and not p.device_owner]


def load_choices(gw: g.ComputeGateway) -> LaunchChoices:
    """The wizard's reads, grouped by service, all at once (11 calls, one round trip)."""
    has_volumes = gw.has_volumes()

    def compute() -> tuple[Any, ...]:
        return concurrently(
            gw.list_flavors,
            gw.get_limits,
            gw.list_availability_zones,
            gw.list_keypairs,
            gw.list_server_groups,
        )

    def network() -> tuple[Any, ...]:
        return concurrently(gw.list_networks, gw.list_ports, gw.list_security_groups)

    def storage() -> tuple[Any, ...]:
        if not has_volumes:
            return gw.list_images(), [], []
        return concurrently(gw.list_images, gw.list_volumes, gw.list_volume_snapshots)

    (flavors, limits, zones, keypairs, groups), (networks, ports, sgs), (images, vols, snaps) = (
        concurrently(compute, network, storage)
    )
    return LaunchChoices(
        flavors,
        images,
        limits,
        zones,
        networks,
        ports,
        sgs,
        keypairs,
        groups,
        vols,
        snaps,
        has_volumes,
    )


# --- what the chosen source needs from a flavor ----------------------------------------------


@dataclass(frozen=True)
class SourceNeeds:
    min_disk: int = 0  # GiB
    min_ram: int = 0  # MiB
    local_disk: bool = True  # the root disk is the flavor's (not a volume)
    label: str = ""


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def image_min_disk(image: refs.Image) -> int:
    """The disk an image needs: its min_disk, and at least its own size."""
    return max(image.min_disk, math.ceil(image.size / GIB) if image.size else 0)


def source_needs(values: Mapping[str, Any], choices: LaunchChoices) -> SourceNeeds:
    kind = values.get("source_type") or "image"
    if kind in ("image", "snapshot"):
        image_id = values.get("image" if kind == "image" else "snapshot")
        image = next((i for i in choices.images if i.id == image_id), None)
        if image is None:
            return SourceNeeds()
        on_volume = choices.has_volumes and values.get("create_volume") in (True, "on", "true")
        return SourceNeeds(image_min_disk(image), image.min_ram, not on_volume, image.label)
    return SourceNeeds(local_disk=False)


def flavor_problems(
    flavor: g.Flavor, needs: SourceNeeds, count: int, limits: g.Limits
) -> list[str]:
    """Why a flavor cannot be used for this launch (empty: it fits)."""
    problems: list[str] = []
    if needs.local_disk and flavor.disk == 0:
        problems.append(str(_("No root disk: boot from a volume to use it.")))
    elif needs.local_disk and flavor.disk < needs.min_disk:
        problems.append(
            str(_("Disk too small for the image (needs %(gb)d GB).") % {"gb": needs.min_disk})
        )
    if flavor.ram < needs.min_ram:
        problems.append(
            str(_("Too little RAM for the image (needs %(mb)d MB).") % {"mb": needs.min_ram})
        )
    if limits.cores_left is not None and count * flavor.vcpus > limits.cores_left:
        problems.append(
            str(_("Not enough vCPU quota left (%(left)d left).") % {"left": limits.cores_left})
        )
    if limits.ram_left is not None and count * flavor.ram > limits.ram_left:
        problems.append(
            str(_("Not enough RAM quota left (%(left)d MB left).") % {"left": limits.ram_left})
        )
    return problems


# --- the steps -------------------------------------------------------------------------------


class DetailsForm(PortalForm):
    name = server_name
    description = forms.CharField(
        label=_("Description"), max_length=255, required=False, widget=forms.Textarea({"rows": 2})
    )
    availability_zone = forms.ChoiceField(label=_("Availability zone"), required=False)
    count = forms.IntegerField(label=_("Count"), min_value=1, max_value=MAX_COUNT, initial=1)

    def __init__(self, *args: Any, choices: LaunchChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = choices.limits
        self.fields["availability_zone"].choices = [("", _("Any availability zone"))] + [  # type: ignore[attr-defined]
            (z.name, z.name) for z in choices.zones if z.available
        ]

    def clean_count(self) -> int:
        count: int = self.cleaned_data["count"]
        left = self.limits.instances_left
        if left is not None and count > left:
            raise forms.ValidationError(
                _(
                    "Your project can launch %(left)d more instances "
                    "(quota %(limit)d, %(used)d in use)."
                )
                % {
                    "left": left,
                    "limit": self.limits.instances,
                    "used": self.limits.instances_used,
                }
            )
        return count


SOURCE_TYPES = (
    ("image", _("Image")),
    ("snapshot", _("Instance snapshot")),
    ("volume", _("Volume")),
    ("volume_snapshot", _("Volume snapshot")),
)


CHOOSE_SOURCE = {
    "image": _("Choose the image to boot from."),
    "snapshot": _("Choose the instance snapshot to boot from."),
    "volume": _("Choose the volume to boot from."),
    "volume_snapshot": _("Choose the volume snapshot to boot from."),
}


class SourceForm(PortalForm):
    source_type = forms.ChoiceField(
        label=_("Boot source"), choices=SOURCE_TYPES, widget=forms.RadioSelect, initial="image"
    )
    image = forms.ChoiceField(label=_("Image"), required=False)
    snapshot = forms.ChoiceField(label=_("Instance snapshot"), required=False)
    volume = forms.ChoiceField(label=_("Volume"), required=False)
    volume_snapshot = forms.ChoiceField(label=_("Volume snapshot"), required=False)
    create_volume = forms.BooleanField(label=_("Create a new volume"), required=False)
    volume_size = forms.IntegerField(
        label=_("Volume size (GB)"), min_value=1, max_value=16384, required=False
    )
    delete_volume_on_delete = forms.BooleanField(
        label=_("Delete the volume when the instance is deleted"), required=False
    )

    def __init__(self, *args: Any, choices: LaunchChoices, count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices, self.count = choices, count
        f = self.fields
        f["image"].choices = [("", "—")] + [(i.id, i.label) for i in choices.boot_images]  # type: ignore[attr-defined]
        f["snapshot"].choices = [("", "—")] + [(i.id, i.label) for i in choices.snapshots]  # type: ignore[attr-defined]
        f["volume"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (v.id, f"{v.label} ({v.size} GB)") for v in choices.bootable_volumes
        ]
        f["volume_snapshot"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (s.id, f"{s.label} ({s.size} GB)") for s in choices.available_snapshots
        ]
        if not choices.has_volumes:
            f["source_type"].choices = SOURCE_TYPES[:2]  # type: ignore[attr-defined]
            for name in ("volume", "volume_snapshot", "create_volume", "volume_size"):
                del f[name]
            del f["delete_volume_on_delete"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("source_type")
        if not kind:
            return data
        field = {"volume_snapshot": "volume_snapshot"}.get(kind, kind)
        if not data.get(field):
            self.add_error(field, CHOOSE_SOURCE[kind])
            return data
        if kind == "volume" and self.count > 1:
            self.add_error(
                "volume",
                _(
                    "An existing volume boots one instance only. Set the count to 1, or boot "
                    "from an image onto new volumes."
                ),
            )
        needed = 0
        if kind in ("image", "snapshot") and data.get("create_volume"):
            image = next(i for i in self.choices.images if i.id == data[field])
            needed = max(1, image_min_disk(image))
        elif kind == "volume_snapshot":
            snap = next(s for s in self.choices.volume_snapshots if s.id == data[field])
            needed = snap.size
        if needed:
            size = data.get("volume_size")
            if size is None:
                data["volume_size"] = needed
            elif size < needed:
                self.add_error(
                    "volume_size",
                    _("The volume must be at least %(gb)d GB for this source.") % {"gb": needed},
                )
        return data


class FlavorForm(PortalForm):
    flavor = forms.ChoiceField(
        label=_("Flavor"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a flavor that fits.")},
    )

    def __init__(
        self, *args: Any, choices: LaunchChoices, needs: SourceNeeds, count: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.flavors = choices.flavors
        self.problems = {
            f.id: flavor_problems(f, needs, count, choices.limits) for f in choices.flavors
        }
        self.fields["flavor"].choices = [(f.id, f.name) for f in choices.flavors]  # type: ignore[attr-defined]

    def clean_flavor(self) -> str:
        flavor_id: str = self.cleaned_data["flavor"]
        if self.problems.get(flavor_id):
            raise forms.ValidationError(" ".join(self.problems[flavor_id]))
        return flavor_id

    def rows(self) -> list[tuple[g.Flavor, list[str]]]:
        return [(f, self.problems[f.id]) for f in self.flavors]


class NetworksForm(PortalForm):
    """Up to NIC_SLOTS interfaces in order; each is a network or an existing port."""

    def __init__(self, *args: Any, choices: LaunchChoices, count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count = count
        self.has_networks = bool(choices.internal_networks)
        options: list[tuple[Any, Any]] = [("", "—")]
        options.append(
            (_("Networks"), [("net:" + n.id, n.label) for n in choices.internal_networks])
        )
        if choices.free_ports:
            options.append((_("Ports"), [("port:" + p.id, p.label) for p in choices.free_ports]))
        for i in range(1, NIC_SLOTS + 1):
            self.fields[f"nic_{i}"] = forms.ChoiceField(
                label=_("Interface %(n)d") % {"n": i}, choices=options, required=False
            )
        own = [n for n in choices.internal_networks if not n.is_external]
        self.fields["nic_1"].initial = "net:" + own[0].id if len(own) == 1 else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        nics = [data[f"nic_{i}"] for i in range(1, NIC_SLOTS + 1) if data.get(f"nic_{i}")]
        if not self.has_networks:
            self.add_error(
                "nic_1", _("The project has no network to attach to. Create a network first.")
            )
        elif not nics:
            self.add_error("nic_1", _("Choose at least one network for the instance."))
        ports = [n for n in nics if n.startswith("port:")]
        if len(ports) != len(set(ports)):
            self.add_error("nic_1", _("A port can be used by one interface only."))
        if ports and self.count > 1:
            self.add_error(
                "nic_1", _("An existing port fits one instance only; set the count to 1.")
            )
        data["nics"] = tuple(
            g.Nic(port_id=n[5:]) if n.startswith("port:") else g.Nic(network_id=n[4:]) for n in nics
        )
        return data


class AccessForm(PortalForm):
    security_groups = forms.MultipleChoiceField(
        label=_("Security groups"), required=False, widget=forms.CheckboxSelectMultiple
    )
    key_name = forms.ChoiceField(label=_("Key pair"), required=False)

    def __init__(self, *args: Any, choices: LaunchChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["security_groups"].choices = [  # type: ignore[attr-defined]
            (sg.id, sg.name) for sg in choices.security_groups
        ]
        self.fields["security_groups"].initial = [
            sg.id for sg in choices.security_groups if sg.name == "default"
        ]
        self.fields["key_name"].choices = [("", _("No key pair"))] + [  # type: ignore[attr-defined]
            (k.name, k.name) for k in choices.keypairs
        ]
        if len(choices.keypairs) == 1:
            self.fields["key_name"].initial = choices.keypairs[0].name


def parse_pairs(
    text: str, too_many: str | Promise, limit: int = 128
) -> tuple[tuple[str, str], ...]:
    """key=value lines -> pairs; a wrong line is reported with its number."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise forms.ValidationError(
                _("Line %(n)d is not key=value.") % {"n": number}, code="pair"
            )
        if len(key) > 255 or len(value) > 255:
            raise forms.ValidationError(
                _("Line %(n)d is longer than 255 characters.") % {"n": number}, code="pair"
            )
        pairs.append((key, value))
    if len(pairs) > limit:
        raise forms.ValidationError(str(too_many) % {"n": limit}, code="pair")
    return tuple(pairs)


class ConfigurationForm(PortalForm):
    user_data = forms.CharField(
        label=_("User data (cloud-init)"),
        required=False,
        strip=False,
        widget=forms.Textarea({"rows": 5, "spellcheck": "false", "class": "font-monospace"}),
    )
    config_drive = forms.BooleanField(label=_("Use a configuration drive"), required=False)
    server_group = forms.ChoiceField(label=_("Server group"), required=False)
    scheduler_hints = forms.CharField(
        label=_("Scheduler hints"),
        required=False,
        widget=forms.Textarea({"rows": 2, "spellcheck": "false"}),
        help_text=_("One key=value per line, e.g. different_host=<instance id>."),
    )
    metadata = forms.CharField(
        label=_("Metadata"),
        required=False,
        widget=forms.Textarea({"rows": 2, "spellcheck": "false"}),
        help_text=_("One key=value per line."),
    )

    def __init__(self, *args: Any, choices: LaunchChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["server_group"].choices = [("", _("None"))] + [  # type: ignore[attr-defined]
            (sg.id, f"{sg.name} ({sg.policy})") for sg in choices.server_groups
        ]

    def clean_user_data(self) -> str:
        text: str = self.cleaned_data["user_data"]
        if len(base64.b64encode(text.encode())) > USER_DATA_MAX:
            raise forms.ValidationError(_("User data is too long: at most about 48 KB of text."))
        return text

    def clean_scheduler_hints(self) -> tuple[tuple[str, str], ...]:
        return parse_pairs(
            self.cleaned_data["scheduler_hints"], _("At most %(n)d scheduler hints.")
        )

    def clean_metadata(self) -> tuple[tuple[str, str], ...]:
        return parse_pairs(self.cleaned_data["metadata"], _("At most %(n)d metadata items."))


# --- the wizard --------------------------------------------------------------------------------


def _values(form: PortalForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """What was posted for a form's fields, as initial values (no validation)."""
    return {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }


@dataclass
class Wizard:
    step: str
    forms: dict[str, PortalForm]
    choices: LaunchChoices
    launch_requested: bool = False
    error: str = ""  # the cloud's refusal of the launch, with a hint

    @property
    def step_index(self) -> int:
        return STEP_NAMES.index(self.step)

    @property
    def previous_step(self) -> str:
        return STEP_NAMES[self.step_index - 1] if self.step_index else ""

    @property
    def next_step(self) -> str:
        i = self.step_index
        return STEP_NAMES[i + 1] if i + 1 < len(STEP_NAMES) else ""

    def steps(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "label": label,
                "number": i + 1,
                "current": name == self.step,
                "errors": self.forms[name].is_bound and bool(self.forms[name].errors),
            }
            for i, (name, label) in enumerate(STEPS)
        ]

    @property
    def count(self) -> int:
        form = self.forms["details"]
        raw = form.data.get("count") if form.is_bound else form.initial.get("count")
        return max(1, _int(raw, 1))

    def spec(self) -> g.LaunchSpec:
        """The launch, from valid forms."""
        d = {name: form.cleaned_data for name, form in self.forms.items()}
        details, source, flavor = d["details"], d["source"], d["flavor"]
        kind = source["source_type"]
        field = {"volume_snapshot": "volume_snapshot"}.get(kind, kind)
        return g.LaunchSpec(
            name=details["name"],
            description=details.get("description", ""),
            availability_zone=details.get("availability_zone", ""),
            count=details["count"],
            flavor_id=flavor["flavor"],
            source_type=kind,
            source_id=source[field],
            create_volume=bool(source.get("create_volume")) or kind == "volume_snapshot",
            volume_size=source.get("volume_size") or 0,
            delete_volume_on_delete=bool(source.get("delete_volume_on_delete")),
            nics=d["networks"]["nics"],
            security_group_ids=tuple(d["access"]["security_groups"]),
            key_name=d["access"]["key_name"],
            user_data=d["configuration"]["user_data"],
            config_drive=bool(d["configuration"]["config_drive"]),
            server_group_id=d["configuration"]["server_group"],
            scheduler_hints=d["configuration"]["scheduler_hints"],
            metadata=d["configuration"]["metadata"],
        )

    @property
    def key_name(self) -> str:
        form = self.forms["access"]
        value = form.data.get("key_name") if form.is_bound else form.initial.get("key_name")
        return str(value or "")

    def chosen_flavor(self) -> g.Flavor | None:
        form = self.forms["flavor"]
        flavor_id = form.data.get("flavor") if form.is_bound else form.initial.get("flavor")
        return next((f for f in self.choices.flavors if f.id == flavor_id), None)

    def meter(self) -> list[dict[str, Any]]:
        """Quota before launch: in use, this request, the limit and what remains."""
        flavor = self.chosen_flavor()
        count = self.count
        limits = self.choices.limits
        rows = []
        for label, used, limit, unit, need in (
            (_("Instances"), limits.instances_used, limits.instances, "", count),
            (
                _("vCPUs"),
                limits.cores_used,
                limits.cores,
                "",
                count * flavor.vcpus if flavor else 0,
            ),
            (_("RAM"), limits.ram_used, limits.ram, "MB", count * flavor.ram if flavor else 0),
        ):
            unlimited = limit < 0
            left = None if unlimited else limit - used - need
            rows.append(
                {
                    "label": label,
                    "used": used,
                    "request": need,
                    "limit": limit,
                    "unit": unit,
                    "unlimited": unlimited,
                    "left": left,
                    "over": left is not None and left < 0,
                    "over_by": -left if left is not None and left < 0 else 0,
                    "used_pct": 0 if unlimited or not limit else min(100, used * 100 // limit),
                    "request_pct": 0
                    if unlimited or not limit
                    else max(0, min(100 - min(100, used * 100 // limit), need * 100 // limit)),
                }
            )
        return rows


def _build(
    choices: LaunchChoices, data: Mapping[str, Any] | None, initial: dict[str, Any], bound: set[str]
) -> dict[str, PortalForm]:
    """The step forms: bound (validated) for the steps in `bound`, else showing the values."""
    values: Mapping[str, Any] = data if data is not None else initial
    count = max(1, _int(values.get("count"), 1))
    needs = source_needs(
        {k: values.get(k) for k in ("source_type", "image", "snapshot", "create_volume")},
        choices,
    )
    makers: dict[str, Callable[..., PortalForm]] = {
        "details": lambda **kw: DetailsForm(choices=choices, **kw),
        "source": lambda **kw: SourceForm(choices=choices, count=count, **kw),
        "flavor": lambda **kw: FlavorForm(choices=choices, needs=needs, count=count, **kw),
        "networks": lambda **kw: NetworksForm(choices=choices, count=count, **kw),
        "access": lambda **kw: AccessForm(choices=choices, **kw),
        "configuration": lambda **kw: ConfigurationForm(choices=choices, **kw),
    }
    built: dict[str, PortalForm] = {}
    for name, make in makers.items():
        if data is not None and name in bound:
            built[name] = make(data=data)
        elif data is not None:
            shown = make()
            built[name] = make(initial=_values(shown, data))
        else:
            built[name] = make(initial=initial)
    return built


def start(choices: LaunchChoices, image_id: str = "", volume_id: str = "") -> Wizard:
    """A new launch, optionally from a given image/snapshot or volume."""
    initial: dict[str, Any] = {"count": 1, "source_type": "image"}
    image = next((i for i in choices.images if i.id == image_id), None)
    if image is not None:
        kind = "snapshot" if image.is_snapshot else "image"
        initial.update({"source_type": kind, kind: image.id})
    elif len(choices.boot_images) == 1:
        initial["image"] = choices.boot_images[0].id
    volume = next((v for v in choices.volumes if v.id == volume_id), None)
    if volume is not None and choices.has_volumes:
        initial.update({"source_type": "volume", "volume": volume.id})
    return Wizard("details", _build(choices, None, initial, set()), choices)


def advance(choices: LaunchChoices, data: Mapping[str, Any]) -> Wizard:
    """A posted wizard: go to the asked step (validating the ones before it) or launch."""
    current = data.get("_step") if data.get("_step") in STEP_NAMES else "details"
    if data.get("_launch"):
        forms_ = _build(choices, data, {}, set(STEP_NAMES))
        bad = [name for name in STEP_NAMES if not forms_[name].is_valid()]
        return Wizard(bad[0] if bad else str(current), forms_, choices, launch_requested=True)
    target = data.get("_goto") if data.get("_goto") in STEP_NAMES else current
    before = set(STEP_NAMES[: STEP_NAMES.index(str(target))])
    if STEP_NAMES.index(str(target)) <= STEP_NAMES.index(str(current)):
        before = set()  # going back (or staying) checks nothing
    forms_ = _build(choices, data, {}, before)
    bad = [name for name in STEP_NAMES if name in before and not forms_[name].is_valid()]
    return Wizard(bad[0] if bad else str(target), forms_, choices)
