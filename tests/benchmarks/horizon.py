"""Horizon 27.0.0 beside the portal, for tests/benchmarks/bench_vs_horizon.py (not a test).

Horizon is installed from PyPI into a virtualenv of its own in the devcloud's state folder
(DEVCLOUD_STATE, default /var/lib/stackdesk/devcloud: `<state>/horizon/`), never into the
portal's venv and never into the checkout. It is installed under devcloud/constraints.txt, the
OpenStack upper-constraints the all-in-one itself was built with (Django 5.2.17, futurist 3.5.0,
openstacksdk and the clients of the same release), so Horizon runs with the library versions
OpenStack tests it with: that is "Horizon stock". "Horizon fixed" is the same venv with
futurist 3.1.0 put in front of it on PYTHONPATH (a `pip install --target` folder beside the
venv): futurist's ThreadPoolExecutor after 3.1 makes every `with executor:` block in
Horizon's `futurist_utils.call_functions_parallel` wait about a second at shutdown.

    <state>/horizon/venv/              Horizon 27.0.0 + gunicorn, under the constraints
    <state>/horizon/futurist-3.1.0/    futurist 3.1.0 alone (PYTHONPATH of Horizon fixed)
    <state>/horizon/static/            collectstatic + compress (COMPRESS_OFFLINE), once
    <state>/horizon/sessions/          Django file sessions (no memcached needed)
    <state>/horizon/installed          the marker: what was installed and how long it took

The local_settings.py written into the venv's openstack_dashboard/local/ is Horizon's own way
to be configured; it points at the devcloud's Keystone and region, DEBUG off.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVCLOUD_STATE = Path(os.environ.get("DEVCLOUD_STATE", "/var/lib/stackdesk/devcloud"))
HORIZON = DEVCLOUD_STATE / "horizon"
VENV = HORIZON / "venv"
FIXED_FUTURIST = HORIZON / "futurist-3.1.0"
STATIC = HORIZON / "static"
SESSIONS = HORIZON / "sessions"
MARKER = HORIZON / "installed"
CONSTRAINTS = ROOT / "devcloud" / "constraints.txt"
HORIZON_VERSION = "27.0.0"
FIXED_FUTURIST_VERSION = "3.1.0"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, as the devcloud's venv (Horizon 27: >=3.11)

LOCAL_SETTINGS = """\
# Written by tests/benchmarks/horizon.py for the benchmark against the devcloud.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = {secret!r}
OPENSTACK_HOST = "127.0.0.1"
OPENSTACK_KEYSTONE_URL = "{keystone}"
OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"
# No memcached: sessions in files (shared by gunicorn's workers), a per-process cache.
SESSION_ENGINE = "django.contrib.sessions.backends.file"
SESSION_FILE_PATH = {sessions!r}
CACHES = {{"default": {{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}}
STATIC_ROOT = {static!r}
COMPRESS_ENABLED = True
COMPRESS_OFFLINE = True
TIME_ZONE = "UTC"
LOGGING = {{"version": 1, "disable_existing_loggers": False}}
"""


def python() -> Path:
    return VENV / "bin" / "python"


def installed() -> str:
    return MARKER.read_text() if MARKER.exists() else ""


def _run(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)  # noqa: S603 (our commands)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}; see {log}")


def install(keystone_url: str) -> str:
    """Install Horizon (when the marker is missing) and return the marker's text."""
    if installed():
        return installed()
    HORIZON.mkdir(parents=True, exist_ok=True)
    log = HORIZON / "install.log"
    started = time.monotonic()
    _run([SYSTEM_PYTHON, "-m", "venv", "--clear", str(VENV)], log)
    pip = str(VENV / "bin" / "pip")
    _run([pip, "install", "-c", str(CONSTRAINTS), "pip", "setuptools", "wheel"], log)
    _run([pip, "install", "-c", str(CONSTRAINTS), f"horizon=={HORIZON_VERSION}", "gunicorn"], log)
    pip_done = time.monotonic()
    _run(
        [
            pip,
            "install",
            "--no-deps",
            "--upgrade",
            "--target",
            str(FIXED_FUTURIST),
            f"futurist=={FIXED_FUTURIST_VERSION}",
        ],
        log,
    )
    write_settings(keystone_url)
    manage = [str(python()), "-m", "django"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "openstack_dashboard.settings"}
    env.pop("PYTHONPATH", None)
    _run([*manage, "collectstatic", "--noinput", "-v0"], log, env)
    _run([*manage, "compress", "--force", "-v0"], log, env)
    done = time.monotonic()
    text = (
        f"horizon {HORIZON_VERSION} under {CONSTRAINTS.name}; futurist "
        f"{version('futurist')} (fixed: {FIXED_FUTURIST_VERSION}); Django {version('django')}; "
        f"pip {pip_done - started:.0f} s, collectstatic + compress {done - pip_done:.0f} s, "
        f"total {done - started:.0f} s\n"
    )
    MARKER.write_text(text)
    return text


def version(package: str) -> str:
    done = subprocess.run(  # noqa: S603 (the venv's own python)
        [str(python()), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def write_settings(keystone_url: str) -> None:
    (site,) = VENV.glob("lib/python3*/site-packages")
    SESSIONS.mkdir(mode=0o700, exist_ok=True)
    secret_file = HORIZON / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(48))
        secret_file.chmod(0o600)
    (site / "openstack_dashboard" / "local" / "local_settings.py").write_text(
        LOCAL_SETTINGS.format(
            secret=secret_file.read_text().strip(),
            keystone=keystone_url,
            sessions=str(SESSIONS),
            static=str(STATIC),
        )
    )


def start(
    port: int, fixed: bool, log: Path, gunicorn_conf: Path, workers: int
) -> subprocess.Popen[bytes]:
    """Horizon under gunicorn on 127.0.0.1:port; `fixed`: futurist 3.1.0 first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON", "OS_"))}
    env["DJANGO_SETTINGS_MODULE"] = "openstack_dashboard.settings"
    if fixed:
        env["PYTHONPATH"] = str(FIXED_FUTURIST)
    env["BENCH_UPSTREAM_LOG"] = str(log.with_suffix(".calls"))
    out = log.open("ab")
    proc = subprocess.Popen(  # noqa: S603 (Horizon's gunicorn, in its own venv)
        [
            str(VENV / "bin" / "gunicorn"),
            "openstack_dashboard.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--timeout=300",
            "--no-control-socket",
            f"--config={gunicorn_conf}",
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=HORIZON,
    )
    wait_until_up(f"http://127.0.0.1:{port}/auth/login/", proc, log)
    return proc


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (our own loopback URL)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s; see {log}")


if __name__ == "__main__":  # install only: python tests/benchmarks/horizon.py
    print(install(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000/v3"), end="")
