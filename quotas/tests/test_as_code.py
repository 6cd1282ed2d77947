"""The quota defaults and usage export forms' "show as code" panels (quotas/as_code.py)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from projects.tests.fakes import FakeProjectsGateway
from quotas.tests.fakes import FakeQuotasGateway

pytestmark = pytest.mark.django_db

OS = "openstack --os-cloud unit"


def shown(client: Client, path: str, **fields: Any) -> str:
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200, answer.content.decode()[:300]
    return html.unescape(answer.content.decode())


def test_defaults_set_the_quota_class_and_leave_the_network_to_the_portal(
    admin_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    code = shown(
        admin_client,
        "/quotas/admin/defaults/",
        compute__instances="12",
        volume__snapshots="4",
        network__routers="2",
    )
    assert f"{OS} quota set --default --instances 12 --snapshots 4" in code
    assert "routers" not in code and "Ansible tasks" not in code
    assert "no module for default quotas" in code


def test_the_defaults_page_shows_the_current_defaults_as_code(
    admin_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    page = html.unescape(admin_client.get("/quotas/admin/defaults/").content.decode())
    assert "Show as code" in page and f"{OS} quota set --default --instances " in page


def test_export_usage_is_the_api_csv_and_the_usage_export_module(
    admin_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    code = shown(admin_client, "/quotas/admin/usage/export/", start="2026-11-01", end="2026-11-30")
    assert (
        'curl -sS --fail-with-body -X GET -H "X-Auth-Token: $TOKEN" '
        "'http://testserver/api/v1/usage.csv?start=2026-11-01&end=2026-11-30' "
        "-o usage-2026-11-01-2026-11-30.csv"
    ) in code
    assert "stackdesk.portal.usage_export:" in code and "start: '2026-11-01'" in code
    assert "dest: usage-2026-11-01-2026-11-30.csv" in code


def test_export_project_usage_names_the_project_to_fill_in(
    member_client: Client, quota_fake: FakeQuotasGateway
) -> None:
    code = shown(member_client, "/quotas/usage/export/", start="2026-11-01", end="2026-11-30")
    assert "usage.csv?start=2026-11-01&end=2026-11-30&project=%3Cproject-id%3E" in code
    assert "project: <project-id>" in code and "rows:" not in code
    summary = shown(member_client, "/quotas/usage/export/", rows="summary")
    assert "rows=summary" in summary and "rows: summary" in summary


def test_the_large_export_page_shows_its_code(
    admin_client: Client,
    keystone_fake: FakeProjectsGateway,
    quota_fake: FakeQuotasGateway,
    settings: Any,
) -> None:
    settings.STACKDESK_USAGE_EXPORT_STREAM_LIMIT = 1
    page = admin_client.get(
        "/quotas/admin/usage/export/", {"start": "2026-11-01", "end": "2026-11-02"}
    )
    text = html.unescape(page.content.decode())
    assert "Start the export" in text, text[:500]
    assert "stackdesk.portal.usage_export:" in text and "end: '2026-11-02'" in text
