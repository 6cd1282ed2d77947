"""One-node Ceph under Cinder and Glance: a monitor, a manager and one memstore OSD on 127.0.0.1.

Debian's packages (config.APT_PACKAGES), run as devcloud's own processes (procs.py: a session
and a PID file each, no systemd), configured by templates/ceph.conf. Everything lives under
<state>/data/ceph: the monitor's store, the OSD's and manager's folders and the cephx keyrings
(client.admin for devcloud and the tests, client.cinder, client.glance).

The OSD is memstore: objects in RAM (only what is written: RBD images are thin), capacity
config.CEPH_MEMSTORE_GB. It writes its objects to <state>/data/ceph/osd.0 when it stops
cleanly (`down`, SIGTERM) and reads them back at start; a crash, a kill or a reboot without
`down` loses them. A marker written after a clean stop (and deleted when the OSD starts) tells
the two apart: without it every volume and image of the cloud is gone, its databases point at
nothing, and `up` starts a fresh cloud (ctl.up: `wipe`, then the usual start).

`up` bootstraps the cluster once (about 15 s, in parallel with the database schemas), later
only starts what is down and waits until the placement groups are active. The manager is
required: without it `ceph df` reports no free space and Cinder's scheduler refuses volumes.
"""

import hashlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from devcloud import config, procs

DIR = config.DATA / "ceph"
CONF = config.ETC / "ceph" / "ceph.conf"
BOOTSTRAPPED = DIR / ".bootstrapped"  # holds the cluster's fsid
# written once the OSD has saved its objects and exited at `stop`; deleted when it starts
STOPPED_CLEANLY = DIR / ".osd-saved"
POOLS_STAMP = DIR / ".pools-users.sha256"
# os-brick (Cinder's volume upload and cinder-backup open a volume through it) reads the
# user's keyring from this fixed path only; `wipe` deletes it
BRICK_KEYRING = Path("/etc/ceph/ceph.client.cinder.keyring")
OSD_ID = "0"
LOST = (
    "If the OSD lost its in-memory objects anyway (memstore), the volumes and images in Ceph "
    "are gone: `devcloud/devcloud wipe`, then `up`."
)
PG_NUM = "8"

# name -> argv, in start order (`stop` goes in reverse); -f: stay in the foreground, so the
# PID procs.start records is the daemon's and SIGTERM reaches it
DAEMONS = {
    "ceph-mon": ("ceph-mon", "-f", "-c", str(CONF), "-i", "a"),
    "ceph-osd": ("ceph-osd", "-f", "-c", str(CONF), "-i", OSD_ID),
    "ceph-mgr": ("ceph-mgr", "-f", "-c", str(CONF), "-i", "x"),
}


def ceph(*args: str, timeout: float = 60) -> Any:
    """`ceph ARGS -f json` as client.admin; its parsed output (None when it prints nothing)."""
    stdout = _checked(*args, timeout=timeout)
    return json.loads(stdout) if stdout.strip() else None


