"""Domain types that more than one app reads, declared once (issue 12): an app that shows
another app's resource reads it as one of these, and the owning app keeps its own richer type
where it has one (volumes.gateway.Volume, images.gateway.Image, network.gateway.Port...).
Frozen dataclasses holding only what the readers need, as every gateway returns; each reading
app's gateway converts the SDK's object into them.

- the project, as sign-in (portal.cloud) and the admin lists of compute, images, network and
  capacity read its name (projects.gateway.Project is the owner's);
- the image, as the launch wizard and rebuild form (compute) and "volume from image"
  (volumes) read it;
- the network, port, security group and floating IP, as the launch wizard and the instance
  actions (compute) read them;
- the server, as the network pages (ports, topology, floating IPs) show it;
- the volume, its snapshot and the block-storage service, as compute (launch wizard, attach
  form, Admin › System information) and images (a volume made from an image) read them;
- an endpoint of the token's service catalog, as Admin › System information (compute) and
  the API access page (projects) list them;
- Placement's inventory of a resource provider and a host aggregate's hosts, as compute's
  host pages and capacity's sampling read them (compute.gateway.Aggregate is the owner's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProjectRef:
    id: str
    name: str
    domain_id: str = ""


@dataclass(frozen=True)
class Image:
    id: str
    name: str
    status: str
    min_disk: int = 0  # GiB
    min_ram: int = 0  # MiB
    size: int = 0  # bytes
    is_snapshot: bool = False  # an instance snapshot (image_type=snapshot)
    visibility: str = "private"
    owner: str = ""
    instance_id: str = ""  # for snapshots: the server it was taken from
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def needs_gib(self) -> int:
        """The smallest volume the image fits in: its min_disk or its size, rounded up."""
        return max(self.min_disk, -(-self.size // 1024**3), 1)


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    is_shared: bool = False
    is_external: bool = False
    subnet_ids: tuple[str, ...] = ()
    status: str = "ACTIVE"

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Port:
    id: str
    name: str
    network_id: str
    fixed_ips: tuple[str, ...] = ()
    device_id: str = ""
    device_owner: str = ""
    security_group_ids: tuple[str, ...] = ()
    mac: str = ""
    status: str = ""

    @property
    def label(self) -> str:
        ips = ", ".join(self.fixed_ips)
        return f"{self.name or self.id[:8]} ({ips})" if ips else (self.name or self.id)


@dataclass(frozen=True)
class SecurityGroupRule:
    direction: str
    ethertype: str
    protocol: str = ""
    port_min: int | None = None
    port_max: int | None = None
    remote_ip_prefix: str = ""
    remote_group_id: str = ""

    @property
    def ports(self) -> str:
        if self.port_min is None:
            return ""
        if self.port_max is None or self.port_max == self.port_min:
            return str(self.port_min)
        return f"{self.port_min}-{self.port_max}"


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    description: str = ""
    rules: tuple[SecurityGroupRule, ...] = ()


@dataclass(frozen=True)
class FloatingIp:
    id: str
    address: str
    port_id: str = ""
    fixed_address: str = ""
    network_id: str = ""  # the external network it comes from
    status: str = ""


@dataclass(frozen=True)
class CatalogEndpoint:
    service_type: str
    service_name: str
    interface: str
    region: str
    url: str


@dataclass(frozen=True)
class ServerRef:
    """Only what the network pages show of an instance: its name, for ports and the topology."""

    id: str
    name: str
    status: str = ""


@dataclass(frozen=True)
class VolumeAttachment:
    volume_id: str
    device: str
    server_id: str


@dataclass(frozen=True)
class Volume:
    id: str
    name: str
    size: int  # GiB
    status: str
    is_bootable: bool = False
    attachments: tuple[VolumeAttachment, ...] = ()
    volume_type: str = ""
    description: str = ""
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class VolumeSnapshot:
    id: str
    name: str
    size: int
    status: str
    volume_id: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class VolumeService:
    binary: str
    host: str
    zone: str
    status: str  # enabled / disabled (the administrators' choice)
    state: str  # up / down (its heartbeat)
    disabled_reason: str = ""
    updated_at: datetime | None = None

    @property
    def is_enabled(self) -> bool:
        return self.status == "enabled"


@dataclass(frozen=True)
class Inventory:
    """One resource class of a resource provider, as Placement counts it."""

    resource_class: str
    total: int
    reserved: int = 0
    allocation_ratio: float = 1.0
    max_unit: int = 0

    @property
    def capacity(self) -> int:
        """What Placement lets be allocated: (total - reserved) x allocation ratio."""
        return int((self.total - self.reserved) * self.allocation_ratio)


@dataclass(frozen=True)
class Aggregate:
    name: str
    hosts: tuple[str, ...] = ()
