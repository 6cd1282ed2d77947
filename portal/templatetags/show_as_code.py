"""`{% show_as_code %}` inside a form: the panel of portal/as_code.py for the view that drew
the form (or `view="app:url-name"` when the form posts elsewhere), drawn with its values."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BaseForm, PasswordInput
from django.urls import reverse
from django.utils.http import urlencode

from portal import as_code
from portal.audit import is_secret

register = template.Library()


@register.inclusion_tag("portal/as_code.html", takes_context=True)
def show_as_code(context: template.Context, view: str = "", **kwargs: Any) -> dict[str, Any]:
    request = context["request"]
    match = request.resolver_match
    view_name = view or match.view_name
    # The page's form, or its forms (a wizard's steps: context["forms"], a dict of them).
    form = context.get("form")
    several = context.get("forms")
    forms: list[BaseForm] = [form] if isinstance(form, BaseForm) else []
    if not forms and isinstance(several, dict):
        forms = [f for f in several.values() if isinstance(f, BaseForm)]
    fields: dict[str, list[str]] = {}
    for each in forms:
        fields |= as_code.draft_of_form(each)
    route = kwargs if view else dict(match.kwargs)
    shown = as_code.shown_for(request, view_name, route, fields)
    if shown is None:
        return {"shown": None}
    path = reverse(view_name, kwargs=route)
    secret = [
        f.html_name
        for each in forms
        for f in each
        if is_secret(f.html_name) or isinstance(f.field.widget, PasswordInput)
    ]
    return {
        "shown": shown,
        "code_url": f"{reverse('portal:show-as-code')}?{urlencode({'for': path})}",
        # Nothing secret and no CSRF token in a URL: left out of what typing sends.
        "left_out": ",".join(["csrfmiddlewaretoken", *secret]),
    }


@register.inclusion_tag("portal/as_code_buttons.html", takes_context=True)
def show_buttons_as_code(context: template.Context, buttons: Any, **kwargs: Any) -> dict[str, Any]:
    """One panel for a row of one-click buttons (no dialog, so no form to show it beside): the
    code of each, as its writer writes it for these URL arguments and its hidden fields.
    `buttons`: objects with `label`, `url_name`, `form` (opens a form: skipped, its dialog has
    its own panel) and `hidden` ((field, value) pairs), such as compute.actions.Action."""
    request = context["request"]
    shown = []
    for button in buttons:
        if button.form:
            continue
        fields = {key: [value] for key, value in button.hidden}
        code = as_code.shown_for(request, button.url_name, kwargs, fields)
        if code is not None:
            shown.append((button.label, code))
    return {"buttons": shown}
