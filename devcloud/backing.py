"""MariaDB and RabbitMQ: use the ones answering on 127.0.0.1, else start our own.

The project's machines run both before a session starts (MariaDB root through
its unix socket without a password, RabbitMQ guest/guest with a working
`rabbitmqctl` as root). devcloud only adds its databases (devcloud_*), one
database user and one RabbitMQ user with its own vhost, and `wipe` removes
exactly those. Only when nothing answers on a port does devcloud start its own
server from Debian's package, without systemd, with its files under
<state>/mariadb or <state>/rabbitmq; `down` stops only a server it started.
"""

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from devcloud import config, procs

MARIADB_DIR = config.STATE / "mariadb"
MARIADB_SOCKET = MARIADB_DIR / "mysqld.sock"
RABBITMQ_DIR = config.STATE / "rabbitmq"
RABBITMQ_PID = RABBITMQ_DIR / "rabbit.pid"


def missing_servers() -> list[str]:
    """Debian packages for the servers that are not answering (and will be ours)."""
    missing = []
    if not procs.port_open(config.MARIADB_PORT):
        missing.append("mariadb-server")
    if not procs.port_open(config.RABBITMQ_PORT):
        missing.append("rabbitmq-server")
    return missing


def ensure_running() -> None:
    if not procs.port_open(config.MARIADB_PORT):
        _start_own_mariadb()
    if not procs.port_open(config.RABBITMQ_PORT):
        _start_own_rabbitmq()
    procs.wait_until("MariaDB on 127.0.0.1:3306", lambda: procs.port_open(config.MARIADB_PORT), 60)
    procs.wait_until(
        "RabbitMQ on 127.0.0.1:5672", lambda: procs.port_open(config.RABBITMQ_PORT), 90
    )


def _start_own_mariadb() -> None:
    procs.log(f"no MariaDB on {config.HOST}:{config.MARIADB_PORT}: starting devcloud's own")
    (MARIADB_DIR / "data").mkdir(parents=True, exist_ok=True)
    config.STATE.chmod(0o755)
    shutil.chown(MARIADB_DIR, "mysql", "mysql")
    shutil.chown(MARIADB_DIR / "data", "mysql", "mysql")
    defaults = f"--defaults-file={config.ETC / 'mariadb.cnf'}"
    if not (MARIADB_DIR / "data" / "mysql").exists():
        procs.run(
            ["mariadb-install-db", defaults, "--auth-root-authentication-method=socket"],
            "mariadb-install",
        )
    procs.start("mariadb", ["/usr/sbin/mariadbd", defaults])


def _own_rabbitmq_running() -> bool:
    try:
        return Path(f"/proc/{int(RABBITMQ_PID.read_text().strip())}").exists()
    except (FileNotFoundError, ValueError):
        return False


def _rabbitmq_env() -> dict[str, str]:
    """rabbitmqctl's environment: our own node if we run one, else the machine's."""
    env = dict(os.environ)
    if _own_rabbitmq_running() or not procs.port_open(config.RABBITMQ_PORT):
        env.update(
            {
                "RABBITMQ_NODENAME": "devcloud@localhost",  # never the name of a machine's node
                "RABBITMQ_NODE_IP_ADDRESS": config.HOST,
                "RABBITMQ_NODE_PORT": str(config.RABBITMQ_PORT),
                "RABBITMQ_DIST_PORT": str(config.RABBITMQ_PORT + 20000),  # RabbitMQ's convention
                "ERL_EPMD_ADDRESS": config.HOST,
                "RABBITMQ_MNESIA_BASE": str(RABBITMQ_DIR / "mnesia"),
                "RABBITMQ_LOG_BASE": str(RABBITMQ_DIR / "log"),
                "RABBITMQ_PID_FILE": str(RABBITMQ_PID),
                "RABBITMQ_CONFIG_FILE": str(config.ETC / "rabbitmq"),  # rabbitmq.conf
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(RABBITMQ_DIR / "enabled_plugins"),
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                    "-kernel inet_dist_use_interface {127,0,0,1}"
                ),
                "HOME": "/var/lib/rabbitmq",  # the Erlang cookie
            }
        )
    return env


