"""Seed the demo data, idempotently: everything is looked up by name first.

Projects and personas (devcloud/config.py), flavors, a small real qcow2 image,
the shared external network "public1", project networks, routers, security
groups, a floating IP, a few servers spread over the fake hosts and, in demo,
a bootable volume made from the image with a server booted from it. Project
resources are created by the project's own persona, so they are owned as a
user would own them. Run by `devcloud up` in the venv.
"""

import subprocess
import time
import warnings
from dataclasses import dataclass
from typing import Any

import openstack
from openstack.connection import Connection
from openstack.network.v2.network import Network

from devcloud import config

warnings.filterwarnings("ignore")  # eventlet and SDK deprecation banners

PROJECTS = {
    "demo": "Demo project: a member, a reader, four servers (one booted from a volume)",
    "study1": "A study project with the seed's quotas",
    "vworld-project": "The 2d-was layout: two subnets, a router, a floating IP",
}
# study1's quotas as in the seed demo
STUDY1_COMPUTE_QUOTAS = {"instances": 20, "cores": 128, "ram": 51200}
STUDY1_NETWORK_QUOTAS = {"floatingip": 50, "security_group": 10}

# name: (vCPUs, RAM MB, disk GB). Hosts have 16 vCPU (x4 overcommit), 32 GiB, 500 GB:
# was_atw fits on one host, x1.oversize on none ("No valid host was found"). x1.oversize
# stays under nova's default RAM quota (50 GiB), else the quota refuses it first (HTTP 403).
FLAVORS = {
    "m1.nano": (1, 128, 1),
    "m1.tiny": (1, 512, 1),
    "m1.small": (1, 2048, 20),
    "m1.medium": (2, 4096, 40),
    "m1.micro": (1, 1024, 5),
    "was_atw": (4, 16384, 200),
    "x1.oversize": (8, 49152, 100),
}
IMAGE_NAME = "tiny-qcow2"
IMAGE_FILE = config.DATA / "tiny.qcow2"
PUBLIC_NETWORK = "public1"


@dataclass(frozen=True)
class Layout:
    """What one project persona builds in its project."""

    network: str
    subnets: tuple[tuple[str, str], ...]  # (name, CIDR)
    router: str  # gateway on public1, an interface on every subnet
    security_group: tuple[str, tuple[int, ...]] | None = (
        None  # name, ingress TCP ports from anywhere
    )
    servers: tuple[str, ...] = ()  # m1.nano on the network
    floating_ip_for: str | None = None
    # (volume, server): a bootable volume from the image and an m1.nano booted from it, which
    # leaves the volume behind when deleted (delete_on_termination false)
    volume_server: tuple[str, str] | None = None


LAYOUTS = {
    "devcloud-member": Layout(
        network="demo-net",
        subnets=(("demo-subnet", "10.10.0.0/24"),),
        router="demo-router",
        security_group=("web", (22, 80, 443)),
        servers=("demo-web-1", "demo-web-2", "demo-web-3"),
        volume_server=("demo-boot-volume", "demo-vol-1"),
    ),
    "devcloud-study1": Layout(
        network="study1-net",
        subnets=(("study1-subnet", "10.20.0.0/24"),),
        router="study1-router",
    ),
    "devcloud-vworld": Layout(
        network="vworld-net",
        subnets=(("vworld-subnet-a", "172.31.0.0/24"), ("vworld-subnet-b", "172.31.1.0/24")),
        router="vworld-router",
        security_group=("2d-was", (8080, 8443, 9089, 9099)),
        servers=("vworld-was-1",),
        floating_ip_for="vworld-was-1",
    ),
}
SEEDED_SERVERS = {name for layout in LAYOUTS.values() for name in layout.servers} | {
    layout.volume_server[1] for layout in LAYOUTS.values() if layout.volume_server
}
BOOT_VOLUME_GB = 1


