from django.urls import include, path
from django.views.i18n import set_language

from portal import metrics, views

portal_patterns = (
    [
        path("", views.home, name="home"),
        path("auth/sign-in/", views.sign_in, name="sign-in"),
        path("auth/project/", views.choose_project, name="choose-project"),
        path("auth/switch-project/", views.switch_project, name="switch-project"),
        path("auth/sign-out/", views.sign_out, name="sign-out"),
        path("operations/", views.operations, name="operations"),
        path("admin/operations/", views.admin_operations, name="admin-operations"),
        path("operations/<int:pk>/", views.operation, name="operation"),
        path("operations/<int:pk>/cancel/", views.cancel, name="cancel-operation"),
        path("audit/", views.audit_log, name="audit-log"),
        path("audit/export.csv", views.export_audit_log, name="export-audit-log"),
        path("admin/audit/", views.admin_audit_log, name="admin-audit-log"),
        path("admin/audit/export.csv", views.admin_export_audit_log, name="admin-export-audit-log"),
        path("healthz", views.healthz, name="healthz"),
        path("settings/", views.update_preferences, name="update-preferences"),
        path("code/", views.show_as_code, name="show-as-code"),
        path("metrics", metrics.metrics, name="metrics"),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("quotas.urls")),  # /quotas/..., and a project's quota pages in /project/
    path("project/", include("projects.urls")),
    path("images/", include("images.urls")),
    path("network/", include("network.urls")),
    path("compute/", include("compute.urls")),
    path("volumes/", include("volumes.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("", include("capacity.urls")),  # /admin/capacity/, /project/capacity/
    path("api/v1/", include("api.urls")),
]
