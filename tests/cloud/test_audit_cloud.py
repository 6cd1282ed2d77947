"""The audit log on the all-in-one cloud: a throwaway tenant creates and deletes a network
through the portal's pages, and an administrator's token sets that tenant's network quota
through the JSON API as Ansible would (User-Agent "ansible-httpget"; the JSON API has no
network endpoints: OpenStack's own API serves those). One record per change, each with the
OpenStack request ids the cloud answered with, and the channel it came by; the API's record
is a job's and follows it to its end in a real worker."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from portal.models import AuditRecord, Operation
from tests.cloud.test_api import token_of
from tests.conftest import page_errors

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def records(action: str, project_id: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action, project_id=project_id))


def test_network_changes_are_recorded_with_the_clouds_request_ids(
    portal_clouds_yaml: Path, make_tenant: Any, start_worker: Any
) -> None:
    tenant = make_tenant("audit")
    client = tenant.sign_in(Client())
    name = f"{tenant.name}-net"

    created = client.post("/network/networks/create/", {"name": name, "admin_state_up": "on"})
    assert created.status_code == 302, page_errors(created.content.decode())
    network = tenant.conn.network.find_network(name, ignore_missing=False)
    (create,) = records("create_network", tenant.project.id)
    assert (create.result, create.channel, create.target_id) == (
        "accepted",
        "browser",
        network.id,
    )
    assert (create.user_name, create.target_name) == (tenant.username, name)
    assert create.request_ids and all(REQUEST_ID.match(r) for r in create.request_ids)

    deleted = client.post(f"/network/networks/{network.id}/delete/", {"name": name})
    assert deleted.status_code == 302, page_errors(deleted.content.decode())
    assert tenant.conn.network.find_network(network.id) is None
    (delete,) = records("delete_network", tenant.project.id)
    assert (delete.result, delete.target_type, delete.target_id) == (
        "accepted",
        "network",
        network.id,
    )
    assert delete.request_ids and all(REQUEST_ID.match(r) for r in delete.request_ids)
    assert not set(delete.request_ids) & set(create.request_ids)  # every call has its own

    # Neutron's refusal (a second delete of the same network) is recorded with its reason.
    again = client.post(f"/network/networks/{network.id}/delete/", {"name": name})
    assert again.status_code in (302, 404)
    (_first, refused) = records("delete_network", tenant.project.id)[::-1]
    assert refused.result == "refused" and refused.message

    # The JSON API, as Ansible calls it: an administrator sets the tenant's network quota.
    admin = make_tenant("auditadmin", roles=("admin", "member", "reader"))
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    response = Client().post(
        "/api/v1/quotas/bulk/",
        {"projects": [tenant.project.id], "network__networks": "7"},
        headers={"X-Auth-Token": token_of(admin), "User-Agent": "ansible-httpget"},
    )
    assert response.status_code == 202, response.content
    (api_record,) = records("apply_quotas", admin.project.id)
    assert (api_record.channel, api_record.url_name) == ("ansible", "api:apply-quotas")
    assert api_record.input["network__networks"] == "7"
    assert api_record.request_ids and all(REQUEST_ID.match(r) for r in api_record.request_ids)
    assert api_record.operation_id is not None
    op = Operation.objects.get(pk=api_record.operation_id)
    deadline = time.monotonic() + 120
    while not op.is_finished and time.monotonic() < deadline:
        time.sleep(0.5)
        op.refresh_from_db()
    assert op.state == "succeeded", op.error
    api_record.refresh_from_db()
    assert api_record.result == "succeeded"
    assert tenant.admin.network.get_quota(tenant.project.id).networks == 7

    # The tenant's log shows its own changes, not the administrator's.
    page = client.get("/audit/").content.decode()
    assert "create_network" in page and "delete_network" in page and "apply_quotas" not in page
