"""What the portal relies on Nova, Cinder and Neutron to do with quotas and usage, checked the
same way against the fake (unit layer, quotas/tests/test_contract.py) and against the real
gateway on the all-in-one cloud (tests/cloud/test_quotas_usage.py), so the fake cannot drift.

Each check takes an admin's gateway and a project of its own, arranged by the caller: the
usage check needs `servers` servers that started before `end`.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.errors import Rejected
from quotas.gateway import QuotasGateway
from quotas.usage import Period, project_servers, project_usage, project_usages

SEED = {"instances": 20, "cores": 128, "ram": 51200}  # devcloud's study1


def check_quota_sets(gw: QuotasGateway, project_id: str, instances_in_use: int) -> None:
    gw.update_compute_quota_set(project_id, SEED)
    gw.update_network_quota(project_id, {"floating_ips": 50, "security_groups": 10})
    compute = gw.get_compute_quota_set(project_id).quotas
    assert {k: compute[k].limit for k in SEED} == SEED
    assert compute["instances"].in_use == instances_in_use
    network = gw.get_network_quota(project_id).quotas
    assert (network["floating_ips"].limit, network["security_groups"].limit) == (50, 10)

    with pytest.raises(Rejected, match="must be greater than or equal to already used") as below:
        gw.update_compute_quota_set(project_id, {"instances": instances_in_use - 1})
    assert below.value.status == 400
    with pytest.raises(Rejected, match="-1") as negative:
        gw.update_compute_quota_set(project_id, {"instances": -2})
    assert negative.value.status == 400
    assert gw.get_compute_quota_set(project_id).quotas["instances"].limit == 20  # unchanged

    gw.update_volume_quota_set(project_id, {"gigabytes": -1})
    assert gw.get_volume_quota_set(project_id).quotas["gigabytes"].unlimited


def check_usage_pages(
    gw: QuotasGateway, project_id: str, start: datetime, end: datetime, servers: int
) -> None:
    """Nova pages by instance: one project spans pages, and joining them gives what one big
    page gives; the admin's all-projects listing yields the project once, whole."""
    period = Period(start, end)
    first = gw.get_usage(project_id, start, end, limit=1)
    assert len(first.usages) == 1 and len(first.usages[0].servers) == 1
    assert (first.next_marker is not None) == (servers > 1)
    paged = project_usage(gw, project_id, period, page_size=1)
    whole = project_usage(gw, project_id, period, page_size=1000)
    assert len(paged.servers) == len(whole.servers) == servers
    assert paged.vcpu_hours == pytest.approx(whole.vcpu_hours)
    assert paged.ram_mb_hours == pytest.approx(whole.ram_mb_hours)
    assert whole.vcpu_hours == pytest.approx(sum(s.vcpus * s.hours for s in whole.servers))
    assert [s.instance_id for s in project_servers(gw, project_id, period, page_size=1)] == [
        s.instance_id for s in whole.servers
    ]
    mine = [u for u in project_usages(gw, period, page_size=1) if u.project_id == project_id]
    assert len(mine) == 1 and len(mine[0].servers) == servers
    assert mine[0].disk_gb_hours == pytest.approx(whole.disk_gb_hours)
    with pytest.raises(Rejected) as backwards:
        gw.get_usage(project_id, end, start, limit=1)
    assert backwards.value.status == 400
