"""One dialect for an action: a form page, a confirm page and the response after a change.

- `form_page`: the form, in the shared modal for htmx (portal/action.html#form) or as a page
  of its own; the field errors and the cloud's refusal on it, 400 when it is invalid.
- `confirm_page`: GET asks, POST does it; a refusal comes back on the page in the cloud's
  words, nothing changed.
- `done`: the message, then for htmx from the modal (`stay`, posted by every modal form):
  the modal closes and the page's lists reload; otherwise on to the next page.

One htmx event vocabulary (HX-Trigger): `sd:close-modal` hides the shared modal
(static/portal.js) and `sd:changed` tells the page its data changed; every list body
listens with `hx-trigger="sd:changed from:body"`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from portal.errors import CloudError, NotFound, Rejected
from portal.identity import PortalRequest, safe_next

T = TypeVar("T")
CLOSE_MODAL = "sd:close-modal"
CHANGED = "sd:changed"
TEMPLATE = "portal/action.html"
Text = str | Promise


def in_modal(request: PortalRequest) -> bool:
    """An htmx request for a piece of the page (the form in the shared modal), not the page."""
    return bool(request.htmx) and not request.htmx.boosted


def next_url(request: PortalRequest) -> str:
    """Where to go afterwards when a page of another app sent the user here (?next=)."""
    return safe_next(request, request.POST.get("next") or request.GET.get("next")) or ""


def refusal(exc: CloudError) -> str:
    """The cloud's reason, said so that a person knows what kind of refusal it is."""
    if exc.status == 403:
        return _("The cloud's policy does not allow this: %(reason)s") % {"reason": exc.message}
    return exc.message


def attempt(form: forms.Form, call: Callable[[], T], field: str | None = None) -> T | None:
    """Run a change; a refusal goes on the form (at `field`, or above the fields) in the
    cloud's words, and None comes back."""
    try:
        return call()
    except (Rejected, NotFound) as exc:
        form.add_error(field, refusal(exc))
        return None


def accepted(form: forms.Form, call: Callable[[], object]) -> bool:
    """Like `attempt`, for changes that return nothing: True when the cloud accepted it."""
    try:
        call()
    except (Rejected, NotFound) as exc:
        form.add_error(None, refusal(exc))
        return False
    return True


def form_action(
    request: PortalRequest,
    form: forms.Form,
    perform: Callable[[dict[str, Any]], tuple[str, str]],
    **page: Any,
) -> HttpResponse:
    """Validate, do it (`perform` returns the message and where to go next), say so and go
    on; or the form again (`form_page`, with `page`) with the cloud's refusal."""
    if request.method == "POST" and form.is_valid():
        outcome = attempt(form, lambda: perform(form.cleaned_data))
        if outcome is not None:
            return done(request, *outcome)
    return form_page(request, form, **page)


def form_page(
    request: PortalRequest,
    form: forms.Form | None,
    *,
    title: Text,
    submit: Text,
    cancel: str,
    intro: Text = "",
    danger: bool = False,
    error: str = "",
    extra_forms: Sequence[forms.Form] = (),
    fields: str = "portal/forms/fields.html",
    stay: bool = True,
    **context: Any,
) -> HttpResponse:
    """The form in the shared modal (htmx) or on a page of its own. `above` and `aside` in
    the context name templates shown above the fields and beside the form. `stay=False`:
    after the change the browser goes on to the next page even from the modal (a page whose
    lists do not listen for `sd:changed`)."""
    modal = in_modal(request)
    context.update(
        form=form,
        extra_forms=extra_forms,
        title=title,
        submit=submit,
        cancel=cancel,
        intro=intro,
        danger=danger,
        error=error,
        fields=fields,
        action=request.get_full_path(),
        modal=modal,
        stay=modal and stay,
        next=next_url(request),
    )
    invalid = error or (form and form.errors) or any(f.errors for f in extra_forms)
    name = f"{TEMPLATE}#form" if modal else TEMPLATE
    return render(request, name, context, status=400 if invalid else 200)


def confirm_page(
    request: PortalRequest,
    *,
    title: Text,
    intro: Text,
    submit: Text,
    cancel: str,
    perform: Callable[[], object],
    done_message: str,
    then: str,
    on_refusal: str = "",
    stay: bool = True,
) -> HttpResponse:
    """A delete (or another change without fields): GET asks, POST does it. A refusal is
    shown on the page in the cloud's words (400), or as a message at the URL `on_refusal`."""
    error = ""
    if request.method == "POST":
        try:
            perform()
        except (Rejected, NotFound) as exc:
            if on_refusal:
                return done(request, str(exc), on_refusal, ok=False)
            error = str(exc)  # shown as "The cloud refused: ...", whatever the status
        else:
            return done(request, done_message, then)
    return form_page(
        request,
        None,
        title=title,
        intro=intro,
        submit=submit,
        cancel=cancel,
        danger=True,
        error=error,
        stay=stay,
    )


def changed(response: HttpResponse) -> HttpResponse:
    """Close the modal and tell the page its data changed."""
    response["HX-Trigger"] = json.dumps({CLOSE_MODAL: None, CHANGED: None})
    return response


def done(request: PortalRequest, message: str, then: str, ok: bool = True) -> HttpResponse:
    """After a change: the message, then (htmx from the modal or a list) the modal closes
    and the lists reload, or (htmx) the client goes to `next` or `then`, or a redirect."""
    (messages.success if ok else messages.error)(request, message)
    url = next_url(request) or then
    if request.htmx and request.POST.get("stay"):
        return changed(render(request, f"{TEMPLATE}#messages"))
    return go(request, url)


def go(request: PortalRequest, url: str) -> HttpResponse:
    """On to `url`: htmx follows the HX-Redirect header, a plain form a redirect."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def refused(request: PortalRequest, exc: CloudError, then: str) -> HttpResponse:
    """A button's change (no form) refused: the cloud's reason as a message, where the user
    is (htmx, with the cloud's status), or back at `next` or `then`."""
    messages.error(request, refusal(exc))
    if request.htmx:
        return render(request, f"{TEMPLATE}#messages", status=exc.status)
    return redirect(next_url(request) or then)


def button(
    request: PortalRequest, call: Callable[[], object], message: str, then: str
) -> HttpResponse:
    """A POST button without a form (delete, release, clear...): do it, then `done` or
    `refused`."""
    try:
        call()
    except (Rejected, NotFound) as exc:
        return refused(request, exc, then)
    return done(request, message, then)
