"""Admin › Flavors and Project › API Access on the all-in-one cloud.

An admin creates a private flavor through the portal (name prefix "fl-"), sets an extra spec
(and sees Nova refuse a bad value), unsets it, gives a throwaway project access, and deletes
it; each step is read back with openstacksdk. A member downloads clouds.yaml and openrc from
the portal: with the password added, both work with openstacksdk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml
from django.test import Client

from tests.conftest import page_errors, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]
BASE = "/compute/admin/flavors/"


def text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def ok(response: Any) -> Any:
    assert response.status_code == 302, page_errors(response.content.decode())
    return response


def test_admin_creates_a_private_flavor_with_extra_specs_and_access_then_deletes_it(
    portal_clouds_yaml: Path, sdk_admin: Any, make_tenant: Any
) -> None:
    nova = sdk_admin.compute
    name = "fl-" + os.urandom(4).hex()
    tenant = make_tenant("fl")
    admin = portal_sign_in(
        Client(), "admin", project_id=sdk_admin.identity.find_project("admin").id
    )
    form = {
        "flavor_id": "",
        "name": name,
        "vcpus": "1",
        "ram": "64",
        "disk": "0",
        "ephemeral": "0",
        "swap": "0",
        "rxtx_factor": "1.0",
        # is_public left out: a private flavor
    }
    flavor_id = ""
    try:
        made = ok(admin.post(BASE + "create/", form))
        flavor_id = made["Location"].removeprefix(BASE).strip("/")
        flavor = nova.get_flavor(flavor_id)
        assert (flavor.name, flavor.vcpus, flavor.ram, flavor.is_public) == (name, 1, 64, False)
        assert name in text(admin.get(BASE))

        duplicate = admin.post(BASE + "create/", form)
        assert duplicate.status_code == 400
        assert f"Flavor with name {name} already exists." in text(duplicate)

        url = f"{BASE}{flavor_id}/"
        ok(admin.post(url + "extra-specs/", {"key": "hw:cpu_policy", "value": "shared"}))
        assert nova.get_flavor(flavor_id).extra_specs == {"hw:cpu_policy": "shared"}
        refused = admin.post(url + "extra-specs/", {"key": "hw:cpu_policy", "value": "bogus"})
        assert refused.status_code == 400
        assert "'bogus' is not one of: dedicated, shared, mixed" in text(refused)  # Nova's 2.86
        assert nova.get_flavor(flavor_id).extra_specs == {"hw:cpu_policy": "shared"}
        ok(admin.post(url + "extra-specs/remove/", {"key": "hw:cpu_policy"}))
        assert nova.get_flavor(flavor_id).extra_specs == {}

        assert name not in [f.name for f in tenant.conn.compute.flavors()]
        ok(admin.post(url + "access/", {"project_id": tenant.project.id}))
        given = [a["tenant_id"] for a in nova.get_flavor_access(flavor_id)]
        assert given == [tenant.project.id]
        assert name in [f.name for f in tenant.conn.compute.flavors()]  # private, but given
        assert tenant.name in text(admin.get(url))
        again = admin.post(url + "access/", {"project_id": tenant.project.id})
        assert again.status_code == 400 and "Flavor access already exists" in text(again)
        ok(admin.post(url + "access/remove/", {"project_id": tenant.project.id}))
        assert nova.get_flavor_access(flavor_id) == []

        confirm = admin.get(url + "delete/")
        assert "Nova deletes a flavor even while instances use it." in text(confirm)
        ok(admin.post(url + "delete/"))
        assert nova.find_flavor(flavor_id) is None
        flavor_id = ""
    finally:
        if flavor_id:
            nova.delete_flavor(flavor_id, ignore_missing=True)


def test_member_s_clouds_yaml_and_openrc_work_with_the_password_added(
    portal_clouds_yaml: Path, make_tenant: Any, tmp_path: Path
) -> None:
    tenant = make_tenant("fl")
    member = tenant.sign_in(Client())
    page = member.get("/project/api-access/")
    compute_url = tenant.conn.compute.get_endpoint()
    assert compute_url.rstrip("/") in page.content.decode()
    assert "member" in text(page) and tenant.name in text(page)

    response = member.get("/project/api-access/clouds.yaml")
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    clouds = yaml.safe_load(response.content)
    (name, entry), *_ = clouds["clouds"].items()
    assert "password" not in entry["auth"]
    entry["auth"]["password"] = tenant.password
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    # As `openstack.connect(cloud=name)` with this file as the only clouds.yaml.
    config = openstack.config.OpenStackConfig(config_files=[str(path)], load_envvars=False)
    conn = openstack.connection.Connection(config=config.get_one(cloud=name))
    assert list(conn.compute.servers()) == []
    assert conn.current_project_id == tenant.project.id

    openrc = tmp_path / "openrc.sh"
    openrc.write_bytes(member.get("/project/api-access/openrc").content)
    check = "import openstack; c = openstack.connect(load_yaml_config=False); "
    check += "print(len(list(c.compute.servers())), c.current_project_id)"
    done = subprocess.run(
        ["/bin/bash", "-c", f'source {openrc} && "{sys.executable}" -c "{check}"'],
        input=tenant.password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("OS_")},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", tenant.project.id]
