"""Proof that the devcloud is a working OpenStack (issue 2), through openstacksdk only.

Runs against the cloud `devcloud/devcloud up` built: the clouds.yaml comes from
OS_CLIENT_CONFIG_FILE (default /var/lib/stackdesk/devcloud/clouds.yaml) and the
seeded m1.nano / x1.oversize flavors and tiny-qcow2 image are used read-only.
Everything a test creates carries this run's name prefix and is deleted after;
the evacuation test restarts the compute it forced down and puts it back.
"""

from __future__ import annotations

import functools
import http.server
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import openstack
import openstack.config
import pytest
from openstack import exceptions
from openstack.connection import Connection

pytestmark = pytest.mark.cloud

CLOUDS_YAML = os.environ.get("OS_CLIENT_CONFIG_FILE", "/var/lib/stackdesk/devcloud/clouds.yaml")
DEVCLOUD = Path(__file__).resolve().parents[2] / "devcloud" / "devcloud"
PREFIX = f"allinone-{secrets.token_hex(3)}-"
COMPUTE_HOSTS = {"compute1", "compute2", "compute3"}
# 2.95: an evacuated server arrives SHUTOFF, and the server list filters by compute host
COMPUTE_MICROVERSION = "2.96"

T = TypeVar("T")


def connect(cloud: str) -> Connection:
    config = openstack.config.OpenStackConfig(config_files=[CLOUDS_YAML], load_envvars=False)
    return Connection(config=config.get_one(cloud=cloud))


def wait_for(
    what: str, fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 120
) -> T:
    """Poll fetch() until done(result); fail with the last result after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last: {result!r}")
        time.sleep(1)


def wait_server(conn: Connection, server_id: str, status: str, timeout: float = 120) -> Any:
    def settled(server: Any) -> bool:
        if server.status == "ERROR" and status != "ERROR":
            pytest.fail(f"server {server.name} went to ERROR: {server.fault}")
        return bool(server.status == status and server.task_state is None)

    return wait_for(
        f"server {server_id} {status}", lambda: conn.compute.get_server(server_id), settled, timeout
    )


def delete_server(conn: Connection, server_id: str) -> None:
    conn.compute.delete_server(server_id, ignore_missing=True)
    wait_for(
        f"server {server_id} deleted",
        lambda: conn.compute.find_server(server_id),
        lambda s: s is None,
    )


def boot(conn: Connection, name: str, **kwargs: Any) -> Any:
    flavor = conn.compute.find_flavor(kwargs.pop("flavor", "m1.nano"), ignore_missing=False)
    image = conn.image.find_image("tiny-qcow2", ignore_missing=False)
    return conn.compute.create_server(
        name=PREFIX + name, flavor_id=flavor.id, image_id=image.id, **kwargs
    )


def host_of(admin: Connection, server_id: str) -> str:
    return str(admin.compute.get_server(server_id).compute_host)


def qcow2_file(directory: Path) -> Path:
    """A real qcow2 (glance inspects uploads and refuses a file that is not what it claims)."""
    path = directory / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"], check=True)
    return path


@pytest.fixture(scope="module")
def admin() -> Connection:
    conn = connect("devcloud-admin")
    conn.compute.default_microversion = COMPUTE_MICROVERSION
    return conn


@pytest.fixture(scope="module")
def member() -> Connection:
    return connect("devcloud-member")


@pytest.fixture(scope="module")
def network(member: Connection) -> Iterator[dict[str, str]]:
    """A network with a subnet and a security group with an SSH rule, in the member's project."""
    net = member.network.create_network(name=PREFIX + "net")
    member.network.create_subnet(
        network_id=net.id, name=PREFIX + "subnet", ip_version=4, cidr="10.99.0.0/24"
    )
    group = member.network.create_security_group(name=PREFIX + "ssh")
    member.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    yield {"network_id": net.id, "security_group": group.name, "security_group_id": group.id}
    for port in member.network.ports(network_id=net.id):
        if port.device_owner.startswith("compute:"):
            delete_server(member, port.device_id)
    member.network.delete_network(net.id)
    member.network.delete_security_group(group.id)


