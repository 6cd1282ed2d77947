"""The JSON API under /api/v1/ for operators who automate: the portal's own long jobs and
its usage report (docs/api.md).

OpenStack's APIs already offer every single-resource action the portal performs (docs/api.md
maps each one); what only the portal has is its jobs (host drain and evacuation, followed
migrations, quotas for many projects) and the usage CSV. This module is the API's ground floor
(authentication, errors, forms, the job endpoints); each domain app adds its own endpoints in
its `api.py` (compute, projects, quotas), which start and read jobs with the very forms,
checks and services the HTML pages use, and answer in JSON. api/urls.py assembles them.

Authentication is the caller's own project-scoped Keystone token in `X-Auth-Token` (never a
cookie: a request with only a session cookie is 401, which is also why the views are
CSRF-exempt). Keystone validates it; the identity is then cached, sealed, under a SHA-256 of
the token for STACKDESK_TOKEN_RECHECK_SECONDS at most, and every call that changes something
asks Keystone again, so a revoked token reads for that long at most and changes nothing.
`api_view` puts the same Identity on the request as a sign-in does, and the sealed token on
the request attribute `session_credential` reads (portal/identity.py), so `me`,
`user_connection`, gateways and `start_operation` work unchanged.

Each endpoint also declares, in its `api_view(...)`, what the API's OpenAPI document says of
it (api/openapi.py builds /api/v1/openapi.json from these): its success answers, typed by
the TypedDicts below, its own error statuses, and the forms of its query or body.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from typing import Any, TypedDict, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpResponse, JsonResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from portal import cloud, refs
from portal.audit import AuditFilterForm, record_json
from portal.crypto import seal, unseal
from portal.errors import CloudError, CloudUnavailable, NotFound, Rejected, SignInRequired
from portal.identity import API_CREDENTIAL, CONFIRMED_NOW, Identity, PortalRequest, me
from portal.models import AuditRecord, Operation
from portal.operations import cancel_operation

V = TypeVar("V", bound=Callable[..., HttpResponse])
CACHE_PREFIX = "stackdesk:api-token:"
PER_PAGE = 50


# --- what each endpoint declares, for the API's document (api/openapi.py) -------------------


@dataclass(frozen=True)
class Fields:
    """A Django form as a request's fields (a query string, or a body): the form class and the
    keyword arguments that build it for the document. A choice the view fills in at run time
    (hosts, projects) is a plain string there; choices fixed in the class are an enum."""

    form: Callable[..., Form]
    kwargs: Mapping[str, Any] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A query parameter a view reads itself, without a form."""

    name: str
    schema: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class Reply:
    """A success answer: the TypedDict of its JSON (or None with a media type, e.g. a CSV)."""

    description: str
    shape: type | None = None
    media_type: str = "application/json"
    location: bool = False  # a Location header names the new job


@dataclass(frozen=True)
class Endpoint:
    """What api_view knows of a view, and what the view declares beside it: the document is
    built from these (api/openapi.py), and a test fails for a URL under /api/v1/ without one."""

    view: Callable[..., HttpResponse]
    methods: tuple[str, ...]
    admin: bool
    auth: bool
    replies: Mapping[int, Reply]
    errors: tuple[int, ...]
    query: Fields | None
    params: tuple[Param, ...]
    body: Fields | None


# The wrapped view (what a URL pattern calls) -> its declaration.
ENDPOINTS: dict[Callable[..., HttpResponse], Endpoint] = {}


class ErrorJson(TypedDict):
    error: str
    field: str | None


class LogLine(TypedDict):
    at: str
    line: str


class OperationJson(TypedDict):
    """A job as the list shows it."""

    id: int
    url: str
    kind: str
    title: str
    state: str
    step: str
    percent: int
    target: str
    target_name: str
    user_name: str
    project_name: str
    attempts: int
    error: str
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class ReportJson(TypedDict, total=False):
    report: dict[str, Any]  # for the kinds that have one (REPORTS)


