"""The one place that turns cloud errors a view did not handle into pages (settings.MIDDLEWARE).

It stands above both portal/errors.py (the exceptions, which portal/cloud.py raises) and
portal/identity.py (signing out), so that neither has to import the other.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal import cloud
from portal.errors import CloudError, CloudUnavailable, NotFound, SignInRequired
from portal.identity import redirect_to_sign_in, session_credential, sign_out_locally


def error_title(exc: CloudError) -> str:
    if isinstance(exc, NotFound):
        return _("Not found")
    if isinstance(exc, CloudUnavailable):
        return _("The cloud is not answering")
    if exc.status == 403:
        return _("Not allowed")
    if exc.status == 409:
        return _("Not possible right now")
    return _("The cloud refused the request")


def _keystone_away(request: HttpRequest) -> bool:
    """True when Keystone itself does not answer about the session's token (rather than
    answering that the token is no good)."""
    identity = getattr(request, "identity", None)
    if identity is None:
        return False
    try:
        cloud.validate_token(
            cloud.find_cloud(identity.cloud_key), session_credential(request)["token"]
        )
    except CloudUnavailable:
        return True
    except CloudError:
        return False
    return False


class CloudErrorMiddleware:
    """Cloud errors that a view did not handle become a clear page or htmx message, never a 500.

    SignInRequired ends the session and sends the user to sign in, then back to the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, CloudError):
            return None
        if isinstance(exc, SignInRequired) and _keystone_away(request):
            # A service refused the token because it could not ask Keystone (it answers 401
            # or 503 then): the sign-in is kept, and the page says what is wrong.
            exc = CloudUnavailable(
                _(
                    "Keystone is not answering, so the cloud cannot check your sign-in. "
                    "Try again in a moment."
                )
            )
        if isinstance(exc, SignInRequired):
            sign_out_locally(request)
            messages.warning(request, _("Your session has ended. Please sign in again."))
            return redirect_to_sign_in(request)
        # A service that failed or did not answer is the portal's 503, whatever status it
        # gave (Nova answers 500 while Keystone is down): a 500 would say the portal failed.
        status = 503 if isinstance(exc, CloudUnavailable) or exc.status >= 500 else exc.status
        context = {"title": error_title(exc), "message": exc.message, "status": status}
        if request.headers.get("HX-Request"):
            # Show the reason in the page's message area, whatever the request targeted.
            response = render(request, "portal/error.html#message", context, status=status)
            response["HX-Retarget"] = "#flash-messages"
            response["HX-Reswap"] = "beforeend"
            return response
        return render(request, "portal/error.html", context, status=status)