@pytest.fixture(scope="module")
def server(member: Connection, network: dict[str, str]) -> Iterator[Any]:
    """The member's server on the test network, ACTIVE."""
    created = boot(
        member,
        "server",
        networks=[{"uuid": network["network_id"]}],
        security_groups=[{"name": network["security_group"]}],
    )
    yield wait_server(member, created.id, "ACTIVE")
    delete_server(member, created.id)


def test_every_catalog_service_answers(admin: Connection) -> None:
    # one authenticated call per service type, through the SDK's endpoint for it
    calls: dict[str, Callable[[], Any]] = {
        "identity": lambda: admin.identity.get("/regions"),
        "compute": lambda: admin.compute.get("/flavors"),
        "image": lambda: admin.image.get("/images?limit=1"),
        "network": lambda: admin.network.get("/networks?limit=1"),
        "placement": lambda: admin.placement.get("/resource_providers"),
        "block-storage": lambda: admin.block_storage.get("/volumes"),
    }
    catalog = admin.session.auth.get_access(admin.session).service_catalog.catalog
    types = {entry["type"] for entry in catalog}
    assert types == set(calls), f"catalog has {sorted(types)}"
    for service_type in sorted(types):
        response = calls[service_type]()
        assert response.status_code == 200, (
            f"{service_type}: {response.status_code} {response.text}"
        )


def test_three_compute_hosts_are_up(admin: Connection) -> None:
    services = {s.host: s for s in admin.compute.services(binary="nova-compute")}
    assert set(services) >= COMPUTE_HOSTS
    for host in COMPUTE_HOSTS:
        assert services[host].state == "up", services[host]
        assert services[host].status == "enabled", services[host]
    hypervisors = {h.name for h in admin.compute.hypervisors()}
    assert hypervisors >= COMPUTE_HOSTS
    # realistic capacity (placement's view): the was_atw flavor fits a host, x1.oversize none
    for host in COMPUTE_HOSTS:
        (provider,) = admin.placement.resource_providers(name=host)
        totals = {
            i.resource_class: i.total
            for i in admin.placement.resource_provider_inventories(provider)
        }
        assert totals == {"VCPU": 16, "MEMORY_MB": 32768, "DISK_GB": 500}, host


def test_member_boots_server_on_network_with_security_group(
    member: Connection, network: dict[str, str], server: Any
) -> None:
    assert server.status == "ACTIVE"
    (port,) = member.network.ports(device_id=server.id)
    assert port.network_id == network["network_id"]
    assert network["security_group_id"] in port.security_group_ids
    # bound by devcloud's bind_all mechanism driver: no agent ever reports a port up
    assert port.status == "ACTIVE"


def test_remote_console_url(member: Connection, server: Any) -> None:
    # nova's fake driver answers for a console; no proxy listens on 6080
    console = member.compute.create_console(server, console_type="novnc")
    assert console is not None
    assert console["url"].startswith("http://127.0.0.1:6080/")


def test_live_migration_completes(admin: Connection, server: Any) -> None:
    source = host_of(admin, server.id)
    admin.compute.live_migrate_server(server, host=None, block_migration="auto")
    wait_for(
        f"{server.name} ACTIVE on another host",
        lambda: admin.compute.get_server(server.id),
        lambda s: s.compute_host != source and s.status == "ACTIVE" and s.task_state is None,
    )
    migration = wait_for(
        "the live-migration record completed",
        lambda: [
            m
            for m in admin.compute.migrations(instance_uuid=server.id)
            if m.migration_type == "live-migration"
        ],
        lambda ms: bool(ms) and ms[0].status == "completed",
    )[0]
    assert migration.source_compute == source
    assert migration.dest_compute == host_of(admin, server.id)


