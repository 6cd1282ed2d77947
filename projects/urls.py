from django.urls import path

from projects import account, admin_views, api_access, views

app_name = "projects"
urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("overview/refresh-counts/", views.refresh_project_counts, name="refresh-project-counts"),
    path("api-access/", api_access.api_access, name="api-access"),
    path("api-access/clouds.yaml", api_access.download_clouds_yaml, name="download-clouds-yaml"),
    path("api-access/openrc", api_access.download_openrc, name="download-openrc"),
    path("app-credentials/", views.list_app_credentials, name="list-app-credentials"),
    path("app-credentials/create/", views.create_app_credential, name="create-app-credential"),
    path(
        "app-credentials/<str:credential_id>/delete/",
        views.delete_app_credential,
        name="delete-app-credential",
    ),
    # Identity (admins)
    path("identity/projects/", admin_views.list_projects, name="list-projects"),
    path("identity/projects/create/", admin_views.create_project, name="create-project"),
    path("identity/projects/<str:project_id>/", admin_views.show_project, name="show-project"),
    path(
        "identity/projects/<str:project_id>/edit/",
        admin_views.update_project,
        name="update-project",
    ),
    path(
        "identity/projects/<str:project_id>/enabled/",
        admin_views.update_project_enabled,
        name="update-project-enabled",
    ),
    path(
        "identity/projects/<str:project_id>/delete/",
        admin_views.delete_project,
        name="delete-project",
    ),
    path(
        "identity/projects/<str:project_id>/users/",
        admin_views.assign_project_role_to_user,
        name="assign-project-role-to-user",
    ),
    path(
        "identity/projects/<str:project_id>/users/remove/",
        admin_views.unassign_project_role_from_user,
        name="unassign-project-role-from-user",
    ),
    path(
        "identity/projects/<str:project_id>/groups/",
        admin_views.assign_project_role_to_group,
        name="assign-project-role-to-group",
    ),
    path(
        "identity/projects/<str:project_id>/groups/remove/",
        admin_views.unassign_project_role_from_group,
        name="unassign-project-role-from-group",
    ),
    path("identity/users/", admin_views.list_users, name="list-users"),
    path("identity/users/create/", admin_views.create_user, name="create-user"),
    path("identity/users/<str:user_id>/edit/", admin_views.update_user, name="update-user"),
    path(
        "identity/users/<str:user_id>/password/",
        admin_views.update_user_password,
        name="update-user-password",
    ),
    path(
        "identity/users/<str:user_id>/enabled/",
        admin_views.update_user_enabled,
        name="update-user-enabled",
    ),
    path("identity/users/<str:user_id>/delete/", admin_views.delete_user, name="delete-user"),
    path("identity/groups/", admin_views.list_groups, name="list-groups"),
    path("identity/groups/create/", admin_views.create_group, name="create-group"),
    path("identity/groups/<str:group_id>/", admin_views.show_group, name="show-group"),
    path("identity/groups/<str:group_id>/edit/", admin_views.update_group, name="update-group"),
    path(
        "identity/groups/<str:group_id>/users/",
        admin_views.add_user_to_group,
        name="add-user-to-group",
    ),
    path(
        "identity/groups/<str:group_id>/users/remove/",
        admin_views.remove_user_from_group,
        name="remove-user-from-group",
    ),
    path("identity/groups/<str:group_id>/delete/", admin_views.delete_group, name="delete-group"),
    path("identity/roles/", admin_views.list_roles, name="list-roles"),
    path("identity/roles/create/", admin_views.create_role, name="create-role"),
    path("identity/roles/<str:role_id>/delete/", admin_views.delete_role, name="delete-role"),
    path("identity/domains/", admin_views.list_domains, name="list-domains"),
    path("identity/domains/create/", admin_views.create_domain, name="create-domain"),
    path("identity/domains/context/", admin_views.set_domain_context, name="set-domain-context"),
    path(
        "identity/domains/context/clear/",
        admin_views.clear_domain_context,
        name="clear-domain-context",
    ),
    path(
        "identity/domains/<str:domain_id>/enabled/",
        admin_views.update_domain_enabled,
        name="update-domain-enabled",
    ),
    path(
        "identity/domains/<str:domain_id>/delete/", admin_views.delete_domain, name="delete-domain"
    ),
    # the signed-in user's own password (reached from Settings)
    path("password/", account.update_password, name="update-password"),
]
