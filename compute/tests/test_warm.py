"""Warm instances lists (compute/warm.py) through the pages, against the fake cloud: a cold
view is the page of today, a warm view one changes-since delta that brings creations,
changes and deletions; entries never mix projects or roles; paging, sorting and filters on
the warm rows agree with Nova's own; a full re-list catches what changes-since cannot show."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from compute import gateway as g
from compute import warm
from compute.gateway import AdminGateway, ComputeGateway
from compute.tasks import refresh_warm_lists
from compute.tests.fakes import FakeAdminGateway, FakeComputeGateway
from conftest import PERSONAS, UNIT_CLOUD, persona_identity
from portal.errors import Rejected
from portal.gateways import override
from portal.identity import SESSION_CONFIRMED
from portal.models import Preference

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def link(page: str, label: str) -> str:
    match = re.search(rf'<a class="page-link" href="([^"]+)"[^>]*>{label}<', page)
    assert match, f"no {label} link"
    return match.group(1).replace("&amp;", "&")


def names(client: Client, query: str = "", url: str = "/compute/servers/") -> list[str]:
    page = client.get(url + ("?" + query if query else ""), headers=HTMX).content.decode()
    return re.findall(r'class="fw-semibold">([^<]+)<', page)


class Recording(FakeComputeGateway):
    """The fake that also keeps the queries it was asked, to tell a delta from a full list."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[g.ServerQuery] = []

    def list_servers(self, query: g.ServerQuery) -> g.ServerPage:
        self.queries.append(query)
        return super().list_servers(query)


@pytest.fixture
def nova() -> Iterator[Recording]:
    gw = Recording()
    with override(ComputeGateway, gw):
        yield gw


def test_a_cold_view_is_todays_page_in_the_same_three_calls(
    member_client: Client, nova: Recording
) -> None:
    for i in range(30):
        nova.add_server(f"vm-{i:02d}")
    assert names(member_client) == [f"vm-{i:02d}" for i in range(20)]  # newest first
    assert nova.calls == {"list_servers": 1, "list_images": 1, "get_limits": 1}
    assert nova.queries[0].changes_since is None  # one full list


def test_warm_views_ask_only_for_changes_and_see_them(
    member_client: Client, nova: Recording
) -> None:
    web = nova.add_server("web")
    db = nova.add_server("db")
    assert sorted(names(member_client)) == ["db", "web"]
    nova.calls.clear()
    nova.add_server("new")  # made outside the portal
    nova.stop_server(web.id)  # changed outside the portal
    nova.delete_server(db.id)  # deleted outside the portal ...
    nova.settle()  # ... and gone; Nova reports it as DELETED to changes-since
    page = member_client.get("/compute/servers/").content.decode()
    assert sorted(re.findall(r'class="fw-semibold">([^<]+)<', page)) == ["new", "web"]
    assert "SHUTOFF" in page
    assert nova.calls["list_servers"] == 1  # one delta, not a full list
    assert nova.queries[-1].changes_since is not None
    # The delta starts a little before the newest `updated` Nova returned (its clock).
    stamps = [s.updated_at for s in nova.deleted + [f.server for f in nova.servers.values()]]
    assert nova.queries[-1].changes_since <= max(t for t in stamps if t)


