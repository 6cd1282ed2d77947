"""Real Ansible for the cloud tests: ansible-core from requirements.lock, the stackdesk.portal
collection from the tarball `ansible-galaxy collection build` makes, and openstack.cloud from
the `ansible` package's wheel on PyPI (ANSIBLE_BUNDLE says which and why), downloaded once
into the state folder and unpacked there: only that collection, not the package's hundreds
of others. `collections_path` is a fixture of every cloud test (tests/cloud/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The `ansible` release whose wheel bundles openstack.cloud 2.6.0. The one built for
# ansible-core 2.19 (12.3.0) bundles 2.5.0, which reads `openstack.version` as an attribute
# of the package, and openstacksdk 4.22 no longer imports that submodule ("module 'openstack'
# has no attribute 'version'"); 2.6.0 works with ansible-core 2.19. The wheel says Python
# 3.12 for the ansible-core it requires: only the collection is taken from it.
ANSIBLE_BUNDLE = "14.5.0"
OPENSTACK_CLOUD = "ansible_collections/openstack/cloud/"
CACHE = Path(os.environ.get("STACKDESK_STATE_ROOT", "/var/lib/stackdesk")) / "ansible"
BIN = Path(sys.executable).parent


def openstack_cloud_wheel() -> Path:
    """The `ansible` wheel, from PyPI with pip the first time, then from the state folder."""
    wheel = CACHE / f"ansible-{ANSIBLE_BUNDLE}-py3-none-any.whl"
    if not wheel.exists():
        download = CACHE / f"download-{os.getpid()}"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
            + ["--python-version", "3.12", "-d", str(download), f"ansible=={ANSIBLE_BUNDLE}"],
            check=True,
        )
        os.replace(download / wheel.name, wheel)  # whole or not at all, for parallel runs
        download.rmdir()
    return wheel


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """stackdesk.portal from its built tarball, openstack.cloud from the `ansible` wheel."""
    where = tmp_path_factory.mktemp("collections")
    built = tmp_path_factory.mktemp("built")
    galaxy = [str(BIN / "ansible-galaxy"), "collection"]
    env = ansible_env(where, built)
    subprocess.run(
        [*galaxy, "build", str(ROOT / "ansible/stackdesk/portal"), "--output-path", str(built)],
        check=True,
        env=env,
        capture_output=True,
    )
    (tarball,) = built.glob("stackdesk-portal-*.tar.gz")
    subprocess.run(
        [*galaxy, "install", "--offline", str(tarball), "-p", str(where)],
        check=True,
        env=env,
        capture_output=True,
    )
    with zipfile.ZipFile(openstack_cloud_wheel()) as wheel:
        wheel.extractall(where, [n for n in wheel.namelist() if n.startswith(OPENSTACK_CLOUD)])
    assert (where / OPENSTACK_CLOUD / "MANIFEST.json").exists()
    return where


def ansible_env(collections: Path, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OS_"))}
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-local"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            # The modules run in this venv's Python: openstack.cloud needs its openstacksdk.
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_NOCOLOR": "1",
            "LC_ALL": "C.UTF-8",
            "NO_PROXY": "localhost,127.0.0.1",
            "PATH": f"{BIN}:{os.environ['PATH']}",
        }
    )
    env.update(extra)
    return env
