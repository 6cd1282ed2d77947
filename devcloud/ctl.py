"""devcloud: Stackdesk's OpenStack all-in-one on 127.0.0.1 (run it as devcloud/devcloud).

  up                   install what is missing, start what is down, seed the demo data
  down                 stop every OpenStack process, Ceph and Prometheus with its exporters
                       (and a MariaDB/RabbitMQ devcloud started)
  status               every service up/down with port and PID, Ceph's health and capacity,
                       Prometheus' scrape targets, and nova's compute hosts
  wipe [--all]         down, drop devcloud's databases and broker account, delete the state
                       and with it Ceph's cluster and Prometheus' data (--all: the venv too)
  restart NAME...      re-render the configuration and restart these services (see `status`)
  restart-compute N    restart fake compute N and bring its guests back
  env                  print the shell exports for the clouds.yaml
  lock                 rebuild devcloud/requirements.lock (see README.md)

Standard library only: it runs on Debian's python3 before the venv exists.
The OpenStack API work is done by register.py, seed.py and readopt.py in the venv.
"""

import argparse
import concurrent.futures
import contextlib
import fcntl
import functools
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from devcloud import backing, ceph, config, install, procs, prometheus, render, schemas
from devcloud.services import SERVICES, Service, by_name, compute_name, of_kind

STATE_DIRS = (
    config.ETC,
    config.LOGS,
    config.RUN,
    config.RUN / "ceph",
    config.DATA / "keystone",
    config.DATA / "glance" / "images",
    config.DATA / "glance" / "staging",
    config.DATA / "glance" / "tasks",
    config.DATA / "glance" / "locks",
    config.DATA / "nova" / "locks",
    config.DATA / "neutron" / "locks",
    config.DATA / "cinder" / "locks",
    *(config.DATA / "nova" / f"compute{n}" for n in range(1, config.COMPUTES + 1)),
)


def up() -> None:
    started_at = time.monotonic()
    if ceph.lost():
        procs.log(
            "Ceph's OSD was not stopped with `devcloud down` (a crash, a kill or a reboot): "
            "memstore kept its objects in memory only, so every volume and image is gone and "
            "the cloud's databases point at nothing. Starting a fresh cloud (`wipe`, then `up`)."
        )
        wipe(everything=False)
    for directory in STATE_DIRS:
        directory.mkdir(parents=True, exist_ok=True)
    install.ensure_apt(backing.missing_servers())
    install.ensure_venv()
    installed_at = time.monotonic()

    render.write_all()
    # Prometheus and its exporters need nothing else to start (a target that is not up yet is
    # scraped again 10 s later); Prometheus is waited for at the end
    prometheus.start()
    # Ceph (about 15 s to bootstrap, 4 s to restart) comes up beside MariaDB and the schemas;
    # only cinder-volume and cinder-backup wait for it
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ceph_ready = pool.submit(timed, ceph_with_metrics)
        backing.ensure_running()
        # RabbitMQ's metrics plugin (8 s, once) beside the schemas; on before any service
        # declares its queues (a queue declared before has no figures)
        rabbitmq_metrics = pool.submit(backing.ensure_rabbitmq_prometheus)
        synced = schemas.sync(backing.ensure_accounts())
        rabbitmq_metrics.result()
        restarted_hosts = start_services("keystone" in synced, ceph_ready)
    running_at = time.monotonic()
    finish("register", venv_script("register", "volume-types"))

    # readopt and seed touch different things: run them side by side
    readopting = venv_script("readopt", *restarted_hosts) if restarted_hosts else None
    if config.SEED:
        finish("seed", venv_script("seed"))
    if readopting:
        finish("readopt", readopting)
    prometheus.ready()
    done_at = time.monotonic()

    print_access()
    procs.log(
        f"devcloud up: install {installed_at - started_at:.1f}s, "
        f"start {running_at - installed_at:.1f}s (Ceph {ceph_ready.result():.1f}s of it), "
        f"seed and readopt {done_at - running_at:.1f}s, total {done_at - started_at:.1f}s"
    )


def ceph_with_metrics() -> None:
    ceph.ensure_running()
    prometheus.enable_ceph_module()


def timed(action: Callable[[], None]) -> float:
    started_at = time.monotonic()
    action()
    return time.monotonic() - started_at