class Writes:
    """The cache warm.py uses, counting what it writes (in any thread: the page reads the
    warm list in a thread of its own)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def get(self, key: str) -> object:
        return cache.get(key)

    def set(self, key: str, value: object, timeout: int) -> None:
        self.keys.append(key)
        cache.set(key, value, timeout)

    def delete(self, key: str) -> None:
        cache.delete(key)


def test_nothing_changed_reads_an_empty_delta_and_writes_nothing(
    member_client: Client, nova: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(50):
        nova.add_server(f"vm-{i:02d}", updated_at=LONG_AGO)
    nova.add_server("latest", updated_at=datetime.now(UTC) - timedelta(seconds=10))
    writes = Writes()
    monkeypatch.setattr(warm, "cache", writes)
    names(member_client)
    assert len(writes.keys) == 1  # cold: the full list is stored
    assert len(names(member_client, "per_page=100")) == 51
    assert len(writes.keys) == 1  # warm, nothing changed: nothing written
    delta = nova.queries[-1]
    assert delta.changes_since is not None
    # The delta asks from Nova's clock when it last answered, less the overlap: nothing new.
    since = delta.changes_since
    assert not [f for f in nova.servers.values() if (f.server.updated_at or since) >= since]
    nova.stop_server(nova.order[0])
    nova.settle()
    assert len(names(member_client, "status=SHUTOFF")) == 1
    assert len(writes.keys) == 2  # a change: written once


class NoDateHeader(Recording):
    """A Nova whose web server sends no Date header (uWSGI, as in the devcloud), counting the
    rows each delta sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[int] = []

    def list_servers(self, query: g.ServerQuery) -> g.ServerPage:
        page = replace(super().list_servers(query), as_of=None)
        self.sent.append(len(page.servers))
        return page


