"""Benchmark (run by hand, not collected by pytest): a 2 GiB image through the portal versus
straight to Glance with openstacksdk, and the memory each portal process needs for it.

    eval "$(bin/services)"            # PostgreSQL and Redis
    devcloud/devcloud up               # the all-in-one cloud
    .venv/bin/python tests/benchmarks/bench_image_upload.py [--size-mib 2048] [--runs 5]
        [--max-load 2.5] [--chunk-mib N]

It makes a throwaway project and user, a database of its own (stackdesk_bench) and a state
folder of its own, and starts the portal as bin/demo runs it (gunicorn, 3 workers x 4 threads;
a Celery worker with its default concurrency). Then, `--runs` times, in ABBA order (direct
first in odd runs, portal first in even runs, so a drift in the machine's load hits both):
  - direct: openstacksdk create_image(data=<file>) to the same Glance, as the same user;
  - portal: what images.js does, over HTTP with one kept-alive connection: the create form,
    then the file in chunks (POST, X-Upload-Offset) of the size the portal asks for, doubled
    after each chunk sent in under a second up to 4x, while the worker streams it on to
    Glance; the clock stops when the job has succeeded.
Throughput is bytes / seconds until the image is active (Glance's checksum checked). The
machine is shared, so each run also records the load average and the CPU time taken by
everything that is NOT part of the run ("others"), and `--max-load` waits for a quieter moment
before each pair; the summary compares medians and shows the spread. Peak RSS growth of every
gunicorn worker and Celery worker process is sampled every 50 ms over all portal runs (and
their kernel high-water marks). Targets: portal >= 90 % of direct, < 64 MiB per process.
Everything it made is deleted at the end.

The portal's processes inherit this script's environment: STACKDESK_IMAGE_UPLOAD_DIR puts
the upload's temporary file elsewhere (e.g. on a tmpfs, to compare).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import openstack
import psycopg2  # type: ignore[import-untyped]  # no stubs; a benchmark script
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEVCLOUD_CLOUDS = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud")) / (
    "clouds.yaml"
)
MIB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_file(path: Path, size: int) -> str:
    """Random data (so nothing on the way can compress or skip it), written in 64 MiB blocks
    of fresh randomness; returns its MD5, which Glance must report for every upload."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("wb") as f:
        written = 0
        while written < size:
            part = os.urandom(min(64 * MIB, size - written))
            digest.update(part)
            f.write(part)
            written += len(part)
    os.sync()
    return digest.hexdigest()


# --- what the machine is doing ----------------------------------------------------------------


def status_bytes(pid: int, name: str) -> int:
    """A memory figure from /proc/<pid>/status (VmRSS: now, VmHWM: the kernel's peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rss(pid: int) -> int:
    return status_bytes(pid, "VmRSS")


def vm_hwm(pid: int) -> int:
    return status_bytes(pid, "VmHWM")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine so far (/proc/stat: all but idle, iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def glance_workers() -> list[int]:
    """The devcloud's glance-api uWSGI workers (they do Glance's share of every upload)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"glance-api uWSGI worker"):
            pids.append(int(proc.name))
    return pids


