"""The projection (rate, no growth, shrinking, full, too little history), thinning, and
the series of a scope (an aggregate's hosts added up per round)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from capacity import trends
from capacity.models import CapacitySample
from capacity.trends import Point, Scope
from conftest import UNIT_CLOUD

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def ram_points(
    values: list[int], capacity: int = 1000, every: timedelta = timedelta(days=1)
) -> list[Point]:
    return [
        Point(T0 + i * every, {"ram_mb_used": v, "ram_mb_capacity": capacity})
        for i, v in enumerate(values)
    ]


def test_steady_growth_runs_out_at_that_rate() -> None:
    # 100 MiB a day, 400 used of 1000 at the end: 6 days left
    p = trends.project("ram", ram_points([100, 200, 300, 400]))
    assert p.state == "runs_out"
    assert p.rate_per_day == pytest.approx(100)
    assert p.days == 6


def test_the_rate_is_the_trend_not_the_last_step() -> None:
    # noisy growth of about 50 a day (least squares), 700 left
    p = trends.project("ram", ram_points([100, 180, 190, 260, 300]))
    assert p.rate_per_day == pytest.approx(48.0)
    assert p.days == int(700 / 48.0)


def test_no_growth_does_not_run_out() -> None:
    p = trends.project("ram", ram_points([400, 400, 400]))
    assert p.state == "not_at_rate"
    assert p.days is None


def test_shrinking_use_does_not_run_out() -> None:
    p = trends.project("ram", ram_points([900, 700, 500]))
    assert p.state == "not_at_rate"
    assert p.rate_per_day == pytest.approx(-200)


def test_full_is_full_whatever_the_rate() -> None:
    assert trends.project("ram", ram_points([900, 1000])).state == "full"


def test_one_sample_or_a_few_minutes_tell_no_rate() -> None:
    assert trends.project("ram", ram_points([100])).state == "unknown"
    minutes = ram_points([100, 200, 300], every=timedelta(minutes=10))
    assert trends.project("ram", minutes).state == "unknown"
    assert trends.project("ram", []).state == "unknown"


def test_thinning_keeps_the_peak_of_each_bucket() -> None:
    points = ram_points([10] * 100 + [999] + [10] * 99, every=timedelta(minutes=15))
    thinned = trends.thin(points, timedelta(days=30), max_points=10)
    assert len(thinned) <= 11
    assert max(p.values["ram_mb_used"] or 0 for p in thinned) == 999
    assert trends.thin(points[:5], timedelta(days=1)) == points[:5]  # few points: all kept


@pytest.mark.django_db
def test_an_aggregate_adds_its_hosts_up_per_round() -> None:
    for i, when in enumerate((T0, T0 + timedelta(hours=1))):
        CapacitySample.objects.create(cloud_key=UNIT_CLOUD, taken_at=when, provider_id="")
        for name, used in (("c1", 1 + i), ("c2", 10), ("c3", 100)):
            CapacitySample.objects.create(
                cloud_key=UNIT_CLOUD,
                taken_at=when,
                provider_id="rp-" + name,
                provider_name=name,
                vcpus_used=used,
                vcpus_capacity=40,
            )
    scope = Scope("aggregate", "fast", ("c1", "c2"))
    points = trends.capacity_points(UNIT_CLOUD, scope, T0, timedelta(hours=2))
    assert [(p.values["vcpus_used"], p.values["vcpus_capacity"]) for p in points] == [
        (11, 80),
        (12, 80),
    ]
    host = trends.capacity_points(UNIT_CLOUD, Scope("host", "c3"), T0, timedelta(hours=2))
    assert [p.values["vcpus_used"] for p in host] == [100, 100]
    # another cloud's rows are never in a series
    assert trends.capacity_points("other:RegionOne", scope, T0) == []


@pytest.mark.django_db
def test_a_long_aggregate_range_reads_one_round_an_interval() -> None:
    rounds = [T0 + i * timedelta(minutes=15) for i in range(4 * 24 * 3)]  # 3 days
    for when in rounds:
        CapacitySample.objects.create(cloud_key=UNIT_CLOUD, taken_at=when, provider_id="")
        CapacitySample.objects.create(
            cloud_key=UNIT_CLOUD,
            taken_at=when,
            provider_id="rp-c1",
            provider_name="c1",
            vcpus_used=1,
        )
    scope = Scope("aggregate", "all", ("c1",))
    points = trends.capacity_points(UNIT_CLOUD, scope, T0, timedelta(days=3))
    assert trends.MAX_POINTS - 1 <= len(points) <= trends.MAX_POINTS + 1
    assert points[-1].taken_at == rounds[-1]  # the latest round is always among them
    assert len(trends.capacity_points(UNIT_CLOUD, scope, T0, timedelta(days=30))) < 30
