"""Fixtures of the layers that use real things: the all-in-one cloud (devcloud), real Celery
workers, and headless Chromium.

The devcloud's clouds.yaml (DEVCLOUD_STATE, default /var/lib/stackdesk/devcloud) holds one
entry per persona; the portal itself is given only the cloud's address and the portal's own
service user, as an operator would configure it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openstack
import pytest
import yaml
from django.conf import settings
from django.test import Client, override_settings

from portal import cloud

ROOT = Path(__file__).resolve().parent.parent
DEVCLOUD_STATE = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud"))
DEVCLOUD_CLOUDS = DEVCLOUD_STATE / "clouds.yaml"
PORTAL_CLOUD_KEY = "devcloud:RegionOne"
SERVICE_CLOUD = "devcloud-stackdesk"

# Persona -> (clouds.yaml entry, user name, password), as devcloud seeds them.
PERSONA_CLOUDS = {
    "admin": "devcloud-admin",
    "member": "devcloud-member",
    "study1": "devcloud-study1",
    "reader": "devcloud-reader",
}


def devcloud_entries() -> dict[str, dict[str, Any]]:
    if not DEVCLOUD_CLOUDS.exists():
        pytest.fail(f"{DEVCLOUD_CLOUDS} is missing: start the cloud with `devcloud/devcloud up`.")
    entries: dict[str, dict[str, Any]] = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    return entries


def credentials(persona: str) -> tuple[str, str]:
    auth = devcloud_entries()[PERSONA_CLOUDS[persona]]["auth"]
    return auth["username"], auth["password"]


@pytest.fixture(scope="session")
def portal_clouds_yaml(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The portal's clouds.yaml for the devcloud: its address, and the service user."""
    entries = devcloud_entries()
    admin = entries[PERSONA_CLOUDS["admin"]]
    path = tmp_path_factory.mktemp("portal") / "clouds.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "devcloud": {
                        "auth": {"auth_url": admin["auth"]["auth_url"]},
                        "region_name": admin.get("region_name", "RegionOne"),
                    },
                    SERVICE_CLOUD: entries[SERVICE_CLOUD],
                }
            }
        )
    )
    with (
        pytest.MonkeyPatch.context() as mp,
        override_settings(STACKDESK_SERVICE_CLOUD=SERVICE_CLOUD),
    ):
        mp.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        cloud.available_clouds.cache_clear()
        cloud.service_connection.cache_clear()
        yield path
    cloud.available_clouds.cache_clear()
    cloud.service_connection.cache_clear()


def sdk(persona: str) -> openstack.connection.Connection:
    """A persona straight through openstacksdk (not the portal): to arrange and to check."""
    entry = devcloud_entries()[PERSONA_CLOUDS[persona]]
    return openstack.connect(
        load_yaml_config=False,
        load_envvars=False,
        region_name=entry.get("region_name"),
        **entry["auth"],
    )


@pytest.fixture(scope="session")
def sdk_admin() -> openstack.connection.Connection:
    return sdk("admin")


def page_errors(html: str) -> list[str]:
    """The error messages a page shows (alerts and field errors), for assertion messages."""
    return [
        " ".join(m.split())
        for m in re.findall(
            r'class="(?:alert alert-danger|invalid-feedback)[^"]*"[^>]*>(.*?)</div>', html, re.S
        )
    ]


def portal_sign_in(client: Client, persona: str, project_id: str = "") -> Client:
    """Sign in through the portal's own sign-in page against the real Keystone."""
    username, password = credentials(persona)
    response = client.post(
        "/auth/sign-in/",
        {
            "method": "password",
            "cloud": PORTAL_CLOUD_KEY,
            "username": username,
            "password": password,
            "domain": "Default",
        },
    )
    assert response.status_code == 302, page_errors(response.content.decode())
    if response["Location"] == "/auth/project/":
        response = client.post("/auth/project/", {"project_id": project_id})
        assert response.status_code == 302
    return client


# --- real Celery workers --------------------------------------------------------------------


class Worker:
    """A `celery worker -B` process on the test database and broker, in its own process group."""

    def __init__(self, logfile: Path, env: dict[str, str]) -> None:
        self.logfile, self.env = logfile, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = self.logfile.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-B",
                "--loglevel=INFO",
                "--concurrency=2",
                "--include=tests.worker.slow_tasks",
                f"--schedule={self.logfile.with_suffix('.beat')}",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while b"ready." not in self.logfile.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + self.logfile.read_text()[-3000:])
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: what a crashed machine or an OOM kill looks like."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        pytest.fail(
            "Worker and cloud tests need DATABASE_URL (PostgreSQL): a worker process "
            "cannot share an in-memory SQLite test database."
        )
    if not settings.REDIS_URL:
        pytest.fail("Worker and cloud tests need REDIS_URL (the Celery broker).")
    url = (
        f"postgres://{quote(db['USER'])}:{quote(str(db['PASSWORD']))}@{db['HOST']}:"
        f"{db['PORT']}/{db['NAME']}"
    )  # NAME is the test database by now
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL,
            "STACKDESK_CREDENTIAL_KEY": settings.CREDENTIAL_KEY,
            "STACKDESK_SERVICE_CLOUD": settings.STACKDESK_SERVICE_CLOUD,
            "STACKDESK_OPERATION_HEARTBEAT": "1",
            "STACKDESK_OPERATION_STALE_AFTER": "4",
            "STACKDESK_REAP_EVERY": "2",
        }
    )
    env.update(extra or {})
    return env


