"""The JSON API on the all-in-one cloud with a real worker: an administrator's own Keystone
token (fetched with keystoneauth, as `openstack token issue` would) live-migrates a server
through /api/v1/ and polls the operation until Nova has moved it; a member's token is
refused the drain endpoint. The admin is a throwaway project's user with the admin role."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from portal.models import Operation
from tests.cloud.test_admin_drain import boot_on, emptiest_host

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


def token_of(tenant: Any) -> str:
    """The tenant user's project-scoped token, straight from Keystone."""
    auth = v3.Password(
        auth_url=tenant.admin.auth["auth_url"],
        username=tenant.username,
        password=tenant.password,
        user_domain_name="Default",
        project_id=tenant.project.id,
    )
    token = ks_session.Session(auth=auth).get_token()
    assert token
    return str(token)


def test_an_admin_token_live_migrates_through_the_api_and_a_member_token_is_refused(
    portal_clouds_yaml: Path, start_worker: Any, make_tenant: Any, sdk_admin: Any
) -> None:
    admin = make_tenant("api", roles=("admin", "member", "reader"))
    member = make_tenant("apimember", roles=("member", "reader"))
    source = emptiest_host(sdk_admin)
    (server_id,) = boot_on(admin, source, 1)
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    client = Client()
    headers = {"X-Auth-Token": token_of(admin)}

    refused = client.post(
        f"/api/v1/hosts/{source}/drain/",
        {"concurrency": "1"},
        headers={"X-Auth-Token": token_of(member)},
    )
    assert refused.status_code == 403, refused.content
    assert not Operation.objects.exists()

    started = client.post(
        f"/api/v1/servers/{server_id}/live-migrate/",
        {"block_migration": "auto"},
        headers=headers,
    )
    assert started.status_code == 202, started.content
    location = started["Location"]
    deadline = time.monotonic() + 150
    while True:
        job = client.get(location, headers=headers).json()
        if job["state"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, job
        time.sleep(1)
    assert job["state"] == "succeeded", (job["error"], job["log"])
    assert job["percent"] == 100 and job["result"]["items"][0]["state"] == "moved"
    server = sdk_admin.compute.get_server(server_id)
    assert server.status == "ACTIVE" and server.compute_host not in ("", None, source)
    assert job["result"]["items"][0]["dest"] == server.compute_host
    mine = client.get("/api/v1/operations/", headers=headers).json()
    assert [o["id"] for o in mine["operations"]] == [job["id"]]