def start_services(fresh_keystone: bool, ceph_ready: concurrent.futures.Future[float]) -> list[str]:
    """Start what is down in SERVICES order; returns the compute hosts (re)started."""
    keystone = by_name("keystone")
    _start(keystone)
    procs.wait_until("keystone", lambda: procs.http_answers(keystone.url + "v3"), 120)
    # the catalog and service users are registered while the other APIs start
    register = venv_script("register")
    apis = of_kind("api")
    for service in apis[1:]:
        _start(service)
    if fresh_keystone:
        # workers authenticate at start-up and exit on HTTP 401: their users must exist first
        finish("register", register)
    ceph_ready.result()  # re-raises the SystemExit of a Ceph that did not come up
    for service in of_kind("worker"):
        _start(service)
    # computes need placement (for their resource provider) and conductor, not the other APIs
    placement = by_name("placement-api")
    procs.wait_until(placement.name, lambda: procs.http_answers(placement.url), 180)
    since, hosts = start_computes(of_kind("compute"))
    for service in apis:
        procs.wait_until(service.name, functools.partial(procs.http_answers, service.url), 180)
    procs.log("all APIs answer")
    if not fresh_keystone:
        finish("register", register)
    wait_computes(hosts, since)
    return hosts


def _start(service: Service) -> bool:
    started = procs.start(service.name, service.argv, service.env)
    if started:
        procs.log(f"started {service.name}" + (f" on port {service.port}" if service.port else ""))
    return started


def start_computes(computes: list[Service]) -> tuple[str, list[str]]:
    """Start the computes that are down: (database time before the start, their hosts)."""
    since = backing.devcloud_sql("SELECT UTC_TIMESTAMP()").strip()
    return since, [service.name.removeprefix("nova-") for service in computes if _start(service)]


def wait_computes(hosts: list[str], since: str) -> None:
    """Wait until nova sees the (re)started computes, then map new ones to cell1."""
    if hosts:
        # a compute reports in after init_host and its first resource update: then it takes builds
        procs.wait_until(
            f"{', '.join(hosts)} to report to nova",
            lambda: set(hosts) <= reported_since(since),
            180,
        )
        procs.log(f"{', '.join(hosts)} reported to nova")
    mapped = backing.devcloud_sql(f"SELECT host FROM {config.DB_PREFIX}nova_api.host_mappings")
    if not {f"compute{n}" for n in range(1, config.COMPUTES + 1)} <= set(mapped.split()):
        nova_conf = ("--config-file", str(config.ETC / "nova" / "nova.conf"))
        nova_db = ("--config-file", str(config.ETC / "nova" / "nova-db.conf"))
        nova_manage = str(config.VENV / "bin" / "nova-manage")
        procs.run(
            [nova_manage, *nova_conf, *nova_db, "cell_v2", "discover_hosts"], "discover-hosts"
        )


def reported_since(since: str) -> set[str]:
    """Compute hosts with a compute node whose service reported after `since` (UTC)."""
    nova = f"{config.DB_PREFIX}nova"
    rows = backing.devcloud_sql(
        f"SELECT s.host FROM {nova}.services s JOIN {nova}.compute_nodes c "
        f"ON c.host = s.host AND c.deleted = 0 "
        f"WHERE s.`binary` = 'nova-compute' AND s.deleted = 0 AND s.updated_at >= '{since}'"
    )
    return set(rows.split())


def down() -> None:
    started_at = time.monotonic()
    # workers and computes first, then the APIs: each group in parallel, reverse start order
    apis = list(reversed(of_kind("api")))
    others = [service for service in reversed(SERVICES) if service.kind != "api"]
    for group in (others, apis):
        with concurrent.futures.ThreadPoolExecutor(len(group)) as pool:
            for service, was_running in zip(
                group, pool.map(lambda s: procs.stop(s.name), group), strict=True
            ):
                if was_running:
                    procs.log(f"stopped {service.name}")
    prometheus.stop()
    ceph.stop()
    backing.stop_own()
    procs.log(f"devcloud down in {time.monotonic() - started_at:.1f}s")


def wipe(everything: bool) -> None:
    down()
    backing.drop_accounts()
    ceph.BRICK_KEYRING.unlink(missing_ok=True)
    if everything:
        shutil.rmtree(config.STATE, ignore_errors=True)
        procs.log(f"deleted {config.STATE}")
        return
    for path in (
        config.ETC,
        config.LOGS,
        config.RUN,
        config.DATA,
        config.STATE / "src",
        backing.MARIADB_DIR,
        backing.RABBITMQ_DIR,
    ):
        shutil.rmtree(path, ignore_errors=True)
    config.CLOUDS_YAML.unlink(missing_ok=True)
    procs.log(f"deleted the state under {config.STATE} except the venv")