def _checked(*args: str, timeout: float = 60, fmt: str = "json") -> str:
    result = _ceph(*args, timeout=timeout, fmt=fmt)
    if result.returncode != 0:
        sys.exit(f"devcloud: ceph {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _ceph(*args: str, timeout: float, fmt: str = "json") -> subprocess.CompletedProcess[str]:
    argv = ["ceph", "-c", str(CONF), "--connect-timeout", str(int(timeout)), *args, "-f", fmt]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer in {timeout:.0f}s")
    except FileNotFoundError:
        return subprocess.CompletedProcess(argv, 127, "", "not installed (`up` installs it)")


def lost() -> bool:
    """True when the cluster exists but its OSD is down without having saved its objects."""
    return (
        BOOTSTRAPPED.exists()
        and procs.running_pid("ceph-osd") is None
        and not STOPPED_CLEANLY.exists()
    )


def ensure_running() -> None:
    """Bootstrap the cluster if it never was, start the daemons that are down, wait until ready."""
    if not BOOTSTRAPPED.exists():
        _bootstrap()
    else:
        for name, argv in DAEMONS.items():
            if procs.start(name, argv):
                procs.log(f"started {name}")
            if name == "ceph-osd":
                # from here on only another clean stop saves the objects
                STOPPED_CLEANLY.unlink(missing_ok=True)
    procs.wait_until(
        f"ceph-mon on {config.HOST}:{config.CEPH_MON_PORT}",
        lambda: procs.port_open(config.CEPH_MON_PORT),
        30,
    )
    _ensure_pools_and_users()
    keyring = (DIR / BRICK_KEYRING.name).read_text()
    if not BRICK_KEYRING.exists() or BRICK_KEYRING.read_text() != keyring:
        BRICK_KEYRING.parent.mkdir(exist_ok=True)
        BRICK_KEYRING.write_text(keyring)
        BRICK_KEYRING.chmod(0o600)
    started_at = time.monotonic()
    while not _ready():
        if time.monotonic() > started_at + 120:
            # placement groups stay "stale" when the OSD came back without its objects
            sys.exit(f"devcloud: Ceph's placement groups are not active after 120s. {LOST}")
        time.sleep(0.5)
    procs.log(f"Ceph ready ({time.monotonic() - started_at:.1f}s after the pools were there)")


def _ready() -> bool:
    for name in DAEMONS:
        if procs.running_pid(name) is None:
            # memstore keeps data in RAM: after a crash or reboot without `down` the OSD has
            # nothing to load and exits at once
            sys.exit(f"devcloud: {name} exited, see {config.LOGS / name}.log and .out. {LOST}")
    result = _ceph("status", timeout=10)
    if result.returncode != 0:
        return False
    status = json.loads(result.stdout)
    osds = status["osdmap"]
    pgs = status["pgmap"]
    active = sum(s["count"] for s in pgs.get("pgs_by_state", []) if "active" in s["state_name"])
    settled = bool(
        status["mgrmap"]["available"]
        and osds["num_osds"] >= 1
        and osds["num_up_osds"] == osds["num_osds"]
        and active == pgs["num_pgs"]
    )
    # the monitor may still show the placement groups as they were before a restart: listing
    # a pool reads from every one of its placement groups, so it answers only once they serve
    return settled and all(_pool_answers(pool) for pool in config.CEPH_POOLS)


def _pool_answers(pool: str) -> bool:
    argv = ["rados", "-c", str(CONF), "--rados-osd-op-timeout", "5", "-p", pool, "ls"]
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _bootstrap() -> None:
    """A new cluster: keyrings, monitor map, monitor, OSD (key first), manager."""
    stop()
    shutil.rmtree(DIR, ignore_errors=True)
    DIR.mkdir(parents=True)
    (config.RUN / "ceph").mkdir(parents=True, exist_ok=True)
    procs.log("bootstrapping Ceph: monitor, OSD (memstore), manager (logs/ceph.log)")
    fsid = str(uuid.uuid4())
    mon_keyring = DIR / "mon.keyring"
    admin_keyring = DIR / "ceph.client.admin.keyring"
    _run(
        "ceph-authtool",
        "--create-keyring",
        str(mon_keyring),
        "--gen-key",
        "-n",
        "mon.",
        "--cap",
        "mon",
        "allow *",
    )
    _run(
        "ceph-authtool",
        "--create-keyring",
        str(admin_keyring),
        "--gen-key",
        "-n",
        "client.admin",
        *("--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *"),
    )
    _run("ceph-authtool", str(mon_keyring), "--import-keyring", str(admin_keyring))
    monmap = DIR / "monmap"
    address = f"[v2:{config.HOST}:{config.CEPH_MON_PORT}]"
    _run("monmaptool", "--create", "--addv", "a", address, "--fsid", fsid, str(monmap))
    _run(
        "ceph-mon",
        "-c",
        str(CONF),
        "--mkfs",
        "-i",
        "a",
        "--monmap",
        str(monmap),
        "--keyring",
        str(mon_keyring),
    )
    _start("ceph-mon")
    procs.wait_until("ceph-mon", lambda: procs.port_open(config.CEPH_MON_PORT), 30)

    # the OSD's key goes to the monitor before mkfs; mkfs then needs no monitor (--no-mon-config)
    key = subprocess.run(
        ["ceph-authtool", "--gen-print-key"], capture_output=True, text=True, check=True
    ).stdout.strip()
    secret = DIR / "osd-secret.json"
    secret.write_text(json.dumps({"cephx_secret": key}))
    osd_uuid = str(uuid.uuid4())
    ceph("osd", "new", osd_uuid, OSD_ID, "-i", str(secret))
    secret.unlink()
    osd_dir = DIR / f"osd.{OSD_ID}"
    osd_dir.mkdir()
    keyring = str(osd_dir / "keyring")
    _run("ceph-authtool", "--create-keyring", keyring, "--name", f"osd.{OSD_ID}", "--add-key", key)
    _run(
        "ceph-osd",
        "-c",
        str(CONF),
        "-i",
        OSD_ID,
        "--mkfs",
        "--osd-uuid",
        osd_uuid,
        "--fsid",
        fsid,
        "--no-mon-config",
    )
    _start("ceph-osd")

    mgr_dir = DIR / "mgr.x"
    mgr_dir.mkdir()
    caps = ("mon", "allow profile mgr", "osd", "allow *", "mds", "allow *")
    (mgr_dir / "keyring").write_text(_checked("auth", "get-or-create", "mgr.x", *caps, fmt="plain"))
    _start("ceph-mgr")
    BOOTSTRAPPED.write_text(fsid + "\n")


def _ensure_pools_and_users() -> None:
    """Pools (size 1 from ceph.conf, application rbd) and cephx users; skipped when unchanged."""
    digest = hashlib.sha256(repr((config.CEPH_POOLS, config.CEPH_USERS)).encode()).hexdigest()
    if POOLS_STAMP.exists() and POOLS_STAMP.read_text() == digest:
        return
    existing = {pool["pool_name"] for pool in ceph("osd", "pool", "ls", "detail")}
    for pool in config.CEPH_POOLS:
        if pool not in existing:
            ceph("osd", "pool", "create", pool, PG_NUM)
        ceph("osd", "pool", "application", "enable", pool, "rbd")
    for user, osd_caps in config.CEPH_USERS.items():
        caps = ("mon", "profile rbd", "osd", osd_caps, "mgr", "profile rbd")
        ceph("auth", "get-or-create", f"client.{user}", *caps)
        ceph("auth", "caps", f"client.{user}", *caps)  # get-or-create keeps old caps
        keyring = DIR / f"ceph.client.{user}.keyring"
        keyring.write_text(_checked("auth", "get", f"client.{user}", fmt="plain"))
        keyring.chmod(0o600)
    procs.log(f"Ceph pools {', '.join(config.CEPH_POOLS)}; users {', '.join(config.CEPH_USERS)}")
    POOLS_STAMP.write_text(digest)


def _start(name: str) -> None:
    procs.start(name, DAEMONS[name])
    procs.log(f"started {name}")


def _run(*argv: str) -> None:
    procs.run(argv, "ceph")


def stop() -> None:
    """Manager and OSD, then the monitor (the OSD tells it that it goes down)."""
    # memstore writes every object to disk at a clean stop: give it time before SIGKILL
    for name, grace in (("ceph-mgr", 15.0), ("ceph-osd", 120.0), ("ceph-mon", 15.0)):
        exited = procs.terminate(name, grace=grace)
        if exited is not None:
            procs.log(f"stopped {name}" + ("" if exited else " (killed)"))
        if name == "ceph-osd" and exited and BOOTSTRAPPED.exists():
            STOPPED_CLEANLY.touch()


def summary() -> tuple[bool, list[str]]:
    """(healthy enough to serve, lines for `status`): health, OSDs, capacity, pools."""
    result = _ceph("status", timeout=5)
    if result.returncode != 0:
        return False, [f"ceph: unavailable ({result.stderr.strip() or 'no answer'})"]
    status = json.loads(result.stdout)
    health = status["health"]
    checks = "; ".join(
        f"{name}: {check['summary']['message']}" for name, check in health["checks"].items()
    )
    osds, pgs = status["osdmap"], status["pgmap"]
    states = ", ".join(f"{s['count']} {s['state_name']}" for s in pgs.get("pgs_by_state", []))
    lines = [
        f"ceph: {health['status']}" + (f" ({checks})" if checks else ""),
        f"ceph: {osds['num_up_osds']}/{osds['num_osds']} OSD up, "
        f"manager {'available' if status['mgrmap']['available'] else 'unavailable'}, "
        f"{pgs['num_pgs']} placement groups: {states or '-'}",
        f"ceph: memstore {_gib(pgs.get('bytes_total', 0))}: {_gib(pgs.get('bytes_used', 0))} "
        f"used, {_gib(pgs.get('bytes_avail', 0))} available",
    ]
    df = _ceph("df", timeout=5)
    if df.returncode == 0:
        pools = json.loads(df.stdout)["pools"]
        lines.append(
            "ceph pools: "
            + ", ".join(
                f"{p['name']} {_gib(p['stats']['stored'])} in {p['stats']['objects']} objects"
                for p in pools
                if p["name"] in config.CEPH_POOLS
            )
        )
    return health["status"] != "HEALTH_ERR", lines


def _gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"
