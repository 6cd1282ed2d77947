from django.urls import path

from compute import admin_views, views

app_name = "compute"

S = "servers/<str:server_id>/"
urlpatterns = [
    path("servers/", views.list_servers, name="list-servers"),
    path("servers/launch/", views.launch_server, name="launch-server"),
    path("servers/bulk/", views.act_on_servers, name="act-on-servers"),
    path(S, views.server_detail, name="server-detail"),
    path(S + "row/", views.server_row, name="server-row"),
    path(S + "actions/", views.server_actions, name="server-actions"),
    path(S + "edit/", views.update_server, name="update-server"),
    path(S + "snapshot/", views.create_server_image, name="create-server-image"),
    path(S + "pause/", views.pause_server, name="pause-server"),
    path(S + "unpause/", views.unpause_server, name="unpause-server"),
    path(S + "suspend/", views.suspend_server, name="suspend-server"),
    path(S + "resume/", views.resume_server, name="resume-server"),
    path(S + "shelve/", views.shelve_server, name="shelve-server"),
    path(S + "unshelve/", views.unshelve_server, name="unshelve-server"),
    path(S + "stop/", views.stop_server, name="stop-server"),
    path(S + "start/", views.start_server, name="start-server"),
    path(S + "reboot/", views.reboot_server, name="reboot-server"),
    path(S + "resize/", views.resize_server, name="resize-server"),
    path(S + "resize/confirm/", views.confirm_server_resize, name="confirm-server-resize"),
    path(S + "resize/revert/", views.revert_server_resize, name="revert-server-resize"),
    path(S + "rebuild/", views.rebuild_server, name="rebuild-server"),
    path(S + "lock/", views.lock_server, name="lock-server"),
    path(S + "unlock/", views.unlock_server, name="unlock-server"),
    path(S + "rescue/", views.rescue_server, name="rescue-server"),
    path(S + "unrescue/", views.unrescue_server, name="unrescue-server"),
    path(S + "floating-ip/", views.associate_floating_ip, name="associate-floating-ip"),
    path(
        S + "floating-ip/remove/",
        views.disassociate_floating_ip,
        name="disassociate-floating-ip",
    ),
    path(S + "interfaces/", views.create_server_interface, name="create-server-interface"),
    path(S + "interfaces/remove/", views.delete_server_interface, name="delete-server-interface"),
    path(S + "volumes/", views.create_volume_attachment, name="create-volume-attachment"),
    path(S + "volumes/remove/", views.delete_volume_attachment, name="delete-volume-attachment"),
    path(S + "delete/", views.delete_server, name="delete-server"),
    path("keypairs/", views.list_keypairs, name="list-keypairs"),
    path("keypairs/create/", views.create_keypair, name="create-keypair"),
    path("keypairs/import/", views.import_keypair, name="import-keypair"),
    path("keypairs/<str:name>/delete/", views.delete_keypair, name="delete-keypair"),
    path("server-groups/", views.list_server_groups, name="list-server-groups"),
    path("server-groups/create/", views.create_server_group, name="create-server-group"),
    path(
        "server-groups/<str:group_id>/delete/",
        views.delete_server_group,
        name="delete-server-group",
    ),
]

# --- admin ---------------------------------------------------------------------------------
A = "admin/"
urlpatterns += [
    path(A + "hypervisors/", admin_views.admin_hypervisors, name="admin-hypervisors"),
    path(A + "services/", admin_views.admin_services, name="admin-services"),
    path(
        A + "services/<str:service_id>/enable/", admin_views.enable_service, name="enable-service"
    ),
    path(
        A + "services/<str:service_id>/disable/",
        admin_views.disable_service,
        name="disable-service",
    ),
    path(
        A + "services/<str:service_id>/forced-down/",
        admin_views.update_service_forced_down,
        name="update-service-forced-down",
    ),
    path(A + "hosts/<str:host>/drain/", admin_views.drain_host, name="drain-host"),
    path(A + "hosts/<str:host>/evacuate/", admin_views.evacuate_host, name="evacuate-host"),
    path(A + "aggregates/", admin_views.admin_aggregates, name="admin-aggregates"),
    path(
        A + "aggregates/<str:aggregate_id>/delete/",
        admin_views.delete_aggregate,
        name="delete-aggregate",
    ),
    path(
        A + "aggregates/<str:aggregate_id>/hosts/",
        admin_views.add_host_to_aggregate,
        name="add-host-to-aggregate",
    ),
    path(
        A + "aggregates/<str:aggregate_id>/hosts/remove/",
        admin_views.remove_host_from_aggregate,
        name="remove-host-from-aggregate",
    ),
    path(
        A + "aggregates/<str:aggregate_id>/metadata/",
        admin_views.set_aggregate_metadata,
        name="set-aggregate-metadata",
    ),
    path(A + "flavors/", admin_views.list_flavors, name="list-flavors"),
    path(A + "flavors/create/", admin_views.create_flavor, name="create-flavor"),
    path(A + "flavors/<str:flavor_id>/", admin_views.flavor_detail, name="flavor-detail"),
    path(
        A + "flavors/<str:flavor_id>/extra-specs/",
        admin_views.update_flavor_extra_specs,
        name="update-flavor-extra-specs",
    ),
    path(
        A + "flavors/<str:flavor_id>/extra-specs/remove/",
        admin_views.delete_flavor_extra_spec,
        name="delete-flavor-extra-spec",
    ),
    path(
        A + "flavors/<str:flavor_id>/access/",
        admin_views.add_flavor_access,
        name="add-flavor-access",
    ),
    path(
        A + "flavors/<str:flavor_id>/access/remove/",
        admin_views.remove_flavor_access,
        name="remove-flavor-access",
    ),
    path(A + "flavors/<str:flavor_id>/delete/", admin_views.delete_flavor, name="delete-flavor"),
    path(A + "servers/", admin_views.admin_servers, name="admin-servers"),
    path(S + "admin-actions/", admin_views.admin_server_actions, name="admin-server-actions"),
    path(S + "live-migrate/", admin_views.live_migrate_server, name="live-migrate-server"),
    path(S + "migrate/", admin_views.migrate_server, name="migrate-server"),
    path(
        S + "migrations/<int:migration_id>/abort/",
        admin_views.abort_server_migration,
        name="abort-server-migration",
    ),
    path(
        S + "migrations/<int:migration_id>/force-complete/",
        admin_views.force_complete_server_migration,
        name="force-complete-server-migration",
    ),
    path(A + "migrations/", admin_views.admin_migrations, name="admin-migrations"),
    path(A + "operations/<int:pk>/", admin_views.host_operation, name="host-operation"),
    path(A + "health/", admin_views.admin_health, name="admin-health"),
]