@pytest.fixture
def start_worker(tmp_path: Path, transactional_db: None) -> Iterator[Any]:
    """Start real workers; they are stopped (or were killed) when the test ends."""
    started: list[Worker] = []

    def _start(**extra: str) -> Worker:
        worker = Worker(tmp_path / f"worker{len(started)}.log", worker_env(extra)).start()
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser (STYLE.md §7)."""
    return {
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# --- throwaway tenants ----------------------------------------------------------------------


class Tenant:
    """A project of its own with one user (roles as asked), made by the admin for one test and
    deleted with everything in it afterwards. Tests that create resources use one, so that
    tests running side by side never share quotas or names."""

    def __init__(self, admin: Any, prefix: str, roles: tuple[str, ...]) -> None:
        suffix = os.urandom(4).hex()
        # Any: openstacksdk types its proxies as unions of API versions (v2 | v3 ...).
        self.admin: Any = admin
        self.name = f"{prefix}-{suffix}"
        self.username = f"{prefix}-user-{suffix}"
        self.password = "pw-" + os.urandom(8).hex()
        self.project = admin.identity.create_project(name=self.name, domain_id="default")
        self.user = admin.identity.create_user(
            name=self.username,
            password=self.password,
            domain_id="default",
            default_project_id=self.project.id,
        )
        for role in roles:
            admin.identity.assign_project_role_to_user(
                self.project, self.user, admin.identity.find_role(role)
            )
        self.conn = openstack.connect(
            load_yaml_config=False,
            load_envvars=False,
            auth_url=admin.auth["auth_url"],
            username=self.username,
            password=self.password,
            project_id=self.project.id,
            user_domain_name="Default",
            region_name="RegionOne",
        )

    def sign_in(self, client: Client) -> Client:
        response = client.post(
            "/auth/sign-in/",
            {
                "method": "password",
                "cloud": PORTAL_CLOUD_KEY,
                "username": self.username,
                "password": self.password,
                "domain": "Default",
            },
        )
        assert response.status_code == 302, page_errors(response.content.decode())
        return client

    def cleanup(self) -> None:
        """Delete what the project holds (as admin, so nothing is hidden), then the project."""
        a, pid = self.admin, self.project.id
        for server in a.compute.servers(all_projects=True, project_id=pid):
            a.compute.delete_server(server, force=True)
        for server in a.compute.servers(all_projects=True, project_id=pid):
            a.compute.wait_for_delete(server, wait=120)
        for fip in a.network.ips(project_id=pid):
            a.network.delete_ip(fip)
        for router in a.network.routers(project_id=pid):
            if router.routes:  # Neutron keeps an interface that a static route still needs
                a.network.update_router(router, routes=[])
            for port in a.network.ports(device_id=router.id):
                if port.device_owner == "network:router_interface":
                    a.network.remove_interface_from_router(router, port_id=port.id)
            a.network.delete_router(router)
        for port in a.network.ports(project_id=pid):
            a.network.delete_port(port)
        for network in a.network.networks(project_id=pid):
            a.network.delete_network(network)
        for group in a.network.security_groups(project_id=pid):
            if group.name != "default":
                a.network.delete_security_group(group)
        if a.has_service("block-storage"):
            for volume in a.block_storage.volumes(all_projects=True, project_id=pid):
                a.block_storage.delete_volume(volume, force=True)
        # visibility=all: Glance's default listing leaves community images out.
        for image in a.image.images(owner=pid, visibility="all"):
            if image.is_protected:
                a.image.update_image(image, is_protected=False)
            a.image.delete_image(image)
        for group in a.network.security_groups(project_id=pid):
            a.network.delete_security_group(group)
        a.identity.delete_user(self.user)
        a.identity.delete_project(self.project)


@pytest.fixture
def make_tenant(sdk_admin: openstack.connection.Connection) -> Iterator[Any]:
    """make_tenant(prefix="t", roles=("member", "reader")) -> Tenant, cleaned up after the test."""
    made: list[Tenant] = []

    def _make(prefix: str = "t", roles: tuple[str, ...] = ("member", "reader")) -> Tenant:
        tenant = Tenant(sdk_admin, prefix, roles)
        made.append(tenant)
        return tenant

    yield _make
    for tenant in made:
        tenant.cleanup()
