"""The API's OpenAPI document (/api/v1/openapi.json, built by api/openapi.py): valid
OpenAPI 3.1, one declaration for every URL under /api/v1/, forms mapped to the right JSON
Schema, and real answers (through the fake clouds) that conform to it. Read over HTTP, as a
client reads it: the portal's tests do not import the API assembly (pyproject.toml)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from schemathesis.specs.openapi.definitions import OPENAPI_31

from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway
from portal import api, cloud
from portal.audit import record_json
from portal.gateways import override
from portal.models import AuditRecord
from portal.tests.fake_keystone import FakeKeystone

pytestmark = pytest.mark.django_db
URL = "/api/v1/openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def ks(keystone: FakeKeystone, settings: Any) -> FakeKeystone:
    settings.STACKDESK_SERVICE_CLOUD = ""
    cloud.available_clouds.cache_clear()
    return keystone


@pytest.fixture
def fake() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


def document() -> dict[str, Any]:
    response = Client().get(URL)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    found: dict[str, Any] = json.loads(response.content)
    return found


def token(ks: FakeKeystone, name: str) -> dict[str, str]:
    user = ks.users[name]
    issued, _record = ks.issue(user, next(iter(user.roles)), ["password"])
    return {"X-Auth-Token": issued}


def api_urls() -> Iterator[tuple[str, URLPattern]]:
    """(route, pattern) of every URL of the portal's URL conf under api/v1/."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            elif route.startswith("api/v1/") and p.callback is not api.no_endpoint:
                yield route, p

    yield from walk(get_resolver().url_patterns, "")


