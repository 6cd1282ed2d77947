"""The portal beside Horizon 27.0.0 on the all-in-one cloud, in one run (by hand; not a test).

    eval "$(bin/services)"
    .venv/bin/python tests/benchmarks/bench_vs_horizon.py [--sizes 50,200] [--with-1000]
        [--views 15] [--warmups 2] [--json results.json]
    .venv/bin/python tests/benchmarks/bench_vs_horizon.py --concurrency [--users 50]
        [--seconds 60] [--servers 50]

What it runs, all on 127.0.0.1 (docs/performance.md has the method and the numbers):

- Horizon 27.0.0 from PyPI in its own venv under the devcloud's state folder
  (tests/benchmarks/horizon.py: installed once, under devcloud/constraints.txt), twice: "stock"
  (futurist 3.5.0, as the upper-constraints pin it) and "fixed" (futurist 3.1.0), each under
  gunicorn with 2 sync workers;
- the portal at the commit checked out (`git archive HEAD` into a temporary folder, so edits in
  the working tree are not measured) under gunicorn, 2 processes x 4 threads, and one Celery
  worker, on a database of its own (`stackdesk_vs_horizon`) and REDIS_URL;
- all three under tests/benchmarks/count_upstream.py, which logs every OpenStack call a
  server sends: the upstream calls per view by service are counted the same way for both.

A throwaway project (`vsh-<hex>`, its own member user; quotas raised for it alone) is filled
with N servers on the fake driver (20 run on m1.nano, the rest ask for x1.oversize and end
in ERROR at once, so the shared hypervisors are not filled); the devcloud admin signs in for
the admin pages. Each tool gets the same users, signed in through its own form (CSRF
included). For each N, after `warmups` untimed rounds, every round views every page once per
tool, in a rotating tool order, until each page has `views` timings per tool. A portal page
time includes the htmx partials the page loads at once (hx-trigger="load"), fetched in
parallel as a browser does. The project and its servers are deleted at the end.

--concurrency: the portal alone (2 processes, 1 worker) with `servers` servers; first the
single-user p95 of the instances, overview and networks pages, then `users` signed-in users
(locust, tests/benchmarks/vs_horizon_load.py, in a subprocess: locust patches the standard
library with gevent) over the same pages for `seconds`; prints errors and p95 against the
single-user p95.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import django
import psycopg2  # type: ignore[import-untyped]
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from tests.benchmarks import horizon  # noqa: E402 (after the path is set)

VENV = ROOT / ".venv" / "bin"
COUNTER_CONF = ROOT / "tests" / "benchmarks" / "count_upstream.py"
DEVCLOUD_CLOUDS = horizon.DEVCLOUD_STATE / "clouds.yaml"
SERVICE_CLOUD = "devcloud-stackdesk"
BENCH_DB = "stackdesk_vs_horizon"
PORTS = {
    5000: "keystone",
    8774: "nova",
    9696: "neutron",
    9292: "glance",
    8776: "cinder",
    8778: "placement",
}
TOOLS = ("portal", "horizon stock", "horizon fixed")
# page, persona, portal path, Horizon path
PAGES = (
    ("Project › Instances", "member", "/compute/servers/", "/project/instances/"),
    ("Project › Overview", "member", "/project/overview/", "/project/"),
    ("Project › Networks", "member", "/network/networks/", "/project/networks/"),
    (
        "Project › Security Groups",
        "member",
        "/network/security-groups/",
        "/project/security_groups/",
    ),
    ("Admin › Instances", "admin", "/compute/admin/servers/", "/admin/instances/"),
    ("Admin › Hypervisors", "admin", "/compute/admin/hypervisors/", "/admin/hypervisors/"),
    ("Identity › Projects", "admin", "/project/identity/projects/", "/identity/"),
)
LOAD_PARTIAL = re.compile(r"<[^>]*\bhx-get=\"([^\"]+)\"[^>]*\bhx-trigger=\"[^\"]*\bload\b[^>]*>")
HTMX = {"HX-Request": "true"}
SAVE_HTML: Path | None = None


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


# Where the machine's CPU goes during the load run: process groups by a word of their command.
CPU_GROUPS = (
    ("portal (gunicorn)", "gunicorn"),
    ("portal worker (celery)", "celery"),
    ("locust", "vs_horizon_load"),
    ("nova", "nova-"),
    ("neutron", "neutron-"),
    ("keystone", "keystone"),
    ("glance", "glance-"),
    ("placement", "placement-"),
    ("cinder", "cinder-"),
    ("PostgreSQL", "postgres"),
    ("Redis", "redis-server"),
    ("MariaDB", "mariadbd"),
    ("RabbitMQ", "beam.smp"),
    ("Ceph", "ceph-"),
)


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) each group's live processes have used so far (/proc)."""
    tick, used = os.sysconf("SC_CLK_TCK"), dict.fromkeys([g for g, _ in CPU_GROUPS], 0.0)
    used["other"] = 0.0
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # not a process, or gone meanwhile
        group = next((name for name, word in CPU_GROUPS if word in command), "other")
        used[group] += (int(fields[11]) + int(fields[12])) / tick
    return used


