"""Browser hardening: the Content-Security-Policy and no inline script, HTTPS-only settings, a
state folder no one else can read, and server errors logged with their traceback."""

from __future__ import annotations

import importlib
import io
import logging
import re
import stat
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

import portal.settings
from capacity.gateway import CapacityGateway
from capacity.tests.fakes import FakeCapacityGateway
from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway, FakeComputeGateway
from images.gateway import ImagesGateway
from images.tests.fakes import FakeImagesGateway
from network.gateway import NetworkGateway
from network.tests.fakes import FakeNetworkGateway
from portal import security
from portal.gateways import override
from projects.gateway import ProjectsGateway
from projects.tests.fakes import FakeProjectsGateway
from quotas.gateway import QuotasGateway
from quotas.tests.fakes import FakeQuotasGateway
from volumes.gateway import VolumesGateway
from volumes.tests.fakes import FakeVolumesGateway

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("*/templates/**/*.html"), *ROOT.glob("templates/**/*.html")])
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def inline_code(html: str) -> list[str]:
    found = [m.group(0) for m in INLINE_SCRIPT.finditer(html)]
    found += [m.group(1) for m in EVENT_HANDLER.finditer(html)]
    return found + [m.group(0) for m in JS_URL.finditer(html)]


def directives(response: Any) -> dict[str, list[str]]:
    header = response[security.HEADER]
    parts = [d.split() for d in header.split(";") if d.strip()]
    return {p[0]: p[1:] for p in parts}


# --- Content-Security-Policy -----------------------------------------------------------------


def test_no_template_has_inline_script() -> None:
    assert len(TEMPLATES) > 50
    offenders = {str(t.relative_to(ROOT)): inline_code(t.read_text()) for t in TEMPLATES}
    assert {t: found for t, found in offenders.items() if found} == {}


def test_the_scanner_finds_inline_code() -> None:
    page = """<script>alert(1)</script><script src="/static/x.js"></script>
    <button onclick="go()">x</button><a href="javascript:go()">y</a><div hx-on:click="go()">"""
    assert len(inline_code(page)) == 4


@pytest.fixture
def server_id() -> Iterator[str]:
    """Every app's in-memory gateway, and one instance whose console tab shows an iframe."""
    compute = FakeComputeGateway()
    server = compute.add_server("web-1")
    with ExitStack() as stack:
        stack.enter_context(override(ComputeGateway, compute))
        stack.enter_context(override(AdminGateway, FakeAdminGateway()))
        stack.enter_context(override(CapacityGateway, FakeCapacityGateway()))
        stack.enter_context(override(ImagesGateway, FakeImagesGateway()))
        stack.enter_context(override(NetworkGateway, FakeNetworkGateway()))
        stack.enter_context(override(ProjectsGateway, FakeProjectsGateway()))
        stack.enter_context(override(QuotasGateway, FakeQuotasGateway()))
        stack.enter_context(override(VolumesGateway, FakeVolumesGateway()))
        yield server.id


def crawl(client: Client, start: list[str], limit: int = 120) -> dict[str, Any]:
    """GET pages breadth first from `start`, following the portal's own links."""
    seen: dict[str, Any] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        # a streamed CSV export is not read: its header is what counts here
        if "text/html" in response.get("Content-Type", "") and not response.streaming:
            for link in re.findall(r'href="(/[^"#]*)"', response.content.decode()):
                link = link.replace("&amp;", "&")
                if not link.startswith(("/static/", "/auth/sign-out", "/i18n/")):
                    queue.append(link)
    return seen


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["member", "admin"])
def test_every_page_sends_the_policy_and_runs_no_inline_script(
    persona: str, request: pytest.FixtureRequest, server_id: str
) -> None:
    client: Client = request.getfixturevalue(f"{persona}_client")
    pages = crawl(client, ["/project/overview/", f"/compute/servers/{server_id}/?tab=console"])
    assert len(pages) > 40
    for url, response in pages.items():
        assert response.status_code < 500, url
        assert security.HEADER in response, url
        if "text/html" in response.get("Content-Type", "") and not response.streaming:
            assert inline_code(response.content.decode()) == [], url


@pytest.mark.django_db
def test_the_policy_refuses_inline_script_and_framing(member_client: Client) -> None:
    policy = directives(member_client.get("/project/overview/"))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    # the unit cloud's Keystone is http://127.0.0.1:9: its host may show the console
    assert policy["frame-src"] == ["'self'", "http://127.0.0.1:*"]


