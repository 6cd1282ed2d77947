"""The OpenStack processes of the devcloud, in start order.

SERVICES is the one list `up` starts from, in this order, and `down` stops in reverse:
  1. keystone; register.py then registers the catalog and service users while
  2. the other APIs start (uWSGI HTTP sockets on 127.0.0.1);
  3. the workers (once Ceph is ready: cinder-volume and cinder-backup open the pools at
     start-up): they authenticate to keystone at start-up and exit on HTTP 401, so on a
     fresh keystone they wait for the registration;
  4. the fake nova-computes, once placement answers (their resource provider lives there).
"""

from dataclasses import dataclass, field

from devcloud import config

ETC = config.ETC
BIN = config.VENV / "bin"


@dataclass(frozen=True)
class Wsgi:
    module: str
    processes: int
    threads: int
    settings: tuple[str, ...]  # extra uWSGI lines: how the app finds its configuration


@dataclass(frozen=True)
class Service:
    name: str
    kind: str  # "api", "worker" or "compute"
    argv: tuple[str, ...]
    port: int | None = None
    wsgi: Wsgi | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{config.HOST}:{self.port}/"


def _api(
    name: str, port: int, module: str, processes: int, *settings: str, threads: int = 1
) -> Service:
    ini = ETC / "uwsgi" / f"{name}.ini"
    wsgi = Wsgi(module, processes, threads, settings)
    return Service(name, "api", (str(BIN / "uwsgi"), "--ini", str(ini)), port, wsgi)


def _worker(name: str, *args: str) -> Service:
    return Service(
        name, "worker", (str(BIN / name), *args, "--log-file", str(config.LOGS / f"{name}.log"))
    )


def compute_name(number: int) -> str:
    return f"nova-compute{number}"


def _compute(number: int) -> Service:
    argv = (
        str(BIN / "nova-compute"),
        "--config-file",
        str(ETC / "nova" / "nova.conf"),
        "--config-file",
        str(ETC / "nova" / f"compute{number}.conf"),
    )
    # read by devcloud/nova_fake_driver.py
    capacity = {
        "DEVCLOUD_HOST_VCPUS": str(config.HOST_VCPUS),
        "DEVCLOUD_HOST_RAM_MB": str(config.HOST_RAM_MB),
        "DEVCLOUD_HOST_DISK_GB": str(config.HOST_DISK_GB),
    }
    return Service(compute_name(number), "compute", argv, env=capacity)


NOVA_SERVER_CONF = (
    "--config-file",
    str(ETC / "nova" / "nova.conf"),
    "--config-file",
    str(ETC / "nova" / "nova-db.conf"),
)
CINDER_CONF = ("--config-file", str(ETC / "cinder" / "cinder.conf"))

SERVICES = (
    # one process: its in-memory cache must be the only one (templates/keystone.conf [cache]);
    # threads for concurrency (bcrypt releases the GIL while it hashes a password)
    _api(
        "keystone",
        5000,
        "keystone.wsgi.api:application",
        1,
        f"env = OS_KEYSTONE_CONFIG_FILES={ETC}/keystone/keystone.conf",
        threads=4,
    ),
    _api(
        "placement-api",
        8778,
        "placement.wsgi.api:application",
        2,
        f"env = OS_PLACEMENT_CONFIG_DIR={ETC}/placement",
    ),
    # two processes: one streaming image upload must not hold every other Glance request
    _api(
        "glance-api",
        9292,
        "glance.wsgi.api:application",
        2,
        f"env = OS_GLANCE_CONFIG_DIR={ETC}/glance",
        # Cinder uploads a volume to an image in chunks larger than uWSGI's 1 MiB default
        # ("unable to receive chunked part", HTTP 500)
        "chunked-input-limit = 67108864",
    ),
    _api(
        "nova-api",
        8774,
        "nova.wsgi.osapi_compute:application",
        2,
        f"env = OS_NOVA_CONFIG_DIR={ETC}/nova",
        "env = OS_NOVA_CONFIG_FILES=api-paste.ini;nova.conf;nova-db.conf;nova-api.conf",
    ),
    # two processes: a portal page asks Neutron several things at once
    _api(
        "neutron-api",
        9696,
        "neutron.wsgi.api:application",
        2,
        f"env = OS_NEUTRON_CONFIG_DIR={ETC}/neutron",
    ),
    # cinder's WSGI app parses sys.argv for its configuration
    _api(
        "cinder-api",
        8776,
        "cinder.wsgi.api:application",
        1,
        f"pyargv = --config-file {ETC}/cinder/cinder.conf --log-file {config.LOGS}/cinder-api.log",
    ),
    _worker("nova-conductor", *NOVA_SERVER_CONF),
    _worker("nova-scheduler", *NOVA_SERVER_CONF),
    _worker("cinder-scheduler", *CINDER_CONF),
    _worker("cinder-volume", *CINDER_CONF),
    _worker("cinder-backup", *CINDER_CONF),
    *(_compute(number) for number in range(1, config.COMPUTES + 1)),
)


def by_name(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(name)


def of_kind(kind: str) -> list[Service]:
    return [service for service in SERVICES if service.kind == kind]
