"""The admin compute forms' "show as code" panels (compute/admin_as_code.py): each writer
through GET /code/ as an admin types, and a few form pages drawing the panel themselves."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.test import Client

from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway
from portal.gateways import override

pytestmark = pytest.mark.django_db
OS = "openstack --os-cloud unit"
SVC = "/compute/admin/services/svc-compute1/"
FIND_HOST = (
    f"HOST=$({OS} compute service list -f value -c ID -c Host --service nova-compute"
    " | awk -v id=svc-compute1 '$1 == id {print $2}')"
)
PANEL = re.compile(r'<pre class="sd-code" aria-label="([^"]+)"><code>(.*?)</code></pre>', re.S)
NOTE = re.compile(r'<p class="form-text mb-2">(.*?)</p>', re.S)


@pytest.fixture
def cloud() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    cache.clear()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


def shown(client: Client, path: str, **fields: Any) -> tuple[list[str], list[Any], str]:
    """The panel of the form at `path`: (command lines, tasks, note)."""
    answer = client.get("/code/", {"for": path, **fields})
    assert answer.status_code == 200, answer.content.decode()[:300]
    page = answer.content.decode()
    blocks = {k: html.unescape(v) for k, v in PANEL.findall(page)}
    note = NOTE.search(page)
    commands = blocks.get("OpenStack command line", "").splitlines()
    tasks = yaml.safe_load(blocks.get("Ansible tasks", "")) or []
    return commands, tasks, html.unescape(note.group(1)) if note else ""


def test_enabling_and_disabling_a_service_find_its_host_then_set_it(
    admin_client: Client,
) -> None:
    commands, tasks, _ = shown(admin_client, SVC + "enable/")
    assert commands == [FIND_HOST, f'{OS} compute service set --enable "$HOST" nova-compute']
    assert tasks[0]["openstack.cloud.compute_service_info"] == {
        "cloud": "unit",
        "binary": "nova-compute",
    }
    assert tasks[0]["register"] == "found"
    assert tasks[1]["openstack.cloud.compute_service"] == {
        "cloud": "unit",
        "host": "{{ (found.compute_services | selectattr('id', 'equalto', 'svc-compute1')"
        " | first).host }}",
        "binary": "nova-compute",
        "status": "enabled",
    }

    commands, tasks, _ = shown(admin_client, SVC + "disable/", reason="Disk swap, ticket 7")
    assert commands[1] == (
        f"{OS} compute service set --disable --disable-reason 'Disk swap, ticket 7' "
        '"$HOST" nova-compute'
    )
    module = tasks[1]["openstack.cloud.compute_service"]
    assert (module["status"], module["disabled_reason"]) == ("disabled", "Disk swap, ticket 7")


@pytest.mark.parametrize(("forced", "flag"), [("1", "--down"), ("0", "--up")])
def test_forcing_a_service_down_or_up_is_a_command_only(
    admin_client: Client, forced: str, flag: str
) -> None:
    commands, tasks, note = shown(admin_client, SVC + "forced-down/", forced=forced)
    assert commands == [
        FIND_HOST,
        f'{OS} --os-compute-api-version 2.11 compute service set {flag} "$HOST" nova-compute',
    ]
    assert tasks == [] and "no module" in note


def test_drain_and_evacuate_call_the_portals_api_and_its_modules(admin_client: Client) -> None:
    fields = {"concurrency": "3", "active": "cold", "stopped": "skip", "reason": "RAM swap"}
    commands, tasks, note = shown(admin_client, "/compute/admin/hosts/compute2/drain/", **fields)
    assert commands == [
        f"TOKEN=$({OS} token issue -f value -c id)",
        'curl -sS --fail-with-body -X POST -H "X-Auth-Token: $TOKEN" -H \'Content-Type: '
        'application/json\' -d \'{"concurrency": 3, "active": "cold", "stopped": "skip", '
        '"reason": "RAM swap"}\' http://testserver/api/v1/hosts/compute2/drain/',
    ]
    assert tasks[0]["stackdesk.portal.drain_host"] == {
        "cloud": "unit",
        "portal_url": "http://testserver/",
        "host": "compute2",
        "concurrency": 3,
        "active": "cold",
        "stopped": "skip",
        "reason": "RAM swap",
    }
    assert "portal's own job" in note

    commands, tasks, _ = shown(
        admin_client, "/compute/admin/hosts/compute2/evacuate/", concurrency="2"
    )
    assert commands[1].endswith(
        "-d '{\"concurrency\": 2}' http://testserver/api/v1/hosts/compute2/evacuate/"
    )
    assert tasks[0]["stackdesk.portal.evacuate_host"]["host"] == "compute2"


@pytest.mark.parametrize(
    ("path", "fields", "command", "module"),
    [
        (
            "/compute/admin/aggregates/",
            {"name": "fast disks", "availability_zone": "az-ssd"},
            "aggregate create --zone az-ssd 'fast disks'",
            {"name": "fast disks", "availability_zone": "az-ssd", "state": "present"},
        ),
        (
            "/compute/admin/aggregates/",
            {"name": "plain", "availability_zone": ""},
            "aggregate create plain",
            {"name": "plain", "state": "present"},
        ),
        (
            "/compute/admin/aggregates/7/delete/",
            {},
            "aggregate delete 7",
            {"name": "7", "state": "absent"},
        ),
        (
            "/compute/admin/aggregates/7/hosts/",
            {"host": "compute3"},
            "aggregate add host 7 compute3",
            {"name": "7", "hosts": ["compute3"], "purge_hosts": False, "state": "present"},
        ),
    ],
)
def test_aggregate_forms(
    admin_client: Client, path: str, fields: dict[str, str], command: str, module: Any
) -> None:
    commands, tasks, _ = shown(admin_client, path, **fields)
    assert commands == [f"{OS} {command}"]
    assert tasks[0]["openstack.cloud.host_aggregate"] == {"cloud": "unit", **module}


@pytest.mark.parametrize(
    ("path", "fields", "command"),
    [
        (
            "/compute/admin/aggregates/7/hosts/remove/",
            {"host": "compute3"},
            "aggregate remove host 7 compute3",
        ),
        (
            "/compute/admin/aggregates/7/metadata/",
            {"key": "ssd", "value": "true"},
            "aggregate set --property ssd=true 7",
        ),
        (
            "/compute/admin/aggregates/7/metadata/",
            {"remove": "ssd"},
            "aggregate unset --property ssd 7",
        ),
    ],
)
def test_aggregate_forms_without_a_module_say_why(
    admin_client: Client, path: str, fields: dict[str, str], command: str
) -> None:
    commands, tasks, note = shown(admin_client, path, **fields)
    assert commands == [f"{OS} {command}"]
    assert tasks == [] and "openstack.cloud.host_aggregate" in note


def test_creating_a_flavor(admin_client: Client) -> None:
    fields = {
        "flavor_id": "c1.large",
        "name": "c1 large",
        "vcpus": "4",
        "ram": "8192",
        "disk": "40",
        "ephemeral": "10",
        "swap": "512",
        "rxtx_factor": "2.0",
    }  # is_public unticked: a private flavor
    commands, tasks, _ = shown(admin_client, "/compute/admin/flavors/create/", **fields)
    assert commands == [
        f"{OS} --os-compute-api-version 2.101 flavor create --id c1.large --vcpus 4 --ram 8192 "
        "--disk 40 --ephemeral 10 --swap 512 --rxtx-factor 2.0 --private 'c1 large'"
    ]
    assert tasks[0]["openstack.cloud.compute_flavor"] == {
        "cloud": "unit",
        "name": "c1 large",
        "id": "c1.large",
        "vcpus": 4,
        "ram": 8192,
        "disk": 40,
        "ephemeral": 10,
        "swap": 512,
        "rxtx_factor": 2.0,
        "is_public": False,
        "state": "present",
    }

    commands, tasks, _ = shown(
        admin_client, "/compute/admin/flavors/create/", name="m1", is_public="on", disk="0"
    )
    assert commands == [
        f"{OS} --os-compute-api-version 2.101 flavor create --vcpus '<vcpus>' --ram '<ram>' "
        "--disk 0 --ephemeral '<ephemeral>' --swap '<swap>' --rxtx-factor '<rxtx-factor>' "
        "--public m1"
    ]
    assert tasks[0]["openstack.cloud.compute_flavor"]["disk"] == 0


@pytest.mark.parametrize(
    ("path", "fields", "command"),
    [
        (
            "/compute/admin/flavors/f1/extra-specs/",
            {"key": "hw:cpu_policy", "value": "dedicated"},
            "flavor set --property hw:cpu_policy=dedicated f1",
        ),
        (
            "/compute/admin/flavors/f1/extra-specs/remove/",
            {"key": "hw:cpu_policy"},
            "flavor unset --property hw:cpu_policy f1",
        ),
    ],
)
def test_extra_specs_are_commands_only(
    admin_client: Client, path: str, fields: dict[str, str], command: str
) -> None:
    commands, tasks, note = shown(admin_client, path, **fields)
    assert commands == [f"{OS} {command}"]
    assert tasks == [] and "openstack.cloud.compute_flavor" in note


@pytest.mark.parametrize(
    ("path", "words", "state"),
    [
        ("/compute/admin/flavors/f1/access/", "flavor set", "present"),
        ("/compute/admin/flavors/f1/access/remove/", "flavor unset", "absent"),
    ],
)
def test_flavor_access(admin_client: Client, path: str, words: str, state: str) -> None:
    commands, tasks, _ = shown(admin_client, path, project_id="p-42")
    assert commands == [f"{OS} {words} --project p-42 f1"]
    assert tasks[0]["openstack.cloud.compute_flavor_access"] == {
        "cloud": "unit",
        "name": "f1",
        "project": "p-42",
        "state": state,
    }


def test_deleting_a_flavor(admin_client: Client) -> None:
    commands, tasks, _ = shown(admin_client, "/compute/admin/flavors/f1/delete/")
    assert commands == [f"{OS} flavor delete f1"]
    assert tasks[0]["openstack.cloud.compute_flavor"] == {
        "cloud": "unit",
        "name": "f1",
        "state": "absent",
    }


@pytest.mark.parametrize(
    ("fields", "options", "module"),
    [
        ({}, "", {"block_migration": "auto"}),
        (
            {"host": "compute3", "block_migration": "yes"},
            "--host compute3 --block-migration ",
            {"host": "compute3", "block_migration": "yes"},
        ),
        ({"block_migration": "no"}, "--shared-migration ", {"block_migration": "no"}),
    ],
)
def test_live_migrating_an_instance(
    admin_client: Client, fields: dict[str, str], options: str, module: Any
) -> None:
    commands, tasks, note = shown(admin_client, "/compute/servers/s-1/live-migrate/", **fields)
    assert commands == [
        f"{OS} --os-compute-api-version 2.30 server migrate --live-migration {options}s-1"
    ]
    assert tasks[0]["stackdesk.portal.live_migrate_server"] == {
        "cloud": "unit",
        "portal_url": "http://testserver/",
        "server": "s-1",
        **module,
    }
    assert "POST api/v1/servers/s-1/live-migrate/" in note


@pytest.mark.parametrize(
    ("fields", "command"),
    [
        ({}, "server migrate s-1"),
        ({"host": "compute2"}, "--os-compute-api-version 2.56 server migrate --host compute2 s-1"),
    ],
)
def test_cold_migrating_an_instance(
    admin_client: Client, fields: dict[str, str], command: str
) -> None:
    commands, tasks, note = shown(admin_client, "/compute/servers/s-1/migrate/", **fields)
    assert commands == [f"{OS} {command}"]
    module = tasks[0]["stackdesk.portal.migrate_server"]
    assert (module["server"], module.get("host")) == ("s-1", fields.get("host"))
    assert "POST api/v1/servers/s-1/migrate/" in note


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("abort", "--os-compute-api-version 2.24 server migration abort"),
        ("force-complete", "--os-compute-api-version 2.22 server migration force complete"),
    ],
)
def test_aborting_or_forcing_a_live_migration(
    admin_client: Client, action: str, words: str
) -> None:
    commands, tasks, note = shown(admin_client, f"/compute/servers/s-1/migrations/12/{action}/")
    assert commands == [f"{OS} {words} s-1 12"]
    assert tasks == [] and "no module" in note


# --- the form pages draw the panel with their initial values ---------------------------------


def page(client: Client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200
    return html.unescape(answer.content.decode())


def test_the_create_flavor_page_shows_its_code(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    shown_page = page(admin_client, "/compute/admin/flavors/create/")
    assert "Show as code" in shown_page
    assert (
        f"{OS} flavor create --vcpus '<vcpus>' --ram '<ram>' --disk '<disk>' --ephemeral 0 "
        "--swap 0 --public '<name>'"
    ) in shown_page
    assert "openstack.cloud.compute_flavor:" in shown_page


def test_the_drain_page_shows_the_default_job(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    shown_page = page(admin_client, "/compute/admin/hosts/compute1/drain/")
    assert "stackdesk.portal.drain_host:" in shown_page
    assert '"active": "live", "stopped": "cold"' in shown_page


def test_the_services_page_shows_the_enable_code_of_a_disabled_service(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.set_service("compute2", status="disabled")
    shown_page = page(admin_client, "/compute/admin/services/")
    assert f'{OS} compute service set --enable "$HOST" nova-compute' in shown_page
    assert "awk -v id=svc-compute2" in shown_page
    assert shown_page.count("Show as code") == 1  # only the enable form has a panel


def test_the_aggregates_and_flavor_pages_show_their_forms_code(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    aggregate_id = cloud.create_aggregate("ssd")
    shown_page = page(admin_client, "/compute/admin/aggregates/")
    assert f"{OS} aggregate create '<name>'" in shown_page
    assert f"{OS} aggregate delete {aggregate_id}" in shown_page
    assert f"{OS} aggregate set --property '<key>=' {aggregate_id}" in shown_page

    flavor = cloud.flavors[0]
    shown_page = page(admin_client, f"/compute/admin/flavors/{flavor.id}/")
    assert f"{OS} flavor set --property '<key>=' {flavor.id}" in shown_page
