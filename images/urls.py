from django.urls import URLPattern, URLResolver, path

from images import views

app_name = "images"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.list_images, name="list-images"),
    path("admin/", views.admin_images, name="admin-images"),
    path("create/", views.create_image, name="create-image"),
    path("delete/", views.delete_images, name="delete-images"),
    path("uploads/<uuid:upload_id>/", views.get_upload, name="get-upload"),
    path("uploads/<uuid:upload_id>/chunk/", views.receive_chunk, name="receive-chunk"),
    path("uploads/<uuid:upload_id>/resume/", views.resume_upload, name="resume-upload"),
    path("uploads/<uuid:upload_id>/cancel/", views.cancel_upload, name="cancel-upload"),
    path("<str:image_id>/", views.get_image, name="get-image"),
    path("<str:image_id>/edit/", views.update_image, name="update-image"),
    path("<str:image_id>/protect/", views.protect_image, name="protect-image"),
    path("<str:image_id>/unprotect/", views.unprotect_image, name="unprotect-image"),
    path("<str:image_id>/delete/", views.delete_image, name="delete-image"),
    path("<str:image_id>/create-volume/", views.create_volume, name="create-volume"),
]
