"""Who is signed in: the session's Keystone identity, its sealed token, and the access checks.

The session (database-backed; the cookie holds only its key) stores an Identity (names, ids,
roles, expiry: nothing secret) and, sealed with CREDENTIAL_KEY, the scoped token, its body
(catalog) and the unscoped token used to switch projects. Tokens never reach a cookie value,
a template, JavaScript, a log line or the broker.

Revocation holds inside the portal too: a session's token is confirmed with Keystone again once
its last confirmation is STACKDESK_TOKEN_RECHECK_SECONDS old (a revoked one ends the session),
and always right before the portal changes its own state for the caller (starting or cancelling
a job: confirm_sign_in). Pages that call OpenStack are checked by OpenStack itself on every call.

The page views do not ask Keystone themselves while the worker runs: the beat task
confirm_sessions (portal/tasks.py, every half interval) asks about the tokens of the sessions in
use (confirmed within WATCHED_INTERVALS intervals) and writes each answer, "confirmed at T" or
"refused", to the cache under watch_key (a hash: never the token or the session key). A view
whose confirmation is stale reads that answer (one cache read) and asks Keystone inline only when
there is none recent enough (no worker, a session idle for a while). The cost: one Keystone call
per session in use per half interval, in the worker.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from portal import cloud, refs
from portal.crypto import seal, unseal
from portal.errors import CloudUnavailable, SignInRequired

V = TypeVar("V", bound=Callable[..., HttpResponse])

SESSION_IDENTITY = "stackdesk.identity"
SESSION_CREDENTIAL = "stackdesk.credential"
SESSION_PENDING = "stackdesk.pending"
SESSION_CONFIRMED = "stackdesk.confirmed_at"  # time.time() of Keystone's last "still valid"
CONFIRMED_NOW = "_stackdesk_confirmed"  # request attribute: Keystone said yes in this request
API_CREDENTIAL = "stackdesk_api_credential"  # request attribute, set by portal/api.py only
ADMIN_ROLE = "admin"
WATCH_PREFIX = "stackdesk:session-token:"  # + SHA-256(cloud, token): the worker's last answer
WATCHED_INTERVALS = 3  # a session confirmed within this many intervals is in use: watched


@dataclass(frozen=True)
class Identity:
    cloud_key: str
    user_id: str
    user_name: str
    user_domain: str
    project_id: str
    project_name: str
    roles: tuple[str, ...]
    expires_at: datetime
    projects: tuple[refs.ProjectRef, ...] = field(default=())

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def to_session(self) -> dict[str, Any]:
        data = asdict(self)
        data["expires_at"] = self.expires_at.isoformat()
        return data

    @classmethod
    def of(
        cls, where: cloud.Cloud, scoped: cloud.ScopedToken, projects: Iterable[refs.ProjectRef]
    ) -> Identity:
        """Who a project-scoped token says the caller is (a sign-in, or an API token)."""
        return cls(
            cloud_key=where.key,
            user_id=scoped.user_id,
            user_name=scoped.user_name,
            user_domain=scoped.user_domain,
            project_id=scoped.project_id,
            project_name=scoped.project_name,
            roles=scoped.roles,
            expires_at=scoped.expires_at,
            projects=tuple(projects),
        )

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> Identity:
        return cls(
            cloud_key=data["cloud_key"],
            user_id=data["user_id"],
            user_name=data["user_name"],
            user_domain=data["user_domain"],
            project_id=data["project_id"],
            project_name=data["project_name"],
            roles=tuple(data["roles"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            projects=tuple(refs.ProjectRef(**p) for p in data.get("projects", [])),
        )


class PortalRequest(HttpRequest):
    """What our middleware adds to every request (for type checking)."""

    htmx: HtmxDetails
    identity: Identity | None


def me(request: PortalRequest) -> Identity:
    """The signed-in identity, for views behind login_required."""
    if request.identity is None:
        raise SignInRequired(_("Please sign in."))
    return request.identity


def start_session(
    request: HttpRequest,
    where: cloud.Cloud,
    scoped: cloud.ScopedToken,
    projects: list[refs.ProjectRef],
    unscoped_token: str,
) -> Identity:
    """Store a fresh sign-in (or a project switch) in a new session key (no fixation)."""
    identity = Identity.of(where, scoped, projects)
    request.session.pop(SESSION_PENDING, None)
    request.session.cycle_key()
    request.session[SESSION_IDENTITY] = identity.to_session()
    request.session[SESSION_CREDENTIAL] = seal(
        {"token": scoped.token, "body": scoped.body, "unscoped": unscoped_token}
    )
    # The session must not outlive the token it holds.
    request.session.set_expiry(scoped.expires_at)
    _mark_confirmed(request)
    return identity


def _mark_confirmed(request: HttpRequest) -> None:
    setattr(request, CONFIRMED_NOW, True)
    if getattr(request, API_CREDENTIAL, None) is None:
        request.session[SESSION_CONFIRMED] = time.time()


def confirm_sign_in(request: PortalRequest) -> None:
    """Ask Keystone now whether the caller's token still holds, before the portal changes its
    own state for them (a job started or cancelled: OpenStack is not asked there, so its
    policy cannot refuse a revoked token). Once per request.

    Raises SignInRequired when Keystone no longer accepts the token (the session ends), and
    CloudUnavailable when Keystone does not answer: then nothing is changed.
    """
    if getattr(request, CONFIRMED_NOW, False):
        return
    identity = me(request)
    token = session_credential(request)["token"]
    try:
        cloud.validate_token(cloud.find_cloud(identity.cloud_key), token)
    except CloudUnavailable as exc:
        raise CloudUnavailable(
            _(
                "Keystone could not be reached to confirm your sign-in, so nothing was "
                "changed. Try again in a moment."
            ),
            503,
        ) from exc
    _mark_confirmed(request)


def session_credential(request: HttpRequest) -> dict[str, Any]:
    """The sealed token and body: the session's, or for a JSON API call the one portal/api.py
    put on the request from its X-Auth-Token header (API calls never use the session)."""
    sealed = getattr(request, API_CREDENTIAL, None)
    data = unseal(sealed if sealed is not None else request.session.get(SESSION_CREDENTIAL, ""))
    if data is None:
        raise SignInRequired(_("Please sign in again."))
    return data


def user_connection(request: PortalRequest) -> cloud.Connection:
    """The signed-in user's SDK connection, built once per request, with no Keystone call."""
    conn: cloud.Connection | None = getattr(request, "_stackdesk_conn", None)
    if conn is None:
        identity = me(request)
        data = session_credential(request)
        conn = cloud.connect(cloud.find_cloud(identity.cloud_key), data["token"], data["body"])
        request._stackdesk_conn = conn  # type: ignore[attr-defined]
    return conn