def _start_own_rabbitmq() -> None:
    procs.log(f"no RabbitMQ on {config.HOST}:{config.RABBITMQ_PORT}: starting devcloud's own")
    (RABBITMQ_DIR / "mnesia").mkdir(parents=True, exist_ok=True)
    (RABBITMQ_DIR / "log").mkdir(exist_ok=True)
    plugins = RABBITMQ_DIR / "enabled_plugins"
    # rabbitmq.conf sets the plugin's listener: its keys are unknown (fatal) without the plugin
    if not plugins.exists() or "rabbitmq_prometheus" not in plugins.read_text():
        plugins.write_text("[rabbitmq_prometheus].\n")
    for path in (RABBITMQ_DIR, RABBITMQ_DIR / "mnesia", RABBITMQ_DIR / "log", plugins):
        shutil.chown(path, "rabbitmq", "rabbitmq")
    config.ETC.chmod(0o755)
    (config.ETC / "rabbitmq.conf").chmod(0o644)
    env = _rabbitmq_env()
    with open(config.LOGS / "rabbitmq.out", "ab") as out:
        subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    procs.wait_until(
        "RabbitMQ on 127.0.0.1:5672", lambda: procs.port_open(config.RABBITMQ_PORT), 90
    )
    _rabbitmqctl("await_startup")


def owner_of_mariadb() -> str:
    return "started by devcloud" if procs.running_pid("mariadb") else "the machine's"


def owner_of_rabbitmq() -> str:
    return "started by devcloud" if _own_rabbitmq_running() else "the machine's"


def stop_own() -> None:
    """Stop the MariaDB / RabbitMQ that devcloud started itself; never the machine's."""
    if _own_rabbitmq_running():
        _rabbitmqctl("stop")
        procs.log("stopped devcloud's own RabbitMQ")
    if procs.stop("mariadb", grace=60):
        procs.log("stopped devcloud's own MariaDB")


def _rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args],
        env=_rabbitmq_env(),
        capture_output=True,
        text=True,
        check=check,
    )