class OperationDetailJson(OperationJson, ReportJson):
    """One job, with its log and result; `report` for the kinds that have one (REPORTS)."""

    log: list[LogLine]
    result: dict[str, Any]


class OperationPageJson(TypedDict):
    operations: list[OperationJson]
    page: int
    pages: int
    count: int


class AuditRecordJson(TypedDict):
    """portal.audit.record_json's keys (a unit test holds them equal)."""

    id: int
    created_at: str
    cloud: str
    user_id: str
    user_name: str
    user_domain: str
    project_id: str
    project_name: str
    action: str
    url_name: str
    target_type: str
    target_id: str
    target_name: str
    input: dict[str, Any]
    result: str
    status: int
    message: str
    request_ids: list[str]
    client_address: str
    channel: str
    operation: int | None


class AuditPageJson(TypedDict):
    records: list[AuditRecordJson]
    page: int
    pages: int
    count: int


JOB_STARTED = Reply("The job was queued; poll it at Location.", OperationDetailJson, location=True)


# A job kind's summary for its JSON ("report"), registered by the app that owns the kind in
# its AppConfig.ready (compute/apps.py: the host jobs' moved/failed counts).
REPORTS: dict[str, Callable[[Operation], dict[str, Any]]] = {}


class ApiRefusal(Exception):
    """A request the API refuses before any cloud call: status, message and the field."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


def error(message: str, status: int, field: str | None = None) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


def cloud_error(exc: CloudError) -> JsonResponse:
    """The portal's cloud errors as JSON: Rejected keeps OpenStack's words and its status."""
    if isinstance(exc, NotFound):
        return error(exc.message, 404)
    if isinstance(exc, CloudUnavailable):
        return error(exc.message, 503)
    if isinstance(exc, SignInRequired):
        return error(exc.message, 401)
    if isinstance(exc, Rejected) and exc.status in (403, 404, 409):
        return error(exc.message, exc.status)
    return error(exc.message, 400)


# --- authentication -------------------------------------------------------------------------


def _cloud(request: PortalRequest) -> cloud.Cloud:
    """The cloud named by X-Stackdesk-Cloud (its key, or its clouds.yaml name), else the first."""
    clouds = cloud.available_clouds()
    if not clouds:
        raise CloudUnavailable(_("No cloud is configured."))
    wanted = request.headers.get("X-Stackdesk-Cloud", "").strip()
    if not wanted:
        return clouds[0]
    for where in clouds:
        if wanted in (where.key, where.name):
            return where
    raise ApiRefusal(
        _("There is no cloud called “%(name)s”.") % {"name": wanted}, 400, "X-Stackdesk-Cloud"
    )


def _cache_key(where: cloud.Cloud, token: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(f"{where.key}\n{token}".encode()).hexdigest()


def _margin() -> timedelta:
    return timedelta(seconds=settings.STACKDESK_TOKEN_MARGIN)


def validated_identity(
    where: cloud.Cloud, token: str, *, fresh: bool = False
) -> tuple[Identity, dict[str, Any]]:
    """The token's Identity (as a sign-in builds it) and token body: from the cache, or from
    Keystone, then cached sealed for STACKDESK_TOKEN_RECHECK_SECONDS at most (so a revoked
    token stops working within that time). `fresh` asks Keystone whatever the cache says:
    every call that changes something does."""
    key = _cache_key(where, token)
    cached = None if fresh else unseal(cache.get(key) or "")
    if cached is not None:
        identity, body = Identity.from_session(cached["identity"]), cached["body"]
    else:
        scoped = cloud.validate_token(where, token)
        project = refs.ProjectRef(scoped.project_id, scoped.project_name, "")
        identity = Identity.of(where, scoped, [project])
        body = scoped.body
        left = (identity.expires_at - _margin() - timezone.now()).total_seconds()
        lifetime = min(left, settings.STACKDESK_TOKEN_RECHECK_SECONDS)
        if lifetime >= 1:
            cache.set(key, seal({"identity": identity.to_session(), "body": body}), int(lifetime))
    if identity.expires_at - _margin() <= timezone.now():
        raise SignInRequired(_("This token has expired. Get a new one."), 401)
    return identity, body


def authenticate(request: PortalRequest) -> None:
    """request.identity and the sealed token from X-Auth-Token; never from the session."""
    token = request.headers.get("X-Auth-Token", "").strip()
    if not token:
        raise ApiRefusal(_("Send your Keystone token in the X-Auth-Token header."), 401)
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    identity, body = validated_identity(_cloud(request), token, fresh=unsafe)
    request.identity = identity
    setattr(request, API_CREDENTIAL, seal({"token": token, "body": body}))
    if unsafe:
        setattr(request, CONFIRMED_NOW, True)  # Keystone was asked just now


def api_view(
    *methods: str,
    admin: bool = False,
    auth: bool = True,
    replies: Mapping[int, Reply],
    errors: tuple[int, ...] = (),
    query: Fields | None = None,
    params: tuple[Param, ...] = (),
    body: Fields | None = None,
) -> Callable[[V], V]:
    """An API endpoint: the method, the token (unless not `auth`), the admin role (when
    `admin`), then the view; refusals and cloud errors become JSON. The rest declares the
    endpoint for the document (Endpoint): its success answers, the error statuses of its own
    beyond those of every endpoint (api/openapi.py), its query and its body."""

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.identity = None  # whatever a session cookie says: the API takes no cookies
            if request.method not in methods:
                response = error(_("Method not allowed."), 405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if auth:
                    authenticate(request)
                if admin and not me(request).is_admin:
                    raise ApiRefusal(_("This endpoint is for cloud administrators."), 403)
                return view(request, *args, **kwargs)
            except ApiRefusal as exc:
                return error(exc.message, exc.status, exc.field)
            except CloudError as exc:
                return cloud_error(exc)

        exempt = cast(V, csrf_exempt(wrapped))
        ENDPOINTS[exempt] = Endpoint(
            view, methods, admin, auth, replies, errors, query, params, body
        )
        return exempt

    return decorate


@csrf_exempt
def no_endpoint(request: PortalRequest, rest: str) -> HttpResponse:
    """A URL under /api/v1/ that names no endpoint (api/urls.py's last pattern): a JSON 404,
    as every other answer of the API, not the portal's HTML page."""
    return error(_("There is no such endpoint: see /api/v1/openapi.json."), 404)


# --- request bodies and forms ---------------------------------------------------------------


def request_body(request: PortalRequest) -> dict[str, Any] | QueryDict:
    """A JSON object or a form-encoded body, as data for a Django form."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise ApiRefusal(_("The body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise ApiRefusal(_("The body must be a JSON object."))
        return data
    return request.POST.copy()


F = TypeVar("F", bound=Form)


def bound_form(form_class: Callable[..., F], request: PortalRequest, **kwargs: Any) -> F:
    """The HTML view's form, bound to the body; a field left out takes the form's default."""
    data = request_body(request)
    blank = form_class(**kwargs)
    for name, field in blank.fields.items():
        initial = blank.get_initial_for_field(field, name)
        if name not in data and initial not in (None, ""):
            data[name] = initial
    return form_class(data, **kwargs)


def form_error(form: Form) -> JsonResponse:
    """The form's first error, and the field it is about (None: the whole request)."""
    for name, errors in form.errors.items():
        return error(str(errors[0]), 400, None if name == "__all__" else name)
    return error(_("The request is not valid."), 400)


# --- operations -----------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def operation_summary(op: Operation) -> OperationJson:
    return {
        "id": op.pk,
        "url": reverse("api:operation", args=[op.pk]),
        "kind": op.kind,
        "title": _(op.title),
        "state": op.state,
        "step": op.step,
        "percent": op.percent,
        "target": op.target,
        "target_name": op.target_name,
        "user_name": op.user_name,
        "project_name": op.project_name,
        "attempts": op.attempts,
        "error": op.error,
        "created_at": _iso(op.created_at),
        "started_at": _iso(op.started_at),
        "finished_at": _iso(op.finished_at),
    }


def operation_json(op: Operation) -> OperationDetailJson:
    report = REPORTS.get(op.kind)
    counts: ReportJson = {} if report is None else {"report": report(op)}
    return {
        **operation_summary(op),
        "log": [{"at": at, "line": line} for at, line in op.log],
        "result": op.result,
        **counts,
    }


def accepted(op: Operation) -> JsonResponse:
    """202 with the new job, and where to poll it."""
    response = JsonResponse(operation_json(op), status=202)
    response["Location"] = reverse("api:operation", args=[op.pk])
    return response


PAGE = Param("page", {"type": "integer", "minimum": 1}, "The page, 50 per page (default 1).")


@api_view(
    "GET",
    replies={200: Reply("The jobs, 50 per page.", OperationPageJson)},
    params=(
        Param("all", {"type": "string", "enum": ["1"]}, "1: everyone's (administrators)."),
        PAGE,
    ),
)
def list_operations(request: PortalRequest) -> HttpResponse:
    """The caller's jobs, newest first; an administrator's `?all=1`: everyone's."""
    identity = me(request)
    if request.GET.get("all") == "1":
        if not identity.is_admin:
            raise ApiRefusal(_("Only administrators see everyone's operations."), 403, "all")
        ops = Operation.objects.of_cloud(identity)
    else:
        ops = Operation.objects.of_user(identity)
    ops = ops.defer("credential", "log")
    page = Paginator(ops, PER_PAGE).get_page(request.GET.get("page"))
    found: OperationPageJson = {
        "operations": [operation_summary(op) for op in page],
        "page": page.number,
        "pages": page.paginator.num_pages,
        "count": page.paginator.count,
    }
    return JsonResponse(found)


def _visible_operation(request: PortalRequest, pk: int) -> Operation:
    op = Operation.objects.visible_to(me(request)).filter(pk=pk).first()
    if op is None:
        raise NotFound(_("There is no operation %(id)d.") % {"id": pk})
    return op


@api_view("GET", replies={200: Reply("The job.", OperationDetailJson)}, errors=(404,))
def operation(request: PortalRequest, pk: int) -> HttpResponse:
    """One job, with its log and result: the caller's, or anyone's for an administrator."""
    return JsonResponse(operation_json(_visible_operation(request, pk)))


@api_view(
    "POST", replies={200: Reply("The job, cancelled.", OperationDetailJson)}, errors=(404, 409)
)
def cancel(request: PortalRequest, pk: int) -> HttpResponse:
    """Cancel a queued or running job (a running one stops at its next step); 409 if it had
    already finished."""
    op = _visible_operation(request, pk)
    if not cancel_operation(op):
        raise ApiRefusal(_("The job had already finished."), 409)
    op.refresh_from_db()
    return JsonResponse(operation_json(op))


# --- the audit log --------------------------------------------------------------------------


@api_view(
    "GET",
    replies={200: Reply("The records, 50 per page.", AuditPageJson)},
    query=Fields(AuditFilterForm),
    params=(
        Param("all", {"type": "string", "enum": ["1"]}, "1: every project's (administrators)."),
        PAGE,
    ),
)
def list_audit_records(request: PortalRequest) -> HttpResponse:
    """The caller's project's audit records, newest first, with the pages' filters (start,
    end, user, action, target, result; project for `?all=1`); an administrator's `?all=1`:
    every project's of their cloud."""
    identity = me(request)
    if request.GET.get("all") == "1":
        if not identity.is_admin:
            raise ApiRefusal(_("Only administrators see every project's audit log."), 403, "all")
        records = AuditRecord.objects.of_cloud(identity)
    else:
        records = AuditRecord.objects.of_project(identity)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return form_error(form)
    page = Paginator(form.apply(records), PER_PAGE).get_page(request.GET.get("page"))
    found: AuditPageJson = {
        # record_json's keys are AuditRecordJson's (api/tests/test_openapi.py holds them equal)
        "records": [cast(AuditRecordJson, record_json(r)) for r in page],
        "page": page.number,
        "pages": page.paginator.num_pages,
        "count": page.paginator.count,
    }
    return JsonResponse(found)
