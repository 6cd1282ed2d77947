"""Admin › Flavors through the Django test client against the fake cloud: the list, create
(with an id or Nova's), extra specs, access to private flavors, delete, every refusal, and
that only admins get in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client

from compute import gateway as g
from compute.gateway import AdminGateway, ComputeGateway
from compute.tests.fakes import FakeAdminGateway
from portal.gateways import override

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
BASE = "/compute/admin/flavors/"
GOOD = {
    "flavor_id": "",
    "name": "c1.large",
    "vcpus": "4",
    "ram": "8192",
    "disk": "40",
    "ephemeral": "10",
    "swap": "512",
    "rxtx_factor": "2.0",
    "is_public": "on",
}


@pytest.fixture
def cloud() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    cache.clear()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


def text(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def flavor(cloud: FakeAdminGateway, name: str) -> g.Flavor:
    return next(f for f in cloud.flavors if f.name == name)


def test_the_list_shows_every_size_visibility_and_extra_specs_in_one_call(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.create_flavor(
        g.NewFlavor(
            "p1.secret", 2, 1024, 10, ephemeral=5, swap=256, rxtx_factor=1.5, is_public=False
        )
    )
    cloud.update_flavor_extra_specs(flavor(cloud, "p1.secret").id, {"hw:cpu_policy": "dedicated"})
    cloud.calls.clear()
    page = text(admin_client.get(BASE))
    assert sum(cloud.calls.values()) == 1
    assert "m1.small f-small 1 2048 MiB 20 GiB 0 GiB — 1.0 Yes —" in page
    assert (
        "p1.secret" in page
        and "2 1024 MiB 10 GiB 5 GiB 256 MiB 1.5 No hw:cpu_policy = dedicated" in page
    )


def test_create_with_an_id_or_nova_s_and_duplicates_come_back_with_nova_s_409(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    form = admin_client.get(BASE + "create/", headers=HTMX)
    assert (
        form.status_code == 200
        and 'hx-post="/compute/admin/flavors/create/"' in form.content.decode()
    )
    made = admin_client.post(BASE + "create/", GOOD)
    created = flavor(cloud, "c1.large")
    assert made.status_code == 302 and made["Location"] == f"{BASE}{created.id}/"
    assert re.fullmatch(r"[0-9a-f-]{36}", created.id)  # Nova's UUID
    assert (created.vcpus, created.ram, created.disk, created.ephemeral, created.swap) == (
        4,
        8192,
        40,
        10,
        512,
    )
    assert created.rxtx_factor == 2.0 and created.is_public
    assert "Flavor c1.large created." in text(admin_client.get(made["Location"]))
    private = {**GOOD, "flavor_id": "c2.own", "name": "c2.private", "is_public": ""}
    assert admin_client.post(BASE + "create/", private).status_code == 302
    assert flavor(cloud, "c2.private").id == "c2.own" and not flavor(cloud, "c2.private").is_public
    before = list(cloud.flavors)
    same_name = admin_client.post(BASE + "create/", GOOD, headers=HTMX)
    assert same_name.status_code == 400
    assert "Flavor with name c1.large already exists." in text(same_name)
    assert 'value="c1.large"' in same_name.content.decode()  # the form comes back filled
    same_id = admin_client.post(BASE + "create/", {**GOOD, "name": "other", "flavor_id": "c2.own"})
    assert same_id.status_code == 400 and "Flavor with ID c2.own already exists." in text(same_id)
    assert cloud.flavors == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vcpus", "-1", "Ensure this value is greater than or equal to 1."),
        ("vcpus", "0", "Ensure this value is greater than or equal to 1."),
        ("ram", "-512", "Ensure this value is greater than or equal to 1."),
        ("disk", "-1", "Ensure this value is greater than or equal to 0."),
        ("ephemeral", "-1", "Ensure this value is greater than or equal to 0."),
        ("swap", "-1", "Ensure this value is greater than or equal to 0."),
        ("ram", str(2**31), "Ensure this value is less than or equal to 2147483647."),
        ("rxtx_factor", "0", "The RX/TX factor must be greater than 0."),
        ("rxtx_factor", "-1.5", "The RX/TX factor must be greater than 0."),
        ("rxtx_factor", "nan", "Enter a number."),
        ("name", "", "This field is required."),
        ("name", "x" * 256, "Ensure this value has at most 255 characters (it has 256)."),
        ("name", "big 🚀", "The cloud cannot store emoji"),
        ("flavor_id", "has space", "Use letters, digits and _ . - only, not starting with a dot."),
        ("flavor_id", "..", "Use letters, digits and _ . - only, not starting with a dot."),
        ("flavor_id", "create", "“create” cannot be a flavor ID here."),
    ],
)
def test_create_refuses_bad_input_at_the_field_and_changes_nothing(
    admin_client: Client, cloud: FakeAdminGateway, field: str, value: str, message: str
) -> None:
    before = list(cloud.flavors)
    refused = admin_client.post(BASE + "create/", {**GOOD, field: value})
    assert refused.status_code == 400 and message in text(refused)
    assert cloud.flavors == before and cloud.calls["create_flavor"] == 0


def test_extra_specs_set_and_unset_with_the_common_keys_offered(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    url = BASE + "f-small/"
    page = admin_client.get(url).content.decode()
    assert 'list="extra-spec-keys"' in page
    for key in ("hw:cpu_policy", "hw:mem_page_size", "aggregate_instance_extra_specs:", "quota:"):
        assert f'<option value="{key}' in page
    done = admin_client.post(url + "extra-specs/", {"key": "hw:cpu_policy", "value": "dedicated"})
    assert done.status_code == 302
    admin_client.post(
        url + "extra-specs/", {"key": "aggregate_instance_extra_specs:ssd", "value": "true"}
    )
    assert flavor(cloud, "m1.small").extra_specs == (
        ("aggregate_instance_extra_specs:ssd", "true"),
        ("hw:cpu_policy", "dedicated"),
    )
    assert "hw:cpu_policy set." in text(admin_client.get(url))
    removed = admin_client.post(url + "extra-specs/remove/", {"key": "hw:cpu_policy"}, follow=True)
    assert "hw:cpu_policy removed." in text(removed)
    assert flavor(cloud, "m1.small").extra_specs == (
        ("aggregate_instance_extra_specs:ssd", "true"),
    )
    gone = admin_client.post(url + "extra-specs/remove/", {"key": "hw:cpu_policy"}, follow=True)
    assert "Flavor f-small has no extra specs with key hw:cpu_policy." in text(gone)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("a b", "x", "Use letters, digits and _ . : - only, not starting with a dot."),
        ("..", "x", "Use letters, digits and _ . : - only, not starting with a dot."),
        ("hw/x", "x", "Use letters, digits and _ . : - only, not starting with a dot."),
        ("k" * 256, "x", "Ensure this value has at most 255 characters (it has 256)."),
        ("quota:", "1", "quota: is a namespace: complete the key after the colon."),
        ("hw:numa_nodes", "v" * 256, "Ensure this value has at most 255 characters (it has 256)."),
        ("hw:numa_nodes", "", "This field is required."),
        # Nova's own check (2.86): its words on the form
        (
            "hw:cpu_policy",
            "bogus",
            "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.",
        ),
    ],
)
def test_bad_extra_specs_are_refused_and_change_nothing(
    admin_client: Client, cloud: FakeAdminGateway, key: str, value: str, message: str
) -> None:
    cloud.update_flavor_extra_specs("f-small", {"hw:mem_page_size": "large"})
    refused = admin_client.post(BASE + "f-small/extra-specs/", {"key": key, "value": value})
    assert refused.status_code == 400 and message in text(refused)
    assert flavor(cloud, "m1.small").extra_specs == (("hw:mem_page_size", "large"),)


def test_removing_a_malformed_key_is_refused_before_nova(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.update_flavor_extra_specs("f-small", {"hw:mem_page_size": "large"})
    refused = admin_client.post(BASE + "f-small/extra-specs/remove/", {"key": "../x"}, follow=True)
    assert "That is not an extra spec key." in text(refused)
    assert cloud.calls["delete_flavor_extra_spec"] == 0


def test_access_to_a_private_flavor_given_and_taken_per_project(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.create_flavor(g.NewFlavor("p1.gpu", 8, 16384, 80, id="p1-gpu", is_public=False))
    url = BASE + "p1-gpu/"
    cloud.calls.clear()
    page = admin_client.get(url)
    assert sum(cloud.calls.values()) == 3  # the flavor, then its access list and the projects
    assert "No project may use this flavor yet" in text(page)
    assert '<option value="p-demo">demo (p-demo)</option>' in page.content.decode()
    assert admin_client.post(url + "access/", {"project_id": "p-demo"}).status_code == 302
    assert cloud.flavor_access["p1-gpu"] == {"p-demo"}
    page = admin_client.get(url)
    assert "Project p-demo may use this flavor." in text(page)
    assert "demo p-demo Remove" in text(page)
    assert 'value="p-demo">demo (p-demo)' not in page.content.decode()  # given already
    unknown = admin_client.post(url + "access/", {"project_id": "p-nowhere"})
    assert unknown.status_code == 400 and "Select a valid choice." in text(unknown)
    again = admin_client.post(url + "access/", {"project_id": "p-demo"})
    assert again.status_code == 400
    assert "Flavor access already exists for flavor p1-gpu and project p-demo" in text(again)
    assert cloud.flavor_access["p1-gpu"] == {"p-demo"}
    done = admin_client.post(url + "access/remove/", {"project_id": "p-demo"}, follow=True)
    assert "Project p-demo may no longer use this flavor." in text(done)
    assert cloud.flavor_access["p1-gpu"] == set()
    # a public flavor has no access list: the page does not offer one, nor asks for it
    cloud.calls.clear()
    assert "Projects with access" not in text(admin_client.get(BASE + "f-small/"))
    assert dict(cloud.calls) == {"get_flavor": 1}
    public = admin_client.post(BASE + "f-small/access/", {"project_id": "p-demo"})
    assert public.status_code == 400 and "Can not add access to a public flavor." in text(public)


def test_a_private_flavor_shows_only_for_projects_given_access(cloud: FakeAdminGateway) -> None:
    """The fake answers a member like Nova does (an admin sees every flavor)."""
    from compute.tests.fakes import FakeComputeGateway

    member = FakeComputeGateway()
    member.flavors.append(g.Flavor("p1-gpu", "p1.gpu", 8, 16384, 80, is_public=False))
    assert "p1.gpu" not in [f.name for f in member.list_flavors()]
    member.flavor_access["p1-gpu"] = {member.project_id}
    assert "p1.gpu" in [f.name for f in member.list_flavors()]


def test_delete_says_what_nova_does_to_instances_and_deletes(
    admin_client: Client, cloud: FakeAdminGateway
) -> None:
    server = cloud.add_server("uses-small", flavor=g.FlavorSpec("m1.small", 1, 2048, 20))
    confirm = admin_client.get(BASE + "f-small/delete/", headers=HTMX)
    assert "Nova deletes a flavor even while instances use it." in text(confirm)
    assert 'hx-post="/compute/admin/flavors/f-small/delete/"' in confirm.content.decode()
    done = admin_client.post(BASE + "f-small/delete/")
    assert done.status_code == 302 and done["Location"] == BASE
    assert "m1.small" not in [f.name for f in cloud.flavors]
    assert "Flavor m1.small deleted." in text(admin_client.get(BASE))
    assert cloud.get_server(server.id).flavor.name == "m1.small"  # its embedded copy
    assert admin_client.get(BASE + "f-small/").status_code == 404


def test_admins_see_the_menu_entry_and_others_are_refused_everywhere(
    admin_client: Client, member_client: Client, reader_client: Client, cloud: FakeAdminGateway
) -> None:
    cloud.create_flavor(g.NewFlavor("p1.x", 1, 64, 0, id="p1-x", is_public=False))
    assert f'href="{BASE}"' in admin_client.get("/compute/admin/hypervisors/").content.decode()
    before = (list(cloud.flavors), {k: set(v) for k, v in cloud.flavor_access.items()})
    for client in (member_client, reader_client):
        assert f'href="{BASE}"' not in client.get("/compute/servers/").content.decode()
        for url in (BASE, BASE + "create/", BASE + "p1-x/", BASE + "p1-x/delete/"):
            assert client.get(url).status_code == 403
        for url, data in (
            (BASE + "create/", GOOD),
            (BASE + "p1-x/extra-specs/", {"key": "hw:cpu_policy", "value": "shared"}),
            (BASE + "p1-x/extra-specs/remove/", {"key": "hw:cpu_policy"}),
            (BASE + "p1-x/access/", {"project_id": "p-demo"}),
            (BASE + "p1-x/access/remove/", {"project_id": "p-demo"}),
            (BASE + "p1-x/delete/", {}),
        ):
            assert client.post(url, data).status_code == 403
    assert (cloud.flavors, cloud.flavor_access) == before
