"""`request|admin_page`: whether the health banner belongs on this page (an admin view,
seen by an admin, other than the health page itself, which shows the same list)."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

register = template.Library()


@register.filter
def admin_page(request: HttpRequest) -> bool:
    identity = getattr(request, "identity", None)
    match = request.resolver_match
    if identity is None or not identity.is_admin or match is None:
        return False
    return bool(getattr(match.func, "admin_only", False)) and match.url_name != "admin-health"
