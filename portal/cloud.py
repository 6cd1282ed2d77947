"""Everything that talks to Keystone for the portal itself, and the per-user SDK connection.

Only this module and the apps' gateway.py import openstack/keystoneauth1 (ruff TID251).
Nothing here takes an HttpRequest: views and Celery tasks both use it.

A page view never calls Keystone: the scoped token's body (roles, catalog, expiry) is kept,
encrypted, in the session and rebuilt into a keystoneauth AccessInfoPlugin, and endpoint
version discovery is cached per process (discovery is per endpoint, not per user).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import openstack
import openstack.connection
import openstack.exceptions
import yaml
from django.conf import settings
from django.utils.translation import gettext as _
from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import access as access_plugin
from keystoneauth1.identity import v3

from portal import metrics
from portal.errors import CloudUnavailable, NotFound, Rejected, SignInRequired
from portal.refs import ProjectRef

P = ParamSpec("P")
R = TypeVar("R")

# keystoneauth caches "GET <endpoint>/" version documents here; sharing it across requests
# saves one call per service per page. Keyed by URL, holds no credentials.
_DISCOVERY_CACHE: dict[str, Any] = {}

Connection = openstack.connection.Connection


@dataclass(frozen=True)
class Cloud:
    """Where a cloud is: the parts of a clouds.yaml entry the portal uses (never its secrets)."""

    name: str
    auth_url: str
    region_name: str | None
    interface: str = "public"
    verify: bool | str = True

    @property
    def label(self) -> str:
        return f"{self.name} / {self.region_name}" if self.region_name else self.name

    @property
    def key(self) -> str:
        return f"{self.name}:{self.region_name or ''}"


@dataclass(frozen=True)
class UnscopedToken:
    token: str
    user_id: str
    user_name: str
    user_domain: str
    expires_at: datetime


@dataclass(frozen=True)
class ScopedToken:
    token: str
    body: dict[str, Any]  # the token document Keystone returned: roles, catalog, expiry
    user_id: str
    user_name: str
    user_domain: str
    project_id: str
    project_name: str
    roles: tuple[str, ...]
    expires_at: datetime


class AuthFailed(Exception):
    """Sign-in refused; `reason` tells the form which message to show."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- which clouds --------------------------------------------------------------------------


def _clouds_yaml_paths() -> list[Path]:
    if path := os.environ.get("OS_CLIENT_CONFIG_FILE"):
        return [Path(path)]
    return [
        Path.cwd() / "clouds.yaml",
        Path.home() / ".config/openstack/clouds.yaml",
        Path("/etc/openstack/clouds.yaml"),
    ]


def _read_clouds_yaml() -> dict[str, dict[str, Any]]:
    for path in _clouds_yaml_paths():
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            clouds: dict[str, dict[str, Any]] = data.get("clouds", {})
            return clouds
    return {}


def _normalise_auth_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v3") else url + "/v3"


@functools.cache
def available_clouds() -> tuple[Cloud, ...]:
    """Clouds offered at sign-in: clouds.yaml entries (each region apart), or OS_AUTH_URL."""
    found: list[Cloud] = []
    wanted = settings.STACKDESK_CLOUDS
    for name, entry in _read_clouds_yaml().items():
        if (wanted and name not in wanted) or name == settings.STACKDESK_SERVICE_CLOUD:
            continue
        auth_url = (entry.get("auth") or {}).get("auth_url")
        if not auth_url:
            continue
        verify: bool | str = entry.get("cacert") or entry.get("verify", True)
        regions = entry.get("regions") or [entry.get("region_name")]
        for region in regions:
            region_name = region.get("name") if isinstance(region, dict) else region
            found.append(
                Cloud(
                    name=name,
                    auth_url=_normalise_auth_url(auth_url),
                    region_name=region_name,
                    interface=entry.get("interface", "public"),
                    verify=verify,
                )
            )
    if not found and os.environ.get("OS_AUTH_URL"):
        found.append(
            Cloud(
                name=os.environ.get("OS_CLOUD_NAME", "openstack"),
                auth_url=_normalise_auth_url(os.environ["OS_AUTH_URL"]),
                region_name=os.environ.get("OS_REGION_NAME"),
                interface=os.environ.get("OS_INTERFACE", "public"),
                verify=os.environ.get("OS_CACERT") or True,
            )
        )
    return tuple(found)


