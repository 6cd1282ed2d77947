"""The JSON API (/api/v1/): token authentication against the fake Keystone over real HTTP,
and every endpoint's success and refusal paths through the fake compute cloud."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway
from portal import api, cloud
from portal.crypto import unseal
from portal.errors import Rejected
from portal.gateways import override
from portal.models import Operation
from portal.tests.fake_keystone import FakeKeystone
from projects.gateway import ProjectsGateway
from projects.tests.fakes import FakeProjectsGateway
from quotas.gateway import QuotasGateway
from quotas.tests.fakes import FakeQuotasGateway, FakeServer

pytestmark = pytest.mark.django_db
Headers = dict[str, str]


@pytest.fixture
def ks(keystone: FakeKeystone, settings: Any) -> FakeKeystone:
    """The fake Keystone, without the portal's service user: jobs act with the token itself."""
    settings.STACKDESK_SERVICE_CLOUD = ""
    cloud.available_clouds.cache_clear()
    return keystone


@pytest.fixture
def fake() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


def token_for(ks: FakeKeystone, name: str, project: str | None = "persona") -> str:
    user = ks.users[name]
    project_id = next(iter(user.roles)) if project == "persona" else project
    token, _record = ks.issue(user, project_id, ["application_credential"])
    return token


def auth(token: str) -> Headers:
    return {"X-Auth-Token": token}


def body(response: Any) -> Any:
    assert response["Content-Type"] == "application/json", response.content
    return json.loads(response.content)


def validations(ks: FakeKeystone) -> int:
    return ks.calls.count("GET /v3/auth/tokens")


# --- authentication ---------------------------------------------------------------------------


def test_no_token_is_401_even_with_a_signed_in_session(admin_client: Client) -> None:
    """A session cookie is no credential here: that is why the API needs no CSRF token."""
    response = admin_client.get("/api/v1/operations/")
    assert response.status_code == 401
    assert "X-Auth-Token" in body(response)["error"]
    drain = admin_client.post("/api/v1/hosts/compute1/drain/", {"concurrency": "2"})
    assert drain.status_code == 401 and not Operation.objects.exists()


def test_the_token_decides_whatever_the_session_says(
    admin_client: Client, ks: FakeKeystone, fake: FakeAdminGateway
) -> None:
    """An administrator's browser session does not lift a member's token to admin."""
    response = admin_client.post(
        "/api/v1/hosts/compute1/drain/", headers=auth(token_for(ks, "member"))
    )
    assert response.status_code == 403 and not Operation.objects.exists()
    listed = body(admin_client.get("/api/v1/operations/", headers=auth(token_for(ks, "member"))))
    assert listed["count"] == 0


def test_invalid_expired_and_unscoped_tokens_are_401(ks: FakeKeystone) -> None:
    client = Client()
    garbage = client.get("/api/v1/operations/", headers=auth("not-a-token"))
    assert garbage.status_code == 401
    assert body(garbage) == {"error": "Keystone does not accept this token.", "field": None}
    expired = token_for(ks, "member")
    ks.tokens[expired].expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/api/v1/operations/", headers=auth(expired)).status_code == 401
    # Valid in Keystone but inside the portal's safety margin: as good as expired.
    ks.token_lifetime = timedelta(seconds=10)
    dying = token_for(ks, "member")
    response = client.get("/api/v1/operations/", headers=auth(dying))
    assert response.status_code == 401 and "expired" in body(response)["error"]
    unscoped = token_for(ks, "member", project=None)
    response = client.get("/api/v1/operations/", headers=auth(unscoped))
    assert response.status_code == 401 and "scoped to a project" in body(response)["error"]


def test_a_validated_token_is_cached_sealed_under_its_hash(ks: FakeKeystone) -> None:
    token = token_for(ks, "member")
    client = Client()
    assert client.get("/api/v1/operations/", headers=auth(token)).status_code == 200
    assert client.get("/api/v1/operations/", headers=auth(token)).status_code == 200
    assert validations(ks) == 1  # the second request asked Keystone nothing
    where = cloud.available_clouds()[0]
    stored = cache.get(api._cache_key(where, token))
    assert stored and token not in stored and token not in api._cache_key(where, token)
    # Another token of the same user is validated on its own.
    client.get("/api/v1/operations/", headers=auth(token_for(ks, "member")))
    assert validations(ks) == 2


