"""Every app ships a complete Korean catalogue that matches its source strings."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "portal",
    "projects",
    "quotas",
    "images",
    "network",
    "compute",
    "volumes",
    "capacity",
    "monitoring",
]


def has_strings(app: str) -> bool:
    files = [*(ROOT / app).rglob("*.py"), *(ROOT / app).rglob("*.html")]
    markers = ("gettext", "translate", "_(")
    return any(
        "tests" not in f.parts and any(m in f.read_text(errors="ignore") for m in markers)
        for f in files
    )


@pytest.mark.parametrize("app", APPS)
def test_catalogue_is_complete_and_current(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po_path = ROOT / app / "locale/ko/LC_MESSAGES/django.po"
    if not po_path.exists():
        assert not has_strings(app), f"{app} has translatable strings but no Korean catalogue"
        return
    shipped = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in shipped if not e.translated() and not e.obsolete]
    assert not untranslated, f"{app}: untranslated {untranslated[:10]}"
    fuzzy = [e.msgid for e in shipped if "fuzzy" in e.flags]
    assert not fuzzy, f"{app}: fuzzy {fuzzy[:10]}"

    # Extract again from a copy of the app: every string in the source must be in the catalogue.
    copy = tmp_path / app
    shutil.copytree(ROOT / app, copy, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["ko"], verbosity=0, no_obsolete=True)
    fresh = polib.pofile(str(copy / "locale/ko/LC_MESSAGES/django.po"))
    wanted = {(e.msgctxt, e.msgid) for e in fresh}
    have = {(e.msgctxt, e.msgid) for e in shipped if not e.obsolete}
    missing = sorted(m for _, m in wanted - have)
    assert not missing, f"{app}: strings missing from the Korean catalogue: {missing[:10]}"