def find_cloud(key: str) -> Cloud:
    for cloud in available_clouds():
        if cloud.key == key:
            return cloud
    raise SignInRequired(_("The cloud this session belongs to is no longer configured."))


# --- Keystone ------------------------------------------------------------------------------


# --- what the cloud answered during one portal request (the audit log's request ids) -------
#
# portal/audit.py sets a CallsSeen for each change it records; every session built while it is
# set gets a response hook that notes each answer's x-openstack-request-id. The hook holds the
# CallsSeen itself (not the context variable), so calls a page makes in worker threads
# (portal/concurrency.py) are noted too. Nothing else of a response is kept.


class CallsSeen:
    """The request ids of one request's cloud calls, at most LIMIT (a page makes a handful)."""

    LIMIT = 20

    def __init__(self) -> None:
        self.request_ids: list[str] = []

    def note(self, response: Any, *args: Any, **kwargs: Any) -> None:
        request_id = str(response.headers.get("x-openstack-request-id", ""))[:64]
        if request_id and len(self.request_ids) < self.LIMIT:
            self.request_ids.append(request_id)


CALLS_SEEN: ContextVar[CallsSeen | None] = ContextVar("stackdesk_calls_seen", default=None)


def _session(cloud: Cloud, auth: Any = None) -> ks_session.Session:
    session = ks_session.Session(
        auth=auth,
        verify=cloud.verify,
        timeout=settings.STACKDESK_CLOUD_TIMEOUT,
        discovery_cache=_DISCOVERY_CACHE,
        app_name="stackdesk",
    )
    metrics.count_upstream_calls(session, cloud.auth_url)
    seen = CALLS_SEEN.get()
    if seen is not None:
        session.session.hooks["response"].append(seen.note)
    return session


@contextmanager
def _keystone_errors(cloud: Cloud) -> Iterator[None]:
    try:
        yield
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure) as exc:
        raise AuthFailed(
            "unreachable",
            _("The identity service at %(url)s cannot be reached. Try again later.")
            % {"url": cloud.auth_url},
        ) from exc


def password_sign_in(cloud: Cloud, username: str, password: str, domain: str) -> UnscopedToken:
    auth = v3.Password(
        auth_url=cloud.auth_url,
        username=username,
        password=password,
        user_domain_name=domain,
        unscoped=True,
    )
    with _keystone_errors(cloud):
        try:
            ref = auth.get_access(_session(cloud))
        except ks_exc.Unauthorized as exc:
            # Keystone answers 401 alike for a wrong password and an unknown domain; the
            # portal's service user (when configured) can tell them apart.
            if domain_exists(cloud, domain) is False:
                raise AuthFailed(
                    "unknown_domain",
                    _("There is no domain called “%(domain)s”.") % {"domain": domain},
                ) from exc
            raise AuthFailed(
                "bad_credentials", _("The user name or password is not correct.")
            ) from exc
    return UnscopedToken(
        token=ref.auth_token or "",
        user_id=ref.user_id or "",
        user_name=ref.username or "",
        user_domain=ref.user_domain_name or domain,
        expires_at=_expiry(ref),
    )


def app_credential_sign_in(cloud: Cloud, credential_id: str, secret: str) -> ScopedToken:
    """Application credentials are always scoped to the project they were made in."""
    auth = v3.ApplicationCredential(
        auth_url=cloud.auth_url,
        application_credential_id=credential_id,
        application_credential_secret=secret,
    )
    with _keystone_errors(cloud):
        try:
            ref = auth.get_access(_session(cloud))
        except ks_exc.Unauthorized as exc:
            raise AuthFailed(
                "bad_credentials", _("The application credential ID or secret is not correct.")
            ) from exc
    return _scoped(ref)


