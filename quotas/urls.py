from django.urls import path

from quotas import views

# Mounted at the site's root (portal/urls.py), before projects/: a project's quota pages keep
# their places under /project/ (Project › Overview, Identity › Projects).
app_name = "quotas"
urlpatterns = [
    path("quotas/admin/usage/", views.admin_usage, name="admin-usage"),
    path("quotas/admin/usage/export/", views.export_usage, name="export-usage"),
    path("quotas/admin/defaults/", views.defaults, name="defaults"),
    path("quotas/admin/jobs/<int:pk>/", views.show_quota_job, name="show-quota-job"),
    path("quotas/usage/export/", views.export_project_usage, name="export-project-usage"),
    path("quotas/exports/<int:pk>/", views.show_export, name="show-export"),
    path("quotas/exports/<int:pk>/download/", views.download_export, name="download-export"),
    path("project/overview/limits/", views.show_limits, name="show-limits"),
    path("project/overview/usage/", views.show_usage, name="show-usage"),
    path("project/identity/projects/quotas/", views.apply_quotas, name="apply-quotas"),
    path(
        "project/identity/projects/<str:project_id>/quotas/",
        views.update_quotas,
        name="update-quotas",
    ),
]