def test_volume_create_attach_detach(member: Connection, server: Any) -> None:
    volume = member.block_storage.create_volume(name=PREFIX + "volume", size=1)
    try:
        wait_for(
            "volume available",
            lambda: member.block_storage.get_volume(volume.id),
            lambda v: v.status == "available",
        )
        member.compute.create_volume_attachment(server, volume_id=volume.id)
        attached = wait_for(
            "volume in-use",
            lambda: member.block_storage.get_volume(volume.id),
            lambda v: v.status == "in-use",
        )
        assert [a["server_id"] for a in attached.attachments] == [server.id]
        member.compute.delete_volume_attachment(server=server, volume=volume.id)
        wait_for(
            "volume detached",
            lambda: member.block_storage.get_volume(volume.id),
            lambda v: v.status == "available",
        )
    finally:
        member.block_storage.delete_volume(volume.id, ignore_missing=True)


def test_disabled_forced_down_host_is_evacuated(
    admin: Connection, member: Connection, network: dict[str, str]
) -> None:
    created = boot(member, "evacuee", networks=[{"uuid": network["network_id"]}])
    wait_server(member, created.id, "ACTIVE")
    source = host_of(admin, created.id)
    (service,) = admin.compute.services(binary="nova-compute", host=source)
    admin.compute.disable_service(
        service, source, "nova-compute", disabled_reason=PREFIX + "evacuate"
    )
    admin.compute.update_service_forced_down(service, source, "nova-compute", forced=True)
    try:
        admin.compute.evacuate_server(created)
        # microversion >= 2.95: the evacuated server arrives SHUTOFF; it may show SHUTOFF
        # briefly on the old host before nova records the new one
        wait_for(
            f"{created.name} SHUTOFF on another host",
            lambda: admin.compute.get_server(created.id),
            lambda s: s.status == "SHUTOFF" and s.task_state is None and s.compute_host != source,
        )
        (migration,) = [
            m
            for m in admin.compute.migrations(instance_uuid=created.id)
            if m.migration_type == "evacuation"
        ]
        assert migration.source_compute == source
        assert migration.status in ("done", "completed")
    finally:
        restore_host(admin, service, source)
        delete_server(member, created.id)


def restore_host(admin: Connection, service: Any, host: str) -> None:
    """Restart the compute (it then cleans up the evacuated guest), unset forced down, enable."""
    subprocess.run([str(DEVCLOUD), "restart-compute", host.removeprefix("compute")], check=True)

    def force_up() -> bool:
        # refused while nova still holds 'done' evacuation records for this host
        try:
            admin.compute.update_service_forced_down(service, host, "nova-compute", forced=False)
        except exceptions.BadRequestException:
            return False
        return True

    wait_for(f"{host} no longer forced down", force_up, bool, timeout=90)
    admin.compute.enable_service(service, host, "nova-compute")
    wait_for(
        f"{host} up and enabled",
        lambda: next(admin.compute.services(binary="nova-compute", host=host)),
        lambda s: s.state == "up" and s.status == "enabled",
        timeout=90,
    )


def test_quota_of_one_instance_refuses_the_second(admin: Connection) -> None:
    identity: Any = admin.identity  # the v3 proxy; the SDK types it as v2 | v3
    project = identity.create_project(name=PREFIX + "quota", domain_id="default")
    password = secrets.token_urlsafe(16)
    user = identity.create_user(
        name=PREFIX + "quota-member", password=password, domain_id="default"
    )
    identity.assign_project_role_to_user(
        project, user, identity.find_role("member", ignore_missing=False)
    )
    admin.set_compute_quotas(project.id, instances=1)
    conn = openstack.connect(
        auth_url=admin.auth["auth_url"],
        username=user.name,
        password=password,
        project_id=project.id,
        user_domain_id="default",
        load_yaml_config=False,
        load_envvars=False,
    )
    try:
        # nova counts instances in the cell database: the first must have left the API's
        # build queue, or the second is refused later (ERROR) instead of at the API (403)
        wait_server(conn, boot(conn, "quota-1", networks="none").id, "ACTIVE")
        with pytest.raises(exceptions.ForbiddenException, match="Quota exceeded for instances"):
            boot(conn, "quota-2", networks="none")
    finally:
        for server in conn.compute.servers():
            delete_server(conn, server.id)
        identity.delete_user(user)
        identity.delete_project(project)


