"""Key pairs (create with a one-time private key, import, delete) and server groups."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.test import Client

from compute.tests.fakes import FakeComputeGateway

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_create_shows_the_private_key_once(member_client: Client, fake: FakeComputeGateway) -> None:
    response = member_client.post("/compute/keypairs/create/", {"name": "laptop"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = re.search(r"-----BEGIN RSA PRIVATE KEY-----\n\w+\n-----END RSA PRIVATE KEY-----", html)
    assert key
    href = re.search(
        r'download="laptop.pem"\s+href="data:application/x-pem-file;charset=utf-8,([^"]+)"', html
    )
    assert href and unquote(href.group(1)).startswith("-----BEGIN RSA PRIVATE KEY-----")
    listing = member_client.get("/compute/keypairs/").content.decode()
    assert "laptop" in listing and fake.keypairs["laptop"].fingerprint in listing
    assert "PRIVATE KEY" not in listing  # never shown again


def test_create_refuses_bad_and_duplicate_names(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    bad = member_client.post("/compute/keypairs/create/", {"name": "my/key"})
    assert bad.status_code == 400
    assert "Use letters, digits, spaces and the characters _ . @ - only." in bad.content.decode()
    assert fake.calls["create_keypair"] == 0
    member_client.post("/compute/keypairs/create/", {"name": "twice"})
    again = member_client.post("/compute/keypairs/create/", {"name": "twice"})
    assert "Key pair &#x27;twice&#x27; already exists." in again.content.decode()


def test_import_checks_the_public_key(member_client: Client, fake: FakeComputeGateway) -> None:
    bad = member_client.post(
        "/compute/keypairs/import/", {"name": "mine", "public_key": "not a key"}
    )
    assert "This is not an OpenSSH public key." in bad.content.decode()
    assert "not a key" in bad.content.decode()  # what was typed comes back
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxg me@laptop"
    ok = member_client.post("/compute/keypairs/import/", {"name": "mine", "public_key": key})
    assert ok.status_code == 302
    assert fake.keypairs["mine"].public_key == key


def test_import_from_the_modal_closes_it_and_refreshes(
    member_client: Client, fake: FakeComputeGateway
) -> None:
    key = "ssh-rsa AAAAB3NzaC1yc2E me"
    response = member_client.post(
        "/compute/keypairs/import/", {"name": "m", "public_key": key}, headers=HTMX
    )
    trigger = response.headers["HX-Trigger"]
    assert "sd:changed" in trigger and "sd:close-modal" in trigger
    assert "Key pair m imported." in response.content.decode()


def test_delete_asks_then_deletes(member_client: Client, fake: FakeComputeGateway) -> None:
    member_client.post("/compute/keypairs/create/", {"name": "old"})
    confirm = member_client.get("/compute/keypairs/old/delete/").content.decode()
    assert "Delete key pair old" in confirm and "old" in fake.keypairs
    page = member_client.post("/compute/keypairs/old/delete/", follow=True).content.decode()
    assert "Key pair old deleted." in page and "old" not in fake.keypairs
    gone = member_client.post("/compute/keypairs/old/delete/", follow=True).content.decode()
    assert "Keypair old not found" in gone


def test_server_groups_create_list_delete(member_client: Client, fake: FakeComputeGateway) -> None:
    form = member_client.get("/compute/server-groups/create/").content.decode()
    for policy in ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"):
        assert f'value="{policy}"' in form
    missing = member_client.post("/compute/server-groups/create/", {"name": "", "policy": "x"})
    assert missing.status_code == 400 and "Select a valid choice." in missing.content.decode()
    member_client.post(
        "/compute/server-groups/create/", {"name": "spread", "policy": "soft-anti-affinity"}
    )
    page = member_client.get("/compute/server-groups/").content.decode()
    assert "spread" in page and "soft-anti-affinity" in page and "1 of 10 server groups" in page
    group = next(iter(fake.server_groups.values()))
    member_client.post(f"/compute/server-groups/{group.id}/delete/")
    assert not fake.server_groups


def test_server_group_quota_refusal(member_client: Client, fake: FakeComputeGateway) -> None:
    for i in range(10):
        fake.create_server_group(f"g{i}", "affinity")
    response = member_client.post(
        "/compute/server-groups/create/", {"name": "one-more", "policy": "affinity"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Quota exceeded, too many server groups." in html and "one-more" in html


def test_korean_pages(member_client: Client, fake: FakeComputeGateway) -> None:
    fake.add_server("web-1")
    member_client.cookies["django_language"] = "ko"
    html = member_client.get("/compute/servers/", headers={"Accept-Language": "ko"}).content
    page = html.decode()
    assert "인스턴스 시작" in page and "아직 인스턴스가 없습니다." not in page
    assert "전원 상태" in page
