"""Project › API Access: the token's endpoints in the portal's region, its roles and expiry,
and the clouds.yaml and openrc downloads (no password, no token, not cached)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from conftest import PERSONAS, persona_identity, sign_in
from portal import cloud
from portal.crypto import seal
from portal.identity import SESSION_CREDENTIAL
from portal.tests.fake_keystone import FakeKeystone
from projects.api_access import openrc

pytestmark = pytest.mark.django_db

URL = "/project/api-access/"
CATALOG = [
    {
        "type": "compute",
        "name": "nova",
        "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "url": "http://one:8774/v2.1"},
            {"interface": "internal", "region_id": "RegionOne", "url": "http://one-int:8774/v2.1"},
            {"interface": "public", "region_id": "RegionTwo", "url": "http://two:8774/v2.1"},
        ],
    },
    {
        "type": "identity",
        "name": "keystone",
        "endpoints": [{"interface": "public", "region": "RegionOne", "url": "http://one:5000/v3"}],
    },
]


def html(response: Any) -> str:
    return unescape(response.content.decode())  # type: ignore[no-any-return]


@pytest.fixture
def member(unit_cloud: FakeKeystone) -> Client:
    """The member, whose sealed token body carries a catalog of two regions."""
    client = sign_in(Client(), PERSONAS["member"])
    session = client.session
    session[SESSION_CREDENTIAL] = seal(
        {"token": "token-member", "body": {"token": {"catalog": CATALOG}}, "unscoped": "u"}
    )
    session.save()
    return client


def test_the_page_lists_this_region_s_endpoints_and_the_token_s_roles_and_expiry(
    member: Client,
) -> None:
    page = html(member.get(URL))
    assert "http://one:8774/v2.1" in page and "http://one-int:8774/v2.1" in page
    assert "http://two:8774/v2.1" not in page  # another region's
    rows = [" ".join(r.split()) for r in page.split("<tr>")[1:]]
    assert any("compute</th><td>nova</td><td>internal</td>" in r for r in rows)
    assert any("identity</th><td>keystone</td><td>public</td>" in r for r in rows)
    assert 'badge text-bg-secondary me-1">member<' in page and ">reader<" in page
    assert re.search(r"\d\d:\d\d UTC</time> \(in (59\xa0minutes|1\xa0hour)\)", page)
    assert 'href="/project/api-access/clouds.yaml" download' in page
    assert 'href="/project/api-access/openrc" download' in page
    assert f'href="{URL}"' in page  # the menu entry under Project
    assert "token-member" not in page


def test_clouds_yaml_download_has_the_portal_s_cloud_and_no_secret(
    member: Client, unit_cloud: FakeKeystone
) -> None:
    response = member.get(URL + "clouds.yaml")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="clouds.yaml"'
    assert response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert "password" not in yaml.safe_load(content)["clouds"]["unit"]["auth"]
    assert "token-member" not in content
    assert yaml.safe_load(content) == {
        "clouds": {
            "unit": {
                "auth_type": "password",
                "auth": {
                    "auth_url": unit_cloud.url + "/v3",
                    "username": "member",
                    "user_domain_name": "Default",
                    "project_id": "p-demo",
                    "project_name": "demo",
                    "project_domain_id": "default",
                },
                "region_name": "RegionOne",
                "interface": "public",
                "identity_api_version": 3,
            }
        }
    }


def test_openrc_download_asks_for_the_password_and_sets_the_variables(
    member: Client, unit_cloud: FakeKeystone, tmp_path: Path
) -> None:
    response = member.get(URL + "openrc")
    assert response["Content-Disposition"] == 'attachment; filename="demo-openrc.sh"'
    assert response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert "read -sr OS_PASSWORD" in content and "token-member" not in content
    script = tmp_path / "openrc.sh"
    script.write_bytes(response.content)
    env = run_sourced(script, "s3cret pw")
    assert env["OS_PASSWORD"] == "s3cret pw"
    assert env["OS_AUTH_URL"] == unit_cloud.url + "/v3"
    assert (env["OS_USERNAME"], env["OS_PROJECT_ID"], env["OS_PROJECT_NAME"]) == (
        "member",
        "p-demo",
        "demo",
    )
    assert (env["OS_REGION_NAME"], env["OS_INTERFACE"], env["OS_AUTH_TYPE"]) == (
        "RegionOne",
        "public",
        "password",
    )
    assert "OS_CLOUD" not in env  # unset: it would win over the variables


def run_sourced(script: Path, password: str) -> dict[str, str]:
    """Source the openrc in bash with the password on stdin, and return the environment."""
    shell = f"OS_CLOUD=old; source {script}; env -0"
    done = subprocess.run(
        ["/bin/bash", "-c", shell],
        input=password + "\n",
        capture_output=True,
        check=True,
        text=True,
    )
    return dict(line.split("=", 1) for line in done.stdout.split("\0") if "=" in line)


def test_names_with_shell_characters_stay_names(tmp_path: Path, unit_cloud: FakeKeystone) -> None:
    odd = replace(
        persona_identity(PERSONAS["member"]),
        user_name="o'brien $(touch pwned)",
        project_name='demo"; rm -rf x #',
    )
    where = cloud.find_cloud(odd.cloud_key)
    script = tmp_path / "openrc.sh"
    script.write_text(openrc(odd, where))
    env = run_sourced(script, "pw")
    assert env["OS_USERNAME"] == "o'brien $(touch pwned)"
    assert env["OS_PROJECT_NAME"] == 'demo"; rm -rf x #'
    assert not (Path.cwd() / "pwned").exists()


@pytest.mark.parametrize("persona", ["reader", "outsider", "admin"])
def test_every_signed_in_user_gets_their_own_and_nobody_else_gets_any(
    client: Client, unit_cloud: FakeKeystone, persona: str
) -> None:
    for url in (URL, URL + "clouds.yaml", URL + "openrc"):
        assert client.get(url).status_code == 302  # to the sign-in page
    sign_in(client, PERSONAS[persona])
    entry = yaml.safe_load(client.get(URL + "clouds.yaml").content)["clouds"]["unit"]
    assert entry["auth"]["username"] == persona
    assert entry["auth"]["project_id"] == PERSONAS[persona].project_id
    assert "no endpoints in this region" in html(client.get(URL))  # its token body is empty
    assert client.post(URL + "clouds.yaml").status_code == 405
