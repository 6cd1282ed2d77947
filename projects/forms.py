"""Forms of the Identity pages and of application credentials."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.forms import PortalForm
from portal.validators import cloud_text
from projects.gateway import Domain, Group, Project, Role, User

NAME_MAX = 64  # Keystone's limit for project, user, group and role names is 64/255; keep 64


def _choices(items: Sequence[Project | User | Group | Role | Domain]) -> list[tuple[str, str]]:
    return [(item.id, item.name) for item in items]


class ProjectFilterForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("Name or ID"), max_length=255, required=False, validators=[cloud_text]
    )

    def shown(self, projects: Sequence[Project]) -> list[Project]:
        """The projects whose name holds the text (any case) or whose ID it is."""
        text = self.cleaned_data["name"].lower() if self.is_valid() else ""
        return [p for p in projects if not text or text in p.name.lower() or text == p.id]


class _PasswordPair(PortalForm):
    password = forms.CharField(
        label=gettext_lazy("Password"),
        widget=forms.PasswordInput(render_value=False),
        max_length=4096,
    )
    confirm_password = forms.CharField(
        label=gettext_lazy("Confirm password"),
        widget=forms.PasswordInput(render_value=False),
        max_length=4096,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("confirm_password") != data.get("password"):
            self.add_error("confirm_password", _("The two passwords do not match."))
        return data


class ProjectForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX, validators=[cloud_text])
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[cloud_text],
    )
    domain_id = forms.ChoiceField(label=gettext_lazy("Domain"))
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)

    def __init__(self, *args: Any, domains: Sequence[Domain] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if domains is None:  # editing: a project cannot move to another domain
            del self.fields["domain_id"]
        else:
            self.fields["domain_id"].choices = _choices(domains)  # type: ignore[attr-defined]
            self.fields["domain_id"].initial = "default"

    def changes(self) -> dict[str, Any]:
        """For update_project: the SDK calls "enabled" is_enabled."""
        data = dict(self.cleaned_data)
        data["is_enabled"] = data.pop("enabled")
        return data


class UserForm(_PasswordPair):
    name = forms.CharField(
        label=gettext_lazy("User name"), max_length=NAME_MAX, validators=[cloud_text]
    )
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False, validators=[cloud_text])
    domain_id = forms.ChoiceField(label=gettext_lazy("Domain"))
    default_project_id = forms.ChoiceField(label=gettext_lazy("Primary project"), required=False)
    role_id = forms.ChoiceField(label=gettext_lazy("Role in the primary project"), required=False)
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)

    field_order = ["name", "email", "password", "confirm_password", "domain_id"]

    def __init__(
        self,
        *args: Any,
        domains: Sequence[Domain],
        projects: Sequence[Project],
        roles: Sequence[Role],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        none = [("", _("(none)"))]
        self.fields["domain_id"].choices = _choices(domains)  # type: ignore[attr-defined]
        self.fields["domain_id"].initial = "default"
        self.fields["default_project_id"].choices = none + _choices(projects)  # type: ignore[attr-defined]
        self.fields["role_id"].choices = none + _choices(roles)  # type: ignore[attr-defined]
        member = next((r.id for r in roles if r.name == "member"), "")
        self.fields["role_id"].initial = member

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("role_id") and not data.get("default_project_id"):
            self.add_error("default_project_id", _("Choose the project the role is for."))
        return data


class UserEditForm(PortalForm):
    name = forms.CharField(
        label=gettext_lazy("User name"), max_length=NAME_MAX, validators=[cloud_text]
    )
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False, validators=[cloud_text])
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=255, validators=[cloud_text]
    )
    default_project_id = forms.ChoiceField(label=gettext_lazy("Primary project"), required=False)

    def __init__(self, *args: Any, projects: Sequence[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        none = [("", _("(none)"))]
        self.fields["default_project_id"].choices = none + _choices(projects)  # type: ignore[attr-defined]

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["default_project_id"] = data["default_project_id"] or None
        return data


class PasswordForm(_PasswordPair):
    pass


class GroupForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX, validators=[cloud_text])
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=255, validators=[cloud_text]
    )
    domain_id = forms.ChoiceField(label=gettext_lazy("Domain"))

    def __init__(self, *args: Any, domains: Sequence[Domain] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if domains is None:
            del self.fields["domain_id"]
        else:
            self.fields["domain_id"].choices = _choices(domains)  # type: ignore[attr-defined]
            self.fields["domain_id"].initial = "default"


class RoleForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX, validators=[cloud_text])


class AssignRoleForm(PortalForm):
    """A user's (or a group's) role on a project."""

    actor_id = forms.ChoiceField()
    role_id = forms.ChoiceField(label=gettext_lazy("Role"))

    def __init__(
        self,
        *args: Any,
        actors: Sequence[User | Group],
        roles: Sequence[Role],
        actor_label: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor_id"].label = actor_label
        self.fields["actor_id"].choices = _choices(actors)  # type: ignore[attr-defined]
        self.fields["role_id"].choices = _choices(roles)  # type: ignore[attr-defined]


class GroupMemberForm(PortalForm):
    user_id = forms.ChoiceField(label=gettext_lazy("User"))

    def __init__(self, *args: Any, users: Sequence[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = _choices(users)  # type: ignore[attr-defined]


class AppCredentialForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255, validators=[cloud_text])
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=255, validators=[cloud_text]
    )
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Expires (in your time zone)"),
        required=False,
        help_text=gettext_lazy("Leave empty for a credential that does not expire."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The credential acts with these of your roles in this project."),
        error_messages={"required": gettext_lazy("Choose at least one role.")},
    )
    unrestricted = forms.BooleanField(
        label=gettext_lazy("Unrestricted"),
        required=False,
        help_text=gettext_lazy(
            "An unrestricted credential may create and delete other application "
            "credentials and trusts. Leave it off unless your automation needs that."
        ),
    )

    def __init__(self, *args: Any, roles: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(r, r) for r in roles]  # type: ignore[attr-defined]
        self.fields["roles"].initial = list(roles)

    def clean_expires_at(self) -> Any:
        value = self.cleaned_data.get("expires_at")
        if value is None:
            return None
        # The field reads the time in the active time zone: the user's (portal.preferences).
        value = value.astimezone(UTC)
        if value <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return value


class DomainForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX, validators=[cloud_text])
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[cloud_text],
    )
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)


class OwnPasswordForm(_PasswordPair):
    """The signed-in user's own password: Keystone wants the current one too."""

    current_password = forms.CharField(
        label=gettext_lazy("Current password"),
        widget=forms.PasswordInput(render_value=False),
        max_length=4096,
    )

    field_order = ["current_password", "password", "confirm_password"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("New password")
        self.fields["confirm_password"].label = _("Confirm the new password")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password") and data.get("password") == data.get("current_password"):
            self.add_error("password", _("The new password must differ from the current one."))
        return data