def main() -> None:
    admin = openstack.connect(cloud=config.ADMIN.cloud)
    seed_identity(admin)
    seed_flavors(admin)
    image_id = seed_image(admin)
    public = seed_public_network(admin)
    for cloud, layout in LAYOUTS.items():
        seed_project(openstack.connect(cloud=cloud), layout, image_id, public.id)
    report_servers(admin)


def seed_identity(admin: Connection) -> None:
    identity: Any = admin.identity  # the v3 proxy; the SDK types it as v2 | v3
    projects = {p.name: p for p in identity.projects(domain_id="default")}
    for name, description in PROJECTS.items():
        if name not in projects:
            projects[name] = identity.create_project(
                name=name, domain_id="default", description=description
            )
    users = {u.name: u for u in identity.users(domain_id="default")}
    roles = {r.name: r for r in identity.roles()}
    for persona in config.PERSONAS:
        if persona.project not in PROJECTS:
            continue  # admin (keystone bootstrap) and stackdesk (register.py)
        project = projects[persona.project]
        user = users.get(persona.user) or identity.create_user(
            name=persona.user,
            password=persona.password,
            domain_id="default",
            default_project_id=project.id,
        )
        identity.assign_project_role_to_user(project, user, roles[persona.role])
    study1 = projects["study1"]
    admin.set_compute_quotas(study1.id, **STUDY1_COMPUTE_QUOTAS)
    admin.set_network_quotas(study1.id, **STUDY1_NETWORK_QUOTAS)


def seed_flavors(admin: Connection) -> None:
    existing = {flavor.name: flavor for flavor in admin.compute.flavors()}
    for name, (vcpus, ram, disk) in FLAVORS.items():
        flavor = existing.get(name)
        if flavor and (flavor.vcpus, flavor.ram, flavor.disk) == (vcpus, ram, disk):
            continue
        if flavor:
            # flavors cannot be edited; servers keep a copy of theirs
            admin.compute.delete_flavor(flavor)
        admin.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)


def seed_image(admin: Connection) -> str:
    image = admin.image.find_image(IMAGE_NAME)
    if image is not None and image.status == "active":
        return str(image.id)
    if image is not None:
        admin.image.delete_image(image.id)
    if not IMAGE_FILE.exists():
        # a real qcow2 (glance inspects the format and refuses a mislabelled file)
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", str(IMAGE_FILE), "32M"], check=True
        )
    image = admin.create_image(
        IMAGE_NAME,
        filename=str(IMAGE_FILE),
        disk_format="qcow2",
        container_format="bare",
        visibility="public",
        wait=True,
    )
    if image is None:
        raise RuntimeError(f"seed: glance did not create {IMAGE_NAME}")
    print(f"seed: image {IMAGE_NAME} {image.id}")
    return str(image.id)


def seed_public_network(admin: Connection) -> Network:
    network = admin.network.find_network(PUBLIC_NETWORK)
    if network is None:
        network = admin.network.create_network(
            name=PUBLIC_NETWORK,
            is_router_external=True,
            is_shared=True,
            provider_network_type="flat",
            provider_physical_network="public",
        )
    if not list(admin.network.subnets(network_id=network.id)):
        admin.network.create_subnet(
            network_id=network.id,
            name=f"{PUBLIC_NETWORK}-subnet",
            ip_version=4,
            cidr="192.168.0.0/16",
            gateway_ip="192.168.0.1",
            enable_dhcp=False,
        )
    return network


