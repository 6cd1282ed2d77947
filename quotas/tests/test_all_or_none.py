"""Quota changes across Nova, Cinder and Neutron are all or none (issue 18, defect 5): the
admin's project quota form used to save the compute part and then fail on the network part,
showing only the error. Values the services refuse are caught first, at the field; a part
the cloud still refuses sets the parts already applied back, and the form says exactly what
holds. The same goes for Admin › Defaults and for the bulk apply_quotas job."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from django.test import Client

from portal.errors import CloudUnavailable, Rejected
from portal.models import Operation
from projects.tests.fakes import FakeProjectsGateway
from quotas import catalog
from quotas.tasks import apply_quotas
from quotas.tests.fakes import FakeQuotasGateway
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

URL = "/project/identity/projects/p-demo/quotas/"
DEFAULTS = "/quotas/admin/defaults/"
BULK = "/project/identity/projects/quotas/"
SET_BACK = "Not changed: set back to the previous values."


def html(response: Any) -> str:
    return str(response.content.decode())


def current_values(fake: FakeQuotasGateway, project_id: str = "p-demo") -> dict[str, str]:
    return {q.name: str(fake.limit(project_id, q.service, q.key)) for q in catalog.QUOTA_FIELDS}


@pytest.fixture
def busy(quota_fake: FakeQuotasGateway) -> FakeQuotasGateway:
    quota_fake.in_use["p-demo"] = {
        catalog.COMPUTE: {"instances": 3, "cores": 6},
        catalog.NETWORK: {"ports": 7},
    }
    return quota_fake


TOO_BIG = "Enter at most 2147483647 (-1 for unlimited)."
MIXED = [
    # a compute change the cloud takes, beside a network value it refuses
    ({"compute__instances": "20", "network__ports": str(10**20)}, TOO_BIG),
    ({"compute__instances": "20", "network__ports": str(2**31)}, TOO_BIG),
    ({"compute__cores": "64", "network__ports": "6"}, "The project already uses 7"),
    ({"compute__ram": str(2**31), "network__ports": "600"}, TOO_BIG),
    ({"volume__gigabytes": str(10**30), "compute__instances": "15"}, TOO_BIG),
]


@pytest.mark.parametrize(("changes", "message"), MIXED)
def test_a_mixed_change_with_a_value_the_cloud_refuses_changes_nothing(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    busy: FakeQuotasGateway,
    changes: dict[str, str],
    message: str,
) -> None:
    before = copy.deepcopy(busy.limits)
    response = admin_client.post(URL, current_values(busy) | changes)
    assert response.status_code == 400
    assert any(message in e for e in page_errors(html(response))), page_errors(html(response))
    assert busy.limits == before  # nothing sent to any service


def test_the_largest_limit_the_services_store_is_accepted(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    response = admin_client.post(URL, current_values(busy) | {"compute__ram": str(2**31 - 1)})
    assert response.status_code == 302
    assert busy.limit("p-demo", catalog.COMPUTE, "ram") == 2**31 - 1
    too_big = admin_client.post(URL, current_values(busy) | {"compute__ram": str(2**31)})
    assert "Enter at most 2147483647 (-1 for unlimited)." in html(too_big)


def test_a_refusal_after_two_parts_sets_both_back(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    busy.refuse[catalog.NETWORK] = "Policy doesn't allow update_quota to be performed."
    changes = {"compute__instances": "12", "volume__volumes": "30", "network__ports": "600"}
    response = admin_client.post(URL, current_values(busy) | changes)
    assert response.status_code == 400
    page = html(response)
    assert "Network: Policy doesn&#x27;t allow update_quota to be performed." in page
    assert f"Compute: {SET_BACK}" in page and f"Volume: {SET_BACK}" in page
    assert busy.limit("p-demo", catalog.COMPUTE, "instances") == 10
    assert busy.limit("p-demo", catalog.VOLUME, "volumes") == 10
    assert 'value="600"' in page  # what was typed stays, to try again


def test_a_part_after_the_refused_one_is_not_sent_and_says_so(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    busy.refuse[catalog.VOLUME] = "Policy doesn't allow volume_extension:quotas:update."
    changes = {"compute__instances": "12", "volume__volumes": "30", "network__ports": "600"}
    page = html(admin_client.post(URL, current_values(busy) | changes))
    assert f"Compute: {SET_BACK}" in page and "Network: Not applied." in page
    assert busy.limit("p-demo", catalog.NETWORK, "ports") == 500


def test_what_cannot_be_set_back_is_reported_as_applied(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    """Two instances start while the form saves: Nova then refuses the old limit back."""

    def refuse_network(project_id: str, values: Mapping[str, int]) -> None:
        busy.in_use["p-demo"][catalog.COMPUTE]["instances"] = 5
        raise Rejected("Quota limit 6 for ports must be greater than or equal to 7.", 400)

    busy.update_network_quota = refuse_network  # type: ignore[method-assign]
    changes = {"compute__instances": "12", "network__ports": "600"}
    busy.limits["p-demo"] = {catalog.COMPUTE: {"instances": 4}}
    page = html(admin_client.post(URL, current_values(busy) | changes))
    assert "Compute: Applied, and could not be set back:" in page
    assert "already used and reserved 5" in page
    assert busy.limit("p-demo", catalog.COMPUTE, "instances") == 12  # as reported


def test_the_cloud_away_before_anything_was_applied_is_the_usual_cloud_error(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    def away(project_id: str, values: Mapping[str, int]) -> None:
        raise CloudUnavailable("503 Service Unavailable")

    busy.update_compute_quota_set = away  # type: ignore[method-assign]
    response = admin_client.post(URL, current_values(busy) | {"compute__instances": "12"})
    assert response.status_code == 503


def test_neutron_away_after_compute_was_applied_sets_compute_back(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    def away(project_id: str, values: Mapping[str, int]) -> None:
        raise CloudUnavailable("Neutron server returns request_ids: 503", 503)

    busy.update_network_quota = away  # type: ignore[method-assign]
    changes = {"compute__instances": "12", "network__ports": "600"}
    page = html(admin_client.post(URL, current_values(busy) | changes))
    assert "Network: Neutron server returns" in page and f"Compute: {SET_BACK}" in page
    assert busy.limit("p-demo", catalog.COMPUTE, "instances") == 10


# --- Admin › Defaults ---------------------------------------------------------------------


def test_a_refused_volume_default_sets_the_compute_default_back(
    admin_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    quota_fake.refuse[catalog.VOLUME] = "Policy doesn't allow volume_extension:quota_classes."
    form = {q.name: str(quota_fake.defaults[q.service][q.key]) for q in catalog.QUOTA_FIELDS}
    changes = {"compute__instances": "15", "volume__volumes": "20", "network__ports": "900"}
    response = admin_client.post(DEFAULTS, form | changes)
    assert response.status_code == 400
    page = html(response)
    assert f"Compute: {SET_BACK}" in page and "Network: Not applied." in page
    assert quota_fake.defaults[catalog.COMPUTE]["instances"] == 10
    assert not Operation.objects.filter(kind="apply_network_defaults").exists()
    too_big = admin_client.post(DEFAULTS, form | {"compute__instances": str(10**20)})
    assert too_big.status_code == 400 and quota_fake.defaults[catalog.COMPUTE]["instances"] == 10


# --- the bulk job -------------------------------------------------------------------------


def test_the_bulk_job_applies_a_project_s_parts_all_or_none(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    busy.refuse[catalog.NETWORK] = "Policy doesn't allow update_quota to be performed."
    form = {"projects": ["p-demo", "p-study1"], "compute__instances": "8", "network__ports": "5"}
    assert admin_client.post(BULK, form).status_code == 302
    op = Operation.objects.get(kind="apply_quotas")
    apply_quotas(op.pk)
    op.refresh_from_db()
    demo = op.result["p-demo"]  # uses 7 ports: refused before anything was sent
    assert demo["status"] == "refused"
    assert demo["refused"] == [["network", "Ports: the project uses 7, more than 5."]]
    study1 = op.result["p-study1"]  # Neutron refuses: compute set back
    assert study1["status"] == "refused"
    assert ["compute", SET_BACK] in study1["refused"]
    for project_id in ("p-demo", "p-study1"):
        assert busy.limit(project_id, catalog.COMPUTE, "instances") == 10