def test_the_cloud_header_names_a_configured_cloud(ks: FakeKeystone) -> None:
    token = token_for(ks, "member")
    named = Client().get(
        "/api/v1/operations/", headers={**auth(token), "X-Stackdesk-Cloud": "fake"}
    )
    assert named.status_code == 200
    unknown = Client().get(
        "/api/v1/operations/", headers={**auth(token), "X-Stackdesk-Cloud": "elsewhere"}
    )
    assert unknown.status_code == 400
    assert body(unknown) == {
        "error": "There is no cloud called “elsewhere”.",
        "field": "X-Stackdesk-Cloud",
    }


def test_keystone_unreachable_is_503(use_clouds: Any) -> None:
    use_clouds({"down": {"auth": {"auth_url": "http://127.0.0.1:9/v3"}}})
    response = Client().get("/api/v1/operations/", headers=auth("some-token"))
    assert response.status_code == 503 and "could not be reached" in body(response)["error"]


def test_a_member_is_refused_every_admin_endpoint(ks: FakeKeystone, fake: FakeAdminGateway) -> None:
    server = fake.add_server("vm")
    client, headers = Client(), auth(token_for(ks, "member"))
    for url in (
        "/api/v1/hosts/compute1/drain/",
        "/api/v1/hosts/compute1/evacuate/",
        f"/api/v1/servers/{server.id}/live-migrate/",
        f"/api/v1/servers/{server.id}/migrate/",
    ):
        response = client.post(url, {"concurrency": "2"}, headers=headers)
        assert response.status_code == 403, url
        assert body(response)["error"] == "This endpoint is for cloud administrators."
    assert not Operation.objects.exists()
    assert client.get("/api/v1/hosts/compute1/drain/", headers=headers).status_code == 405


# --- host jobs and migrations -----------------------------------------------------------------


def test_drain_starts_the_same_job_as_the_page(ks: FakeKeystone, fake: FakeAdminGateway) -> None:
    # No cookie, so no CSRF token either: the API is exempt because it takes no cookies.
    client, headers = Client(enforce_csrf_checks=True), auth(token_for(ks, "admin"))
    response = client.post(
        "/api/v1/hosts/compute1/drain/",
        {"concurrency": "3", "active": "live", "stopped": "skip", "reason": "RAM"},
        headers=headers,
    )
    assert response.status_code == 202
    op = Operation.objects.get()
    assert response["Location"] == f"/api/v1/operations/{op.pk}/"
    assert (op.kind, op.target, op.user_name, op.project_id) == (
        "drain_host",
        "compute1",
        "admin",
        "p-admin",
    )
    assert op.params == {"concurrency": 3, "active": "live", "stopped": "skip", "reason": "RAM"}
    assert "The portal has no service user" in op.log[0][1]
    data = body(response)
    assert (data["id"], data["state"], data["title"]) == (op.pk, "queued", "Drain host")
    # The job acts with the caller's token: the one sent in the header.
    assert (unseal(op.credential) or {})["token"] == headers["X-Auth-Token"]


def test_a_json_body_takes_the_forms_defaults_for_what_it_leaves_out(
    ks: FakeKeystone, fake: FakeAdminGateway
) -> None:
    response = Client().post(
        "/api/v1/hosts/compute2/drain/",
        json.dumps({"concurrency": 1}),
        content_type="application/json",
        headers=auth(token_for(ks, "admin")),
    )
    assert response.status_code == 202
    params = Operation.objects.get().params
    assert params == {"concurrency": 1, "active": "live", "stopped": "cold", "reason": ""}


def test_drain_refusals(ks: FakeKeystone, fake: FakeAdminGateway) -> None:
    client, headers = Client(), auth(token_for(ks, "admin"))
    bad = client.post("/api/v1/hosts/compute1/drain/", {"concurrency": "0"}, headers=headers)
    assert bad.status_code == 400
    assert body(bad) == {
        "error": "Ensure this value is greater than or equal to 1.",
        "field": "concurrency",
    }
    nowhere = client.post("/api/v1/hosts/nowhere/drain/", headers=headers)
    assert nowhere.status_code == 404
    assert body(nowhere)["error"] == "There is no compute service on nowhere."
    broken = client.post(
        "/api/v1/hosts/compute1/drain/", "[1]", content_type="application/json", headers=headers
    )
    assert broken.status_code == 400 and body(broken)["error"] == "The body must be a JSON object."
    fake.refusals["list_services"] = Rejected("Policy doesn't allow os-services:list.", 403)
    policy = client.post("/api/v1/hosts/compute1/drain/", headers=headers)
    assert policy.status_code == 403
    assert body(policy)["error"] == "Policy doesn't allow os-services:list."
    fake.refusals.clear()
    fake.unavailable.add("list_services")
    assert client.post("/api/v1/hosts/compute1/drain/", headers=headers).status_code == 503
    assert not Operation.objects.exists()


