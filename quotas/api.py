"""The JSON API's usage CSV (docs/usage-csv.md), the browser's exports read with a token, and
its bulk quotas (admin): one quota set for several projects, as the admin page's job."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _

from portal.api import (
    JOB_STARTED,
    ApiRefusal,
    Fields,
    Param,
    Reply,
    accepted,
    api_view,
    bound_form,
    form_error,
)
from portal.gateways import gateway
from portal.identity import PortalRequest, me
from projects.gateway import ProjectsGateway
from quotas import catalog, services
from quotas import views as quota_views
from quotas.forms import BulkQuotaForm, UsageRangeForm


@api_view(
    "GET",
    replies={200: Reply("The usage CSV (docs/usage-csv.md), streamed.", media_type="text/csv")},
    errors=(409,),
    query=Fields(UsageRangeForm),
    params=(
        Param("project", {"type": "string"}, "The token's own project: its instances."),
        Param("rows", {"type": "string", "enum": ["summary"]}, "summary: the project's one row."),
    ),
)
def usage_csv(request: PortalRequest) -> HttpResponse:
    """The browser's usage CSV exports (docs/usage-csv.md): without `project`, every project
    (administrators); with the token's own project, its instances (or `rows=summary`)."""
    form = UsageRangeForm(request.GET)
    if not form.is_valid():
        return form_error(form)
    identity = me(request)
    project = request.GET.get("project", "")
    if project:
        if project != identity.project_id:
            raise ApiRefusal(_("A token reads the usage of its own project only."), 403, "project")
        return quota_views.export_project_usage(request)
    if not identity.is_admin:
        raise ApiRefusal(
            _("Every project's usage is for cloud administrators; add project=%(id)s.")
            % {"id": identity.project_id},
            403,
            "project",
        )
    projects = gateway(request, ProjectsGateway).list_projects()
    if len(projects) * form.period().days > quota_views.stream_limit():
        raise ApiRefusal(
            _(
                "%(projects)d projects over %(days)d days is too much to stream: ask for a "
                "shorter period, or export it from the portal's usage page as a job."
            )
            % {"projects": len(projects), "days": form.period().days},
            409,
        )
    return quota_views.export_usage(request)


# Every quota field of every service: a cloud without one of the services refuses its fields.
BULK_QUOTA_FIELDS = Fields(BulkQuotaForm, {"services": list(catalog.SERVICE_TYPES), "projects": []})


@api_view("POST", admin=True, replies={202: JOB_STARTED}, errors=(409,), body=BULK_QUOTA_FIELDS)
def apply_quotas(request: PortalRequest) -> HttpResponse:
    """Apply one quota set to several projects, as a job (as quotas.views.apply_quotas)."""
    form = bound_form(BulkQuotaForm, request, **services.bulk_quota_choices(request))
    if not form.is_valid():
        return form_error(form)
    return accepted(services.start_bulk_quotas(request, form))
