"""The volumes forms' "show as code" panels (volumes/as_code.py, portal/as_code.py)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db


def test_the_create_volume_form_shows_its_code(
    member_client: Client, fake: FakeVolumesGateway
) -> None:
    page = html.unescape(member_client.get("/volumes/create/").content.decode())
    assert "Show as code" in page
    assert "openstack --os-cloud unit volume create --size 1 '<name>'" in page
    assert "openstack.cloud.volume:" in page and "cloud: unit" in page
    assert 'hx-params="not csrfmiddlewaretoken"' in page


def test_typing_asks_for_the_code_again(member_client: Client, fake: FakeVolumesGateway) -> None:
    fields: dict[str, Any] = {
        "for": "/volumes/create/",
        "name": "db",
        "size": "20",
        "source_type": "blank",
        "volume_type": "ceph",
    }
    answer = member_client.get("/code/", fields)
    assert answer.status_code == 200
    shown = html.unescape(answer.content.decode())
    assert "openstack --os-cloud unit volume create --size 20 --type ceph db" in shown
    assert "volume_type: ceph" in shown and "<html" not in shown
