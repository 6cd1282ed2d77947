"""Hostile input against the real all-in-one (issue 18, defects 4 and 5): text Neutron cannot
store is refused by the portal with a message and no network is made; a quota change that
Neutron refuses leaves Nova's quotas as they were, whether the form catches it first or
Neutron refuses it after Nova took its part."""

from __future__ import annotations

from typing import Any

import openstack
import pytest
from django.test import Client

from quotas import catalog
from quotas.gateway import QuotasGateway
from quotas.tasks import apply_quota_changes, project_quotas
from tests.cloud.test_quotas_project import admin_client, form_values, html
from tests.conftest import page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

EMOJI = "web \U0001f600"
CLOUD_TEXT = "The cloud cannot store emoji or other characters beyond U+FFFF (here: \U0001f600"


def test_an_emoji_description_is_refused_with_a_message_and_no_network_is_made(
    portal_clouds_yaml: Any, make_tenant: Any
) -> None:
    tenant = make_tenant("hostile-net")
    name = f"{tenant.name}-net"
    # Why the portal must refuse it: Neutron's MySQL utf8 tables cannot store it (a 500).
    with pytest.raises(openstack.exceptions.HttpException) as direct:
        tenant.conn.network.create_network(name=f"{name}-direct", description=EMOJI)
    assert direct.value.status_code == 500
    client = tenant.sign_in(Client())

    response = client.post(
        "/network/networks/create/",
        {"name": name, "description": EMOJI, "admin_state_up": "on"},
    )

    assert response.status_code == 400
    assert any(CLOUD_TEXT in e for e in page_errors(html(response))), page_errors(html(response))
    assert f'value="{name}"' in html(response)  # the rest of the form stays as typed
    assert [n.name for n in tenant.conn.network.networks(project_id=tenant.project.id)] == []


def test_a_quota_change_neutron_refuses_leaves_nova_as_it_was(
    portal_clouds_yaml: Any, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("hostile-quota")
    pid = tenant.project.id
    before = sdk_admin.compute.get_quota_set(pid).instances
    ports = sdk_admin.network.get_quota(pid).ports
    admin = admin_client(sdk_admin)
    url = f"/project/identity/projects/{pid}/quotas/"

    # Through the page: Neutron would refuse 2**31 (its limits are MySQL INT), so the form
    # refuses it at the field, and nothing reaches Nova either.
    mixed = {"compute__instances": str(before + 5), "network__ports": str(2**31)}
    response = admin.post(url, form_values(html(admin.get(url))) | mixed)
    assert response.status_code == 400
    assert "Enter at most 2147483647 (-1 for unlimited)." in page_errors(html(response))
    assert sdk_admin.compute.get_quota_set(pid).instances == before
    assert sdk_admin.network.get_quota(pid).ports == ports

    # Past the form: Nova takes its part, Neutron refuses its own, and Nova is set back.
    outcome = apply_quota_changes(
        project_quotas(QuotasGateway(sdk_admin), pid),
        {catalog.COMPUTE: {"instances": before + 5}, catalog.NETWORK: {"ports": 2**31}},
        {catalog.COMPUTE: {"instances": before}, catalog.NETWORK: {"ports": ports}},
    )
    assert outcome.refused[0][0] == catalog.NETWORK
    assert "must be no larger than '2147483647'" in outcome.refused[0][1]
    assert outcome.restored == [catalog.COMPUTE] and not outcome.stuck
    assert sdk_admin.compute.get_quota_set(pid).instances == before
    assert sdk_admin.network.get_quota(pid).ports == ports
