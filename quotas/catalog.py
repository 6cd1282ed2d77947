"""The quotas the portal shows and edits: one list, used by the gateway, the forms and pages.

Keys are the openstacksdk attribute names, which are also the wire names for Nova and Cinder;
for Neutron the SDK renames them (floating_ips is "floatingip" on the wire). -1 means
unlimited in all three services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as Label  # gettext_lazy's type

COMPUTE = "compute"
VOLUME = "volume"
NETWORK = "network"
UNLIMITED = -1

# The catalog service type each quota family needs.
SERVICE_TYPES = {COMPUTE: "compute", VOLUME: "block-storage", NETWORK: "network"}
SERVICE_LABELS: dict[str, Label] = {
    COMPUTE: _("Compute"),
    VOLUME: _("Volume"),
    NETWORK: _("Network"),
}


@dataclass(frozen=True)
class QuotaField:
    service: str
    key: str
    label: Label
    unit: str = ""

    @property
    def name(self) -> str:
        """The form field's name: unique across services."""
        return f"{self.service}__{self.key}"


QUOTA_FIELDS: tuple[QuotaField, ...] = (
    QuotaField(COMPUTE, "instances", _("Instances")),
    QuotaField(COMPUTE, "cores", _("vCPUs")),
    QuotaField(COMPUTE, "ram", _("RAM (MiB)"), "MiB"),
    QuotaField(COMPUTE, "key_pairs", _("Key pairs")),
    QuotaField(COMPUTE, "metadata_items", _("Metadata items")),
    QuotaField(COMPUTE, "server_groups", _("Server groups")),
    QuotaField(COMPUTE, "server_group_members", _("Server group members")),
    QuotaField(COMPUTE, "injected_files", _("Injected files")),
    QuotaField(COMPUTE, "injected_file_content_bytes", _("Injected file content (bytes)")),
    QuotaField(COMPUTE, "injected_file_path_bytes", _("Injected file path length (bytes)")),
    QuotaField(VOLUME, "volumes", _("Volumes")),
    QuotaField(VOLUME, "snapshots", _("Volume snapshots")),
    QuotaField(VOLUME, "gigabytes", _("Volume storage (GiB)"), "GiB"),
    QuotaField(VOLUME, "per_volume_gigabytes", _("Size of one volume (GiB)"), "GiB"),
    QuotaField(VOLUME, "backups", _("Volume backups")),
    QuotaField(VOLUME, "backup_gigabytes", _("Backup storage (GiB)"), "GiB"),
    QuotaField(VOLUME, "groups", _("Volume groups")),
    QuotaField(NETWORK, "networks", _("Networks")),
    QuotaField(NETWORK, "subnets", _("Subnets")),
    QuotaField(NETWORK, "ports", _("Ports")),
    QuotaField(NETWORK, "routers", _("Routers")),
    QuotaField(NETWORK, "floating_ips", _("Floating IPs")),
    QuotaField(NETWORK, "security_groups", _("Security groups")),
    QuotaField(NETWORK, "security_group_rules", _("Security group rules")),
)


def fields_of(service: str) -> tuple[QuotaField, ...]:
    return tuple(f for f in QUOTA_FIELDS if f.service == service)


def keys_of(service: str) -> tuple[str, ...]:
    return tuple(f.key for f in fields_of(service))


@dataclass(frozen=True)
class Meter:
    """One meter on Project › Overview: a quota of the member's own project."""

    service: str
    key: str
    label: Label


METERS: tuple[Meter, ...] = (
    Meter(COMPUTE, "instances", _("Instances")),
    Meter(COMPUTE, "cores", _("vCPUs")),
    Meter(COMPUTE, "ram", _("RAM (MiB)")),
    Meter(VOLUME, "volumes", _("Volumes")),
    Meter(VOLUME, "gigabytes", _("Volume storage (GiB)")),
    Meter(NETWORK, "floating_ips", _("Floating IPs")),
    Meter(NETWORK, "security_groups", _("Security groups")),
    Meter(NETWORK, "networks", _("Networks")),
    Meter(NETWORK, "ports", _("Ports")),
    Meter(NETWORK, "routers", _("Routers")),
)
