"""In-memory stand-in for ProjectsGateway: a small Keystone (projects, users, groups, roles,
role assignments, application credentials) and a project with resources that tests can set.

It starts with what the personas in conftest.py see: projects demo, study1 and admin, their
users, and the roles admin, member and reader. It refuses what Keystone refuses."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from portal.errors import CloudUnavailable, NotFound, Rejected
from projects.gateway import (
    AppCredential,
    Domain,
    Group,
    NewAppCredential,
    Project,
    ProjectsGateway,
    Role,
    RoleAssignment,
    User,
)


def _projects() -> dict[str, Project]:
    return {
        f"p-{name}": Project(f"p-{name}", name, f"The {name} project", "default", True)
        for name in ("admin", "demo", "study1")
    }


def _users() -> dict[str, User]:
    homes = {"member": "p-demo", "reader": "p-demo", "outsider": "p-study1", "admin": "p-admin"}
    return {
        f"u-{name}": User(f"u-{name}", name, f"{name}@example.org", "", "default", home, True)
        for name, home in homes.items()
    }


def _roles() -> dict[str, Role]:
    return {f"r-{name}": Role(f"r-{name}", name) for name in ("admin", "member", "reader")}


def _assignments() -> set[tuple[str, str, str, str]]:
    return {
        ("p-demo", "user", "u-member", "r-member"),
        ("p-demo", "user", "u-reader", "r-reader"),
        ("p-study1", "user", "u-outsider", "r-member"),
        ("p-admin", "user", "u-admin", "r-admin"),
    }


def _missing(kind: str, ident: str) -> NotFound:
    return NotFound(f"Could not find {kind}: {ident}.")


@dataclass
class FakeProjectsGateway(ProjectsGateway):
    # resource counts of the member's project (refresh_project_counts)
    servers: int = 0
    volumes: int = 0
    images: int = 0
    networks: int = 0
    routers: int = 0
    floating_ips: int = 0
    security_groups: int = 1
    services: set[str] = field(
        default_factory=lambda: {"compute", "block-storage", "image", "network"}
    )
    unavailable: set[str] = field(default_factory=set)  # counters that fail as "cloud down"
    # Keystone
    projects: dict[str, Project] = field(default_factory=_projects)
    domains: dict[str, Domain] = field(
        default_factory=lambda: {"default": Domain("default", "Default")}
    )
    users: dict[str, User] = field(default_factory=_users)
    passwords: dict[str, str] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    members: set[tuple[str, str]] = field(default_factory=set)  # (group id, user id)
    roles: dict[str, Role] = field(default_factory=_roles)
    # (project id, "user" | "group", actor id, role id)
    assignments: set[tuple[str, str, str, str]] = field(default_factory=_assignments)
    app_credentials: dict[str, AppCredential] = field(default_factory=dict)
    app_credential_owner: dict[str, str] = field(default_factory=dict)  # credential -> user
    refuse: str = ""  # when set, every Keystone write is refused with this reason
    calls: int = 0

    def _count(self, what: str) -> int:
        if what in self.unavailable:
            raise CloudUnavailable(f"{what}: 503 Service Unavailable")
        value: int = getattr(self, what)
        return value

    def has_service(self, service_type: str) -> bool:
        return service_type in self.services

    def count_servers(self) -> int:
        return self._count("servers")

    def count_volumes(self) -> int:
        return self._count("volumes")

    def count_images(self) -> int:
        return self._count("images")

    def count_networks(self) -> int:
        return self._count("networks")

    def count_routers(self) -> int:
        return self._count("routers")

    def count_floating_ips(self) -> int:
        return self._count("floating_ips")

    def count_security_groups(self) -> int:
        return self._count("security_groups")

    # --- Keystone ---------------------------------------------------------------------------

    def _read(self) -> None:
        self.calls += 1

    def _write(self) -> None:
        self.calls += 1
        if self.refuse:
            raise Rejected(self.refuse, 403)

    @staticmethod
    def _new_id(prefix: str) -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    def _conflict(self, kind: str, name: str, taken: Sequence[str]) -> None:
        if name in taken:
            raise Rejected(
                f"Conflict occurred attempting to store {kind} - Duplicate entry found with "
                f"name {name}.",
                409,
            )

    def list_projects(self, domain_id: str = "") -> list[Project]:
        self._read()
        found = [p for p in self.projects.values() if not domain_id or p.domain_id == domain_id]
        return sorted(found, key=lambda p: p.name.lower())

    def get_project(self, project_id: str) -> Project:
        self._read()
        if project_id not in self.projects:
            raise _missing("project", project_id)
        return self.projects[project_id]

    def create_project(
        self, *, name: str, description: str, domain_id: str, enabled: bool
    ) -> Project:
        self._write()
        self._conflict("project", name, [p.name for p in self.projects.values()])
        project = Project(self._new_id("p"), name, description, domain_id, enabled)
        self.projects[project.id] = project
        return project

    def update_project(self, project_id: str, **changes: Any) -> Project:
        self._write()
        project = self.get_project(project_id)
        if "name" in changes and changes["name"] != project.name:
            self._conflict("project", changes["name"], [p.name for p in self.projects.values()])
        if "is_enabled" in changes:
            changes["enabled"] = changes.pop("is_enabled")
        self.projects[project_id] = replace(project, **changes)
        return self.projects[project_id]

    def delete_project(self, project_id: str) -> None:
        self._write()
        self.get_project(project_id)
        del self.projects[project_id]
        self.assignments = {a for a in self.assignments if a[0] != project_id}

    def list_domains(self) -> list[Domain]:
        self._read()
        return sorted(self.domains.values(), key=lambda d: d.name.lower())

    def get_domain(self, domain_id: str) -> Domain:
        self._read()
        if domain_id not in self.domains:
            raise _missing("domain", domain_id)
        return self.domains[domain_id]

    def create_domain(self, *, name: str, description: str, enabled: bool) -> Domain:
        self._write()
        if name in [d.name for d in self.domains.values()]:  # Keystone's words for a domain
            raise Rejected(
                "Conflict occurred attempting to store project - it is not permitted to have "
                f"two projects acting as domains with the same name: {name}.",
                409,
            )
        domain = Domain(self._new_id("d"), name, description, enabled)
        self.domains[domain.id] = domain
        return domain

    def update_domain(self, domain_id: str, **changes: Any) -> Domain:
        self._write()
        domain = self.get_domain(domain_id)
        if "is_enabled" in changes:
            changes["enabled"] = changes.pop("is_enabled")
        self.domains[domain_id] = replace(domain, **changes)
        return self.domains[domain_id]

    def delete_domain(self, domain_id: str) -> None:
        self._write()
        if self.get_domain(domain_id).enabled:
            # Keystone's own words (403) for an enabled domain
            raise Rejected(
                "You are not authorized to perform the requested action: Cannot delete a "
                "domain that is enabled, please disable it first.",
                403,
            )
        del self.domains[domain_id]
        self.projects = {k: p for k, p in self.projects.items() if p.domain_id != domain_id}
        self.users = {k: u for k, u in self.users.items() if u.domain_id != domain_id}

    def list_users(self, domain_id: str = "") -> list[User]:
        self._read()
        found = [u for u in self.users.values() if not domain_id or u.domain_id == domain_id]
        return sorted(found, key=lambda u: u.name.lower())

    def get_user(self, user_id: str) -> User:
        self._read()
        if user_id not in self.users:
            raise _missing("user", user_id)
        return self.users[user_id]

    def create_user(
        self,
        *,
        name: str,
        email: str,
        password: str,
        domain_id: str,
        default_project_id: str,
        enabled: bool,
    ) -> User:
        self._write()
        self._conflict("user", name, [u.name for u in self.users.values()])
        user = User(self._new_id("u"), name, email, "", domain_id, default_project_id, enabled)
        self.users[user.id] = user
        self.passwords[user.id] = password
        return user

    def update_user(self, user_id: str, **changes: Any) -> User:
        self._write()
        user = self.get_user(user_id)
        if "password" in changes:
            self.passwords[user_id] = changes.pop("password")
        if "is_enabled" in changes:
            changes["enabled"] = changes.pop("is_enabled")
        self.users[user_id] = replace(user, **changes)
        return self.users[user_id]

    def update_password(self, user_id: str, *, current_password: str, password: str) -> None:
        """Keystone's rules: only a known current password (401 otherwise) changes it."""
        self._write()
        self.get_user(user_id)
        if self.passwords.get(user_id) != current_password:
            raise Rejected("The request you have made requires authentication.", 401)
        self.passwords[user_id] = password

    def delete_user(self, user_id: str) -> None:
        self._write()
        self.get_user(user_id)
        del self.users[user_id]
        self.assignments = {a for a in self.assignments if a[2] != user_id}
        self.members = {m for m in self.members if m[1] != user_id}

    def list_groups(self) -> list[Group]:
        self._read()
        return sorted(self.groups.values(), key=lambda g: g.name.lower())

    def get_group(self, group_id: str) -> Group:
        self._read()
        if group_id not in self.groups:
            raise _missing("group", group_id)
        return self.groups[group_id]

    def create_group(self, *, name: str, description: str, domain_id: str) -> Group:
        self._write()
        self._conflict("group", name, [g.name for g in self.groups.values()])
        group = Group(self._new_id("g"), name, description, domain_id)
        self.groups[group.id] = group
        return group

    def update_group(self, group_id: str, **changes: Any) -> Group:
        self._write()
        self.groups[group_id] = replace(self.get_group(group_id), **changes)
        return self.groups[group_id]

    def delete_group(self, group_id: str) -> None:
        self._write()
        self.get_group(group_id)
        del self.groups[group_id]
        self.members = {m for m in self.members if m[0] != group_id}
        self.assignments = {a for a in self.assignments if a[2] != group_id}

    def list_group_users(self, group_id: str) -> list[User]:
        self.get_group(group_id)
        return sorted(
            (self.users[u] for g, u in self.members if g == group_id), key=lambda u: u.name
        )

    def add_user_to_group(self, user_id: str, group_id: str) -> None:
        self._write()
        self.get_user(user_id)
        self.get_group(group_id)
        self.members.add((group_id, user_id))

    def remove_user_from_group(self, user_id: str, group_id: str) -> None:
        self._write()
        if (group_id, user_id) not in self.members:
            raise NotFound(f"{user_id} is not a member of {group_id}.")
        self.members.discard((group_id, user_id))

    def list_roles(self) -> list[Role]:
        self._read()
        return sorted(self.roles.values(), key=lambda r: r.name)

    def create_role(self, *, name: str) -> Role:
        self._write()
        self._conflict("role", name, [r.name for r in self.roles.values()])
        role = Role(self._new_id("r"), name)
        self.roles[role.id] = role
        return role

    def delete_role(self, role_id: str) -> None:
        self._write()
        if role_id not in self.roles:
            raise _missing("role", role_id)
        del self.roles[role_id]
        self.assignments = {a for a in self.assignments if a[3] != role_id}

    def list_role_assignments(self, project_id: str) -> list[RoleAssignment]:
        self._read()
        found = []
        for pid, kind, actor, role_id in self.assignments:
            if pid != project_id:
                continue
            role = self.roles[role_id]
            if kind == "user":
                user = self.users[actor]
                found.append(
                    RoleAssignment(role.id, role.name, user_id=user.id, user_name=user.name)
                )
            else:
                group = self.groups[actor]
                found.append(
                    RoleAssignment(role.id, role.name, group_id=group.id, group_name=group.name)
                )
        return sorted(found, key=lambda a: (a.user_name or a.group_name, a.role_name))

    def _assign(self, project_id: str, kind: str, actor: str, role_id: str, on: bool) -> None:
        self._write()
        self.get_project(project_id)
        if kind == "user":
            self.get_user(actor)
        else:
            self.get_group(actor)
        if role_id not in self.roles:
            raise _missing("role", role_id)
        if on:
            self.assignments.add((project_id, kind, actor, role_id))
        elif (project_id, kind, actor, role_id) in self.assignments:
            self.assignments.discard((project_id, kind, actor, role_id))
        else:
            raise NotFound(f"Could not find role assignment {role_id} for {actor}.")

    def assign_project_role_to_user(self, project_id: str, user_id: str, role_id: str) -> None:
        self._assign(project_id, "user", user_id, role_id, True)

    def unassign_project_role_from_user(self, project_id: str, user_id: str, role_id: str) -> None:
        self._assign(project_id, "user", user_id, role_id, False)

    def assign_project_role_to_group(self, project_id: str, group_id: str, role_id: str) -> None:
        self._assign(project_id, "group", group_id, role_id, True)

    def unassign_project_role_from_group(
        self, project_id: str, group_id: str, role_id: str
    ) -> None:
        self._assign(project_id, "group", group_id, role_id, False)

    def list_application_credentials(self, user_id: str) -> list[AppCredential]:
        self._read()
        return sorted(
            (
                c
                for c in self.app_credentials.values()
                if self.app_credential_owner[c.id] == user_id
            ),
            key=lambda c: c.name,
        )

    def create_application_credential(
        self,
        user_id: str,
        *,
        name: str,
        description: str,
        expires_at: datetime | None,
        roles: Sequence[str],
        unrestricted: bool,
    ) -> NewAppCredential:
        self._write()
        mine = [c.name for c in self.list_application_credentials(user_id)]
        self._conflict("application_credential", name, mine)
        credential = AppCredential(
            id=self._new_id("ac"),
            name=name,
            description=description,
            project_id="p-demo",
            expires_at=expires_at,
            unrestricted=unrestricted,
            roles=tuple(sorted(roles)),
        )
        self.app_credentials[credential.id] = credential
        self.app_credential_owner[credential.id] = user_id
        return NewAppCredential(credential, secret=secrets.token_urlsafe(32))

    def delete_application_credential(self, user_id: str, credential_id: str) -> None:
        self._write()
        if self.app_credential_owner.get(credential_id) != user_id:
            raise _missing("application credential", credential_id)
        del self.app_credentials[credential_id]
        del self.app_credential_owner[credential_id]
