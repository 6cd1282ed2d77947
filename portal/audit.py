"""The audit log: one AuditRecord for every change asked of the portal (docs/api.md, issue 15).

AuditMiddleware (settings.MIDDLEWARE, innermost) records every POST, PUT, PATCH and DELETE of
a signed-in identity (a session or an API token), and every sign-in attempt, once the view
has answered: who, which project and cloud, the action (the verb-noun of the URL name:
`network:delete-router` is `delete_router`), the target (the URL's first argument: its name
without `_id`, e.g. `router`, and its value; a URL without arguments targets its app), the
posted fields without secrets, the outcome, the OpenStack request ids the cloud answered with
(portal/cloud.py notes them), the client address and the channel (browser, api, or ansible:
the JSON API called with a User-Agent that says "ansible"). A 405 is not recorded: nothing
was tried; nor is an upload's chunk (NOT_CHANGES).

The outcome, from the answer: 2xx and 3xx are accepted, 4xx refused, 5xx failed; a cloud
error the view let through is refused (failed when the cloud was unavailable) with its
message; an answer that queued an error message (a button refused: the message and a
redirect back) is refused with that message. The message of a 4xx page is the first error
it shows (an alert or a field's error), of a JSON error its "error".

A job's record is written by start_operation, in the transaction that creates the
Operation, so a job never goes unrecorded; the middleware completes that record instead of
writing a second one, and the job's end sets its result (follow_job).

Input: a field whose name contains password, secret, token, credential or passphrase is left
out, and so is any field with "key" in its name except those that name a thing rather than
hold a secret (KEY_FIELDS: a key pair's name, an extra spec's or property's key, a public
key). Files are kept as their name and size; values are cut at VALUE_LIMIT characters.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.request import RawPostDataException
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import cloud
from portal.errors import CloudError, CloudUnavailable
from portal.forms import PortalForm
from portal.identity import SESSION_IDENTITY, Identity, PortalRequest
from portal.models import AuditRecord, AuditRecordQuerySet, Operation
from portal.throttle import client_address

Result = AuditRecord.Result
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN = "portal:sign-in"
# POSTs that carry data for a change recorded already: an upload's chunks (the upload's start
# and its job are the change; a 64 GiB image is 8192 chunks, each would be a record).
NOT_CHANGES = frozenset({"images:receive-chunk"})
SECRET_WORDS = ("password", "secret", "token", "credential", "passphrase")
KEY_FIELDS = frozenset(
    {"key", "key_name", "keypair", "public_key", "key_pairs", "compute__key_pairs"}
)
VALUE_LIMIT = 200
FIELD_LIMIT = 50
MESSAGE_LIMIT = 500
EXPORT_LIMIT = 100_000  # rows in one CSV; narrow the filter for more
RECORD = "_stackdesk_audit_record"  # request attribute: the record start_operation wrote
ERROR = "_stackdesk_audit_error"  # request attribute: the cloud error the view let through
MESSAGES = "_stackdesk_audit_messages"  # request attribute: the messages it came with
ALERT = re.compile(
    r'<div[^>]*class="[^"]*\b(?:alert-danger|alert-warning|invalid-feedback)\b[^"]*"[^>]*>'
    r"(.*?)</div>",
    re.S,
)
TAG = re.compile(r"<[^>]+>")


# --- what a request is -----------------------------------------------------------------------


def channel(request: HttpRequest) -> str:
    if not request.path.startswith("/api/"):
        return AuditRecord.Channel.BROWSER
    if "ansible" in request.headers.get("User-Agent", "").lower():
        return AuditRecord.Channel.ANSIBLE
    return AuditRecord.Channel.API


def is_secret(name: str) -> bool:
    lowered = name.lower()
    if any(word in lowered for word in SECRET_WORDS):
        return True
    return "key" in lowered and lowered not in KEY_FIELDS


def _text(value: str) -> str:
    """What PostgreSQL can store of any text: no NUL, no lone surrogate (a JSON body's
    "\\ud800"); hostile input is recorded as it came, as far as it can be."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _texts(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: _text(v) if isinstance(v, str) else v for k, v in fields.items()}


def _value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _text(value[:VALUE_LIMIT])
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_value(v, depth + 1) for v in value[:20]]
    if isinstance(value, dict) and depth < 2:
        return clean(value.items(), depth + 1)
    return _text(str(value)[:VALUE_LIMIT])


