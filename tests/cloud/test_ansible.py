"""The stackdesk.portal collection with real Ansible on the all-in-one cloud.

`ansible-playbook` (ansible-core from requirements.lock) runs two playbooks of
tests/cloud/playbooks/ against the portal's live server and a real worker: the first builds a
throwaway tenant's network, subnet, security group and rule, key pair and instance with
openstack.cloud, then drains the instance's host with stackdesk.portal.drain_host (check mode
first), has the portal refuse an evacuation signed in with an application credential, live
migrates the instance on (by name, the scheduler choosing), cold migrates it and confirms it,
applies quotas to the tenant's project and exports its usage CSV; the second runs the same
drain (signed in with an `auth:` dict), quotas and export again, and a live migration to the
host the instance is on: it changes nothing. openstacksdk checks Nova's migration records of
the instance (two live, one confirmed cold), that the host is disabled with the drain's
reason, and the quotas.

The collection is installed from the tarball `ansible-galaxy collection build` makes, into a
temporary collections path; openstack.cloud from the `ansible` package's wheel on PyPI
(ANSIBLE_BUNDLE says which and why), downloaded once into the state folder and unpacked
there: only that collection, not the package's hundreds of others.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from compute import hosts as h
from compute.gateway import Server
from tests.cloud.ansible_kit import BIN, ansible_env
from tests.cloud.test_admin_drain import emptiest_host, restore
from tests.conftest import ROOT

PLAYBOOKS = Path(__file__).parent / "playbooks"
QUOTAS = {
    "compute": {"instances": 7, "cores": 9},
    "network": {"floating_ips": 3},
    "volume": {"gigabytes": 33},
}
RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def playbook(name: str, variables: dict[str, Any], env: dict[str, str], tmp: Path) -> str:
    """Run one playbook (-v: every task's result is printed); its output, after it passed."""
    extra = tmp / f"{name}.vars.json"
    extra.write_text(json.dumps(variables))
    extra.chmod(0o600)
    started = time.monotonic()
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), "-v", "-i", "localhost,", str(PLAYBOOKS / name)]
        + ["-e", f"@{extra}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(f"{name}: {time.monotonic() - started:.1f} s")  # for the record (pytest -s)
    (tmp / f"{name}.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.cloud
@pytest.mark.django_db(transaction=True)
def test_a_playbook_builds_a_tenant_then_drains_its_host_and_a_second_drain_changes_nothing(
    portal_clouds_yaml: Path,
    start_worker: Any,
    make_tenant: Any,
    sdk_admin: Any,
    live_server: Any,
    collections_path: Path,
    tmp_path: Path,
) -> None:
    tenant = make_tenant("ansible", roles=("admin", "member", "reader"))
    source = emptiest_host(sdk_admin)
    start_worker(OS_CLIENT_CONFIG_FILE=str(portal_clouds_yaml))
    auth_url = sdk_admin.auth["auth_url"]
    clouds = tmp_path / "clouds.yaml"
    entry = {
        "auth": {
            "auth_url": auth_url,
            "username": tenant.username,
            "password": tenant.password,
            "project_id": tenant.project.id,
            "user_domain_name": "Default",
        },
        "region_name": "RegionOne",
        "interface": "public",
        "identity_api_version": 3,
    }
    clouds.write_text(yaml.safe_dump({"clouds": {tenant.name: entry}}))
    credential = tenant.conn.identity.create_application_credential(
        user=tenant.user.id, name=f"{tenant.name}-ansible"
    )
    image = next(i for i in tenant.conn.image.images() if i.visibility == "public")
    public_key = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    env = ansible_env(collections_path, tmp_path, OS_CLIENT_CONFIG_FILE=str(clouds))
    out = tmp_path / "first.json"
    variables = {
        "cloud_name": tenant.name,
        "portal_url": live_server.url,
        "prefix": tenant.name,
        "source": source,
        "image": image.id,
        "flavor": "m1.nano",
        "public_key": public_key,
        "auth_url": auth_url,
        "app_credential_id": credential.id,
        "app_credential_secret": credential.secret,
        "out": str(out),
        "project_id": tenant.project.id,
        "quotas": QUOTAS,
        "usage_day": (datetime.now(UTC).date() - timedelta(days=1)).isoformat(),
        "usage_csv": str(tmp_path / "usage.csv"),
    }
    try:
        first = playbook("tenant_and_drain.yml", variables, env, tmp_path)
        found = json.loads(out.read_text())
        server = sdk_admin.compute.get_server(found["server"])
        assert server.status == "ACTIVE" and server.compute_host not in (source, None, "")
        (service,) = sdk_admin.compute.services(binary="nova-compute", host=source)
        assert service.status == "disabled" and service.disabled_reason == tenant.name
        ours = [i for i in found["drained"]["operation"]["result"]["items"] if i["id"] == server.id]
        assert ours[0]["dest"] != source
        assert found["cold"]["server"]["host"] == server.compute_host
        records = sdk_admin.compute.migrations(instance_uuid=server.id)
        kinds = sorted((m.migration_type, m.status) for m in records)
        assert kinds == [("live-migration", "completed")] * 2 + [("migration", "confirmed")]
        for job in ("drained", "migrated", "cold", "quotas"):
            op = found[job]["operation"]
            took = datetime.fromisoformat(op["finished_at"]) - datetime.fromisoformat(
                op["created_at"]
            )
            print(f"{job}: the portal's job took {took.total_seconds():.1f} s")
        quota = sdk_admin.compute.get_quota_set(tenant.project.id)
        assert quota.instances == QUOTAS["compute"]["instances"]
        network_quota = sdk_admin.network.get_quota(tenant.project.id)
        assert network_quota.floating_ips == QUOTAS["network"]["floating_ips"]
        header = (tmp_path / "usage.csv").read_text().splitlines()[0]
        assert header.split(",") == found["usage"]["header"]
        # The cloud is shared: an instance of another test that the drain could not move
        # (busy at the time) is still on the host, and the second drain has work to do.
        others = [s.id for s in sdk_admin.compute.servers(all_projects=True, compute_host=source)]
        second = {
            **variables,
            "others_left": len(others),
            "username": tenant.username,
            "password": tenant.password,
            "dest": server.compute_host,
        }
        again = playbook("drain_again.yml", second, env, tmp_path)
        recap = RECAP.search(again)
        assert recap, again[-3000:]
        if others:
            print(f"{others} stayed on {source}: the second drain had work (changed not checked)")
            assert recap.group(2) in ("0", "1"), again[-3000:]
        else:
            assert recap.group(2) == "0" and recap.group(4) == "0", again[-3000:]
        # No secret in what Ansible printed (every task's result, with -v).
        for secret in (tenant.password, credential.secret):
            assert secret not in first + again
    finally:
        restore(sdk_admin, source)
        tenant.conn.compute.delete_keypair(f"{tenant.name}-key", ignore_missing=True)


# --- the collection's own rules, without a cloud (unit layer) --------------------------------


def module_utils() -> ModuleType:
    """plugins/module_utils/portal.py, loaded from its file (it needs only ansible-core)."""
    path = ROOT / "ansible/stackdesk/portal/plugins/module_utils/portal.py"
    spec = importlib.util.spec_from_file_location("stackdesk_portal_module_utils", path)
    assert spec and spec.loader
    found = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(found)
    return found


def test_the_drain_module_plans_each_instance_as_the_portals_drain_does() -> None:
    """Check mode and "nothing to move" are decided by the module from Nova's answer, with
    its own copy of the portal's rules: they must agree for every state and option."""
    utils = module_utils()
    states = ("active", "paused", "stopped", "error", "building", "shelved_offloaded")
    for vm_state, task, active, stopped in itertools.product(
        states, (None, "rebooting"), (h.LIVE, h.COLD), (h.COLD, h.SKIP)
    ):
        status = vm_state.upper()
        portal = h.plan_move(Server("s", "s", status, task, vm_state), active, stopped)
        nova = {"status": status, "OS-EXT-STS:vm_state": vm_state, "OS-EXT-STS:task_state": task}
        ours = utils.plan_move(nova, active, stopped)
        assert ours[0] == portal[0] and bool(ours[1]) == bool(portal[1]), (vm_state, task)


def test_credentials_become_the_keystone_requests_openstack_cloud_would_send() -> None:
    utils = module_utils()
    password = utils.token_request(
        "password",
        {"username": "ops", "password": "pw", "project_name": "admin", "user_domain_name": "Ops"},
    )["auth"]
    assert password["identity"]["password"]["user"] == {
        "name": "ops",
        "domain": {"name": "Ops"},
        "password": "pw",
    }
    # No project domain given: the user's (domain_*), else the default domain, as keystoneauth.
    assert password["scope"] == {"project": {"name": "admin", "domain": {"id": "default"}}}
    credential = utils.token_request(
        "v3applicationcredential",
        {"application_credential_id": "ac1", "application_credential_secret": "s3"},
    )["auth"]
    assert credential == {
        "identity": {
            "methods": ["application_credential"],
            "application_credential": {"id": "ac1", "secret": "s3"},
        }
    }  # no scope: the credential has its project
    token = utils.token_request("v3token", {"token": "t", "project_id": "p1"})["auth"]
    assert token["identity"]["token"] == {"id": "t"} and token["scope"]["project"] == {"id": "p1"}
    with pytest.raises(utils.PortalError, match="not supported"):
        utils.token_request("v3oidcpassword", {})
    assert utils.keystone_url("http://k:5000/") == "http://k:5000/v3"
    assert utils.keystone_url("http://k:5000/v3/") == "http://k:5000/v3"


def test_a_named_cloud_is_read_as_openstacksdk_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    utils = module_utils()
    clouds = {"clouds": {"ops": {"auth": {"auth_url": "http://k/v3", "username": "ops"}}}}
    secure = {"clouds": {"ops": {"auth": {"password": "from-secure"}}}}
    (tmp_path / "clouds.yaml").write_text(yaml.safe_dump(clouds))
    (tmp_path / "secure.yaml").write_text(yaml.safe_dump(secure))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(tmp_path / "secure.yaml"))
    monkeypatch.delenv("OS_CLOUD", raising=False)
    config = utils.cloud_config({"cloud": "ops", "auth": {"project_id": "p1"}})
    assert config["auth"] == {
        "auth_url": "http://k/v3",
        "username": "ops",
        "password": "from-secure",
        "project_id": "p1",
    }
    assert config["auth_type"] == "password"
    monkeypatch.setenv("OS_CLOUD", "ops")  # neither cloud nor auth: OS_CLOUD names it
    assert utils.cloud_config({})["auth"]["password"] == "from-secure"
    given = {"auth": {"auth_url": "http://k", "application_credential_secret": "s"}}
    assert utils.cloud_config(given)["auth_type"] == "v3applicationcredential"
    with pytest.raises(utils.PortalError, match="no cloud called 'prod'"):
        utils.cloud_config({"cloud": "prod"})
