"""Identity (admins): projects with their members and groups, users, groups, roles and
domains; the quota pages they link to are quotas/'. Every view is admin_required; Keystone's
and the other services' policies still decide, and their refusals are shown in their own
words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.actions import attempt, confirm_page, done, form_page
from portal.concurrency import concurrently
from portal.errors import Rejected
from portal.gateways import gateway
from portal.identity import PortalRequest, admin_required, me, safe_next
from portal.kept import kept_for_page
from portal.preferences import paged
from projects.forms import (
    AssignRoleForm,
    DomainForm,
    GroupForm,
    GroupMemberForm,
    PasswordForm,
    ProjectFilterForm,
    ProjectForm,
    RoleForm,
    UserEditForm,
    UserForm,
)
from projects.gateway import Domain, ProjectsGateway

# What other apps do for a project just created, after Keystone made it: each is called with
# the request and the project's id. quotas/apps.py adds follow_network_defaults (the portal's
# network quota defaults); projects/ imports no other app.
AFTER_CREATE_PROJECT: list[Callable[[PortalRequest, str], None]] = []
PROJECTS_KEPT_SECONDS = 60  # Identity › Projects' list, as Admin › Instances keeps project names


def _enabled_flag(request: PortalRequest) -> bool:
    return request.POST.get("enabled") == "1"


# --- projects -----------------------------------------------------------------------------


@require_GET
@admin_required
def list_projects(request: PortalRequest) -> HttpResponse:
    """Every project (or the domain context's), a page of them at a time. Keystone cannot
    page or say what changed, so the list is kept briefly (portal/kept.py): the page says
    when it was read; ?fresh=1 reads again."""
    context = domain_context(request)
    domain_id = context.id if context else ""

    projects, note = kept_for_page(
        request,
        f"projects:projects:{domain_id}",
        lambda: gateway(request, ProjectsGateway).list_projects(domain_id),
        PROJECTS_KEPT_SECONDS,
        all_projects=True,
    )
    query = ProjectFilterForm(request.GET or None)
    rows, pages = paged(request, query.shown(projects))
    return render(
        request,
        "projects/projects.html",
        {
            "projects": rows,
            "query": query,
            "domain_context": context,
            **note,
            **pages,
        },
    )


@require_http_methods(["GET", "POST"])
@admin_required
def create_project(request: PortalRequest) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    context = domain_context(request)
    form = ProjectForm(request.POST or None, domains=[context] if context else gw.list_domains())
    if request.method == "POST" and form.is_valid():
        project = attempt(form, lambda: gw.create_project(**form.cleaned_data))
        if project is not None:
            for follow in AFTER_CREATE_PROJECT:
                follow(request, project.id)
            message = _("Project %(name)s created.") % {"name": project.name}
            return done(request, message, reverse("projects:show-project", args=[project.id]))
    return form_page(
        request,
        form,
        title=_("Create a project"),
        submit=_("Create"),
        cancel=reverse("projects:list-projects"),
    )


@require_GET
@admin_required
def show_project(request: PortalRequest, project_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    # Five independent Keystone reads at once.
    project, assignments, users, groups, roles = concurrently(
        lambda: gw.get_project(project_id),
        lambda: gw.list_role_assignments(project_id),
        gw.list_users,
        gw.list_groups,
        gw.list_roles,
    )
    context = {
        "project": project,
        "members": [a for a in assignments if a.user_id],
        "group_roles": [a for a in assignments if a.group_id],
        "member_form": AssignRoleForm(actors=users, roles=roles, actor_label=_("User")),
        "group_form": AssignRoleForm(actors=groups, roles=roles, actor_label=_("Group"))
        if groups
        else None,
    }
    return render(request, "projects/project.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def update_project(request: PortalRequest, project_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    project = gw.get_project(project_id)
    initial = {"name": project.name, "description": project.description, "enabled": project.enabled}
    form = ProjectForm(request.POST or None, domains=None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: gw.update_project(project_id, **form.changes()))
        if saved is not None:
            message = _("Project %(name)s saved.") % {"name": form.cleaned_data["name"]}
            return done(request, message, reverse("projects:show-project", args=[project_id]))
    title = _("Edit project %(name)s") % {"name": project.name}
    back = reverse("projects:show-project", args=[project_id])
    return form_page(request, form, title=title, submit=_("Save"), cancel=back)


@require_POST
@admin_required
def update_project_enabled(request: PortalRequest, project_id: str) -> HttpResponse:
    enabled = _enabled_flag(request)
    try:
        project = gateway(request, ProjectsGateway).update_project(project_id, is_enabled=enabled)
    except Rejected as exc:
        messages.error(request, exc.message)
    else:
        text = _("Project %(name)s enabled.") if enabled else _("Project %(name)s disabled.")
        messages.success(request, text % {"name": project.name})
    return redirect("projects:list-projects")


@require_http_methods(["GET", "POST"])
@admin_required
def delete_project(request: PortalRequest, project_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    project = gw.get_project(project_id)
    back = reverse("projects:show-project", args=[project_id])
    return confirm_page(
        request,
        title=_("Delete project %(name)s") % {"name": project.name},
        intro=_(
            "Delete project %(name)s? Its members lose access. Resources still in it (instances, "
            "volumes, networks) are not deleted and can no longer be managed from the portal."
        )
        % {"name": project.name},
        submit=_("Delete"),
        cancel=back,
        perform=lambda: gw.delete_project(project_id),
        done_message=_("Project %(name)s deleted.") % {"name": project.name},
        then=reverse("projects:list-projects"),
        on_refusal=back,
    )


def _assignment(request: PortalRequest, project_id: str, kind: str, assign: bool) -> HttpResponse:
    """Give or take a user's or a group's role on a project (POST actor_id, role_id)."""
    gw = gateway(request, ProjectsGateway)
    actor_id, role_id = request.POST.get("actor_id", ""), request.POST.get("role_id", "")
    if not actor_id or not role_id:
        messages.error(request, _("Choose who and which role."))
        return redirect("projects:show-project", project_id)
    calls = {
        ("user", True): gw.assign_project_role_to_user,
        ("user", False): gw.unassign_project_role_from_user,
        ("group", True): gw.assign_project_role_to_group,
        ("group", False): gw.unassign_project_role_from_group,
    }
    try:
        calls[(kind, assign)](project_id, actor_id, role_id)
    except Rejected as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Role given.") if assign else _("Role removed."))
    return redirect("projects:show-project", project_id)


@require_POST
@admin_required
def assign_project_role_to_user(request: PortalRequest, project_id: str) -> HttpResponse:
    return _assignment(request, project_id, "user", True)


@require_POST
@admin_required
def unassign_project_role_from_user(request: PortalRequest, project_id: str) -> HttpResponse:
    return _assignment(request, project_id, "user", False)


@require_POST
@admin_required
def assign_project_role_to_group(request: PortalRequest, project_id: str) -> HttpResponse:
    return _assignment(request, project_id, "group", True)


@require_POST
@admin_required
def unassign_project_role_from_group(request: PortalRequest, project_id: str) -> HttpResponse:
    return _assignment(request, project_id, "group", False)


# --- users --------------------------------------------------------------------------------


@require_GET
@admin_required
def list_users(request: PortalRequest) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    context = domain_context(request)
    users, projects = concurrently(
        lambda: gw.list_users(context.id if context else ""), gw.list_projects
    )
    names = {p.id: p.name for p in projects}
    rows = [(u, names.get(u.default_project_id, u.default_project_id)) for u in users]
    return render(request, "projects/users.html", {"users": rows, "domain_context": context})


@require_http_methods(["GET", "POST"])
@admin_required
def create_user(request: PortalRequest) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    if context := domain_context(request):  # users made in the context domain, its projects
        projects, roles = concurrently(lambda: gw.list_projects(context.id), gw.list_roles)
        domains = [context]
    else:
        domains, projects, roles = concurrently(gw.list_domains, gw.list_projects, gw.list_roles)
    form = UserForm(request.POST or None, domains=domains, projects=projects, roles=roles)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        user = attempt(
            form,
            lambda: gw.create_user(
                name=data["name"],
                email=data["email"],
                password=data["password"],
                domain_id=data["domain_id"],
                default_project_id=data["default_project_id"],
                enabled=data["enabled"],
            ),
        )
        if user is not None:
            if data["role_id"]:
                gw.assign_project_role_to_user(data["default_project_id"], user.id, data["role_id"])
            message = _("User %(name)s created.") % {"name": user.name}
            return done(request, message, reverse("projects:list-users"))
    title, back = _("Create a user"), reverse("projects:list-users")
    return form_page(request, form, title=title, submit=_("Create"), cancel=back)


@require_http_methods(["GET", "POST"])
@admin_required
def update_user(request: PortalRequest, user_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    user, projects = concurrently(lambda: gw.get_user(user_id), gw.list_projects)
    initial = {
        "name": user.name,
        "email": user.email,
        "description": user.description,
        "default_project_id": user.default_project_id,
    }
    form = UserEditForm(request.POST or None, projects=projects, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: gw.update_user(user_id, **form.changes()))
        if saved is not None:
            message = _("User %(name)s saved.") % {"name": form.cleaned_data["name"]}
            return done(request, message, reverse("projects:list-users"))
    title = _("Edit user %(name)s") % {"name": user.name}
    return form_page(
        request, form, title=title, submit=_("Save"), cancel=reverse("projects:list-users")
    )


@require_http_methods(["GET", "POST"])
@admin_required
def update_user_password(request: PortalRequest, user_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    user = gw.get_user(user_id)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password"]
        if attempt(form, lambda: gw.update_user(user_id, password=password), "password"):
            message = _("Password of %(name)s changed.") % {"name": user.name}
            return done(request, message, reverse("projects:list-users"))
    title = _("Change the password of %(name)s") % {"name": user.name}
    back = reverse("projects:list-users")
    return form_page(request, form, title=title, submit=_("Change password"), cancel=back)


@require_POST
@admin_required
def update_user_enabled(request: PortalRequest, user_id: str) -> HttpResponse:
    enabled = _enabled_flag(request)
    if user_id == me(request).user_id and not enabled:
        messages.error(request, _("You cannot disable yourself."))
        return redirect("projects:list-users")
    try:
        user = gateway(request, ProjectsGateway).update_user(user_id, is_enabled=enabled)
    except Rejected as exc:
        messages.error(request, exc.message)
    else:
        text = _("User %(name)s enabled.") if enabled else _("User %(name)s disabled.")
        messages.success(request, text % {"name": user.name})
    return redirect("projects:list-users")


@require_http_methods(["GET", "POST"])
@admin_required
def delete_user(request: PortalRequest, user_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    user = gw.get_user(user_id)
    if user_id == me(request).user_id:
        messages.error(request, _("You cannot delete yourself."))
        return redirect("projects:list-users")
    back = reverse("projects:list-users")
    return confirm_page(
        request,
        title=_("Delete user %(name)s") % {"name": user.name},
        intro=_("Delete user %(name)s? They can no longer sign in; their roles are removed.")
        % {"name": user.name},
        submit=_("Delete"),
        cancel=back,
        perform=lambda: gw.delete_user(user_id),
        done_message=_("User %(name)s deleted.") % {"name": user.name},
        then=back,
        on_refusal=back,
    )


# --- groups -------------------------------------------------------------------------------


@require_GET
@admin_required
def list_groups(request: PortalRequest) -> HttpResponse:
    groups = gateway(request, ProjectsGateway).list_groups()
    return render(request, "projects/groups.html", {"groups": groups})


@require_http_methods(["GET", "POST"])
@admin_required
def create_group(request: PortalRequest) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    form = GroupForm(request.POST or None, domains=gw.list_domains())
    if request.method == "POST" and form.is_valid():
        group = attempt(form, lambda: gw.create_group(**form.cleaned_data))
        if group is not None:
            message = _("Group %(name)s created.") % {"name": group.name}
            return done(request, message, reverse("projects:show-group", args=[group.id]))
    title, back = _("Create a group"), reverse("projects:list-groups")
    return form_page(request, form, title=title, submit=_("Create"), cancel=back)


@require_GET
@admin_required
def show_group(request: PortalRequest, group_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    group, members, users = concurrently(
        lambda: gw.get_group(group_id), lambda: gw.list_group_users(group_id), gw.list_users
    )
    inside = {u.id for u in members}
    form = GroupMemberForm(users=[u for u in users if u.id not in inside])
    return render(
        request, "projects/group.html", {"group": group, "members": members, "form": form}
    )


@require_http_methods(["GET", "POST"])
@admin_required
def update_group(request: PortalRequest, group_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    group = gw.get_group(group_id)
    initial = {"name": group.name, "description": group.description}
    form = GroupForm(request.POST or None, domains=None, initial=initial)
    back = reverse("projects:show-group", args=[group_id])
    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: gw.update_group(group_id, **form.cleaned_data))
        if saved is not None:
            message = _("Group %(name)s saved.") % {"name": form.cleaned_data["name"]}
            return done(request, message, back)
    title = _("Edit group %(name)s") % {"name": group.name}
    return form_page(request, form, title=title, submit=_("Save"), cancel=back)


def _membership(request: PortalRequest, group_id: str, add: bool) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    user_id = request.POST.get("user_id", "")
    if not user_id:
        messages.error(request, _("Choose a user."))
        return redirect("projects:show-group", group_id)
    try:
        if add:
            gw.add_user_to_group(user_id, group_id)
        else:
            gw.remove_user_from_group(user_id, group_id)
    except Rejected as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("User added to the group.") if add else _("User removed from the group.")
        )
    return redirect("projects:show-group", group_id)


@require_POST
@admin_required
def add_user_to_group(request: PortalRequest, group_id: str) -> HttpResponse:
    return _membership(request, group_id, True)


@require_POST
@admin_required
def remove_user_from_group(request: PortalRequest, group_id: str) -> HttpResponse:
    return _membership(request, group_id, False)


@require_http_methods(["GET", "POST"])
@admin_required
def delete_group(request: PortalRequest, group_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    group = gw.get_group(group_id)
    back = reverse("projects:show-group", args=[group_id])
    return confirm_page(
        request,
        title=_("Delete group %(name)s") % {"name": group.name},
        intro=_("Delete group %(name)s? Its members lose the roles they had through it.")
        % {"name": group.name},
        submit=_("Delete"),
        cancel=back,
        perform=lambda: gw.delete_group(group_id),
        done_message=_("Group %(name)s deleted.") % {"name": group.name},
        then=reverse("projects:list-groups"),
        on_refusal=back,
    )


# --- roles --------------------------------------------------------------------------------


@require_GET
@admin_required
def list_roles(request: PortalRequest) -> HttpResponse:
    roles = gateway(request, ProjectsGateway).list_roles()
    return render(request, "projects/roles.html", {"roles": roles})


@require_http_methods(["GET", "POST"])
@admin_required
def create_role(request: PortalRequest) -> HttpResponse:
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        gw = gateway(request, ProjectsGateway)
        role = attempt(form, lambda: gw.create_role(name=form.cleaned_data["name"]))
        if role is not None:
            message = _("Role %(name)s created.") % {"name": role.name}
            return done(request, message, reverse("projects:list-roles"))
    title, back = _("Create a role"), reverse("projects:list-roles")
    return form_page(request, form, title=title, submit=_("Create"), cancel=back)


@require_http_methods(["GET", "POST"])
@admin_required
def delete_role(request: PortalRequest, role_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    role = next((r for r in gw.list_roles() if r.id == role_id), None)
    if role is None:
        messages.error(request, _("That role no longer exists."))
        return redirect("projects:list-roles")
    back = reverse("projects:list-roles")
    return confirm_page(
        request,
        title=_("Delete role %(name)s") % {"name": role.name},
        intro=_("Delete role %(name)s? Everyone who holds it, anywhere, loses it.")
        % {"name": role.name},
        submit=_("Delete"),
        cancel=back,
        perform=lambda: gw.delete_role(role_id),
        done_message=_("Role %(name)s deleted.") % {"name": role.name},
        then=back,
        on_refusal=back,
    )


# --- domains ------------------------------------------------------------------------------

# The admin's domain context: {"id", "name"} of the domain the Identity pages (projects and
# users, their lists and creation) work in; absent: every domain.
SESSION_DOMAIN_CONTEXT = "stackdesk.domain_context"


def domain_context(request: PortalRequest) -> Domain | None:
    data = request.session.get(SESSION_DOMAIN_CONTEXT)
    return Domain(data["id"], data["name"]) if data else None


@require_GET
@admin_required
def list_domains(request: PortalRequest) -> HttpResponse:
    domains = gateway(request, ProjectsGateway).list_domains()
    context = {"domains": domains, "domain_context": domain_context(request)}
    return render(request, "projects/domains.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def create_domain(request: PortalRequest) -> HttpResponse:
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        gw = gateway(request, ProjectsGateway)
        domain = attempt(form, lambda: gw.create_domain(**form.cleaned_data))
        if domain is not None:
            message = _("Domain %(name)s created.") % {"name": domain.name}
            return done(request, message, reverse("projects:list-domains"))
    title, back = _("Create a domain"), reverse("projects:list-domains")
    return form_page(request, form, title=title, submit=_("Create"), cancel=back)


@require_POST
@admin_required
def update_domain_enabled(request: PortalRequest, domain_id: str) -> HttpResponse:
    enabled = _enabled_flag(request)
    try:
        domain = gateway(request, ProjectsGateway).update_domain(domain_id, is_enabled=enabled)
    except Rejected as exc:
        messages.error(request, exc.message)
    else:
        text = _("Domain %(name)s enabled.") if enabled else _("Domain %(name)s disabled.")
        messages.success(request, text % {"name": domain.name})
    return redirect("projects:list-domains")


@require_http_methods(["GET", "POST"])
@admin_required
def delete_domain(request: PortalRequest, domain_id: str) -> HttpResponse:
    gw = gateway(request, ProjectsGateway)
    domain = gw.get_domain(domain_id)

    def perform() -> None:
        gw.delete_domain(domain_id)  # Keystone refuses an enabled domain, in its own words
        if (context := domain_context(request)) and context.id == domain_id:
            del request.session[SESSION_DOMAIN_CONTEXT]

    back = reverse("projects:list-domains")
    return confirm_page(
        request,
        title=_("Delete domain %(name)s") % {"name": domain.name},
        intro=_("Delete domain %(name)s? Keystone deletes its projects, users and groups with it.")
        % {"name": domain.name},
        submit=_("Delete"),
        cancel=back,
        perform=perform,
        done_message=_("Domain %(name)s deleted.") % {"name": domain.name},
        then=back,
        on_refusal=back,
    )


@require_POST
@admin_required
def set_domain_context(request: PortalRequest) -> HttpResponse:
    domain_id = request.POST.get("domain_id", "")
    domain = next(
        (d for d in gateway(request, ProjectsGateway).list_domains() if d.id == domain_id), None
    )
    if domain is None:
        messages.error(request, _("That domain does not exist."))
        return redirect("projects:list-domains")
    request.session[SESSION_DOMAIN_CONTEXT] = {"id": domain.id, "name": domain.name}
    messages.success(
        request,
        _("The Identity pages now show and create projects and users in domain %(name)s.")
        % {"name": domain.name},
    )
    return redirect("projects:list-projects")


@require_POST
@admin_required
def clear_domain_context(request: PortalRequest) -> HttpResponse:
    request.session.pop(SESSION_DOMAIN_CONTEXT, None)
    messages.success(request, _("The Identity pages show every domain again."))
    return redirect(
        safe_next(request, request.POST.get("next")) or reverse("projects:list-domains")
    )
