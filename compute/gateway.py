"""Compute for the signed-in member: servers and their actions, flavors, key pairs, server
groups, and the few Neutron, Glance and Cinder reads and writes a launch and the instance
actions need.

Each method makes about one SDK call with the user's own connection and returns frozen
dataclasses. Servers are read with the highest microversion both sides know (up to 2.100):
from 2.47 on a server embeds its flavor (name, vCPUs, RAM, disk), so no page looks flavors up
per row. The servers list is one request for one page (Nova's marker/limit), parsed straight
from JSON: the SDK would ask for a further page after every page and builds costly objects.
"""

from __future__ import annotations

import base64
import email.utils
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions, utils
from openstack.compute.v2 import server as _server
from openstack.connection import Connection

from portal.cloud import cloud_call
from portal.refs import (
    CatalogEndpoint,
    FloatingIp,
    Image,
    Inventory,
    Network,
    Port,
    ProjectRef,
    SecurityGroup,
    SecurityGroupRule,
    Volume,
    VolumeAttachment,
    VolumeService,
    VolumeSnapshot,
)

# Statuses Nova reports while something is happening to a server (a task state, when set,
# says the same more precisely). Rows in these states poll until they settle.
TRANSITIONAL_STATUSES = frozenset(
    {
        "BUILD",
        "REBUILD",
        "REBOOT",
        "HARD_REBOOT",
        "MIGRATING",
        "RESIZE",
        "REVERT_RESIZE",
        "PASSWORD",
    }
)

# OS-EXT-STS:power_state numbers, as Nova defines them (nova/compute/power_state.py).
POWER_STATES = {
    0: "NOSTATE",
    1: "RUNNING",
    3: "PAUSED",
    4: "SHUTDOWN",
    6: "CRASHED",
    7: "SUSPENDED",
}

# Servers are read with the highest microversion both sides know, up to this one: 2.47
# embeds the flavor, 2.69 lists servers of a down cell, 2.71 adds server groups.
SERVERS_MICROVERSION = "2.100"

# From 2.86 Nova validates flavor extra specs of the namespaces it knows.
EXTRA_SPECS_MICROVERSION = "2.86"

# Sort keys a project member may use (Nova refuses host/node sorting to non-admins).
SORT_KEYS = ("display_name", "created_at", "vm_state", "availability_zone", "key_name")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if "+" not in text[10:] and "-" not in text[10:]:
        text += "+00:00"  # Nova's action times carry no zone; they are UTC
    return datetime.fromisoformat(text)


def _http_date(value: str | None) -> datetime | None:
    """An HTTP Date header (whole seconds, GMT), None if missing or unreadable."""
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


# --- what the pages show ------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    network: str
    addr: str
    kind: str  # "fixed" or "floating"
    version: int
    mac: str = ""


@dataclass(frozen=True)
class FlavorSpec:
    """The flavor a server runs with, as embedded in the server (microversion >= 2.47)."""

    name: str
    vcpus: int
    ram: int  # MiB
    disk: int  # GiB
    ephemeral: int = 0
    swap: int = 0


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str
    task_state: str | None = None
    vm_state: str = ""
    power_state: int = 0
    description: str = ""
    availability_zone: str = ""
    key_name: str = ""
    image_id: str = ""  # empty when the server boots from a volume
    flavor: FlavorSpec = FlavorSpec("", 0, 0, 0)
    addresses: tuple[Address, ...] = ()
    security_groups: tuple[str, ...] = ()
    volume_ids: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()
    fault_message: str = ""
    fault_code: int = 0
    locked: bool = False
    locked_reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    launched_at: datetime | None = None
    host: str = ""  # only filled in for admins (Nova's policy)
    project_id: str = ""
    user_id: str = ""
    config_drive: bool = False
    server_groups: tuple[str, ...] = ()

    @property
    def is_transitional(self) -> bool:
        return bool(self.task_state) or self.status in TRANSITIONAL_STATUSES

    @property
    def power_label(self) -> str:
        return POWER_STATES.get(self.power_state, "NOSTATE")

    @property
    def networks(self) -> dict[str, list[Address]]:
        grouped: dict[str, list[Address]] = {}
        for address in self.addresses:
            grouped.setdefault(address.network, []).append(address)
        return grouped

    @property
    def fixed_ips(self) -> list[str]:
        return [a.addr for a in self.addresses if a.kind == "fixed"]

    @property
    def floating_ips(self) -> list[str]:
        return [a.addr for a in self.addresses if a.kind == "floating"]


@dataclass(frozen=True)
class ServerQuery:
    """One page of the servers list: Nova filters, sort, and marker/limit paging."""

    name: str = ""  # Nova matches it as a regular expression; callers escape
    status: str = ""
    ip: str = ""  # also a regular expression in Nova
    sort_key: str = "created_at"
    sort_dir: str = "desc"
    marker: str = ""
    backwards: bool = False  # the page before `marker` (sort reversed, then flipped back)
    limit: int = 20
    all_projects: bool = False  # admins: every project's servers
    project_id: str = ""  # with all_projects: one project only
    host: str = ""  # admins: servers on one compute host
    # Nova's changes-since: only servers updated at or after this time, deleted ones too
    # (status DELETED). compute/warm.py keeps lists warm with it.
    changes_since: datetime | None = None
    # Matched over the warm list (compute/warm.py), never sent: Nova filters flavor and
    # image by id only, the page filters by name (regular expressions, like name and ip).
    flavor: str = ""
    image: str = ""


@dataclass(frozen=True)
class ServerPage:
    servers: tuple[Server, ...]
    next_marker: str = ""  # "" when this is the last page
    prev_marker: str = ""  # "" when this is the first page
    as_of: datetime | None = None  # Nova's clock when it answered (its Date header)


@dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int  # MiB
    disk: int  # GiB
    ephemeral: int = 0
    is_public: bool = True
    swap: int = 0  # MiB
    rxtx_factor: float = 1.0
    extra_specs: tuple[tuple[str, str], ...] = ()  # sorted by key


@dataclass(frozen=True)
class NewFlavor:
    """What Admin › Flavors creates; an empty id lets Nova generate one (a UUID)."""

    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    id: str = ""


