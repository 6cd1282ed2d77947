"""The Identity and API Access forms as `openstack` commands and openstack.cloud tasks."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.as_code import Code, Draft, placeholder, writes

PASSWORD = placeholder("password")  # never the typed one: the reader puts theirs in


def _enable(enabled: bool) -> dict[str, bool]:
    return {"enable": enabled, "disable": not enabled}


# --- application credentials --------------------------------------------------------------


@writes("projects:create-app-credential")
def create_app_credential(draft: Draft) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    expires = draft.text("expires_at").replace(" ", "T") or None
    if expires and len(expires) == len("2026-12-31T23:59"):
        expires += ":00"  # the CLI and the module want seconds
    roles, unrestricted = draft.all("roles"), draft.flag("unrestricted")
    return Code(
        commands=(
            draft.openstack(
                "application credential create",
                name,
                description=description,
                expiration=expires,
                role=roles,
                unrestricted=unrestricted,
            ),
        ),
        tasks=(
            draft.task(
                "application_credential",
                _("Create the application credential"),
                name=name,
                description=description,
                expires_at=expires,
                roles=[{"name": r} for r in roles] or None,
                unrestricted=unrestricted,
                state="present",
            ),
        ),
        note=_(
            "Keystone makes the secret and shows it once, in the command's or the task's "
            "output; run again, the task replaces the credential with a new one (a new secret). "
            "The portal reads the expiry in your time zone; the command reads it as UTC."
        ),
    )


@writes("projects:delete-app-credential")
def delete_app_credential(draft: Draft, credential_id: str) -> Code:
    return Code(
        commands=(draft.openstack("application credential delete", credential_id),),
        note=_(
            "openstack.cloud.application_credential finds a credential by its name: "
            "give its name with state: absent."
        ),
    )


# --- projects -----------------------------------------------------------------------------


@writes("projects:create-project")
def create_project(draft: Draft) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    domain, enabled = draft.text("domain_id") or None, draft.flag("enabled")
    return Code(
        commands=(
            draft.openstack(
                "project create", name, domain=domain, description=description, **_enable(enabled)
            ),
        ),
        tasks=(
            draft.task(
                "project",
                _("Create the project"),
                name=name,
                description=description,
                domain=domain,
                is_enabled=enabled,
                state="present",
            ),
        ),
    )


@writes("projects:update-project")
def update_project(draft: Draft, project_id: str) -> Code:
    name, description, enabled = (
        draft.text("name"),
        draft.text("description"),
        draft.flag("enabled"),
    )
    return Code(
        commands=(
            draft.openstack(
                "project set",
                project_id,
                name=name,
                description=description,
                **_enable(enabled),
            ),
        ),
        tasks=(
            draft.task(
                "project",
                _("Update the project"),
                name=project_id,
                description=description,
                is_enabled=enabled,
                state="present",
            ),
        ),
        note=_("openstack.cloud.project cannot rename a project: the command can."),
    )


@writes("projects:update-project-enabled")
def update_project_enabled(draft: Draft, project_id: str) -> Code:
    enabled = draft.text("enabled") == "1"
    return Code(
        commands=(draft.openstack("project set", project_id, **_enable(enabled)),),
        tasks=(
            draft.task(
                "project",
                _("Enable the project") if enabled else _("Disable the project"),
                name=project_id,
                is_enabled=enabled,
                state="present",
            ),
        ),
    )


@writes("projects:delete-project")
def delete_project(draft: Draft, project_id: str) -> Code:
    return Code(
        commands=(draft.openstack("project delete", project_id),),
        tasks=(draft.task("project", _("Delete the project"), name=project_id, state="absent"),),
    )


def placeholder_project() -> str:
    return placeholder("project_id")


def _assignment(draft: Draft, project_id: str, kind: str, assign: bool) -> Code:
    actor, role = draft.need("actor_id"), draft.need("role_id")
    words = "role add" if assign else "role remove"
    title = _("Give the role") if assign else _("Take the role away")
    return Code(
        commands=(draft.openstack(words, role, project=project_id, **{kind: actor}),),
        tasks=(
            draft.task(
                "role_assignment",
                title,
                project=project_id,
                role=role,
                state="present" if assign else "absent",
                **{kind: actor},
            ),
        ),
    )


@writes("projects:assign-project-role-to-user")
def assign_project_role_to_user(draft: Draft, project_id: str) -> Code:
    return _assignment(draft, project_id, "user", True)


@writes("projects:unassign-project-role-from-user")
def unassign_project_role_from_user(draft: Draft, project_id: str) -> Code:
    return _assignment(draft, project_id, "user", False)


@writes("projects:assign-project-role-to-group")
def assign_project_role_to_group(draft: Draft, project_id: str) -> Code:
    return _assignment(draft, project_id, "group", True)


@writes("projects:unassign-project-role-from-group")
def unassign_project_role_from_group(draft: Draft, project_id: str) -> Code:
    return _assignment(draft, project_id, "group", False)


# --- users --------------------------------------------------------------------------------


@writes("projects:create-user")
def create_user(draft: Draft) -> Code:
    name, domain = draft.need("name"), draft.text("domain_id") or None
    email, project = draft.text("email") or None, draft.text("default_project_id") or None
    role, enabled = draft.text("role_id"), draft.flag("enabled")
    commands = [
        draft.openstack(
            "user create",
            name,
            domain=domain,
            project=project,
            password=PASSWORD,
            email=email,
            **_enable(enabled),
        )
    ]
    tasks = [
        draft.task(
            "identity_user",
            _("Create the user"),
            name=name,
            password=PASSWORD,
            email=email,
            domain=domain,
            default_project=project,
            is_enabled=enabled,
            state="present",
        )
    ]
    if role:
        commands.append(
            draft.openstack(
                "role add",
                role,
                project=project or placeholder_project(),
                user=name,
                user_domain=domain,
            )
        )
        tasks.append(
            draft.task(
                "role_assignment",
                _("Give the user the role in the primary project"),
                user=name,
                user_domain=domain,
                project=project or placeholder_project(),
                role=role,
                state="present",
            )
        )
    return Code(
        commands=tuple(commands),
        tasks=tuple(tasks),
        note=_("Put the user's password in place of <password> (or use --password-prompt)."),
    )


@writes("projects:update-user")
def update_user(draft: Draft, user_id: str) -> Code:
    name, email, description = (draft.text(k) for k in ("name", "email", "description"))
    project = draft.text("default_project_id")
    return Code(
        commands=(
            draft.openstack(
                "user set",
                user_id,
                name=name,
                email=email,
                description=description,
                project=project,
            ),
        ),
        tasks=(
            draft.task(
                "identity_user",
                _("Update the user"),
                name=draft.need("name"),
                email=email or None,
                description=description or None,
                default_project=project or None,
                state="present",
            ),
        ),
        note=_(
            "The task finds the user by the name typed and cannot rename one: a new name would "
            "make a new user. Rename with the command."
        ),
    )


@writes("projects:update-user-password")
def update_user_password(draft: Draft, user_id: str) -> Code:
    return Code(
        commands=(draft.openstack("user set", user_id, password_prompt=True),),
        tasks=(
            draft.task(
                "identity_user",
                _("Change the user's password"),
                name=placeholder("user_name"),
                password=PASSWORD,
                update_password="always",  # noqa: S106 - the module's option, no password
                state="present",
            ),
        ),
        note=_(
            "The command asks for the password. In the task put the user's name in place of "
            "<user-name> and the password in place of <password>."
        ),
    )


@writes("projects:update-user-enabled")
def update_user_enabled(draft: Draft, user_id: str) -> Code:
    enabled = draft.text("enabled") == "1"
    return Code(
        commands=(draft.openstack("user set", user_id, **_enable(enabled)),),
        tasks=(
            draft.task(
                "identity_user",
                _("Enable the user") if enabled else _("Disable the user"),
                name=placeholder("user_name"),
                is_enabled=enabled,
                state="present",
            ),
        ),
        note=_(
            "openstack.cloud.identity_user finds the user by its name and sets the name it is "
            "given: put the user's name in place of <user-name>."
        ),
    )


@writes("projects:delete-user")
def delete_user(draft: Draft, user_id: str) -> Code:
    return Code(
        commands=(draft.openstack("user delete", user_id),),
        tasks=(draft.task("identity_user", _("Delete the user"), name=user_id, state="absent"),),
    )


@writes("projects:update-password")
def update_password(draft: Draft) -> Code:
    return Code(
        commands=(draft.openstack("user password set"),),
        note=_(
            "The command asks for your current and your new password. openstack.cloud has no "
            "module that changes one's own password."
        ),
    )


# --- groups -------------------------------------------------------------------------------


@writes("projects:create-group")
def create_group(draft: Draft) -> Code:
    name, description = draft.need("name"), draft.text("description") or None
    domain = draft.text("domain_id") or None
    return Code(
        commands=(draft.openstack("group create", name, domain=domain, description=description),),
        tasks=(
            draft.task(
                "identity_group",
                _("Create the group"),
                name=name,
                description=description,
                domain_id=domain,
                state="present",
            ),
        ),
    )


@writes("projects:update-group")
def update_group(draft: Draft, group_id: str) -> Code:
    name, description = draft.text("name"), draft.text("description")
    return Code(
        commands=(draft.openstack("group set", group_id, name=name, description=description),),
        tasks=(
            draft.task(
                "identity_group",
                _("Update the group"),
                name=draft.need("name"),
                description=description or None,
                state="present",
            ),
        ),
        note=_(
            "The task finds the group by the name typed and cannot rename one: a new name would "
            "make a new group. Rename with the command."
        ),
    )


def _membership(draft: Draft, group_id: str, add: bool) -> Code:
    user = draft.need("user_id")
    return Code(
        commands=(
            draft.openstack("group add user" if add else "group remove user", group_id, user),
        ),
        tasks=(
            draft.task(
                "group_assignment",
                _("Add the user to the group") if add else _("Remove the user from the group"),
                group=group_id,
                user=user,
                state="present" if add else "absent",
            ),
        ),
    )


@writes("projects:add-user-to-group")
def add_user_to_group(draft: Draft, group_id: str) -> Code:
    return _membership(draft, group_id, True)


@writes("projects:remove-user-from-group")
def remove_user_from_group(draft: Draft, group_id: str) -> Code:
    return _membership(draft, group_id, False)


@writes("projects:delete-group")
def delete_group(draft: Draft, group_id: str) -> Code:
    return Code(
        commands=(draft.openstack("group delete", group_id),),
        tasks=(draft.task("identity_group", _("Delete the group"), name=group_id, state="absent"),),
    )


# --- roles and domains --------------------------------------------------------------------


@writes("projects:create-role")
def create_role(draft: Draft) -> Code:
    name = draft.need("name")
    return Code(
        commands=(draft.openstack("role create", name),),
        tasks=(draft.task("identity_role", _("Create the role"), name=name, state="present"),),
    )


@writes("projects:delete-role")
def delete_role(draft: Draft, role_id: str) -> Code:
    return Code(
        commands=(draft.openstack("role delete", role_id),),
        tasks=(draft.task("identity_role", _("Delete the role"), name=role_id, state="absent"),),
    )


@writes("projects:create-domain")
def create_domain(draft: Draft) -> Code:
    name, description, enabled = (
        draft.need("name"),
        draft.text("description") or None,
        draft.flag("enabled"),
    )
    return Code(
        commands=(
            draft.openstack("domain create", name, description=description, **_enable(enabled)),
        ),
        tasks=(
            draft.task(
                "identity_domain",
                _("Create the domain"),
                name=name,
                description=description,
                is_enabled=enabled,
                state="present",
            ),
        ),
    )


@writes("projects:update-domain-enabled")
def update_domain_enabled(draft: Draft, domain_id: str) -> Code:
    enabled = draft.text("enabled") == "1"
    return Code(
        commands=(draft.openstack("domain set", domain_id, **_enable(enabled)),),
        tasks=(
            draft.task(
                "identity_domain",
                _("Enable the domain") if enabled else _("Disable the domain"),
                name=placeholder("domain_name"),
                is_enabled=enabled,
                state="present",
            ),
        ),
        note=_(
            "openstack.cloud.identity_domain finds the domain by its name and sets the name it "
            "is given: put the domain's name in place of <domain-name>."
        ),
    )


@writes("projects:delete-domain")
def delete_domain(draft: Draft, domain_id: str) -> Code:
    return Code(
        commands=(draft.openstack("domain delete", domain_id),),
        tasks=(
            draft.task("identity_domain", _("Delete the domain"), name=domain_id, state="absent"),
        ),
        note=_("Keystone deletes only a disabled domain."),
    )
