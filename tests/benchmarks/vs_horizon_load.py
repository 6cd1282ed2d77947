"""The load part of `bench_vs_horizon.py --concurrency` (run by it in a subprocess; not a test).

    .venv/bin/python tests/benchmarks/vs_horizon_load.py --host URL --users 50 --seconds 60
        --username U --password P --out load.json

locust patches the standard library with gevent when imported, so it runs apart from the
benchmark's own process. Every user signs in once (the portal's form, CSRF included) as the
benchmark's member and then views the instances, overview and networks pages, each with the
partials the page loads at once (hx-trigger="load"), waiting 1-3 s between pages as a person
does. The pages are measured once every user has signed in (the sign-ins' figures are
reported apart), for `seconds`; then the runner quits. Writes requests, failures and p95 per request
name (the same names bench_vs_horizon.py uses for its single-user figures) to `out`.
"""

from __future__ import annotations

# locust patches the standard library with gevent when imported: before anything else.
from locust import HttpUser, between, events, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

LOAD_PARTIAL = re.compile(r"<[^>]*\bhx-get=\"([^\"]+)\"[^>]*\bhx-trigger=\"[^\"]*\bload\b[^>]*>")
CREDENTIALS: dict[str, str] = {}


class Member(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        form = self.client.get("/auth/sign-in/", name="sign-in page")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        with self.client.post(
            "/auth/sign-in/",
            {
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "method": "password",
                "cloud": "devcloud:RegionOne",
                "username": CREDENTIALS["username"],
                "password": CREDENTIALS["password"],
                "domain": "Default",
            },
            name="sign in",
            catch_response=True,
        ) as response:
            if "/auth/" in urlsplit(response.url or "").path:
                response.failure("sign-in did not succeed")

    def page(self, name: str, path: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if "/auth/sign-in/" in (response.url or ""):
                response.failure("signed out")
        for partial in LOAD_PARTIAL.findall(response.text or ""):
            url = urljoin(path, partial.replace("&amp;", "&"))
            self.client.get(
                url, headers={"HX-Request": "true"}, name=f"{name} {urlsplit(url).path}"
            )

    @task
    def instances(self) -> None:
        self.page("instances", "/compute/servers/")

    @task
    def overview(self) -> None:
        self.page("overview", "/project/overview/")

    @task
    def networks(self) -> None:
        self.page("networks", "/network/networks/")


def _figures(entry: Any) -> dict[str, Any]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "median": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    CREDENTIALS.update(username=args.username, password=args.password)
    env = Environment(user_classes=[Member], host=args.host, events=events)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    # The users sign in first (Keystone hashes 50 passwords); the pages are measured once all
    # of them are signed in, for `seconds`. The sign-ins' own figures are kept apart.
    stats = env.stats
    signing_in = time.monotonic() + 120
    while stats.get("sign in", "POST").num_requests < args.users and time.monotonic() < signing_in:
        time.sleep(0.2)  # gevent's sleep: locust patched it
    signed_in = {e.name: _figures(e) for e in stats.entries.values() if e.name.startswith("sign")}
    stats.reset_all()
    started = time.monotonic()
    threading.Timer(args.seconds, runner.quit).start()  # a greenlet: locust patched it
    runner.greenlet.join()
    Path(args.out).write_text(
        json.dumps(
            {
                "seconds": time.monotonic() - started,
                "requests": stats.total.num_requests,
                "failures": stats.total.num_failures
                + sum(f["failures"] for f in signed_in.values()),
                "entries": {e.name: _figures(e) for e in stats.entries.values()} | signed_in,
                "errors": [
                    f"{e.occurrences} x {e.method} {e.name}: {e.error}"
                    for e in stats.errors.values()
                ],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
