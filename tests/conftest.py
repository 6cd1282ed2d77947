"""Fixtures of the layers that use real things: the all-in-one cloud (devcloud), real Celery
workers, and headless Chromium.

The devcloud's clouds.yaml (DEVCLOUD_STATE, default /var/lib/stackdesk/devcloud) holds one
entry per persona; the portal itself is given only the cloud's address and the portal's own
service user, as an operator would configure it.
"""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def sdk_admin() -> openstack.connection.Connection:
    """The devcloud's admin through openstacksdk directly: to arrange and to check."""
    return openstack.connect(cloud=PERSONA_CLOUDS["admin"], config_files=[str(DEVCLOUD_CLOUDS)])


def sdk(persona: str) -> openstack.connection.Connection:
    return openstack.connect(cloud=PERSONA_CLOUDS[persona], config_files=[str(DEVCLOUD_CLOUDS)])


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
    assert response.status_code == 302, response.content.decode()[:2000]
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
