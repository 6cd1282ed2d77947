from django import forms
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from portal import cloud


def posted(request: HttpRequest) -> QueryDict | None:
    """A form's data: the POST (even an empty one, which then fails validation like any
    incomplete form), or None on GET for an unbound form. `request.POST or None` would take
    an empty POST for a GET."""
    return request.POST if request.method == "POST" else None


class PortalForm(forms.Form):
    """Base for the portal's forms: Bootstrap classes on every widget, nothing else."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            widget = field.widget
            if isinstance(
                widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class SignInForm(PortalForm):
    METHOD_PASSWORD = "password"  # noqa: S105 (a method name, not a password)
    METHOD_APP_CREDENTIAL = "application_credential"

    method = forms.ChoiceField(
        label=_("Sign in with"),
        choices=[
            (METHOD_PASSWORD, _("User name and password")),
            (METHOD_APP_CREDENTIAL, _("Application credential")),
        ],
        initial=METHOD_PASSWORD,
        widget=forms.RadioSelect,
    )
    cloud = forms.ChoiceField(label=_("Cloud / region"))
    username = forms.CharField(label=_("User name"), max_length=255, required=False)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput, max_length=4096, required=False
    )
    domain = forms.CharField(label=_("Domain"), max_length=255, required=False)
    credential_id = forms.CharField(
        label=_("Application credential ID"), max_length=64, required=False
    )
    credential_secret = forms.CharField(
        label=_("Application credential secret"),
        widget=forms.PasswordInput,
        max_length=4096,
        required=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        clouds = cloud.available_clouds()
        field = self.fields["cloud"]
        field.choices = [(c.key, c.label) for c in clouds]  # type: ignore[attr-defined]
        field.initial = clouds[0].key if clouds else None
        self.fields["domain"].initial = settings.STACKDESK_DEFAULT_DOMAIN
        self.show_cloud_choice = len(clouds) > 1

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("method") == self.METHOD_APP_CREDENTIAL:
            for name in ("credential_id", "credential_secret"):
                if not data.get(name):
                    self.add_error(name, _("This field is required."))
        else:
            for name in ("username", "password"):
                if not data.get(name):
                    self.add_error(name, _("This field is required."))
            data["domain"] = (data.get("domain") or "").strip() or (
                settings.STACKDESK_DEFAULT_DOMAIN
            )
        return data


class ProjectChoiceForm(forms.Form):
    project_id = forms.CharField(max_length=64)
