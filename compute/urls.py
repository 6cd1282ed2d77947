from django.urls import path

from compute import views

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
