from django.urls import URLPattern, URLResolver, path

from volumes import views

app_name = "volumes"
V = "<str:volume_id>/"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.list_volumes, name="list-volumes"),
    path("create/", views.create_volume, name="create-volume"),
    path("delete/", views.delete_volumes, name="delete-volumes"),
    path("snapshots/", views.list_snapshots, name="list-snapshots"),
    path("snapshots/<str:snapshot_id>/delete/", views.delete_snapshot, name="delete-snapshot"),
    path("backups/", views.list_backups, name="list-backups"),
    path("backups/<str:backup_id>/restore/", views.restore_backup, name="restore-backup"),
    path("backups/<str:backup_id>/delete/", views.delete_backup, name="delete-backup"),
    path("transfers/", views.list_transfers, name="list-transfers"),
    path("transfers/accept/", views.accept_transfer, name="accept-transfer"),
    path("transfers/<str:transfer_id>/delete/", views.delete_transfer, name="delete-transfer"),
    path(V, views.get_volume, name="get-volume"),
    path(V + "edit/", views.update_volume, name="update-volume"),
    path(V + "extend/", views.extend_volume, name="extend-volume"),
    path(V + "retype/", views.retype_volume, name="retype-volume"),
    path(V + "upload/", views.upload_volume_to_image, name="upload-volume-to-image"),
    path(V + "attach/", views.attach_volume, name="attach-volume"),
    path(V + "detach/", views.detach_volume, name="detach-volume"),
    path(V + "delete/", views.delete_volume, name="delete-volume"),
    path(V + "snapshots/create/", views.create_snapshot, name="create-snapshot"),
    path(V + "backups/create/", views.create_backup, name="create-backup"),
    path(V + "transfers/create/", views.create_transfer, name="create-transfer"),
]
