from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("admin/health/", views.admin_health, name="admin-health"),
]