def restart(names: list[str]) -> None:
    known = {service.name for service in SERVICES}
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(
            f"devcloud: unknown service {', '.join(unknown)}; one of: {', '.join(sorted(known))}"
        )
    render.write_all()
    services = [by_name(name) for name in names]
    for service in services:
        if procs.stop(service.name):
            procs.log(f"stopped {service.name}")
    for service in services:
        if service.kind != "compute":
            _start(service)
    for service in services:
        if service.port:
            procs.wait_until(service.name, functools.partial(procs.http_answers, service.url), 180)
    computes = [service for service in services if service.kind == "compute"]
    if computes:
        since, hosts = start_computes(computes)
        wait_computes(hosts, since)
        finish("readopt", venv_script("readopt", *hosts))


def status() -> int:
    """Print every service's state; 0 if all are up, 3 (as systemctl does) if any is down."""
    rss = procs.rss_by_group()
    # name, up, port, pid, resident MiB, note
    rows: list[tuple[str, bool, int | None, int | None, int, str]] = []
    for name, port, owner in (
        ("mariadb", config.MARIADB_PORT, backing.owner_of_mariadb()),
        ("rabbitmq", config.RABBITMQ_PORT, backing.owner_of_rabbitmq()),
    ):
        pid = listener_pid(port)
        rows.append((name, procs.port_open(port), port, pid, process_rss(pid), owner))
    ceph_mib = 0
    for name in ceph.DAEMONS:
        pid = procs.running_pid(name)
        mon_port = config.CEPH_MON_PORT if name == "ceph-mon" else None
        alive = pid is not None and (mon_port is None or procs.port_open(mon_port))
        mib = rss.get(pid, 0) // 2**20 if pid else 0
        ceph_mib += mib
        rows.append((name, alive, mon_port, pid, mib, ""))
    openstack_mib = 0
    for service in SERVICES:
        pid = procs.running_pid(service.name)
        alive = pid is not None and (service.port is None or procs.port_open(service.port))
        mib = rss.get(pid, 0) // 2**20 if pid else 0
        openstack_mib += mib
        rows.append((service.name, alive, service.port, pid, mib, ""))
    for name, port in prometheus.PORTS.items():
        pid = procs.running_pid(name)
        alive = pid is not None and procs.port_open(port)
        rows.append((name, alive, port, pid, rss.get(pid, 0) // 2**20 if pid else 0, ""))
    print(f"{'service':<18} {'state':<6} {'port':>5} {'pid':>8} {'RSS MiB':>8}")
    for name, alive, shown_port, shown_pid, mib, note in rows:
        state = "up" if alive else "down"
        line = f"{name:<18} {state:<6} {shown_port or '-':>5} {shown_pid or '-':>8} {mib or '-':>8}"
        line += f"  {note}"
        print(line.rstrip())
    print(f"{'Ceph total':<39} {ceph_mib:>8}")
    print(f"{'OpenStack total':<39} {openstack_mib:>8}\n")
    ceph_serves, ceph_lines = ceph.summary()
    print("\n".join(ceph_lines) + "\n")
    print("\n".join(prometheus.targets()) + "\n")
    try:
        hosts = nova_compute_services()
    except OSError as error:
        print(f"nova compute hosts: unavailable ({error})")
        return 3
    print(f"{'compute host':<14} {'state':<6} {'status':<9} {'forced down':<12} reason")
    for host in hosts:
        forced = str(host["forced_down"])
        reason = host.get("disabled_reason") or ""
        print(f"{host['host']:<14} {host['state']:<6} {host['status']:<9} {forced:<12} {reason}")
    return 0 if ceph_serves and all(row[1] for row in rows) else 3


def process_rss(pid: int | None) -> int:
    """Resident MiB of one process (MariaDB and RabbitMQ are not in our process groups)."""
    if pid is None:
        return 0
    try:
        status_text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def listener_pid(port: int) -> int | None:
    """The PID listening on 127.0.0.1:port, from ss (iproute2)."""
    output = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    marker = "pid="
    start = output.find(marker)
    return int(output[start + len(marker) :].split(",")[0]) if start >= 0 else None


def nova_compute_services() -> list[dict[str, object]]:
    """GET /os-services?binary=nova-compute as admin, with urllib (no SDK here)."""
    token = keystone_token()
    request = urllib.request.Request(
        f"http://{config.HOST}:8774/v2.1/os-services?binary=nova-compute",
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.53"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        services: list[dict[str, object]] = json.load(response)["services"]
    return sorted(services, key=lambda s: str(s["host"]))


def keystone_token() -> str:
    admin = config.ADMIN
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": admin.user,
                        "domain": {"id": "default"},
                        "password": admin.password,
                    }
                },
            },
            "scope": {"project": {"name": admin.project, "domain": {"id": "default"}}},
        }
    }
    request = urllib.request.Request(
        f"{config.KEYSTONE_URL}/auth/tokens?nocatalog",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers["X-Subject-Token"])


