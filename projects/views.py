"""Project › Overview (resource counts; its limits and usage sections are quotas/') and the
signed-in user's application credentials. Identity administration is in admin_views.py."""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import cloud
from portal.actions import attempt, confirm_page, form_page
from portal.gateways import gateway
from portal.identity import PortalRequest, login_required, me
from portal.models import Operation
from portal.operations import start_operation
from projects import tasks
from projects.forms import AppCredentialForm
from projects.gateway import ProjectsGateway
from projects.models import ProjectCounts


def _counts_context(request: PortalRequest) -> dict[str, object]:
    identity = me(request)
    counts = ProjectCounts.objects.filter(
        cloud_key=identity.cloud_key, project_id=identity.project_id
    ).first()
    pending = (
        Operation.objects.of_project(identity)
        .active()
        .filter(kind=tasks.refresh_project_counts.name)
    ).first()
    rows = [
        (label, counts.counts.get(key) if counts else None) for key, label, _s, _f in tasks.COUNTERS
    ]
    return {"counts": counts, "rows": rows, "op": pending}


@require_GET
@login_required
def overview(request: PortalRequest) -> HttpResponse:
    """The page itself reads only the database; its limits and usage sections load
    themselves (quotas.views.show_limits, show_usage), so a slow service never holds the
    page up."""
    context = _counts_context(request)
    if request.htmx and not request.htmx.boosted:
        # The counts card polls while a refresh runs; 286 stops the polling.
        status = 200 if context["op"] else 286
        return render(request, "projects/overview.html#counts", context, status=status)
    context["usage_query"] = request.GET.urlencode()
    return render(request, "projects/overview.html", context)


@require_POST
@login_required
def refresh_project_counts(request: PortalRequest) -> HttpResponse:
    if _counts_context(request)["op"] is None:
        start_operation(
            request,
            tasks.refresh_project_counts,
            target=me(request).project_id,
            target_name=me(request).project_name,
        )
    if request.htmx:
        return render(request, "projects/overview.html#counts", _counts_context(request))
    messages.info(request, _("Counting has started."))
    return redirect("projects:overview")


# --- application credentials -------------------------------------------------------------


@require_GET
@login_required
def list_app_credentials(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    found = gateway(request, ProjectsGateway).list_application_credentials(identity.user_id)
    names = {p.id: p.name for p in identity.projects}
    rows = [(c, names.get(c.project_id, c.project_id)) for c in found]
    return render(request, "projects/app_credentials.html", {"credentials": rows})


def clouds_yaml(request: PortalRequest, auth: dict[str, str], auth_type: str = "") -> str:
    """A clouds.yaml entry for the portal's cloud (its auth_url, region and interface) that
    signs in with `auth`: a new application credential, or (API Access) the user's name and
    project, without the password."""
    where = cloud.find_cloud(me(request).cloud_key)
    entry: dict[str, object] = {"auth_type": auth_type} if auth_type else {}
    entry["auth"] = {"auth_url": where.auth_url, **auth}
    if where.region_name:
        entry["region_name"] = where.region_name
    entry |= {"interface": where.interface, "identity_api_version": 3}
    return yaml.safe_dump({"clouds": {where.name: entry}}, sort_keys=False)


@require_http_methods(["GET", "POST"])
@login_required
def create_app_credential(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    form = AppCredentialForm(request.POST or None, roles=identity.roles)
    if request.method == "POST" and form.is_valid():
        data, gw = form.cleaned_data, gateway(request, ProjectsGateway)
        created = attempt(
            form,
            lambda: gw.create_application_credential(
                identity.user_id,
                name=data["name"],
                description=data["description"],
                expires_at=data["expires_at"],
                roles=data["roles"],
                unrestricted=data["unrestricted"],
            ),
        )
        if created is not None:
            # The secret is shown this once: not stored, not cached, never redirected to.
            auth = {
                "application_credential_id": created.credential.id,
                "application_credential_secret": created.secret,
            }
            snippet = clouds_yaml(request, auth, "v3applicationcredential")
            context = {"created": created, "snippet": snippet}
            response = render(request, "projects/app_credential_created.html", context)
            response["Cache-Control"] = "no-store"
            return response
    return form_page(
        request,
        form,
        title=_("Create an application credential"),
        submit=_("Create"),
        cancel=reverse("projects:list-app-credentials"),
        intro=_(
            "An application credential lets a script or tool act as you in project "
            "%(project)s, without your password."
        )
        % {"project": identity.project_name},
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_app_credential(request: PortalRequest, credential_id: str) -> HttpResponse:
    identity, gw = me(request), gateway(request, ProjectsGateway)
    found = {c.id: c for c in gw.list_application_credentials(identity.user_id)}
    if credential_id not in found:
        return render(
            request,
            "portal/error.html",
            {
                "title": _("Not found"),
                "message": _("No such application credential."),
                "status": 404,
            },
            status=404,
        )
    name, back = found[credential_id].name, reverse("projects:list-app-credentials")
    return confirm_page(
        request,
        title=_("Delete application credential"),
        intro=_(
            "Delete the application credential %(name)s? Anything that signs in with it stops "
            "working."
        )
        % {"name": name},
        submit=_("Delete"),
        cancel=back,
        perform=lambda: gw.delete_application_credential(identity.user_id, credential_id),
        done_message=_("Application credential %(name)s deleted.") % {"name": name},
        then=back,
    )
