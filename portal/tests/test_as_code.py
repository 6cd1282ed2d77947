"""Show as code (portal/as_code.py): the panel beside a form, its refresh as one types, what
it leaves out, and that every form that changes the cloud has one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal import as_code
from portal.as_code import Draft
from portal.models import AuditRecord
from portal.tests.test_audit import URLS, fakes

__all__ = ["fakes"]  # the audit walk's fixture: every app's fake gateway

pytestmark = pytest.mark.django_db


def draft(**fields: str | list[str]) -> Draft:
    typed = {k: v if isinstance(v, list) else [v] for k, v in fields.items()}
    return Draft(fields=typed, cloud="unit", portal="http://portal.test/")


def test_openstack_quotes_every_word_and_leaves_out_what_is_not_set() -> None:
    assert draft().openstack("image set", "i", min_disk=0) == (
        "openstack --os-cloud unit image set --min-disk 0 i"
    )
    line = draft().openstack(
        "volume create",
        "my vol; rm -rf /",
        size=3,
        type=None,
        bootable=True,
        property=["a=1", "b=2"],
        description="",
    )
    assert line == (
        "openstack --os-cloud unit volume create --size 3 --bootable --property a=1 "
        "--property b=2 'my vol; rm -rf /'"
    )


def test_a_draft_hands_out_no_secret_and_names_what_is_missing() -> None:
    d = draft(name=" web ", password="hunter2", admin_password="x", size="ten", count="3")
    assert d.text("name") == "web"
    assert d.text("password") == "" and d.need("admin_password") == "<admin-password>"
    assert d.number("size") == "<size>" and d.number("count") == 3
    assert d.flag("count") is False and draft(on="on").flag("on") is True


def test_a_task_names_the_cloud_and_the_portal_only_for_its_own_modules() -> None:
    d = draft()
    assert d.task("volume", "Create", name="v", size=None) == {
        "name": "Create",
        "openstack.cloud.volume": {"cloud": "unit", "name": "v"},
    }
    own = d.task("stackdesk.portal.drain_host", "Drain", host="h1")
    assert own["stackdesk.portal.drain_host"] == {
        "cloud": "unit",
        "portal_url": "http://portal.test/",
        "host": "h1",
    }


def test_the_portal_api_line_lets_the_shell_fill_in_only_the_token() -> None:
    line = draft().portal_api("POST", "hosts/h 1/drain/", {"reason": "it's $HOME"})
    token, curl = line.split("\n")
    assert token == "TOKEN=$(openstack --os-cloud unit token issue -f value -c id)"
    assert '"X-Auth-Token: $TOKEN"' in curl
    assert '\'{"reason": "it\'"\'"\'s $HOME"}\'' in curl  # single-quoted: no expansion
    assert curl.endswith("'http://portal.test/api/v1/hosts/h 1/drain/'")


def test_a_form_without_code_or_no_form_is_a_404(member_client: Client) -> None:
    assert member_client.get("/code/", {"for": "/volumes/"}).status_code == 404
    assert member_client.get("/code/", {"for": "/no/such/page/"}).status_code == 404
    assert member_client.get("/code/").status_code == 404


def test_signed_out_the_panel_is_not_served(client: Client) -> None:
    assert client.get("/code/", {"for": "/volumes/create/"}).status_code == 302


def test_every_writer_is_for_a_url_that_exists() -> None:
    names = {name for name, _path in URLS}
    assert set(as_code.WRITERS) <= names, set(as_code.WRITERS) - names


def test_every_change_of_the_cloud_has_its_code(
    admin_client: Client, fakes: dict[str, Any], unit_cloud: Any
) -> None:
    """POST every URL of the URL conf as an admin (as the audit log's walk does): each that the
    audit log records as a change, and that changes the cloud (not the portal's own session,
    settings or jobs; not the JSON API, which is itself the code), has a writer, so a new form
    without its panel fails here."""
    admin_client.raise_request_exception = False
    for name, path in URLS:
        if name != "portal:sign-out":
            admin_client.post(path, {"name": "walked"})
    changes = set(AuditRecord.objects.values_list("url_name", flat=True))
    assert "network:create-network" in changes  # the walk reached the apps
    wanted = {
        name for name in changes - as_code.NOT_CLOUD_CHANGES if name and not name.startswith("api:")
    }
    missing = sorted(wanted - set(as_code.WRITERS))
    assert not missing, f"forms that change the cloud without show-as-code: {missing}"
