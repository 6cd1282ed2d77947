"""Air-gapped clouds: every script, stylesheet and font comes from the portal itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)
CSS_EXTERNAL = re.compile(r"""@import\s+url\(\s*["']?(?:https?:)?//|url\(\s*["']?https?://""", re.I)


def test_no_template_loads_anything_from_another_host() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/templates/**/*.html")
        if EXTERNAL.search(path.read_text())
    ]
    assert not offenders


def test_no_stylesheet_imports_from_another_host() -> None:
    for path in [*ROOT.glob("static/**/*.css"), *ROOT.glob("static/**/*.js")]:
        assert not CSS_EXTERNAL.search(path.read_text()), path


@pytest.mark.django_db
def test_every_asset_a_page_uses_is_served_locally(member_client: Client) -> None:
    page = member_client.get("/project/overview/").content.decode()
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", page)
    assert any("htmx" in a for a in assets) and any("bootstrap" in a for a in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
