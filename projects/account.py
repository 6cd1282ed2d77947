"""The signed-in user's own Keystone password (reached from Settings, portal/views.py).

Keystone checks the current password and, on success, revokes every token of the user; the
portal then ends the session the way sign-out does, and the user signs in with the new one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.actions import form_page
from portal.errors import Rejected
from portal.forms import posted
from portal.gateways import gateway
from portal.identity import PortalRequest, login_required, me
from portal.views import end_session
from projects.forms import OwnPasswordForm
from projects.gateway import ProjectsGateway


@require_http_methods(["GET", "POST"])
@login_required
def update_password(request: PortalRequest) -> HttpResponse:
    form = OwnPasswordForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            gateway(request, ProjectsGateway).update_password(
                me(request).user_id,
                current_password=data["current_password"],
                password=data["password"],
            )
        except Rejected as exc:
            if exc.status == 401:  # Keystone's answer to a wrong current password
                form.add_error("current_password", _("Your current password is not correct."))
            else:  # e.g. the cloud's password rules, in Keystone's words
                form.add_error("password", exc.message)
        else:
            end_session(request)
            messages.success(
                request, _("Your password was changed. Sign in again with the new password.")
            )
            return redirect("portal:sign-in")
    return form_page(
        request,
        form,
        title=_("Change your password"),
        intro=_("After the change you are signed out everywhere and sign in again."),
        submit=_("Change password"),
        cancel=reverse("portal:update-preferences"),
    )