def bench_db_backends() -> list[int]:
    """PostgreSQL's server processes for the portal's benchmark database (its share of the
    portal path: sessions, upload rows, job progress)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and b" stackdesk_bench " in cmdline:
            pids.append(int(proc.name))
    return pids


def load1() -> float:
    return os.getloadavg()[0]


def wait_for_quiet(max_load: float, patience: float = 600) -> None:
    """Other work on a shared machine takes CPU from Glance and the portal alike, unevenly:
    start a pair of runs once the load has come down (or patience has run out)."""
    deadline = time.monotonic() + patience
    while load1() >= max_load and time.monotonic() < deadline:
        print(f"  load {load1():.2f} >= {max_load}: waiting ...", flush=True)
        time.sleep(15)


class Sampler(threading.Thread):
    """Samples the RSS of processes (chosen by a function, re-evaluated) every 50 ms."""

    def __init__(self, pick: Callable[[], list[int]]) -> None:
        super().__init__(daemon=True)
        self.pick = pick
        self.peak: dict[int, int] = {}
        self.stop_event = threading.Event()
        self.active = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.05):
            if self.active.is_set():
                for pid in self.pick():
                    self.peak[pid] = max(self.peak.get(pid, 0), rss(pid))


@dataclass
class Run:
    n: int
    path: str  # "direct" or "portal"
    seconds: float = 0.0
    load_start: float = 0.0
    load_end: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # group -> CPU seconds in the run
    others: float = 0.0  # CPU seconds of everything else on the machine during the run
    started: float = 0.0
    sent: float = 0.0  # portal: seconds until the browser had sent its last chunk

    def rate(self, size: int) -> float:
        return size / self.seconds / MIB


@contextmanager
def measured(run: Run, groups: dict[str, Callable[[], list[int]]]) -> Iterator[None]:
    """Wall time, load average, CPU of each group of processes and of the rest of the machine."""
    pids = {name: pick() for name, pick in groups.items()}
    before = {name: {p: cpu_seconds(p) for p in found} for name, found in pids.items()}
    busy = machine_busy_seconds()
    run.load_start = load1()
    run.started = time.monotonic()
    yield
    run.seconds = time.monotonic() - run.started
    run.load_end = load1()
    for name, pick in groups.items():
        # Processes that ended in the run took their CPU time with them (a database
        # connection closed): such a group is counted short, never negative.
        found = set(pids[name]) | set(pick())
        run.cpu[name] = sum(max(0.0, cpu_seconds(p) - before[name].get(p, 0.0)) for p in found)
    run.others = max(0.0, machine_busy_seconds() - busy - sum(run.cpu.values()))


# --- the portal, as bin/demo runs it ---------------------------------------------------------


class Portal:
    """gunicorn and a Celery worker on a database and state folder of their own."""

    def __init__(self, workdir: Path, admin_auth: dict[str, Any], chunk: int | None) -> None:
        self.db = urllib.parse.urlparse(os.environ["DATABASE_URL"])
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
            DATABASE_URL=self.db._replace(path="/stackdesk_bench").geturl(),
            REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
            + "/13",
            STACKDESK_STATE=str(workdir / "state"),
            OS_CLIENT_CONFIG_FILE=str(clouds),
            STACKDESK_IMAGE_UPLOAD_MAX_BYTES=str(64 * 1024**3),
            DJANGO_SETTINGS_MODULE="portal.settings",
            PYTHONWARNINGS="ignore",
        )
        if chunk:
            self.env["STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES"] = str(chunk)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = workdir

    def _admin_db(self, sql: str) -> None:
        conn = psycopg2.connect(
            dbname="postgres",
            user=self.db.username,
            password=urllib.parse.unquote(self.db.password or ""),
            host=self.db.hostname,
            port=self.db.port or 5432,
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.close()

    def create_database(self) -> None:
        self._admin_db("DROP DATABASE IF EXISTS stackdesk_bench")
        self._admin_db("CREATE DATABASE stackdesk_bench")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )

    def drop_database(self) -> None:
        self._admin_db("DROP DATABASE IF EXISTS stackdesk_bench")

    def start(self) -> None:
        web = [
            str(ROOT / ".venv/bin/gunicorn"),
            "portal.wsgi",
            "--workers=3",
            "--threads=4",
            "--timeout=120",
            f"--bind=127.0.0.1:{self.port}",
        ]
        worker = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
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

    def celery_workers(self) -> list[int]:
        return children(self.procs[1].pid)

    def web(self) -> list[int]:
        """gunicorn's arbiter and its workers."""
        return [self.procs[0].pid, *self.web_workers()]

    def celery(self) -> list[int]:
        """Celery's main process (it talks to the broker) and its pool."""
        return [self.procs[1].pid, *self.celery_workers()]

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
    """What images.js does, over plain HTTP with a cookie jar and one kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.chunk_bytes = 0  # what the portal asked for
        self.sent_at = 0.0  # when the last chunk had been answered
        self.dropped: list[str] = []  # chunks whose connection broke (printed with the results)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def csrf(self) -> str:
        return next(c.value or "" for c in self.jar if c.name == "csrftoken")

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

    def request(
        self, method: str, path: str, body: tuple[BinaryIO, int, int] | None = None, **headers: str
    ) -> tuple[int, Any]:
        """One request on the kept-alive connection; `body` is (file, offset, count), sent with
        sendfile: the stand-in for the browser costs this machine as little CPU as it can (a
        real browser runs elsewhere). A request without a body is sent again once on a new
        connection when the server had closed the old one; one with a body raises
        ConnectionError, and the caller asks where the upload stands, as images.js does."""
        headers = {
            "Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar),
            "X-CSRFToken": self.csrf(),
            "Accept": "application/json",
            **headers,
        }
        for attempt in (1, 2):
            try:
                self.conn.putrequest(method, path)
                for name, value in headers.items():
                    self.conn.putheader(name, value)
                if body:
                    self.conn.putheader("Content-Length", str(body[2]))
                self.conn.endheaders()
                if body:
                    assert self.conn.sock is not None
                    self.conn.sock.sendfile(*body)
                reply = self.conn.getresponse()
                answer = json.loads(reply.read())
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if body or attempt == 2:
                    raise
                continue
            if reply.getheader("Connection", "").lower() == "close":
                self.conn.close()
            return reply.status, answer
        raise AssertionError("unreachable")

    def upload(self, path: Path, name: str) -> dict[str, Any]:
        self.opener.open(self.url("/images/create/"), timeout=30).read()
        size = path.stat().st_size
        response = self.post_form(
            "/images/create/",
            {
                "name": name,
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
        self.chunk_bytes = state["chunk_bytes"]
        chunk = state["chunk_bytes"]
        self.request("GET", state["status_url"])  # a connection the server has not closed
        with path.open("rb") as f:
            offset = 0
            while offset < size:
                count = min(chunk, size - offset)
                started = time.monotonic()
                try:
                    status, answer = self.request(
                        "POST",
                        state["chunk_url"],
                        (f, offset, count),
                        **{
                            "Content-Type": "application/octet-stream",
                            "X-Upload-Offset": str(offset),
                        },
                    )
                except (http.client.HTTPException, ConnectionError) as exc:
                    # As images.js: ask where the upload stands, go on from there.
                    status, answer = self.request("GET", state["status_url"])
                    self.dropped.append(f"chunk at {offset}: {exc!r}; {answer['state']}")
                    if answer["state"] not in ("receiving", "received"):
                        raise RuntimeError(f"the upload stopped: {answer}") from exc
                    offset, chunk = answer["received"], state["chunk_bytes"]
                    continue
                if status != 200:
                    raise RuntimeError(f"chunk at {offset}: {status} {answer}")
                if time.monotonic() - started < 1:  # as images.js: quick chunks grow, up to 4x
                    chunk = min(2 * chunk, 4 * state["chunk_bytes"])
                offset = answer["received"]
        self.sent_at = time.monotonic()
        while True:
            status, answer = self.request("GET", state["status_url"])
            op = answer["operation"]
            if op and op["state"] in ("succeeded", "failed", "cancelled"):
                return dict(answer)
            time.sleep(0.1)


# --- the two paths ---------------------------------------------------------------------------


def direct_upload(conn: Any, data: Path, size: int, md5: str) -> None:
    """openstacksdk's own upload of the file to the same Glance, until the image is active."""
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
    assert (image.status, image.size, image.checksum) == ("active", size, md5), image
    conn.image.delete_image(image.id)


