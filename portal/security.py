"""The Content-Security-Policy header on every response (Django 5.2 has no CSP of its own).

The portal runs no inline script: every behaviour is in static/*.js, driven by data-
attributes, and htmx is told not to inject its indicator <style> (the htmx-config meta tag in
base.html). So scripts and stylesheets come from the portal only. Two allowances, both narrow:

- style-src-attr 'unsafe-inline': templates set server-computed widths on progress bars and
  meters with style="width: N%". A style attribute cannot run script; <style> elements and
  stylesheets from anywhere else stay refused (style-src 'self').
- frame-src: the server page's console tab shows Nova's noVNC proxy in an iframe. The proxy
  (novncproxy_base_url) is another port, often the host of the cloud's public endpoints, so
  by default each configured cloud's Keystone host is allowed on any port; an operator whose
  console proxy lives elsewhere names its origins in STACKDESK_CONSOLE_ORIGINS.
  The policy covers the whole page, not only the console tab, because tabs are swapped in by
  htmx and an iframe obeys the policy of the document it is inserted into.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from portal import cloud

HEADER = "Content-Security-Policy"


def console_origins() -> list[str]:
    """Where the console iframe may come from: configured, else the clouds' Keystone hosts."""
    if settings.STACKDESK_CONSOLE_ORIGINS:
        return list(settings.STACKDESK_CONSOLE_ORIGINS)
    origins: list[str] = []
    for where in cloud.available_clouds():
        parts = urlsplit(where.auth_url)
        if parts.scheme in {"http", "https"} and parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            origin = f"{parts.scheme}://{host}:*"
            if origin not in origins:
                origins.append(origin)
    return origins


def policy() -> str:
    frames = " ".join(["'self'", *console_origins()])
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",  # Bootstrap draws its select arrow and close icon as data: SVG
        f"frame-src {frames}",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(HEADER, policy())
        return response
