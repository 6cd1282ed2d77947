"""The portal's three cloud errors, and the one place that turns them into pages.

Gateways raise only these (portal/cloud.py translates SDK and keystoneauth errors):
- NotFound: the resource does not exist or is not visible to this user (404).
- Rejected: the cloud refused the request (4xx: policy, quota, conflict, bad request); the
  message is OpenStack's own reason, shown to the user as it is.
- CloudUnavailable: transient (connection refused, timeout, 5xx); worth retrying later.
SignInRequired is raised when Keystone no longer accepts the session's token.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class CloudError(Exception):
    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class NotFound(CloudError):
    status = 404


class Rejected(CloudError):
    status = 400


class CloudUnavailable(CloudError):
    status = 503


class SignInRequired(CloudError):
    status = 401


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
        if isinstance(exc, SignInRequired):
            from portal.identity import redirect_to_sign_in, sign_out_locally

            sign_out_locally(request)
            messages.warning(request, _("Your session has ended. Please sign in again."))
            return redirect_to_sign_in(request)
        context = {"title": error_title(exc), "message": exc.message, "status": exc.status}
        if request.headers.get("HX-Request"):
            # Show the reason in the page's message area, whatever the request targeted.
            response = render(request, "portal/error.html#message", context, status=exc.status)
            response["HX-Retarget"] = "#flash-messages"
            response["HX-Reswap"] = "beforeend"
            return response
        return render(request, "portal/error.html", context, status=exc.status)
