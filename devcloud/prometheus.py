"""Metrics of the all-in-one: Prometheus and its exporters, the way operators watch such a cloud.

Debian's packages (config.APT_PACKAGES), run as devcloud's own processes (procs.py: a session
and a PID file each, no systemd), all on 127.0.0.1:

- prometheus (config.PROMETHEUS_PORT), configured by templates/prometheus.yml, its data in
  <state>/data/prometheus (`wipe` deletes it), config.PROMETHEUS_RETENTION of it;
- prometheus-node-exporter: the host (CPU, memory, file systems, network);
- prometheus-mysqld-exporter: the MariaDB devcloud uses, as a read-only account that
  backing.ensure_accounts creates, its password in <state>/etc/mysqld-exporter.cnf (0600);
- RabbitMQ's own rabbitmq_prometheus plugin (backing.ensure_rabbitmq_prometheus) and Ceph's
  manager module `prometheus` (enable_ceph_module), scraped where they listen.

`up` starts the three processes before anything else and waits for Prometheus only at its
end (ready), so it adds next to nothing to `up`; `status` prints each scrape target's health
from Prometheus' own /api/v1/targets.
"""

import json
import urllib.error
import urllib.request

from devcloud import ceph, config, procs, render

DIR = config.DATA / "prometheus"
CONF = config.ETC / "prometheus" / "prometheus.yml"
MY_CNF = config.ETC / "mysqld-exporter.cnf"
# set once per cluster: `ceph config set` persists in the monitor's store (a bootstrap deletes
# the folder and with it the stamp)
CEPH_STAMP = ceph.DIR / ".prometheus-module"

DAEMONS = {
    "prometheus": (
        "prometheus",
        f"--config.file={CONF}",
        f"--storage.tsdb.path={DIR}",
        f"--storage.tsdb.retention.time={config.PROMETHEUS_RETENTION}",
        f"--web.listen-address={config.HOST}:{config.PROMETHEUS_PORT}",
    ),
    "node-exporter": (
        "prometheus-node-exporter",
        f"--web.listen-address={config.HOST}:{config.NODE_EXPORTER_PORT}",
        # no systemd here; the rest of the default collectors are cheap
        "--no-collector.systemd",
    ),
    "mysqld-exporter": (
        "prometheus-mysqld-exporter",
        f"--web.listen-address={config.HOST}:{config.MYSQLD_EXPORTER_PORT}",
        f"--config.my-cnf={MY_CNF}",
    ),
}
PORTS = {
    "prometheus": config.PROMETHEUS_PORT,
    "node-exporter": config.NODE_EXPORTER_PORT,
    "mysqld-exporter": config.MYSQLD_EXPORTER_PORT,
}


def write_config() -> None:
    """prometheus.yml (0640, like the rest of etc/) and the exporter's client file (0600)."""
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text(
        render.render(
            "prometheus.yml",
            SCRAPE_INTERVAL=config.PROMETHEUS_SCRAPE_INTERVAL,
            PROMETHEUS_PORT=str(config.PROMETHEUS_PORT),
            NODE_EXPORTER_PORT=str(config.NODE_EXPORTER_PORT),
            MYSQLD_EXPORTER_PORT=str(config.MYSQLD_EXPORTER_PORT),
            RABBITMQ_PROMETHEUS_PORT=str(config.RABBITMQ_PROMETHEUS_PORT),
            CEPH_PROMETHEUS_PORT=str(config.CEPH_PROMETHEUS_PORT),
        )
    )
    CONF.chmod(0o640)
    MY_CNF.touch(mode=0o600)
    MY_CNF.chmod(0o600)  # touch keeps the mode of a file that exists
    MY_CNF.write_text(
        render.render(
            "mysqld-exporter.cnf",
            MONITOR_DB_USER=config.MONITOR_DB_USER,
            MONITOR_DB_PASSWORD=config.MONITOR_DB_PASSWORD,
        )
    )


def start() -> None:
    """Start what is down; returns at once (ready() waits for Prometheus)."""
    DIR.mkdir(parents=True, exist_ok=True)
    write_config()
    for name, argv in DAEMONS.items():
        if procs.port_open(PORTS[name]) and procs.running_pid(name) is None:
            # someone else's process (a machine's exporter started by its package) holds the port
            procs.log(f"{name}: port {PORTS[name]} is taken by another process, not starting it")
            continue
        if procs.start(name, argv):
            procs.log(f"started {name} on port {PORTS[name]}")


def ready() -> None:
    procs.wait_until(
        f"Prometheus on {config.PROMETHEUS_URL}",
        lambda: procs.http_answers(f"{config.PROMETHEUS_URL}/-/ready"),
        60,
    )


def enable_ceph_module() -> None:
    """Ceph's manager serves its own metrics once its `prometheus` module is on (127.0.0.1)."""
    if CEPH_STAMP.exists():
        return
    ceph.ceph("config", "set", "mgr", "mgr/prometheus/server_addr", config.HOST)
    ceph.ceph(
        "config", "set", "mgr", "mgr/prometheus/server_port", str(config.CEPH_PROMETHEUS_PORT)
    )
    ceph.ceph("mgr", "module", "enable", "prometheus")
    procs.log(f"Ceph manager module prometheus on port {config.CEPH_PROMETHEUS_PORT}")
    CEPH_STAMP.touch()


def stop() -> None:
    for name in reversed(DAEMONS):
        if procs.stop(name):
            procs.log(f"stopped {name}")


def targets() -> list[str]:
    """`status` lines: every scrape target, up or down, with the error of its last scrape."""
    try:
        with urllib.request.urlopen(f"{config.PROMETHEUS_URL}/api/v1/targets", timeout=5) as r:
            answer = json.load(r)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return [f"prometheus targets: unavailable ({error})"]
    lines = []
    for target in sorted(answer["data"]["activeTargets"], key=lambda t: t["labels"]["job"]):
        last_error = target.get("lastError") or ""
        lines.append(
            f"prometheus target {target['labels']['job']:<11} {target['health']:<7} "
            f"{target['scrapeUrl']}" + (f"  ({last_error})" if last_error else "")
        )
    return lines
