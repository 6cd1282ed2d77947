"""Fixtures every test layer shares: the personas, signed-in clients and the fake Keystone.

Personas (STYLE.md §7): a member, a reader, an outsider (member of another project only) and
an admin. Unit tests sign a persona in by writing the session the way the sign-in view does
(sealed token included), so views see exactly what they see in production.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.utils import timezone

from compute import warm
from portal import cloud, kept, refs, throttle
from portal.crypto import seal
from portal.identity import SESSION_CONFIRMED, SESSION_CREDENTIAL, SESSION_IDENTITY, Identity
from portal.tests.fake_keystone import FakeKeystone, Token, serve

UNIT_CLOUD = "unit:RegionOne"


@dataclass(frozen=True)
class Persona:
    name: str
    project: str
    roles: tuple[str, ...]

    @property
    def user_id(self) -> str:
        return "u-" + self.name

    @property
    def project_id(self) -> str:
        return "p-" + self.project


PERSONAS = {
    "member": Persona("member", "demo", ("member", "reader")),
    "reader": Persona("reader", "demo", ("reader",)),
    "outsider": Persona("outsider", "study1", ("member", "reader")),
    "admin": Persona("admin", "admin", ("admin", "member", "reader")),
}


def write_clouds_yaml(path: Path, clouds: dict[str, dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


@pytest.fixture
def use_clouds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, dict[str, object]]], None]]:
    """Point the portal at a clouds.yaml written by the test."""

    def _use(clouds: dict[str, dict[str, object]]) -> None:
        monkeypatch.setenv(
            "OS_CLIENT_CONFIG_FILE", str(write_clouds_yaml(tmp_path / "c.yaml", clouds))
        )
        cloud.available_clouds.cache_clear()
        cloud.service_connection.cache_clear()

    yield _use
    cloud.available_clouds.cache_clear()
    cloud.service_connection.cache_clear()


@pytest.fixture(scope="session")
def unit_keystone() -> Iterator[FakeKeystone]:
    """The unit cloud's Keystone: it knows the personas' tokens (and nothing else), so the
    portal's own token checks (portal/identity.py confirm_sign_in) run for real."""
    ks = FakeKeystone()
    for project in ("demo", "study1", "admin"):
        ks.add_project(project)
    for persona in PERSONAS.values():
        ks.add_user(persona.name, secrets.token_hex(8), {persona.project_id: list(persona.roles)})
    server, _thread = serve(ks)
    yield ks
    server.shutdown()


@pytest.fixture
def unit_cloud(
    use_clouds: Callable[[dict[str, dict[str, object]]], None], unit_keystone: FakeKeystone
) -> Iterator[FakeKeystone]:
    """A configured cloud with only a fake Keystone behind it (no compute, network…: unit
    tests must not reach a cloud). Every test starts with the personas' tokens valid."""
    unit_keystone.tokens.clear()
    unit_keystone.calls.clear()
    for persona in PERSONAS.values():
        user = unit_keystone.users[persona.name]
        for token, project in (("token-", persona.project_id), ("unscoped-", None)):
            record = Token(user, project, timezone.now() + timedelta(hours=2), ["password"])
            unit_keystone.tokens[token + persona.name] = record
    use_clouds(
        {
            "unit": {
                "auth": {"auth_url": unit_keystone.url + "/v3"},
                "region_name": "RegionOne",
            }
        }
    )
    yield unit_keystone


def persona_identity(persona: Persona, expires_in: timedelta = timedelta(hours=1)) -> Identity:
    projects = {persona.project} | ({"demo"} if persona.name == "admin" else set())
    return Identity(
        cloud_key=UNIT_CLOUD,
        user_id=persona.user_id,
        user_name=persona.name,
        user_domain="Default",
        project_id=persona.project_id,
        project_name=persona.project,
        roles=persona.roles,
        expires_at=timezone.now() + expires_in,
        projects=tuple(refs.ProjectRef("p-" + p, p, "default") for p in sorted(projects)),
    )


