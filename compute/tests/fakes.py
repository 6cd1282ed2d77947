"""In-memory stand-in for ComputeGateway: a small cloud that keeps its own state and refuses
what Nova, Neutron and Cinder refuse (wrong state, locked, quota, duplicate names, missing
resources), with their own words.

Servers move like Nova's: an action sets a task state at once (as nova-api does) and
`settle()` finishes every pending task, as time passing would. A server whose flavor has more
RAM than any host (HOST_RAM) ends in ERROR with Nova's "No valid host" fault.
`calls` counts gateway calls by method name, for the pages' call budgets.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from compute import gateway as g
from compute.gateway import AdminGateway, ComputeGateway
from portal import refs
from portal.errors import CloudUnavailable, NotFound, Rejected

HOST_RAM = 32768
CPU_POLICIES = ("dedicated", "shared", "mixed")
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."

FLAVORS = [
    g.Flavor("f-nano", "m1.nano", 1, 128, 1),
    g.Flavor("f-tiny", "m1.tiny", 1, 512, 1),
    g.Flavor("f-small", "m1.small", 1, 2048, 20),
    g.Flavor("f-medium", "m1.medium", 2, 4096, 40),
    g.Flavor("f-oversize", "x1.oversize", 8, 65536, 100),
]
IMAGES = [
    refs.Image("img-cirros", "cirros", "active", size=20 * 2**20, visibility="public"),
    refs.Image("img-big", "big-disk", "active", min_disk=10, min_ram=1024, visibility="public"),
]
NETWORKS = [
    refs.Network("net-private", "private", subnet_ids=("sub-private",)),
    refs.Network("net-other", "other", subnet_ids=("sub-other",)),
    refs.Network(
        "net-public", "public1", is_shared=True, is_external=True, subnet_ids=("sub-pub",)
    ),
]
SECURITY_GROUPS = [
    refs.SecurityGroup(
        "sg-default",
        "default",
        "Default security group",
        (refs.SecurityGroupRule("egress", "IPv4"),),
    ),
    refs.SecurityGroup(
        "sg-web",
        "web",
        "HTTP in",
        (refs.SecurityGroupRule("ingress", "IPv4", "tcp", 80, 80, "0.0.0.0/0"),),
    ),
]

# vm_state -> Nova's status, and which vm_states each action accepts (nova/compute/api.py).
STATUS = {
    "building": "BUILD",
    "active": "ACTIVE",
    "stopped": "SHUTOFF",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "shelved": "SHELVED",
    "shelved_offloaded": "SHELVED_OFFLOADED",
    "rescued": "RESCUE",
    "resized": "VERIFY_RESIZE",
    "error": "ERROR",
}
ALLOWED = {
    "pause_server": {"active"},
    "unpause_server": {"paused"},
    "suspend_server": {"active"},
    "resume_server": {"suspended"},
    "shelve_server": {"active", "stopped", "paused", "suspended"},
    "unshelve_server": {"shelved", "shelved_offloaded"},
    "stop_server": {"active", "rescued", "error"},
    "start_server": {"stopped"},
    "soft_reboot": {"active"},
    "hard_reboot": {"active", "stopped", "paused", "suspended", "error"},
    "resize_server": {"active", "stopped"},
    "confirm_server_resize": {"resized"},
    "revert_server_resize": {"resized"},
    "rebuild_server": {"active", "stopped", "error"},
    "rescue_server": {"active", "stopped", "error"},
    "unrescue_server": {"rescued"},
    "create_server_image": {"active", "stopped", "paused", "suspended"},
    "create_server_interface": {"active", "paused", "stopped"},
    "delete_server_interface": {"active", "paused", "stopped"},
    "create_volume_attachment": {"active", "paused", "stopped", "suspended", "shelved"},
    "delete_volume_attachment": {"active", "paused", "stopped", "suspended", "shelved"},
}
# Action -> (task state while it runs, vm_state when done, power state when done).
EFFECT = {
    "pause_server": ("pausing", "paused", 3),
    "unpause_server": ("unpausing", "active", 1),
    "suspend_server": ("suspending", "suspended", 7),
    "resume_server": ("resuming", "active", 1),
    "shelve_server": ("shelving", "shelved_offloaded", 4),
    "unshelve_server": ("unshelving", "active", 1),
    "stop_server": ("powering-off", "stopped", 4),
    "start_server": ("powering-on", "active", 1),
    "soft_reboot": ("rebooting", "active", 1),
    "hard_reboot": ("rebooting_hard", "active", 1),
    "resize_server": ("resize_prep", "resized", 1),
    "confirm_server_resize": ("", "active", 1),
    "revert_server_resize": ("resize_reverting", "active", 1),
    "rebuild_server": ("rebuilding", "active", 1),
    "rescue_server": ("rescuing", "rescued", 1),
    "unrescue_server": ("unrescuing", "active", 1),
    "create_server_image": ("image_snapshot", "", 0),
}
ACTION_NAMES = {
    "pause_server": "pause",
    "unpause_server": "unpause",
    "suspend_server": "suspend",
    "resume_server": "resume",
    "shelve_server": "shelve",
    "unshelve_server": "unshelve",
    "stop_server": "stop",
    "start_server": "start",
    "soft_reboot": "reboot",
    "hard_reboot": "reboot",
    "resize_server": "resize",
    "confirm_server_resize": "confirmResize",
    "revert_server_resize": "revertResize",
    "rebuild_server": "rebuild",
    "rescue_server": "rescue",
    "unrescue_server": "unrescue",
    "create_server_image": "createImage",
}


@dataclass
class FakeServer:
    server: g.Server
    pending: tuple[str, str, int] | None = None  # (action, vm_state after, power after)
    next_flavor: g.FlavorSpec | None = None
    old_flavor: g.FlavorSpec | None = None
    actions: list[g.ServerAction] = field(default_factory=list)
    console: str = "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE"
    ports: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class FakeComputeGateway(ComputeGateway):
    def __init__(self, *, volumes: bool = True) -> None:  # no connection: nothing is real
        self.services_volumes = volumes
        self.calls: Counter[str] = Counter()
        # method -> how many of its next calls Nova takes a step (settle) just before
        # answering: time passing between two reads the caller makes one after the other
        self.steps_before: Counter[str] = Counter()
        self.unavailable: set[str] = set()  # methods that fail as "cloud down"
        self.refusals: dict[str, Rejected] = {}  # methods refused (e.g. a 403 by policy)
        self.project_id = "p-demo"
        self.flavors = list(FLAVORS)
        self.flavor_access: dict[str, set[str]] = {}  # private flavor id -> project ids
        self.images = list(IMAGES)
        self.networks = list(NETWORKS)
        self.security_groups = list(SECURITY_GROUPS)
        self.servers: dict[str, FakeServer] = {}
        self.order: list[str] = []  # creation order
        self.deleted: list[g.Server] = []  # what changes-since still returns, as DELETED
        self.limits = {"instances": 10, "cores": 20, "ram": 51200}
        self.keypairs: dict[str, g.Keypair] = {}
        self.server_groups: dict[str, g.ServerGroup] = {}
        self.ports: dict[str, refs.Port] = {}
        self.floating_ips: dict[str, refs.FloatingIp] = {}
        self.volumes: dict[str, refs.Volume] = {}
        self.volume_snapshots: list[refs.VolumeSnapshot] = []
        self.volume_gigabytes = 1000
        self.attachments: dict[str, list[refs.VolumeAttachment]] = {}
        self.azs = [g.AvailabilityZone("nova", True)]
        self.launched: list[g.LaunchSpec] = []
        self.created_images: list[str] = []

    # --- bookkeeping ---------------------------------------------------------------------

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.steps_before[name] > 0:
            self.steps_before[name] -= 1
            self.settle()
        if name in self.unavailable:
            raise CloudUnavailable(f"{name}: 503 Service Unavailable")
        if name in self.refusals:
            raise self.refusals[name]

    def _get(self, server_id: str) -> FakeServer:
        try:
            return self.servers[server_id]
        except KeyError:
            raise NotFound(f"Instance {server_id} could not be found.") from None

    def _set(self, fs: FakeServer, **changes: Any) -> None:
        if "vm_state" in changes and "status" not in changes:
            changes["status"] = STATUS.get(changes["vm_state"], "ACTIVE")
        fs.server = replace(fs.server, updated_at=_now(), **changes)

    def _log(self, fs: FakeServer, action: str, message: str = "") -> None:
        fs.actions.insert(
            0,
            g.ServerAction(action, "req-" + uuid.uuid4().hex[:8], "u-member", _now(), message),
        )

    def _act(self, server_id: str, action: str) -> FakeServer:
        """Nova's checks before an action: locked, busy, allowed vm_state."""
        fs = self._get(server_id)
        s = fs.server
        verb = ACTION_NAMES.get(action, action)
        if s.locked:
            raise Rejected(f"Instance {s.id} is locked", 409)
        if s.task_state:
            raise Rejected(
                f"Cannot '{verb}' instance {s.id} while it is in task_state {s.task_state}", 409
            )
        if action in ALLOWED and s.vm_state not in ALLOWED[action]:
            raise Rejected(
                f"Cannot '{verb}' instance {s.id} while it is in vm_state {s.vm_state}", 409
            )
        return fs

    def _start(self, server_id: str, action: str) -> FakeServer:
        fs = self._act(server_id, action)
        task, vm_state, power = EFFECT[action]
        after = vm_state or fs.server.vm_state
        power = power or fs.server.power_state
        fs.pending = (action, after, power)
        self._set(fs, task_state=task or None)
        if action in ("soft_reboot", "hard_reboot"):
            self._set(fs, status="REBOOT" if action == "soft_reboot" else "HARD_REBOOT")
        self._log(fs, ACTION_NAMES[action])
        return fs

    def used(self) -> tuple[int, int, int]:
        live = [f.server for f in self.servers.values()]
        return (
            len(live),
            sum(s.flavor.vcpus for s in live),
            sum(s.flavor.ram for s in live),
        )

    def add_server(self, name: str = "web-1", **fields: Any) -> g.Server:
        """Arrange a server directly (ACTIVE unless told otherwise)."""
        sid = fields.pop("id", None) or str(uuid.uuid4())
        flavor = fields.pop("flavor", None) or g.FlavorSpec("m1.nano", 1, 128, 1)
        defaults: dict[str, Any] = {
            "status": "ACTIVE",
            "vm_state": "active",
            "power_state": 1,
            "availability_zone": "nova",
            "image_id": "img-cirros",
            "addresses": (g.Address("private", f"10.0.0.{len(self.servers) + 3}", "fixed", 4),),
            "security_groups": ("default",),
            "created_at": _now() - timedelta(minutes=len(self.servers)),
            "updated_at": _now(),
            "project_id": self.project_id,
        }
        defaults.update(fields)
        if "vm_state" in fields and "status" not in fields:
            defaults["status"] = STATUS[fields["vm_state"]]
        server = g.Server(id=sid, name=name, flavor=flavor, **defaults)
        self.servers[sid] = FakeServer(server)
        self.order.append(sid)
        return server

    def settle(self) -> None:
        """Let time pass: every pending task finishes, builds end ACTIVE or ERROR, deleted
        servers disappear."""
        for sid in list(self.servers):
            fs = self.servers[sid]
            s = fs.server
            if s.task_state == "deleting":
                del self.servers[sid]
                self.order.remove(sid)
                self.deleted.append(
                    replace(
                        s, status="DELETED", vm_state="deleted", task_state=None, updated_at=_now()
                    )
                )
                continue
            if s.status == "BUILD":
                if s.flavor.ram > HOST_RAM:
                    self._set(fs, vm_state="error", task_state=None, power_state=0)
                    self._set(fs, fault_message=NO_VALID_HOST, fault_code=500)
                else:
                    self._set(fs, vm_state="active", task_state=None, power_state=1)
                continue
            if fs.pending:
                action, vm_state, power = fs.pending
                fs.pending = None
                changes: dict[str, Any] = {"vm_state": vm_state, "task_state": None}
                changes["power_state"] = power
                if action == "resize_server" and fs.next_flavor:
                    fs.old_flavor, changes["flavor"] = s.flavor, fs.next_flavor
                if action == "revert_server_resize" and fs.old_flavor:
                    changes["flavor"] = fs.old_flavor
                self._set(fs, **changes)

    # --- servers -------------------------------------------------------------------------

    def has_volumes(self) -> bool:
        return self.services_volumes

    def list_servers(self, query: g.ServerQuery) -> g.ServerPage:
        import re

        self._call("list_servers")
        servers = [self.servers[sid].server for sid in self.order]
        if query.changes_since:  # Nova: updated at or after it, deleted servers too
            since = query.changes_since
            servers = [s for s in servers + self.deleted if (s.updated_at or since) >= since]
        if not query.all_projects:
            servers = [s for s in servers if s.project_id == self.project_id]
        elif query.project_id:
            servers = [s for s in servers if s.project_id == query.project_id]
        if query.name:
            servers = [s for s in servers if re.search(query.name, s.name)]
        if query.status:
            servers = [s for s in servers if s.status == query.status]
        if query.ip:
            servers = [s for s in servers if any(re.search(query.ip, a) for a in s.fixed_ips)]
        if query.host:
            servers = [s for s in servers if s.host == query.host]
        sort_field = {
            "display_name": "name",
            "created_at": "created_at",
            "vm_state": "vm_state",
            "availability_zone": "availability_zone",
            "key_name": "key_name",
        }.get(query.sort_key)
        if sort_field is None:
            raise Rejected(f"Invalid sort_key {query.sort_key}", 400)
        descending = query.sort_dir == "desc"
        if query.backwards:
            descending = not descending
        servers.sort(key=lambda s: (getattr(s, sort_field) or "", s.id), reverse=descending)
        if query.marker:
            ids = [s.id for s in servers]
            if query.marker not in ids:
                raise Rejected(f"marker [{query.marker}] not found", 400)
            servers = servers[ids.index(query.marker) + 1 :]
        more = len(servers) > query.limit
        page = servers[: query.limit]
        if query.backwards:
            page.reverse()
            return g.ServerPage(
                tuple(page),
                next_marker=page[-1].id if page else "",
                prev_marker=page[0].id if (more and page) else "",
                as_of=_now(),
            )
        return g.ServerPage(
            tuple(page),
            next_marker=page[-1].id if (more and page) else "",
            prev_marker=page[0].id if (query.marker and page) else "",
            as_of=_now(),
        )

    def get_server(self, server_id: str) -> g.Server:
        self._call("get_server")
        return self._get(server_id).server

    def create_server(self, spec: g.LaunchSpec) -> str:
        self._call("create_server")
        flavor = next((f for f in self.flavors if f.id == spec.flavor_id), None)
        if flavor is None:
            raise Rejected(f"Flavor {spec.flavor_id} could not be found.", 400)
        if spec.key_name and spec.key_name not in self.keypairs:
            raise Rejected(f"Invalid key_name provided. Key pair {spec.key_name} not found", 400)
        if not spec.nics and len([n for n in self.networks if not n.is_external]) > 1:
            raise Rejected(
                "Multiple possible networks found, use a Network ID to be more specific.", 409
            )
        instances, cores, ram = self.used()
        for what, need, used, limit in (
            ("instances", spec.count, instances, self.limits["instances"]),
            ("cores", spec.count * flavor.vcpus, cores, self.limits["cores"]),
            ("ram", spec.count * flavor.ram, ram, self.limits["ram"]),
        ):
            if limit >= 0 and used + need > limit:
                raise Rejected(
                    f"Quota exceeded for {what}: Requested {need}, but already used {used} "
                    f"of {limit} {what}",
                    403,
                )
        self.launched.append(spec)
        first = ""
        names = (
            [spec.name]
            if spec.count == 1
            else [f"{spec.name}-{i}" for i in range(1, spec.count + 1)]
        )
        for name in names:
            addresses = []
            for nic in spec.nics:
                net_id = nic.network_id or self.ports[nic.port_id].network_id
                net = next(n for n in self.networks if n.id == net_id)
                addresses.append(
                    g.Address(net.name, f"10.0.9.{len(self.servers) + 10}", "fixed", 4)
                )
            groups = tuple(
                sg.name for sg in self.security_groups if sg.id in spec.security_group_ids
            )
            server = self.add_server(
                name,
                status="BUILD",
                vm_state="building",
                task_state="scheduling",
                power_state=0,
                flavor=g.FlavorSpec(flavor.name, flavor.vcpus, flavor.ram, flavor.disk),
                image_id="" if spec.source_type.startswith("volume") else spec.source_id,
                addresses=tuple(addresses),
                security_groups=groups or ("default",),
                key_name=spec.key_name,
                description=spec.description,
                metadata=spec.metadata,
                created_at=_now(),
            )
            self._log(self.servers[server.id], "create")
            first = first or server.id
        return first

    def update_server(self, server_id: str, name: str, description: str) -> None:
        self._call("update_server")
        fs = self._get(server_id)
        self._set(fs, name=name, description=description)

    def delete_server(self, server_id: str) -> None:
        self._call("delete_server")
        fs = self._get(server_id)
        if fs.server.locked:
            raise Rejected(f"Instance {server_id} is locked", 409)
        self._set(fs, task_state="deleting")

    def create_server_image(self, server_id: str, name: str) -> str:
        self._call("create_server_image")
        fs = self._start(server_id, "create_server_image")
        image = refs.Image(
            _id("img"),
            name,
            "queued",
            min_disk=fs.server.flavor.disk,
            is_snapshot=True,
            visibility="private",
            owner=self.project_id,
            instance_id=server_id,
        )
        self.images.append(image)
        self.created_images.append(image.id)
        return image.id

    def _simple(self, name: str, server_id: str, action: str | None = None) -> None:
        self._call(name)
        self._start(server_id, action or name)

    def pause_server(self, server_id: str) -> None:
        self._simple("pause_server", server_id)

    def unpause_server(self, server_id: str) -> None:
        self._simple("unpause_server", server_id)

    def suspend_server(self, server_id: str) -> None:
        self._simple("suspend_server", server_id)

    def resume_server(self, server_id: str) -> None:
        self._simple("resume_server", server_id)

    def shelve_server(self, server_id: str) -> None:
        self._simple("shelve_server", server_id)

    def unshelve_server(self, server_id: str) -> None:
        self._simple("unshelve_server", server_id)

    def stop_server(self, server_id: str) -> None:
        self._simple("stop_server", server_id)

    def start_server(self, server_id: str) -> None:
        self._simple("start_server", server_id)

    def reboot_server(self, server_id: str, hard: bool = False) -> None:
        self._simple("reboot_server", server_id, "hard_reboot" if hard else "soft_reboot")

    def resize_server(self, server_id: str, flavor_id: str) -> None:
        self._call("resize_server")
        fs = self._act(server_id, "resize_server")
        flavor = next((f for f in self.flavors if f.id == flavor_id), None)
        if flavor is None:
            raise Rejected(f"Flavor {flavor_id} could not be found.", 400)
        if flavor.name == fs.server.flavor.name:
            raise Rejected("When resizing, instances must change flavor!", 400)
        fs.next_flavor = g.FlavorSpec(flavor.name, flavor.vcpus, flavor.ram, flavor.disk)
        self._start(server_id, "resize_server")
        self._set(fs, status="RESIZE")

    def confirm_server_resize(self, server_id: str) -> None:
        self._call("confirm_server_resize")
        fs = self._act(server_id, "confirm_server_resize")
        # Like Nova: the API answers at once and the compute host confirms later, with no
        # task state set in between (the status stays VERIFY_RESIZE until then).
        fs.pending = ("confirm_server_resize", "active", 1)
        self._log(fs, "confirmResize")

    def revert_server_resize(self, server_id: str) -> None:
        self._simple("revert_server_resize", server_id)
        self._set(self._get(server_id), status="REVERT_RESIZE")

    def rebuild_server(self, server_id: str, image_id: str) -> None:
        self._call("rebuild_server")
        if not any(i.id == image_id for i in self.images):
            raise Rejected(f"Image {image_id} could not be found.", 400)
        fs = self._start(server_id, "rebuild_server")
        self._set(fs, image_id=image_id, status="REBUILD")

    def lock_server(self, server_id: str, reason: str = "") -> None:
        self._call("lock_server")
        fs = self._get(server_id)
        self._set(fs, locked=True, locked_reason=reason)
        self._log(fs, "lock")

    def unlock_server(self, server_id: str) -> None:
        self._call("unlock_server")
        fs = self._get(server_id)
        self._set(fs, locked=False, locked_reason="")
        self._log(fs, "unlock")

    def rescue_server(self, server_id: str, image_id: str = "", password: str = "") -> None:
        self._simple("rescue_server", server_id)

    def unrescue_server(self, server_id: str) -> None:
        self._simple("unrescue_server", server_id)

    def add_security_group_to_server(self, server_id: str, group_id: str) -> None:
        self._call("add_security_group_to_server")
        fs = self._get(server_id)
        group = next((sg for sg in self.security_groups if sg.id == group_id), None)
        if group is None:
            raise NotFound(f"Security group {group_id} not found.")
        if group.name in fs.server.security_groups:
            raise Rejected(f"Security group {group.name} is already associated with the instance")
        self._set(fs, security_groups=tuple(sorted({*fs.server.security_groups, group.name})))

    def remove_security_group_from_server(self, server_id: str, group_id: str) -> None:
        self._call("remove_security_group_from_server")
        fs = self._get(server_id)
        group = next((sg for sg in self.security_groups if sg.id == group_id), None)
        if group is None or group.name not in fs.server.security_groups:
            raise Rejected(f"Security group {group_id} not associated with the instance")
        self._set(
            fs, security_groups=tuple(n for n in fs.server.security_groups if n != group.name)
        )

    def get_server_console_output(self, server_id: str, length: int | None = None) -> str:
        self._call("get_server_console_output")
        lines = self._get(server_id).console.splitlines()
        return "\n".join(lines[-length:] if length else lines)

    def create_server_remote_console(self, server_id: str) -> g.RemoteConsole:
        self._call("create_server_remote_console")
        s = self._get(server_id).server
        if s.vm_state not in ("active", "rescued"):
            raise Rejected(f"Instance {server_id} is not ready", 409)
        return g.RemoteConsole(
            "novnc", f"http://console.test:6080/vnc_auto.html?path=%3Ftoken%3D{s.id}"
        )

    def list_server_actions(self, server_id: str) -> list[g.ServerAction]:
        self._call("list_server_actions")
        return list(self._get(server_id).actions)

    def create_server_interface(
        self, server_id: str, network_id: str = "", port_id: str = ""
    ) -> None:
        self._call("create_server_interface")
        fs = self._act(server_id, "create_server_interface")
        if port_id:
            port = self.ports[port_id]
            if port.device_id:
                raise Rejected(f"Port {port_id} is still in use.", 409)
        else:
            if not any(n.id == network_id for n in self.networks):
                raise Rejected(f"Network {network_id} could not be found.", 400)
            port = refs.Port(_id("port"), "", network_id, (f"10.0.8.{len(self.ports) + 2}",))
        port = replace(port, device_id=server_id, device_owner="compute:nova")
        self.ports[port.id] = port
        net = next(n for n in self.networks if n.id == port.network_id)
        self._set(
            fs,
            addresses=(*fs.server.addresses, g.Address(net.name, port.fixed_ips[0], "fixed", 4)),
        )
        self._log(fs, "attach_interface")

    def delete_server_interface(self, server_id: str, port_id: str) -> None:
        self._call("delete_server_interface")
        fs = self._act(server_id, "delete_server_interface")
        port = self.ports.get(port_id)
        if port is None or port.device_id != server_id:
            raise NotFound(f"Port {port_id} is not attached")
        del self.ports[port_id]
        self._set(
            fs, addresses=tuple(a for a in fs.server.addresses if a.addr not in port.fixed_ips)
        )
        self._log(fs, "detach_interface")

    def list_volume_attachments(self, server_id: str) -> list[refs.VolumeAttachment]:
        self._call("list_volume_attachments")
        self._get(server_id)
        return list(self.attachments.get(server_id, []))

    def create_volume_attachment(self, server_id: str, volume_id: str) -> None:
        self._call("create_volume_attachment")
        fs = self._act(server_id, "create_volume_attachment")
        volume = self.volumes.get(volume_id)
        if volume is None:
            raise NotFound(f"Volume {volume_id} could not be found.")
        if volume.status != "available":
            raise Rejected(
                f"Invalid volume: volume {volume_id} status must be 'available' "
                f"(currently {volume.status})",
                400,
            )
        device = f"/dev/vd{chr(ord('b') + len(self.attachments.get(server_id, [])))}"
        self.attachments.setdefault(server_id, []).append(
            refs.VolumeAttachment(volume_id, device, server_id)
        )
        self.volumes[volume_id] = replace(
            volume,
            status="in-use",
            attachments=(refs.VolumeAttachment(volume_id, device, server_id),),
        )
        self._set(fs, volume_ids=(*fs.server.volume_ids, volume_id))
        self._log(fs, "attach_volume")

    def delete_volume_attachment(self, server_id: str, volume_id: str) -> None:
        self._call("delete_volume_attachment")
        fs = self._act(server_id, "delete_volume_attachment")
        attached = self.attachments.get(server_id, [])
        if not any(a.volume_id == volume_id for a in attached):
            raise NotFound(f"volume_id not found: {volume_id}")
        self.attachments[server_id] = [a for a in attached if a.volume_id != volume_id]
        self.volumes[volume_id] = replace(
            self.volumes[volume_id], status="available", attachments=()
        )
        self._set(fs, volume_ids=tuple(v for v in fs.server.volume_ids if v != volume_id))
        self._log(fs, "detach_volume")

    # --- what a launch chooses from --------------------------------------------------------

    def list_flavors(self) -> list[g.Flavor]:
        """A member sees public flavors and the private ones given to the project."""
        self._call("list_flavors")
        usable = [f for f in self.flavors if self._may_use(f)]
        return sorted(usable, key=lambda f: (f.vcpus, f.ram, f.disk, f.name))

    def _may_use(self, flavor: g.Flavor) -> bool:
        return flavor.is_public or self.project_id in self.flavor_access.get(flavor.id, set())

    def get_limits(self) -> g.Limits:
        self._call("get_limits")
        instances, cores, ram = self.used()
        return g.Limits(
            instances=self.limits["instances"],
            instances_used=instances,
            cores=self.limits["cores"],
            cores_used=cores,
            ram=self.limits["ram"],
            ram_used=ram,
            keypairs=100,
            server_groups=10,
            server_groups_used=len(self.server_groups),
        )

    def list_availability_zones(self) -> list[g.AvailabilityZone]:
        self._call("list_availability_zones")
        return list(self.azs)

    def list_images(self) -> list[refs.Image]:
        self._call("list_images")
        return sorted(self.images, key=lambda i: i.name)

    def get_image(self, image_id: str) -> refs.Image:
        self._call("get_image")
        for image in self.images:
            if image.id == image_id:
                return image
        raise NotFound(f"No image found for {image_id}")

    # --- key pairs -------------------------------------------------------------------------

    def list_keypairs(self) -> list[g.Keypair]:
        self._call("list_keypairs")
        return sorted(self.keypairs.values(), key=lambda k: k.name.lower())

    def _new_key_name(self, name: str) -> None:
        if name in self.keypairs:
            raise Rejected(f"Key pair '{name}' already exists.", 409)

    def create_keypair(self, name: str) -> g.NewKeypair:
        self._call("create_keypair")
        self._new_key_name(name)
        fingerprint = ":".join(uuid.uuid4().hex[i : i + 2] for i in range(0, 32, 2))
        self.keypairs[name] = g.Keypair(name, fingerprint, "ssh", f"ssh-rsa AAAA{name}")
        private = (
            f"-----BEGIN RSA PRIVATE KEY-----\n{uuid.uuid4().hex}\n-----END RSA PRIVATE KEY-----\n"
        )
        return g.NewKeypair(name, fingerprint, private)

    def import_keypair(self, name: str, public_key: str) -> g.Keypair:
        self._call("import_keypair")
        self._new_key_name(name)
        if not public_key.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
            raise Rejected("Keypair data is invalid: failed to generate fingerprint", 400)
        fingerprint = ":".join(f"{(hash(public_key) >> i) & 0xFF:02x}" for i in range(0, 128, 8))
        self.keypairs[name] = g.Keypair(name, fingerprint, "ssh", public_key)
        return self.keypairs[name]

    def delete_keypair(self, name: str) -> None:
        self._call("delete_keypair")
        if self.keypairs.pop(name, None) is None:
            raise NotFound(f"Keypair {name} not found for user u-member")

    # --- server groups ---------------------------------------------------------------------

    def list_server_groups(self) -> list[g.ServerGroup]:
        self._call("list_server_groups")
        return sorted(self.server_groups.values(), key=lambda sg: sg.name.lower())

    def create_server_group(self, name: str, policy: str) -> g.ServerGroup:
        self._call("create_server_group")
        if len(self.server_groups) >= 10:
            raise Rejected("Quota exceeded, too many server groups.", 403)
        group = g.ServerGroup(_id("sg"), name, policy)
        self.server_groups[group.id] = group
        return group

    def delete_server_group(self, group_id: str) -> None:
        self._call("delete_server_group")
        if self.server_groups.pop(group_id, None) is None:
            raise NotFound(f"Instance group {group_id} could not be found.")

    # --- Neutron ---------------------------------------------------------------------------

    def list_networks(self) -> list[refs.Network]:
        self._call("list_networks")
        return sorted(self.networks, key=lambda n: (n.is_external, n.name.lower()))

    def list_ports(self, device_id: str | None = None) -> list[refs.Port]:
        self._call("list_ports")
        ports = list(self.ports.values())
        if device_id is not None:
            ports = [p for p in ports if p.device_id == device_id]
        return ports

    def list_security_groups(self) -> list[refs.SecurityGroup]:
        self._call("list_security_groups")
        return sorted(self.security_groups, key=lambda sg: sg.name.lower())

    def list_floating_ips(self) -> list[refs.FloatingIp]:
        self._call("list_floating_ips")
        return list(self.floating_ips.values())

    def create_floating_ip(self, network_id: str) -> refs.FloatingIp:
        self._call("create_floating_ip")
        net = next((n for n in self.networks if n.id == network_id), None)
        if net is None or not net.is_external:
            raise Rejected(f"Network {network_id} is not a valid external network.", 400)
        fip = refs.FloatingIp(
            _id("fip"), f"192.168.0.{len(self.floating_ips) + 10}", "", "", network_id
        )
        self.floating_ips[fip.id] = fip
        return fip

    def update_floating_ip(self, floating_ip_id: str, port_id: str | None) -> None:
        self._call("update_floating_ip")
        fip = self.floating_ips.get(floating_ip_id)
        if fip is None:
            raise NotFound(f"Floating IP {floating_ip_id} could not be found")
        if port_id and fip.port_id:
            raise Rejected(
                f"Cannot associate floating IP {fip.address} ({fip.id}) with port {port_id} "
                f"because it is already associated with port {fip.port_id}.",
                409,
            )
        old_port = self.ports.get(fip.port_id) if fip.port_id else None
        port = self.ports.get(port_id) if port_id else None
        if port_id and port is None:
            raise NotFound(f"Port {port_id} could not be found.")
        self.floating_ips[fip.id] = replace(
            fip,
            port_id=port_id or "",
            fixed_address=port.fixed_ips[0] if port else "",
            status="ACTIVE" if port else "DOWN",
        )
        for p, add in ((old_port, False), (port, True)):
            if p is None or p.device_id not in self.servers:
                continue
            fs = self.servers[p.device_id]
            net = next(n for n in self.networks if n.id == p.network_id)
            entry = g.Address(net.name, fip.address, "floating", 4)
            addresses = [a for a in fs.server.addresses if a != entry]
            self._set(fs, addresses=tuple([*addresses, entry] if add else addresses))

    # --- Cinder ----------------------------------------------------------------------------

    def list_volumes(self) -> list[refs.Volume]:
        self._call("list_volumes")
        return sorted(self.volumes.values(), key=lambda v: (v.name.lower(), v.id))

    def list_volume_snapshots(self) -> list[refs.VolumeSnapshot]:
        self._call("list_volume_snapshots")
        return list(self.volume_snapshots)

    # --- arranging -------------------------------------------------------------------------

    def add_port(self, server_id: str, network_id: str = "net-private", ip: str = "") -> refs.Port:
        server = self._get(server_id).server
        port = refs.Port(
            _id("port"),
            "",
            network_id,
            (ip or (server.fixed_ips[0] if server.fixed_ips else "10.0.0.99"),),
            device_id=server_id,
            device_owner="compute:nova",
            security_group_ids=("sg-default",),
        )
        self.ports[port.id] = port
        return port

    def add_volume(self, name: str, size: int = 1, **fields: Any) -> refs.Volume:
        volume = refs.Volume(_id("vol"), name, size, fields.pop("status", "available"), **fields)
        self.volumes[volume.id] = volume
        return volume


