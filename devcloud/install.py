"""Install what is missing: Debian packages, the venv, and devcloud's two additions to it.

The venv is built from requirements.lock (`pip freeze` of an install that
passed tests/cloud/test_allinone.py), so every machine runs the tested set.
A stamp file per step (the sha256 of its inputs) keeps a warm `up` from
calling pip at all.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from devcloud import config, procs

PIP = config.VENV / "bin" / "pip"


def ensure_apt(extra: list[str]) -> None:
    """apt-get install the packages that are not installed (no recommends)."""
    wanted = [*config.APT_PACKAGES, *extra]
    query = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *wanted],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {
        line.split()[0] for line in query.stdout.splitlines() if line.endswith(" installed")
    }
    missing = [name for name in wanted if name not in installed]
    if not missing:
        return
    procs.log(f"apt-get install {' '.join(missing)} (logs/apt.log)")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    with open(config.LOGS / "apt.log", "ab") as out:
        first_try = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, check=False
        )
    if first_try.returncode != 0:
        # stale or empty package lists
        procs.run(["apt-get", "update"], "apt", env)
        procs.run(command, "apt", env)


def ensure_venv() -> None:
    if not (config.VENV / "bin" / "python").exists():
        procs.log(f"creating {config.VENV} with {config.SYSTEM_PYTHON}")
        procs.run([config.SYSTEM_PYTHON, "-m", "venv", str(config.VENV)], "pip")
    _once("requirements", _digest(config.LOCK_FILE), _install_lock)
    _once(
        "ml2-bind-all",
        _digest(*sorted(p for p in config.ML2_PACKAGE.rglob("*") if p.is_file())),
        _install_ml2,
    )
    _install_nova_driver()
    _link_ceph_bindings()


def _install_lock() -> None:
    procs.log("pip install -r devcloud/requirements.lock (logs/pip.log)")
    procs.run([str(PIP), "install", "-r", str(config.LOCK_FILE)], "pip")


def _install_ml2() -> None:
    # built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    source = config.STATE / "src" / config.ML2_PACKAGE.name
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(config.ML2_PACKAGE, source)
    procs.run([str(PIP), "install", "--no-deps", "--no-build-isolation", str(source)], "pip")


def _install_nova_driver() -> None:
    """nova imports compute drivers only as nova.virt.<compute_driver>: the file goes there."""
    (site_packages,) = config.VENV.glob("lib/python3*/site-packages")
    target = site_packages / "nova" / "virt" / "devcloud_fake.py"
    if not target.exists() or target.read_bytes() != config.NOVA_DRIVER_FILE.read_bytes():
        shutil.copyfile(config.NOVA_DRIVER_FILE, target)


def _link_ceph_bindings() -> None:
    """Cinder's and Glance's RBD drivers import rados and rbd: C extensions that only Debian
    ships (python3-rados, python3-rbd; nothing on PyPI). The venv runs Debian's own python3,
    so the very files load in it once linked into its site-packages."""
    (site_packages,) = config.VENV.glob("lib/python3*/site-packages")
    for module in ("rados", "rbd"):
        (source,) = Path("/usr/lib/python3/dist-packages").glob(f"{module}.cpython-*.so")
        target = site_packages / source.name
        if not target.is_symlink():
            target.unlink(missing_ok=True)
            target.symlink_to(source)


def _once(step: str, digest: str, action: Callable[[], None]) -> None:
    stamp = config.VENV / f".devcloud-{step}.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return
    action()
    stamp.write_text(digest)


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def write_lock() -> None:
    """Rebuild requirements.lock: install config.PACKAGES under constraints.txt, pip freeze."""
    scratch = Path(tempfile.mkdtemp(prefix="devcloud-lock-"))
    try:
        pip = str(scratch / "bin" / "pip")
        procs.log(f"building a scratch venv in {scratch} (logs/lock.log)")
        procs.run([config.SYSTEM_PYTHON, "-m", "venv", str(scratch)], "lock")
        procs.run([pip, "install", "-U", "pip", "setuptools", "wheel"], "lock")
        procs.run([pip, "install", "-c", str(config.CONSTRAINTS_FILE), *config.PACKAGES], "lock")
        frozen = subprocess.run(
            [pip, "freeze", "--all", "--exclude", "pip"], capture_output=True, text=True, check=True
        ).stdout
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    header = (
        "# Generated by `devcloud/devcloud lock` from devcloud/config.py PACKAGES and\n"
        "# devcloud/constraints.txt; `devcloud up` installs exactly this. Do not edit by hand.\n"
    )
    config.LOCK_FILE.write_text(header + frozen)
    procs.log(f"wrote {config.LOCK_FILE} ({len(frozen.splitlines())} packages)")