def domain_exists(cloud: Cloud, name: str) -> bool | None:
    """True/False when the portal's service user may look domains up, else None (unknown)."""
    conn = service_connection()
    if conn is None:
        return None
    try:
        identity: Any = conn.identity  # the v3 proxy; the SDK types it as v2 | v3
        identity.find_domain(name, ignore_missing=False)
    except openstack.exceptions.NotFoundException:
        return False
    except (openstack.exceptions.SDKException, ks_exc.ClientException):
        return None
    return True


def list_user_projects(cloud: Cloud, token: str) -> list[ProjectRef]:
    with _keystone_errors(cloud):
        try:
            resp = _session(cloud).get(
                cloud.auth_url + "/auth/projects",
                headers={"X-Auth-Token": token},
                authenticated=False,
            )
        except ks_exc.Unauthorized as exc:
            raise SignInRequired(_("Keystone no longer accepts this sign-in.")) from exc
    projects = [
        ProjectRef(p["id"], p["name"], p.get("domain_id", ""))
        for p in resp.json().get("projects", [])
        if p.get("enabled", True)
    ]
    return sorted(projects, key=lambda p: p.name.lower())


def scope_token(cloud: Cloud, token: str, project_id: str) -> ScopedToken:
    auth = v3.Token(auth_url=cloud.auth_url, token=token, project_id=project_id)
    with _keystone_errors(cloud):
        try:
            ref = auth.get_access(_session(cloud))
        except ks_exc.Unauthorized as exc:
            raise SignInRequired(_("Keystone no longer accepts this sign-in.")) from exc
        except ks_exc.Forbidden as exc:
            raise Rejected(_("You are not a member of that project."), 403) from exc
    return _scoped(ref)


def validate_token(cloud: Cloud, token: str) -> ScopedToken:
    """A caller's own project-scoped token, checked with Keystone (GET /v3/auth/tokens, the
    token validating itself, as Keystone's policy allows its subject): the JSON API's sign-in.
    Keystone answers 404 for a token that expired or was revoked, 401 for garbage."""
    try:
        resp = _session(cloud).get(
            cloud.auth_url + "/auth/tokens",
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
            authenticated=False,
        )
    except (ks_exc.Unauthorized, ks_exc.NotFound) as exc:
        raise SignInRequired(_("Keystone does not accept this token."), 401) from exc
    except ks_exc.ClientException as exc:
        raise translate_error(exc) from exc
    ref = access.create(resp=resp)
    if not ref.project_scoped:
        raise SignInRequired(_("The token must be scoped to a project."), 401)
    try:
        return _scoped(ref)
    except AuthFailed as exc:
        raise SignInRequired(exc.message, 401) from exc


def _expiry(ref: access.AccessInfo) -> datetime:
    if ref.expires is None:  # Keystone always sends expires_at; a token without one is unusable
        raise AuthFailed("bad_token", _("Keystone returned a token without an expiry time."))
    return ref.expires


def _scoped(ref: Any) -> ScopedToken:
    return ScopedToken(
        token=ref.auth_token,
        body=ref._data,  # the raw token document; keystoneauth rebuilds AccessInfo from it
        user_id=ref.user_id,
        user_name=ref.username,
        user_domain=ref.user_domain_name or "",
        project_id=ref.project_id,
        project_name=ref.project_name,
        roles=tuple(sorted(ref.role_names)),
        expires_at=_expiry(ref),
    )


def revoke_token(cloud: Cloud, token: str) -> None:
    """Revoke a token in Keystone. A token that is already invalid counts as revoked."""
    try:
        _session(cloud).delete(
            cloud.auth_url + "/auth/tokens",
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
            authenticated=False,
        )
    except (ks_exc.NotFound, ks_exc.Unauthorized):
        return
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout) as exc:
        raise CloudUnavailable(_("Keystone could not be reached to end the session.")) from exc