@dataclass(frozen=True)
class Limits:
    """Nova's absolute limits for the project: -1 means unlimited."""

    instances: int
    instances_used: int
    cores: int
    cores_used: int
    ram: int  # MiB
    ram_used: int
    keypairs: int = -1
    server_groups: int = -1
    server_groups_used: int = 0

    @staticmethod
    def _left(limit: int, used: int) -> int | None:
        return None if limit < 0 else max(0, limit - used)

    @property
    def instances_left(self) -> int | None:
        return self._left(self.instances, self.instances_used)

    @property
    def cores_left(self) -> int | None:
        return self._left(self.cores, self.cores_used)

    @property
    def ram_left(self) -> int | None:
        return self._left(self.ram, self.ram_used)


@dataclass(frozen=True)
class AvailabilityZone:
    name: str
    available: bool


@dataclass(frozen=True)
class Keypair:
    name: str
    fingerprint: str
    type: str = "ssh"
    public_key: str = ""


@dataclass(frozen=True)
class NewKeypair:
    """A key pair Nova just generated: the private key exists only in this object."""

    name: str
    fingerprint: str
    private_key: str


@dataclass(frozen=True)
class ServerGroup:
    id: str
    name: str
    policy: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerAction:
    action: str
    request_id: str
    user_id: str
    start_time: datetime | None
    message: str = ""


@dataclass(frozen=True)
class RemoteConsole:
    type: str
    url: str


