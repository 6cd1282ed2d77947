"""A small Keystone v3 on 127.0.0.1 for unit tests of sign-in: real HTTP, real keystoneauth.

It knows users, projects, role assignments, application credentials and tokens, and answers
the calls the portal makes: password / token / application-credential auth (unscoped or
project-scoped), GET /v3/auth/projects, token validation and revocation, and domain lookup by
the service user. Answers follow Keystone's: a wrong password and an unknown domain both get
the same generic 401.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

UNAUTHORIZED = {
    "error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
}


@dataclass
class User:
    id: str
    name: str
    password: str
    domain_id: str = "default"
    roles: dict[str, list[str]] = field(default_factory=dict)  # project id -> role names


@dataclass
class Token:
    user: User
    project_id: str | None
    expires_at: datetime
    methods: list[str]


@dataclass
class FakeKeystone:
    domains: dict[str, str] = field(default_factory=lambda: {"default": "Default"})
    projects: dict[str, str] = field(default_factory=dict)  # id -> name
    users: dict[str, User] = field(default_factory=dict)  # name -> user
    app_credentials: dict[str, tuple[str, User, str]] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    token_lifetime: timedelta = timedelta(hours=1)
    calls: list[str] = field(default_factory=list)
    url: str = ""

    def add_project(self, name: str) -> str:
        pid = "p-" + name
        self.projects[pid] = name
        return pid

    def add_user(self, name: str, password: str, roles: dict[str, list[str]]) -> User:
        user = User(id="u-" + name, name=name, password=password, roles=roles)
        self.users[name] = user
        return user

    def issue(self, user: User, project_id: str | None, methods: list[str]) -> tuple[str, Token]:
        token = secrets.token_hex(16)
        record = Token(user, project_id, datetime.now(UTC) + self.token_lifetime, methods)
        self.tokens[token] = record
        return token, record

    def valid(self, token: str | None) -> Token | None:
        record = self.tokens.get(token or "")
        if record is None or record.expires_at <= datetime.now(UTC):
            return None
        return record

    def token_body(self, record: Token) -> dict[str, Any]:
        user = record.user
        body: dict[str, Any] = {
            "methods": record.methods,
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": {"id": user.domain_id, "name": self.domains[user.domain_id]},
            },
            "expires_at": record.expires_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        }
        if record.project_id == "system":
            body["system"] = {"all": True}
        elif record.project_id:
            body["project"] = {
                "id": record.project_id,
                "name": self.projects[record.project_id],
                "domain": {"id": "default", "name": "Default"},
            }
        if record.project_id:
            body["roles"] = [
                {"id": "r-" + r, "name": r} for r in user.roles.get(record.project_id, [])
            ]
            body["catalog"] = [
                {
                    "type": "identity",
                    "name": "keystone",
                    "id": "s-identity",
                    "endpoints": [
                        {
                            "id": "e-1",
                            "interface": "public",
                            "region": "RegionOne",
                            "region_id": "RegionOne",
                            "url": self.url + "/v3",
                        }
                    ],
                }
            ]
        return {"token": body}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length", "0"))
        body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return body

    def do_GET(self) -> None:
        ks = self.server.keystone
        path = urlparse(self.path).path.rstrip("/")
        ks.calls.append(f"GET {path}")
        if path in ("", "/v3"):
            version = {
                "id": "v3.14",
                "status": "stable",
                "updated": "2020-01-01T00:00:00Z",
                "links": [{"rel": "self", "href": ks.url + "/v3/"}],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.identity-v3+json",
                    }
                ],
            }
            if path == "":
                self._send(300, {"versions": {"values": [version]}})
            else:
                self._send(200, {"version": version})
            return
        caller = ks.valid(self.headers.get("X-Auth-Token"))
        if caller is None:
            self._send(401, UNAUTHORIZED)
            return
        if path == "/v3/auth/projects":
            projects = [
                {"id": pid, "name": ks.projects[pid], "domain_id": "default", "enabled": True}
                for pid in caller.user.roles
                if pid != "system"
            ]
            self._send(200, {"projects": projects})
        elif path == "/v3/auth/tokens":
            subject = ks.valid(self.headers.get("X-Subject-Token"))
            if subject is None:
                self._send(404, {"error": {"code": 404, "message": "Token not found"}})
            else:
                self._send(200, ks.token_body(subject))
        elif path.startswith("/v3/domains"):
            name = parse_qs(urlparse(self.path).query).get("name", [None])[0]
            ident = path.removeprefix("/v3/domains").strip("/")
            found = [
                {"id": i, "name": n, "enabled": True}
                for i, n in ks.domains.items()
                if n == name or i == ident
            ]
            if ident:
                if found:
                    self._send(200, {"domain": found[0]})
                else:
                    self._send(404, {"error": {"code": 404, "message": "Could not find domain"}})
            else:
                self._send(200, {"domains": found})
        else:
            self._send(404, {"error": {"code": 404, "message": "Not found"}})

    def do_POST(self) -> None:
        ks = self.server.keystone
        ks.calls.append("POST " + urlparse(self.path).path)
        auth = self._json().get("auth", {})
        identity = auth.get("identity", {})
        methods = identity.get("methods", [])
        user: User | None = None
        project_id: str | None = None
        if "password" in methods:
            u = identity["password"]["user"]
            domain = u.get("domain", {})
            domain_id = domain.get("id") or next(
                (i for i, n in ks.domains.items() if n == domain.get("name")), None
            )
            candidate = ks.users.get(u.get("name", ""))
            if (
                domain_id
                and candidate
                and candidate.domain_id == domain_id
                and candidate.password == u.get("password")
            ):
                user = candidate
        elif "token" in methods:
            record = ks.valid(identity["token"]["id"])
            user = record.user if record else None
        elif "application_credential" in methods:
            cred = identity["application_credential"]
            found = ks.app_credentials.get(cred.get("id", ""))
            if found and found[0] == cred.get("secret"):
                user, project_id = found[1], found[2]
        scope = auth.get("scope")
        if isinstance(scope, dict) and "system" in scope:
            project_id = "system"
        elif isinstance(scope, dict) and "project" in scope:
            wanted = scope["project"]
            project_id = wanted.get("id") or next(
                (i for i, n in ks.projects.items() if n == wanted.get("name")), "unknown"
            )
        if user is None or (project_id and project_id not in user.roles):
            self._send(401, UNAUTHORIZED)
            return
        token, record = ks.issue(user, project_id, methods)
        self._send(201, ks.token_body(record), {"X-Subject-Token": token})

    def do_DELETE(self) -> None:
        ks = self.server.keystone
        ks.calls.append("DELETE " + urlparse(self.path).path)
        if ks.valid(self.headers.get("X-Auth-Token")) is None:
            self._send(401, UNAUTHORIZED)
            return
        if ks.tokens.pop(self.headers.get("X-Subject-Token", ""), None) is None:
            self._send(404, {"error": {"code": 404, "message": "Token not found"}})
            return
        self.send_response(204)
        self.end_headers()


class _Server(ThreadingHTTPServer):
    keystone: FakeKeystone


def serve(keystone: FakeKeystone) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.keystone = keystone
    keystone.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread
