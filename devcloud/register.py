"""Register the service project, roles, service users and the catalog in keystone, idempotently.

Run by `devcloud up` in the venv once keystone answers (about 5 s; the ~40
`openstack` CLI calls it replaces took 2 minutes). Also creates `stackdesk`,
the portal's own service user (role `service` in project `service`), the
trustee of the Keystone trusts that let long jobs outlive a user's token.
"""

import sys
import warnings
from typing import Any

import openstack

from devcloud import config

warnings.filterwarnings("ignore")  # eventlet and SDK deprecation banners

URL = f"http://{config.HOST}"
# type, name, port, path, service user
CATALOG = (
    ("image", "glance", 9292, "", "glance"),
    ("placement", "placement", 8778, "", "placement"),
    ("compute", "nova", 8774, "/v2.1", "nova"),
    ("network", "neutron", 9696, "", "neutron"),
    ("block-storage", "cinder", 8776, "/v3/%(project_id)s", "cinder"),
)
ROLES = ("admin", "manager", "member", "reader", "service")


# Cinder's default_volume_type (templates/cinder.conf): its volumes go to the RBD backend
VOLUME_TYPE = "ceph"


def main() -> None:
    conn = openstack.connect(cloud=config.ADMIN.cloud)
    if sys.argv[1:] == ["volume-types"]:
        register_volume_types(conn)
        return
    identity: Any = conn.identity  # the v3 proxy; the SDK types it as v2 | v3
    project = identity.find_project(
        config.SERVICE_PROJECT, domain_id="default"
    ) or identity.create_project(
        name=config.SERVICE_PROJECT, domain_id="default", description="OpenStack service users"
    )
    roles = {name: identity.find_role(name) or identity.create_role(name=name) for name in ROLES}
    existing_users = {user.name: user for user in identity.users(domain_id="default")}
    for name in config.SERVICE_USERS:
        user = existing_users.get(name) or identity.create_user(
            name=name, password=config.SERVICE_PASSWORD, domain_id="default"
        )
        for role in ("admin", "service"):
            identity.assign_project_role_to_user(project, user, roles[role])
    stackdesk = config.persona("devcloud-stackdesk")
    user = existing_users.get(stackdesk.user) or identity.create_user(
        name=stackdesk.user,
        password=stackdesk.password,
        domain_id="default",
        default_project_id=project.id,
        description="Stackdesk portal service user (trustee)",
    )
    identity.assign_project_role_to_user(project, user, roles[stackdesk.role])
    # System-scoped reader: the portal looks domains up with it at sign-in, to tell an unknown
    # domain from a wrong password (Keystone answers both with the same 401).
    identity.assign_system_role_to_user(user=user, role=roles["reader"], system="all")
    # Reader of every project of the default domain (inherited): the capacity sampler reads each
    # project's quota usage with a token scoped to it (capacity/gateway.py, docs/operations.md).
    identity.assign_domain_role_to_user("default", user=user, role=roles["reader"], inherited=True)

    services = {service.name: service for service in identity.services()}
    endpoints = {(e.service_id, e.interface) for e in identity.endpoints()}
    for service_type, name, port, path, _user in CATALOG:
        service = services.get(name) or identity.create_service(name=name, type=service_type)
        for interface in ("public", "internal", "admin"):
            if (service.id, interface) not in endpoints:
                identity.create_endpoint(
                    service_id=service.id,
                    interface=interface,
                    region_id=config.REGION,
                    url=f"{URL}:{port}{path}",
                )
    print(
        "catalog: "
        + ", ".join(f"{name} {URL}:{port}{path}" for _t, name, port, path, _u in CATALOG)
    )


def register_volume_types(conn: openstack.connection.Connection) -> None:
    """The `ceph` type; run once cinder-api answers (the catalog step runs before it does)."""
    storage: Any = conn.block_storage  # the v3 proxy; the SDK types it as v2 | v3
    volume_type = storage.find_type(VOLUME_TYPE) or storage.create_type(
        name=VOLUME_TYPE, description="RBD in the devcloud's one-node Ceph", is_public=True
    )
    # Cinder refuses to change the extra specs of a type that volumes use, even to the same value
    if (volume_type.extra_specs or {}).get("volume_backend_name") != VOLUME_TYPE:
        storage.update_type_extra_specs(volume_type, volume_backend_name=VOLUME_TYPE)
    print(f"volume type {VOLUME_TYPE} (default): backend {VOLUME_TYPE}")


if __name__ == "__main__":
    main()
