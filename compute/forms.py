"""Forms of the instance pages and actions, key pairs and server groups.

Each form checks what the portal can know before calling the cloud (names, sizes, a flavor
that fits the image), so a mistake is reported at its field and the form comes back filled.
The launch wizard's step forms live in compute/launch.py.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from compute import gateway as g
from portal import refs
from portal.forms import PortalForm
from portal.validators import cloud_text

PAGE_SIZES = (10, 20, 50, 100)  # the sizes Settings offer (portal.preferences.PAGE_SIZES)
STATUSES = (
    "ACTIVE",
    "BUILD",
    "ERROR",
    "SHUTOFF",
    "PAUSED",
    "SUSPENDED",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "RESCUE",
    "VERIFY_RESIZE",
    "REBOOT",
    "HARD_REBOOT",
    "RESIZE",
    "MIGRATING",
)
SORTS = (
    ("-created_at", _("Newest first")),
    ("created_at", _("Oldest first")),
    ("display_name", _("Name A–Z")),
    ("-display_name", _("Name Z–A")),
    ("vm_state", _("State")),
    ("availability_zone", _("Availability zone")),
    ("key_name", _("Key pair")),
)

# Nova accepts any printable name of the Basic Multilingual Plane without leading/trailing
# spaces, up to 255 characters.
server_name = forms.CharField(label=_("Instance name"), max_length=255, validators=[cloud_text])

keypair_name_validator = RegexValidator(
    r"^[A-Za-z0-9 _.@-]+$",
    _("Use letters, digits, spaces and the characters _ . @ - only."),
)


def _ip_filter(value: str) -> str:
    if value and not re.fullmatch(r"[0-9A-Fa-f.:]+", value):
        raise forms.ValidationError(_("Type an IP address or the start of one, e.g. 10.0.0."))
    return value


class ServerFilterForm(PortalForm):
    """The servers list's GET form: filter, sort, and marker paging."""

    name = forms.CharField(label=_("Name"), max_length=255, required=False, validators=[cloud_text])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))] + [(s, s) for s in STATUSES],
    )
    ip = forms.CharField(label=_("IP address"), max_length=45, required=False)
    # Matched by name over the warm list (compute/warm.py), like the name filter.
    flavor = forms.CharField(
        label=_("Flavor"), max_length=255, required=False, validators=[cloud_text]
    )
    image = forms.CharField(
        label=_("Image"), max_length=255, required=False, validators=[cloud_text]
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        required=False,
        coerce=int,
        choices=[(n, n) for n in PAGE_SIZES],
        empty_value=None,
    )
    marker = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, per_page: int = 20, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rows when the GET names none: the user's Settings (portal.preferences.page_size).
        self.default_per_page = per_page
        self.fields["per_page"].initial = per_page

    def clean_ip(self) -> str:
        return _ip_filter(self.cleaned_data.get("ip", "").strip())

    def query(self, **extra: Any) -> g.ServerQuery:
        """The Nova query for these filters (defaults where a value is missing or invalid)."""
        data = self.cleaned_data if self.is_valid() else {}
        sort = data.get("sort") or "-created_at"
        backwards = bool(data.get("before"))
        return g.ServerQuery(
            # Nova matches name and ip as regular expressions: a user's text matches literally.
            name=re.escape(data.get("name", "").strip()),
            status=data.get("status", ""),
            ip=re.escape(data.get("ip", "")),
            flavor=re.escape(data.get("flavor", "").strip()),
            image=re.escape(data.get("image", "").strip()),
            sort_key=sort.lstrip("-"),
            sort_dir="desc" if sort.startswith("-") else "asc",
            marker=str(data.get("before") if backwards else data.get("marker", "")),
            backwards=backwards,
            limit=data.get("per_page") or self.default_per_page,
            **extra,
        )

    def link_params(self) -> dict[str, str]:
        """The filters as query parameters (without paging), for next/previous links."""
        data = self.cleaned_data if self.is_valid() else {}
        params = {
            k: str(data[k])
            for k in ("name", "status", "ip", "flavor", "image", "sort")
            if data.get(k)
        }
        if data.get("per_page") and data["per_page"] != self.default_per_page:
            params["per_page"] = str(data["per_page"])
        return params


