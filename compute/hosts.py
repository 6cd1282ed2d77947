"""Pure host arithmetic for the admin pages and the host jobs: no cloud calls here.

- Capacity: what Placement counts per compute node (total, reserved, allocation ratio,
  max unit, usage) and how many instances of a flavor still fit.
- Host choice: which hosts a migration may target, and why each other one may not.
- Drain planning: how each instance on a host is to be moved (or why it is skipped), and
  the states of each instance in a host job's record.
- Evacuation preconditions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from django.utils.translation import gettext as _

from compute.gateway import (
    Aggregate,
    ComputeService,
    Flavor,
    FlavorSpec,
    Hypervisor,
    Migration,
    Server,
)
from portal.refs import Inventory

RESOURCES = ("VCPU", "MEMORY_MB", "DISK_GB")


# --- capacity ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    """One resource class of one host: Placement's capacity, usage and largest single unit."""

    capacity: int = 0  # (total - reserved) * allocation_ratio
    used: int = 0
    max_unit: int = 0
    total: int = 0

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used)

    @property
    def percent(self) -> int:
        return min(100, self.used * 100 // self.capacity) if self.capacity > 0 else 0


@dataclass(frozen=True)
class HostCapacity:
    host: str
    hypervisor: Hypervisor
    rooms: tuple[tuple[str, Room], ...]

    def room(self, resource_class: str) -> Room:
        return dict(self.rooms).get(resource_class, Room())

    @property
    def vcpu(self) -> Room:
        return self.room("VCPU")

    @property
    def ram(self) -> Room:
        return self.room("MEMORY_MB")

    @property
    def disk(self) -> Room:
        return self.room("DISK_GB")

    def fits(self, needs: Mapping[str, int]) -> int:
        """How many instances with these needs still fit on this host."""
        counts = []
        for resource_class, amount in needs.items():
            if amount <= 0:
                continue
            room = self.room(resource_class)
            if room.max_unit and amount > room.max_unit:
                return 0
            counts.append(room.free // amount)
        return min(counts) if counts else 0

    def shortfall(self, needs: Mapping[str, int]) -> str:
        """Why one more instance does not fit ("" when it does)."""
        labels = {"VCPU": _("vCPUs"), "MEMORY_MB": _("MB of RAM"), "DISK_GB": _("GB of disk")}
        missing = []
        for resource_class, amount in needs.items():
            room = self.room(resource_class)
            if amount > 0 and (room.free < amount or (room.max_unit and amount > room.max_unit)):
                missing.append(
                    _("needs %(need)d %(what)s, %(free)d free")
                    % {"need": amount, "what": labels[resource_class], "free": room.free}
                )
        return "; ".join(missing)


def host_capacity(
    hypervisor: Hypervisor, inventories: Iterable[Inventory], usages: Mapping[str, int]
) -> HostCapacity:
    rooms = tuple(
        (
            i.resource_class,
            Room(i.capacity, int(usages.get(i.resource_class, 0)), i.max_unit, i.total),
        )
        for i in inventories
        if i.resource_class in RESOURCES
    )
    return HostCapacity(hypervisor.host, hypervisor, rooms)


def flavor_needs(flavor: Flavor | FlavorSpec) -> dict[str, int]:
    """What Placement allocates for a flavor: swap (MB) counts as disk, rounded up to a GB."""
    swap = getattr(flavor, "swap", 0) or 0
    return {
        "VCPU": flavor.vcpus,
        "MEMORY_MB": flavor.ram,
        "DISK_GB": flavor.disk + (flavor.ephemeral or 0) + math.ceil(swap / 1024),
    }


def totals(capacities: Iterable[HostCapacity]) -> dict[str, Room]:
    """The cloud's summary bars: every host's capacity and usage added up."""
    summed: dict[str, Room] = {r: Room() for r in RESOURCES}
    for cap in capacities:
        for resource_class in RESOURCES:
            room, seen = cap.room(resource_class), summed[resource_class]
            summed[resource_class] = Room(
                seen.capacity + room.capacity,
                seen.used + room.used,
                max(seen.max_unit, room.max_unit),
                seen.total + room.total,
            )
    return summed


@dataclass(frozen=True)
class FitRow:
    """One line of the capacity table: a host or an aggregate, and the count per flavor."""

    name: str
    counts: tuple[int, ...]  # in the order of the flavors shown
    detail: str = ""  # an aggregate's hosts


def capacity_rows(
    capacities: list[HostCapacity], aggregates: list[Aggregate], flavors: list[Flavor]
) -> tuple[list[FitRow], list[FitRow]]:
    """Per hypervisor and per aggregate, how many instances of each flavor still fit. An
    instance lives on one host, so an aggregate's count is the sum of its hosts' counts."""
    needs = [flavor_needs(f) for f in flavors]
    per_host = {c.host: tuple(c.fits(n) for n in needs) for c in capacities}
    hosts = [FitRow(c.host, per_host[c.host]) for c in capacities]
    groups = []
    for aggregate in aggregates:
        members = [per_host[h] for h in aggregate.hosts if h in per_host]
        counts = tuple(sum(row[i] for row in members) for i in range(len(flavors)))
        groups.append(FitRow(aggregate.name, counts, ", ".join(aggregate.hosts)))
    return hosts, groups


# --- where an instance may go -------------------------------------------------------------


@dataclass(frozen=True)
class HostChoice:
    host: str
    usable: bool
    reason: str = ""  # why not, for a host offered disabled

    @property
    def label(self) -> str:
        return f"{self.host} — {self.reason}" if self.reason else self.host


def service_problem(service: ComputeService | None) -> str:
    """Why a compute service cannot take instances ("" when it can)."""
    if service is None:
        return _("no compute service")
    if service.forced_down:
        return _("its compute service is forced down")
    if service.state != "up":
        return _("its compute service is down")
    if service.status != "enabled":
        if service.disabled_reason:
            return _("its compute service is disabled (%(reason)s)") % {
                "reason": service.disabled_reason
            }
        return _("its compute service is disabled")
    return ""


def target_hosts(
    current_host: str,
    services: Iterable[ComputeService],
    capacities: Mapping[str, HostCapacity],
    needs: Mapping[str, int],
) -> list[HostChoice]:
    """Every other compute host, usable only when it is up, enabled and has room."""
    choices = []
    for service in sorted(services, key=lambda s: s.host):
        if service.binary != "nova-compute" or service.host == current_host:
            continue
        reason = service_problem(service)
        if not reason:
            capacity = capacities.get(service.host)
            if capacity is None:
                reason = _("Placement knows no resources for it")
            elif capacity.fits(needs) < 1:
                reason = _("not enough room: %(why)s") % {"why": capacity.shortfall(needs)}
        choices.append(HostChoice(service.host, not reason, reason))
    return choices


def evacuation_refusal(service: ComputeService | None) -> str:
    """Why a host may not be evacuated ("" when it may): Nova rebuilds instances elsewhere
    only when their host's compute service is down, or forced down by an administrator."""
    if service is None:
        return _("There is no compute service on that host.")
    if service.forced_down or service.state == "down":
        return ""
    return _(
        "%(host)s is up: evacuation is for a host whose compute service is down. Force it "
        "down first if the host has failed, or drain it for planned maintenance."
    ) % {"host": service.host}


# --- host jobs: planning and the state of each instance -------------------------------------

PENDING = "pending"
MIGRATING = "migrating"
MOVED = "moved"
VERIFY = "verify"  # a cold migration waiting for the administrator to confirm or revert
FAILED = "failed"
SKIPPED = "skipped"
OPEN = (PENDING, MIGRATING)
DONE = (MOVED, VERIFY, FAILED, SKIPPED)
UNSURE = "unsure"  # not an item's state: one look's two reads disagree, so look again

LIVE = "live"
COLD = "cold"
EVACUATE = "evacuate"
SKIP = "skip"


def plan_move(server: Server, active_mode: str, stopped_mode: str) -> tuple[str, str]:
    """How a drain moves this server: (live|cold, "") or ("", why it is skipped).

    Nova live-migrates ACTIVE and PAUSED instances and cold-migrates ACTIVE and SHUTOFF
    ones (nova/compute/api.py check_instance_state of live_migrate and resize)."""
    if server.task_state:
        return "", _("Nova is busy with it (%(task)s).") % {"task": server.task_state}
    if server.vm_state == "active":
        return (COLD if active_mode == COLD else LIVE), ""
    if server.vm_state == "paused":
        return LIVE, ""
    if server.vm_state == "stopped":
        if stopped_mode == SKIP:
            return "", _("It is shut off, and this run leaves shut-off instances in place.")
        return COLD, ""
    return "", _("Nova cannot move an instance that is %(status)s.") % {"status": server.status}


# Nova's statuses of a migration that put the instance on its new host: evacuation done,
# live completed, cold finished (then confirmed).
LANDED_MIGRATION = frozenset({"done", "completed", "finished", "confirmed"})


def move_outcome(server: Server, migration: Migration | None, source: str) -> str:
    """What one look at Nova says of a move off `source`, from the server and our migration
    record: MIGRATING while Nova is at it; MOVED when the record says the move landed and
    the server is on another host; FAILED when the record ended otherwise and the server is
    still on its host; UNSURE when the two disagree or there is no record yet.

    They are two reads, a moment apart, and Nova writes the server first: an evacuation's
    instance is rebuilt (a stopped one stopped again, task state cleared) while its host is
    still the old one; only then does Nova set the new host, and then mark the record done
    (nova/compute/resource_tracker.py finish_evacuation). A server read just before that
    and a record read just after look like a failure: look again."""
    if server.task_state or (migration is not None and migration.is_running):
        return MIGRATING
    if migration is None:
        return UNSURE  # Nova writes the record before it moves anything: a read behind it
    moved = server.host != source
    landed = migration.status in LANDED_MIGRATION
    if moved != landed:
        return UNSURE
    return MOVED if moved else FAILED


# A host job's memory (Operation.result, JSON, saved with every progress report). The version
# says which shape a row was planned with, so a portal upgraded under a running job can tell.
JOB_STATE_VERSION = 1


class MoveItem(TypedDict):
    """A host job's record of one instance: pending -> migrating -> moved | verify | failed,
    or skipped from the start."""

    id: str
    name: str
    project_id: str
    status: str  # the server's status when the job planned it
    kind: str  # LIVE, COLD, EVACUATE, or "" when skipped
    state: str
    reason: str
    migration_id: int
    known: list[int]  # ids of the server's migrations before ours: ours is the new one
    attempt: int  # the job attempt that asked Nova to move it
    dest: str
    progress: dict[str, Any]  # Nova's live-migration figures (status, bytes, percent)
    started: float
    finished: float
    target: NotRequired[str]  # a single move's host; "" lets the scheduler choose
    block_migration: NotRequired[bool | str]  # a single live move's block migration (or auto)
    confirm: NotRequired[bool]  # a drain confirms its cold migrations itself
    confirmed: NotRequired[bool]
    doubts: NotRequired[int]  # looks at Nova that found a mixed picture, so far


class HostJobState(TypedDict, total=False):
    version: int
    source: str
    planned: bool
    items: list[MoveItem]
    report: dict[str, int]


def new_item(server: Server, kind: str, reason: str = "") -> MoveItem:
    """A job's record of one instance, before anything moved."""
    return {
        "id": server.id,
        "name": server.name,
        "project_id": server.project_id,
        "status": server.status,
        "kind": kind,
        "state": PENDING if kind else SKIPPED,
        "reason": reason,
        "migration_id": 0,
        "known": [],
        "attempt": 0,
        "dest": "",
        "progress": {},
        "started": 0.0,
        "finished": 0.0,
    }


def counts(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    found = {state: 0 for state in (*OPEN, *DONE)}
    for item in items:
        found[str(item["state"])] += 1
    return found
