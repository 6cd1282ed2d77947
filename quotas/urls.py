from django.urls import path

from quotas import views

app_name = "quotas"
urlpatterns = [
    path("admin/usage/", views.admin_usage, name="admin-usage"),
    path("admin/usage/export/", views.export_usage, name="export-usage"),
    path("admin/defaults/", views.defaults, name="defaults"),
    path("admin/jobs/<int:pk>/", views.show_quota_job, name="show-quota-job"),
    path("usage/export/", views.export_project_usage, name="export-project-usage"),
    path("exports/<int:pk>/", views.show_export, name="show-export"),
    path("exports/<int:pk>/download/", views.download_export, name="download-export"),
]