def test_evacuate_only_a_down_host(ks: FakeKeystone, fake: FakeAdminGateway) -> None:
    client, headers = Client(), auth(token_for(ks, "admin"))
    refused = client.post("/api/v1/hosts/compute1/evacuate/", headers=headers)
    assert refused.status_code == 409
    assert "compute1 is up: evacuation is for a host" in body(refused)["error"]
    fake.set_service("compute1", state="down")
    started = client.post("/api/v1/hosts/compute1/evacuate/", {"concurrency": 4}, headers=headers)
    assert started.status_code == 202
    op = Operation.objects.get()
    assert (op.kind, op.params) == ("evacuate_host", {"concurrency": 4})


def test_live_and_cold_migration(ks: FakeKeystone, fake: FakeAdminGateway) -> None:
    server = fake.add_server("vm")
    fake.set_service("compute3", status="disabled", disabled_reason="dead fan")
    client, headers = Client(), auth(token_for(ks, "admin"))
    url = f"/api/v1/servers/{server.id}/live-migrate/"
    refused = client.post(url, {"host": "compute3"}, headers=headers)
    assert refused.status_code == 400
    assert body(refused) == {
        "error": "compute3 cannot take this instance: its compute service is disabled (dead fan)",
        "field": "host",
    }
    unknown = client.post(url, {"host": "compute9"}, headers=headers)
    assert unknown.status_code == 400 and body(unknown)["field"] == "host"
    one_click = client.post(url, headers=headers)
    assert one_click.status_code == 202
    op = Operation.objects.get()
    assert (op.kind, op.target, op.params) == (
        "live_migrate_server",
        server.id,
        {"host": "", "block": "auto"},
    )
    chosen = client.post(
        url,
        json.dumps({"host": "compute2", "block_migration": "no"}),
        content_type="application/json",
        headers=headers,
    )
    assert chosen.status_code == 202
    assert Operation.objects.get(pk=body(chosen)["id"]).params == {
        "host": "compute2",
        "block": False,
    }
    cold = client.post(f"/api/v1/servers/{server.id}/migrate/", headers=headers)
    assert cold.status_code == 202 and body(cold)["kind"] == "migrate_server"
    missing = client.post("/api/v1/servers/no-such-id/migrate/", headers=headers)
    assert missing.status_code == 404
    assert body(missing)["error"] == "Instance no-such-id could not be found."


# --- operations -------------------------------------------------------------------------------


def make_op(user: str, project: str, **fields: Any) -> Operation:
    defaults: dict[str, Any] = {
        "kind": "refresh_project_counts",
        "title": "Test job",
        "task_name": "tests.noop",
        "cloud_key": "fake:RegionOne",
        "user_id": "u-" + user,
        "user_name": user,
        "project_id": "p-" + project,
        "project_name": project,
    }
    return Operation.objects.create(**{**defaults, **fields})


def test_operations_list_detail_and_who_sees_what(ks: FakeKeystone) -> None:
    mine = make_op("member", "demo", log=[["2026-01-01T00:00:00+00:00", "started"]])
    theirs = make_op(
        "admin",
        "admin",
        kind="drain_host",
        target="compute1",
        result={"items": [{"id": "s1", "state": "moved"}, {"id": "s2", "state": "failed"}]},
    )
    member, admin = auth(token_for(ks, "member")), auth(token_for(ks, "admin"))
    client = Client()
    listed = body(client.get("/api/v1/operations/", headers=member))
    assert [o["id"] for o in listed["operations"]] == [mine.pk] and listed["count"] == 1
    assert "log" not in listed["operations"][0]
    everyone = client.get("/api/v1/operations/?all=1", headers=member)
    assert everyone.status_code == 403 and body(everyone)["field"] == "all"
    assert body(client.get("/api/v1/operations/?all=1", headers=admin))["count"] == 2
    assert body(client.get("/api/v1/operations/", headers=admin))["count"] == 1
    detail = body(client.get(f"/api/v1/operations/{mine.pk}/", headers=member))
    assert detail["log"] == [{"at": "2026-01-01T00:00:00+00:00", "line": "started"}]
    assert detail["state"] == "queued" and detail["url"] == f"/api/v1/operations/{mine.pk}/"
    hidden = client.get(f"/api/v1/operations/{theirs.pk}/", headers=member)
    assert hidden.status_code == 404
    report = body(client.get(f"/api/v1/operations/{theirs.pk}/", headers=admin))
    assert report["result"]["items"][1] == {"id": "s2", "state": "failed"}
    assert report["report"]["moved"] == 1 and report["report"]["failed"] == 1


