from django.urls import URLPattern, URLResolver, path

from volumes import admin_views as a
from volumes import views

app_name = "volumes"
V = "<str:volume_id>/"
A = "admin/"
TYPE = A + "types/<str:type_id>/"
QOS = A + "qos/<str:qos_id>/"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.list_volumes, name="list-volumes"),
    path("create/", views.create_volume, name="create-volume"),
    path("delete/", views.delete_volumes, name="delete-volumes"),
    path("snapshots/", views.list_snapshots, name="list-snapshots"),
    path("snapshots/<str:snapshot_id>/edit/", views.update_snapshot, name="update-snapshot"),
    path("snapshots/<str:snapshot_id>/delete/", views.delete_snapshot, name="delete-snapshot"),
    path("backups/", views.list_backups, name="list-backups"),
    path("backups/<str:backup_id>/restore/", views.restore_backup, name="restore-backup"),
    path("backups/<str:backup_id>/delete/", views.delete_backup, name="delete-backup"),
    path("transfers/", views.list_transfers, name="list-transfers"),
    path("transfers/accept/", views.accept_transfer, name="accept-transfer"),
    path("transfers/<str:transfer_id>/delete/", views.delete_transfer, name="delete-transfer"),
    # administrators (before V: "admin" would be taken for a volume id)
    path(A + "volumes/", a.admin_volumes, name="admin-volumes"),
    path(A + "volumes/" + V + "reset-status/", a.reset_volume_status, name="reset-volume-status"),
    path(A + "types/", a.admin_volume_types, name="admin-volume-types"),
    path(A + "types/create/", a.create_volume_type, name="create-volume-type"),
    path(TYPE, a.get_volume_type, name="get-volume-type"),
    path(
        TYPE + "extra-specs/",
        a.update_volume_type_extra_specs,
        name="update-volume-type-extra-specs",
    ),
    path(
        TYPE + "extra-specs/delete/",
        a.delete_volume_type_extra_spec,
        name="delete-volume-type-extra-spec",
    ),
    path(TYPE + "access/add/", a.add_volume_type_access, name="add-volume-type-access"),
    path(TYPE + "access/remove/", a.remove_volume_type_access, name="remove-volume-type-access"),
    path(TYPE + "delete/", a.delete_volume_type, name="delete-volume-type"),
    path(A + "qos/", a.admin_qos_specs, name="admin-qos-specs"),
    path(A + "qos/create/", a.create_qos_spec, name="create-qos-spec"),
    path(QOS + "associate/", a.associate_qos_spec, name="associate-qos-spec"),
    path(QOS + "disassociate/", a.disassociate_qos_spec, name="disassociate-qos-spec"),
    path(QOS + "delete/", a.delete_qos_spec, name="delete-qos-spec"),
    path(A + "pools/", a.admin_storage_pools, name="admin-storage-pools"),
    path(A + "services/", a.admin_volume_services, name="admin-volume-services"),
    path(A + "services/enable/", a.enable_volume_service, name="enable-volume-service"),
    path(A + "services/disable/", a.disable_volume_service, name="disable-volume-service"),
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
