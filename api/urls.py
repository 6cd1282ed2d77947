"""/api/v1/: the ground floor's job endpoints (portal/api.py) and each app's own.

This package sits above every app: it is the one place that imports them all for the API, so
that portal/ imports none (the import contracts in pyproject.toml say so).
"""

from __future__ import annotations

from django.urls import path

from api import openapi
from compute import api as compute_api
from portal import api
from quotas import api as quotas_api

app_name = "api"
urlpatterns = [
    path("openapi.json", openapi.openapi, name="openapi"),
    path("operations/", api.list_operations, name="list-operations"),
    path("operations/<int:pk>/", api.operation, name="operation"),
    path("operations/<int:pk>/cancel/", api.cancel, name="cancel-operation"),
    path("hosts/<str:host>/drain/", compute_api.drain_host, name="drain-host"),
    path("hosts/<str:host>/evacuate/", compute_api.evacuate_host, name="evacuate-host"),
    path(
        "servers/<str:server_id>/live-migrate/",
        compute_api.live_migrate_server,
        name="live-migrate-server",
    ),
    path("servers/<str:server_id>/migrate/", compute_api.migrate_server, name="migrate-server"),
    path("quotas/bulk/", quotas_api.apply_quotas, name="apply-quotas"),
    path("usage.csv", quotas_api.usage_csv, name="usage-csv"),
    path("audit/", api.list_audit_records, name="list-audit-records"),
    # Last: any other URL ending in a slash (Django adds one first) is a JSON 404.
    path("<path:rest>/", api.no_endpoint, name="no-endpoint"),
]
