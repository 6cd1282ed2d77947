"""Benchmark (run by hand, not collected by pytest): a 2 GiB image through the portal versus
straight to Glance with openstacksdk, and the memory each portal process needs for it.

    eval "$(bin/services)"            # PostgreSQL and Redis
    devcloud/devcloud up               # the all-in-one cloud
    .venv/bin/python tests/benchmarks/bench_image_upload.py [--size-mib 2048] [--chunk-mib 8]

It makes a throwaway project and user, a database of its own (stackdesk_bench) and a state
folder of its own, starts the portal under gunicorn (one sync worker) and one Celery worker,
then:
  1. uploads the file directly: openstacksdk create_image(data=<file>) to the same Glance;
  2. uploads it through the portal as the browser does: the create form, then the file in
     chunks over HTTP (POST, X-Upload-Offset), while the worker streams it on to Glance;
and prints both throughputs (bytes / time until the image is active) and the peak RSS growth
of the gunicorn worker and of the Celery worker process that ran the job (sampled every
50 ms, and their kernel high-water marks). Targets: portal >= 90 % of direct throughput,
< 64 MiB peak RSS growth per process. Everything it made is deleted at the end.

The portal's processes inherit this script's environment: STACKDESK_IMAGE_UPLOAD_DIR puts
the upload's temporary file elsewhere (e.g. on a tmpfs, to see what its disk writes cost).
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import openstack
import psycopg2  # type: ignore[import-untyped]  # no stubs; a benchmark script
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEVCLOUD_CLOUDS = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud")) / (
    "clouds.yaml"
)
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_file(path: Path, size: int) -> None:
    """Random data (so nothing on the way can compress or skip it), written in 64 MiB blocks."""
    block = os.urandom(64 * MIB)
    with path.open("wb") as f:
        written = 0
        while written < size:
            part = block[: min(len(block), size - written)]
            f.write(part)
            written += len(part)
    os.sync()


class Sampler(threading.Thread):
    """Samples the RSS of processes (chosen by a function, re-evaluated) every 50 ms."""

    def __init__(self, pick: Any) -> None:
        super().__init__(daemon=True)
        self.pick = pick
        self.peak: dict[int, int] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.05):
            for pid in self.pick():
                self.peak[pid] = max(self.peak.get(pid, 0), rss(pid))


def status_bytes(pid: int, field: str) -> int:
    """A memory figure from /proc/<pid>/status (VmRSS: now, VmHWM: the kernel's peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def vm_hwm(pid: int) -> int:
    return status_bytes(pid, "VmHWM")


def rss(pid: int) -> int:
    return status_bytes(pid, "VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Portal:
    """gunicorn (1 sync worker) and a Celery worker on a database and state folder of their own."""

    def __init__(self, workdir: Path, admin_auth: dict[str, Any]) -> None:
        db = urllib.parse.urlparse(os.environ["DATABASE_URL"])
        self.db = db
        self.url_db = db._replace(path="/stackdesk_bench").geturl()
        clouds = workdir / "clouds.yaml"
        clouds.write_text(
            yaml.safe_dump(
                {
                    "clouds": {
                        "devcloud": {
                            "auth": {"auth_url": admin_auth["auth_url"]},
                            "region_name": "RegionOne",
                        }
                    }
                }
            )
        )
        self.port = free_port()
        self.env = dict(
            os.environ,
            DATABASE_URL=self.url_db,
            REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
            + "/13",
            STACKDESK_STATE=str(workdir / "state"),
            OS_CLIENT_CONFIG_FILE=str(clouds),
            STACKDESK_IMAGE_UPLOAD_MAX_BYTES=str(64 * 1024**3),
            DJANGO_SETTINGS_MODULE="portal.settings",
            PYTHONWARNINGS="ignore",
        )
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = workdir

    def create_database(self) -> None:
        conn = psycopg2.connect(
            dbname="postgres",
            user=self.db.username,
            password=urllib.parse.unquote(self.db.password or ""),
            host=self.db.hostname,
            port=self.db.port or 5432,
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS stackdesk_bench")
            cur.execute("CREATE DATABASE stackdesk_bench")
        conn.close()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )

    def drop_database(self) -> None:
        conn = psycopg2.connect(
            dbname="postgres",
            user=self.db.username,
            password=urllib.parse.unquote(self.db.password or ""),
            host=self.db.hostname,
            port=self.db.port or 5432,
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS stackdesk_bench")
        conn.close()

    def start(self) -> None:
        web = [
            str(ROOT / ".venv/bin/gunicorn"),
            "portal.wsgi",
            "--workers=1",
            "--timeout=600",
            f"--bind=127.0.0.1:{self.port}",
        ]
        worker = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
        ]
        for name, cmd in (("gunicorn", web), ("celery", worker)):
            log = (self.logs / f"{name}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        time.sleep(3)  # the worker connects to the broker

    def web_workers(self) -> list[int]:
        return children(self.procs[0].pid)

    def celery_children(self) -> list[int]:
        return children(self.procs[1].pid)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class Browser:
    """What the page's script does, over plain HTTP with a cookie jar."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def csrf(self) -> str:
        return next(c.value or "" for c in self.jar if c.name == "csrftoken")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def post_form(self, path: str, fields: dict[str, str], headers: dict[str, str]) -> Any:
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(
            self.url(path), data=body, headers={"X-CSRFToken": self.csrf(), **headers}
        )
        return self.opener.open(request, timeout=120)

    def sign_in(self, username: str, password: str) -> None:
        self.opener.open(self.url("/auth/sign-in/"), timeout=30).read()
        self.post_form(
            "/auth/sign-in/",
            {
                "method": "password",
                "cloud": "devcloud:RegionOne",
                "username": username,
                "password": password,
                "domain": "Default",
            },
            {},
        ).read()

    def upload(self, path: Path, chunk: int) -> dict[str, Any]:
        self.opener.open(self.url("/images/create/"), timeout=30).read()
        size = path.stat().st_size
        response = self.post_form(
            "/images/create/",
            {
                "name": "bench-portal",
                "source": "file",
                "disk_format": "raw",
                "container_format": "bare",
                "min_disk": "0",
                "min_ram": "0",
                "visibility": "private",
                "file_name": path.name,
                "file_size": str(size),
            },
            {"X-Upload-Mode": "chunked", "Accept": "application/json"},
        )
        state: dict[str, Any] = json.loads(response.read())
        with path.open("rb") as f:
            offset = 0
            while offset < size:
                data = f.read(chunk)
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                conn.request(
                    "POST",
                    state["chunk_url"],
                    body=data,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "X-Upload-Offset": str(offset),
                        "X-CSRFToken": self.csrf(),
                        "Cookie": self.cookie_header(),
                        "Accept": "application/json",
                    },
                )
                reply = conn.getresponse()
                answer = json.loads(reply.read())
                conn.close()
                if reply.status != 200:
                    raise RuntimeError(f"chunk at {offset}: {reply.status} {answer}")
                offset = answer["received"]
        sent_at = time.monotonic()
        while True:
            status: dict[str, Any] = json.loads(
                self.opener.open(
                    urllib.request.Request(
                        self.url(state["status_url"]), headers={"Accept": "application/json"}
                    ),
                    timeout=30,
                ).read()
            )
            op = status["operation"]
            if op and op["state"] in ("succeeded", "failed", "cancelled"):
                status["finished_at"] = time.monotonic()
                status["sent_at"] = sent_at
                return status
            time.sleep(0.05)


def direct_upload(conn: Any, data: Path, size: int) -> float:
    """openstacksdk's own upload of the file to the same Glance; seconds until active."""
    print("direct: openstacksdk create_image(data=<file>) ...", flush=True)
    started = time.monotonic()
    with data.open("rb") as f:
        image = conn.image.create_image(
            name="bench-direct",
            data=f,
            disk_format="raw",
            container_format="bare",
            validate_checksum=False,
            allow_duplicates=True,
        )
    image = conn.image.get_image(image.id)
    seconds = time.monotonic() - started
    assert image.status == "active" and image.size == size, (image.status, image.size)
    conn.image.delete_image(image.id)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--workdir", default=str(ROOT / ".state" / "bench"))
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit('DATABASE_URL is not set: run `eval "$(bin/services)"` first.')

    clouds = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    admin_auth = clouds["devcloud-admin"]["auth"]
    admin: Any = openstack.connect(load_yaml_config=False, load_envvars=False, **admin_auth)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    size = args.size_mib * MIB
    suffix = os.urandom(3).hex()
    project = admin.identity.create_project(name=f"bench-{suffix}", domain_id="default")
    password = "pw-" + os.urandom(8).hex()
    user = admin.identity.create_user(
        name=f"bench-user-{suffix}",
        password=password,
        domain_id="default",
        default_project_id=project.id,
    )
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    conn: Any = openstack.connect(
        load_yaml_config=False,
        load_envvars=False,
        auth_url=admin_auth["auth_url"],
        username=user.name,
        password=password,
        project_id=project.id,
        user_domain_name="Default",
        region_name="RegionOne",
    )
    work = Path(tempfile.mkdtemp(dir=workdir))
    portal = Portal(work, admin_auth)
    try:
        data = work / "bench.raw"
        print(f"making a {args.size_mib} MiB file of random data ...", flush=True)
        make_file(data, size)

        direct_seconds = [direct_upload(conn, data, size)]
        portal.create_database()
        portal.start()
        browser = Browser(portal.port)
        browser.sign_in(user.name, password)
        warm = work / "warm.raw"
        make_file(warm, 16 * MIB)
        status = browser.upload(warm, args.chunk_mib * MIB)  # imports and connections warmed up
        assert status["operation"]["state"] == "succeeded", status
        web, workers = portal.web_workers(), portal.celery_children()
        base = {pid: rss(pid) for pid in [*web, *workers]}
        hwm_before = {pid: vm_hwm(pid) for pid in [*web, *workers]}
        cpu_before = {pid: cpu_seconds(pid) for pid in [*web, *workers, os.getpid()]}
        sampler = Sampler(lambda: [*portal.web_workers(), *portal.celery_children()])
        sampler.start()
        print("portal: chunks over HTTP to gunicorn, the worker streams them on ...", flush=True)
        started = time.monotonic()
        status = browser.upload(data, args.chunk_mib * MIB)
        portal_seconds = status["finished_at"] - started
        sampler.stop_event.set()
        sampler.join()
        cpu = {pid: cpu_seconds(pid) - before for pid, before in cpu_before.items()}
        assert status["operation"]["state"] == "succeeded", status
        images = [i for i in conn.image.images(owner=project.id) if i.name == "bench-portal"]
        big = next(i for i in images if i.size == size)
        assert big.status == "active", big.status
        for image in images:
            conn.image.delete_image(image.id)
        # Direct once more, after the portal: the machine's load moves, the mean is fairer.
        direct_seconds.append(direct_upload(conn, data, size))

        direct_rate = size / (sum(direct_seconds) / len(direct_seconds)) / MIB
        portal_rate = size / portal_seconds / MIB
        print()
        print(f"file: {args.size_mib} MiB, chunks of {args.chunk_mib} MiB")
        runs = ", ".join(f"{t:.2f} s" for t in direct_seconds)
        print(
            f"direct openstacksdk -> Glance: {runs} (before, after)  mean {direct_rate:8.1f} MiB/s"
        )
        print(
            f"portal (chunks -> worker -> Glance): {portal_seconds:7.2f} s  "
            f"{portal_rate:8.1f} MiB/s  = {100 * portal_rate / direct_rate:.1f} % of direct "
            f"(target >= 90 %)"
        )
        print(
            f"  the browser side had sent its last chunk after {status['sent_at'] - started:.2f} s"
        )
        for label, procs in (("gunicorn worker", web), ("celery worker", workers)):
            for pid in procs:
                growth = sampler.peak.get(pid, base[pid]) - base[pid]
                hwm_growth = vm_hwm(pid) - hwm_before[pid]
                print(
                    f"{label} pid {pid}: RSS before {base[pid] / MIB:6.1f} MiB, "
                    f"peak growth {growth / MIB:6.1f} MiB (sampled), VmHWM growth "
                    f"{hwm_growth / MIB:6.1f} MiB (target < 64 MiB); CPU {cpu[pid]:.1f} s"
                )
        print(f"this script (the browser's side): CPU {cpu[os.getpid()]:.1f} s")
        load = os.getloadavg()
        print(
            f"load average now: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
        )
    finally:
        portal.stop()
        portal.drop_database()
        for image in conn.image.images(owner=project.id):
            conn.image.delete_image(image.id)
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)
        shutil.rmtree(work, ignore_errors=True)
        if re.search(r"/bench$", str(workdir)) and not any(workdir.iterdir()):
            workdir.rmdir()


if __name__ == "__main__":
    main()
