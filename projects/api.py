"""The JSON API's bulk quotas (admin): one quota set for several projects, as a job, with the
form and job the admin page uses (projects/admin_views.py)."""

from __future__ import annotations

from django.http import HttpResponse

from portal.api import accepted, api_view, bound_form, form_error
from portal.identity import PortalRequest
from projects import admin_views as project_admin
from quotas.forms import BulkQuotaForm


@api_view("POST", admin=True)
def apply_quotas(request: PortalRequest) -> HttpResponse:
    """As projects.admin_views.apply_quotas: one quota set for several projects, as a job."""
    form = bound_form(BulkQuotaForm, request, **project_admin.bulk_quota_choices(request))
    if not form.is_valid():
        return form_error(form)
    return accepted(project_admin.start_bulk_quotas(request, form))
