"""The persona matrix (tests/persona_matrix.py) covers the URL conf exactly: a new URL pattern
without a row fails here, and so does a row whose URL is gone or whose arguments do not match
its pattern's. No cloud needed; the cloud test (tests/cloud/test_persona_matrix.py) walks it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from tests import persona_matrix as pm

# Nothing is left out: Django's set_language has a row like every other view, and the URL
# conf has no static, media or Django admin patterns (WhiteNoise serves the assets).
EXCLUDED: frozenset[str] = frozenset()


def walk(
    patterns: list[Any], namespace: str = "", args: frozenset[str] = frozenset()
) -> Iterator[tuple[str, frozenset[str]]]:
    """Every routable pattern: its namespace:name (an unnamed one by its route) and the names
    of its arguments, those of the includes above it too."""
    for p in patterns:
        here = args | frozenset(getattr(p.pattern, "converters", {}))
        if isinstance(p, URLResolver):
            inner = ":".join(n for n in (namespace, p.namespace or "") if n)
            yield from walk(p.url_patterns, inner, here)
        elif isinstance(p, URLPattern):
            name = p.name or f"<unnamed {p.pattern}>"
            yield (f"{namespace}:{name}" if namespace else name), here


def patterns() -> dict[str, frozenset[str]]:
    return dict(walk(get_resolver().url_patterns))


def test_every_url_pattern_has_a_matrix_row() -> None:
    missing = set(patterns()) - pm.url_names() - EXCLUDED
    assert not missing, f"URL patterns without a row in tests/persona_matrix.py: {sorted(missing)}"


def test_every_matrix_row_names_an_existing_url() -> None:
    gone = pm.url_names() - set(patterns())
    assert not gone, (
        f"rows in tests/persona_matrix.py for URLs that no longer exist: {sorted(gone)}"
    )


def test_every_row_fills_exactly_its_url_arguments() -> None:
    known = patterns()
    wrong = [
        (row.name, sorted(known[row.name]), sorted(row.kwargs))
        for row in pm.MATRIX
        if row.name in known and known[row.name] != set(row.kwargs)
    ]
    assert not wrong, f"(url, its arguments, the row's kwargs): {wrong}"


def test_every_outcome_is_one_the_cloud_test_checks() -> None:
    unknown = [
        (row.name, method, persona, expect.of(persona))
        for row in pm.MATRIX
        for method, expect in (("GET", row.get), ("POST", row.post))
        for persona in pm.PERSONAS
        if expect.of(persona) not in pm.OUTCOMES
    ]
    assert not unknown, unknown


def test_the_walk_finds_what_the_url_conf_has() -> None:
    """The walk itself: namespaced, nested and argument-carrying patterns are all seen."""
    found = patterns()
    assert found["compute:server-detail"] == {"server_id"}
    assert found["network:delete-subnet"] == {"network_id", "subnet_id"}
    assert found["set_language"] == frozenset()
    assert len(found) == len(list(walk(get_resolver().url_patterns)))  # no duplicate names