def portal_upload(
    browser: Browser, conn: Any, project_id: str, data: Path, size: int, md5: str
) -> None:
    status = browser.upload(data, "bench-portal")
    assert status["operation"]["state"] == "succeeded", status
    (image,) = [i for i in conn.image.images(owner=project_id) if i.name == "bench-portal"]
    assert (image.status, image.size, image.checksum) == ("active", size, md5), image
    conn.image.delete_image(image.id)


def spread(values: list[float]) -> str:
    return f"{min(values):.1f} – {max(values):.1f}"


def report(runs: list[Run], size: int, chunk: int, peaks: dict[str, tuple[float, float]]) -> None:
    gib = size / 1024**3
    print()
    print(
        f"file {size // MIB} MiB of random data; browser chunks of {chunk // MIB} MiB, growing to "
        f"{4 * chunk // MIB} MiB while they go fast (as images.js)"
    )
    print("CPU seconds per run: glance-api, portal web workers, Celery workers, their database,")
    print("this script (the browser or the SDK), and everything else on the machine (others);")
    print("sent: seconds until the browser had sent the whole file to the portal.")
    print(
        f"{'run':>3} {'path':6} {'seconds':>8} {'MiB/s':>7} {'load 1m':>13} {'glance':>7} "
        f"{'web':>6} {'worker':>6} {'db':>5} {'client':>6} {'others':>7} {'sent':>6}"
    )
    for r in runs:
        print(
            f"{r.n:>3} {r.path:6} {r.seconds:8.2f} {r.rate(size):7.1f} "
            f"{r.load_start:5.2f} → {r.load_end:5.2f} {r.cpu['glance']:7.1f} {r.cpu['web']:6.1f} "
            f"{r.cpu['worker']:6.1f} {r.cpu['db']:5.1f} {r.cpu['client']:6.1f} {r.others:7.1f} "
            + (f"{r.sent:6.1f}" if r.sent else "")
        )
    direct = [r.rate(size) for r in runs if r.path == "direct"]
    portal = [r.rate(size) for r in runs if r.path == "portal"]
    pairs = [
        100
        * (b if a.path == "direct" else a).rate(size)
        / (a if a.path == "direct" else b).rate(size)
        for a, b in zip(runs[::2], runs[1::2], strict=True)
    ]
    ratio = statistics.median(portal) / statistics.median(direct) * 100
    rows = [
        (
            "direct: openstacksdk -> Glance",
            f"{statistics.median(direct):.1f} MiB/s",
            f"{spread(direct)} MiB/s",
        ),
        (
            "portal: browser chunks -> web -> worker -> Glance",
            f"{statistics.median(portal):.1f} MiB/s",
            f"{spread(portal)} MiB/s",
        ),
        ("portal / direct (target >= 90 %)", f"{ratio:.1f} %", f"{spread(pairs)} % (run by run)"),
    ]
    for label, (sampled, hwm) in peaks.items():
        rows.append(
            (
                f"peak RSS growth, {label} (target < 64 MiB)",
                f"{sampled:.1f} MiB",
                f"VmHWM +{hwm:.1f} MiB",
            )
        )
    print()
    print(f"| {'':52} | {'median':>12} | {'spread':<26} |")
    print(f"| {'-' * 52} | {'-' * 12} | {'-' * 26} |")
    for label, median, rest in rows:
        print(f"| {label:52} | {median:>12} | {rest:<26} |")
    others = [r.others / r.seconds for r in runs]
    print(
        f"\nother work on the machine during the runs: {statistics.median(others):.2f} CPUs "
        f"(median; {spread(others)}) of {os.cpu_count()}"
    )
    for path in ("direct", "portal"):
        chosen = [r for r in runs if r.path == path]
        glance = statistics.median(r.cpu["glance"] / gib for r in chosen)
        ours = statistics.median(
            (r.cpu["web"] + r.cpu["worker"] + r.cpu["db"] + r.cpu["client"]) / gib for r in chosen
        )
        print(
            f"{path}: CPU per GiB (median) glance-api {glance:.1f} s; "
            f"{'SDK client' if path == 'direct' else 'portal + its db + browser'} {ours:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=5, help="pairs of runs (direct + portal)")
    parser.add_argument(
        "--chunk-mib", type=int, default=0, help="browser chunk size (default: the portal's)"
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=0.0,
        help="before each pair of runs, wait (up to 10 minutes) for the 1-minute load average "
        "to fall below this (0: do not wait)",
    )
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
    portal = Portal(work, admin_auth, args.chunk_mib * MIB)
    try:
        data = work / "bench.raw"
        print(f"making a {args.size_mib} MiB file of random data ...", flush=True)
        md5 = make_file(data, size)
        portal.create_database()
        portal.start()
        browser = Browser(portal.port)
        browser.sign_in(user.name, password)
        warm = work / "warm.raw"
        warm_md5 = make_file(warm, 16 * MIB)
        # Imports, connections and tokens warmed up on both paths.
        portal_upload(browser, conn, project.id, warm, 16 * MIB, warm_md5)
        direct_upload(conn, warm, 16 * MIB, warm_md5)
        web, workers = portal.web_workers(), portal.celery_workers()
        base = {pid: rss(pid) for pid in [*web, *workers]}
        hwm_before = {pid: vm_hwm(pid) for pid in [*web, *workers]}
        sampler = Sampler(lambda: [*portal.web_workers(), *portal.celery_workers()])
        sampler.start()
        groups: dict[str, Callable[[], list[int]]] = {
            "glance": glance_workers,
            "web": portal.web,
            "worker": portal.celery,
            "db": bench_db_backends,
            "client": lambda: [os.getpid()],
        }
        runs: list[Run] = []
        for n in range(1, args.runs + 1):
            if args.max_load:
                wait_for_quiet(args.max_load)
            order = ("direct", "portal") if n % 2 else ("portal", "direct")
            for path in order:
                run = Run(n, path)
                print(f"run {n}: {path} ...", flush=True)
                if path == "portal":
                    sampler.active.set()
                with measured(run, groups):
                    if path == "direct":
                        direct_upload(conn, data, size, md5)
                    else:
                        portal_upload(browser, conn, project.id, data, size, md5)
                        run.sent = browser.sent_at - run.started
                sampler.active.clear()
                print(
                    f"  {run.seconds:.2f} s, {run.rate(size):.1f} MiB/s, load {run.load_end:.2f}",
                    flush=True,
                )
                runs.append(run)
        sampler.stop_event.set()
        sampler.join()
        peaks: dict[str, tuple[float, float]] = {}
        for label, procs in (("each web worker", web), ("each Celery worker", workers)):
            sampled = max(sampler.peak.get(pid, base[pid]) - base[pid] for pid in procs)
            hwm = max(vm_hwm(pid) - hwm_before[pid] for pid in procs)
            peaks[label] = (sampled / MIB, hwm / MIB)
        report(runs, size, browser.chunk_bytes, peaks)
        for note in browser.dropped:
            print(f"a chunk's connection broke, the browser asked and went on: {note}")
    except BaseException:
        for name in ("gunicorn", "celery"):
            log = work / f"{name}.log"
            if log.exists():
                print(f"--- the end of {name}.log ---\n{log.read_text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        portal.stop()
        portal.drop_database()
        for image in conn.image.images(owner=project.id):
            conn.image.delete_image(image.id)
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)
        shutil.rmtree(work, ignore_errors=True)
        if workdir.name == "bench" and not any(workdir.iterdir()):
            workdir.rmdir()


if __name__ == "__main__":
    main()
