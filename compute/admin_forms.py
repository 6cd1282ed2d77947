"""Forms of the admin compute pages: services, host jobs, migrations, aggregates, flavors,
filters.

A host that cannot take an instance is still listed, disabled, with the reason; choosing it
anyway (an old page, a crafted POST) is refused at the field with the same reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from compute import hosts as h
from compute.forms import ServerFilterForm
from compute.gateway import NewFlavor, ServerQuery
from portal.forms import PortalForm
from portal.refs import ProjectRef
from portal.validators import INT32_MAX, cloud_text

MAX_CONCURRENCY = 8
BLOCK_MIGRATION = (
    ("auto", _("Automatic (Nova decides from the storage)")),
    ("yes", _("Yes: copy the disks")),
    ("no", _("No: the disks are on shared storage")),
)
MIGRATION_TYPES = (
    ("", _("Any kind")),
    ("live-migration", _("Live migration")),
    ("migration", _("Cold migration")),
    ("resize", _("Resize")),
    ("evacuation", _("Evacuation")),
)
MIGRATION_STATUSES = (
    "queued",
    "preparing",
    "running",
    "post-migrating",
    "completed",
    "pre-migrating",
    "migrating",
    "finished",
    "confirmed",
    "reverted",
    "accepted",
    "done",
    "error",
    "failed",
    "cancelled",
)


class HostSelect(forms.Select):
    """A select whose unusable hosts are shown disabled (with why in their label)."""

    def __init__(self, *args: Any, disabled: set[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.disabled_values = disabled or set()

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        if option["value"] in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class TargetHostForm(PortalForm):
    """Where a migration goes: automatic (the scheduler chooses) or one usable host."""

    host = forms.ChoiceField(label=_("Target host"), required=False)

    def __init__(self, *args: Any, choices: list[h.HostChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = {c.host: c for c in choices}
        field: Any = self.fields["host"]
        field.widget = HostSelect(
            disabled={c.host for c in choices if not c.usable}, attrs={"class": "form-select"}
        )
        field.choices = [("", _("Automatic: let the scheduler choose"))] + [
            (c.host, c.label) for c in choices
        ]  # (after the widget: the field hands its choices to it)
        field.help_text = _(
            "Hosts that are down, disabled or too full are shown but cannot be chosen."
        )

    def clean_host(self) -> str:
        host: str = self.cleaned_data.get("host", "")
        choice = self.choices.get(host)
        if choice is not None and not choice.usable:
            raise forms.ValidationError(
                _("%(host)s cannot take this instance: %(reason)s")
                % {"host": host, "reason": choice.reason}
            )
        return host


class LiveMigrateForm(TargetHostForm):
    block_migration = forms.ChoiceField(
        label=_("Block migration"), choices=BLOCK_MIGRATION, initial="auto", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["block_migration"].help_text = _(
            "Disk over-commit is not offered: Nova dropped it in microversion 2.25, and this "
            "portal speaks a newer one."
        )

    def block(self) -> bool | str:
        return {"yes": True, "no": False}.get(
            self.cleaned_data.get("block_migration") or "", "auto"
        )


class DisableServiceForm(PortalForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Shown on the services page, e.g. “Disk replacement, ticket 4711”."),
    )


class HostJobForm(PortalForm):
    concurrency = forms.IntegerField(
        label=_("Instances moved at once"),
        min_value=1,
        max_value=MAX_CONCURRENCY,
        help_text=_("More at once finishes sooner but loads the network and the hosts more."),
    )

    def __init__(self, *args: Any, concurrency: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["concurrency"].initial = concurrency


class DrainHostForm(HostJobForm):
    active = forms.ChoiceField(
        label=_("Running instances"),
        choices=((h.LIVE, _("Live migrate (no downtime)")), (h.COLD, _("Cold migrate"))),
        initial=h.LIVE,
    )
    stopped = forms.ChoiceField(
        label=_("Shut-off instances"),
        choices=((h.COLD, _("Cold migrate")), (h.SKIP, _("Leave them on the host"))),
        initial=h.COLD,
    )
    reason = forms.CharField(
        label=_("Reason for disabling the host"),
        max_length=255,
        required=False,
        help_text=_("The compute service is disabled first, so nothing new lands on it."),
    )


class AggregateForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=255)
    availability_zone = forms.CharField(
        label=_("Availability zone"),
        max_length=255,
        required=False,
        help_text=_("Leave empty for an aggregate that is not an availability zone."),
    )


class AggregateHostForm(PortalForm):
    host = forms.ChoiceField(label=_("Host"))

    def __init__(self, *args: Any, hosts: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["host"]
        field.choices = [(host, host) for host in hosts]


class AggregateMetadataForm(PortalForm):
    key = forms.RegexField(
        label=_("Key"),
        max_length=255,
        regex=r"^[A-Za-z0-9_.:-]+$",
        error_messages={"invalid": _("Use letters, digits and _ . : - only.")},
    )
    value = forms.CharField(label=_("Value"), max_length=255)

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if key == "availability_zone":
            raise forms.ValidationError(_("Set the availability zone when creating the aggregate."))
        return key


class AdminServerFilterForm(ServerFilterForm):
    host = forms.ChoiceField(label=_("Host"), required=False)
    project = forms.ChoiceField(label=_("Project"), required=False)

    def __init__(
        self, *args: Any, hosts: list[str], projects: list[ProjectRef], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        host_field: Any = self.fields["host"]
        host_field.choices = [("", _("Any host"))] + [(x, x) for x in hosts]
        project_field: Any = self.fields["project"]
        project_field.choices = [("", _("Any project"))] + [
            (p.id, p.name or p.id) for p in projects
        ]

    def admin_query(self) -> ServerQuery:
        data = self.cleaned_data if self.is_valid() else {}
        return self.query(
            all_projects=True, host=data.get("host", ""), project_id=data.get("project", "")
        )

    def link_params(self) -> dict[str, str]:
        params = super().link_params()
        data = self.cleaned_data if self.is_valid() else {}
        params.update({k: str(data[k]) for k in ("host", "project") if data.get(k)})
        return params


class MigrationFilterForm(PortalForm):
    host = forms.CharField(label=_("Host"), max_length=255, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))] + [(s, s) for s in MIGRATION_STATUSES],
    )
    migration_type = forms.ChoiceField(label=_("Kind"), required=False, choices=MIGRATION_TYPES)
    server_id = forms.RegexField(
        label=_("Instance ID"),
        max_length=36,
        required=False,
        regex=r"^[0-9a-fA-F-]+$",
        error_messages={"invalid": _("Paste an instance's ID (a UUID).")},
    )
    marker = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


# --- flavors ---------------------------------------------------------------------------------

# Nova's flavor id pattern (nova/api/validation/parameter_types.py) allows inner spaces; the
# portal also refuses those and a leading dot, so an id is always one clean URL segment.
FLAVOR_ID = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
# Nova's extra spec key pattern is [a-zA-Z0-9-_:. ]{1,255}; the key goes into a URL when it
# is removed, so the portal refuses spaces and a leading dot ("." or ".." would be a path).
EXTRA_SPEC_KEY = r"^[A-Za-z0-9_-][A-Za-z0-9_.:-]*$"
# Offered in the key's datalist. A key ending in ":" is a namespace to complete.
EXTRA_SPEC_SUGGESTIONS = (
    "hw:cpu_policy",
    "hw:cpu_thread_policy",
    "hw:mem_page_size",
    "hw:numa_nodes",
    "aggregate_instance_extra_specs:",
    "quota:cpu_quota",
    "quota:cpu_period",
    "quota:cpu_shares",
    "quota:disk_read_bytes_sec",
    "quota:disk_write_bytes_sec",
    "quota:disk_total_iops_sec",
)
RXTX_MAX = 3.40282e38  # Nova stores the factor as a FLOAT column and refuses anything above


class FlavorForm(PortalForm):
    flavor_id = forms.RegexField(
        label=_("ID"),
        max_length=255,
        required=False,
        regex=FLAVOR_ID,
        error_messages={
            "invalid": _("Use letters, digits and _ . - only, not starting with a dot.")
        },
        help_text=_("Leave empty and Nova generates one (a UUID)."),
    )
    name = forms.CharField(label=_("Name"), max_length=255, validators=[cloud_text])
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=1, max_value=INT32_MAX)
    ram = forms.IntegerField(label=_("RAM (MiB)"), min_value=1, max_value=INT32_MAX)
    disk = forms.IntegerField(
        label=_("Root disk (GiB)"),
        min_value=0,
        max_value=INT32_MAX,
        help_text=_("0: the root disk is as large as the image needs (or a volume)."),
    )
    ephemeral = forms.IntegerField(
        label=_("Ephemeral disk (GiB)"), min_value=0, max_value=INT32_MAX, initial=0
    )
    swap = forms.IntegerField(label=_("Swap (MiB)"), min_value=0, max_value=INT32_MAX, initial=0)
    rxtx_factor = forms.FloatField(
        label=_("RX/TX factor"),
        initial=1.0,
        max_value=RXTX_MAX,
        help_text=_("Bandwidth relative to the network's base; 1.0 for most clouds."),
    )
    is_public = forms.BooleanField(
        label=_("Public"),
        required=False,
        initial=True,
        help_text=_("A private flavor is usable only by the projects given access to it."),
    )

    def clean_flavor_id(self) -> str:
        flavor_id: str = self.cleaned_data["flavor_id"]
        if flavor_id == "create":  # the portal's own page for creating one has that URL
            raise forms.ValidationError(_("“create” cannot be a flavor ID here."))
        return flavor_id

    def clean_rxtx_factor(self) -> float:
        factor: float = self.cleaned_data["rxtx_factor"]
        if factor <= 0:
            raise forms.ValidationError(_("The RX/TX factor must be greater than 0."))
        return factor

    def new_flavor(self) -> NewFlavor:
        data = self.cleaned_data
        return NewFlavor(
            id=data["flavor_id"],
            name=data["name"],
            vcpus=data["vcpus"],
            ram=data["ram"],
            disk=data["disk"],
            ephemeral=data["ephemeral"] or 0,
            swap=data["swap"] or 0,
            rxtx_factor=data["rxtx_factor"],
            is_public=data["is_public"],
        )


class ExtraSpecForm(PortalForm):
    key = forms.RegexField(
        label=_("Key"),
        max_length=255,
        regex=EXTRA_SPEC_KEY,
        error_messages={
            "invalid": _("Use letters, digits and _ . : - only, not starting with a dot.")
        },
        widget=forms.TextInput(attrs={"list": "extra-spec-keys", "autocomplete": "off"}),
    )
    value = forms.CharField(label=_("Value"), max_length=255, strip=True, validators=[cloud_text])

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if key.endswith(":"):
            raise forms.ValidationError(
                _("%(key)s is a namespace: complete the key after the colon.") % {"key": key}
            )
        return key


class FlavorAccessForm(PortalForm):
    project_id = forms.ChoiceField(label=_("Project"))

    def __init__(self, *args: Any, projects: list[ProjectRef], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["project_id"]
        field.choices = [(p.id, f"{p.name} ({p.id})" if p.name else p.id) for p in projects]
