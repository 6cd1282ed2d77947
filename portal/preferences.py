"""A user's settings: language, time zone and table page size.

Stored per user and cloud (models.Preference), copied into the session at the first request
of a sign-in (load) and applied to every request by PreferencesMiddleware: the time zone with
django.utils.timezone.activate, the language through Django's language cookie, the one the
top bar's switcher (set_language) sets too, so that switcher keeps working for the session.
Paged tables read their size from page_size(request).
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from portal.identity import Identity
from portal.models import Preference

T = TypeVar("T")
SESSION_PREFERENCES = "stackdesk.preferences"
PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE_SIZE = 20


@functools.cache
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class PreferencesForm(PortalForm):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates and times on every page are shown in this zone."),
        error_messages={"invalid_choice": _("%(value)s is not a time zone the portal knows.")},
    )
    page_size = forms.TypedChoiceField(
        label=_("Rows per table page"),
        coerce=int,
        choices=[(n, str(n)) for n in PAGE_SIZES],
        error_messages={"invalid_choice": _("Choose 10, 20, 50 or 100 rows per page.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in time_zones()]  # type: ignore[attr-defined]


def _owner(identity: Identity) -> str:
    return f"{identity.cloud_key} {identity.user_id}"


def _stored(identity: Identity) -> dict[str, Any]:
    pref = Preference.objects.filter(cloud_key=identity.cloud_key, user_id=identity.user_id).first()
    return {
        "owner": _owner(identity),
        "language": pref.language if pref else "",
        "time_zone": pref.time_zone if pref else "",
        "page_size": pref.page_size if pref else DEFAULT_PAGE_SIZE,
    }


def load(request: HttpRequest, identity: Identity) -> tuple[dict[str, Any], bool]:
    """The signed-in user's settings from the session, read from the database once per
    sign-in; True when they were read just now."""
    current: dict[str, Any] | None = request.session.get(SESSION_PREFERENCES)
    if current and current.get("owner") == _owner(identity):
        return current, False
    current = _stored(identity)
    request.session[SESSION_PREFERENCES] = current
    return current, True


def save(request: HttpRequest, identity: Identity, data: dict[str, Any]) -> None:
    """Store a PreferencesForm's cleaned data for the user and in this session."""
    values = {k: data[k] for k in ("language", "time_zone", "page_size")}
    Preference.objects.update_or_create(
        cloud_key=identity.cloud_key, user_id=identity.user_id, defaults=values
    )
    request.session[SESSION_PREFERENCES] = {"owner": _owner(identity), **values}


def initial(request: HttpRequest, identity: Identity) -> dict[str, Any]:
    """The form's starting values: the stored ones, else what the request is shown in now."""
    current, _fresh = load(request, identity)
    return {
        "language": current["language"] or translation.get_language(),
        "time_zone": current["time_zone"] or settings.TIME_ZONE,
        "page_size": current["page_size"],
    }


def page_size(request: HttpRequest) -> int:
    """Rows per page for the portal's paged tables: the user's choice, else the default."""
    current = request.session.get(SESSION_PREFERENCES) or {}
    size = current.get("page_size")
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def paged(
    request: HttpRequest, rows: Sequence[T] | QuerySet[Any, T]
) -> tuple[list[T], dict[str, Any]]:
    """One page of the rows (the user's page size) and the links to the pages beside it,
    which keep the rest of the query (a filter): the context portal/pagination.html draws.
    Only the page is rendered: at a few hundred rows the table, not the cloud, would take
    most of the time."""
    page = Paginator(rows, page_size(request)).get_page(request.GET.get("page"))

    def link(number: int) -> str:
        params = request.GET.copy()
        params.pop("fresh", None)  # reading again was for this view, not the next page's
        params["page"] = str(number)
        return "?" + params.urlencode()

    return list(page.object_list), {
        "page": page,
        "prev_url": link(page.previous_page_number()) if page.has_previous() else "",
        "next_url": link(page.next_page_number()) if page.has_next() else "",
    }


def use_language(response: HttpResponse, language: str) -> None:
    """Set Django's language cookie as set_language does, so LocaleMiddleware applies it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class PreferencesMiddleware:
    """After KeystoneSessionMiddleware: the signed-in user's time zone for this request, and
    at the first request of a sign-in their language (then the cookie carries it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        identity: Identity | None = getattr(request, "identity", None)
        if identity is None:
            return self.get_response(request)
        current, fresh = load(request, identity)
        language = current["language"] if fresh else ""
        if language:  # LocaleMiddleware has already chosen from the old cookie
            translation.activate(language)
            request.LANGUAGE_CODE = language
        if current["time_zone"] in time_zones():
            timezone.activate(zoneinfo.ZoneInfo(current["time_zone"]))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        if language:
            use_language(response, language)
        return response
