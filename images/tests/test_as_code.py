"""The images forms' "show as code" panels (images/as_code.py, portal/as_code.py)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from images.tests.fakes import FakeImagesGateway

pytestmark = pytest.mark.django_db

OS = "openstack --os-cloud unit"
IMG = "img-1"  # ids are echoed from the URL: any will do


def shown(client: Client, path: str, **fields: Any) -> tuple[str, str, str]:
    """The panel at `path` with these fields typed: (commands, playbook, note)."""
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200
    page = answer.content.decode()
    blocks = re.findall(r'aria-label="([^"]+)"><code>(.*?)</code>', page, re.S)
    found = {label: html.unescape(text) for label, text in blocks}
    note = re.search(r'<p class="form-text mb-2">(.*?)</p>', page, re.S)
    return (
        found.get("OpenStack command line", ""),
        found.get("Ansible tasks", ""),
        html.unescape(note.group(1)) if note else "",
    )


IMAGE_FIELDS = {
    "name": "ubuntu 24",
    "description": "LTS",
    "disk_format": "raw",
    "container_format": "bare",
    "architecture": "x86_64",
    "min_disk": "3",
    "min_ram": "512",
    "visibility": "shared",
    "properties": "os_distro=ubuntu\nhalf-typed",
}
OPTIONS = (
    "--min-disk 3 --min-ram 512 --shared --unprotected --property description=LTS "
    "--property architecture=x86_64 --property os_distro=ubuntu"
)


FORMS = [
    (
        "/images/create/",
        {**IMAGE_FIELDS, "source": "file"},
        f"{OS} image create --disk-format raw --container-format bare --file '<file>' "
        f"{OPTIONS} 'ubuntu 24'",
        [
            "openstack.cloud.image:",
            "name: ubuntu 24",
            "filename: <file>",
            "min_disk: 3",
            "visibility: shared",
            "is_protected: false",
            "  os_distro: ubuntu",
            "  architecture: x86_64",
            "state: present",
        ],
    ),
    (
        f"/images/{IMG}/edit/",
        {**IMAGE_FIELDS, "protected": "on"},
        f"{OS} image set --name 'ubuntu 24' "
        + OPTIONS.replace("--unprotected", "--protected")
        + f" {IMG}",
        ["openstack.cloud.image:", f"id: {IMG}", "name: ubuntu 24", "is_protected: true"],
    ),
    (
        f"/images/{IMG}/protect/",
        {},
        f"{OS} image set --protected {IMG}",
        ["openstack.cloud.image:", f"id: {IMG}", "is_protected: true"],
    ),
    (
        f"/images/{IMG}/unprotect/",
        {},
        f"{OS} image set --unprotected {IMG}",
        ["openstack.cloud.image:", f"id: {IMG}", "is_protected: false"],
    ),
    (
        f"/images/{IMG}/delete/",
        {"name": "cirros"},
        f"{OS} image delete {IMG}",
        ["openstack.cloud.image:", f"name: {IMG}", "state: absent"],
    ),
    (
        "/images/delete/",
        {"image_ids": ["i-a", "i-b"]},
        f"{OS} image delete i-a i-b",
        ["name: i-a", "name: i-b", "state: absent"],
    ),
    (
        f"/images/{IMG}/create-volume/",
        {"name": "boot", "size": "2"},
        f"{OS} volume create --size 2 --image {IMG} boot",
        ["openstack.cloud.volume:", "name: boot", "size: 2", f"image: {IMG}"],
    ),
]


@pytest.mark.parametrize(("path", "fields", "command", "task_lines"), FORMS)
def test_each_image_form_shows_its_command_and_task(
    member_client: Client, path: str, fields: dict[str, Any], command: str, task_lines: list[str]
) -> None:
    commands, playbook, _ = shown(member_client, path, **fields)
    assert commands == command
    for line in task_lines:
        assert line in playbook
    assert "cloud: unit" in playbook


def test_a_url_import_is_a_task_and_a_note(member_client: Client) -> None:
    commands, playbook, note = shown(
        member_client,
        "/images/create/",
        name="cirros",
        source="url",
        url="https://example.org/cirros.img",
        min_disk="0",
        min_ram="0",
    )
    assert commands == ""
    assert "import_method: web-download" in playbook
    assert "uri: https://example.org/cirros.img" in playbook
    assert "cannot" in note


def test_the_create_form_shows_its_initial_code(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    page = html.unescape(member_client.get("/images/create/").content.decode())
    assert (
        f"{OS} image create --disk-format qcow2 --container-format bare --file '<file>' "
        "--min-disk 0 --min-ram 0 --private --unprotected '<name>'"
    ) in page


def test_the_edit_form_shows_the_image_as_it_is(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    image = fake.add("cirros", min_disk=1, os_distro="cirros")
    page = html.unescape(member_client.get(f"/images/{image.id}/edit/").content.decode())
    assert (
        f"{OS} image set --name cirros --min-disk 1 --min-ram 0 --private --unprotected "
        f"--property os_distro=cirros {image.id}"
    ) in page


def test_the_create_volume_form_shows_the_size_the_image_needs(
    member_client: Client, fake: FakeImagesGateway
) -> None:
    image = fake.add("cirros", min_disk=2)
    page = html.unescape(member_client.get(f"/images/{image.id}/create-volume/").content.decode())
    assert f"{OS} volume create --size 2 --image {image.id} cirros" in page


def test_the_panel_says_custom_properties_are_set_again_on_each_run(member_client: Client) -> None:
    _, _, note = shown(member_client, f"/images/{IMG}/edit/", name="n", properties="k=v")
    assert "always reports a change" in note
    _, _, plain = shown(member_client, f"/images/{IMG}/edit/", name="n", architecture="x86_64")
    assert "always reports a change" not in plain
