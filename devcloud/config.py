"""Every devcloud setting in one place: paths, ports, accounts, capacity.

Read by ctl.py (Debian's python3, stdlib only) and by register.py, seed.py and
readopt.py (the venv's python, with openstacksdk). Values that a run may want
to change come from the environment; everything else is a constant here.
The passwords are demo passwords for a cloud bound to 127.0.0.1: they are
printed by `devcloud up` and written to <state>/clouds.yaml on purpose.
"""

import os
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
LOCK_FILE = HERE / "requirements.lock"
CONSTRAINTS_FILE = HERE / "constraints.txt"
ML2_PACKAGE = HERE / "ml2_bind_all"
NOVA_DRIVER_FILE = HERE / "nova_fake_driver.py"

STATE = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud"))
VENV = STATE / "venv"
ETC = STATE / "etc"
LOGS = STATE / "logs"
RUN = STATE / "run"
DATA = STATE / "data"
CLOUDS_YAML = STATE / "clouds.yaml"
SYSTEM_PYTHON = "/usr/bin/python3"

# Keystone's token lifetime; a test restarts keystone with a short one to prove
# that long jobs survive token expiry (`DEVCLOUD_TOKEN_EXPIRATION=120 devcloud restart keystone`).
TOKEN_EXPIRATION = int(os.environ.get("DEVCLOUD_TOKEN_EXPIRATION", "3600"))

# DEVCLOUD_SEED=0: no demo projects, networks or servers (the catalog is still registered)
SEED = os.environ.get("DEVCLOUD_SEED", "1") != "0"

# Fake hypervisors: a "was_atw" flavor (4 vCPU / 16 GiB / 200 GB) fits on one,
# the 64 GiB "x1.oversize" flavor fits on none ("No valid host was found").
COMPUTES = int(os.environ.get("DEVCLOUD_COMPUTES", "3"))
HOST_VCPUS = int(os.environ.get("DEVCLOUD_HOST_VCPUS", "16"))
HOST_RAM_MB = int(os.environ.get("DEVCLOUD_HOST_RAM_MB", "32768"))
HOST_DISK_GB = int(os.environ.get("DEVCLOUD_HOST_DISK_GB", "500"))

HOST = "127.0.0.1"
REGION = "RegionOne"
KEYSTONE_URL = f"http://{HOST}:5000/v3"

# Python packages the lock is built from (`devcloud lock`); a machine installs
# requirements.lock, never this list.
PACKAGES = (
    "keystone==30.0.0",
    "glance==33.0.0",
    "openstack-placement==16.0.0",
    "nova==34.0.0",
    "neutron==29.0.0",
    "cinder==29.0.0",
    "uwsgi",
    "PyMySQL",
    "python-memcached",
    # neutron 29.0.0 imports pyroute2 but does not declare it
    "pyroute2",
    "openstacksdk",
    "python-openstackclient",
)

# Debian packages: always needed, and the servers only when none answers.
APT_PACKAGES = (
    "qemu-utils",
    "python3-venv",
    "python3-dev",
    "build-essential",
    "libssl-dev",
    "libffi-dev",
    "pkg-config",
    "curl",
    "iproute2",
    "procps",
    "mariadb-client",
    # Ceph for Cinder and Glance (devcloud/ceph.py); install.py links the Python bindings
    # of the last two into the venv (same interpreter: Debian's python3)
    "ceph-mon",
    "ceph-osd",
    "ceph-mgr",
    "ceph-common",
    "python3-rados",
    "python3-rbd",
    # metrics (devcloud/prometheus.py): Prometheus and two exporters; RabbitMQ and Ceph's
    # manager export their own
    "prometheus",
    "prometheus-node-exporter",
    "prometheus-mysqld-exporter",
)
MARIADB_PORT = 3306
RABBITMQ_PORT = 5672