def seed_project(conn: Connection, layout: Layout, image_id: str, public_id: str) -> None:
    net = conn.network
    network = net.find_network(layout.network) or net.create_network(name=layout.network)
    subnets = []
    for name, cidr in layout.subnets:
        subnets.append(
            net.find_subnet(name)
            or net.create_subnet(network_id=network.id, name=name, ip_version=4, cidr=cidr)
        )
    router = net.find_router(layout.router)
    if router is None:
        router = net.create_router(
            name=layout.router, external_gateway_info={"network_id": public_id}
        )
    attached = {
        ip["subnet_id"]
        for port in net.ports(device_id=router.id, device_owner="network:router_interface")
        for ip in port.fixed_ips
    }
    for subnet in subnets:
        if subnet.id not in attached:
            net.add_interface_to_router(router, subnet=subnet.id)
    security_groups = [{"name": "default"}]
    if layout.security_group:
        name, ports = layout.security_group
        group = net.find_security_group(name) or net.create_security_group(name=name)
        have = {
            rule.port_range_min
            for rule in net.security_group_rules(security_group_id=group.id)
            if rule.direction == "ingress"
        }
        for port in ports:
            if port not in have:
                net.create_security_group_rule(
                    security_group_id=group.id,
                    direction="ingress",
                    ethertype="IPv4",
                    protocol="tcp",
                    port_range_min=port,
                    port_range_max=port,
                    remote_ip_prefix="0.0.0.0/0",
                )
        security_groups.append({"name": name})
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    for name in layout.servers:
        if conn.compute.find_server(name) is None:
            # one at a time: the scheduler's RAM weigher then puts each on the emptiest host
            server = conn.compute.create_server(
                name=name,
                flavor_id=flavor.id,
                image_id=image_id,
                networks=[{"uuid": network.id}],
                security_groups=security_groups,
            )
            wait_active(conn, server.id)
    if layout.volume_server and conn.has_service("block-storage"):
        seed_volume_server(conn, layout.volume_server, image_id, network.id, security_groups)
    if layout.floating_ip_for:
        server = conn.compute.find_server(layout.floating_ip_for, ignore_missing=False)
        server_port = next(net.ports(device_id=server.id))
        if not list(net.ips(port_id=server_port.id)):
            net.create_ip(floating_network_id=public_id, port_id=server_port.id)


def seed_volume_server(
    conn: Connection,
    names: tuple[str, str],
    image_id: str,
    network_id: str,
    security_groups: list[dict[str, str]],
) -> None:
    """A bootable volume made from the image, and a server booted from it that keeps it."""
    volume_name, server_name = names
    bs: Any = conn.block_storage  # the v3 proxy; the SDK types it as v2 | v3
    # By listing: this Cinder refuses a `name` filter from a project user (find_volume's).
    volume = next((v for v in bs.volumes() if v.name == volume_name), None)
    if volume is not None and volume.status == "error":
        bs.delete_volume(volume)
        bs.wait_for_delete(volume, wait=120)
        volume = None
    if volume is None:
        volume = bs.create_volume(name=volume_name, size=BOOT_VOLUME_GB, image_id=image_id)
        volume = bs.wait_for_status(volume, status="available", failures=["error"], wait=300)
        print(f"seed: volume {volume_name} {volume.id}")
    if conn.compute.find_server(server_name) is not None:
        return
    volume = bs.wait_for_status(volume, status="available", failures=["error"], wait=120)
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    server = conn.compute.create_server(
        name=server_name,
        flavor_id=flavor.id,
        networks=[{"uuid": network_id}],
        security_groups=security_groups,
        block_device_mapping=[
            {
                "boot_index": 0,
                "uuid": volume.id,
                "source_type": "volume",
                "destination_type": "volume",
                "delete_on_termination": False,
            }
        ],
    )
    wait_active(conn, server.id)


def wait_active(conn: Connection, server_id: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = conn.compute.get_server(server_id)
        if server.status == "ACTIVE":
            return
        if server.status == "ERROR":
            raise RuntimeError(f"seed: server {server.name} went to ERROR: {server.fault}")
        time.sleep(1)
    raise TimeoutError(f"seed: server {server_id} not ACTIVE after {timeout:.0f}s")


def report_servers(admin: Connection) -> None:
    hosts: dict[str, list[str]] = {}
    for name in sorted(SEEDED_SERVERS):
        # nova's name filter is a regular expression: keep only the exact name
        for server in admin.compute.servers(all_projects=True, name=name):
            if server.name == name:
                hosts.setdefault(server.compute_host or "-", []).append(name)
    print(
        "seed: servers by host: "
        + "; ".join(f"{h}: {', '.join(sorted(n))}" for h, n in sorted(hosts.items()))
    )


if __name__ == "__main__":
    main()