def sign_in(client: Client, persona: Persona, expires_in: timedelta = timedelta(hours=1)) -> Client:
    session = client.session
    session[SESSION_IDENTITY] = persona_identity(persona, expires_in).to_session()
    session[SESSION_CONFIRMED] = time.time()  # as the sign-in view leaves it
    session[SESSION_CREDENTIAL] = seal(
        {"token": "token-" + persona.name, "body": {}, "unscoped": "unscoped-" + persona.name}
    )
    session.save()
    return client


@pytest.fixture
def member_client(unit_cloud: FakeKeystone, db: None) -> Client:
    return sign_in(Client(), PERSONAS["member"])


@pytest.fixture
def reader_client(unit_cloud: FakeKeystone, db: None) -> Client:
    return sign_in(Client(), PERSONAS["reader"])


@pytest.fixture
def outsider_client(unit_cloud: FakeKeystone, db: None) -> Client:
    return sign_in(Client(), PERSONAS["outsider"])


@pytest.fixture
def admin_client(unit_cloud: FakeKeystone, db: None) -> Client:
    return sign_in(Client(), PERSONAS["admin"])


@pytest.fixture
def keystone(
    use_clouds: Callable[[dict[str, dict[str, object]]], None], settings: object
) -> Iterator[FakeKeystone]:
    """A fake Keystone on 127.0.0.1 with the personas, a user with two projects, one with none,
    and the portal's service user; clouds.yaml points at it."""
    ks = FakeKeystone()
    for project in ("demo", "study1", "admin", "service"):
        ks.add_project(project)
    for persona in PERSONAS.values():
        roles = {persona.project_id: list(persona.roles)}
        if persona.name == "admin":
            roles["p-demo"] = ["member", "reader"]
        ks.add_user(persona.name, persona.name + "-pw", roles)
    ks.add_user("multi", "multi-pw", {"p-demo": ["member"], "p-study1": ["member"]})
    ks.add_user("lonely", "lonely-pw", {})
    ks.add_user("stackdesk", "service-pw", {"p-service": ["service"], "system": ["reader"]})
    server, thread = serve(ks)
    settings.STACKDESK_SERVICE_CLOUD = "service"  # type: ignore[attr-defined]
    use_clouds(
        {
            "fake": {"auth": {"auth_url": ks.url + "/v3"}, "region_name": "RegionOne"},
            "service": {
                "auth": {
                    "auth_url": ks.url + "/v3",
                    "username": "stackdesk",
                    "password": "service-pw",
                    "project_name": "service",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
                "region_name": "RegionOne",
            },
        }
    )
    yield ks
    server.shutdown()
    thread.join()


@pytest.fixture(autouse=True)
def fresh_sign_in_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed sign-ins counted in one test never throttle another (nor the next run: the counts
    live in Redis): each test counts under a namespace of its own."""
    monkeypatch.setattr(throttle, "NAMESPACE", f"signin-throttle-test-{uuid.uuid4().hex}")


@pytest.fixture(autouse=True)
def cold_warm_lists(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers lists kept warm in one test (compute/warm.py, in Redis) and copies kept
    (portal/kept.py) never show in another: each test keeps them under a namespace of its
    own, so every test starts cold. A unit test's views of a warm list each ask Nova, as
    views more than STACKDESK_WARM_FRESH_SECONDS apart do (the window shared by views close
    together has tests of its own); cloud and browser tests keep the portal's setting."""
    monkeypatch.setattr(warm, "NAMESPACE", f"warm-lists-test-{uuid.uuid4().hex}")
    monkeypatch.setattr(kept, "NAMESPACE", f"kept-test-{uuid.uuid4().hex}")
    if not {"cloud", "browser"} & set(request.keywords):
        monkeypatch.setattr(settings, "STACKDESK_WARM_FRESH_SECONDS", 0.0)
