from django.urls import path

from capacity import views

app_name = "capacity"
urlpatterns = [
    path("admin/capacity/", views.admin_capacity, name="admin-capacity"),
    path("admin/capacity/chart.svg", views.show_capacity_chart, name="show-capacity-chart"),
    path("admin/capacity/export.csv", views.export_capacity, name="export-capacity"),
    path("project/capacity/", views.show_project_trends, name="show-project-trends"),
    path("project/capacity/chart.svg", views.show_project_chart, name="show-project-chart"),
    path("project/capacity/export.csv", views.export_project_trends, name="export-project-trends"),
]