class UpdateServerForm(PortalForm):
    name = server_name
    description = forms.CharField(
        label=_("Description"),
        max_length=255,
        required=False,
        widget=forms.Textarea({"rows": 2}),
        validators=[cloud_text],
    )
    security_groups = forms.MultipleChoiceField(
        label=_("Security groups"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, groups: list[refs.SecurityGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["security_groups"].choices = [  # type: ignore[attr-defined]
            (sg.id, f"{sg.name} — {sg.description}" if sg.description else sg.name) for sg in groups
        ]


class CreateServerImageForm(PortalForm):
    name = forms.CharField(label=_("Snapshot name"), max_length=255, validators=[cloud_text])


def _flavor_choices(flavors: list[g.Flavor]) -> list[tuple[str, str]]:
    return [
        (
            f.id,
            _("%(name)s (%(vcpus)d vCPU, %(ram)s MB RAM, %(disk)d GB disk)")
            % {"name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk},
        )
        for f in flavors
    ]


class ResizeServerForm(PortalForm):
    flavor = forms.ChoiceField(label=_("New flavor"))

    def __init__(
        self, *args: Any, flavors: list[g.Flavor], server: g.Server, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.server = server
        self.flavors = {f.id: f for f in flavors}
        self.fields["flavor"].choices = _flavor_choices(flavors)  # type: ignore[attr-defined]

    def clean_flavor(self) -> str:
        flavor_id: str = self.cleaned_data["flavor"]
        if self.flavors[flavor_id].name == self.server.flavor.name:
            raise forms.ValidationError(
                _("The instance already has this flavor. Choose a different one.")
            )
        return flavor_id


class RebuildServerForm(PortalForm):
    image = forms.ChoiceField(label=_("Image"))

    def __init__(
        self, *args: Any, images: list[refs.Image], server: g.Server, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.server = server
        self.images = {i.id: i for i in images if i.status == "active"}
        self.fields["image"].choices = [  # type: ignore[attr-defined]
            (i.id, i.label) for i in self.images.values()
        ]
        self.fields["image"].initial = server.image_id

    def clean_image(self) -> str:
        image = self.images[self.cleaned_data["image"]]
        flavor = self.server.flavor
        if self.server.image_id and image.min_disk > flavor.disk:
            raise forms.ValidationError(
                _("This image needs a disk of at least %(need)d GB; the flavor has %(have)d GB.")
                % {"need": image.min_disk, "have": flavor.disk}
            )
        if image.min_ram > flavor.ram:
            raise forms.ValidationError(
                _("This image needs at least %(need)d MB of RAM; the flavor has %(have)d MB.")
                % {"need": image.min_ram, "have": flavor.ram}
            )
        return image.id


class RescueServerForm(PortalForm):
    image = forms.ChoiceField(label=_("Rescue image"), required=False)
    password = forms.CharField(
        label=_("Administrator password"),
        required=False,
        max_length=255,
        widget=forms.PasswordInput(render_value=True),
        help_text=_("Leave empty to let the cloud choose one."),
    )

    def __init__(self, *args: Any, images: list[refs.Image], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["image"].choices = [("", _("The instance's own image"))] + [  # type: ignore[attr-defined]
            (i.id, i.label) for i in images if i.status == "active"
        ]


class AssociateFloatingIpForm(PortalForm):
    floating_ip = forms.ChoiceField(label=_("Floating IP"))
    port = forms.ChoiceField(label=_("Port to associate"))

    def __init__(
        self,
        *args: Any,
        floating_ips: list[refs.FloatingIp],
        external_networks: list[refs.Network],
        ports: list[refs.Port],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        free = [(f.id, f.address) for f in floating_ips if not f.port_id]
        new = [
            ("new:" + n.id, _("Allocate a new address from %(net)s") % {"net": n.label})
            for n in external_networks
        ]
        self.fields["floating_ip"].choices = free + new  # type: ignore[attr-defined]
        self.fields["port"].choices = [(p.id, p.label) for p in ports]  # type: ignore[attr-defined]


class DisassociateFloatingIpForm(PortalForm):
    floating_ip = forms.ChoiceField(label=_("Floating IP"))

    def __init__(self, *args: Any, floating_ips: list[refs.FloatingIp], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["floating_ip"].choices = [  # type: ignore[attr-defined]
            (f.id, f"{f.address} → {f.fixed_address}") for f in floating_ips
        ]


class CreateServerInterfaceForm(PortalForm):
    network = forms.ChoiceField(label=_("Network"), required=False)
    port = forms.ChoiceField(label=_("Or an existing port"), required=False)

    def __init__(
        self, *args: Any, networks: list[refs.Network], ports: list[refs.Port], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (n.id, n.label) for n in networks if not n.is_external
        ]
        self.fields["port"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (p.id, p.label) for p in ports if not p.device_id
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("network")) == bool(data.get("port")):
            self.add_error("network", _("Choose either a network or a port."))
        return data


class DeleteServerInterfaceForm(PortalForm):
    port = forms.ChoiceField(label=_("Interface"))

    def __init__(self, *args: Any, ports: list[refs.Port], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["port"].choices = [(p.id, p.label) for p in ports]  # type: ignore[attr-defined]


class CreateVolumeAttachmentForm(PortalForm):
    volume = forms.ChoiceField(label=_("Volume"))

    def __init__(self, *args: Any, volumes: list[refs.Volume], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volume"].choices = [  # type: ignore[attr-defined]
            (v.id, f"{v.label} ({v.size} GB)") for v in volumes if v.status == "available"
        ]


class DeleteVolumeAttachmentForm(PortalForm):
    volume = forms.ChoiceField(label=_("Volume"))

    def __init__(self, *args: Any, volumes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volume"].choices = volumes  # type: ignore[attr-defined]


# --- key pairs and server groups -------------------------------------------------------------


class CreateKeypairForm(PortalForm):
    name = forms.CharField(
        label=_("Key pair name"), max_length=255, validators=[keypair_name_validator]
    )


PUBLIC_KEY = re.compile(
    r"^(ssh-rsa|ssh-ed25519|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-\S+)\s+[A-Za-z0-9+/]+=*(\s.*)?$"
)


class ImportKeypairForm(CreateKeypairForm):
    public_key = forms.CharField(
        label=_("Public key"),
        max_length=16384,
        widget=forms.Textarea({"rows": 5, "spellcheck": "false"}),
        help_text=_("One line in OpenSSH format, e.g. the contents of ~/.ssh/id_ed25519.pub."),
    )

    def clean_public_key(self) -> str:
        key = " ".join(self.cleaned_data["public_key"].split())
        if not PUBLIC_KEY.match(key):
            raise forms.ValidationError(
                _(
                    "This is not an OpenSSH public key. It starts with ssh-rsa, ssh-ed25519 "
                    "or ecdsa-sha2-…."
                )
            )
        return key


SERVER_GROUP_POLICIES = (
    ("anti-affinity", _("Anti-affinity: every member on a different host")),
    ("affinity", _("Affinity: every member on the same host")),
    ("soft-anti-affinity", _("Soft anti-affinity: different hosts when possible")),
    ("soft-affinity", _("Soft affinity: the same host when possible")),
)


class CreateServerGroupForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=255, validators=[cloud_text])
    policy = forms.ChoiceField(
        label=_("Policy"), choices=SERVER_GROUP_POLICIES, widget=forms.RadioSelect
    )