def test_oversized_flavor_gives_no_valid_host(member: Connection) -> None:
    created = boot(member, "oversize", flavor="x1.oversize", networks="none")
    try:
        failed = wait_server(member, created.id, "ERROR")
        assert "No valid host was found" in failed.fault["message"]
    finally:
        delete_server(member, created.id)


def test_image_upload_reaches_active(member: Connection, tmp_path: Path) -> None:
    image = member.image.create_image(
        name=PREFIX + "upload",
        filename=str(qcow2_file(tmp_path)),
        disk_format="qcow2",
        container_format="bare",
    )
    try:
        wait_for(
            "uploaded image active",
            lambda: member.image.get_image(image.id),
            lambda i: i.status == "active",
            timeout=60,
        )
    finally:
        member.image.delete_image(image.id, ignore_missing=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_web_download_import_reaches_active(member: Connection, tmp_path: Path) -> None:
    qcow2 = qcow2_file(tmp_path)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{qcow2.name}"
    image: Any = member.image.create_image(
        name=PREFIX + "web-download", disk_format="qcow2", container_format="bare"
    )
    try:
        # the SDK returns the raw response here and raises nothing
        response = member.image.import_image(image, method="web-download", uri=url)
        assert response.status_code == 202, response.text
        imported = wait_for(
            "imported image active",
            lambda: member.image.get_image(image.id),
            # a failed import puts the image back to queued and names the store here
            lambda i: i.status == "active" or bool(i.properties.get("os_glance_failed_import")),
            timeout=90,
        )
        assert imported.status == "active", imported.properties
        assert imported.size == qcow2.stat().st_size
    finally:
        httpd.shutdown()
        member.image.delete_image(image.id, ignore_missing=True)


def test_application_credential_authenticates(member: Connection) -> None:
    user_id = str(member.current_user_id)
    # explicit roles: a token's roles may be stale if the shared persona changed meanwhile
    credential = member.identity.create_application_credential(
        user=user_id, name=PREFIX + "appcred", roles=[{"name": "member"}]
    )
    try:
        conn = openstack.connect(
            auth_type="v3applicationcredential",
            auth_url=member.auth["auth_url"],
            application_credential_id=credential.id,
            application_credential_secret=credential.secret,
            load_yaml_config=False,
            load_envvars=False,
        )
        assert conn.current_project_id == member.current_project_id
        assert list(conn.compute.flavors())
    finally:
        member.identity.delete_application_credential(user_id, credential.id)


def test_stackdesk_acts_for_the_member_through_a_trust(member: Connection) -> None:
    stackdesk = connect("devcloud-stackdesk")
    trust = member.identity.create_trust(
        trustor_user_id=member.current_user_id,
        trustee_user_id=stackdesk.current_user_id,
        project_id=member.current_project_id,
        roles=[{"name": "member"}],
        impersonation=True,
    )
    try:
        auth = stackdesk.config.config["auth"]
        conn = openstack.connect(
            auth_url=auth["auth_url"],
            username=auth["username"],
            password=auth["password"],
            user_domain_name="Default",
            trust_id=trust.id,
            load_yaml_config=False,
            load_envvars=False,
        )
        access = conn.session.auth.get_access(conn.session)
        assert access.trust_id == trust.id
        assert access.project_id == member.current_project_id
        # impersonation: the token names the member, so the member's quotas and policies apply
        assert access.user_id == member.current_user_id
        assert conn.compute.get("/servers").status_code == 200
    finally:
        member.identity.delete_trust(trust.id)