def clean(items: Iterable[tuple[str, Any]], depth: int = 0) -> dict[str, Any]:
    """The fields worth keeping: secrets left out, values cut short, at most FIELD_LIMIT."""
    kept: dict[str, Any] = {}
    for name, value in items:
        if len(kept) >= FIELD_LIMIT:
            break
        if not is_secret(str(name)):
            kept[_text(str(name)[:64])] = _value(value, depth)
    return kept


def _form_items(data: QueryDict) -> Iterator[tuple[str, Any]]:
    for name in data:
        values = data.getlist(name)
        yield name, values[0] if len(values) == 1 else values


def posted(request: HttpRequest) -> dict[str, Any]:
    """The request's body as the record keeps it (a JSON object or form fields, and files)."""
    try:
        if request.content_type == "application/json":
            body = json.loads(request.body or b"{}")
            return clean(body.items()) if isinstance(body, dict) else {}
        kept = clean(_form_items(request.POST))
        files = {
            _text(name): {"name": _text((f.name or "")[:VALUE_LIMIT]), "size": f.size}
            for name in request.FILES
            if not is_secret(name)
            for f in request.FILES.getlist(name)[:1]
        }
    except (RawPostDataException, ValueError):
        # the view read the body as a stream (an upload chunk): its fields are not ours to see
        return {}
    return kept | ({"files": files} if files else {})