def test_cancel_a_job_once(ks: FakeKeystone) -> None:
    op = make_op("member", "demo")
    other = make_op("outsider", "study1")
    client, member = Client(), auth(token_for(ks, "member"))
    assert client.get(f"/api/v1/operations/{op.pk}/cancel/", headers=member).status_code == 405
    cancelled = client.post(f"/api/v1/operations/{op.pk}/cancel/", headers=member)
    assert cancelled.status_code == 200 and body(cancelled)["state"] == "cancelled"
    again = client.post(f"/api/v1/operations/{op.pk}/cancel/", headers=member)
    assert again.status_code == 409
    assert body(again)["error"] == "The job had already finished."
    refused = client.post(f"/api/v1/operations/{other.pk}/cancel/", headers=member)
    assert refused.status_code == 404
    other.refresh_from_db()
    assert other.state == "queued"


# --- quotas and usage -------------------------------------------------------------------------


@pytest.fixture
def quota_cloud() -> Iterator[FakeQuotasGateway]:
    """demo runs one server (2 vCPUs) since three days ago; the projects fake names them."""
    quotas = FakeQuotasGateway()
    started = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC) - timedelta(days=3)
    quotas.servers = [FakeServer("p-demo", "i-a", "web-a", started, vcpus=2)]
    with override(ProjectsGateway, FakeProjectsGateway()), override(QuotasGateway, quotas):
        yield quotas


def test_bulk_quotas_start_the_same_job_as_the_page(
    ks: FakeKeystone, quota_cloud: FakeQuotasGateway
) -> None:
    client, headers = Client(), auth(token_for(ks, "admin"))
    started = client.post(
        "/api/v1/quotas/bulk/",
        json.dumps({"projects": ["p-demo", "p-study1"], "compute__instances": 7}),
        content_type="application/json",
        headers=headers,
    )
    assert started.status_code == 202, started.content
    op = Operation.objects.get(kind="apply_quotas")
    assert started["Location"] == f"/api/v1/operations/{op.pk}/"
    assert op.params == {
        "projects": [["p-demo", "demo"], ["p-study1", "study1"]],
        "values": {"compute": {"instances": 7}},
    }
    unknown = client.post(
        "/api/v1/quotas/bulk/",
        {"projects": "p-nowhere", "compute__instances": "5"},
        headers=headers,
    )
    assert unknown.status_code == 400 and body(unknown)["field"] == "projects"
    empty = client.post("/api/v1/quotas/bulk/", {"projects": "p-demo"}, headers=headers)
    assert body(empty) == {"error": "Enter at least one quota to apply.", "field": None}
    member = client.post("/api/v1/quotas/bulk/", headers=auth(token_for(ks, "member")))
    assert member.status_code == 403 and Operation.objects.count() == 1


def csv_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode()


def test_usage_csv_is_the_browsers_export(
    admin_client: Client,
    member_client: Client,
    ks: FakeKeystone,
    quota_cloud: FakeQuotasGateway,
    settings: Any,
) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    period = {"start": (yesterday - timedelta(days=2)).isoformat(), "end": yesterday.isoformat()}
    client, admin, member = Client(), auth(token_for(ks, "admin")), auth(token_for(ks, "member"))
    every = csv_of(client.get("/api/v1/usage.csv", period, headers=admin))
    assert every == csv_of(admin_client.get("/quotas/admin/usage/export/", period))
    assert "demo" in every and "144.00" in every  # 2 vCPUs x 72 hours
    own = csv_of(client.get("/api/v1/usage.csv", {**period, "project": "p-demo"}, headers=member))
    assert own == csv_of(member_client.get("/quotas/usage/export/", period))
    assert "web-a" in own
    summary = {**period, "project": "p-demo", "rows": "summary"}
    assert csv_of(client.get("/api/v1/usage.csv", summary, headers=member)) == csv_of(
        member_client.get("/quotas/usage/export/", {**period, "rows": "summary"})
    )
    other = client.get("/api/v1/usage.csv", {**period, "project": "p-study1"}, headers=member)
    assert other.status_code == 403 and body(other)["field"] == "project"
    everyone = client.get("/api/v1/usage.csv", period, headers=member)
    assert everyone.status_code == 403 and "project=p-demo" in body(everyone)["error"]
    backwards = {"start": period["end"], "end": period["start"]}
    bad = client.get("/api/v1/usage.csv", backwards, headers=admin)
    assert bad.status_code == 400
    assert body(bad) == {
        "error": "The end date must be on or after the start date.",
        "field": "end",
    }
    settings.STACKDESK_USAGE_EXPORT_STREAM_LIMIT = 5
    large = client.get("/api/v1/usage.csv", period, headers=admin)
    assert large.status_code == 409 and "too much to stream" in body(large)["error"]
