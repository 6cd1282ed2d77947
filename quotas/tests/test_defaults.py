"""Admin › Defaults: compute and volume defaults through the services' quota classes, network
defaults kept by the portal and applied to the projects that follow them."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from portal.models import Operation
from projects.tests.fakes import FakeProjectsGateway
from quotas import catalog
from quotas.models import NetworkDefaultsApplied, NetworkQuotaDefaults
from quotas.tasks import apply_network_defaults
from quotas.tests.fakes import FakeQuotasGateway
from tests.conftest import page_errors

pytestmark = pytest.mark.django_db

URL = "/quotas/admin/defaults/"


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def form_of(quota_fake: FakeQuotasGateway) -> dict[str, str]:
    return {q.name: str(quota_fake.defaults[q.service][q.key]) for q in catalog.QUOTA_FIELDS}


def test_defaults_page_shows_all_three_services_editable(
    admin_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    page = html(admin_client.get(URL))
    for name in ("compute__instances", "volume__gigabytes", "network__floating_ips"):
        assert f'name="{name}"' in page
    assert "readonly" not in page and "disabled" not in page
    assert quota_fake.calls == 3


def test_compute_and_volume_defaults_change_in_the_cloud(
    admin_client: Client, quota_fake: FakeQuotasGateway, django_capture_on_commit_callbacks: object
) -> None:
    form = form_of(quota_fake) | {"compute__instances": "15", "volume__backups": "-1"}
    response = admin_client.post(URL, form)
    assert response.status_code == 302
    assert quota_fake.defaults[catalog.COMPUTE]["instances"] == 15
    assert quota_fake.defaults[catalog.VOLUME]["backups"] == -1
    assert not Operation.objects.exists()  # the network defaults did not change
    assert "Default quotas saved." in html(admin_client.get(URL))


@pytest.mark.parametrize(
    ("value", "message"),
    [("-5", "Enter -1 for unlimited, or 0 or more."), ("ten", "Enter a whole number")],
)
def test_bad_defaults_are_refused_at_the_field(
    admin_client: Client, quota_fake: FakeQuotasGateway, value: str, message: str
) -> None:
    form = form_of(quota_fake) | {"compute__cores": value, "compute__instances": "30"}
    response = admin_client.post(URL, form)
    assert response.status_code == 400 and message in " ".join(page_errors(html(response)))
    assert 'value="30"' in html(response)
    assert quota_fake.defaults[catalog.COMPUTE]["instances"] == 10


def test_a_refused_default_shows_the_clouds_reason(
    admin_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    quota_fake.refuse[catalog.VOLUME] = "Policy doesn't allow volume_extension:quota_classes."
    response = admin_client.post(URL, form_of(quota_fake) | {"volume__volumes": "20"})
    assert response.status_code == 400
    assert "Policy doesn't allow volume_extension:quota_classes." in unescape(html(response))


def test_network_defaults_are_applied_to_the_projects_that_follow_them(
    admin_client: Client,
    quota_fake: FakeQuotasGateway,
    keystone_fake: FakeProjectsGateway,
    django_capture_on_commit_callbacks: object,
) -> None:
    # study1 has network quotas of its own (equal to Neutron's defaults, as the seed sets
    # them); admin and demo follow Neutron's defaults.
    quota_fake.limits["p-study1"] = {catalog.NETWORK: dict(quota_fake.defaults[catalog.NETWORK])}
    quota_fake.in_use["p-demo"] = {catalog.NETWORK: {"security_groups": 12}}
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        admin_client.post(URL, form_of(quota_fake) | {"network__security_groups": "11"})
    saved = NetworkQuotaDefaults.objects.get()
    assert saved.values["security_groups"] == 11 and saved.updated_by == "admin"
    op = Operation.objects.get(kind="apply_network_defaults")

    apply_network_defaults(op.pk)

    op.refresh_from_db()
    assert {r["name"]: r["status"] for r in op.result.values()} == {
        "admin": "changed",
        "demo": "refused",  # it already has 12 security groups
    }
    assert quota_fake.limit("p-admin", catalog.NETWORK, "security_groups") == 11
    assert quota_fake.limit("p-study1", catalog.NETWORK, "security_groups") == 10  # its own
    assert set(NetworkDefaultsApplied.objects.values_list("project_id", flat=True)) == {"p-admin"}
    page = html(admin_client.get(URL))
    assert 'name="network__security_groups"' in page and 'value="11"' in page
    assert "must be greater than or equal to already used and reserved 12" in page

    # Back to Neutron's own defaults: the projects that followed go back to having none.
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        admin_client.post(URL, form_of(quota_fake) | {"network__security_groups": "10"})
    latest = Operation.objects.filter(kind="apply_network_defaults").order_by("-pk")[0]
    apply_network_defaults(latest.pk)
    assert catalog.NETWORK not in quota_fake.limits["p-admin"]
    assert quota_fake.limits["p-study1"][catalog.NETWORK]["security_groups"] == 10  # kept
    assert not NetworkDefaultsApplied.objects.exists()


def test_non_admins_cannot_see_or_change_defaults(
    member_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    assert member_client.get(URL).status_code == 403
    assert (
        member_client.post(URL, form_of(quota_fake) | {"compute__instances": "1"}).status_code
        == 403
    )
    assert quota_fake.calls == 0 and quota_fake.defaults[catalog.COMPUTE]["instances"] == 10