@dataclass(frozen=True)
class Nic:
    """One network interface of a launch, in order: a network, or an existing port."""

    network_id: str = ""
    port_id: str = ""


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a launch asks Nova for (the wizard's validated answers)."""

    name: str
    flavor_id: str
    source_type: str  # "image", "snapshot", "volume" or "volume_snapshot"
    source_id: str
    count: int = 1
    description: str = ""
    availability_zone: str = ""
    create_volume: bool = False  # image/snapshot sources: boot from a new volume
    volume_size: int = 0  # GiB, for a new volume
    delete_volume_on_delete: bool = False
    nics: tuple[Nic, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    key_name: str = ""
    user_data: str = ""
    config_drive: bool = False
    server_group_id: str = ""
    scheduler_hints: tuple[tuple[str, str], ...] = ()
    metadata: tuple[tuple[str, str], ...] = field(default=())


# --- SDK objects -> dataclasses ------------------------------------------------------------


def _addresses(raw: Mapping[str, Any] | None) -> tuple[Address, ...]:
    found = []
    for network, entries in (raw or {}).items():
        for entry in entries or []:
            found.append(
                Address(
                    network=network,
                    addr=entry.get("addr", ""),
                    kind=entry.get("OS-EXT-IPS:type", "fixed"),
                    version=int(entry.get("version", 4)),
                    mac=entry.get("OS-EXT-IPS-MAC:mac_addr", ""),
                )
            )
    return tuple(found)


def _flavor_spec(raw: Any) -> FlavorSpec:
    if raw is None:
        return FlavorSpec("", 0, 0, 0)
    get = raw.get if isinstance(raw, dict) else lambda k, d=None: getattr(raw, k, d)
    return FlavorSpec(
        name=get("original_name") or get("name") or get("id") or "",
        vcpus=int(get("vcpus") or 0),
        ram=int(get("ram") or 0),
        disk=int(get("disk") or 0),
        ephemeral=int(get("ephemeral") or 0),
        swap=int(get("swap") or 0),
    )


def _image_id(raw: Any) -> str:
    # A server booted from a volume has image "" (not an object).
    if not raw:
        return ""
    if isinstance(raw, dict):
        return str(raw.get("id") or "")
    return str(getattr(raw, "id", "") or "")


def to_server(s: Mapping[str, Any]) -> Server:
    """A server from Nova's JSON. Parsed directly: building SDK Server objects costs a few
    milliseconds each, which a page of servers would feel."""
    fault = s.get("fault") or {}
    return Server(
        id=str(s["id"]),
        name=s.get("name") or "",
        status=s.get("status") or "",
        task_state=s.get("OS-EXT-STS:task_state") or None,
        vm_state=s.get("OS-EXT-STS:vm_state") or "",
        power_state=int(s.get("OS-EXT-STS:power_state") or 0),
        description=s.get("description") or "",
        availability_zone=s.get("OS-EXT-AZ:availability_zone") or "",
        key_name=s.get("key_name") or "",
        image_id=_image_id(s.get("image")),
        flavor=_flavor_spec(s.get("flavor")),
        addresses=_addresses(s.get("addresses")),
        security_groups=tuple(sorted({g.get("name", "") for g in s.get("security_groups") or []})),
        volume_ids=tuple(
            v.get("id", "") for v in s.get("os-extended-volumes:volumes_attached") or []
        ),
        metadata=tuple(sorted((s.get("metadata") or {}).items())),
        fault_message=str(fault.get("message") or "").strip(),
        fault_code=int(fault.get("code") or 0),
        locked=bool(s.get("locked")),
        locked_reason=s.get("locked_reason") or "",
        created_at=_parse_time(s.get("created")),
        updated_at=_parse_time(s.get("updated")),
        launched_at=_parse_time(s.get("OS-SRV-USG:launched_at")),
        host=s.get("OS-EXT-SRV-ATTR:host") or "",
        project_id=s.get("tenant_id") or "",
        user_id=s.get("user_id") or "",
        config_drive=str(s.get("config_drive") or "").lower() in {"true", "1", "yes"},
        server_groups=tuple(s.get("server_groups") or ()),
    )


def to_flavor(f: Any) -> Flavor:
    """An SDK flavor (read at 2.61+, so its extra specs come with it, no call per flavor)."""
    return Flavor(
        id=f.id,
        name=f.name,
        vcpus=int(f.vcpus or 0),
        ram=int(f.ram or 0),
        disk=int(f.disk or 0),
        ephemeral=int(f.ephemeral or 0),
        is_public=bool(f.is_public),
        swap=int(f.swap or 0),  # Nova before 2.75 sends "" for no swap
        rxtx_factor=float(f.rxtx_factor or 1.0),
        extra_specs=tuple(sorted((str(k), str(v)) for k, v in (f.extra_specs or {}).items())),
    )


def to_image(i: Any) -> Image:
    props = i.properties or {}
    return Image(
        id=i.id,
        name=i.name or "",
        status=i.status or "",
        min_disk=int(i.min_disk or 0),
        min_ram=int(i.min_ram or 0),
        size=int(i.size or 0),
        is_snapshot=props.get("image_type") == "snapshot" or bool(i.instance_uuid),
        visibility=i.visibility or "",
        owner=i.owner or "",
        instance_id=i.instance_uuid or "",
        created_at=_parse_time(i.created_at),
    )


def to_port(p: Any) -> Port:
    return Port(
        id=p.id,
        name=p.name or "",
        network_id=p.network_id,
        fixed_ips=tuple(ip.get("ip_address", "") for ip in p.fixed_ips or []),
        device_id=p.device_id or "",
        device_owner=p.device_owner or "",
        security_group_ids=tuple(p.security_group_ids or ()),
        mac=p.mac_address or "",
        status=p.status or "",
    )


def to_volume(v: Any) -> Volume:
    return Volume(
        id=v.id,
        name=v.name or "",
        size=int(v.size or 0),
        status=v.status or "",
        is_bootable=str(v.is_bootable).lower() == "true",
        attachments=tuple(
            VolumeAttachment(v.id, a.get("device") or "", a.get("server_id") or "")
            for a in v.attachments or []
        ),
        volume_type=v.volume_type or "",
        description=v.description or "",
        created_at=_parse_time(v.created_at),
    )


def _block_device(spec: LaunchSpec) -> list[dict[str, Any]] | None:
    """Nova's block_device_mapping_v2 for a launch that boots from a volume."""
    if spec.source_type == "volume":
        source, size = "volume", None
    elif spec.source_type == "volume_snapshot":
        source, size = "snapshot", spec.volume_size or None
    elif spec.create_volume:
        source, size = "image", spec.volume_size
    else:
        return None
    mapping: dict[str, Any] = {
        "boot_index": 0,
        "uuid": spec.source_id,
        "source_type": source,
        "destination_type": "volume",
        "delete_on_termination": spec.delete_volume_on_delete,
    }
    if size:
        mapping["volume_size"] = size
    return [mapping]


def launch_attrs(spec: LaunchSpec) -> dict[str, Any]:
    """The create_server arguments for a launch (kept apart from the call to be testable)."""
    attrs: dict[str, Any] = {
        "name": spec.name,
        "flavor_id": spec.flavor_id,
        "min_count": spec.count,
        "max_count": spec.count,
        "networks": [
            {"port": nic.port_id} if nic.port_id else {"uuid": nic.network_id} for nic in spec.nics
        ]
        or "none",
    }
    bdm = _block_device(spec)
    if bdm is None:
        attrs["image_id"] = spec.source_id
    else:
        attrs["block_device_mapping"] = bdm
    if spec.description:
        attrs["description"] = spec.description
    if spec.availability_zone:
        attrs["availability_zone"] = spec.availability_zone
    if spec.security_group_ids:
        # Nova hands these to Neutron, which takes a name or an id; ids are unambiguous.
        attrs["security_groups"] = [{"name": g} for g in spec.security_group_ids]
    if spec.key_name:
        attrs["key_name"] = spec.key_name
    if spec.user_data:
        attrs["user_data"] = base64.b64encode(spec.user_data.encode()).decode()
    if spec.config_drive:
        attrs["config_drive"] = True
    hints: dict[str, Any] = {}
    for key, value in spec.scheduler_hints:
        hints.setdefault(key, []).append(value)
    flat: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in hints.items()}
    if spec.server_group_id:
        flat["group"] = spec.server_group_id
    if flat:
        attrs["scheduler_hints"] = flat
    if spec.metadata:
        attrs["metadata"] = dict(spec.metadata)
    return attrs


class ComputeGateway:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has_volumes(self) -> bool:
        """Whether the cloud has Cinder (from the token's catalog; no API call)."""
        return bool(self.conn.has_service("block-storage"))

    def _nova(self) -> str:
        """The servers microversion: the highest both the cloud and the portal know, at least
        2.47 (flavor embedded in each server). Discovery is cached per process."""
        return (
            utils.maximum_supported_microversion(self.conn.compute, SERVERS_MICROVERSION) or "2.47"
        )

    # --- servers -------------------------------------------------------------------------

    @cloud_call
    def list_servers(self, query: ServerQuery) -> ServerPage:
        """One page of servers in one Nova call (GET /servers/detail with marker/limit)."""
        params: dict[str, Any] = {
            "limit": query.limit + 1,  # one more tells whether another page follows
            "sort_key": query.sort_key,
            "sort_dir": query.sort_dir,
        }
        if query.backwards:
            params["sort_dir"] = "asc" if query.sort_dir == "desc" else "desc"
        if query.marker:
            params["marker"] = query.marker
        if query.name:
            params["name"] = query.name
        if query.status:
            params["status"] = query.status
        if query.ip:
            params["ip"] = query.ip
        if query.project_id:
            params["project_id"] = query.project_id
        if query.host:
            params["host"] = query.host
        if query.all_projects:
            params["all_tenants"] = "True"
        if query.changes_since:
            params["changes-since"] = query.changes_since.isoformat()
        # One request (the SDK's own pagination would ask for one more page after a short
        # one), parsed without building SDK objects.
        response = self.conn.compute.get(
            "/servers/detail", params=params, microversion=self._nova()
        )
        body = _json(response)
        as_of = _http_date(response.headers.get("Date"))
        # Right after a multi-create Nova can list a server twice (once as a build request,
        # once from its cell) while it moves between them; a page shows each server once.
        unique = {s["id"]: s for s in body.get("servers", [])}
        servers = [to_server(s) for s in unique.values()]
        more = len(servers) > query.limit
        servers = servers[: query.limit]
        if query.backwards:
            servers.reverse()
            next_marker = servers[-1].id if servers else ""
            prev_marker = servers[0].id if (more and servers) else ""
        else:
            next_marker = servers[-1].id if (more and servers) else ""
            prev_marker = servers[0].id if (query.marker and servers) else ""
        return ServerPage(tuple(servers), next_marker, prev_marker, as_of)

    @cloud_call
    def get_server(self, server_id: str) -> Server:
        body = _json(self.conn.compute.get(f"/servers/{server_id}", microversion=self._nova()))
        return to_server(body["server"])

    @cloud_call
    def create_server(self, spec: LaunchSpec) -> str:
        """Launch `spec.count` servers at once; returns the first one's id."""
        created = self.conn.compute.create_server(**launch_attrs(spec))
        return str(created.id)

    @cloud_call
    def update_server(self, server_id: str, name: str, description: str) -> None:
        self.conn.compute.update_server(server_id, name=name, description=description)

    @cloud_call
    def delete_server(self, server_id: str) -> None:
        self.conn.compute.delete_server(server_id, ignore_missing=False)

    @cloud_call
    def create_server_image(self, server_id: str, name: str) -> str:
        """An instance snapshot; returns the new image's id (microversion >= 2.45)."""
        # Server.create_image makes the one Nova call; the proxy's create_server_image would
        # also fetch the new image from Glance.
        return str(_server.Server.new(id=server_id).create_image(self.conn.compute, name))

    @cloud_call
    def pause_server(self, server_id: str) -> None:
        self.conn.compute.pause_server(server_id)

    @cloud_call
    def unpause_server(self, server_id: str) -> None:
        self.conn.compute.unpause_server(server_id)

    @cloud_call
    def suspend_server(self, server_id: str) -> None:
        self.conn.compute.suspend_server(server_id)

    @cloud_call
    def resume_server(self, server_id: str) -> None:
        self.conn.compute.resume_server(server_id)

    @cloud_call
    def shelve_server(self, server_id: str) -> None:
        self.conn.compute.shelve_server(server_id)

    @cloud_call
    def unshelve_server(self, server_id: str) -> None:
        self.conn.compute.unshelve_server(server_id)

    @cloud_call
    def stop_server(self, server_id: str) -> None:
        self.conn.compute.stop_server(server_id)

    @cloud_call
    def start_server(self, server_id: str) -> None:
        self.conn.compute.start_server(server_id)

    @cloud_call
    def reboot_server(self, server_id: str, hard: bool = False) -> None:
        self.conn.compute.reboot_server(server_id, "HARD" if hard else "SOFT")

    @cloud_call
    def resize_server(self, server_id: str, flavor_id: str) -> None:
        self.conn.compute.resize_server(server_id, flavor_id)

    @cloud_call
    def confirm_server_resize(self, server_id: str) -> None:
        self.conn.compute.confirm_server_resize(server_id)

    @cloud_call
    def revert_server_resize(self, server_id: str) -> None:
        self.conn.compute.revert_server_resize(server_id)

    @cloud_call
    def rebuild_server(self, server_id: str, image_id: str) -> None:
        self.conn.compute.rebuild_server(server_id, image_id)

    @cloud_call
    def lock_server(self, server_id: str, reason: str = "") -> None:
        self.conn.compute.lock_server(server_id, locked_reason=reason or None)

    @cloud_call
    def unlock_server(self, server_id: str) -> None:
        self.conn.compute.unlock_server(server_id)

    @cloud_call
    def rescue_server(self, server_id: str, image_id: str = "", password: str = "") -> None:
        self.conn.compute.rescue_server(
            server_id, admin_pass=password or None, image=image_id or None
        )

    @cloud_call
    def unrescue_server(self, server_id: str) -> None:
        self.conn.compute.unrescue_server(server_id)

    @cloud_call
    def add_security_group_to_server(self, server_id: str, group_id: str) -> None:
        # Nova's addSecurityGroup takes a "name"; Neutron resolves an id there too.
        self.conn.compute.add_security_group_to_server(server_id, group_id)

    @cloud_call
    def remove_security_group_from_server(self, server_id: str, group_id: str) -> None:
        self.conn.compute.remove_security_group_from_server(server_id, group_id)

    @cloud_call
    def get_server_console_output(self, server_id: str, length: int | None = None) -> str:
        output = self.conn.compute.get_server_console_output(server_id, length=length)
        return str((output or {}).get("output") or "")

    @cloud_call
    def create_server_remote_console(self, server_id: str) -> RemoteConsole:
        """A remote console URL (POST /servers/{id}/remote-consoles, microversion >= 2.6)."""
        console = self.conn.compute.create_console(server_id, console_type="novnc") or {}
        return RemoteConsole(type=str(console.get("type") or "novnc"), url=str(console.get("url")))

    @cloud_call
    def list_server_actions(self, server_id: str) -> list[ServerAction]:
        return [
            ServerAction(
                action=a.action or "",
                request_id=a.request_id or "",
                user_id=a.user_id or "",
                start_time=_parse_time(a.start_time),
                message=a.message or "",
            )
            for a in self.conn.compute.server_actions(server_id)
        ]

    @cloud_call
    def create_server_interface(
        self, server_id: str, network_id: str = "", port_id: str = ""
    ) -> None:
        if port_id:
            self.conn.compute.create_server_interface(server_id, port_id=port_id)
        else:
            self.conn.compute.create_server_interface(server_id, net_id=network_id)

    @cloud_call
    def delete_server_interface(self, server_id: str, port_id: str) -> None:
        self.conn.compute.delete_server_interface(port_id, server=server_id, ignore_missing=False)

    @cloud_call
    def list_volume_attachments(self, server_id: str) -> list[VolumeAttachment]:
        return [
            VolumeAttachment(
                volume_id=a.volume_id, device=a.device or "", server_id=a.server_id or server_id
            )
            for a in self.conn.compute.volume_attachments(server_id)
        ]

    @cloud_call
    def create_volume_attachment(self, server_id: str, volume_id: str) -> None:
        self.conn.compute.create_volume_attachment(server_id, volume_id=volume_id)

    @cloud_call
    def delete_volume_attachment(self, server_id: str, volume_id: str) -> None:
        self.conn.compute.delete_volume_attachment(server_id, volume_id, ignore_missing=False)

    # --- what a launch chooses from --------------------------------------------------------

    @cloud_call
    def list_flavors(self) -> list[Flavor]:
        """The flavors the caller may use: a member sees the public ones and the private ones
        their project was given; an admin sees all (the SDK asks with is_public=None)."""
        flavors = [to_flavor(f) for f in self.conn.compute.flavors(details=True)]
        return sorted(flavors, key=lambda f: (f.vcpus, f.ram, f.disk, f.name))

    @cloud_call
    def get_limits(self) -> Limits:
        a = self.conn.compute.get_limits().absolute
        return Limits(
            instances=int(a.instances),
            instances_used=int(a.instances_used or 0),
            cores=int(a.total_cores),
            cores_used=int(a.total_cores_used or 0),
            ram=int(a.total_ram),
            ram_used=int(a.total_ram_used or 0),
            keypairs=int(a.keypairs if a.keypairs is not None else -1),
            server_groups=int(a.server_groups if a.server_groups is not None else -1),
            server_groups_used=int(a.server_groups_used or 0),
        )

    @cloud_call
    def list_availability_zones(self) -> list[AvailabilityZone]:
        return [
            AvailabilityZone(name=z.name, available=bool((z.state or {}).get("available")))
            for z in self.conn.compute.availability_zones()
        ]

    @cloud_call
    def list_images(self) -> list[Image]:
        """Every image the project may boot (its own, shared, public) in one Glance call: a
        page larger than any project's image list, and no follow-up request (paginated=False;
        given a limit, the SDK would always ask for one more page)."""
        images = self.conn.image.images(limit=1000, sort="name:asc", paginated=False)
        return [to_image(i) for i in images]

    @cloud_call
    def get_image(self, image_id: str) -> Image:
        return to_image(self.conn.image.get_image(image_id))

    # --- key pairs -------------------------------------------------------------------------

    @cloud_call
    def list_keypairs(self) -> list[Keypair]:
        return sorted(
            (
                Keypair(
                    name=k.name,
                    fingerprint=k.fingerprint or "",
                    type=k.type or "ssh",
                    public_key=k.public_key or "",
                )
                for k in self.conn.compute.keypairs()
            ),
            key=lambda k: k.name.lower(),
        )

    @cloud_call
    def create_keypair(self, name: str) -> NewKeypair:
        """Nova generates the pair (microversion <= 2.91) and returns the private key once."""
        k = self.conn.compute.create_keypair(name=name)
        return NewKeypair(name=k.name, fingerprint=k.fingerprint or "", private_key=k.private_key)

    @cloud_call
    def import_keypair(self, name: str, public_key: str) -> Keypair:
        k = self.conn.compute.create_keypair(name=name, public_key=public_key)
        return Keypair(name=k.name, fingerprint=k.fingerprint or "", public_key=public_key)

    @cloud_call
    def delete_keypair(self, name: str) -> None:
        self.conn.compute.delete_keypair(name, ignore_missing=False)

    # --- server groups ---------------------------------------------------------------------

    @cloud_call
    def list_server_groups(self) -> list[ServerGroup]:
        return sorted(
            (
                ServerGroup(
                    id=g.id,
                    name=g.name or "",
                    policy=g.policy or (g.policies or [""])[0],
                    members=tuple(g.member_ids or ()),
                )
                for g in self.conn.compute.server_groups()
            ),
            key=lambda g: g.name.lower(),
        )

    @cloud_call
    def create_server_group(self, name: str, policy: str) -> ServerGroup:
        g = self.conn.compute.create_server_group(name=name, policy=policy)
        return ServerGroup(id=g.id, name=g.name, policy=g.policy or policy)

    @cloud_call
    def delete_server_group(self, group_id: str) -> None:
        self.conn.compute.delete_server_group(group_id, ignore_missing=False)

    # --- Neutron: networks, ports, security groups, floating IPs ---------------------------

    @cloud_call
    def list_networks(self) -> list[Network]:
        """Networks a server of this project can be plugged into (own and shared)."""
        networks = [
            Network(
                id=n.id,
                name=n.name or "",
                is_shared=bool(n.is_shared),
                is_external=bool(n.is_router_external),
                subnet_ids=tuple(n.subnet_ids or ()),
                status=n.status or "",
            )
            for n in self.conn.network.networks()
        ]
        return sorted(networks, key=lambda n: (n.is_external, n.name.lower()))

    @cloud_call
    def list_ports(self, device_id: str | None = None) -> list[Port]:
        """The project's ports: those of one server (`device_id`), or all of them."""
        query: dict[str, Any] = {"project_id": self.conn.current_project_id}
        if device_id is not None:
            query = {"device_id": device_id}
        return [to_port(p) for p in self.conn.network.ports(**query)]

    @cloud_call
    def list_security_groups(self) -> list[SecurityGroup]:
        groups = [
            SecurityGroup(
                id=g.id,
                name=g.name or "",
                description=g.description or "",
                rules=tuple(
                    SecurityGroupRule(
                        direction=r.get("direction", ""),
                        ethertype=r.get("ethertype", ""),
                        protocol=r.get("protocol") or "",
                        port_min=r.get("port_range_min"),
                        port_max=r.get("port_range_max"),
                        remote_ip_prefix=r.get("remote_ip_prefix") or "",
                        remote_group_id=r.get("remote_group_id") or "",
                    )
                    for r in g.security_group_rules or []
                ),
            )
            for g in self.conn.network.security_groups(project_id=self.conn.current_project_id)
        ]
        return sorted(groups, key=lambda g: g.name.lower())

    @cloud_call
    def list_floating_ips(self) -> list[FloatingIp]:
        return [
            FloatingIp(
                id=f.id,
                address=f.floating_ip_address,
                port_id=f.port_id or "",
                fixed_address=f.fixed_ip_address or "",
                network_id=f.floating_network_id or "",
                status=f.status or "",
            )
            for f in self.conn.network.ips(project_id=self.conn.current_project_id)
        ]

    @cloud_call
    def create_floating_ip(self, network_id: str) -> FloatingIp:
        f = self.conn.network.create_ip(floating_network_id=network_id)
        return FloatingIp(id=f.id, address=f.floating_ip_address, network_id=network_id)

    @cloud_call
    def update_floating_ip(self, floating_ip_id: str, port_id: str | None) -> None:
        """Associate the floating IP with a port, or (None) disassociate it."""
        self.conn.network.update_ip(floating_ip_id, port_id=port_id)

    # --- Cinder ----------------------------------------------------------------------------

    @cloud_call
    def list_volumes(self) -> list[Volume]:
        return sorted(
            (to_volume(v) for v in self.conn.block_storage.volumes(details=True)),
            key=lambda v: (v.name.lower(), v.id),
        )

    @cloud_call
    def list_volume_snapshots(self) -> list[VolumeSnapshot]:
        return [
            VolumeSnapshot(
                id=s.id,
                name=s.name or "",
                size=int(s.size or 0),
                status=s.status or "",
                volume_id=s.volume_id or "",
            )
            for s in self.conn.block_storage.snapshots(details=True)
        ]


def names_by_id(items: Iterable[Image | Network | Volume]) -> dict[str, str]:
    return {item.id: item.label for item in items}


# --- admin ---------------------------------------------------------------------------------
# What only a cloud administrator calls: hypervisors and their Placement resource providers,
# compute services, aggregates, migrations, and the health of every service. Still the
# signed-in user's own connection (or, in a long job, the job's delegated one): the cloud's
# policy decides.

# Nova's migration statuses while a migration is still under way (nova/objects/migration.py).
MIGRATION_RUNNING = frozenset(
    {"queued", "preparing", "running", "post-migrating", "migrating", "accepted", "pre-migrating"}
)
# A live migration may be aborted in these (2.24: running; 2.65: also queued and preparing),
# and forced to complete only while it is copying memory (2.22).
MIGRATION_ABORTABLE = frozenset({"queued", "preparing", "running"})
MIGRATION_FORCEABLE = frozenset({"running"})
MIGRATIONS_MICROVERSION = "2.80"  # uuid, paging, user and project of each migration


@dataclass(frozen=True)
class Hypervisor:
    """A compute node; its id is also its Placement resource provider's uuid (>= 2.53)."""

    id: str
    name: str  # hypervisor_hostname
    host: str  # the compute service's host
    type: str
    state: str  # up / down
    status: str  # enabled / disabled
    server_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComputeService:
    id: str
    binary: str
    host: str
    zone: str
    status: str  # enabled / disabled
    state: str  # up / down
    disabled_reason: str = ""
    forced_down: bool = False
    updated_at: datetime | None = None

    @property
    def is_up(self) -> bool:
        return self.state == "up" and not self.forced_down


@dataclass(frozen=True)
class Aggregate:
    id: str
    name: str
    availability_zone: str = ""
    hosts: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Migration:
    """A row of Nova's os-migrations (live, cold, resize, evacuation)."""

    id: int
    uuid: str
    server_id: str
    migration_type: str  # live-migration / migration / resize / evacuation
    status: str
    source_host: str = ""
    dest_host: str = ""
    project_id: str = ""
    user_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_running(self) -> bool:
        return self.status in MIGRATION_RUNNING


@dataclass(frozen=True)
class ServerMigration:
    """An in-progress live migration of one server, with what Nova reports of its copying
    (the fake virt driver may report zeros: shown as reported)."""

    id: int
    status: str
    source_host: str = ""
    dest_host: str = ""
    memory_total: int = 0
    memory_processed: int = 0
    memory_remaining: int = 0
    disk_total: int = 0
    disk_processed: int = 0
    disk_remaining: int = 0

    @property
    def percent(self) -> int | None:
        """Bytes copied so far, memory and disk together; None when Nova reports nothing."""
        total = self.memory_total + self.disk_total
        if total <= 0:
            return None
        return min(100, (self.memory_processed + self.disk_processed) * 100 // total)

    @property
    def abortable(self) -> bool:
        return self.status in MIGRATION_ABORTABLE

    @property
    def forceable(self) -> bool:
        return self.status in MIGRATION_FORCEABLE


@dataclass(frozen=True)
class NetworkAgent:
    id: str
    agent_type: str
    binary: str
    host: str
    alive: bool
    admin_state_up: bool = True
    last_heartbeat: datetime | None = None


@dataclass(frozen=True)
class Probe:
    """One unauthenticated GET of an endpoint: any HTTP answer means it is reachable."""

    url: str
    reachable: bool
    status_code: int = 0
    milliseconds: int = 0
    error: str = ""


def _json(resp: Any) -> Any:
    """A raw SDK request's JSON, raising the SDK's exception for an error status (translated
    by cloud_call like any other)."""
    exceptions.raise_from_response(resp)
    return resp.json()


def to_migration(m: Mapping[str, Any]) -> Migration:
    return Migration(
        id=int(m.get("id") or 0),
        uuid=str(m.get("uuid") or ""),
        server_id=str(m.get("instance_uuid") or ""),
        migration_type=str(m.get("migration_type") or ""),
        status=str(m.get("status") or ""),
        source_host=str(m.get("source_compute") or ""),
        dest_host=str(m.get("dest_compute") or ""),
        project_id=str(m.get("project_id") or ""),
        user_id=str(m.get("user_id") or ""),
        created_at=_parse_time(m.get("created_at")),
        updated_at=_parse_time(m.get("updated_at")),
    )


def to_server_migration(m: Mapping[str, Any]) -> ServerMigration:
    return ServerMigration(
        id=int(m.get("id") or 0),
        status=str(m.get("status") or ""),
        source_host=str(m.get("source_compute") or ""),
        dest_host=str(m.get("dest_compute") or ""),
        memory_total=int(m.get("memory_total_bytes") or 0),
        memory_processed=int(m.get("memory_processed_bytes") or 0),
        memory_remaining=int(m.get("memory_remaining_bytes") or 0),
        disk_total=int(m.get("disk_total_bytes") or 0),
        disk_processed=int(m.get("disk_processed_bytes") or 0),
        disk_remaining=int(m.get("disk_remaining_bytes") or 0),
    )


class AdminGateway(ComputeGateway):
    """ComputeGateway plus what only an administrator may call."""

    # --- hypervisors and Placement ---------------------------------------------------------

    @cloud_call
    def list_hypervisors(self) -> list[Hypervisor]:
        """Every compute node with the ids of its servers (2.53+), in one Nova call."""
        found = [
            Hypervisor(
                id=h.id,
                name=h.name or "",
                host=str((h.service_details or {}).get("host") or h.name or ""),
                type=h.hypervisor_type or "",
                state=h.state or "",
                status=h.status or "",
                server_ids=tuple(s.get("uuid", "") for s in h.servers or []),
            )
            for h in self.conn.compute.hypervisors(details=True, with_servers=True)
        ]
        return sorted(found, key=lambda h: h.host)

    @cloud_call
    def list_resource_provider_inventories(self, provider_id: str) -> list[Inventory]:
        return [
            Inventory(
                resource_class=i.resource_class,
                total=int(i.total or 0),
                reserved=int(i.reserved or 0),
                allocation_ratio=float(i.allocation_ratio or 1.0),
                max_unit=int(i.max_unit or 0),
            )
            for i in self.conn.placement.resource_provider_inventories(provider_id)
        ]

    @cloud_call
    def get_resource_provider_usages(self, provider_id: str) -> dict[str, int]:
        usages = self.conn.placement.fetch_resource_provider_usages(provider_id).usages or {}
        return {k: int(v or 0) for k, v in usages.items()}

    # --- compute services ------------------------------------------------------------------

    @cloud_call
    def list_services(self, binary: str = "") -> list[ComputeService]:
        query = {"binary": binary} if binary else {}
        found = [
            ComputeService(
                id=s.id,
                binary=s.binary or "",
                host=s.host or "",
                zone=s.availability_zone or "",
                status=s.status or "",
                state=s.state or "",
                disabled_reason=s.disabled_reason or "",
                forced_down=bool(s.is_forced_down),
                updated_at=_parse_time(s.updated_at),
            )
            for s in self.conn.compute.services(**query)
        ]
        return sorted(found, key=lambda s: (s.binary, s.host))

    @cloud_call
    def disable_service(self, service_id: str, reason: str = "") -> None:
        """PUT /os-services/{id} (2.53+): status disabled, with the reason when given."""
        attrs: dict[str, Any] = {"status": "disabled"}
        if reason:
            attrs["disabled_reason"] = reason
        self.conn.compute.update_service(service_id, **attrs)

    @cloud_call
    def enable_service(self, service_id: str) -> None:
        self.conn.compute.update_service(service_id, status="enabled")

    @cloud_call
    def update_service_forced_down(self, service_id: str, forced: bool) -> None:
        self.conn.compute.update_service(service_id, forced_down=forced)

    # --- aggregates ------------------------------------------------------------------------

    @cloud_call
    def list_aggregates(self) -> list[Aggregate]:
        found = [
            Aggregate(
                id=str(a.id),
                name=a.name or "",
                availability_zone=a.availability_zone or "",
                hosts=tuple(sorted(a.hosts or ())),
                metadata=tuple(
                    sorted(
                        (k, str(v))
                        for k, v in (a.metadata or {}).items()
                        if k != "availability_zone"  # shown as its own column
                    )
                ),
            )
            for a in self.conn.compute.aggregates()
        ]
        return sorted(found, key=lambda a: a.name.lower())

    @cloud_call
    def create_aggregate(self, name: str, availability_zone: str = "") -> str:
        created = self.conn.compute.create_aggregate(
            name=name, availability_zone=availability_zone or None
        )
        return str(created.id)

    @cloud_call
    def delete_aggregate(self, aggregate_id: str) -> None:
        self.conn.compute.delete_aggregate(aggregate_id, ignore_missing=False)

    @cloud_call
    def add_host_to_aggregate(self, aggregate_id: str, host: str) -> None:
        self.conn.compute.add_host_to_aggregate(aggregate_id, host)

    @cloud_call
    def remove_host_from_aggregate(self, aggregate_id: str, host: str) -> None:
        self.conn.compute.remove_host_from_aggregate(aggregate_id, host)

    @cloud_call
    def set_aggregate_metadata(self, aggregate_id: str, metadata: dict[str, str | None]) -> None:
        """Set keys; a key whose value is None is removed (Nova's own convention)."""
        self.conn.compute.set_aggregate_metadata(aggregate_id, metadata)

    # --- flavors ---------------------------------------------------------------------------

    @cloud_call
    def get_flavor(self, flavor_id: str) -> Flavor:
        return to_flavor(self.conn.compute.get_flavor(flavor_id))

    @cloud_call
    def create_flavor(self, spec: NewFlavor) -> str:
        """POST /flavors; a name or id already taken is Nova's 409."""
        created = self.conn.compute.create_flavor(
            id=spec.id or None,
            name=spec.name,
            vcpus=spec.vcpus,
            ram=spec.ram,
            disk=spec.disk,
            ephemeral=spec.ephemeral,
            swap=spec.swap,
            rxtx_factor=spec.rxtx_factor,
            is_public=spec.is_public,
        )
        return str(created.id)

    @cloud_call
    def delete_flavor(self, flavor_id: str) -> None:
        """Nova deletes a flavor even while instances use it: they keep their embedded copy
        (2.47+), but cannot be resized back to it or rebuilt into it."""
        self.conn.compute.delete_flavor(flavor_id, ignore_missing=False)

    @cloud_call
    def update_flavor_extra_specs(self, flavor_id: str, specs: dict[str, str]) -> None:
        """Set keys (others stay). Sent at 2.86 when the cloud has it: from there Nova checks
        the keys and values of the namespaces it knows (hw:, quota:, ...) and says what is
        wrong; the SDK would send 2.61, where anything is stored."""
        version = utils.maximum_supported_microversion(self.conn.compute, EXTRA_SPECS_MICROVERSION)
        _json(
            self.conn.compute.post(
                f"/flavors/{flavor_id}/os-extra_specs",
                json={"extra_specs": specs},
                microversion=version,
            )
        )

    @cloud_call
    def delete_flavor_extra_spec(self, flavor_id: str, key: str) -> None:
        self.conn.compute.delete_flavor_extra_specs_property(flavor_id, key, ignore_missing=False)

    @cloud_call
    def list_flavor_access(self, flavor_id: str) -> list[str]:
        """The ids of the projects given a private flavor (Nova has no list for public ones)."""
        found = self.conn.compute.get_flavor_access(flavor_id)
        return sorted(str(a.get("tenant_id", "")) for a in found)

    @cloud_call
    def add_flavor_access(self, flavor_id: str, project_id: str) -> None:
        """Nova checks the project with Keystone (400 when unknown; 409 when given already)."""
        self.conn.compute.flavor_add_tenant_access(flavor_id, project_id)

    @cloud_call
    def remove_flavor_access(self, flavor_id: str, project_id: str) -> None:
        self.conn.compute.flavor_remove_tenant_access(flavor_id, project_id)

    # --- migrations ------------------------------------------------------------------------

    @cloud_call
    def list_migrations(
        self,
        *,
        host: str = "",
        status: str = "",
        migration_type: str = "",
        server_id: str = "",
        limit: int = 100,
        marker: str = "",
    ) -> list[Migration]:
        """GET /os-migrations (2.80: uuid, user and project; newest first, marker paging)."""
        params: dict[str, Any] = {"limit": limit}
        for key, value in (
            ("host", host),
            ("status", status),
            ("migration_type", migration_type),
            ("instance_uuid", server_id),
            ("marker", marker),
        ):
            if value:
                params[key] = value
        body = _json(
            self.conn.compute.get(
                "/os-migrations", params=params, microversion=MIGRATIONS_MICROVERSION
            )
        )
        return [to_migration(m) for m in body.get("migrations", [])]

    @cloud_call
    def list_server_migrations(self, server_id: str) -> list[ServerMigration]:
        """A server's in-progress live migrations, with memory and disk progress."""
        body = _json(
            self.conn.compute.get(
                f"/servers/{server_id}/migrations", microversion=MIGRATIONS_MICROVERSION
            )
        )
        return [to_server_migration(m) for m in body.get("migrations", [])]

    @cloud_call
    def live_migrate_server(
        self, server_id: str, host: str = "", block_migration: bool | str = "auto"
    ) -> None:
        """os-migrateLive (2.30+): a chosen host is still checked by the scheduler."""
        self.conn.compute.live_migrate_server(
            server_id, host=host or None, block_migration=block_migration
        )

    @cloud_call
    def migrate_server(self, server_id: str, host: str = "") -> None:
        """Cold migration (a target host needs 2.56+); ends in VERIFY_RESIZE."""
        self.conn.compute.migrate_server(server_id, host=host or None)

    @cloud_call
    def evacuate_server(self, server_id: str, host: str = "") -> None:
        """Rebuild on another host while the source host is down (2.95+: lands SHUTOFF)."""
        self.conn.compute.evacuate_server(server_id, host=host or None)

    @cloud_call
    def abort_server_migration(self, server_id: str, migration_id: int) -> None:
        self.conn.compute.abort_server_migration(str(migration_id), server_id, ignore_missing=False)

    @cloud_call
    def force_complete_server_migration(self, server_id: str, migration_id: int) -> None:
        self.conn.compute.force_complete_server_migration(str(migration_id), server_id)

    # --- identity: project names for the admin lists ---------------------------------------

    @cloud_call
    def list_projects(self) -> list[ProjectRef]:
        identity: Any = self.conn.identity  # the v3 proxy; typed as a union of versions
        return sorted(
            (ProjectRef(p.id, p.name or "") for p in identity.projects()),
            key=lambda p: p.name.lower(),
        )

    # --- health: services and agents of every kind, the catalog, probes --------------------

    @cloud_call
    def list_network_agents(self) -> list[NetworkAgent]:
        return sorted(
            (
                NetworkAgent(
                    id=a.id,
                    agent_type=a.agent_type or "",
                    binary=a.binary or "",
                    host=a.host or "",
                    alive=bool(a.is_alive),
                    admin_state_up=bool(a.is_admin_state_up),
                    last_heartbeat=_parse_time(a.last_heartbeat_at),
                )
                for a in self.conn.network.agents()
            ),
            key=lambda a: (a.agent_type, a.host),
        )

    @cloud_call
    def list_volume_services(self) -> list[VolumeService]:
        return sorted(
            (
                VolumeService(
                    binary=s.binary or "",
                    host=s.host or "",
                    zone=s.availability_zone or "",
                    status=s.status or "",
                    state=s.state or "",
                    disabled_reason=s.disabled_reason or "",
                    updated_at=_parse_time(s.updated_at),
                )
                for s in self.conn.block_storage.services()
            ),
            key=lambda s: (s.binary, s.host),
        )

    @cloud_call
    def list_catalog_endpoints(self) -> list[CatalogEndpoint]:
        """The token's service catalog (no API call: it came with the token)."""
        auth: Any = self.conn.session.auth  # an AccessInfoPlugin or a password/trust plugin
        access = auth.get_access(self.conn.session)
        found = [
            CatalogEndpoint(
                service_type=entry.get("type", ""),
                service_name=entry.get("name", ""),
                interface=e.get("interface", ""),
                region=e.get("region_id") or e.get("region") or "",
                url=e.get("url", ""),
            )
            for entry in access.service_catalog.catalog or []
            for e in entry.get("endpoints", [])
        ]
        return sorted(found, key=lambda e: (e.service_type, e.interface, e.url))

    @cloud_call
    def probe_endpoint(self, url: str, timeout: float = 5.0) -> Probe:
        """GET the endpoint without a token: any HTTP answer (even 401) means reachable."""
        started = time.monotonic()
        try:
            resp = self.conn.session.get(
                url, authenticated=False, raise_exc=False, timeout=timeout, connect_retries=0
            )
        except ks_exc.ClientException as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return Probe(url, False, milliseconds=elapsed, error=exc.__class__.__name__)
        elapsed = int((time.monotonic() - started) * 1000)
        return Probe(url, resp.status_code < 500, resp.status_code, elapsed)

    @cloud_call
    def list_server_action_events(self, server_id: str, request_id: str) -> list[str]:
        """Why an instance action failed: its failed events' details (2.84+), Nova's words."""
        body = _json(
            self.conn.compute.get(
                f"/servers/{server_id}/os-instance-actions/{request_id}", microversion="2.84"
            )
        )
        events = (body.get("instanceAction") or {}).get("events") or []
        return [
            str(e["details"]) for e in events if e.get("result") == "Error" and e.get("details")
        ]
