"""Run what a form's "show as code" panel shows (portal/as_code.py), as its user would: the
commands with the `openstack` client (python-openstackclient, from the devcloud's own venv)
and the tasks with ansible-playbook and openstack.cloud, both signed in through a clouds.yaml
entry of the portal's cloud name, as API Access downloads it, with the password added.

    code = as_code(tenant, client)
    commands, tasks = code.shown("/volumes/create/", name="cli-vol", size="2")
    code.run_commands(commands)
    code.run_tasks(tasks)
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from tests.cloud.ansible_kit import BIN, ansible_env
from tests.conftest import DEVCLOUD_STATE, Tenant

OPENSTACK_CLIENT = DEVCLOUD_STATE / "venv" / "bin" / "openstack"
PANEL = re.compile(r'<pre class="sd-code" aria-label="([^"]+)"><code>(.*?)</code></pre>', re.S)
RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


@dataclass
class AsCode:
    client: Client
    clouds: Path
    collections: Path
    tmp: Path

    def shown(self, path: str, **fields: str | list[str]) -> tuple[str, str]:
        """The panel of the form at `path` with these fields typed: (commands, tasks)."""
        answer = self.client.get("/code/", {"for": path, **fields})
        assert answer.status_code == 200, answer.content.decode()[:500]
        blocks = dict(PANEL.findall(answer.content.decode()))
        return (
            html.unescape(blocks.get("OpenStack command line", "")),
            html.unescape(blocks.get("Ansible tasks", "")),
        )

    def run_commands(self, commands: str) -> str:
        """Run the commands in bash (stopping at the first that fails); their output."""
        assert commands, "the panel shows no command"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env |= {
            "OS_CLIENT_CONFIG_FILE": str(self.clouds),
            "PATH": f"{OPENSTACK_CLIENT.parent}:{env['PATH']}",
        }
        started = time.monotonic()
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", commands],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        print(f"commands: {time.monotonic() - started:.1f} s")  # for the record (pytest -s)
        assert done.returncode == 0, f"{commands}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done.stdout

    def run_tasks(self, tasks: str) -> tuple[int, str]:
        """Run the tasks as a playbook on localhost; (changed tasks, output)."""
        assert tasks, "the panel shows no task"
        play = [
            {
                "name": "Shown as code",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "tasks": yaml.safe_load(tasks),
            }
        ]
        book = self.tmp / f"shown-{time.monotonic_ns()}.yml"
        book.write_text(yaml.safe_dump(play, sort_keys=False))
        env = ansible_env(self.collections, self.tmp, OS_CLIENT_CONFIG_FILE=str(self.clouds))
        done = subprocess.run(
            [str(BIN / "ansible-playbook"), "-v", "-i", "localhost,", str(book)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{tasks}\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
        recap = RECAP.search(done.stdout)
        assert recap, done.stdout[-2000:]
        return int(recap.group(2)), done.stdout


@pytest.fixture
def as_code(
    collections_path: Path, tmp_path: Path, portal_clouds_yaml: Path
) -> Callable[[Tenant, Client], AsCode]:
    """as_code(tenant, client) -> AsCode: the tenant's clouds.yaml entry named as the portal's
    cloud is (the panel's --os-cloud), with the tenant's password in it."""
    portal_cloud = yaml.safe_load(portal_clouds_yaml.read_text())["clouds"]["devcloud"]

    def _make(tenant: Tenant, client: Client) -> AsCode:
        entry: dict[str, Any] = {
            "auth": {
                "auth_url": portal_cloud["auth"]["auth_url"],
                "username": tenant.username,
                "password": tenant.password,
                "project_id": tenant.project.id,
                "user_domain_name": "Default",
            },
            "region_name": portal_cloud.get("region_name", "RegionOne"),
            "interface": "public",
            "identity_api_version": 3,
        }
        clouds = tmp_path / f"clouds-{tenant.name}.yaml"
        clouds.write_text(yaml.safe_dump({"clouds": {"devcloud": entry}}))
        clouds.chmod(0o600)
        return AsCode(client, clouds, collections_path, tmp_path)

    return _make
