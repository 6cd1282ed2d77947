"""Sign-in, project choice and switching, sign-out, the operations pages and the audit log."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import activate, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import as_code, cloud, preferences, refs, throttle
from portal.audit import AuditFilterForm, csv_lines
from portal.crypto import seal, unseal
from portal.errors import CloudUnavailable, Rejected, SignInRequired
from portal.forms import ProjectChoiceForm, SignInForm, posted
from portal.identity import (
    SESSION_PENDING,
    PortalRequest,
    admin_required,
    confirm_sign_in,
    login_required,
    me,
    safe_next,
    session_credential,
    sign_out_locally,
    start_session,
)
from portal.models import AuditRecord, Operation, Preference
from portal.operations import cancel_operation

HOME = "projects:overview"


def _next_url(request: PortalRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    return safe_next(request, candidate) or reverse(HOME)


def _remember_project(cloud_key: str, user_id: str, project_id: str) -> None:
    Preference.objects.update_or_create(
        cloud_key=cloud_key, user_id=user_id, defaults={"last_project_id": project_id}
    )


def _preferred_project(cloud_key: str, user_id: str, projects: list[refs.ProjectRef]) -> str | None:
    if len(projects) == 1:
        return projects[0].id
    pref = Preference.objects.filter(cloud_key=cloud_key, user_id=user_id).first()
    if pref and any(p.id == pref.last_project_id for p in projects):
        return pref.last_project_id
    return None


def _enter_project(
    request: PortalRequest,
    where: cloud.Cloud,
    unscoped_token: str,
    project_id: str,
    projects: list[refs.ProjectRef],
) -> None:
    scoped = cloud.scope_token(where, unscoped_token, project_id)
    start_session(request, where, scoped, projects, unscoped_token)
    _remember_project(where.key, scoped.user_id, project_id)


def _sign_in_refusal(exc: cloud.AuthFailed, method: str) -> str:
    """Anonymous users are not told which domains exist unless the operator allows it: an
    unknown domain and a wrong password then get the same answer."""
    reveals = settings.STACKDESK_SIGNIN_REVEALS_DOMAINS
    hidden = method == SignInForm.METHOD_PASSWORD and not reveals
    if hidden and exc.reason in {"bad_credentials", "unknown_domain"}:
        return _("The user name, password or domain is not correct.")
    return exc.message


def _throttled(request: PortalRequest, form: SignInForm, seconds: int) -> HttpResponse:
    form.add_error(
        None,
        ngettext(
            "Too many failed sign-ins; try again in %(seconds)d second.",
            "Too many failed sign-ins; try again in %(seconds)d seconds.",
            seconds,
        )
        % {"seconds": seconds},
    )
    context = {"form": form, "next": request.GET.get("next", "")}
    response = render(request, "portal/sign_in.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def sign_in(request: PortalRequest) -> HttpResponse:
    if request.identity is not None:
        return HttpResponseRedirect(_next_url(request))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        where = next(c for c in cloud.available_clouds() if c.key == data["cloud"])
        account = (
            throttle.account(where.key, data["credential_id"])
            if data["method"] == SignInForm.METHOD_APP_CREDENTIAL
            else throttle.account(where.key, data["domain"], data["username"])
        )
        # Refused before Keystone is asked: a guesser learns nothing and Keystone's own
        # lockout (if any) is not driven by the portal.
        if wait := throttle.wait_seconds(account, throttle.address(request)):
            return _throttled(request, form, wait)
        try:
            if data["method"] == SignInForm.METHOD_APP_CREDENTIAL:
                scoped = cloud.app_credential_sign_in(
                    where, data["credential_id"], data["credential_secret"]
                )
                throttle.record_success(account)
                ref = refs.ProjectRef(scoped.project_id, scoped.project_name, "")
                start_session(request, where, scoped, [ref], unscoped_token="")
                return HttpResponseRedirect(_next_url(request))
            unscoped = cloud.password_sign_in(
                where, data["username"], data["password"], data["domain"]
            )
            throttle.record_success(account)
            projects = cloud.list_user_projects(where, unscoped.token)
            if not projects:
                cloud.revoke_token(where, unscoped.token)
                raise cloud.AuthFailed(
                    "no_projects",
                    _(
                        "You signed in as %(user)s, but you are not a member of any project. "
                        "Ask an administrator to add you to one."
                    )
                    % {"user": unscoped.user_name},
                )
            chosen = _preferred_project(where.key, unscoped.user_id, projects)
            if chosen:
                _enter_project(request, where, unscoped.token, chosen, projects)
                return HttpResponseRedirect(_next_url(request))
            request.session[SESSION_PENDING] = seal(
                {
                    "cloud": where.key,
                    "token": unscoped.token,
                    "user_id": unscoped.user_id,
                    "user_name": unscoped.user_name,
                    "projects": [p.__dict__ for p in projects],
                    "next": _next_url(request),
                }
            )
            return redirect("portal:choose-project")
        except cloud.AuthFailed as exc:
            if exc.reason in {"bad_credentials", "unknown_domain"}:
                throttle.record_failure(account, throttle.address(request))
            form.add_error(None, _sign_in_refusal(exc, data["method"]))
        except (SignInRequired, Rejected, CloudUnavailable) as exc:
            form.add_error(None, exc.message)
    context = {"form": form, "next": request.GET.get("next", "")}
    return render(request, "portal/sign_in.html", context, status=400 if form.errors else 200)


def choose_project(request: PortalRequest) -> HttpResponse:
    pending = unseal(request.session.get(SESSION_PENDING, ""))
    if pending is None:
        return redirect("portal:sign-in")
    projects = [refs.ProjectRef(**p) for p in pending["projects"]]
    form = ProjectChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project_id = form.cleaned_data["project_id"]
        if not any(p.id == project_id for p in projects):
            form.add_error(None, _("You are not a member of that project."))
        else:
            where = cloud.find_cloud(pending["cloud"])
            _enter_project(request, where, pending["token"], project_id, projects)
            return HttpResponseRedirect(pending["next"])
    context = {"projects": projects, "user_name": pending["user_name"], "form": form}
    return render(request, "portal/choose_project.html", context)


@require_POST
@login_required
def switch_project(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    project_id = request.POST.get("project_id", "")
    if not any(p.id == project_id for p in identity.projects):
        messages.error(request, _("You are not a member of that project."))
        return redirect(HOME)
    unscoped = session_credential(request).get("unscoped")
    if not unscoped:
        messages.error(request, _("An application credential works in its own project only."))
        return redirect(HOME)
    where = cloud.find_cloud(identity.cloud_key)
    _enter_project(request, where, unscoped, project_id, list(identity.projects))
    name = next(p.name for p in identity.projects if p.id == project_id)
    messages.success(request, _("Switched to project %(name)s.") % {"name": name})
    return redirect(HOME)


def end_session(request: PortalRequest) -> None:
    """Revoke the session's tokens in Keystone and end the session (sign-out, and after a
    password change)."""
    if request.identity is not None:
        where = cloud.find_cloud(request.identity.cloud_key)
        credential = session_credential(request)
        try:
            for token in {credential["token"], credential.get("unscoped") or ""} - {""}:
                cloud.revoke_token(where, token)
        except CloudUnavailable:
            messages.warning(
                request,
                _(
                    "Keystone could not be reached; your token was not "
                    "revoked but this session has ended."
                ),
            )
    sign_out_locally(request)


@require_POST
def sign_out(request: PortalRequest) -> HttpResponse:
    end_session(request)
    messages.success(request, _("You have signed out."))
    return redirect("portal:sign-in")


def _operations_page(request: PortalRequest, everyone: bool) -> HttpResponse:
    who = me(request)
    ops = (Operation.objects.of_cloud(who) if everyone else Operation.objects.of_user(who)).defer(
        "credential", "log"
    )
    rows, pages = preferences.paged(request, ops)
    return render(request, "portal/operations.html", {"rows": rows, "everyone": everyone, **pages})


@require_GET
@login_required
def operations(request: PortalRequest) -> HttpResponse:
    return _operations_page(request, everyone=False)


@require_GET
@admin_required
def admin_operations(request: PortalRequest) -> HttpResponse:
    return _operations_page(request, everyone=True)


@require_GET
@login_required
def operation(request: PortalRequest, pk: int) -> HttpResponse:
    op = get_object_or_404(Operation.objects.visible_to(me(request)), pk=pk)
    if request.htmx and not request.htmx.boosted:
        part = "card" if request.GET.get("part") == "card" else "row"
        template = f"portal/operation.html#{part}"
        # 286 tells htmx to stop polling: the job is over.
        return render(request, template, {"op": op}, status=286 if op.is_finished else 200)
    return render(request, "portal/operation.html", {"op": op})


@require_POST
@login_required
def cancel(request: PortalRequest, pk: int) -> HttpResponse:
    op = get_object_or_404(Operation.objects.visible_to(me(request)), pk=pk)
    confirm_sign_in(request)
    if cancel_operation(op):
        messages.info(request, _("The job was cancelled."))
    else:
        messages.warning(request, _("The job had already finished."))
    if request.htmx:
        op.refresh_from_db()
        part = "card" if request.POST.get("part") == "card" else "row"
        return render(request, f"portal/operation.html#{part}", {"op": op}, status=286)
    return redirect("portal:operation", pk=op.pk)


def home(request: PortalRequest) -> HttpResponse:
    if request.identity is None:
        return redirect("portal:sign-in")
    return redirect(HOME)


def healthz(request: PortalRequest) -> HttpResponse:
    """For scripts waiting on the portal: answers once the database does."""
    connection.ensure_connection()
    return HttpResponse("ok", content_type="text/plain")


# --- the audit log ---------------------------------------------------------------------------


def _audit_records(request: PortalRequest, everyone: bool) -> tuple[AuditFilterForm, Any]:
    """The filter form (always bound: no filter is a valid one) and the records it selects:
    the caller's project's, or for an administrator's page every project's of their cloud."""
    who = me(request)
    records = AuditRecord.objects.of_cloud(who) if everyone else AuditRecord.objects.of_project(who)
    form = AuditFilterForm(request.GET)
    return form, form.apply(records)


def _audit_page(request: PortalRequest, everyone: bool) -> HttpResponse:
    form, records = _audit_records(request, everyone)
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "everyone": everyone,
        "query": query.urlencode(),
        "export_url": reverse(
            "portal:admin-export-audit-log" if everyone else "portal:export-audit-log"
        ),
    }
    return render(request, "portal/audit.html", context, status=200 if form.is_valid() else 400)


def _audit_csv(request: PortalRequest, everyone: bool) -> HttpResponse:
    form, records = _audit_records(request, everyone)
    if not form.is_valid():
        return _audit_page(request, everyone)
    who = me(request)
    scope = "all" if everyone else who.project_id
    filename = f"audit-{scope}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(csv_lines(records), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Accel-Buffering"] = "no"  # let a proxy pass rows on as they come
    # login_required/admin_required are typed for HttpResponse; Django serves both alike.
    return cast(HttpResponse, response)


@require_GET
@login_required
def audit_log(request: PortalRequest) -> HttpResponse:
    return _audit_page(request, everyone=False)


@require_GET
@login_required
def export_audit_log(request: PortalRequest) -> HttpResponse:
    return _audit_csv(request, everyone=False)


@require_GET
@admin_required
def admin_audit_log(request: PortalRequest) -> HttpResponse:
    return _audit_page(request, everyone=True)


@require_GET
@admin_required
def admin_export_audit_log(request: PortalRequest) -> HttpResponse:
    return _audit_csv(request, everyone=True)


# --- settings (per user) ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def update_preferences(request: PortalRequest) -> HttpResponse:
    who = me(request)
    form = preferences.PreferencesForm(posted(request), initial=preferences.initial(request, who))
    if request.method == "POST" and form.is_valid():
        preferences.save(request, who, form.cleaned_data)
        activate(form.cleaned_data["language"])  # the message in the new language
        messages.success(request, _("Your settings were saved."))
        response = redirect("portal:update-preferences")
        preferences.use_language(response, form.cleaned_data["language"])
        return response
    return render(
        request, "portal/settings.html", {"form": form}, status=400 if form.errors else 200
    )


@require_GET
@login_required
def show_as_code(request: PortalRequest) -> HttpResponse:
    """The "show as code" panel of the form at `for` (a path), with the fields typed so far."""
    try:
        match = resolve(request.GET.get("for", ""))
    except Resolver404:
        raise Http404 from None
    fields = {k: request.GET.getlist(k) for k in request.GET if k != "for"}
    shown = as_code.shown_for(request, match.view_name, dict(match.kwargs), fields)
    if shown is None:
        raise Http404
    return render(request, "portal/as_code.html#code", {"shown": shown})
