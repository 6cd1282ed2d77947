"""A gunicorn config file (`gunicorn --config tests/benchmarks/count_upstream.py ...`) that logs
every HTTP request the served app sends, for tests/benchmarks/bench_vs_horizon.py (not a test).

The portal (openstacksdk) and Horizon (novaclient, cinderclient, glanceclient, keystoneclient,
openstacksdk for Neutron, django_openstack_auth) all send their OpenStack calls through
keystoneauth1, which sends them with `requests`; every call therefore passes through
`requests.adapters.HTTPAdapter.send`. After gunicorn forks a worker, that method is wrapped
to append one line per call, `<port> <method> <path>`, to the file BENCH_UPSTREAM_LOG names
(O_APPEND: one write per line, so workers and threads never interleave within a line). The
benchmark serves one user at a time and reads the lines a view added, so the same method
counts both tools' calls per view by service (the port of the catalog's endpoint). Only the
standard library is imported here: it runs under the portal's venv and under Horizon's.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlsplit


def post_fork(server: Any, worker: Any) -> None:
    target = os.environ.get("BENCH_UPSTREAM_LOG")
    if not target:
        return
    import requests.adapters

    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    original = requests.adapters.HTTPAdapter.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, request, *args, **kwargs)
        finally:
            url = urlsplit(request.url)
            took = time.perf_counter() - started
            line = f"{url.port or 0} {request.method} {url.path} {took:.4f}\n"
            os.write(fd, line.encode())

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