def _target(view_name: str, kwargs: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(type, id, the other URL arguments): the first URL argument, else the app."""
    if not kwargs:
        return view_name.split(":")[0], "", {}
    name, value = next(iter(kwargs.items()))
    if name == "pk":
        kind = view_name.rsplit(":", 1)[-1].split("-", 1)[-1]  # cancel-operation: operation
    else:
        kind = name.removesuffix("_id")
    rest = {k: _text(str(v)) for k, v in kwargs.items() if k != name}
    return kind.replace("-", "_"), str(value), rest


def _created(response: HttpResponse) -> tuple[str, str] | None:
    """What a create sent the browser on to (its page names the new thing's id), if anything."""
    location = response.get("HX-Redirect") or response.get("Location") or ""
    if not location:
        return None
    try:
        match = resolve(urlsplit(location).path)
    except Resolver404:
        return None
    if not match.kwargs:
        return None
    kind, value, _rest = _target(match.view_name, match.kwargs)
    return kind, value


# --- the outcome -----------------------------------------------------------------------------


def _short(text: str) -> str:
    return _text(" ".join(text.split())[:MESSAGE_LIMIT])


def _messages(request: HttpRequest) -> list[Any]:
    """The request's messages so far: those it came with and those added since. A page that
    shows them moves the added ones from Django's _queued_messages to _loaded_messages."""
    storage = getattr(request, "_messages", None)
    if storage is None:
        return []
    return [*storage._loaded_messages, *storage._queued_messages]


def _added_errors(request: HttpRequest) -> list[str]:
    """The error messages the view added (a refused button: the reason and a redirect back)."""
    came_with = {id(m) for m in getattr(request, MESSAGES, [])}
    return [
        str(m.message)
        for m in _messages(request)
        if m.level >= message_levels.ERROR and id(m) not in came_with
    ]


def _shown_error(response: HttpResponse) -> str:
    """The reason a 4xx/5xx answer gives: a JSON error's text, or a page's first alert."""
    if response.streaming:
        return ""
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            return ""
        return str(body.get("error") or "") if isinstance(body, dict) else ""
    if content_type.startswith("text/html"):
        found = ALERT.search(response.content.decode(errors="replace"))
        if found:
            return html.unescape(TAG.sub(" ", found.group(1)))
    return ""


def outcome(request: HttpRequest, response: HttpResponse) -> tuple[str, str]:
    error: CloudError | None = getattr(request, ERROR, None)
    if error is not None:
        return (
            Result.FAILED if isinstance(error, CloudUnavailable) else Result.REFUSED,
            _short(error.message),
        )
    status = response.status_code
    if status >= 400:
        result = Result.FAILED if status >= 500 else Result.REFUSED
        return result, _short(_shown_error(response) or _("HTTP %(status)d") % {"status": status})
    errors = _added_errors(request)
    if errors:
        return Result.REFUSED, _short(errors[0])
    return Result.ACCEPTED, ""


# --- writing ---------------------------------------------------------------------------------


def _identity_fields(identity: Identity) -> dict[str, Any]:
    return {
        "cloud_key": identity.cloud_key,
        "user_id": identity.user_id,
        "user_name": identity.user_name,
        "user_domain": identity.user_domain,
        "project_id": identity.project_id,
        "project_name": identity.project_name,
    }


def _attempted(request: HttpRequest) -> dict[str, Any]:
    """Who a sign-in that did not sign in said they were (an application credential by its
    ID, never its secret)."""
    name = request.POST.get("username") or request.POST.get("credential_id") or ""
    return {
        "cloud_key": request.POST.get("cloud", "")[:255],
        "user_name": name[:255],
        "user_domain": request.POST.get("domain", "")[:255],
    }


def _who(request: HttpRequest, before: Identity | None) -> Identity | None:
    """The identity a change is recorded under: for the JSON API the token's; for a page the
    one signed in when it was asked (a sign-out, a project switch), else the one it signed in."""
    after: Identity | None = getattr(request, "identity", None)
    if request.path.startswith("/api/"):
        return after
    if before is not None:
        return before
    if after is not None:
        return after
    data = request.session.get(SESSION_IDENTITY) if hasattr(request, "session") else None
    return Identity.from_session(data) if data else None


def _base(request: HttpRequest) -> dict[str, Any]:
    match = request.resolver_match
    view_name = match.view_name if match else ""
    kind, target_id, rest = _target(view_name, dict(match.kwargs) if match else {})
    data = posted(request)
    if rest:
        data["url"] = rest
    name = data.get("name")
    return {
        "action": view_name.rsplit(":", 1)[-1].replace("-", "_")[:64],
        "url_name": view_name[:128],
        "target_type": kind[:64],
        "target_id": target_id[:255],
        "target_name": name[:255] if isinstance(name, str) else "",
        "input": data,
        "client_address": client_address(request)[:64],
        "channel": channel(request),
    }


def record_job(request: PortalRequest, op: Operation) -> AuditRecord:
    """The record of the request that starts a job, written with the job's row (call it in
    the same transaction); the middleware completes it when the view has answered."""
    record: AuditRecord | None = getattr(request, RECORD, None)
    if record is not None:  # one request, one record: a second job of it is noted in input
        record.input.setdefault("operations", []).append(op.pk)
        record.save(update_fields=["input"])
        return record
    fields = _base(request) | {
        "cloud_key": op.cloud_key,
        "user_id": op.user_id,
        "user_name": op.user_name,
        "project_id": op.project_id,
        "project_name": op.project_name,
    }
    identity: Identity | None = getattr(request, "identity", None)
    if identity is not None:
        fields["user_domain"] = identity.user_domain
    fields["target_id"] = fields["target_id"] or op.target[:255]
    fields["target_name"] = fields["target_name"] or op.target_name[:255]
    record = AuditRecord.objects.create(**_texts(fields), result=Result.ACCEPTED, operation=op)
    setattr(request, RECORD, record)
    return record


JOB_RESULTS = {
    Operation.State.SUCCEEDED: Result.SUCCEEDED,
    Operation.State.FAILED: Result.FAILED,
    Operation.State.CANCELLED: Result.CANCELLED,
}


def follow_job(op: Operation, state: str, error: str = "") -> None:
    """A finished job's records take its outcome (and its error as their message)."""
    result = JOB_RESULTS.get(Operation.State(state))
    if result is not None:
        AuditRecord.objects.filter(operation=op).update(result=result, message=_short(error))


def _write(request: HttpRequest, response: HttpResponse, before: Identity | None) -> None:
    match = request.resolver_match
    if match is None or match.view_name in NOT_CHANGES:  # no view, or no change of its own
        return
    seen: cloud.CallsSeen = request._stackdesk_calls_seen  # type: ignore[attr-defined]
    result, message = outcome(request, response)
    record: AuditRecord | None = getattr(request, RECORD, None)
    if record is not None:
        # A job's record: the job decides its result; a refusal after the start is noted.
        record.status = response.status_code
        record.message = message
        record.request_ids = seen.request_ids
        record.save(update_fields=["status", "message", "request_ids"])
        return
    identity = _who(request, before)
    if identity is not None:
        who = _identity_fields(identity)
    elif match.view_name == SIGN_IN:
        who = _attempted(request)
    else:
        return
    fields = _base(request)
    if not fields["target_id"] and result == Result.ACCEPTED:
        fields["target_type"], fields["target_id"] = _created(response) or (
            fields["target_type"],
            "",
        )
    AuditRecord.objects.create(
        **_texts(who | fields),
        result=result,
        status=response.status_code,
        message=message,
        request_ids=seen.request_ids,
    )


class AuditMiddleware:
    """Writes the record of every change once its view has answered (see the module's doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in MUTATING:
            return self.get_response(request)
        before: Identity | None = getattr(request, "identity", None)
        seen = cloud.CallsSeen()
        request._stackdesk_calls_seen = seen  # type: ignore[attr-defined]
        setattr(request, MESSAGES, _messages(request))
        token = cloud.CALLS_SEEN.set(seen)
        try:
            response = self.get_response(request)
        finally:
            cloud.CALLS_SEEN.reset(token)
        if response.status_code != 405:
            _write(request, response, before)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> None:
        """Keep the cloud error for the record; portal/error_pages.py still makes the page."""
        if isinstance(exc, CloudError):
            setattr(request, ERROR, exc)


# --- reading: the pages' filter, the CSV, the JSON ---------------------------------------------


class AuditFilterForm(PortalForm):
    """The log's filters, a GET form: every field optional, an empty form shows everything."""

    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    user = forms.CharField(label=gettext_lazy("User"), required=False, max_length=255)
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=64)
    target = forms.CharField(label=gettext_lazy("Target"), required=False, max_length=255)
    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        required=False,
        choices=[("", gettext_lazy("Any")), *Result.choices],
    )
    project = forms.CharField(label=gettext_lazy("Project"), required=False, max_length=255)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end is before the start."))
        return data

    def apply(self, records: AuditRecordQuerySet) -> AuditRecordQuerySet:
        """The records the valid filters select (an invalid form selects none)."""
        if not self.is_valid():
            return records.none()
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        if data["start"]:
            records = records.filter(
                created_at__gte=datetime.combine(data["start"], time.min, tzinfo=zone)
            )
        if data["end"]:
            after = datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone)
            records = records.filter(created_at__lt=after)
        if data["user"]:
            records = records.filter(user_name__icontains=data["user"])
        if data["action"]:
            records = records.filter(action__icontains=data["action"].replace("-", "_"))
        if data["target"]:
            target = data["target"]
            records = records.filter(Q(target_id=target) | Q(target_name__icontains=target))
        if data["result"]:
            records = records.filter(result=data["result"])
        if data["project"]:
            project = data["project"]
            records = records.filter(Q(project_id=project) | Q(project_name__icontains=project))
        return records