def sign_out_locally(request: HttpRequest) -> None:
    request.session.flush()
    if hasattr(request, "identity"):
        request.identity = None


def _expired(identity: Identity) -> bool:
    margin = timedelta(seconds=settings.STACKDESK_TOKEN_MARGIN)
    return identity.expires_at - margin <= timezone.now()


class KeystoneSessionMiddleware:
    """Puts request.identity in place and ends sessions whose token has expired or, once it
    is STACKDESK_TOKEN_RECHECK_SECONDS since Keystone last confirmed it, was revoked (the
    worker's answer when it has a recent one: see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        identity = None
        data = request.session.get(SESSION_IDENTITY)
        if data:
            identity = Identity.from_session(data)
            if _expired(identity):
                sign_out_locally(request)
                messages.warning(request, _("Your session has expired. Please sign in again."))
                identity = None
            elif not _still_valid(request, identity):
                sign_out_locally(request)
                messages.warning(
                    request, _("Your sign-in is no longer valid in Keystone. Please sign in again.")
                )
                identity = None
        request.identity = identity  # type: ignore[attr-defined]
        return self.get_response(request)


def sessions_in_use() -> Iterator[tuple[Identity, dict[str, Any]]]:
    """The signed-in sessions in use (confirmed within WATCHED_INTERVALS intervals), with
    their unsealed credentials: for the worker's beat tasks, which take no arguments, so no
    token reaches the broker (confirm_sessions; compute.tasks.refresh_warm_lists)."""
    in_use = time.time() - WATCHED_INTERVALS * settings.STACKDESK_TOKEN_RECHECK_SECONDS
    for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        session = row.get_decoded()
        identity = session.get(SESSION_IDENTITY)
        credential = unseal(session.get(SESSION_CREDENTIAL, ""))
        if identity and credential is not None and session.get(SESSION_CONFIRMED, 0.0) >= in_use:
            yield Identity.from_session(identity), credential


def watch_key(cloud_key: str, token: str) -> str:
    return WATCH_PREFIX + hashlib.sha256(f"{cloud_key}\n{token}".encode()).hexdigest()


def watch_token(cloud_key: str, token: str) -> bool:
    """Ask Keystone whether a session's token still holds and leave the answer where the
    session's next view reads it (_still_valid). For the worker (portal/tasks.py). Raises
    CloudUnavailable, writing nothing, when Keystone does not answer."""
    asked_at = time.time()  # Keystone's yes holds from before the call, not after it
    try:
        cloud.validate_token(cloud.find_cloud(cloud_key), token)
        confirmed = True
    except SignInRequired:
        confirmed = False
    lifetime = WATCHED_INTERVALS * settings.STACKDESK_TOKEN_RECHECK_SECONDS
    cache.set(watch_key(cloud_key, token), {"confirmed": confirmed, "at": asked_at}, lifetime)
    return confirmed


def _still_valid(request: HttpRequest, identity: Identity) -> bool:
    """False once Keystone refuses the session's token; asked at most once per interval, by
    the worker (watch_token) when its answer is recent enough, else here. When Keystone does
    not answer, reading goes on (pages say what is unreachable); anything that changes the
    portal's state asks again (confirm_sign_in) and is refused."""
    interval = settings.STACKDESK_TOKEN_RECHECK_SECONDS
    if time.time() - request.session.get(SESSION_CONFIRMED, 0.0) < interval:
        return True
    try:
        token = session_credential(request)["token"]
        watched = cache.get(watch_key(identity.cloud_key, token))
        if watched is not None and not watched["confirmed"]:
            return False  # a revoked token is never accepted again
        if watched is not None and time.time() - watched["at"] < interval:
            # The worker's time, not now: the interval counts from Keystone's own answer. Not
            # CONFIRMED_NOW either: confirm_sign_in still asks Keystone itself.
            request.session[SESSION_CONFIRMED] = watched["at"]
            return True
        cloud.validate_token(cloud.find_cloud(identity.cloud_key), token)
    except SignInRequired:
        return False
    except CloudUnavailable:
        return True
    _mark_confirmed(request)
    return True


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def redirect_to_sign_in(request: HttpRequest) -> HttpResponse:
    """To the sign-in page, remembering the page asked for (for htmx: the page, not the partial)."""
    wanted = request.get_full_path()
    if request.headers.get("HX-Request"):
        current = request.headers.get("HX-Current-URL", "")
        wanted = current.split(request.get_host(), 1)[-1] if current else "/"
        url = reverse("portal:sign-in") + "?" + urlencode({"next": wanted})
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(reverse("portal:sign-in") + "?" + urlencode({"next": wanted}))


def login_required(view: V) -> V:
    @functools.wraps(view)
    def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.identity is None:
            return redirect_to_sign_in(request)
        return view(request, *args, **kwargs)

    return cast(V, wrapped)


def admin_required(view: V) -> V:
    """Admin pages re-check the admin role on every request; the cloud's policy still decides."""

    @functools.wraps(view)
    def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.identity is None:
            return redirect_to_sign_in(request)
        if not request.identity.is_admin:
            context = {
                "title": _("Not allowed"),
                "message": _("This page is for cloud administrators."),
                "status": 403,
            }
            return render(request, "portal/error.html", context, status=403)
        return view(request, *args, **kwargs)

    wrapped.admin_only = True  # type: ignore[attr-defined]  # tests find admin views by it
    return cast(V, wrapped)
