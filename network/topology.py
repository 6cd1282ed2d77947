"""The network topology picture, laid out on the server as plain geometry for an SVG template.

Networks are vertical bars, one column each (external networks first). Routers, then
instances, are boxes in rows on the left; a line runs from each box to the networks it has
ports on, with a dot and the address where it joins one. Every element links to its page.
No JavaScript and no graph library: positions are arithmetic on list indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy

from network.gateway import Network, Port, Router, Subnet
from portal.refs import ServerRef

LEFT = 16
TOP = 12
NODE_W = 180
NODE_H = 40
GAP = 36  # between the boxes and the first network
COLUMN = 150  # one network column
HEADER = 76  # network names and CIDRs above the rows
ROW = 58
BAR_W = 12
PALETTE = ("#2f7ed8", "#0d9488", "#8b5cf6", "#d97706", "#db2777", "#4d7c0f", "#0891b2")
EXTERNAL_COLOUR = "#6b7280"
MAX_LABEL = 20
# Neutron's and Nova's status words, as the status badges elsewhere say them.
STATUS_WORDS = {
    "ACTIVE": gettext_lazy("Active"),
    "DOWN": gettext_lazy("Down"),
    "BUILD": gettext_lazy("Build"),
    "ERROR": gettext_lazy("Error"),
}


def short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Bar:
    network_id: str
    name: str
    label: str
    cidrs: tuple[str, ...]
    x: int
    y: int
    height: int
    label_y: int
    cidr_lines: tuple[tuple[int, str], ...]  # (y, CIDR) under the name
    colour: str
    url: str
    external: bool

    @property
    def rect_x(self) -> int:
        return self.x - BAR_W // 2

    @property
    def width(self) -> int:
        return BAR_W


@dataclass(frozen=True)
class Joint:
    x: int
    address: str
    colour: str

    @property
    def label_x(self) -> int:  # the address sits left of the dot
        return self.x - 9


@dataclass(frozen=True)
class Node:
    kind: str  # router | instance
    name: str
    label: str
    status: str
    x: int
    y: int
    url: str | None
    line_end: int  # x where the node's line ends (its farthest network), or 0
    joints: tuple[Joint, ...] = field(default=())
    width: int = NODE_W
    height: int = NODE_H

    @property
    def mid_y(self) -> int:
        return self.y + self.height // 2

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def status_word(self) -> str:
        return str(STATUS_WORDS.get(self.status, self.status))

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def kind_y(self) -> int:  # "Router · Active" above the name
        return self.y + 16

    @property
    def name_y(self) -> int:
        return self.y + 31

    @property
    def address_y(self) -> int:  # addresses above the line
        return self.mid_y - 6


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    bars: tuple[Bar, ...]
    nodes: tuple[Node, ...]

    @property
    def empty(self) -> bool:
        return not self.bars and not self.nodes


@dataclass
class _Device:
    kind: str
    id: str
    name: str
    status: str
    url: str | None
    joints: dict[str, list[str]] = field(default_factory=dict)  # network id -> addresses


def _devices(
    routers: Iterable[Router],
    ports: Iterable[Port],
    servers: Iterable[ServerRef],
    server_url: Callable[[str], str | None],
) -> list[_Device]:
    devices: dict[str, _Device] = {}
    for r in sorted(routers, key=lambda r: r.label.lower()):
        url = reverse("network:router-detail", args=[r.id])
        devices[r.id] = _Device("router", r.id, r.label, r.status, url)
        if r.external_network_id:
            addresses = [ip.ip_address for ip in r.external_ips]
            devices[r.id].joints[r.external_network_id] = addresses
    for s in sorted(servers, key=lambda s: s.name.lower()):
        devices[s.id] = _Device("instance", s.id, s.name or s.id[:8], s.status, server_url(s.id))
    for port in ports:
        device = devices.get(port.device_id)
        if device is None and port.is_instance_port:  # an instance Nova did not list (yet)
            device = _Device(
                "instance", port.device_id, port.device_id[:8], "", server_url(port.device_id)
            )
            devices[port.device_id] = device
        if device is None or not (port.is_router_interface or port.is_instance_port):
            continue
        device.joints.setdefault(port.network_id, []).extend(ip.ip_address for ip in port.fixed_ips)
    return sorted(devices.values(), key=lambda d: (d.kind != "router", d.name.lower()))


def _networks(
    project_id: str, networks: Iterable[Network], devices: list[_Device]
) -> list[Network]:
    used = {network_id for d in devices for network_id in d.joints}
    shown = [
        n for n in networks if n.project_id == project_id or n.is_router_external or n.id in used
    ]
    return sorted(shown, key=lambda n: (not n.is_router_external, n.label.lower()))


def draw(
    project_id: str,
    networks: Iterable[Network],
    subnets: Iterable[Subnet],
    routers: Iterable[Router],
    ports: Iterable[Port],
    servers: Iterable[ServerRef],
    server_url: Callable[[str], str | None],
) -> Picture:
    devices = _devices(routers, ports, servers, server_url)
    shown = _networks(project_id, networks, devices)
    cidrs: dict[str, list[str]] = {}
    for s in sorted(subnets, key=lambda s: (s.ip_version, s.cidr)):
        cidrs.setdefault(s.network_id, []).append(s.cidr)
    height = TOP + HEADER + max(1, len(devices)) * ROW
    first_x = LEFT + NODE_W + GAP + COLUMN // 2
    bars, colour_of, x_of = [], {}, {}
    own_index = 0
    for index, n in enumerate(shown):
        if n.is_router_external:
            colour = EXTERNAL_COLOUR
        else:
            colour = PALETTE[own_index % len(PALETTE)]
            own_index += 1
        x = first_x + index * COLUMN
        colour_of[n.id], x_of[n.id] = colour, x
        bars.append(
            Bar(
                network_id=n.id,
                name=n.label,
                label=short(n.label),
                cidrs=tuple(cidrs.get(n.id, [])),
                label_y=TOP + 14,
                cidr_lines=tuple(
                    (TOP + 30 + 13 * i, c) for i, c in enumerate(cidrs.get(n.id, [])[:3])
                ),
                x=x,
                y=TOP + HEADER - 16,
                height=height - (TOP + HEADER - 16),
                colour=colour,
                url=reverse("network:network-detail", args=[n.id]),
                external=n.is_router_external,
            )
        )
    nodes = []
    for row, device in enumerate(devices):
        joints = tuple(
            Joint(x_of[network_id], ", ".join(sorted(addresses)[:2]), colour_of[network_id])
            for network_id, addresses in device.joints.items()
            if network_id in x_of
        )
        nodes.append(
            Node(
                kind=device.kind,
                name=device.name,
                label=short(device.name, 22),
                status=device.status,
                x=LEFT,
                y=TOP + HEADER + row * ROW,
                url=device.url,
                line_end=max((j.x for j in joints), default=0),
                joints=tuple(sorted(joints, key=lambda j: j.x)),
            )
        )
    width = first_x + max(0, len(shown) - 1) * COLUMN + COLUMN // 2 + LEFT
    return Picture(width=width, height=height + 8, bars=tuple(bars), nodes=tuple(nodes))
