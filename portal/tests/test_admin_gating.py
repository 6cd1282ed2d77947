"""Every admin view, wherever it lives, refuses non-admins before doing anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import PERSONAS, sign_in

pytestmark = pytest.mark.django_db


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def admin_urls() -> list[str]:
    urls = []
    for route, view in walk(get_resolver().url_patterns):
        if getattr(view, "admin_only", False):
            # Fill converters with plausible values; the gate answers before the view runs.
            path = route.replace("<int:", "<").replace("<uuid:", "<").replace("<slug:", "<")
            while "<" in path:
                start, end = path.index("<"), path.index(">")
                path = path[:start] + "1" + path[end + 1 :]
            urls.append("/" + path)
    return urls


def test_there_are_admin_views() -> None:
    assert "/admin/operations/" in admin_urls()


@pytest.mark.parametrize("persona", ["member", "reader", "outsider"])
def test_no_admin_view_answers_a_non_admin(unit_cloud: None, persona: str) -> None:
    client = sign_in(Client(), PERSONAS[persona])
    for url in admin_urls():
        statuses = {client.get(url).status_code, client.post(url).status_code}
        assert statuses <= {403, 405} and 403 in statuses, (url, statuses)