@pytest.mark.django_db
def test_the_console_origins_can_be_named(client: Client, settings: Any) -> None:
    settings.STACKDESK_CONSOLE_ORIGINS = ["https://console.example.org:6080"]
    policy = directives(client.get("/auth/sign-in/"))
    assert policy["frame-src"] == ["'self'", "https://console.example.org:6080"]


@pytest.mark.django_db
def test_the_console_iframe_is_allowed_by_the_policy(
    member_client: Client, server_id: str, use_clouds: Any
) -> None:
    # The fake's console proxy is http://console.test:6080, as Nova's usually is: the host of
    # the cloud's public endpoints on another port.
    use_clouds(
        {"unit": {"auth": {"auth_url": "http://console.test:5000/v3"}, "region_name": "RegionOne"}}
    )
    response = member_client.get(f"/compute/servers/{server_id}/?tab=console")
    iframe = re.search(r'<iframe[^>]*src="([^"]+)"', response.content.decode())
    assert iframe, "the console tab shows no iframe"
    allowed = directives(response)["frame-src"]
    src = iframe.group(1)
    assert any(
        re.fullmatch(re.escape(o).replace(r":\*", r"(:\d+)?") + r"(/.*)?", src) for o in allowed
    ), (src, allowed)


def test_htmx_is_told_not_to_inject_inline_style_or_code() -> None:
    base = (ROOT / "portal/templates/base.html").read_text()
    assert '"includeIndicatorStyles": false' in base and '"allowEval": false' in base


# --- HTTPS -----------------------------------------------------------------------------------


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """portal/settings.py as it comes out under this environment (read, then restored)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        module = importlib.reload(portal.settings)
        return {k: getattr(module, k) for k in dir(module) if k.isupper()}
    finally:
        for name in env:
            monkeypatch.delenv(name)
        importlib.reload(portal.settings)


def test_plain_http_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    values = settings_with(monkeypatch)
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert "SECURE_PROXY_SSL_HEADER" not in values
    # always on
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"


def test_https_turns_on_secure_cookies_and_hsts(monkeypatch: pytest.MonkeyPatch) -> None:
    values = settings_with(monkeypatch, STACKDESK_HTTPS="1", STACKDESK_PROXY_SSL_HEADER="1")
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert settings_with(monkeypatch, STACKDESK_SECURE_COOKIES="1")["SECURE_HSTS_SECONDS"] > 0


@pytest.mark.django_db
def test_https_responses_carry_hsts_and_secure_cookies(
    monkeypatch: pytest.MonkeyPatch, unit_cloud: None
) -> None:
    values = settings_with(monkeypatch, STACKDESK_HTTPS="1")
    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"]
    with override_settings(**{n: values[n] for n in names}):
        response = Client().get("/auth/sign-in/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert response.cookies["csrftoken"]["secure"] is True
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_https_redirect_spares_the_health_check(
    monkeypatch: pytest.MonkeyPatch, unit_cloud: None
) -> None:
    values = settings_with(monkeypatch, STACKDESK_HTTPS="1", STACKDESK_SSL_REDIRECT="1")
    names = ["SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT"]
    with override_settings(**{n: values[n] for n in names}):
        client = Client()
        page = client.get("/auth/sign-in/")
        health = client.get("/healthz")
    assert page.status_code == 301 and page["Location"] == "https://testserver/auth/sign-in/"
    assert health.status_code == 200  # scripts on the host ask over plain HTTP


# --- the state folder ------------------------------------------------------------------------


def test_the_state_folder_is_created_for_the_portal_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fresh, old = tmp_path / "fresh", tmp_path / "old"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    settings_with(monkeypatch, STACKDESK_STATE=str(fresh))
    settings_with(monkeypatch, STACKDESK_STATE=str(old))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o750  # others lose access, the group keeps it
    for secret in ("secret_key", "credential_key"):
        assert stat.S_IMODE((fresh / secret).stat().st_mode) == 0o600


# --- server errors ---------------------------------------------------------------------------


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database ate the answer")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    console = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)
    stream = io.StringIO()
    previous = console.setStream(stream)  # the LOGGING console handler: stderr under gunicorn
    try:
        response = Client(raise_request_exception=False).get("/broken/")
    finally:
        console.setStream(previous)
    assert response.status_code == 500
    assert security.HEADER in response  # the error page has the policy too
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.levelno == logging.ERROR and record.exc_info is not None
    written = stream.getvalue()
    assert "ERROR django.request: Internal Server Error: /broken/" in written
    assert "Traceback (most recent call last)" in written
    assert "RuntimeError: the database ate the answer" in written
