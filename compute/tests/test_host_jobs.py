"""Host arithmetic and the host-move engine (live, cold, drain, evacuate) against the fake
cloud: capacity, host filtering, the drain state machine with bounded concurrency, resume
after a crash without moving anything twice, evacuation preconditions, Nova's refusals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from compute import gateway as g
from compute import hosts as h
from compute import tasks
from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import NO_VALID_HOST, FakeAdminGateway
from portal.gateways import override
from portal.models import Operation

pytestmark = pytest.mark.django_db
SMALL = g.FlavorSpec("m1.small", 1, 2048, 20)


class Crash(BaseException):
    """A worker dying mid-job (SIGKILL): no handler runs, the row stays `running`."""


@pytest.fixture
def cloud() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch, cloud: FakeAdminGateway) -> list[int]:
    """Time passes between the job's looks at Nova: the fake cloud settles one step; the
    list records how many moves were in flight at each tick."""
    seen: list[int] = []

    def pause(seconds: float) -> None:
        seen.append(sum(1 for m in cloud.moves if m.migration.status in g.MIGRATION_RUNNING))
        cloud.settle()

    monkeypatch.setattr(tasks, "pause", pause)
    return seen


def make_op(kind: str, target: str, params: dict[str, Any] | None = None) -> Operation:
    return Operation.objects.create(
        kind=kind,
        title=kind,
        task_name=f"compute.tasks.{kind}",
        cloud_key="unit:RegionOne",
        user_id="u-admin",
        user_name="admin",
        project_id="p-admin",
        project_name="admin",
        target=target,
        target_name=target,
        params=params or {},
    )


def run(op: Operation) -> Operation:
    getattr(tasks, op.kind)(op.pk)
    op.refresh_from_db()
    return op


def migrations_per_server(cloud: FakeAdminGateway) -> Counter[str]:
    return Counter(m.migration.server_id for m in cloud.moves)


# --- pure arithmetic ---------------------------------------------------------------------------


def test_capacity_counts_allocation_ratio_reserved_and_max_unit(cloud: FakeAdminGateway) -> None:
    hv = cloud.list_hypervisors()[0]
    cap = h.host_capacity(
        hv, cloud.inventories["compute1"], {"VCPU": 60, "MEMORY_MB": 1024, "DISK_GB": 10}
    )
    assert (cap.vcpu.capacity, cap.vcpu.free) == (64, 4)  # 16 x 4.0
    assert cap.ram.capacity == 32768 - 512
    assert cap.fits(h.flavor_needs(SMALL)) == 4  # vCPUs run out first
    assert cap.fits({"VCPU": 17, "MEMORY_MB": 1, "DISK_GB": 1}) == 0  # above max_unit
    assert "needs 8 vCPUs, 4 free" in cap.shortfall({"VCPU": 8, "MEMORY_MB": 1, "DISK_GB": 1})
    swap = g.FlavorSpec("swap", 1, 512, 1, swap=1536)
    assert h.flavor_needs(swap)["DISK_GB"] == 3  # swap counts as disk, rounded up


def test_target_hosts_offers_only_up_enabled_hosts_with_room(cloud: FakeAdminGateway) -> None:
    cloud.set_service("compute2", status="disabled", disabled_reason="disk swap")
    cloud.set_service("compute3", state="down")
    hypervisors = cloud.list_hypervisors()
    capacities = {
        hv.host: h.host_capacity(
            hv, cloud.inventories[hv.host], cloud.get_resource_provider_usages(hv.id)
        )
        for hv in hypervisors
    }
    choices = h.target_hosts("compute1", cloud.list_services(), capacities, h.flavor_needs(SMALL))
    assert [(c.host, c.usable) for c in choices] == [("compute2", False), ("compute3", False)]
    assert "disabled (disk swap)" in choices[0].reason and "down" in choices[1].reason
    cloud.set_service("compute2", status="enabled", disabled_reason="")
    huge = {"VCPU": 1, "MEMORY_MB": 40000, "DISK_GB": 1}
    full = h.target_hosts("compute1", cloud.list_services(), capacities, huge)
    assert full[0].reason.startswith("not enough room") and "MB of RAM" in full[0].reason
    cloud.set_service("compute3", state="up", forced_down=True)
    assert "forced down" in h.service_problem(cloud.services["compute3"])


def test_plan_and_evacuation_preconditions(cloud: FakeAdminGateway) -> None:
    active = cloud.add_server("a")
    stopped = cloud.add_server("s", vm_state="stopped")
    shelved = cloud.add_server("x", vm_state="suspended")
    assert h.plan_move(active, h.LIVE, h.COLD) == (h.LIVE, "")
    assert h.plan_move(active, h.COLD, h.COLD) == (h.COLD, "")
    assert h.plan_move(stopped, h.LIVE, h.COLD) == (h.COLD, "")
    assert h.plan_move(stopped, h.LIVE, h.SKIP)[0] == ""
    assert "SUSPENDED" in h.plan_move(shelved, h.LIVE, h.COLD)[1]
    assert "is up" in h.evacuation_refusal(cloud.services["compute1"])
    cloud.set_service("compute1", forced_down=True)
    assert h.evacuation_refusal(cloud.services["compute1"]) == ""
    assert h.evacuation_refusal(None)


def test_a_move_is_settled_only_when_the_server_and_its_record_agree() -> None:
    home = g.Server("s1", "vm", "SHUTOFF", host="compute1")
    away = g.Server("s1", "vm", "SHUTOFF", host="compute2")
    busy = g.Server("s1", "vm", "REBUILD", task_state="rebuilding", host="compute1")

    def record(status: str) -> g.Migration:
        return g.Migration(1, "m-1", "s1", "evacuation", status, "compute1", "compute2")

    assert h.move_outcome(busy, None, "compute1") == h.MIGRATING  # record not written yet
    assert h.move_outcome(home, record("pre-migrating"), "compute1") == h.MIGRATING
    assert h.move_outcome(away, record("done"), "compute1") == h.MOVED
    assert h.move_outcome(home, record("failed"), "compute1") == h.FAILED
    assert h.move_outcome(home, record("reverted"), "compute1") == h.FAILED
    # Mixed pictures: a server read before Nova set the new host, a record stuck in error
    # after it did, or a server moved whose record a read has not caught up with.
    assert h.move_outcome(home, record("done"), "compute1") == h.UNSURE
    assert h.move_outcome(away, record("error"), "compute1") == h.UNSURE
    assert h.move_outcome(away, None, "compute1") == h.UNSURE
    assert h.move_outcome(home, None, "compute1") == h.UNSURE


# --- one instance ------------------------------------------------------------------------------


def test_live_migration_follows_novas_record_to_the_new_host(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    server = cloud.add_server("vm", flavor=SMALL)
    op = run(make_op("live_migrate_server", server.id, {"host": "", "block": "auto"}))
    assert op.state == "succeeded", op.error
    assert cloud.servers[server.id].server.host == "compute2"
    item = op.result["items"][0]
    assert item["state"] == h.MOVED and item["dest"] == "compute2"
    assert item["progress"]["memory_total"] == 2**30  # what Nova reported while running
    assert op.percent == 100 and op.step == "Moved to compute2."


def test_live_migration_to_a_chosen_host(cloud: FakeAdminGateway, ticks: list[int]) -> None:
    server = cloud.add_server("vm")
    op = run(make_op("live_migrate_server", server.id, {"host": "compute3"}))
    assert op.state == "succeeded" and cloud.servers[server.id].server.host == "compute3"


def test_failed_live_migration_ends_with_novas_reason_and_the_real_host(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    server = cloud.add_server("vm")
    cloud.set_service("compute2", status="disabled", disabled_reason="maintenance")
    cloud.set_service("compute3", status="disabled", disabled_reason="maintenance")
    op = run(make_op("live_migrate_server", server.id, {}))
    assert op.state == "failed"
    assert NO_VALID_HOST in op.error
    assert "The instance is ACTIVE on compute1." in op.error
    assert cloud.servers[server.id].server.host == "compute1"


def test_a_refused_live_migration_fails_at_once_with_novas_words(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    server = cloud.add_server("vm", vm_state="stopped")
    op = run(make_op("live_migrate_server", server.id, {}))
    assert op.state == "failed"
    assert "Cannot 'os-migrateLive' instance" in op.error and "vm_state stopped" in op.error
    assert not cloud.moves


def test_cold_migration_waits_for_confirm_or_revert(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    server = cloud.add_server("vm", vm_state="stopped")
    op = run(make_op("migrate_server", server.id, {"host": ""}))
    assert op.state == "succeeded", op.error
    assert op.result["items"][0]["state"] == h.VERIFY
    assert "confirm or revert" in op.step
    assert cloud.servers[server.id].server.status == "VERIFY_RESIZE"
    cloud.revert_server_resize(server.id)
    cloud.settle()
    reverted = cloud.servers[server.id].server
    assert (reverted.host, reverted.status) == ("compute1", "SHUTOFF")


# --- drains ------------------------------------------------------------------------------------


def fill_host(cloud: FakeAdminGateway, n: int = 6) -> list[g.Server]:
    return [cloud.add_server(f"vm-{i}", project_id=f"p-{i % 2}") for i in range(n)]


def test_drain_moves_every_instance_with_bounded_concurrency_and_reports(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    servers = fill_host(cloud, 5)
    stopped = cloud.add_server("stopped", vm_state="stopped")
    suspended = cloud.add_server("suspended", vm_state="suspended")
    refused = cloud.add_server("refused", locked=True, locked_reason="legal hold")
    failing = cloud.add_server("failing")
    cloud.fail_moves[failing.id] = "Migration pre-check error: Unable to migrate"
    op = run(make_op("drain_host", "compute1", {"concurrency": 2, "reason": "new disks"}))
    assert op.state == "failed"  # one instance could not be moved: said, with the report
    assert "2 of 9 instances could not be moved off compute1" in op.error
    assert max(ticks) <= 2 and 2 in ticks  # never more than two in flight
    assert cloud.services["compute1"].status == "disabled"
    assert cloud.services["compute1"].disabled_reason == "new disks"
    items = {i["id"]: i for i in op.result["items"]}
    for server in [*servers, stopped]:
        assert items[server.id]["state"] == h.MOVED
        assert cloud.servers[server.id].server.host != "compute1"
    assert items[stopped.id]["kind"] == h.COLD
    assert cloud.servers[stopped.id].server.status == "SHUTOFF"  # confirmed, still off
    assert items[suspended.id]["state"] == h.SKIPPED
    assert "SUSPENDED" in items[suspended.id]["reason"]
    assert items[refused.id]["state"] == h.FAILED and "locked" in items[refused.id]["reason"]
    assert items[failing.id]["state"] == h.FAILED
    assert "Unable to migrate" in items[failing.id]["reason"]
    assert "is ACTIVE on compute1" in items[failing.id]["reason"]
    assert op.result["report"]["moved"] == 6 and op.result["report"]["skipped"] == 1
    assert set(migrations_per_server(cloud).values()) == {1}


def test_drain_resumes_after_a_crash_and_moves_nothing_twice(
    cloud: FakeAdminGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = fill_host(cloud, 6)
    calls = {"n": 0}

    def dying_pause(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        cloud.settle()

    monkeypatch.setattr(tasks, "pause", dying_pause)
    op = make_op("drain_host", "compute1", {"concurrency": 2})
    with pytest.raises(Crash):
        tasks.drain_host(op.pk)
    op.refresh_from_db()
    assert op.state == "running"  # as a killed worker leaves it
    done_before = h.counts(op.result["items"])
    assert done_before[h.MOVED] >= 1 and done_before[h.MIGRATING] >= 1
    # The reaper requeues it; a new worker claims it and goes on from the record.
    Operation.objects.filter(pk=op.pk).update(state="queued")
    monkeypatch.setattr(tasks, "pause", lambda seconds: cloud.settle())
    op = run(op)
    assert op.state == "succeeded", op.error
    assert op.attempts == 2
    assert all(cloud.servers[s.id].server.host != "compute1" for s in servers)
    assert migrations_per_server(cloud) == Counter({s.id: 1 for s in servers})


def test_a_crash_between_recording_and_asking_nova_asks_once_on_resume(
    cloud: FakeAdminGateway, ticks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = cloud.add_server("vm")
    real = cloud.live_migrate_server

    def die_before_nova(*args: Any, **kwargs: Any) -> None:
        raise Crash

    monkeypatch.setattr(cloud, "live_migrate_server", die_before_nova)
    op = make_op("drain_host", "compute1", {"concurrency": 1})
    with pytest.raises(Crash):
        tasks.drain_host(op.pk)
    op.refresh_from_db()
    assert op.result["items"][0]["state"] == h.MIGRATING and not cloud.moves
    monkeypatch.setattr(cloud, "live_migrate_server", real)
    Operation.objects.filter(pk=op.pk).update(state="queued")
    op = run(op)
    assert op.state == "succeeded", op.error
    assert migrations_per_server(cloud) == Counter({server.id: 1})
    assert any("never reached Nova" in line[1] for line in op.log)


def test_a_drain_cold_migrates_running_instances_when_asked(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    server = cloud.add_server("vm")
    stopped = cloud.add_server("off", vm_state="stopped")
    op = run(make_op("drain_host", "compute1", {"active": h.COLD, "stopped": h.SKIP}))
    items = {i["id"]: i for i in op.result["items"]}
    assert items[server.id]["kind"] == h.COLD and items[server.id]["state"] == h.MOVED
    assert cloud.servers[server.id].server.status == "ACTIVE"
    assert items[stopped.id]["state"] == h.SKIPPED
    assert cloud.servers[stopped.id].server.host == "compute1"


# --- evacuation --------------------------------------------------------------------------------


def test_evacuation_is_refused_while_the_host_is_up(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    cloud.add_server("vm")
    op = run(make_op("evacuate_host", "compute1", {"concurrency": 2}))
    assert op.state == "failed" and "compute1 is up" in op.error
    assert not cloud.moves


def test_evacuation_rebuilds_every_instance_elsewhere_once_the_host_is_down(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    servers = fill_host(cloud, 3)
    cloud.set_service("compute1", forced_down=True)
    op = run(make_op("evacuate_host", "compute1", {"concurrency": 2}))
    assert op.state == "succeeded", op.error
    for server in servers:
        moved = cloud.servers[server.id].server
        assert moved.host != "compute1" and moved.status == "SHUTOFF"
    assert {m.migration.migration_type for m in cloud.moves} == {"evacuation"}
    assert op.step == "Moved 3, failed 0, skipped 0."


def test_an_evacuation_nova_finishes_between_the_jobs_two_reads_is_reported_moved(
    cloud: FakeAdminGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18, defect 7: the server is read in Nova's window after the rebuild (SHUTOFF,
    no task state, still on the old host), and the migration record just after Nova set
    the new host and marked it done. That pair is no failure: a second look settles it."""
    stopped = [cloud.add_server(f"evac-{i}", vm_state="stopped") for i in range(2)]
    cloud.set_service("compute1", forced_down=True)
    looks = {"n": 0}

    def pause(seconds: float) -> None:
        cloud.settle()  # accepted -> pre-migrating: Nova's window
        looks["n"] += 1
        if looks["n"] == 1:
            cloud.steps_before["list_migrations"] = 1  # -> done, between the two reads

    monkeypatch.setattr(tasks, "pause", pause)
    op = run(make_op("evacuate_host", "compute1", {"concurrency": 2}))
    assert op.state == "succeeded", op.error
    assert op.step == "Moved 2, failed 0, skipped 0."
    items = {i["id"]: i for i in op.result["items"]}
    for server in stopped:
        landed = cloud.servers[server.id].server
        assert landed.host != "compute1" and landed.status == "SHUTOFF"
        item = items[server.id]
        assert (item["state"], item["dest"]) == (h.MOVED, landed.host)
        assert "Nova leaves an evacuated instance stopped" in item["reason"]
        assert item["progress"]["status"] == "done"
    assert any(
        f"evac-0: moved to {items[stopped[0].id]['dest']} — It is SHUTOFF" in line[1]
        for line in op.log
    )
    assert set(migrations_per_server(cloud).values()) == {1}