# --- the user's connection ----------------------------------------------------------------


def connect(cloud: Cloud, token: str, body: dict[str, Any]) -> Connection:
    """An SDK connection acting with the user's own scoped token; makes no Keystone call."""
    ref = access.create(body=body, auth_token=token)
    auth = access_plugin.AccessInfoPlugin(auth_ref=ref, auth_url=cloud.auth_url)
    return openstack.connection.Connection(
        session=_session(cloud, auth),
        region_name=cloud.region_name,
        interface=cloud.interface,
    )


@functools.cache
def service_connection() -> Connection | None:
    """The portal's own service user (STACKDESK_SERVICE_CLOUD in clouds.yaml), system-scoped,
    used only for what no user token can do: telling an unknown domain from a wrong password
    at sign-in (it needs the system `reader` role). Never for a tenant's work."""
    entry = (
        _read_clouds_yaml().get(settings.STACKDESK_SERVICE_CLOUD)
        if (settings.STACKDESK_SERVICE_CLOUD)
        else None
    )
    if not entry:
        return None
    auth = {k: v for k, v in entry.get("auth", {}).items() if not k.startswith("project_")}
    return openstack.connect(
        load_yaml_config=False,
        load_envvars=False,
        region_name=entry.get("region_name"),
        system_scope="all",
        **auth,
    )


# --- jobs that outlast the user's token: a Keystone trust to the portal's service user ------
#
# A long job (a host drain) may run for longer than the signed-in user's token lives. When
# the portal has a service user, the job is given a trust: the user (trustor) delegates their
# roles on the project to the service user (trustee), impersonating, until the trust expires.
# The worker signs in as the service user with the trust id and gets tokens that act as the
# user, renewed as they expire. No password of the user is ever stored; the trust is deleted
# when the job ends (and expires by itself should a job be lost).


def _service_auth(where: Cloud) -> dict[str, Any] | None:
    """The service user's password auth, when it is configured for this cloud."""
    if not settings.STACKDESK_SERVICE_CLOUD:
        return None
    entry = _read_clouds_yaml().get(settings.STACKDESK_SERVICE_CLOUD) or {}
    auth = {k: v for k, v in (entry.get("auth") or {}).items() if not k.startswith("project_")}
    if not auth.get("auth_url") or _normalise_auth_url(auth["auth_url"]) != where.auth_url:
        return None
    return auth


def create_trust(
    where: Cloud, token: str, body: dict[str, Any], roles: tuple[str, ...], expires_at: datetime
) -> str | None:
    """A trust from the token's user to the service user; None when the portal has no
    service user for this cloud. Keystone's refusal (e.g. a sign-in by application
    credential, which may not delegate) raises Rejected."""
    service = service_connection() if _service_auth(where) else None
    if service is None:
        return None
    conn = connect(where, token, body)
    try:
        identity: Any = conn.identity
        trust = identity.create_trust(
            trustor_user_id=conn.current_user_id,
            trustee_user_id=service.current_user_id,
            project_id=conn.current_project_id,
            roles=[{"name": role} for role in roles],
            impersonation=True,
            expires_at=expires_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        )
    except (openstack.exceptions.SDKException, ks_exc.ClientException) as exc:
        raise translate_error(exc) from exc
    return str(trust.id)


def trust_connection(where: Cloud, trust_id: str) -> Connection:
    """The service user acting through the trust: tokens act as the trustor and are renewed
    by keystoneauth whenever one nears its expiry."""
    auth = _service_auth(where)
    if auth is None:
        raise SignInRequired(_("The portal's service user is no longer configured."))
    plugin = v3.Password(
        auth_url=where.auth_url,
        username=auth.get("username"),
        user_id=auth.get("user_id"),
        password=str(auth.get("password") or ""),
        user_domain_name=auth.get("user_domain_name"),
        user_domain_id=auth.get("user_domain_id"),
        trust_id=trust_id,
    )
    return openstack.connection.Connection(
        session=_session(where, plugin),
        region_name=where.region_name,
        interface=where.interface,
    )