def print_access() -> None:
    print(f'\nclouds.yaml: {config.CLOUDS_YAML}   (eval "$(devcloud/devcloud env)")')
    print(f"{'cloud':<20} {'user':<10} {'password':<20} {'project':<16} role")
    for p in config.PERSONAS:
        print(f"{p.cloud:<20} {p.user:<10} {p.password:<20} {p.project:<16} {p.role}")
    ports = ", ".join(f"{s.name.removesuffix('-api')} {s.port}" for s in of_kind("api"))
    print(f"APIs on {config.HOST}: {ports}")
    print(f"Prometheus: {config.PROMETHEUS_URL} (STACKDESK_PROMETHEUS_URL)\n")


def env() -> None:
    clouds = " ".join(p.cloud for p in config.PERSONAS)
    print(f"export OS_CLIENT_CONFIG_FILE={config.CLOUDS_YAML}")
    print(f"# clouds: {clouds}; CLI: {config.VENV}/bin/openstack --os-cloud NAME")


def sdk_env() -> dict[str, str]:
    """Environment of the venv scripts: they import devcloud.config and read our clouds.yaml."""
    return {"PYTHONPATH": str(config.HERE.parent), "OS_CLIENT_CONFIG_FILE": str(config.CLOUDS_YAML)}


def venv_script(module: str, *args: str) -> subprocess.Popen[str]:
    """Start devcloud/<module>.py in the venv (openstacksdk); finish() collects it."""
    return subprocess.Popen(
        [str(config.VENV / "bin" / "python"), "-m", f"devcloud.{module}", *args],
        env=procs.service_env(sdk_env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(module: str, script: subprocess.Popen[str]) -> None:
    """Wait for devcloud/<module>.py, log its output to the terminal and logs/<module>.log."""
    output, _ = script.communicate()
    with open(config.LOGS / f"{module}.log", "a") as log_file:
        log_file.write(output)
    if script.returncode != 0:
        sys.exit(f"devcloud: {module}.py failed:\n{output}")
    for line in output.splitlines():
        procs.log(line)


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `devcloud status | head` ends quietly
    parser = argparse.ArgumentParser(
        prog="devcloud", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up")
    commands.add_parser("down")
    commands.add_parser("status")
    commands.add_parser("wipe").add_argument(
        "--all", action="store_true", help="also delete the venv"
    )
    commands.add_parser("restart").add_argument("names", nargs="+", metavar="NAME")
    commands.add_parser("restart-compute").add_argument("number", type=int, metavar="N")
    commands.add_parser("env")
    commands.add_parser("lock")
    args = parser.parse_args()
    if args.command == "status":
        sys.exit(status())
    if args.command == "env":
        env()
        return
    with one_at_a_time():
        if args.command == "up":
            up()
        elif args.command == "down":
            down()
        elif args.command == "wipe":
            wipe(args.all)
        elif args.command == "restart":
            restart(args.names)
        elif args.command == "restart-compute":
            restart([compute_name(args.number)])
        elif args.command == "lock":
            install.write_lock()


@contextlib.contextmanager
def one_at_a_time() -> Iterator[None]:
    """Commands that change the cloud wait for each other (the machine is shared)."""
    config.LOGS.mkdir(parents=True, exist_ok=True)
    with open(config.STATE / ".devcloud.lock", "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            procs.log("waiting for another devcloud command to finish")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


if __name__ == "__main__":
    main()