def test_a_failed_evacuation_is_reported_with_novas_reason_once_a_second_look_agrees(
    cloud: FakeAdminGateway, ticks: list[int]
) -> None:
    ok = cloud.add_server("evac-ok", vm_state="stopped")
    failing = cloud.add_server("evac-bad", vm_state="stopped")
    cloud.fail_moves[failing.id] = "Failed to rebuild: disk image unreadable"
    cloud.set_service("compute1", forced_down=True)
    op = run(make_op("evacuate_host", "compute1", {"concurrency": 2}))
    assert op.state == "failed"
    assert "1 of 2 instances could not be moved off compute1" in op.error
    items = {i["id"]: i for i in op.result["items"]}
    assert items[ok.id]["state"] == h.MOVED
    bad = items[failing.id]
    assert bad["state"] == h.FAILED and bad["progress"]["status"] == "error"
    assert bad["reason"] == (
        "Failed to rebuild: disk image unreadable The instance is SHUTOFF on compute1."
    )
    assert bad["doubts"] == 2  # said only when a fresh look showed the same
    assert cloud.servers[failing.id].server.host == "compute1"


def test_an_instance_on_its_new_host_is_moved_whatever_a_stuck_record_says(
    cloud: FakeAdminGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nova can leave a live migration's record in error after the instance landed (a failed
    clean-up on the source): the job looks again a bounded number of times, then reports
    where the instance is, with what the record says."""
    server = cloud.add_server("vm")

    def pause(seconds: float) -> None:
        cloud.settle()
        for move in cloud.moves:
            if move.migration.status == "completed":
                move.migration = g.Migration(**{**vars(move.migration), "status": "error"})

    monkeypatch.setattr(tasks, "pause", pause)
    op = run(make_op("live_migrate_server", server.id, {}))
    assert op.state == "succeeded", op.error
    item = op.result["items"][0]
    assert (item["state"], item["dest"]) == (h.MOVED, "compute2")
    assert item["reason"] == "Nova's migration record says error, yet the instance is there."
    assert item["doubts"] == tasks.SETTLE_LOOKS + 1