# --- admin ---------------------------------------------------------------------------------
# FakeAdminGateway: the same small cloud seen by an administrator, with three compute hosts
# (as the devcloud has), their services and Placement inventories, aggregates, Nova's
# migration records, and the health of other services. Moves behave like Nova's: the API
# answers at once, and each `settle()` advances every migration one step (live: queued ->
# running -> completed; cold: pre-migrating -> finished, then confirm or revert; evacuation:
# accepted -> pre-migrating -> done, where pre-migrating is Nova's window after the rebuild:
# stopped again, no task state, still on the old host). A move that cannot land ends in error
# with Nova's words in the instance action's events, and the server stays where it was.

HOSTS = ("compute1", "compute2", "compute3")
MOVE_STEPS = {
    "live-migration": ("queued", "running", "completed"),
    "migration": ("pre-migrating", "finished"),
    "evacuation": ("accepted", "pre-migrating", "done"),
}


@dataclass
class FakeMove:
    migration: g.Migration
    prior: tuple[str, int] = ("active", 1)  # vm_state and power state before the move
    fail: str = ""  # Nova's reason when this move is to fail


class FakeAdminGateway(FakeComputeGateway, AdminGateway):
    def __init__(self, *, volumes: bool = True) -> None:
        super().__init__(volumes=volumes)
        self.project_id = "p-admin"
        self.project_names = {"p-admin": "admin", "p-demo": "demo", "p-study1": "study1"}
        self.services: dict[str, g.ComputeService] = {
            host: g.ComputeService(f"svc-{host}", "nova-compute", host, "nova", "enabled", "up")
            for host in HOSTS
        }
        self.other_services = [
            g.ComputeService(
                "svc-cond", "nova-conductor", "controller", "internal", "enabled", "up"
            ),
            g.ComputeService(
                "svc-sched", "nova-scheduler", "controller", "internal", "enabled", "up"
            ),
        ]
        self.inventories: dict[str, list[refs.Inventory]] = {
            host: [
                refs.Inventory("VCPU", 16, 0, 4.0, 16),
                refs.Inventory("MEMORY_MB", 32768, 512, 1.0, 32768),
                refs.Inventory("DISK_GB", 500, 0, 1.0, 500),
            ]
            for host in HOSTS
        }
        self.aggregates: dict[str, g.Aggregate] = {}
        self.moves: list[FakeMove] = []
        self.fail_moves: dict[str, str] = {}  # server id -> Nova's reason its next move fails
        self.action_events: dict[str, list[str]] = {}  # request id -> failed events' details
        self.network_agents: list[g.NetworkAgent] = []
        self.volume_services = [
            refs.VolumeService("cinder-scheduler", "controller", "nova", "enabled", "up"),
            refs.VolumeService("cinder-volume", "controller@fake", "nova", "enabled", "up"),
        ]
        self.endpoints = [
            refs.CatalogEndpoint(
                "compute", "nova", "public", "RegionOne", "http://127.0.0.1:8774/v2.1"
            ),
            refs.CatalogEndpoint(
                "identity", "keystone", "public", "RegionOne", "http://127.0.0.1:5000/v3"
            ),
        ]
        self.unreachable: set[str] = set()  # endpoint URLs whose probe fails

    # --- arranging -------------------------------------------------------------------------

    def add_server(self, name: str = "web-1", **fields: Any) -> g.Server:
        fields.setdefault("host", HOSTS[0])
        return super().add_server(name, **fields)

    def set_service(self, host: str, **changes: Any) -> None:
        self.services[host] = replace(self.services[host], **changes)

    def usages(self, host: str) -> dict[str, int]:
        on_host = [f.server for f in self.servers.values() if f.server.host == host]
        return {
            "VCPU": sum(s.flavor.vcpus for s in on_host),
            "MEMORY_MB": sum(s.flavor.ram for s in on_host),
            "DISK_GB": sum(s.flavor.disk for s in on_host),
        }

    def _fits(self, host: str, flavor: g.FlavorSpec) -> bool:
        used = self.usages(host)
        inventories = {i.resource_class: i for i in self.inventories[host]}
        needs = {"VCPU": flavor.vcpus, "MEMORY_MB": flavor.ram, "DISK_GB": flavor.disk}
        return all(used[k] + v <= inventories[k].capacity for k, v in needs.items())

    def _landing(self, server: g.Server, requested: str) -> tuple[str, str]:
        """(host, "") where the scheduler would put it, or ("", Nova's reason)."""
        if requested:
            if requested not in self.services:
                return "", f"Compute host {requested} could not be found."
            service = self.services[requested]
            if service.state != "up" or service.forced_down:
                return "", f"Compute service of {requested} is unavailable at this time."
            usable = service.status == "enabled" and self._fits(requested, server.flavor)
            return (requested, "") if usable else ("", NO_VALID_HOST)
        for host in HOSTS:
            service = self.services[host]
            usable = host != server.host and service.is_up and service.status == "enabled"
            if usable and self._fits(host, server.flavor):
                return host, ""
        return "", NO_VALID_HOST

    def _new_move(self, fs: FakeServer, kind: str, dest: str, fail: str) -> FakeMove:
        number = len(self.moves) + 1
        migration = g.Migration(
            id=number,
            uuid=f"mig-{number}",
            server_id=fs.server.id,
            migration_type=kind,
            status=MOVE_STEPS[kind][0],
            source_host=fs.server.host,
            dest_host=dest,
            project_id=fs.server.project_id,
            created_at=_now(),
            updated_at=_now(),
        )
        move = FakeMove(migration, (fs.server.vm_state, fs.server.power_state), fail)
        self.moves.append(move)
        return move

    def _fail_move(self, move: FakeMove, fs: FakeServer, action: str) -> None:
        move.migration = replace(move.migration, status="error", updated_at=_now())
        request_id = "req-" + uuid.uuid4().hex[:8]
        fs.actions.insert(0, g.ServerAction(action, request_id, "u-admin", _now(), "Error"))
        self.action_events[request_id] = [move.fail]
        vm_state, power = move.prior
        self._set(fs, task_state=None, vm_state=vm_state, power_state=power)

    def settle(self) -> None:
        """Every migration in progress takes one step; then the tenant side's settle."""
        for move in self.moves:
            m = move.migration
            steps = MOVE_STEPS[m.migration_type]
            if m.status not in steps[:-1]:
                continue
            fs = self.servers.get(m.server_id)
            if fs is None:
                continue
            nxt = steps[steps.index(m.status) + 1]
            if nxt == steps[-1] and move.fail:
                action = {"live-migration": "live-migration", "migration": "migrate"}.get(
                    m.migration_type, "evacuate"
                )
                self._fail_move(move, fs, action)
                continue
            move.migration = replace(m, status=nxt, updated_at=_now())
            if nxt != steps[-1]:
                if m.migration_type == "evacuation" and not move.fail:
                    # Rebuilt, stopped, task state cleared; Nova sets the new host only next
                    # (nova/compute/resource_tracker.py finish_evacuation).
                    self._set(fs, task_state=None, vm_state="stopped", power_state=4)
                continue
            if m.migration_type == "live-migration":
                self._set(fs, host=m.dest_host, task_state=None, vm_state=move.prior[0])
            elif m.migration_type == "migration":
                self._set(fs, host=m.dest_host, task_state=None, vm_state="resized")
            else:  # evacuation lands SHUTOFF (microversion >= 2.95)
                self._set(fs, host=m.dest_host, task_state=None, vm_state="stopped", power_state=4)
        super().settle()

    def _move_checks(self, server_id: str, verb: str, states: set[str]) -> FakeServer:
        fs = self._act(server_id, "_move")
        if fs.server.vm_state not in states:
            raise Rejected(
                f"Cannot '{verb}' instance {server_id} while it is in vm_state "
                f"{fs.server.vm_state}",
                409,
            )
        return fs

    # --- hypervisors and Placement ---------------------------------------------------------

    def list_hypervisors(self) -> list[g.Hypervisor]:
        self._call("list_hypervisors")
        return [
            g.Hypervisor(
                id=f"rp-{host}",
                name=host,
                host=host,
                type="fake",
                state="down" if not self.services[host].is_up else "up",
                status=self.services[host].status,
                server_ids=tuple(sid for sid, f in self.servers.items() if f.server.host == host),
            )
            for host in HOSTS
        ]

    def list_resource_provider_inventories(self, provider_id: str) -> list[refs.Inventory]:
        self._call("list_resource_provider_inventories")
        return list(self.inventories[provider_id.removeprefix("rp-")])

    def get_resource_provider_usages(self, provider_id: str) -> dict[str, int]:
        self._call("get_resource_provider_usages")
        return self.usages(provider_id.removeprefix("rp-"))

    # --- compute services ------------------------------------------------------------------

    def _service(self, service_id: str) -> g.ComputeService:
        for service in self.services.values():
            if service.id == service_id:
                return service
        raise NotFound(f"Service {service_id} not found.")

    def list_services(self, binary: str = "") -> list[g.ComputeService]:
        self._call("list_services")
        found = list(self.services.values()) + ([] if binary else self.other_services)
        return sorted(
            (s for s in found if not binary or s.binary == binary), key=lambda s: (s.binary, s.host)
        )

    def disable_service(self, service_id: str, reason: str = "") -> None:
        self._call("disable_service")
        host = self._service(service_id).host
        self.set_service(host, status="disabled", disabled_reason=reason)

    def enable_service(self, service_id: str) -> None:
        self._call("enable_service")
        self.set_service(self._service(service_id).host, status="enabled", disabled_reason="")

    def update_service_forced_down(self, service_id: str, forced: bool) -> None:
        self._call("update_service_forced_down")
        self.set_service(self._service(service_id).host, forced_down=forced)

    # --- aggregates ------------------------------------------------------------------------

    def _aggregate(self, aggregate_id: str) -> g.Aggregate:
        try:
            return self.aggregates[aggregate_id]
        except KeyError:
            raise NotFound(f"Aggregate {aggregate_id} could not be found.") from None

    def list_aggregates(self) -> list[g.Aggregate]:
        self._call("list_aggregates")
        return sorted(self.aggregates.values(), key=lambda a: a.name.lower())

    def create_aggregate(self, name: str, availability_zone: str = "") -> str:
        self._call("create_aggregate")
        if any(a.name == name for a in self.aggregates.values()):
            raise Rejected(f"Aggregate {name} already exists.", 409)
        aggregate_id = str(len(self.aggregates) + 1)
        self.aggregates[aggregate_id] = g.Aggregate(aggregate_id, name, availability_zone)
        return aggregate_id

    def delete_aggregate(self, aggregate_id: str) -> None:
        self._call("delete_aggregate")
        if self._aggregate(aggregate_id).hosts:
            raise Rejected(
                f"Cannot remove aggregate {aggregate_id}: it has hosts; remove them first.", 400
            )
        del self.aggregates[aggregate_id]

    def add_host_to_aggregate(self, aggregate_id: str, host: str) -> None:
        self._call("add_host_to_aggregate")
        aggregate = self._aggregate(aggregate_id)
        if host not in self.services:
            raise NotFound(f"Compute host {host} could not be found.")
        if host in aggregate.hosts:
            raise Rejected(
                f"Cannot add host to aggregate {aggregate_id}. Reason: Host already in "
                "availability zone.",
                409,
            )
        hosts = tuple(sorted((*aggregate.hosts, host)))
        self.aggregates[aggregate_id] = replace(aggregate, hosts=hosts)

    def remove_host_from_aggregate(self, aggregate_id: str, host: str) -> None:
        self._call("remove_host_from_aggregate")
        aggregate = self._aggregate(aggregate_id)
        if host not in aggregate.hosts:
            raise NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}")
        hosts = tuple(x for x in aggregate.hosts if x != host)
        self.aggregates[aggregate_id] = replace(aggregate, hosts=hosts)

    def set_aggregate_metadata(self, aggregate_id: str, metadata: dict[str, str | None]) -> None:
        self._call("set_aggregate_metadata")
        aggregate = self._aggregate(aggregate_id)
        merged = dict(aggregate.metadata)
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        self.aggregates[aggregate_id] = replace(aggregate, metadata=tuple(sorted(merged.items())))

    # --- flavors ---------------------------------------------------------------------------

    def _may_use(self, flavor: g.Flavor) -> bool:
        return True  # an admin sees (and may launch with) every flavor

    def _flavor(self, flavor_id: str) -> g.Flavor:
        found = next((f for f in self.flavors if f.id == flavor_id), None)
        if found is None:
            raise NotFound(f"Flavor {flavor_id} could not be found.")
        return found

    def _replace_flavor(self, flavor: g.Flavor) -> None:
        self.flavors = [flavor if f.id == flavor.id else f for f in self.flavors]

    def get_flavor(self, flavor_id: str) -> g.Flavor:
        self._call("get_flavor")
        return self._flavor(flavor_id)

    def create_flavor(self, spec: g.NewFlavor) -> str:
        self._call("create_flavor")
        if any(f.name == spec.name for f in self.flavors):
            raise Rejected(f"Flavor with name {spec.name} already exists.", 409)
        if any(f.id == spec.id for f in self.flavors):
            raise Rejected(f"Flavor with ID {spec.id} already exists.", 409)
        flavor_id = spec.id or str(uuid.uuid4())
        self.flavors.append(
            g.Flavor(
                flavor_id,
                spec.name,
                spec.vcpus,
                spec.ram,
                spec.disk,
                spec.ephemeral,
                spec.is_public,
                spec.swap,
                spec.rxtx_factor,
            )
        )
        return flavor_id

    def delete_flavor(self, flavor_id: str) -> None:
        """Like Nova: refused for no instance; theirs keep the embedded copy (FlavorSpec)."""
        self._call("delete_flavor")
        self._flavor(flavor_id)
        self.flavors = [f for f in self.flavors if f.id != flavor_id]
        self.flavor_access.pop(flavor_id, None)

    def update_flavor_extra_specs(self, flavor_id: str, specs: dict[str, str]) -> None:
        self._call("update_flavor_extra_specs")
        flavor = self._flavor(flavor_id)
        for key, value in specs.items():  # one of the checks Nova makes from 2.86
            if key == "hw:cpu_policy" and value not in CPU_POLICIES:
                raise Rejected(
                    f"Validation failed; '{value}' is not one of: {', '.join(CPU_POLICIES)}.",
                    400,
                )
        merged = dict(flavor.extra_specs) | specs
        self._replace_flavor(replace(flavor, extra_specs=tuple(sorted(merged.items()))))

    def delete_flavor_extra_spec(self, flavor_id: str, key: str) -> None:
        self._call("delete_flavor_extra_spec")
        flavor = self._flavor(flavor_id)
        specs = dict(flavor.extra_specs)
        if key not in specs:
            raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
        del specs[key]
        self._replace_flavor(replace(flavor, extra_specs=tuple(sorted(specs.items()))))

    def list_flavor_access(self, flavor_id: str) -> list[str]:
        self._call("list_flavor_access")
        if self._flavor(flavor_id).is_public:
            raise NotFound("Access list not available for public flavors.")
        return sorted(self.flavor_access.get(flavor_id, set()))

    def add_flavor_access(self, flavor_id: str, project_id: str) -> None:
        self._call("add_flavor_access")
        if self._flavor(flavor_id).is_public:
            raise Rejected("Can not add access to a public flavor.", 409)
        if project_id not in self.project_names:
            raise Rejected(f"Project ID {project_id} is not a valid project.", 400)
        given = self.flavor_access.setdefault(flavor_id, set())
        if project_id in given:
            raise Rejected(
                f"Flavor access already exists for flavor {flavor_id} and project "
                f"{project_id} combination.",
                409,
            )
        given.add(project_id)

    def remove_flavor_access(self, flavor_id: str, project_id: str) -> None:
        self._call("remove_flavor_access")
        self._flavor(flavor_id)
        given = self.flavor_access.get(flavor_id, set())
        if project_id not in given:
            raise NotFound(f"Flavor access not found for {flavor_id} / {project_id} combination.")
        given.discard(project_id)

    # --- migrations ------------------------------------------------------------------------

    def list_migrations(
        self,
        *,
        host: str = "",
        status: str = "",
        migration_type: str = "",
        server_id: str = "",
        limit: int = 100,
        marker: str = "",
    ) -> list[g.Migration]:
        self._call("list_migrations")
        found = [m.migration for m in reversed(self.moves)]  # newest first, like Nova
        if host:
            found = [m for m in found if host in (m.source_host, m.dest_host)]
        if status:
            found = [m for m in found if m.status == status]
        if migration_type:
            found = [m for m in found if m.migration_type == migration_type]
        if server_id:
            found = [m for m in found if m.server_id == server_id]
        if marker:
            uuids = [m.uuid for m in found]
            if marker not in uuids:
                raise Rejected(f"Marker {marker} could not be found.", 400)
            found = found[uuids.index(marker) + 1 :]
        return found[:limit]

    def list_server_migrations(self, server_id: str) -> list[g.ServerMigration]:
        self._call("list_server_migrations")
        self._get(server_id)
        return [
            g.ServerMigration(
                id=m.migration.id,
                status=m.migration.status,
                source_host=m.migration.source_host,
                dest_host=m.migration.dest_host,
                memory_total=2**30,
                memory_processed=2**29 if m.migration.status == "running" else 0,
                memory_remaining=2**29 if m.migration.status == "running" else 2**30,
            )
            for m in self.moves
            if m.migration.server_id == server_id
            and m.migration.migration_type == "live-migration"
            and m.migration.status in g.MIGRATION_RUNNING
        ]

    def live_migrate_server(
        self, server_id: str, host: str = "", block_migration: bool | str = "auto"
    ) -> None:
        self._call("live_migrate_server")
        fs = self._move_checks(server_id, "os-migrateLive", {"active", "paused"})
        if host == fs.server.host:
            raise Rejected(f"The target host can't be the same one: {host}", 400)
        dest, fail = self._landing(fs.server, host)
        fail = self.fail_moves.pop(server_id, fail)
        self._new_move(fs, "live-migration", dest, fail)
        self._set(fs, task_state="migrating", status="MIGRATING")

    def migrate_server(self, server_id: str, host: str = "") -> None:
        self._call("migrate_server")
        fs = self._move_checks(server_id, "migrate", {"active", "stopped"})
        dest, fail = self._landing(fs.server, host)
        fail = self.fail_moves.pop(server_id, fail)
        self._new_move(fs, "migration", dest, fail)
        self._set(fs, task_state="resize_prep", status="RESIZE")

    def evacuate_server(self, server_id: str, host: str = "") -> None:
        self._call("evacuate_server")
        fs = self._act(server_id, "_move")
        source = self.services[fs.server.host]
        if source.is_up:
            raise Rejected(f"Compute service of {source.host} is still in use.", 400)
        dest, fail = self._landing(fs.server, host)
        fail = self.fail_moves.pop(server_id, fail)
        self._new_move(fs, "evacuation", dest, fail)
        self._set(fs, task_state="rebuilding", status="REBUILD")

    def _live_move(self, server_id: str, migration_id: int) -> FakeMove:
        for move in self.moves:
            m = move.migration
            if m.id == migration_id and m.server_id == server_id:
                return move
        raise NotFound(f"Migration {migration_id} could not be found.")

    def abort_server_migration(self, server_id: str, migration_id: int) -> None:
        self._call("abort_server_migration")
        move = self._live_move(server_id, migration_id)
        if move.migration.status not in g.MIGRATION_ABORTABLE:
            raise Rejected(
                f"Migration {migration_id} state of instance {server_id} is "
                f"{move.migration.status}. Cannot abort live migration in this state.",
                400,
            )
        move.migration = replace(move.migration, status="cancelled")
        fs = self._get(server_id)
        self._set(fs, task_state=None, vm_state=move.prior[0])

    def force_complete_server_migration(self, server_id: str, migration_id: int) -> None:
        self._call("force_complete_server_migration")
        move = self._live_move(server_id, migration_id)
        if move.migration.status != "running":
            raise Rejected(
                f"Migration {migration_id} state of instance {server_id} is "
                f"{move.migration.status}. Cannot force complete while the migration is in "
                "this state.",
                400,
            )

    def _cold_move(self, server_id: str) -> FakeMove | None:
        for move in reversed(self.moves):
            m = move.migration
            if m.server_id == server_id and m.migration_type == "migration":
                return move if m.status == "finished" else None
        return None

    def confirm_server_resize(self, server_id: str) -> None:
        move = self._cold_move(server_id)
        super().confirm_server_resize(server_id)
        if move is not None:  # a cold migration: the instance keeps its power state
            self._get(server_id).pending = ("confirm_server_resize", *move.prior)
            move.migration = replace(move.migration, status="confirmed")

    def revert_server_resize(self, server_id: str) -> None:
        move = self._cold_move(server_id)
        super().revert_server_resize(server_id)
        if move is not None:
            fs = self._get(server_id)
            fs.pending = ("revert_server_resize", *move.prior)
            self._set(fs, host=move.migration.source_host)
            move.migration = replace(move.migration, status="reverted")

    def list_server_action_events(self, server_id: str, request_id: str) -> list[str]:
        self._call("list_server_action_events")
        return list(self.action_events.get(request_id, []))

    # --- identity and health ---------------------------------------------------------------

    def list_projects(self) -> list[refs.ProjectRef]:
        self._call("list_projects")
        return sorted(
            (refs.ProjectRef(pid, name) for pid, name in self.project_names.items()),
            key=lambda p: p.name,
        )

    def list_network_agents(self) -> list[g.NetworkAgent]:
        self._call("list_network_agents")
        return list(self.network_agents)

    def list_volume_services(self) -> list[refs.VolumeService]:
        self._call("list_volume_services")
        return list(self.volume_services)

    def list_catalog_endpoints(self) -> list[refs.CatalogEndpoint]:
        self._call("list_catalog_endpoints")
        return list(self.endpoints)

    def probe_endpoint(self, url: str, timeout: float = 5.0) -> g.Probe:
        self._call("probe_endpoint")
        if url in self.unreachable:
            return g.Probe(url, False, milliseconds=int(timeout * 1000), error="ConnectFailure")
        return g.Probe(url, True, 200, 3)