def test_without_novas_clock_a_settled_list_is_not_sent_again(
    member_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    nova = NoDateHeader()
    burst = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    for i in range(30):  # the last burst of changes, all in one second
        nova.add_server(f"vm-{i:02d}", updated_at=burst)
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    with override(ComputeGateway, nova):
        assert len(names(member_client, "per_page=50")) == 30  # cold: the full list
        names(member_client)
        # the cursor is the newest `updated`; the delta starts the overlap before it, so it
        # sends the burst again: nothing says yet that every change up to it has been seen
        assert nova.sent[-1] == 30
        clock[0] += settings.STACKDESK_WARM_OVERLAP_SECONDS
        names(member_client)  # asked the overlap after: nothing new, so settled
        assert nova.sent[-1] == 30
        names(member_client)
        assert nova.sent[-1] == 0  # from the cursor's next second: nothing to send
        assert nova.queries[-1].changes_since == burst + timedelta(seconds=1)
        nova.stop_server(nova.order[3])  # a change outside the portal
        nova.settle()
        assert names(member_client, "status=SHUTOFF") == ["vm-03"]  # seen at once
        assert nova.queries[-1].changes_since == burst + timedelta(seconds=1)
        names(member_client)  # the cursor moved: the overlap again, until settled
        since = nova.queries[-1].changes_since
        assert since is not None and since > burst
        assert since == max(
            f.server.updated_at or burst for f in nova.servers.values()
        ) - timedelta(seconds=settings.STACKDESK_WARM_OVERLAP_SECONDS)


def test_views_close_together_share_one_delta_and_still_see_changes_within_the_bound(
    member_client: Client, nova: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "STACKDESK_WARM_FRESH_SECONDS", 1.0)
    nova.add_server("vm-a")
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert names(member_client) == ["vm-a"]  # cold: one full list
    asked = len(nova.queries)
    nova.add_server("vm-b")  # outside the portal
    clock[0] += 0.5
    assert names(member_client) == ["vm-a"]  # half a second after the list: nothing asked
    assert len(nova.queries) == asked
    clock[0] += 0.6  # a second after it: one delta, and the change is there
    assert sorted(names(member_client)) == ["vm-a", "vm-b"]
    assert len(nova.queries) == asked + 1 and nova.queries[-1].changes_since is not None
    clock[0] += 0.2
    names(member_client)
    assert len(nova.queries) == asked + 1  # shared again
    # the portal's own action shows at once, window or not
    response = member_client.post(f"/compute/servers/{nova.order[0]}/stop/", headers=HTMX)
    assert response.status_code == 200
    names(member_client)
    entry = cache.get(warm.project_scope(persona_identity(PERSONAS["member"])).key)
    assert entry.servers[nova.order[0]].task_state == "powering-off"
    assert len(nova.queries) == asked + 1


def test_an_older_read_never_replaces_a_newer_row() -> None:
    now = datetime.now(UTC)
    fresh = g.Server("s1", "web", "SHUTOFF", updated_at=now)
    entry = warm.Entry({"s1": fresh}, now, time.time())
    stale = replace(fresh, status="ACTIVE", updated_at=now - timedelta(seconds=1))
    assert not warm._apply(entry, [stale])
    assert entry.servers["s1"].status == "SHUTOFF"
    again = replace(fresh, status="ERROR")  # the same second, read again: the later read wins
    assert warm._apply(entry, [again]) and entry.servers["s1"].status == "ERROR"


def test_a_full_relist_catches_what_changes_since_cannot_show(
    member_client: Client, nova: Recording, settings: object
) -> None:
    address = g.Address("private", "10.0.0.5", "fixed", 4)
    server = nova.add_server("web", addresses=(address,), updated_at=LONG_AGO)
    nova.add_server("newer")  # the newest change Nova has: the next delta starts there
    names(member_client)
    # An address added outside the portal leaves the server's `updated` alone in Nova.
    fs = nova.servers[server.id]
    fs.server = replace(
        fs.server,
        addresses=(*fs.server.addresses, g.Address("private", "172.24.4.9", "floating", 4)),
    )
    assert "172.24.4.9" not in member_client.get("/compute/servers/").content.decode()
    settings.STACKDESK_WARM_RELIST_SECONDS = 0  # type: ignore[attr-defined]
    time.sleep(0.01)
    assert "172.24.4.9" in member_client.get("/compute/servers/").content.decode()
    assert nova.queries[-1].changes_since is None


def test_the_portals_own_action_shows_at_once(member_client: Client, nova: Recording) -> None:
    server = nova.add_server("web")
    names(member_client)
    response = member_client.post(f"/compute/servers/{server.id}/stop/", headers=HTMX)
    assert response.status_code == 200
    entry = cache.get(warm.project_scope(persona_identity(PERSONAS["member"])).key)
    assert entry.servers[server.id].task_state == "powering-off"  # the fresh row, already in


def test_the_portals_own_address_change_reads_the_list_in_full_next(
    member_client: Client, nova: Recording
) -> None:
    server = nova.add_server("web", updated_at=LONG_AGO)
    nova.add_server("newer")
    port = nova.add_port(server.id)
    names(member_client)
    member_client.post(
        f"/compute/servers/{server.id}/floating-ip/",
        {"floating_ip": "new:net-public", "port": port.id},
    )
    fs = nova.servers[server.id]
    fs.server = replace(fs.server, updated_at=LONG_AGO)  # as Nova: `updated` stays
    page = member_client.get("/compute/servers/").content.decode()
    fip = next(iter(nova.floating_ips.values()))
    assert fip.address in page and "floating" in page
    assert nova.queries[-1].changes_since is None  # a full list, not a delta


def test_a_deleted_server_leaves_the_list_and_its_row_stops(
    member_client: Client, nova: Recording
) -> None:
    server = nova.add_server("gone")
    assert names(member_client) == ["gone"]
    nova.delete_server(server.id)
    nova.settle()
    assert names(member_client) == []
    row = member_client.get(f"/compute/servers/{server.id}/row/", headers=HTMX)
    assert row.status_code == 286 and row.content == b""


# --- tenant safety -------------------------------------------------------------------------


def test_a_member_of_one_project_never_gets_a_row_of_another(
    member_client: Client, outsider_client: Client, nova: Recording
) -> None:
    nova.add_server("demo-vm")
    nova.add_server("study-vm", project_id="p-study1")
    assert names(member_client) == ["demo-vm"]
    nova.project_id = "p-study1"  # the fake now answers as the outsider's token would
    assert names(outsider_client) == ["study-vm"]
    nova.add_server("study-2", project_id="p-study1")
    assert sorted(names(outsider_client)) == ["study-2", "study-vm"]
    nova.project_id = "p-demo"
    assert names(member_client) == ["demo-vm"]  # nothing of study1 came into demo's entry
    member = warm.project_scope(persona_identity(PERSONAS["member"]))
    assert {s.project_id for s in cache.get(member.key).servers.values()} == {"p-demo"}


def test_roles_and_projects_make_distinct_entries() -> None:
    member = persona_identity(PERSONAS["member"])
    reader = persona_identity(PERSONAS["reader"])  # same project, fewer roles
    outsider = persona_identity(PERSONAS["outsider"])  # same roles, other project
    admin = persona_identity(PERSONAS["admin"])
    keys = {
        warm.project_scope(member).key,
        warm.project_scope(reader).key,
        warm.project_scope(outsider).key,
        warm.project_scope(admin).key,
        warm.all_projects_scope(admin).key,
    }
    assert len(keys) == 5
    shuffled = replace(member, roles=tuple(reversed(member.roles)), user_id="u-other")
    assert warm.project_scope(shuffled).key == warm.project_scope(member).key  # a set of roles
    other_cloud = replace(member, cloud_key="other:RegionOne")
    assert warm.project_scope(other_cloud).key != warm.project_scope(member).key


def test_a_row_fetched_by_an_admin_never_enters_another_projects_entry(
    admin_client: Client,
) -> None:
    gw = FakeAdminGateway()
    gw.project_id = "p-admin"
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        mine = gw.add_server("admin-vm")
        theirs = gw.add_server("demo-vm", project_id="p-demo")
        assert names(admin_client) == ["admin-vm"]
        admin_client.post(f"/compute/servers/{theirs.id}/stop/", headers=HTMX)
        admin = persona_identity(PERSONAS["admin"])
        assert set(cache.get(warm.project_scope(admin).key).servers) == {mine.id}
        assert names(admin_client) == ["admin-vm"]


def test_a_reader_sees_what_nova_shows_a_reader(
    reader_client: Client, member_client: Client, nova: Recording
) -> None:
    nova.add_server("shared")
    hidden = nova.add_server("members-only")
    assert sorted(names(member_client)) == ["members-only", "shared"]
    # Under some policy Nova shows a reader less: the fake now answers as to a reader's token
    # (the server is simply not there, no DELETED row: nothing a delta would carry).
    del nova.servers[hidden.id]
    nova.order.remove(hidden.id)
    assert names(reader_client) == ["shared"]  # its own entry, filled with its own token
    nova.refusals["list_servers"] = Rejected("Policy doesn't allow it", 403)
    assert reader_client.get("/compute/servers/").status_code == 403  # refused, not cached rows


# --- paging, sorting and filters on the warm rows -------------------------------------------


def test_paging_sorting_and_filters_agree_with_novas(nova: Recording) -> None:
    flavors = [g.FlavorSpec("m1.tiny", 1, 512, 1), g.FlavorSpec("m1.small", 1, 2048, 20)]
    for i in range(47):
        nova.add_server(
            f"vm-{i:02d}" if i % 3 else f"web-{i:02d}",
            vm_state="stopped" if i % 4 == 0 else "active",
            key_name=f"key-{i % 5}",
            availability_zone=f"az{i % 2}",
            flavor=flavors[i % 2],
        )
    servers = warm.warm_servers(nova, warm.Scope("unit", "p-demo", frozenset({"member"})))
    for sort_key in warm.SORT_FIELDS:
        for sort_dir in ("asc", "desc"):
            plain = g.ServerQuery(sort_key=sort_key, sort_dir=sort_dir, limit=10)
            for query in (plain, replace(plain, status="SHUTOFF"), replace(plain, name="web")):
                pages = [warm.page_of(servers, query)]
                while pages[-1].next_marker:
                    pages.append(
                        warm.page_of(servers, replace(query, marker=pages[-1].next_marker))
                    )
                seen = [s.id for p in pages for s in p.servers]
                nova_order = [s.id for s in nova.list_servers(replace(query, limit=100)).servers]
                if sort_key in ("display_name", "created_at"):  # unique values: one order
                    assert seen == nova_order, query
                else:
                    assert sorted(seen) == sorted(nova_order), query
                if len(pages) > 1:
                    first_of_last = pages[-1].servers[0].id
                    back = warm.page_of(
                        servers, replace(query, marker=first_of_last, backwards=True)
                    )
                    assert back.servers == pages[-2].servers, query


def test_filters_by_flavor_image_ip_and_name_on_the_page(
    member_client: Client, nova: Recording
) -> None:
    nova.add_server("tiny-web", flavor=g.FlavorSpec("m1.tiny", 1, 512, 1))
    nova.add_server(
        "big-db",
        image_id="img-big",
        addresses=(
            g.Address("private", "10.0.0.50", "fixed", 4),
            g.Address("private", "172.24.4.77", "floating", 4),
        ),
    )
    nova.add_server("volume-vm", image_id="")
    assert names(member_client, "flavor=tiny") == ["tiny-web"]
    assert names(member_client, "image=big-disk") == ["big-db"]  # by the image's name
    assert names(member_client, "image=img-big") == ["big-db"]  # or its id
    assert names(member_client, "ip=172.24.4.77") == ["big-db"]  # floating addresses too
    assert names(member_client, "name=WEB") == ["tiny-web"]  # as Nova's database compares
    assert names(member_client, "flavor=.*") == []  # the text is literal, not a pattern
    assert nova.queries[0].changes_since is None  # one full list, then only deltas
    assert len(nova.queries) == 6 and all(q.changes_since for q in nova.queries[1:])


def test_a_thousand_servers_page_by_the_users_page_size(
    member_client: Client, nova: Recording
) -> None:
    for i in range(1200):
        made = LONG_AGO + timedelta(seconds=i)
        nova.add_server(f"vm-{i:04d}", created_at=made, updated_at=made)
    Preference.objects.create(cloud_key=UNIT_CLOUD, user_id="u-member", page_size=50)
    first = member_client.get("/compute/servers/?sort=display_name").content.decode()
    assert re.findall(r'class="fw-semibold">([^<]+)<', first) == [f"vm-{i:04d}" for i in range(50)]
    assert [q.limit for q in nova.queries] == [999, 999]  # Nova's pages, read once
    second = member_client.get(link(first, "Next")).content.decode()
    assert re.findall(r'class="fw-semibold">([^<]+)<', second)[0] == "vm-0050"
    last = member_client.get("/compute/servers/?sort=-display_name&per_page=100").content.decode()
    assert re.findall(r'class="fw-semibold">([^<]+)<', last)[0] == "vm-1199"
    assert len(nova.queries) == 4 and all(q.changes_since for q in nova.queries[2:])


def test_a_marker_whose_server_is_gone_gives_the_first_page(nova: Recording) -> None:
    servers = [nova.add_server(f"vm-{i}") for i in range(3)]
    page = warm.page_of(list(servers), g.ServerQuery(marker="gone", limit=2))
    assert len(page.servers) == 2 and page.next_marker and not page.prev_marker


# --- Admin › Instances ----------------------------------------------------------------------


@pytest.fixture
def admin_nova() -> Iterator[FakeAdminGateway]:
    gw = FakeAdminGateway()
    with override(ComputeGateway, gw), override(AdminGateway, gw):
        yield gw


def test_admin_instances_are_warm_across_projects_with_their_filters(
    admin_client: Client, admin_nova: FakeAdminGateway
) -> None:
    admin_nova.add_server("demo-vm", project_id="p-demo")
    admin_nova.add_server("study-vm", project_id="p-study1", host="compute2")
    url = "/compute/admin/servers/"
    assert sorted(names(admin_client, url=url)) == ["demo-vm", "study-vm"]
    admin_nova.calls.clear()
    made = admin_nova.add_server("study-2", project_id="p-study1", host="compute2")
    assert sorted(names(admin_client, "host=compute2", url=url)) == ["study-2", "study-vm"]
    assert admin_nova.calls == {"list_servers": 1}  # the delta; hosts, names, images kept
    assert names(admin_client, "project=p-demo", url=url) == ["demo-vm"]
    admin_nova.delete_server(made.id)
    admin_nova.settle()
    assert names(admin_client, "project=p-study1", url=url) == ["study-vm"]
    # The all-projects entry is the admin's own; the admin's project list is another.
    assert names(admin_client) == []


# --- the worker's re-list (compute.tasks.refresh_warm_lists) ---------------------------------


def listed_ago(scope: warm.Scope, seconds: float) -> None:
    entry = cache.get(scope.key)
    entry.listed_at = time.time() - seconds
    cache.set(scope.key, entry)


MEMBER = warm.project_scope(persona_identity(PERSONAS["member"]))
NEARLY_DUE = warm.RELIST_AHEAD * settings.STACKDESK_WARM_RELIST_SECONDS + 1


def test_the_worker_relists_a_nearly_due_entry_so_no_view_waits_for_it(
    member_client: Client, nova: Recording
) -> None:
    address = g.Address("private", "10.0.0.5", "fixed", 4)
    server = nova.add_server("web", addresses=(address,), updated_at=LONG_AGO)
    nova.add_server("newer")
    names(member_client)
    fs = nova.servers[server.id]  # an address added outside the portal: `updated` stays
    floating = g.Address("private", "172.24.4.9", "floating", 4)
    fs.server = replace(fs.server, addresses=(*fs.server.addresses, floating))
    assert refresh_warm_lists() == 0  # just listed: not due
    listed_ago(MEMBER, NEARLY_DUE)
    nova.queries.clear()
    assert refresh_warm_lists() == 1
    assert [q.changes_since for q in nova.queries] == [None]  # the full list, in the worker
    nova.queries.clear()
    assert "172.24.4.9" in member_client.get("/compute/servers/").content.decode()
    assert [q.changes_since is not None for q in nova.queries] == [True]  # the view: a delta


def test_the_worker_relists_only_entries_of_sessions_in_use_and_makes_none(
    member_client: Client, outsider_client: Client, nova: Recording
) -> None:
    nova.add_server("demo-vm")
    nova.add_server("study-vm", project_id="p-study1")
    names(member_client)
    nova.project_id = "p-study1"
    names(outsider_client)
    outsider = warm.project_scope(persona_identity(PERSONAS["outsider"]))
    listed_ago(MEMBER, NEARLY_DUE)
    listed_ago(outsider, NEARLY_DUE)
    session = outsider_client.session  # idle: confirmed four intervals ago
    session[SESSION_CONFIRMED] = time.time() - 4 * settings.STACKDESK_TOKEN_RECHECK_SECONDS
    session.save()
    nova.project_id = "p-demo"
    assert refresh_warm_lists() == 1  # the member's, with the member's token
    assert {s.name for s in cache.get(MEMBER.key).servers.values()} == {"demo-vm"}
    assert cache.get(outsider.key).listed_at < time.time() - NEARLY_DUE + 1  # untouched
    cache.delete(MEMBER.key)  # nobody viewed it since it expired: the worker makes none
    assert refresh_warm_lists() == 0 and cache.get(MEMBER.key) is None


class ForgetsMeanwhile(Recording):
    """A Nova that takes its time: while the worker lists, the portal changes an address and
    drops the entry (warm.forget)."""

    forgets = False

    def list_servers(self, query: g.ServerQuery) -> g.ServerPage:
        if self.forgets:
            cache.delete(MEMBER.key)
        return super().list_servers(query)


def test_an_entry_dropped_during_the_workers_list_is_not_written_back(
    member_client: Client,
) -> None:
    nova = ForgetsMeanwhile()
    with override(ComputeGateway, nova):
        nova.add_server("web")
        names(member_client)
        listed_ago(MEMBER, NEARLY_DUE)
        nova.forgets = True
        assert refresh_warm_lists() == 0
        assert cache.get(MEMBER.key) is None  # the next view lists in full, after the change


def test_the_worker_relists_an_admins_all_projects_entry_too(
    admin_client: Client, admin_nova: FakeAdminGateway
) -> None:
    admin_nova.add_server("demo-vm", project_id="p-demo")
    names(admin_client, url="/compute/admin/servers/")
    every = warm.all_projects_scope(persona_identity(PERSONAS["admin"]))
    listed_ago(every, NEARLY_DUE)
    admin_nova.add_server("study-vm", project_id="p-study1", updated_at=LONG_AGO)
    with override(ComputeGateway, admin_nova):
        assert refresh_warm_lists() == 1
    assert {s.name for s in cache.get(every.key).servers.values()} == {"demo-vm", "study-vm"}
