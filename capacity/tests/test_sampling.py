"""A sampling round against the in-memory cloud: what Placement and the quota reads say
becomes rows, the cloud total adds the hosts up, and what cannot be read is left out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from capacity import tasks
from capacity.models import CLOUD_TOTAL, CapacitySample, ProjectUsageSample
from capacity.sampling import purge_old_samples, sample_cloud
from capacity.tests.fakes import FakeCapacityGateway, FakeProject, FakeProvider, host
from conftest import UNIT_CLOUD
from portal.errors import CloudError
from portal.refs import Inventory, ProjectRef

pytestmark = pytest.mark.django_db


def arrange(fake: FakeCapacityGateway) -> None:
    fake.add_host(host("rp-1", "compute1", vcpus=8, ram_mb=16384, disk_gb=100))
    fake.add_host(host("rp-2", "compute2", vcpus=4, ram_mb=8192, disk_gb=50))
    fake.allocate("rp-1", "vm-a", 2, 2048, 10)
    fake.allocate("rp-1", "vm-b", 1, 512, 1)
    fake.allocate("rp-2", "vm-c", 4, 4096, 20)
    fake.add_project(FakeProject("p-demo", "demo", 2, 3, 2560, 11, 1))
    fake.add_project(FakeProject("p-study1", "study1", 1, 4, 4096, 0, 0))


def test_a_round_records_each_host_and_the_cloud_total(fake: FakeCapacityGateway) -> None:
    arrange(fake)
    result = sample_cloud(fake, UNIT_CLOUD)

    assert (result.providers, result.projects, result.projects_skipped) == (2, 2, 0)
    rows = {r.provider_name: r for r in CapacitySample.objects.all()}
    one = rows["compute1"]
    # capacity is (total - reserved) x allocation ratio: 8 x 4.0, 16384 - 512
    assert (one.vcpus_used, one.vcpus_capacity) == (3, 32)
    assert (one.ram_mb_used, one.ram_mb_capacity) == (2560, 15872)
    assert (one.disk_gb_used, one.disk_gb_capacity) == (11, 100)
    assert one.instances == 2
    total = rows[""]
    assert total.provider_id == CLOUD_TOTAL
    assert (total.vcpus_used, total.vcpus_capacity) == (7, 48)
    assert (total.ram_mb_used, total.ram_mb_capacity) == (6656, 15872 + 7680)
    assert total.instances == 3
    assert {r.taken_at for r in rows.values()} == {result.taken_at}  # one round, one time


def test_a_round_records_every_readable_projects_quota_usage(fake: FakeCapacityGateway) -> None:
    arrange(fake)
    sample_cloud(fake, UNIT_CLOUD)

    demo = ProjectUsageSample.objects.get(project_id="p-demo")
    assert (demo.instances, demo.vcpus, demo.ram_mb) == (2, 3, 2560)
    assert (demo.volume_gb, demo.floating_ips) == (11, 1)
    assert demo.cloud_key == UNIT_CLOUD


def test_a_project_the_service_user_cannot_read_is_left_out_and_counted(
    fake: FakeCapacityGateway,
) -> None:
    arrange(fake)
    fake.projects["p-study1"].readable = False
    # listed (a role on it) but refused at the quota read: left out of the round
    fake.list_user_projects = lambda: [  # type: ignore[method-assign]
        ProjectRef(p.id, p.name) for p in fake.projects.values()
    ]
    result = sample_cloud(fake, UNIT_CLOUD)

    assert (result.projects, result.projects_skipped) == (1, 1)
    assert list(ProjectUsageSample.objects.values_list("project_id", flat=True)) == ["p-demo"]


def test_no_volume_or_network_service_records_none_not_zero(fake: FakeCapacityGateway) -> None:
    arrange(fake)
    fake.services = set()
    sample_cloud(fake, UNIT_CLOUD)

    demo = ProjectUsageSample.objects.get(project_id="p-demo")
    assert demo.volume_gb is None and demo.floating_ips is None
    assert fake.calls["get_volume_quota_set"] == 0


def test_a_provider_without_compute_inventory_is_not_a_host(fake: FakeCapacityGateway) -> None:
    arrange(fake)
    fake.add_host(
        FakeProvider(
            "rp-bw",
            "br-ex bandwidth",
            {"NET_BW_EGR_KILOBIT_PER_SEC": Inventory("NET_BW_EGR_KILOBIT_PER_SEC", 1000)},
        )
    )
    sample_cloud(fake, UNIT_CLOUD)

    assert set(CapacitySample.objects.values_list("provider_name", flat=True)) == {
        "compute1",
        "compute2",
        "",
    }


def test_placement_down_writes_nothing(fake: FakeCapacityGateway) -> None:
    arrange(fake)
    fake.unavailable = {"get_resource_provider_usages"}
    with pytest.raises(CloudError):
        sample_cloud(fake, UNIT_CLOUD)
    assert not CapacitySample.objects.exists()
    assert not ProjectUsageSample.objects.exists()


def test_call_budget_of_a_round(fake: FakeCapacityGateway) -> None:
    arrange(fake)
    sample_cloud(fake, UNIT_CLOUD)
    # 1 list + 3 per provider; 1 project list + 3 per project
    assert sum(fake.calls.values()) == 1 + 3 * 2 + 1 + 3 * 2


def test_samples_older_than_the_retention_are_purged(
    fake: FakeCapacityGateway, settings: object
) -> None:
    arrange(fake)
    now = timezone.now()
    settings.STACKDESK_CAPACITY_KEEP_DAYS = 60  # type: ignore[attr-defined]
    sample_cloud(fake, UNIT_CLOUD, now - timedelta(days=61))
    sample_cloud(fake, UNIT_CLOUD, now - timedelta(days=59))

    purged = purge_old_samples(now)

    assert purged == 3 + 2  # two hosts and the total, two projects
    assert set(CapacitySample.objects.values_list("taken_at", flat=True)) == {
        now - timedelta(days=59)
    }


def test_the_beat_task_samples_each_cloud_with_a_service_user(
    fake: FakeCapacityGateway, use_clouds: Callable[[dict[str, dict[str, object]]], None]
) -> None:
    arrange(fake)
    use_clouds(
        {
            "one": {"auth": {"auth_url": "http://127.0.0.1:1/v3"}, "region_name": "RegionOne"},
            "two": {"auth": {"auth_url": "http://127.0.0.1:2/v3"}, "region_name": "RegionOne"},
        }
    )

    done = tasks.sample_every_cloud(lambda where: fake if where.name == "one" else None)

    assert [r.cloud_key for r in done] == ["one:RegionOne"]
    assert set(CapacitySample.objects.values_list("cloud_key", flat=True)) == {"one:RegionOne"}


def test_without_a_service_user_nothing_is_sampled(
    use_clouds: Callable[[dict[str, dict[str, object]]], None], settings: object
) -> None:
    settings.STACKDESK_SERVICE_CLOUD = ""  # type: ignore[attr-defined]
    use_clouds({"one": {"auth": {"auth_url": "http://127.0.0.1:1/v3"}, "region_name": "R"}})
    assert tasks.sample_capacity() == 0
    assert not CapacitySample.objects.exists()
