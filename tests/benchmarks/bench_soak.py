"""Soak benchmark: concurrent browser-like users on the portal for a bounded time (run by hand;
not a test).

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_soak.py [--users 50] [--seconds 60]
        [--spawn-rate 10] [--workers 3] [--threads 4]

It serves the portal with gunicorn on 127.0.0.1 (a database of its own, `stackdesk_soak`,
migrated first; Redis database 14; a throwaway state folder) against the all-in-one cloud, and
runs locust in this process: every user signs in once with a devcloud persona (member of demo,
member of study1, reader, admin: the seeded demo users, round robin) and then browses the pages
people live in, with htmx partial refreshes among them, waiting 1–3 s between clicks as a
person does. It prints, per page: requests, failures, median, p95 and max in ms; in total:
requests, failures, requests per second, and the server errors gunicorn logged. The exit
status is 1 if any request failed, so a soak with errors cannot pass unnoticed.
"""

from __future__ import annotations

# locust patches the standard library with gevent when imported: before anything else.
from locust import HttpUser, between, events, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
DEVCLOUD_CLOUDS = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud")) / (
    "clouds.yaml"
)
PERSONAS = ["devcloud-member", "devcloud-study1", "devcloud-reader", "devcloud-admin"]
SERVICE_CLOUD = "devcloud-stackdesk"
HTMX = {"HX-Request": "true"}
SOAK_DB = "stackdesk_soak"

_logins = itertools.cycle(PERSONAS)
_entries: dict[str, Any] = {}


class PortalUser(HttpUser):
    """One person: signs in once, then clicks through the tenant pages."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        auth = _entries[next(_logins)]["auth"]
        self.client.get("/auth/sign-in/", name="sign-in page")
        response = self.client.post(
            "/auth/sign-in/",
            {
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
                "method": "password",
                "cloud": "devcloud:RegionOne",
                "username": auth["username"],
                "password": auth["password"],
                "domain": "Default",
            },
            name="sign in",
            catch_response=True,
        )
        with response:
            if "/auth/sign-in/" in response.url:  # back on the form: the sign-in failed
                response.failure("sign-in did not succeed")  # type: ignore[no-untyped-call]

    @task(3)
    def instances(self) -> None:
        self.client.get("/compute/servers/", name="instances")

    @task(2)
    def instances_rows(self) -> None:  # the list's live refresh (htmx partial)
        self.client.get("/compute/servers/", headers=HTMX, name="instances (htmx rows)")

    @task(2)
    def overview(self) -> None:
        self.client.get("/project/overview/", name="overview")

    @task
    def networks(self) -> None:
        self.client.get("/network/networks/", name="networks")

    @task
    def routers(self) -> None:
        self.client.get("/network/routers/", name="routers")

    @task
    def security_groups(self) -> None:
        self.client.get("/network/security-groups/", name="security groups")

    @task
    def images(self) -> None:
        self.client.get("/images/", name="images")

    @task
    def operations(self) -> None:
        self.client.get("/operations/", name="operations")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def soak_database(url: str) -> str:
    """The portal's DATABASE_URL with the soak's own database, created when missing."""
    parts = urlsplit(url)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", [SOAK_DB])
        if cur.fetchone() is None:
            cur.execute(f"create database {SOAK_DB}")
    conn.close()
    return urlunsplit(parts._replace(path="/" + SOAK_DB))


def portal_env(workdir: Path) -> dict[str, str]:
    admin = _entries["devcloud-admin"]
    clouds = workdir / "clouds.yaml"
    clouds.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "devcloud": {
                        "auth": {"auth_url": admin["auth"]["auth_url"]},
                        "region_name": admin.get("region_name", "RegionOne"),
                    },
                    SERVICE_CLOUD: _entries[SERVICE_CLOUD],
                }
            }
        )
    )
    state = workdir / "state"
    state.mkdir(mode=0o700)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": soak_database(os.environ["DATABASE_URL"]),
        "REDIS_URL": os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/14",
        "STACKDESK_STATE": str(state),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "STACKDESK_SERVICE_CLOUD": SERVICE_CLOUD,
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310 (our URL)
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the portal did not answer on {url} within {timeout:.0f} s")


def ms(value: float | None) -> str:
    return f"{value:7.0f}" if value is not None else "      -"


def report(env: Environment, seconds: float, errlog: Path) -> int:
    stats = env.stats
    print(f"\n{'page':<26}{'requests':>9}{'failures':>9}{'median':>8}{'p95':>8}{'max':>8}  (ms)")
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        print(
            f"{entry.name:<26}{entry.num_requests:>9}{entry.num_failures:>9}"
            f"{ms(entry.get_response_time_percentile(0.5))}"
            f"{ms(entry.get_response_time_percentile(0.95))}{ms(entry.max_response_time)}"
        )
    total = stats.total
    server_errors = len(re.findall(r"ERROR", errlog.read_text(errors="replace")))
    print(
        f"\ntotal: {total.num_requests} requests, {total.num_failures} failures, "
        f"{total.num_requests / seconds:.1f} requests/s over {seconds:.0f} s; "
        f"median {ms(total.get_response_time_percentile(0.5)).strip()} ms, "
        f"p95 {ms(total.get_response_time_percentile(0.95)).strip()} ms; "
        f"server errors logged: {server_errors}"
    )
    for error in stats.errors.values():
        print(f"  {error.occurrences} × {error.method} {error.name}: {error.error}")
    return 1 if total.num_failures or server_errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not DEVCLOUD_CLOUDS.exists():
        raise SystemExit(f"{DEVCLOUD_CLOUDS} is missing: start the cloud (devcloud/devcloud up)")
    _entries.update(yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"])

    workdir = Path(tempfile.mkdtemp(prefix="stackdesk-soak-"))
    env_vars = portal_env(workdir)
    subprocess.run(  # noqa: S603 (our own manage.py)
        [str(VENV / "python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env_vars, check=True
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    errlog = workdir / "gunicorn-error.log"
    portal = subprocess.Popen(  # noqa: S603 (our own gunicorn)
        [
            str(VENV / "gunicorn"),
            "portal.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            f"--threads={args.threads}",
            "--timeout=120",
            f"--error-logfile={errlog}",
            "--capture-output",
        ],
        cwd=ROOT,
        env=env_vars,
    )
    try:
        wait_until_up(url)
        print(
            f"portal on {url} (gunicorn {args.workers}×{args.threads}); {args.users} users, "
            f"{args.spawn_rate}/s, {args.seconds:.0f} s"
        )
        env = Environment(user_classes=[PortalUser], host=url, events=events)
        runner = env.create_local_runner()
        runner.start(args.users, spawn_rate=args.spawn_rate)
        started = time.monotonic()
        threading.Timer(args.seconds, runner.quit).start()  # a greenlet: locust patched it
        runner.greenlet.join()
        return report(env, time.monotonic() - started, errlog)
    finally:
        portal.terminate()
        portal.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
