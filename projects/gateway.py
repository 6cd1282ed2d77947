"""Keystone for the portal's Identity pages and application credentials, and the member's
resource counts (refresh_project_counts).

Identity administration works with the admin's own project-scoped token: Keystone's policy
accepts the admin role on any project for these calls. Every method makes one API call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openstack.connection import Connection
from openstack.exceptions import HttpException

from portal.cloud import cloud_call
from portal.errors import Rejected


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    description: str
    domain_id: str
    enabled: bool


@dataclass(frozen=True)
class Domain:
    id: str
    name: str
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    description: str
    domain_id: str
    default_project_id: str
    enabled: bool


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    description: str
    domain_id: str


@dataclass(frozen=True)
class Role:
    id: str
    name: str


@dataclass(frozen=True)
class RoleAssignment:
    """A role on a project, held by a user or by a group (one of the two is set)."""

    role_id: str
    role_name: str
    user_id: str = ""
    user_name: str = ""
    group_id: str = ""
    group_name: str = ""


@dataclass(frozen=True)
class AppCredential:
    id: str
    name: str
    description: str
    project_id: str
    expires_at: datetime | None
    unrestricted: bool
    roles: tuple[str, ...]


@dataclass(frozen=True)
class NewAppCredential:
    """Keystone returns the secret once, in the answer to the create call; never stored."""

    credential: AppCredential
    secret: str


def _project(p: Any) -> Project:
    return Project(
        id=p.id,
        name=p.name or "",
        description=p.description or "",
        domain_id=p.domain_id or "",
        enabled=bool(p.is_enabled),
    )


def _user(u: Any) -> User:
    return User(
        id=u.id,
        name=u.name or "",
        email=u.email or "",
        description=u.description or "",
        domain_id=u.domain_id or "",
        default_project_id=u.default_project_id or "",
        enabled=bool(u.is_enabled),
    )


def _domain(d: Any) -> Domain:
    return Domain(
        id=d.id, name=d.name or "", description=d.description or "", enabled=bool(d.is_enabled)
    )


def _group(g: Any) -> Group:
    return Group(
        id=g.id, name=g.name or "", description=g.description or "", domain_id=g.domain_id or ""
    )


def _keystone_time(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _app_credential(c: Any) -> AppCredential:
    return AppCredential(
        id=c.id,
        name=c.name or "",
        description=c.description or "",
        project_id=c.project_id or "",
        expires_at=_keystone_time(c.expires_at),
        unrestricted=bool(c.unrestricted),
        roles=tuple(sorted(r.get("name", r.get("id", "")) for r in c.roles or [])),
    )


def _by_name(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: item.name.lower())


class ProjectsGateway:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # openstacksdk types conn.identity as "v2 | v3 proxy"; Keystone v3 is all we use.
        self.identity: Any = conn.identity

    def has_service(self, service_type: str) -> bool:
        """From the token's catalog; no API call."""
        return bool(self.conn.has_service(service_type))

    # --- resource counts (the member's own project) ---------------------------------------

    @cloud_call
    def count_servers(self) -> int:
        return sum(1 for _ in self.conn.compute.servers(details=False))

    @cloud_call
    def count_volumes(self) -> int:
        return sum(1 for _ in self.conn.block_storage.volumes(details=False))

    @cloud_call
    def count_images(self) -> int:
        """Images the project owns (not the public ones it can merely see)."""
        return sum(1 for _ in self.conn.image.images(owner=self.conn.current_project_id))

    @cloud_call
    def count_networks(self) -> int:
        return sum(1 for _ in self.conn.network.networks(project_id=self.conn.current_project_id))

    @cloud_call
    def count_routers(self) -> int:
        return sum(1 for _ in self.conn.network.routers(project_id=self.conn.current_project_id))

    @cloud_call
    def count_floating_ips(self) -> int:
        return sum(1 for _ in self.conn.network.ips(project_id=self.conn.current_project_id))

    @cloud_call
    def count_security_groups(self) -> int:
        return sum(
            1 for _ in self.conn.network.security_groups(project_id=self.conn.current_project_id)
        )

    # --- projects ---------------------------------------------------------------------------

    @cloud_call
    def list_projects(self, domain_id: str = "") -> list[Project]:
        """Every project, or a domain's (the admin's domain context) when domain_id is set."""
        query = {"domain_id": domain_id} if domain_id else {}
        return [_project(p) for p in _by_name(list(self.identity.projects(**query)))]

    @cloud_call
    def get_project(self, project_id: str) -> Project:
        return _project(self.identity.get_project(project_id))

    @cloud_call
    def create_project(
        self, *, name: str, description: str, domain_id: str, enabled: bool
    ) -> Project:
        return _project(
            self.identity.create_project(
                name=name, description=description, domain_id=domain_id, is_enabled=enabled
            )
        )

    @cloud_call
    def update_project(self, project_id: str, **changes: Any) -> Project:
        """changes: name, description, is_enabled."""
        return _project(self.identity.update_project(project_id, **changes))

    @cloud_call
    def delete_project(self, project_id: str) -> None:
        self.identity.delete_project(project_id, ignore_missing=False)

    # --- domains ----------------------------------------------------------------------------

    @cloud_call
    def list_domains(self) -> list[Domain]:
        return [_domain(d) for d in _by_name(list(self.identity.domains()))]

    @cloud_call
    def get_domain(self, domain_id: str) -> Domain:
        return _domain(self.identity.get_domain(domain_id))

    @cloud_call
    def create_domain(self, *, name: str, description: str, enabled: bool) -> Domain:
        return _domain(
            self.identity.create_domain(name=name, description=description, is_enabled=enabled)
        )

    @cloud_call
    def update_domain(self, domain_id: str, **changes: Any) -> Domain:
        """changes: name, description, is_enabled."""
        return _domain(self.identity.update_domain(domain_id, **changes))

    @cloud_call
    def delete_domain(self, domain_id: str) -> None:
        """Keystone refuses (403) to delete an enabled domain: disable it first."""
        self.identity.delete_domain(domain_id, ignore_missing=False)

    # --- users ------------------------------------------------------------------------------

    @cloud_call
    def list_users(self, domain_id: str = "") -> list[User]:
        """Every user, or a domain's (the admin's domain context) when domain_id is set."""
        query = {"domain_id": domain_id} if domain_id else {}
        return [_user(u) for u in _by_name(list(self.identity.users(**query)))]

    @cloud_call
    def get_user(self, user_id: str) -> User:
        return _user(self.identity.get_user(user_id))

    @cloud_call
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
        attrs: dict[str, Any] = {
            "name": name,
            "password": password,
            "domain_id": domain_id,
            "is_enabled": enabled,
        }
        if email:
            attrs["email"] = email
        if default_project_id:
            attrs["default_project_id"] = default_project_id
        return _user(self.identity.create_user(**attrs))

    @cloud_call
    def update_user(self, user_id: str, **changes: Any) -> User:
        """changes: name, email, description, default_project_id, is_enabled, password."""
        return _user(self.identity.update_user(user_id, **changes))

    @cloud_call
    def delete_user(self, user_id: str) -> None:
        self.identity.delete_user(user_id, ignore_missing=False)

    @cloud_call
    def update_password(self, user_id: str, *, current_password: str, password: str) -> None:
        """The signed-in user's own password (POST /v3/users/{id}/password with their own
        token). Keystone answers a wrong current password with 401, which cloud_call would
        read as an ended sign-in: here it is a refusal (Rejected, status 401), nothing changed.
        """
        try:
            self.identity.update_password(user_id, current_password, password)
        except HttpException as exc:
            if exc.status_code == 401:
                raise Rejected(str(exc.details or exc.message), 401) from exc
            raise

    # --- groups -----------------------------------------------------------------------------

    @cloud_call
    def list_groups(self) -> list[Group]:
        return [_group(g) for g in _by_name(list(self.identity.groups()))]

    @cloud_call
    def get_group(self, group_id: str) -> Group:
        return _group(self.identity.get_group(group_id))

    @cloud_call
    def create_group(self, *, name: str, description: str, domain_id: str) -> Group:
        return _group(
            self.identity.create_group(name=name, description=description, domain_id=domain_id)
        )

    @cloud_call
    def update_group(self, group_id: str, **changes: Any) -> Group:
        return _group(self.identity.update_group(group_id, **changes))

    @cloud_call
    def delete_group(self, group_id: str) -> None:
        self.identity.delete_group(group_id, ignore_missing=False)

    @cloud_call
    def list_group_users(self, group_id: str) -> list[User]:
        return [_user(u) for u in _by_name(list(self.identity.group_users(group_id)))]

    @cloud_call
    def add_user_to_group(self, user_id: str, group_id: str) -> None:
        self.identity.add_user_to_group(user_id, group_id)

    @cloud_call
    def remove_user_from_group(self, user_id: str, group_id: str) -> None:
        self.identity.remove_user_from_group(user_id, group_id)

    # --- roles ------------------------------------------------------------------------------

    @cloud_call
    def list_roles(self) -> list[Role]:
        return [Role(r.id, r.name) for r in _by_name(list(self.identity.roles()))]

    @cloud_call
    def create_role(self, *, name: str) -> Role:
        role = self.identity.create_role(name=name)
        return Role(role.id, role.name)

    @cloud_call
    def delete_role(self, role_id: str) -> None:
        self.identity.delete_role(role_id, ignore_missing=False)

    @cloud_call
    def list_role_assignments(self, project_id: str) -> list[RoleAssignment]:
        """Who holds which role on the project, users and groups, with names (one call)."""
        found = []
        for a in self.identity.role_assignments(scope_project_id=project_id, include_names=True):
            role, user, group = a.role or {}, a.user or {}, a.group or {}
            found.append(
                RoleAssignment(
                    role_id=role.get("id", ""),
                    role_name=role.get("name", ""),
                    user_id=user.get("id", ""),
                    user_name=user.get("name", ""),
                    group_id=group.get("id", ""),
                    group_name=group.get("name", ""),
                )
            )
        return sorted(found, key=lambda a: (a.user_name or a.group_name, a.role_name))

    @cloud_call
    def assign_project_role_to_user(self, project_id: str, user_id: str, role_id: str) -> None:
        self.identity.assign_project_role_to_user(project_id, user_id, role_id)

    @cloud_call
    def unassign_project_role_from_user(self, project_id: str, user_id: str, role_id: str) -> None:
        self.identity.unassign_project_role_from_user(project_id, user_id, role_id)

    @cloud_call
    def assign_project_role_to_group(self, project_id: str, group_id: str, role_id: str) -> None:
        self.identity.assign_project_role_to_group(project_id, group_id, role_id)

    @cloud_call
    def unassign_project_role_from_group(
        self, project_id: str, group_id: str, role_id: str
    ) -> None:
        self.identity.unassign_project_role_from_group(project_id, group_id, role_id)

    # --- application credentials (any user, their own) --------------------------------------

    @cloud_call
    def list_application_credentials(self, user_id: str) -> list[AppCredential]:
        found = self.identity.application_credentials(user_id)
        return [_app_credential(c) for c in _by_name(list(found))]

    @cloud_call
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
        created = self.identity.create_application_credential(
            user_id,
            name,
            description=description or None,
            expires_at=expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            if expires_at
            else None,
            roles=[{"name": role} for role in roles],
            unrestricted=unrestricted,
        )
        return NewAppCredential(credential=_app_credential(created), secret=created.secret)

    @cloud_call
    def delete_application_credential(self, user_id: str, credential_id: str) -> None:
        self.identity.delete_application_credential(user_id, credential_id, ignore_missing=False)
