from django.urls import URLPattern, URLResolver

app_name = "images"
urlpatterns: list[URLPattern | URLResolver] = []
