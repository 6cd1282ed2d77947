"""The JSON API's bulk quotas (admin): one quota set for several projects, as a job, with the
form and job the admin page uses (projects/admin_views.py)."""

from __future__ import annotations

from django.http import HttpResponse

from portal.api import JOB_STARTED, Fields, accepted, api_view, bound_form, form_error
from portal.identity import PortalRequest
from projects import admin_views as project_admin
from quotas import catalog
from quotas.forms import BulkQuotaForm

# Every quota field of every service: a cloud without one of the services refuses its fields.
BULK_QUOTA_FIELDS = Fields(BulkQuotaForm, {"services": list(catalog.SERVICE_TYPES), "projects": []})


@api_view("POST", admin=True, replies={202: JOB_STARTED}, errors=(409,), body=BULK_QUOTA_FIELDS)
def apply_quotas(request: PortalRequest) -> HttpResponse:
    """Apply one quota set to several projects, as a job (as projects.admin_views.apply_quotas)."""
    form = bound_form(BulkQuotaForm, request, **project_admin.bulk_quota_choices(request))
    if not form.is_valid():
        return form_error(form)
    return accepted(project_admin.start_bulk_quotas(request, form))
