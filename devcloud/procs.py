"""Processes: start in their own session with a PID file, stop the whole group, wait.

Each process runs in its own session (so its process group id is its PID) and
writes stdout/stderr to <state>/logs/<name>.out; the PID is in <state>/run/<name>.pid.
Stopping sends SIGTERM to the group (uWSGI workers, oslo.service children), then
SIGKILL after a grace period.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from devcloud import config


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pid_file(name: str) -> Path:
    return config.RUN / f"{name}.pid"


def running_pid(name: str) -> int | None:
    """The PID from the service's PID file if that process is alive (not a zombie)."""
    try:
        pid = int(pid_file(name).read_text().strip())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ValueError):
        return None
    # the state letter follows the parenthesised command name
    return None if stat.rsplit(")", 1)[1].split()[0] == "Z" else pid


def service_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every OpenStack process: the venv first, no OS_* leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PATH"] = f"{config.VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    # eventlet prints a deprecation banner on every import
    env["PYTHONWARNINGS"] = "ignore"
    # web-download fetches from 127.0.0.1 must never go through a proxy
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


def start(name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> bool:
    """Start `argv` as service `name` unless it runs already; True if started now."""
    if running_pid(name):
        return False
    config.RUN.mkdir(parents=True, exist_ok=True)
    with open(config.LOGS / f"{name}.out", "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=config.STATE,
            env=service_env(env),
            start_new_session=True,
        )
    pid_file(name).write_text(f"{proc.pid}\n")
    return True


def stop(name: str, grace: float = 15.0) -> bool:
    """Stop service `name` and its process group; True if it was running."""
    return terminate(name, grace) is not None


def terminate(name: str, grace: float = 15.0) -> bool | None:
    """Stop service `name` and its process group: None if it was not running, else whether it
    exited on SIGTERM within `grace` seconds (False: it had to be killed)."""
    pid = running_pid(name)
    if pid is None:
        pid_file(name).unlink(missing_ok=True)
        return None
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while running_pid(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    exited = running_pid(name) is None
    # SIGKILL the group even when the leader exited: workers may linger
    _signal_group(pid, signal.SIGKILL)
    pid_file(name).unlink(missing_ok=True)
    return exited


def rss_by_group() -> dict[int, int]:
    """Resident memory in bytes per process group, from /proc (one pass)."""
    page = os.sysconf("SC_PAGE_SIZE")
    totals: dict[int, int] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        # after the command name: state ppid pgrp ... rss is field 24 of stat (index 21 here)
        group, rss_pages = int(fields[2]), int(fields[21])
        totals[group] = totals.get(group, 0) + rss_pages * page
    return totals


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def port_open(port: int, host: str = config.HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def http_answers(url: str) -> bool:
    """True if anything answers HTTP at `url` (any status, 401 and 300 included)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def wait_until(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"devcloud: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.25)


def run(
    argv: Sequence[str],
    log_name: str,
    env: Mapping[str, str] | None = None,
    ok: Sequence[int] = (0,),
) -> None:
    """Run a command to completion, output appended to <state>/logs/<log_name>.log."""
    with open(config.LOGS / f"{log_name}.log", "ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=config.STATE,
            env=service_env(env),
            check=False,
        )
    if result.returncode not in ok:
        sys.exit(f"devcloud: {' '.join(argv[:3])} ... failed, see {config.LOGS / log_name}.log")