COLUMNS = (
    "time",
    "user",
    "domain",
    "project",
    "project_id",
    "action",
    "target_type",
    "target_id",
    "target_name",
    "result",
    "status",
    "message",
    "request_ids",
    "client_address",
    "channel",
    "operation",
    "input",
)


class _Echo:
    """csv.writer writes into this and we hand the line on: no buffer grows."""

    def write(self, value: str) -> str:
        return value


def _cells(r: AuditRecord) -> list[str]:
    return [
        r.created_at.isoformat(timespec="seconds"),
        r.user_name,
        r.user_domain,
        r.project_name,
        r.project_id,
        r.action,
        r.target_type,
        r.target_id,
        r.target_name,
        r.result,
        str(r.status),
        r.message,
        " ".join(r.request_ids),
        r.client_address,
        r.channel,
        str(r.operation_id or ""),
        json.dumps(r.input, sort_keys=True),
    ]


def csv_lines(records: AuditRecordQuerySet) -> Iterator[str]:
    """The records as CSV lines, at most EXPORT_LIMIT, read from the database in chunks."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(COLUMNS)
    for record in records[:EXPORT_LIMIT].iterator(chunk_size=2000):
        yield writer.writerow(_cells(record))


def record_json(r: AuditRecord) -> dict[str, Any]:
    return {
        "id": r.pk,
        "created_at": r.created_at.isoformat(),
        "cloud": r.cloud_key,
        "user_id": r.user_id,
        "user_name": r.user_name,
        "user_domain": r.user_domain,
        "project_id": r.project_id,
        "project_name": r.project_name,
        "action": r.action,
        "url_name": r.url_name,
        "target_type": r.target_type,
        "target_id": r.target_id,
        "target_name": r.target_name,
        "input": r.input,
        "result": r.result,
        "status": r.status,
        "message": r.message,
        "request_ids": r.request_ids,
        "client_address": r.client_address,
        "channel": r.channel,
        "operation": r.operation_id,
    }


# --- retention -------------------------------------------------------------------------------


def purge_old_records() -> int:
    """Delete records older than STACKDESK_AUDIT_KEEP_DAYS (the reaper runs this)."""
    cutoff = timezone.now() - timedelta(days=settings.STACKDESK_AUDIT_KEEP_DAYS)
    with transaction.atomic():
        deleted, _kinds = AuditRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