# Our share of a MariaDB / RabbitMQ that may serve others too: wipe drops only these.
DB_USER = "devcloud"
DB_PASSWORD = "devcloud-db-password"
DB_PREFIX = "devcloud_"
DATABASES = (
    "keystone",
    "placement",
    "glance",
    "nova_api",
    "nova",
    "nova_cell0",
    "neutron",
    "cinder",
)
DB_URL = f"mysql+pymysql://{DB_USER}:{DB_PASSWORD}@{HOST}:{MARIADB_PORT}"
RABBIT_USER = "devcloud"
RABBIT_PASSWORD = "devcloud-rabbit-password"
RABBIT_VHOST = "devcloud"
RABBIT_URL = f"rabbit://{RABBIT_USER}:{RABBIT_PASSWORD}@{HOST}:{RABBITMQ_PORT}/{RABBIT_VHOST}"

# One-node Ceph (devcloud/ceph.py): the monitor's port, and the memstore OSD's capacity. The
# OSD keeps its objects in RAM and allocates only what is written (RBD images are thin), so
# this is a ceiling on Ceph's data in memory, not a reservation; Cinder sees it as the pool size.
CEPH_MON_PORT = int(os.environ.get("DEVCLOUD_CEPH_MON_PORT", "3300"))
CEPH_MEMSTORE_GB = int(os.environ.get("DEVCLOUD_CEPH_MEMSTORE_GB", "3"))
CEPH_POOLS = ("volumes", "images", "backups")
# cephx users -> OSD capabilities (and `profile rbd` on the monitor and manager). Cinder
# clones Glance's images (read-only there) and cinder-backup writes to the backups pool.
CEPH_USERS = {
    "cinder": (
        "profile rbd pool=volumes, profile rbd pool=backups, profile rbd-read-only pool=images"
    ),
    "glance": "profile rbd pool=images",
}

# Metrics (devcloud/prometheus.py), all on 127.0.0.1: Prometheus (not its default 9090, which
# a machine's own Prometheus may hold), the exporters on their registered ports; RabbitMQ's
# rabbitmq_prometheus plugin and Ceph's manager module on theirs. Short retention: the data is
# for the portal's System Health, not for history.
PROMETHEUS_PORT = int(os.environ.get("DEVCLOUD_PROMETHEUS_PORT", "9099"))
PROMETHEUS_URL = f"http://{HOST}:{PROMETHEUS_PORT}"
PROMETHEUS_RETENTION = os.environ.get("DEVCLOUD_PROMETHEUS_RETENTION", "2d")
PROMETHEUS_SCRAPE_INTERVAL = "10s"
NODE_EXPORTER_PORT = 9100
MYSQLD_EXPORTER_PORT = 9104
RABBITMQ_PROMETHEUS_PORT = 15692
CEPH_PROMETHEUS_PORT = 9283
# mysqld-exporter's database account: reads server status and the performance schema, no data
MONITOR_DB_USER = "devcloud_monitor"
MONITOR_DB_PASSWORD = "devcloud-monitor-password"

# OpenStack service users (project "service", roles admin + service)
SERVICE_PROJECT = "service"
SERVICE_PASSWORD = "service-password"
SERVICE_USERS = ("glance", "placement", "nova", "neutron", "cinder")


@dataclass(frozen=True)
class Persona:
    cloud: str  # entry in clouds.yaml
    user: str
    password: str
    project: str
    role: str


# One clouds.yaml entry per persona. `admin` is keystone's bootstrap user,
# `stackdesk` is the portal's own service user (trustee of Keystone trusts).
PERSONAS = (
    Persona("devcloud-admin", "admin", "admin-password", "admin", "admin"),
    Persona("devcloud-member", "demo", "demo-password", "demo", "member"),
    Persona("devcloud-study1", "study1", "study1-password", "study1", "member"),
    Persona("devcloud-reader", "reader", "reader-password", "demo", "reader"),
    Persona("devcloud-vworld", "vworld", "vworld-password", "vworld-project", "member"),
    Persona("devcloud-stackdesk", "stackdesk", "stackdesk-password", SERVICE_PROJECT, "service"),
)
ADMIN = PERSONAS[0]


def persona(cloud: str) -> Persona:
    return next(p for p in PERSONAS if p.cloud == cloud)
