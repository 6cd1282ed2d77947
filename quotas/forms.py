"""Quota forms (a project's quotas beside its usage, default quotas, one set for many
projects) and the usage report's date range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.forms import PortalForm
from portal.validators import INT32_MAX
from quotas import catalog
from quotas.gateway import QuotaSet
from quotas.usage import Period

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as Label

QUOTA_ERRORS = {
    "min_value": gettext_lazy("Enter -1 for unlimited, or 0 or more."),
    # Nova, Cinder and Neutron keep limits as MySQL INT and refuse anything above it.
    "max_value": gettext_lazy("Enter at most %(limit_value)s (-1 for unlimited)."),
    "invalid": gettext_lazy("Enter a whole number (-1 for unlimited)."),
    "required": gettext_lazy("Enter a value (-1 for unlimited)."),
}


def _quota_field(label: Label, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=catalog.UNLIMITED,
        max_value=INT32_MAX,
        required=required,
        error_messages=QUOTA_ERRORS,
        widget=forms.NumberInput(attrs={"min": catalog.UNLIMITED, "max": INT32_MAX, "step": 1}),
    )


class QuotaValuesForm(PortalForm):
    """One integer field per quota of the given services (field names: catalog names)."""

    def __init__(
        self,
        *args: Any,
        services: Sequence[str],
        initial_values: Mapping[str, Mapping[str, int]] | None = None,
        required: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.services = tuple(services)
        values = initial_values or {}
        for quota in catalog.QUOTA_FIELDS:
            if quota.service not in self.services:
                continue
            if required and quota.key not in values.get(quota.service, {}):
                continue  # the cloud does not know this quota (older or newer service)
            field = _quota_field(quota.label, required)
            field.initial = values.get(quota.service, {}).get(quota.key)
            self.fields[quota.name] = field
        self.order_fields(list(self.fields))

    def sections(self) -> list[tuple[Label, list[forms.BoundField]]]:
        """The fields grouped by service, for the template."""
        found = []
        for service in self.services:
            fields = [self[q.name] for q in catalog.fields_of(service) if q.name in self.fields]
            if fields:
                found.append((catalog.SERVICE_LABELS[service], fields))
        return found

    def values(self) -> dict[str, dict[str, int]]:
        """service -> key -> value, for the fields given a value."""
        found: dict[str, dict[str, int]] = {}
        for quota in catalog.QUOTA_FIELDS:
            value = self.cleaned_data.get(quota.name)
            if quota.name in self.fields and value is not None:
                found.setdefault(quota.service, {})[quota.key] = value
        return found

    def changes(self) -> dict[str, dict[str, int]]:
        """Only the values that differ from what the form started with."""
        found: dict[str, dict[str, int]] = {}
        for service, values in self.values().items():
            for key, value in values.items():
                if self.fields[f"{service}__{key}"].initial != value:
                    found.setdefault(service, {})[key] = value
        return found


class ProjectQuotaForm(QuotaValuesForm):
    """A project's quotas, each beside what the project uses; a limit below usage is refused
    at its field (the clouds refuse it too, but the form says which field and why)."""

    def __init__(self, *args: Any, current: Mapping[str, QuotaSet], **kwargs: Any) -> None:
        self.current = current
        initial = {s: {k: q.limit for k, q in qs.quotas.items()} for s, qs in current.items()}
        super().__init__(*args, services=list(current), initial_values=initial, **kwargs)
        for quota in catalog.QUOTA_FIELDS:
            if quota.name in self.fields:
                now = current[quota.service].quotas[quota.key]
                text = _("In use: %(n)s · now unlimited") if now.unlimited else _("In use: %(n)s")
                self.fields[quota.name].help_text = text % {"n": now.in_use}

    def previous(self) -> dict[str, dict[str, int]]:
        """service -> key -> the limit the page showed: what a refused save sets back."""
        return {s: {k: q.limit for k, q in qs.quotas.items()} for s, qs in self.current.items()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for quota in catalog.QUOTA_FIELDS:
            value = data.get(quota.name)
            if quota.name not in self.fields or value is None or value == catalog.UNLIMITED:
                continue
            used = self.current[quota.service].quotas[quota.key].in_use
            if value < used:
                self.add_error(
                    quota.name,
                    _("The project already uses %(used)s; enter %(used)s or more, or -1.")
                    % {"used": used},
                )
        return data


class BulkQuotaForm(QuotaValuesForm):
    """One quota set for several projects; an empty field leaves that quota as it is."""

    def __init__(
        self,
        *args: Any,
        services: Sequence[str],
        projects: Sequence[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, services=services, required=False, **kwargs)
        self.project_names = dict(projects)
        self.fields["projects"] = forms.MultipleChoiceField(
            label=gettext_lazy("Projects"),
            choices=list(projects),
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": gettext_lazy("Choose at least one project.")},
        )
        self.order_fields(["projects", *[f for f in self.fields if f != "projects"]])
        self.fields["projects"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.values():
            raise forms.ValidationError(_("Enter at least one quota to apply."))
        return data


def this_month(today: date) -> tuple[date, date]:
    return today.replace(day=1), today


# OpenStack's first release (Austin) came out in October 2010: no cloud has usage before
# 2010. The bound also keeps every date to four-digit years, which is all Nova parses (a year
# below 1000 is written "1-01-01", Nova refuses it, and a streamed CSV would break after its
# header line).
EARLIEST_USAGE_DATE = date(2010, 1, 1)


class UsageRangeForm(PortalForm):
    """The usage report's period: whole UTC days from 2010 on, from <= to, nothing after
    today. Every date is checked here, before a page is read or a CSV starts."""

    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        today = timezone.now().date()
        first, last = this_month(today)
        if not data or not ({"start", "end"} & set(data)):
            data = {"start": first.isoformat(), "end": last.isoformat()}
        super().__init__(data, **kwargs)
        for name in ("start", "end"):
            self.fields[name].widget.attrs["min"] = EARLIEST_USAGE_DATE.isoformat()
            self.fields[name].widget.attrs["max"] = today.isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        today = timezone.now().date()
        earliest = _("Enter a date on or after %(date)s.") % {"date": EARLIEST_USAGE_DATE}
        if start is not None and start < EARLIEST_USAGE_DATE:
            self.add_error("start", earliest)
            start = None
        if end is not None and end < EARLIEST_USAGE_DATE:
            self.add_error("end", earliest)
        elif end is not None and end > today:
            self.add_error("end", _("The end date cannot be in the future."))
        elif start is not None and end is not None and end < start:
            self.add_error("end", _("The end date must be on or after the start date."))
        return data

    def period(self) -> Period:
        return Period.from_dates(self.cleaned_data["start"], self.cleaned_data["end"])

    def query(self) -> str:
        """The period as the query string of the page, its CSV links and export."""
        return f"start={self.cleaned_data['start']}&end={self.cleaned_data['end']}"
