from django.urls import URLPattern, URLResolver, path

from network import views

app_name = "network"
urlpatterns: list[URLPattern | URLResolver] = [
    path("topology/", views.topology, name="topology"),
    # networks, subnets, ports
    path("networks/", views.list_networks, name="list-networks"),
    path("networks/create/", views.create_network, name="create-network"),
    path("networks/<str:network_id>/", views.network_detail, name="network-detail"),
    path("networks/<str:network_id>/edit/", views.update_network, name="update-network"),
    path("networks/<str:network_id>/delete/", views.delete_network, name="delete-network"),
    path(
        "networks/<str:network_id>/subnets/create/",
        views.create_subnet,
        name="create-subnet",
    ),
    path(
        "networks/<str:network_id>/subnets/<str:subnet_id>/edit/",
        views.update_subnet,
        name="update-subnet",
    ),
    path(
        "networks/<str:network_id>/subnets/<str:subnet_id>/delete/",
        views.delete_subnet,
        name="delete-subnet",
    ),
    path("networks/<str:network_id>/ports/create/", views.create_port, name="create-port"),
    path(
        "networks/<str:network_id>/ports/<str:port_id>/delete/",
        views.delete_port,
        name="delete-port",
    ),
    # routers
    path("routers/", views.list_routers, name="list-routers"),
    path("routers/create/", views.create_router, name="create-router"),
    path("routers/<str:router_id>/", views.router_detail, name="router-detail"),
    path("routers/<str:router_id>/edit/", views.update_router, name="update-router"),
    path("routers/<str:router_id>/delete/", views.delete_router, name="delete-router"),
    path("routers/<str:router_id>/gateway/", views.set_router_gateway, name="set-router-gateway"),
    path(
        "routers/<str:router_id>/gateway/clear/",
        views.clear_router_gateway,
        name="clear-router-gateway",
    ),
    path(
        "routers/<str:router_id>/interfaces/add/",
        views.add_interface_to_router,
        name="add-interface-to-router",
    ),
    path(
        "routers/<str:router_id>/interfaces/remove/",
        views.remove_interface_from_router,
        name="remove-interface-from-router",
    ),
    path(
        "routers/<str:router_id>/routes/add/",
        views.add_extra_routes_to_router,
        name="add-extra-routes-to-router",
    ),
    path(
        "routers/<str:router_id>/routes/remove/",
        views.remove_extra_routes_from_router,
        name="remove-extra-routes-from-router",
    ),
    # security groups
    path("security-groups/", views.list_security_groups, name="list-security-groups"),
    path("security-groups/create/", views.create_security_group, name="create-security-group"),
    path(
        "security-groups/<str:group_id>/",
        views.security_group_detail,
        name="security-group-detail",
    ),
    path(
        "security-groups/<str:group_id>/edit/",
        views.update_security_group,
        name="update-security-group",
    ),
    path(
        "security-groups/<str:group_id>/delete/",
        views.delete_security_group,
        name="delete-security-group",
    ),
    path(
        "security-groups/<str:group_id>/rules/create/",
        views.create_security_group_rule,
        name="create-security-group-rule",
    ),
    path(
        "security-groups/<str:group_id>/rules/<str:rule_id>/delete/",
        views.delete_security_group_rule,
        name="delete-security-group-rule",
    ),
    # floating IPs
    path("floating-ips/", views.list_floating_ips, name="list-floating-ips"),
    path("floating-ips/allocate/", views.create_floating_ip, name="create-floating-ip"),
    path(
        "floating-ips/<str:floating_ip_id>/associate/",
        views.associate_floating_ip,
        name="associate-floating-ip",
    ),
    path(
        "floating-ips/<str:floating_ip_id>/disassociate/",
        views.disassociate_floating_ip,
        name="disassociate-floating-ip",
    ),
    path(
        "floating-ips/<str:floating_ip_id>/release/",
        views.delete_floating_ip,
        name="delete-floating-ip",
    ),
    # admin
    path("admin/networks/", views.admin_networks, name="admin-networks"),
    path("admin/networks/create/", views.admin_create_network, name="admin-create-network"),
    path("admin/routers/", views.admin_routers, name="admin-routers"),
    path("admin/floating-ips/", views.admin_floating_ips, name="admin-floating-ips"),
]