# --- servers ---------------------------------------------------------------------------------


def fill(conn: Any, network_id: str, target: int, batch: int, active_cap: int) -> None:
    """Launch `vsh-NNNN` servers until the project has `target` (as bench_instances_page.py
    does): the first `active_cap` run on m1.nano, the rest ask for x1.oversize, which no host
    can take, and end in ERROR at once (Nova lists them like any other, with their fault)."""
    nano = conn.compute.find_flavor("m1.nano")
    nowhere = conn.compute.find_flavor("x1.oversize")
    image = conn.image.find_image("tiny-qcow2")
    have = sum(1 for _ in conn.compute.servers(details=False))
    started = time.monotonic()
    while have < target:
        flavor = nano if have < active_cap else nowhere
        count = min(batch, (min(active_cap, target) if have < active_cap else target) - have)
        conn.compute.create_server(
            name=f"vsh-{have:04d}",
            flavor_id=flavor.id,
            image_id=image.id,
            networks=[{"uuid": network_id}],
            min_count=count,
            max_count=count,
        )
        have += count
        deadline = time.monotonic() + 300  # a BUILD server is listed like any other
        while time.monotonic() < deadline and any(
            True for _ in conn.compute.servers(status="BUILD", details=False)
        ):
            time.sleep(2)
    states = Counter(s.status for s in conn.compute.servers())
    print(f"  filled to {target} in {time.monotonic() - started:.0f} s: {dict(states)}", flush=True)


# --- the servers under test ------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    calls: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def offset(self) -> int:
        return self.calls.stat().st_size if self.calls.exists() else 0

    def calls_since(self, offset: int) -> Counter[str]:
        if not self.calls.exists():
            return Counter()
        with self.calls.open("rb") as f:
            f.seek(offset)
            lines = f.read().decode().splitlines()
        return Counter(PORTS.get(int(line.split()[0]), line.split()[0]) for line in lines if line)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def export_head(workdir: Path) -> tuple[str, Path]:
    """The committed tree (HEAD) in a folder of its own: what the run measures."""
    commit = subprocess.run(  # noqa: S603 (git, our own repository)
        ["git", "rev-parse", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,  # noqa: S607
    ).stdout.strip()
    tree = workdir / "portal"
    tree.mkdir()
    archive = workdir / "head.tar"
    subprocess.run(  # noqa: S603
        ["git", "archive", "--format=tar", f"--output={archive}", commit],  # noqa: S607
        cwd=ROOT,
        check=True,
    )
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tree)], check=True)  # noqa: S603, S607
    archive.unlink()
    return commit, tree


def bench_database(url: str) -> str:
    parts = urlsplit(url)
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f"create database {BENCH_DB}")
    conn.close()
    return urlunsplit(parts._replace(path="/" + BENCH_DB))