@functools.cache
def _root_client() -> list[str]:
    """A `mariadb` command line that is root: our own socket, the default socket, or TCP."""
    candidates = [["mariadb"], ["mariadb", "-h", config.HOST, "-u", "root"]]
    if MARIADB_SOCKET.exists():
        candidates.insert(0, ["mariadb", f"--socket={MARIADB_SOCKET}"])
    for argv in candidates:
        probe = subprocess.run(
            [*argv, "-e", "SELECT 1"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return argv
    sys.exit(
        "devcloud: cannot reach MariaDB as root "
        "(tried the unix sockets and 127.0.0.1 without a password)"
    )


def root_sql(sql: str) -> str:
    result = subprocess.run(
        [*_root_client(), "-N", "-B", "-e", sql], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"devcloud: MariaDB refused: {result.stderr.strip()}")
    return result.stdout


def devcloud_sql(sql: str) -> str:
    """A query as devcloud's own database user (readiness checks)."""
    result = subprocess.run(
        ["mariadb", f"--defaults-file={config.ETC / 'mysql-client.cnf'}", "-N", "-B", "-e", sql],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"devcloud: query failed: {result.stderr.strip()}")
    return result.stdout


def database_names() -> list[str]:
    return [config.DB_PREFIX + name for name in config.DATABASES]


def ensure_accounts() -> list[str]:
    """Create our databases, database user and RabbitMQ user/vhost if missing.

    Returns the databases that had to be created (their schemas need a sync)."""
    existing = set(root_sql("SHOW DATABASES").split())
    created = [name for name in database_names() if name not in existing]
    statements = [f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4;" for name in created]
    our_databases = (
        config.DB_PREFIX.replace("_", r"\_") + "%"
    )  # a GRANT pattern: "_" would match any character
    for host in (config.HOST, "localhost"):
        account = f"'{config.DB_USER}'@'{host}'"
        statements += [
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{config.DB_PASSWORD}';",
            f"GRANT ALL PRIVILEGES ON `{our_databases}`.* TO {account};",
        ]
    statements += _monitor_account()
    root_sql("\n".join(statements))
    _ensure_rabbitmq_account()
    return created


def _monitor_account() -> list[str]:
    """mysqld-exporter's account: server status, process list, replication state and the
    performance schema; no table of any database (devcloud/prometheus.py)."""
    statements = []
    for host in (config.HOST, "localhost"):
        account = f"'{config.MONITOR_DB_USER}'@'{host}'"
        statements += [
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{config.MONITOR_DB_PASSWORD}' "
            "WITH MAX_USER_CONNECTIONS 3;",
            # MariaDB 10.5+: REPLICATION CLIENT is BINLOG MONITOR; SHOW SLAVE STATUS needs
            # REPLICA MONITOR
            f"GRANT PROCESS, REPLICATION CLIENT, REPLICA MONITOR ON *.* TO {account};",
            f"GRANT SELECT ON performance_schema.* TO {account};",
        ]
    return statements


def ensure_rabbitmq_prometheus() -> None:
    """RabbitMQ's own exporter (plugin rabbitmq_prometheus) on 127.0.0.1:15692.

    ctl.up enables it before the OpenStack services start: a queue reports its figures only if the
    statistics were on when it was declared (queues of services already running stay out of
    the metrics until those services restart). The listener address is set in the running
    node first (the machine's rabbitmq.conf is not ours; our own node's has it too)."""
    if procs.port_open(config.RABBITMQ_PROMETHEUS_PORT):
        return
    listener = f'[{{port, {config.RABBITMQ_PROMETHEUS_PORT}}}, {{ip, "{config.HOST}"}}]'
    _rabbitmqctl("eval", f"application:set_env(rabbitmq_prometheus, tcp_config, {listener}).")
    result = subprocess.run(
        ["rabbitmq-plugins", "enable", "rabbitmq_prometheus"],
        env=_rabbitmq_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"devcloud: rabbitmq-plugins enable rabbitmq_prometheus failed: {result.stderr}")
    procs.log(f"RabbitMQ plugin rabbitmq_prometheus on port {config.RABBITMQ_PROMETHEUS_PORT}")


def _ensure_rabbitmq_account() -> None:
    # one rabbitmqctl call (~1 s) on the warm path: the permissions line exists
    permissions = _rabbitmqctl("list_permissions", "-p", config.RABBIT_VHOST, check=False)
    if permissions.returncode == 0 and any(
        line.split("\t")[0] == config.RABBIT_USER for line in permissions.stdout.splitlines()
    ):
        return
    _rabbitmqctl("add_vhost", config.RABBIT_VHOST, check=False)
    if (
        _rabbitmqctl("add_user", config.RABBIT_USER, config.RABBIT_PASSWORD, check=False).returncode
        != 0
    ):
        _rabbitmqctl("change_password", config.RABBIT_USER, config.RABBIT_PASSWORD)
    _rabbitmqctl("set_permissions", "-p", config.RABBIT_VHOST, config.RABBIT_USER, ".*", ".*", ".*")


def drop_accounts() -> None:
    """Remove our databases, database user and RabbitMQ user/vhost from the running servers."""
    if procs.port_open(config.MARIADB_PORT):
        statements = [f"DROP DATABASE IF EXISTS `{name}`;" for name in database_names()]
        statements += [
            f"DROP USER IF EXISTS '{user}'@'{host}';"
            for user in (config.DB_USER, config.MONITOR_DB_USER)
            for host in (config.HOST, "localhost")
        ]
        root_sql("\n".join(statements))
        procs.log(
            f"dropped databases {', '.join(database_names())} and users {config.DB_USER}, "
            f"{config.MONITOR_DB_USER}"
        )
    if procs.port_open(config.RABBITMQ_PORT):
        _rabbitmqctl("delete_vhost", config.RABBIT_VHOST, check=False)
        _rabbitmqctl("delete_user", config.RABBIT_USER, check=False)
        procs.log(f"deleted RabbitMQ vhost {config.RABBIT_VHOST} and user {config.RABBIT_USER}")
