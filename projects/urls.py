from django.urls import path

from projects import views

app_name = "projects"
urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("overview/refresh-counts/", views.refresh_project_counts, name="refresh-project-counts"),
]
