"""Identity › Projects › Edit quotas (beside usage) and quotas applied to several projects."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from portal.models import Operation
from projects.tests.fakes import FakeProjectsGateway
from quotas import catalog
from quotas.tasks import apply_quotas
from quotas.tests.fakes import FakeQuotasGateway
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

URL = "/project/identity/projects/p-demo/quotas/"


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def errors(response: object) -> str:
    return unescape(" | ".join(page_errors(html(response))))


def current_values(quota_fake: FakeQuotasGateway, project_id: str = "p-demo") -> dict[str, str]:
    """The form as the page fills it: every quota at its current limit."""
    return {
        q.name: str(quota_fake.limit(project_id, q.service, q.key)) for q in catalog.QUOTA_FIELDS
    }


@pytest.fixture
def busy(quota_fake: FakeQuotasGateway) -> FakeQuotasGateway:
    """demo uses 3 instances, 6 vCPUs, 2 volumes, 4 floating IPs; vCPUs are unlimited."""
    quota_fake.in_use["p-demo"] = {
        catalog.COMPUTE: {"instances": 3, "cores": 6, "ram": 6144},
        catalog.VOLUME: {"volumes": 2, "gigabytes": 30},
        catalog.NETWORK: {"floating_ips": 4, "security_groups": 2},
    }
    quota_fake.limits["p-demo"] = {catalog.COMPUTE: {"cores": -1}}
    return quota_fake


def test_each_quota_is_shown_beside_its_usage(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    page = html(admin_client.get(URL))
    assert "Quotas of demo" in page
    assert 'name="compute__instances"' in page and 'value="10"' in page
    assert "In use: 3" in page and "In use: 4" in page and "In use: 30" in page
    assert "In use: 6 · now unlimited" in page  # -1 is unlimited, and said so
    for label in ("Instances", "Injected files", "Volume storage (GiB)", "Security group rules"):
        assert label in page
    assert keystone_fake.calls + busy.calls <= 4  # the project and three services, at once


def test_saving_sends_only_what_changed(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    form = current_values(busy) | {
        "compute__instances": "20",
        "compute__cores": "128",
        "compute__ram": "51200",
        "network__floating_ips": "60",
        "network__security_groups": "-1",
    }
    response = admin_client.post(URL, form)
    assert response.status_code == 302, errors(response)
    assert busy.limits["p-demo"][catalog.COMPUTE] == {"instances": 20, "cores": 128}
    assert busy.limits["p-demo"][catalog.NETWORK] == {"floating_ips": 60, "security_groups": -1}
    assert catalog.VOLUME not in busy.limits["p-demo"]  # nothing changed there: not sent
    assert "Quotas of demo saved." in html(admin_client.get(URL))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("compute__instances", "-2", "Enter -1 for unlimited, or 0 or more."),
        ("compute__instances", "many", "Enter a whole number (-1 for unlimited)."),
        ("volume__gigabytes", "1.5", "Enter a whole number (-1 for unlimited)."),
        ("network__floating_ips", "", "Enter a value (-1 for unlimited)."),
        ("compute__instances", "2", "The project already uses 3; enter 3 or more, or -1."),
        ("volume__volumes", "1", "The project already uses 2; enter 2 or more, or -1."),
        ("network__floating_ips", "0", "The project already uses 4; enter 4 or more, or -1."),
    ],
)
def test_bad_values_are_refused_at_the_field_and_nothing_is_lost(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    busy: FakeQuotasGateway,
    field: str,
    value: str,
    message: str,
) -> None:
    form = current_values(busy) | {"compute__ram": "40000", field: value}
    response = admin_client.post(URL, form)
    page = html(response)
    assert response.status_code == 400
    assert message in errors(response)
    assert f'name="{field}"' in page and 'value="40000"' in page  # the other edit stays
    assert "ram" not in busy.limits["p-demo"].get(catalog.COMPUTE, {})  # nothing was sent


def test_unlimited_is_accepted_below_nothing(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    response = admin_client.post(URL, current_values(busy) | {"compute__instances": "-1"})
    assert response.status_code == 302
    assert busy.limit("p-demo", catalog.COMPUTE, "instances") == -1


def test_a_cloud_refusal_is_shown_with_its_reason(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    busy.refuse[catalog.NETWORK] = "Policy doesn't allow update_quota to be performed."
    form = current_values(busy) | {"network__ports": "600", "compute__instances": "12"}
    response = admin_client.post(URL, form)
    assert response.status_code == 400
    assert "Network: Policy doesn't allow update_quota to be performed." in errors(response)
    assert 'value="600"' in html(response)
    # Compute took its part first; Network's refusal set it back, and the form says so.
    assert busy.limit("p-demo", catalog.COMPUTE, "instances") == 10
    assert "Compute: Not changed: set back to the previous values." in html(response)


def test_usage_that_grew_meanwhile_is_refused_by_the_cloud(
    admin_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    """The form checked usage when the page was read; the cloud checks again on save."""

    def grow(project_id: str, values: object) -> None:
        busy.in_use["p-demo"][catalog.COMPUTE]["instances"] = 5
        FakeQuotasGateway.update_compute_quota_set(busy, project_id, values)  # type: ignore[arg-type]

    busy.update_compute_quota_set = grow  # type: ignore[method-assign]
    response = admin_client.post(URL, current_values(busy) | {"compute__instances": "4"})
    assert "must be greater than or equal to already used and reserved 5" in errors(response)


def test_services_the_cloud_lacks_are_left_out(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    quota_fake.services.discard("block-storage")
    page = html(admin_client.get(URL))
    assert "compute__instances" in page and "volume__volumes" not in page


def test_non_admins_cannot_read_or_change_quotas(
    member_client: Client, keystone_fake: FakeProjectsGateway, busy: FakeQuotasGateway
) -> None:
    assert member_client.get(URL).status_code == 403
    response = member_client.post(URL, current_values(busy) | {"compute__instances": "99"})
    assert response.status_code == 403
    assert busy.calls == 0 and busy.limit("p-demo", catalog.COMPUTE, "instances") == 10


# --- one quota set for several projects -----------------------------------------------------

BULK = "/project/identity/projects/quotas/"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"compute__instances": "5"}, "Choose at least one project."),
        ({"projects": ["p-demo"]}, "Enter at least one quota to apply."),
        ({"projects": ["p-demo"], "compute__instances": "-3"}, "Enter -1 for unlimited"),
        ({"projects": ["p-demo"], "compute__instances": "x"}, "Enter a whole number"),
        ({"projects": ["p-nowhere"], "compute__instances": "5"}, "Select a valid choice."),
    ],
)
def test_bulk_form_refusals(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    quota_fake: FakeQuotasGateway,
    form: dict[str, object],
    message: str,
) -> None:
    response = admin_client.post(BULK, form)
    assert response.status_code == 400
    assert message in errors(response)
    assert not Operation.objects.exists()


def test_bulk_apply_lists_each_project_changed_or_refused(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    busy: FakeQuotasGateway,
    django_capture_on_commit_callbacks: object,
) -> None:
    page = html(admin_client.get(BULK))
    assert 'value="p-study1"' in page and "Apply quotas to several projects" in page
    form = {
        "projects": ["p-demo", "p-study1", "p-admin"],
        "compute__instances": "2",  # demo runs 3: the cloud refuses it there
        "network__security_groups": "20",
    }
    response = admin_client.post(BULK, form)
    op = Operation.objects.get(kind="apply_quotas")
    assert response["Location"] == f"/quotas/admin/jobs/{op.pk}/"
    assert op.params["values"] == {"compute": {"instances": 2}, "network": {"security_groups": 20}}

    apply_quotas(op.pk)  # what the worker runs

    op.refresh_from_db()
    assert op.state == "succeeded"
    assert {pid: r["status"] for pid, r in op.result.items()} == {
        "p-demo": "refused",
        "p-study1": "changed",
        "p-admin": "changed",
    }
    assert busy.limit("p-study1", catalog.COMPUTE, "instances") == 2
    # demo's usage is checked first: none of its part is sent, the network part neither.
    assert busy.limit("p-demo", catalog.NETWORK, "security_groups") == 10
    page = html(admin_client.get(response["Location"]))
    assert "Refused" in page and "Changed" in page
    assert "Compute: Instances: the project uses 3, more than 2." in page
    polled = admin_client.get(response["Location"], headers={"HX-Request": "true"})
    assert polled.status_code == 286  # finished: polling stops


def test_bulk_apply_resumes_without_redoing_finished_projects(
    admin_client: Client, keystone_fake: FakeProjectsGateway, quota_fake: FakeQuotasGateway
) -> None:
    admin_client.post(BULK, {"projects": ["p-demo", "p-study1"], "compute__instances": "7"})
    op = Operation.objects.get(kind="apply_quotas")
    op.result = {"p-demo": {"name": "demo", "status": "changed", "refused": []}}
    op.save()
    quota_fake.limits["p-demo"] = {catalog.COMPUTE: {"instances": 99}}  # changed since
    apply_quotas(op.pk)
    assert quota_fake.limit("p-demo", catalog.COMPUTE, "instances") == 99  # not redone
    assert quota_fake.limit("p-study1", catalog.COMPUTE, "instances") == 7
