"""Failure injection on the all-in-one: each of Keystone, Nova, Neutron, Glance and Cinder is
stopped in turn (its whole process group, as a crash would leave it) while a member and an
administrator are signed in. The pages that need it say so in plain words (the error page's
"The cloud is not answering" with the reason, and the administrators' health banner names
the endpoint that does not answer); no page answers 500; the pages that do not need it keep
working; and everything is back once the service is.

The service is started again with `devcloud restart NAME`, which waits until it answers.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from devcloud import procs
from tests.conftest import ROOT, portal_sign_in

pytestmark = [pytest.mark.cloud, pytest.mark.django_db(transaction=True)]

# Service -> (its API port, the pages that need it, a page that does not).
PAGES = {
    "keystone": (5000, ["/compute/servers/", "/network/networks/"], "/operations/"),
    "nova-api": (8774, ["/compute/servers/", "/compute/servers/launch/"], "/network/networks/"),
    "neutron-api": (9696, ["/network/networks/", "/network/routers/"], "/images/"),
    "glance-api": (9292, ["/images/"], "/network/networks/"),
    "cinder-api": (8776, ["/volumes/"], "/network/networks/"),
}
DEGRADED = ("The cloud is not answering", "could not be reached", "not answering")


@contextmanager
def stopped(name: str) -> Iterator[None]:
    assert procs.stop(name), f"{name} was not running"
    try:
        yield
    finally:
        subprocess.run(  # noqa: S603 (our own script)
            [str(ROOT / "devcloud" / "devcloud"), "restart", name], check=True, timeout=300
        )


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def text(response: Any) -> str:
    return text_of(response.content.decode())


@pytest.mark.parametrize("service", list(PAGES))
def test_a_stopped_service_degrades_the_pages_that_need_it_and_they_recover(
    portal_clouds_yaml: Path, sdk_admin: Any, service: str
) -> None:
    port, needing, unaffected = PAGES[service]
    member = portal_sign_in(Client(), "member")
    admin = portal_sign_in(
        Client(), "admin", project_id=sdk_admin.identity.find_project("admin").id
    )
    for url in [*needing, unaffected]:
        assert member.get(url).status_code == 200, url
    cache.clear()  # the health banner is cached for 30 s
    with stopped(service):
        for url in needing:
            response = member.get(url)
            body = text(response)
            if response.status_code == 302:  # where to, and why (the page it leads to says)
                page = member.get(response["Location"]).content.decode()
                body = (
                    response["Location"]
                    + " "
                    + " | ".join(
                        text_of(m) for m in re.findall(r'role="alert"[^>]*>(.*?)</div>', page, re.S)
                    )
                )
            assert response.status_code in (200, 502, 503, 504), (url, response.status_code, body)
            if response.status_code != 200:
                assert any(d in body for d in DEGRADED), (url, body[:500])
        if service != "keystone":  # without Keystone the page keeps its last session check
            assert member.get(unaffected).status_code == 200, unaffected
        banner = admin.get("/compute/admin/health/?part=banner", headers={"HX-Request": "true"})
        assert banner.status_code != 500
        if banner.status_code == 200:
            assert f":{port}" in text(banner), text(banner)[:500]
    cache.clear()
    for url in [*needing, unaffected]:
        assert member.get(url).status_code == 200, url