def conforms(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """The errors of `instance` against a schema of the document (its $refs resolved)."""
    validator = jsonschema_rs.validator_for({**schema, "components": doc["components"]})
    return [error.message for error in validator.iter_errors(instance)]


def test_the_document_is_valid_openapi_and_served_without_a_token() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    errors = [e.message for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(doc)]
    assert errors == []
    # Every $ref names something the document has.
    refs = {r.split('"')[0] for r in json.dumps(doc).split('"$ref": "')[1:]}
    assert "#/components/schemas/OperationDetailJson" in refs
    for ref in refs:
        node: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    assert doc["components"]["securitySchemes"]["keystoneToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "Your own project-scoped Keystone token.",
    }
    assert doc["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    refused = Client().post(URL)
    assert refused.status_code == 405 and refused["Allow"] == "GET"


def test_every_url_under_api_v1_is_declared_and_in_the_document() -> None:
    doc, seen = document(), set()
    for route, pattern in api_urls():
        assert pattern.callback in api.ENDPOINTS, f"/{route} has no api_view declaration"
        endpoint = api.ENDPOINTS[pattern.callback]
        path = "/" + route.replace("<int:pk>", "{pk}").replace("<str:host>", "{host}")
        path = path.replace("<str:server_id>", "{server_id}")
        assert "<" not in path, f"a converter this test does not know: {path}"
        declared = {m for m in METHODS if m in doc["paths"][path]}
        assert declared == {m.lower() for m in endpoint.methods}, path
        seen.add(path)
    assert seen == set(doc["paths"])
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len(operations) == 11
    ids = [op["operationId"] for op in operations]
    assert len(set(ids)) == len(ids) and "drain_host" in ids and "list_audit_records" in ids
    for op in operations:
        if op["operationId"] != "openapi":
            assert {"400", "401", "403", "503"} <= set(op["responses"]), op["operationId"]
            assert "security" not in op  # the document's own: the token


@pytest.mark.parametrize(
    "url", ["/api/v1/operations/abc/", "/api/v1/nothing/", "/api/v1/hosts/x/y/z/"]
)
def test_a_url_that_names_no_endpoint_is_a_json_404(url: str) -> None:
    """Found by schemathesis: a path parameter that does not fit its converter got the
    portal's HTML 404 page, not the JSON the document promises."""
    for response in (Client().get(url), Client().post(url)):
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert json.loads(response.content) == {
            "error": "There is no such endpoint: see /api/v1/openapi.json.",
            "field": None,
        }
    assert Client().get(url.rstrip("/")).status_code == 301  # APPEND_SLASH as before


def test_a_form_maps_to_its_json_schema() -> None:
    doc = document()
    drain = doc["paths"]["/api/v1/hosts/{host}/drain/"]["post"]
    assert drain["parameters"][0] == {
        "name": "host",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[^/]+$"},
    }
    body = drain["requestBody"]["content"]["application/json"]["schema"]
    assert drain["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"] == body
    props = body["properties"]
    assert body["required"] == []  # every field has a default (bound_form fills it in)
    assert props["concurrency"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 8,
        "default": 2,
        "description": "Instances moved at once. More at once finishes sooner but loads the "
        "network and the hosts more.",
    }
    assert (props["active"]["enum"], props["active"]["default"]) == (["live", "cold"], "live")
    assert props["stopped"]["enum"] == ["cold", "skip"]
    assert props["reason"]["type"] == "string" and props["reason"]["maxLength"] == 255
    # A choice the view fills in from the cloud (hosts) is a plain string; a fixed one an enum.
    live = doc["paths"]["/api/v1/servers/{server_id}/live-migrate/"]["post"]
    props = live["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "enum" not in props["host"] and props["host"]["type"] == "string"
    assert props["block_migration"]["enum"] == ["auto", "yes", "no"]
    bulk = doc["paths"]["/api/v1/quotas/bulk/"]["post"]["requestBody"]
    schema = bulk["content"]["application/json"]["schema"]
    assert schema["required"] == ["projects"]
    assert schema["properties"]["projects"]["type"] == "array"
    assert schema["properties"]["compute__instances"]["minimum"] == -1
    assert schema["properties"]["volume__gigabytes"]["maximum"] == 2147483647
    # A GET form's fields are query parameters: required as the form says, dates as dates.
    usage = {p.get("name"): p for p in doc["paths"]["/api/v1/usage.csv"]["get"]["parameters"]}
    assert usage["start"]["required"] and usage["start"]["schema"]["format"] == "date"
    assert usage["rows"]["schema"]["enum"] == ["summary"]
    audit = {p.get("name"): p for p in doc["paths"]["/api/v1/audit/"]["get"]["parameters"]}
    assert not audit["start"]["required"]
    assert audit["result"]["schema"]["enum"][:3] == ["", "accepted", "refused"]
    op = doc["paths"]["/api/v1/operations/{pk}/"]["get"]["parameters"][0]
    assert op["schema"] == {"type": "integer", "minimum": 0}


def test_the_cloud_header_lists_the_configured_clouds(ks: FakeKeystone) -> None:
    header = document()["components"]["parameters"]["cloud"]
    where = cloud.available_clouds()[0]
    assert header["name"] == "X-Stackdesk-Cloud" and where.key in header["schema"]["enum"]


def test_real_answers_conform_to_the_document(ks: FakeKeystone, fake: FakeAdminGateway) -> None:
    """A drain, the job, the list, the cancel, an error and the audit log, through the fake
    clouds, against the document's own schemas."""
    doc, client, admin = document(), Client(), token(ks, "admin")

    def check(response: Any, path: str, method: str) -> Any:
        declared = doc["paths"][path][method]["responses"][str(response.status_code)]
        if "$ref" in declared:
            declared = doc["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
        schema = declared["content"][response["Content-Type"]]["schema"]
        data = json.loads(response.content)
        assert conforms(doc, schema, data) == [], data
        return data

    started = client.post("/api/v1/hosts/compute1/drain/", {"concurrency": 1}, headers=admin)
    job = check(started, "/api/v1/hosts/{host}/drain/", "post")
    assert started.status_code == 202 and "report" in job  # a host job's counts
    one = client.get(f"/api/v1/operations/{job['id']}/", headers=admin)
    check(one, "/api/v1/operations/{pk}/", "get")
    listed = client.get("/api/v1/operations/", headers=admin)
    assert check(listed, "/api/v1/operations/", "get")["count"] == 1
    cancelled = client.post(f"/api/v1/operations/{job['id']}/cancel/", headers=admin)
    assert check(cancelled, "/api/v1/operations/{pk}/cancel/", "post")["state"] == "cancelled"
    missing = client.get("/api/v1/operations/999999/", headers=admin)
    assert check(missing, "/api/v1/operations/{pk}/", "get")["field"] is None
    audit = client.get("/api/v1/audit/", headers=admin)
    records = check(audit, "/api/v1/audit/", "get")["records"]
    assert len(records) == 2  # the drain and the cancel


def test_audit_records_have_the_declared_keys() -> None:
    """record_json (portal/audit.py) and the TypedDict the document shows stay equal."""
    record = AuditRecord.objects.create(
        cloud_key="fake", action="drain_host", url_name="api:drain-host", result="accepted"
    )
    assert set(record_json(record)) == set(api.AuditRecordJson.__annotations__)
