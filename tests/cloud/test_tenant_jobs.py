"""The portal's own state keeps tenants apart as strictly as OpenStack does, proven on the
all-in-one with two throwaway projects and a real worker (defects 1–3 of the hardening issue):
a router delete job is neither started for nor shared with another project, an image's page
shows upload jobs only to their project, and a token revoked in Keystone starts no job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from portal.crypto import unseal
from portal.identity import SESSION_CONFIRMED, SESSION_CREDENTIAL
from portal.models import Operation
from tests.cloud.waiting import wait_for

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]


def finished(op: Operation) -> Operation:
    def done() -> Operation | None:
        op.refresh_from_db()
        return op if op.is_finished else None

    result: Operation = wait_for(done, 90, f"job {op.pk}")
    return result


def test_another_project_cannot_start_share_or_mark_a_router_delete(
    portal_clouds_yaml: Path, make_tenant: Any, start_worker: Any
) -> None:
    owner, stranger = make_tenant("tj-own"), make_tenant("tj-other")
    router = owner.conn.network.create_router(name="tj-router")
    net = owner.conn.network.create_network(name="tj-net")
    subnet = owner.conn.network.create_subnet(
        network_id=net.id, cidr="10.77.0.0/24", ip_version=4, name="tj-sub"
    )
    owner.conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    theirs = stranger.sign_in(Client())
    mine = owner.sign_in(Client())

    refused = theirs.post(f"/network/routers/{router.id}/delete/", {"name": "tj-router"})
    assert refused.status_code == 404  # Neutron shows them no such router
    assert not Operation.objects.filter(target=router.id).exists()
    assert owner.conn.network.get_router(router.id).name == "tj-router"

    started = mine.post(f"/network/routers/{router.id}/delete/", {"name": "forged name"})
    op = Operation.objects.get(kind="delete_router", target=router.id)
    assert started["Location"] == f"/operations/{op.pk}/"
    assert op.project_id == owner.project.id and op.target_name == "tj-router"
    assert "tj-router" not in theirs.get("/network/routers/").content.decode()
    assert finished(op).state == "succeeded", (op.error, op.log)
    assert op.result["deleted"] == "tj-router"
    assert owner.conn.network.find_router(router.id) is None  # verified, not just reported


def test_an_image_page_shows_upload_jobs_to_their_project_only(
    portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    owner, stranger = make_tenant("tj-img"), make_tenant("tj-see")
    image = owner.conn.image.create_image(
        name="tj-community", disk_format="raw", container_format="bare", visibility="community"
    )
    mine = owner.sign_in(Client())
    theirs = stranger.sign_in(Client())
    me = mine.session  # the owner's identity, as the upload view would record it
    op = Operation.objects.create(
        kind="upload_image",
        title="Upload image",
        task_name="images.tasks.upload_image",
        cloud_key=me["stackdesk.identity"]["cloud_key"],
        user_id=owner.user.id,
        user_name=owner.username,
        project_id=owner.project.id,
        project_name=owner.name,
        state=Operation.State.RUNNING,
        step="Saving: 4.0 KB of 1.0 MB",
        result={"image_id": image.id},
    )
    assert f"operation-{op.pk}-card" in mine.get(f"/images/{image.id}/").content.decode()
    page = theirs.get(f"/images/{image.id}/")
    assert page.status_code == 200 and "tj-community" in page.content.decode()  # Glance: yes
    html = page.content.decode()
    assert f"operation-{op.pk}" not in html and owner.username not in html


def test_a_token_revoked_in_keystone_starts_no_job_and_ends_the_session(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    tenant = make_tenant("tj-rev")
    client = tenant.sign_in(Client())
    assert client.get("/operations/").status_code == 200
    credential = unseal(client.session[SESSION_CREDENTIAL])
    assert credential is not None
    sdk_admin.identity.delete(  # DELETE /v3/auth/tokens: the token is revoked in Keystone
        "/auth/tokens", headers={"X-Subject-Token": credential["token"]}
    ).raise_for_status()
    # Inside the recheck interval a read that asks OpenStack nothing still shows; a job does
    # not start.
    started = client.post("/project/overview/refresh-counts/")
    assert started.status_code == 302 and started["Location"].startswith("/auth/sign-in/")
    assert not Operation.objects.filter(project_id=tenant.project.id).exists()
    # And a session whose interval is over ends at its next page.
    client = tenant.sign_in(Client())
    credential = unseal(client.session[SESSION_CREDENTIAL])
    assert credential is not None
    sdk_admin.identity.delete(
        "/auth/tokens", headers={"X-Subject-Token": credential["token"]}
    ).raise_for_status()
    session = client.session
    session[SESSION_CONFIRMED] = 0.0
    session.save()
    response = client.get("/operations/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in/")