def service_user_connection(
    where: Cloud, project_id: str = "", token: str = ""
) -> Connection | None:
    """The service user signed in to `where` by password for the portal's own periodic reads
    (capacity samples, capacity/tasks.py), never for a tenant's work: scoped to its own project
    as clouds.yaml names it (where it holds the `service` role Placement lets read), or to
    `project_id` (where it holds what the operator granted, e.g. an inherited `reader`). With
    `token`, one of the service user's own tokens is rescoped to `project_id` instead: Keystone
    then hashes no password (a costly hash per sign-in). None when the portal has no service
    user for this cloud."""
    auth = _service_auth(where)
    if auth is None:
        return None
    entry = _read_clouds_yaml().get(settings.STACKDESK_SERVICE_CLOUD) or {}
    own = {k: v for k, v in (entry.get("auth") or {}).items() if k.startswith("project_")}
    scope = {"project_id": project_id} if project_id else own
    plugin: Any
    if token and project_id:
        plugin = v3.Token(auth_url=where.auth_url, token=token, project_id=project_id)
    else:
        plugin = v3.Password(
            auth_url=where.auth_url,
            username=auth.get("username"),
            user_id=auth.get("user_id"),
            password=str(auth.get("password") or ""),
            user_domain_name=auth.get("user_domain_name"),
            user_domain_id=auth.get("user_domain_id"),
            **scope,
        )
    return openstack.connection.Connection(
        session=_session(where, plugin),
        region_name=where.region_name,
        interface=where.interface,
    )


def delete_trust(where: Cloud, trust_id: str, conn: Connection | None = None) -> None:
    """Delete the job's trust, acting through it (the trustor may delete its own trusts):
    with the job's connection when given, else through a new one."""
    try:
        identity: Any = (conn or trust_connection(where, trust_id)).identity
        identity.delete_trust(trust_id, ignore_missing=True)
    except (openstack.exceptions.SDKException, ks_exc.ClientException) as exc:
        raise translate_error(exc) from exc


# --- SDK errors -> portal errors -----------------------------------------------------------


def _reason(exc: openstack.exceptions.HttpException) -> str:
    details = exc.details or ""
    return str(details).strip() or str(exc.message or exc)


def translate_error(exc: Exception) -> Exception:
    """The one mapping from SDK/keystoneauth exceptions to NotFound/Rejected/CloudUnavailable."""
    if isinstance(exc, openstack.exceptions.NotFoundException):
        return NotFound(_reason(exc))
    if isinstance(exc, openstack.exceptions.HttpException):
        status = exc.status_code or 500
        if status == 401:
            return SignInRequired(_reason(exc), 401)
        if 400 <= status < 500:
            return Rejected(_reason(exc), status)
        return CloudUnavailable(_reason(exc), status)
    if isinstance(exc, ks_exc.Unauthorized):
        return SignInRequired(str(exc), 401)
    if isinstance(exc, ks_exc.EndpointNotFound):
        return Rejected(_("This cloud does not offer that service."), 404)
    if isinstance(exc, ks_exc.ConnectionError | ks_exc.DiscoveryFailure):
        return CloudUnavailable(_("The cloud could not be reached: %(error)s") % {"error": exc})
    if isinstance(exc, ks_exc.HttpError):
        status = exc.http_status or 500
        if status < 500:
            return Rejected(exc.message or str(exc), status)
        return CloudUnavailable(exc.message or str(exc), status)
    if isinstance(exc, openstack.exceptions.ResourceTimeout):
        return CloudUnavailable(str(exc))
    if isinstance(exc, openstack.exceptions.SDKException):
        return Rejected(str(exc))
    return exc


def cloud_call(func: Callable[P, R]) -> Callable[P, R]:
    """Gateway methods wear this: SDK and keystoneauth errors leave as portal errors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (openstack.exceptions.SDKException, ks_exc.ClientException) as exc:
            raise translate_error(exc) from exc

    return wrapper
