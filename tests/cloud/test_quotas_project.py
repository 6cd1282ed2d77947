"""Quotas through the portal against the devcloud: a study project gets the seed's quotas and
they are read back from the services; a limit below usage is refused; the member's meters
follow; quotas applied to several projects and new default quotas run in a real worker."""

from __future__ import annotations

import re
import time
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from portal.models import Operation
from quotas import catalog
from tests.conftest import page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

SEED = {
    "compute__instances": "20",
    "compute__cores": "128",
    "compute__ram": "51200",
    "network__floating_ips": "50",
    "network__security_groups": "10",
}


def html(response: Any) -> str:
    return unescape(str(response.content.decode()))


def form_values(page: str) -> dict[str, str]:
    """The quota form as the page filled it."""
    return dict(re.findall(r'name="((?:compute|volume|network)__\w+)" value="(-?\d+)"', page))


def launch(conn: Any, name: str) -> str:
    server = conn.compute.create_server(
        name=name,
        flavor_id=conn.compute.find_flavor("m1.nano").id,
        image_id=conn.image.find_image("tiny-qcow2").id,
        networks="none",
    )
    conn.compute.wait_for_server(server, wait=120)
    return str(server.id)


def wait_finished(op: Operation, timeout: float = 120) -> Operation:
    deadline = time.monotonic() + timeout
    while op.state not in Operation.FINISHED and time.monotonic() < deadline:
        time.sleep(0.5)
        op.refresh_from_db()
    assert op.state == "succeeded", (op.state, op.error, op.log)
    return op


def admin_client(sdk_admin: Any) -> Client:
    return portal_sign_in(Client(), "admin", project_id=sdk_admin.identity.find_project("admin").id)


def test_study_project_gets_the_seed_quotas_and_below_usage_is_refused(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    study = make_tenant("study1")  # a project of its own with a member, named study1-…
    launch(study.conn, "study-vm")
    admin = admin_client(sdk_admin)
    url = f"/project/identity/projects/{study.project.id}/quotas/"
    page = html(admin.get(url))
    assert "In use: 1" in page
    response = admin.post(url, form_values(page) | SEED)
    assert response.status_code == 302, page_errors(html(response))

    compute = sdk_admin.compute.get_quota_set(study.project.id)
    network = sdk_admin.network.get_quota(study.project.id)
    assert (compute.instances, compute.cores, compute.ram) == (20, 128, 51200)
    assert (network.floating_ips, network.security_groups) == (50, 10)
    assert form_values(html(admin.get(url))).items() >= SEED.items()  # read back on the page

    response = admin.post(url, form_values(page) | SEED | {"compute__instances": "0"})
    assert response.status_code == 400
    assert "The project already uses 1; enter 1 or more, or -1." in page_errors(html(response))
    assert sdk_admin.compute.get_quota_set(study.project.id).instances == 20

    member = study.sign_in(Client())
    limits = html(member.get("/project/overview/limits/"))
    meters = dict(
        re.findall(r"<span>([^<]+)</span>\s*<span data-meter-text>([^<]+)</span>", limits)
    )
    assert meters["Instances"] == "1 used of 20" and meters["vCPUs"] == "1 used of 128"
    assert meters["RAM (MiB)"] == "128 used of 51200" and meters["Floating IPs"] == "0 used of 50"
    assert meters["Security groups"].endswith(" used of 10")


def test_bulk_quotas_and_new_defaults_in_a_worker(
    portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any, start_worker: Any
) -> None:
    busy, idle, follower = make_tenant("bulk-busy"), make_tenant("bulk-idle"), make_tenant("follow")
    launch(busy.conn, "busy-vm")
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    admin = admin_client(sdk_admin)

    response = admin.post(
        "/project/identity/projects/quotas/",
        {
            "projects": [busy.project.id, idle.project.id],
            "compute__instances": "0",  # busy runs one: the job refuses it there
            "network__security_groups": "5",
        },
    )
    assert response.status_code == 302, page_errors(html(response))
    op = wait_finished(Operation.objects.get(kind="apply_quotas"))
    assert op.result[busy.project.id]["status"] == "refused"
    assert op.result[idle.project.id]["status"] == "changed"
    page = html(admin.get(response["Location"]))
    assert "Compute: Instances: the project uses 1, more than 0." in page
    assert sdk_admin.compute.get_quota_set(idle.project.id).instances == 0
    assert sdk_admin.network.get_quota(idle.project.id).security_groups == 5
    # All or none: busy's usage is checked first, so its network part is not applied either.
    assert sdk_admin.compute.get_quota_set(busy.project.id).instances != 0
    assert sdk_admin.network.get_quota(busy.project.id).security_groups != 5

    # New defaults for all three services; restored afterwards, whatever happens.
    nova_before = sdk_admin.compute.get_quota_class_set("default").metadata_items
    cinder_before = sdk_admin.block_storage.get_quota_class_set("default").backups
    neutron = sdk_admin.network.get_quota_default(sdk_admin.current_project_id)
    page = html(admin.get("/quotas/admin/defaults/"))
    form = form_values(page)
    assert form["network__security_group_rules"] == str(neutron.security_group_rules)
    changed = form | {
        "compute__metadata_items": str(nova_before + 1),
        "volume__backups": str(cinder_before + 1),
        "network__security_group_rules": str(neutron.security_group_rules + 1),
    }
    try:
        assert admin.post("/quotas/admin/defaults/", changed).status_code == 302
        assert sdk_admin.compute.get_quota_class_set("default").metadata_items == nova_before + 1
        assert sdk_admin.block_storage.get_quota_class_set("default").backups == cinder_before + 1
        wait_finished(Operation.objects.get(kind="apply_network_defaults"))
        rules = neutron.security_group_rules + 1
        assert sdk_admin.network.get_quota(follower.project.id).security_group_rules == rules
        # idle has network quotas of its own now (the bulk apply): not changed
        assert sdk_admin.network.get_quota(idle.project.id).security_group_rules == rules - 1

        assert admin.post("/quotas/admin/defaults/", form).status_code == 302
        wait_finished(Operation.objects.filter(kind="apply_network_defaults").order_by("-pk")[0])
        explicit = {q.project_id for q in sdk_admin.network.quotas()}
        assert follower.project.id not in explicit  # back on Neutron's own defaults
        assert idle.project.id in explicit
    finally:
        sdk_admin.compute.update_quota_class_set("default", metadata_items=nova_before)
        sdk_admin.block_storage.update_quota_class_set("default", backups=cinder_before)
        for quota in sdk_admin.network.quotas():
            values = quota.to_dict(computed=False)
            if values.get("security_group_rules") == neutron.security_group_rules + 1 and all(
                values.get(k) == getattr(neutron, k)
                for k in catalog.keys_of(catalog.NETWORK)
                if k != "security_group_rules"
            ):
                sdk_admin.network.delete_quota(quota.project_id)
    assert sdk_admin.compute.get_quota_class_set("default").metadata_items == nova_before