def start_portal(tree: Path, workdir: Path, entries: dict[str, Any]) -> Server:
    """The portal as deployed: gunicorn (2 processes x 4 threads) and one Celery worker."""
    admin = entries["devcloud-admin"]
    clouds = workdir / "portal-clouds.yaml"
    clouds.write_text(
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
    state = workdir / "portal-state"
    state.mkdir(mode=0o700)
    calls = workdir / "portal.calls"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": bench_database(os.environ["DATABASE_URL"]),
        "REDIS_URL": os.environ["REDIS_URL"],
        "STACKDESK_STATE": str(state),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "STACKDESK_SERVICE_CLOUD": SERVICE_CLOUD,
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "BENCH_UPSTREAM_LOG": str(calls),
    }
    env.pop("PYTHONPATH", None)
    subprocess.run(  # noqa: S603 (our own manage.py)
        [str(VENV / "python"), "manage.py", "migrate", "-v0"], cwd=tree, env=env, check=True
    )
    port = free_port()
    log = (workdir / "portal.log").open("ab")
    web = subprocess.Popen(  # noqa: S603 (our own gunicorn)
        [
            str(VENV / "gunicorn"),
            "portal.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--threads=4",
            "--timeout=120",
            "--keep-alive=75",  # as bin/demo: longer than a person's pause between pages
            "--no-control-socket",
            f"--config={COUNTER_CONF}",
        ],
        cwd=tree,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker_env = {k: v for k, v in env.items() if k != "BENCH_UPSTREAM_LOG"}
    worker = subprocess.Popen(  # noqa: S603 (our own Celery worker)
        [
            str(VENV / "celery"),
            "-A",
            "portal",
            "worker",
            "-B",
            "--concurrency=1",
            "--loglevel=WARNING",
            f"--schedule={workdir / 'celerybeat-schedule'}",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=tree,
        env=worker_env,
        stdout=(workdir / "worker.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    server = Server("portal", f"http://127.0.0.1:{port}", calls, [web, worker])
    horizon.wait_until_up(server.url + "/healthz", web, workdir / "portal.log")
    return server


def start_horizon(fixed: bool, workdir: Path) -> Server:
    name = "horizon fixed" if fixed else "horizon stock"
    log = workdir / (name.replace(" ", "-") + ".log")
    port = free_port()
    proc = horizon.start(port, fixed, log, COUNTER_CONF, workers=2)
    return Server(name, f"http://127.0.0.1:{port}", log.with_suffix(".calls"), [proc])


# --- signing in and viewing ------------------------------------------------------------------


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise SystemExit("no CSRF token on the sign-in form")
    return found.group(1)


def sign_in_portal(url: str, username: str, password: str, project_id: str) -> requests.Session:
    session = requests.Session()
    form = session.get(url + "/auth/sign-in/")
    response = session.post(
        url + "/auth/sign-in/",
        {
            "csrfmiddlewaretoken": csrf_token(form.text),
            "method": "password",
            "cloud": "devcloud:RegionOne",
            "username": username,
            "password": password,
            "domain": "Default",
        },
    )
    if urlsplit(response.url).path == "/auth/project/":
        response = session.post(
            url + "/auth/project/",
            {"csrfmiddlewaretoken": csrf_token(response.text), "project_id": project_id},
        )
    if "/auth/" in urlsplit(response.url).path:
        raise SystemExit(f"portal sign-in of {username} failed: {response.url}")
    return session


def sign_in_horizon(url: str, username: str, password: str, project_id: str) -> requests.Session:
    session = requests.Session()
    form = session.get(url + "/auth/login/")
    region = re.search(r'name="region" value="([^"]*)"', form.text)
    response = session.post(
        url + "/auth/login/",
        {
            "csrfmiddlewaretoken": csrf_token(form.text),
            "region": region.group(1) if region else "",
            "username": username,
            "password": password,
        },
    )
    if "/auth/login/" in response.url:
        raise SystemExit(f"Horizon sign-in of {username} failed")
    # Horizon scopes the session to a project of its choosing: switch to the one we mean.
    session.get(f"{url}/auth/switch/{project_id}/?next=/project/")
    return session


@dataclass
class View:
    seconds: float
    calls: Counter[str]
    ok: bool


def view(server: Server, session: requests.Session, path: str) -> View:
    """One page view as a browser makes it: the document, then (portal) the partials it loads
    at once, in parallel. Counts the upstream calls the server made meanwhile."""
    offset = server.offset()
    started = time.perf_counter()
    response = session.get(server.url + path, timeout=300)
    ok = response.status_code == 200 and not re.search(r"/auth/(login|sign-in)/", response.url)
    partials = [
        urljoin(server.url + path, p.replace("&amp;", "&"))
        for p in LOAD_PARTIAL.findall(response.text)
    ]
    if partials:
        with ThreadPoolExecutor(len(partials)) as pool:
            done = list(pool.map(lambda u: session.get(u, headers=HTMX, timeout=300), partials))
        ok = ok and all(r.status_code == 200 for r in done)
    seconds = time.perf_counter() - started
    if SAVE_HTML:  # the last view of each page, to look at what each tool showed
        name = f"{server.name}{path}".replace("/", "_").replace(" ", "-")
        (SAVE_HTML / f"{name}.html").write_text(response.text)
    return View(seconds, server.calls_since(offset), ok)


def measure(
    servers: list[Server],
    sessions: dict[tuple[str, str], requests.Session],
    views: int,
    warmups: int,
) -> dict[str, dict[str, list[View]]]:
    results: dict[str, dict[str, list[View]]] = {p[0]: {s.name: [] for s in servers} for p in PAGES}
    for round_ in range(warmups + views):
        for page, persona, portal_path, horizon_path in PAGES:
            shift = round_ % len(servers)  # rotate which tool goes first
            for server in servers[shift:] + servers[:shift]:
                path = portal_path if server.name == "portal" else horizon_path
                result = view(server, sessions[(server.name, persona)], path)
                if round_ >= warmups:
                    results[page][server.name].append(result)
        print(f"  round {round_ + 1}/{warmups + views}", end="\r", flush=True)
    print()
    return results


def summarize(results: dict[str, dict[str, list[View]]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for page, by_tool in results.items():
        summary[page] = {}
        for tool, views in by_tool.items():
            good = [v for v in views if v.ok]
            times = [v.seconds * 1000 for v in good] or [float("nan")]
            counts: Counter[str] = Counter()
            for v in good:
                counts.update(v.calls)
            summary[page][tool] = {
                "median_ms": statistics.median(times),
                "p95_ms": percentile(times, 95),
                "failed": len(views) - len(good),
                "calls": {k: round(n / max(1, len(good)), 1) for k, n in sorted(counts.items())},
                "constant": len({tuple(sorted(v.calls.items())) for v in good}) <= 1,
            }
    return summary


def print_summary(n: int, summary: dict[str, dict[str, Any]]) -> None:
    print(f"\nN={n} servers  (ms; upstream calls per view by service)")
    print(f"{'page':<27}{'tool':<15}{'median':>8}{'p95':>8}  calls per view")
    for page, by_tool in summary.items():
        for i, (tool, s) in enumerate(by_tool.items()):
            calls = ", ".join(f"{k} {v:g}" for k, v in s["calls"].items()) or "none"
            flags = ("" if s["constant"] else " (varying)") + (
                f" FAILED {s['failed']}" if s["failed"] else ""
            )
            print(
                f"{page if i == 0 else '':<27}{tool:<15}{s['median_ms']:8.0f}{s['p95_ms']:8.0f}"
                f"  {calls}{flags}"
            )
        portal = by_tool["portal"]["median_ms"]
        stock = by_tool["horizon stock"]["median_ms"] / portal
        fixed = by_tool["horizon fixed"]["median_ms"] / portal
        print(
            f"{'':<27}{'ratio':<15}  portal {stock:.1f}x faster than stock, {fixed:.1f}x than fixed"
        )


# --- the run ---------------------------------------------------------------------------------


def run_comparison(args: argparse.Namespace, entries: dict[str, Any], workdir: Path) -> None:
    django.setup()  # portal.metrics (via tests.conftest) wants the settings loaded first
    from tests.conftest import Tenant, sdk

    print(horizon.install(entries["devcloud-admin"]["auth"]["auth_url"]), end="", flush=True)
    commit, tree = export_head(workdir)
    print(f"portal at commit {commit}", flush=True)
    sizes = [int(n) for n in args.sizes.split(",")] + ([1000] if args.with_1000 else [])
    admin = sdk("admin")
    admin_auth = entries["devcloud-admin"]["auth"]
    admin_project = admin.identity.find_project(admin_auth["project_name"], domain_id="default")
    servers: list[Server] = []
    tenant = Tenant(admin, "vsh", ("member", "reader"))
    all_results: dict[str, Any] = {"commit": commit, "horizon": horizon.installed(), "sizes": {}}
    try:
        top = max(sizes) + 20
        admin.set_compute_quotas(tenant.project.id, instances=top, cores=-1, ram=-1)
        admin.set_network_quotas(tenant.project.id, ports=top + 50)
        net = tenant.conn.network.create_network(name="vsh-net")
        tenant.conn.network.create_subnet(
            network_id=net.id, ip_version=4, cidr="10.71.0.0/20", name="vsh-net"
        )
        servers = [
            start_portal(tree, workdir, entries),
            start_horizon(False, workdir),
            start_horizon(True, workdir),
        ]
        users = {
            "member": (tenant.username, tenant.password, tenant.project.id),
            "admin": (admin_auth["username"], admin_auth["password"], admin_project.id),
        }
        sessions = {}
        for server in servers:
            sign_in = sign_in_portal if server.name == "portal" else sign_in_horizon
            for persona, (username, password, project_id) in users.items():
                sessions[(server.name, persona)] = sign_in(
                    server.url, username, password, project_id
                )
        print(
            f"servers up: {', '.join(f'{s.name} {s.url}' for s in servers)}; "
            f"{args.views} views per page and tool after {args.warmups} warm-up rounds",
            flush=True,
        )
        for n in sizes:
            fill(tenant.conn, net.id, n, args.batch, args.active)
            summary = summarize(measure(servers, sessions, args.views, args.warmups))
            print_summary(n, summary)
            all_results["sizes"][str(n)] = summary
            if args.json:
                Path(args.json).write_text(json.dumps(all_results, indent=1))
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            started = time.monotonic()
            tenant.cleanup()
            print(f"cleaned up in {time.monotonic() - started:.0f} s")


def run_concurrency(args: argparse.Namespace, entries: dict[str, Any], workdir: Path) -> int:
    django.setup()  # portal.metrics (via tests.conftest) wants the settings loaded first
    from tests.conftest import Tenant, sdk

    commit, tree = export_head(workdir)
    print(f"portal at commit {commit}", flush=True)
    admin = sdk("admin")
    tenant = Tenant(admin, "vsh", ("member", "reader"))
    portal: Server | None = None
    try:
        admin.set_compute_quotas(tenant.project.id, instances=args.servers + 20, cores=-1, ram=-1)
        admin.set_network_quotas(tenant.project.id, ports=args.servers + 70)
        net = tenant.conn.network.create_network(name="vsh-net")
        tenant.conn.network.create_subnet(
            network_id=net.id, ip_version=4, cidr="10.71.0.0/20", name="vsh-net"
        )
        fill(tenant.conn, net.id, args.servers, args.batch, args.active)
        portal = start_portal(tree, workdir, entries)
        session = sign_in_portal(portal.url, tenant.username, tenant.password, tenant.project.id)
        single: dict[str, list[float]] = {}
        paths = {
            "instances": "/compute/servers/",
            "overview": "/project/overview/",
            "networks": "/network/networks/",
        }
        pause = random.Random(14)  # noqa: S311 (think time, not a secret)
        for round_ in range(args.warmups + args.views):
            for name, path in paths.items():
                time.sleep(pause.uniform(1, 3))  # between pages as the load's users do
                started = time.perf_counter()  # as locust times it: the whole response
                response = session.get(portal.url + path)
                requests_made = [(name, time.perf_counter() - started)]
                for partial in LOAD_PARTIAL.findall(response.text):
                    started = time.perf_counter()
                    session.get(urljoin(portal.url + path, partial), headers=HTMX)
                    took = time.perf_counter() - started
                    requests_made.append((f"{name} {urlsplit(partial).path}", took))
                if round_ >= args.warmups:
                    for key, seconds in requests_made:
                        single.setdefault(key, []).append(seconds * 1000)
        out = workdir / "load.json"
        cpu_before, started = cpu_seconds(), time.monotonic()
        subprocess.run(  # noqa: S603 (our own locust runner)
            [
                str(VENV / "python"),
                str(ROOT / "tests" / "benchmarks" / "vs_horizon_load.py"),
                f"--host={portal.url}",
                f"--users={args.users}",
                f"--seconds={args.seconds}",
                f"--username={tenant.username}",
                f"--password={tenant.password}",
                f"--out={out}",
            ],
            check=True,
        )
        cpu = {g: t - cpu_before[g] for g, t in cpu_seconds().items()}  # ended ones: not counted
        elapsed = time.monotonic() - started
        load = json.loads(out.read_text())
        print(
            f"\nportal (2 gunicorn processes x 4 threads, 1 worker), {args.servers} servers: "
            f"{args.users} users for {args.seconds:.0f} s, {load['requests']} requests "
            f"({load['requests'] / load['seconds']:.1f}/s), {load['failures']} failures"
        )
        print(
            f"{'request':<40}{'single p95':>11}{'load p95':>10}{'ratio':>7}"
            f"{'load n':>8}{'errors':>8}"
        )
        for key, values in single.items():
            entry = load["entries"].get(key)
            if not entry:
                continue
            one = percentile(values, 95)
            print(
                f"{key:<40}{one:11.0f}{entry['p95']:10.0f}{entry['p95'] / one:7.1f}"
                f"{entry['requests']:8}{entry['failures']:8}"
            )
        for key, entry in load["entries"].items():  # signing in: no single-user figure
            if key not in single:
                print(
                    f"{key:<40}{'-':>11}{entry['p95']:10.0f}{'-':>7}"
                    f"{entry['requests']:8}{entry['failures']:8}"
                )
        for error in load["errors"]:
            print(f"  {error}")
        print(f"CPU during the load ({os.cpu_count()} cores, {elapsed:.0f} s, sign-ins included):")
        for group, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
            print(f"  {group:<24}{seconds:8.1f} s {seconds / elapsed:6.2f} cores")
        return 1 if load["failures"] else 0
    finally:
        if portal:
            portal.stop()
        if not args.keep:
            tenant.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,200")
    parser.add_argument("--with-1000", action="store_true", help="also at 1,000 servers (slow)")
    parser.add_argument("--views", type=int, default=15, help="timed views per page and tool")
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--active", type=int, default=20, help="servers that really run")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="leave the project and servers")
    parser.add_argument("--save-html", type=Path, help="keep each page's last view here")
    parser.add_argument("--concurrency", action="store_true", help="the load run, portal only")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--servers", type=int, default=50)
    args = parser.parse_args()
    global SAVE_HTML  # noqa: PLW0603 (a run-wide switch set once here)
    SAVE_HTML = args.save_html
    if SAVE_HTML:
        SAVE_HTML.mkdir(parents=True, exist_ok=True)
    if not DEVCLOUD_CLOUDS.exists():
        raise SystemExit(f"{DEVCLOUD_CLOUDS} is missing: start the cloud (devcloud/devcloud up)")
    entries = yaml.safe_load(DEVCLOUD_CLOUDS.read_text())["clouds"]
    with tempfile.TemporaryDirectory(prefix="stackdesk-vs-horizon-") as tmp:
        workdir = Path(tmp)
        if args.concurrency:
            return run_concurrency(args, entries, workdir)
        run_comparison(args, entries, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
