"""The persona matrix (tests/persona_matrix.py) on the all-in-one cloud: every URL × anonymous,
outsider, reader, owner member and admin, signed in with real Keystone tokens, against real
resources of the owner's project `demo` (all named "pm-<random>-...", deleted afterwards).

Every GET is made twice, as a page and as an htmx request (the partials). For every request:
no 5xx; the outcome the matrix expects; no other tenant's ids or names in the body or where
it redirects to (what the persona itself put in the URL or the form excepted); after every
POST (each one the persona may not make), the portal's own rows unchanged; after each
persona's walk, the owner's resources unchanged in the cloud. Every failure is collected and
reported at once, one test per persona.

No Celery worker runs and the test database is not transactional: a job a view queues is
never sent (on_commit does not fire), so nothing the walk does reaches the cloud later.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keystoneauth1.exceptions
import openstack
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.test import Client
from django.urls import reverse

from images.models import ImageUpload
from portal.models import Operation
from tests import persona_matrix as pm
from tests.cloud.waiting import wait_for
from tests.conftest import PORTAL_CLOUD_KEY, portal_sign_in, sdk

if TYPE_CHECKING:  # a name the Django stubs give the test client's responses
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = [pytest.mark.cloud, pytest.mark.django_db]

# The devcloud persona (tests/conftest.py PERSONA_CLOUDS) behind each matrix persona.
CLOUD_PERSONA = {"outsider": "study1", "reader": "reader", "member": "member", "admin": "admin"}
SIGN_IN_PATH = "/auth/sign-in/"
# The audit trail records every change asked, refused ones too: it may grow after a refused
# POST, by records that do not say the change was made. Every other row must stay as it was.
AUDIT_LOG = "portal.AuditRecord"
DONE = {"accepted", "succeeded"}


@dataclass
class World:
    """The owner's resources (ids by matrix key) and what must not reach other tenants."""

    tag: str
    ids: dict[str, str]
    owner_secrets: set[str]  # demo's ids and the pm- names: never shown outside demo
    other_secrets: set[str]  # study1's and vworld's ids: never shown to demo


def _quietly(call: Callable[[], object]) -> None:
    """One cleanup step; its failure (a service down meanwhile) must not skip the others."""
    try:
        call()
    except (openstack.exceptions.SDKException, keystoneauth1.exceptions.ClientException) as exc:
        print(f"persona matrix cleanup: {exc}")


def _tenant_ids(admin: Any, project_id: str) -> set[str]:
    """Ids of what a project owns (its servers, networks, subnets, ports, routers, security
    groups, floating IPs, private images, volumes) and the project's id."""
    found = {project_id}
    found |= {s.id for s in admin.compute.servers(all_projects=True, project_id=project_id)}
    net = admin.network
    for listing in (net.networks, net.subnets, net.ports, net.routers, net.security_groups):
        found |= {r.id for r in listing(project_id=project_id)}
    for ip in net.ips(project_id=project_id):
        found |= {ip.id, ip.floating_ip_address}
    found |= {i.id for i in admin.image.images(owner=project_id) if i.visibility == "private"}
    if admin.has_service("block-storage"):
        volumes = admin.block_storage.volumes(all_projects=True, project_id=project_id)
        found |= {v.id for v in volumes}
    return found


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    admin: Any = sdk("admin")
    owner: Any = sdk("member")
    tag = "pm-" + os.urandom(3).hex()
    made: list[Callable[[], object]] = []
    ids: dict[str, str] = {}
    try:
        _build(admin, owner, tag, ids, made)
        projects = {p.name: p.id for p in admin.identity.projects()}
        owner_secrets = _tenant_ids(admin, ids["project"]) | {ids["owner_user"]}
        owner_secrets |= {v for k, v in ids.items() if k in OWNER_KEYS}
        owner_secrets |= {f"{tag}-{what}" for what in NAMES}
        # a community image is every tenant's to see: not a secret
        owner_secrets -= {ids["community_image"], f"{tag}-community"}
        other_secrets: set[str] = set()
        for name in ("study1", "vworld-project"):
            if name in projects:
                other_secrets |= _tenant_ids(admin, projects[name])
        yield World(tag, ids, owner_secrets, other_secrets)
    finally:
        for undo in reversed(made):
            _quietly(undo)


# What the world makes, by name suffix (each "<tag>-<suffix>"), and which ids are secrets.
NAMES = (
    "net", "subnet", "port", "router", "sg", "vm", "key", "image", "protected", "vol",
    "group", "cred", "upload-job", "upload-step", "job-step", "export-step",
    "snap", "moving", "backup", "transfer",
)  # fmt: skip
OWNER_KEYS = {
    "server", "network", "subnet", "port", "router", "router_port", "security_group", "rule",
    "floating_ip", "floating_ip_address", "image", "protected_image", "volume", "keypair",
    "server_group", "app_credential", "server_port", "server_ip", "project", "owner_user",
    "volume_snapshot", "volume_backup", "volume_transfer",
}  # fmt: skip


def _build(admin: Any, owner: Any, tag: str, ids: dict[str, str], made: list[Any]) -> None:
    """The owner's resources, each undone (in reverse) by the fixture whatever happens."""
    net = owner.network
    public = admin.network.find_network("public1", ignore_missing=False)
    ids["public"] = public.id
    ids["project"] = owner.current_project_id
    ids["owner_user"] = owner.current_user_id
    ids["member_role"] = admin.identity.find_role("member", ignore_missing=False).id

    network = net.create_network(name=f"{tag}-net")
    made.append(lambda: net.delete_network(network, ignore_missing=True))
    third = int.from_bytes(os.urandom(1), "big")
    subnet = net.create_subnet(
        network_id=network.id, name=f"{tag}-subnet", ip_version=4, cidr=f"10.77.{third}.0/24"
    )
    port = net.create_port(network_id=network.id, name=f"{tag}-port")
    made.append(lambda: net.delete_port(port, ignore_missing=True))
    router = net.create_router(
        name=f"{tag}-router", external_gateway_info={"network_id": public.id}
    )
    made.append(lambda: net.delete_router(router, ignore_missing=True))
    net.add_interface_to_router(router, subnet_id=subnet.id)
    made.append(lambda: net.remove_interface_from_router(router, subnet_id=subnet.id))
    router_port = next(net.ports(device_id=router.id, device_owner="network:router_interface"))
    group = net.create_security_group(name=f"{tag}-sg", description=f"{tag}-sg")
    made.append(lambda: net.delete_security_group(group, ignore_missing=True))
    rule = net.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    keypair = owner.compute.create_keypair(name=f"{tag}-key")
    made.append(lambda: owner.compute.delete_keypair(keypair, ignore_missing=True))
    flavor = owner.compute.find_flavor("m1.nano", ignore_missing=False)
    cloud_image = owner.image.find_image("tiny-qcow2", ignore_missing=False)
    server = owner.compute.create_server(
        name=f"{tag}-vm",
        flavor_id=flavor.id,
        image_id=cloud_image.id,
        networks=[{"uuid": network.id}],
        security_groups=[{"name": group.name}],
        key_name=keypair.name,
    )
    made.append(lambda: owner.compute.wait_for_delete(server, wait=120))
    made.append(lambda: owner.compute.delete_server(server, ignore_missing=True))
    images = owner.image
    image = images.create_image(
        name=f"{tag}-image", disk_format="qcow2", container_format="bare", visibility="private"
    )
    made.append(lambda: images.delete_image(image, ignore_missing=True))
    protected = images.create_image(
        name=f"{tag}-protected",
        disk_format="qcow2",
        container_format="bare",
        visibility="private",
        is_protected=True,
    )
    made.append(lambda: images.delete_image(protected, ignore_missing=True))
    made.append(lambda: images.update_image(protected, is_protected=False))
    community = images.create_image(
        name=f"{tag}-community",
        disk_format="qcow2",
        container_format="bare",
        visibility="community",
    )
    made.append(lambda: images.delete_image(community, ignore_missing=True))
    volume = owner.block_storage.create_volume(name=f"{tag}-vol", size=1)
    made.append(lambda: owner.block_storage.delete_volume(volume, ignore_missing=True))
    server_group = owner.compute.create_server_group(name=f"{tag}-group", policy="affinity")
    made.append(lambda: owner.compute.delete_server_group(server_group, ignore_missing=True))
    credential = owner.identity.create_application_credential(
        user=owner.current_user_id, name=f"{tag}-cred", roles=[{"name": "member"}]
    )
    made.append(
        lambda: owner.identity.delete_application_credential(owner.current_user_id, credential)
    )
    # Identity and host objects for the admin pages (admin-only: the others get 403 first)
    identity = admin.identity
    user = identity.create_user(
        name=f"{tag}-user", domain_id="default", password="pw-" + os.urandom(8).hex()
    )
    made.append(lambda: identity.delete_user(user, ignore_missing=True))
    kgroup = identity.create_group(name=f"{tag}-kgroup", domain_id="default")
    made.append(lambda: identity.delete_group(kgroup, ignore_missing=True))
    role = identity.create_role(name=f"{tag}-role")
    made.append(lambda: identity.delete_role(role, ignore_missing=True))
    aggregate = admin.compute.create_aggregate(name=f"{tag}-agg")
    made.append(lambda: admin.compute.delete_aggregate(aggregate, ignore_missing=True))
    service = next(admin.compute.services(binary="nova-compute"))
    # Admin › Volume: a private volume type and a QoS spec for its pages
    vtype = admin.block_storage.create_type(name=f"{tag}-vtype", is_public=False)
    made.append(lambda: admin.block_storage.delete_type(vtype, ignore_missing=True))
    qos = admin.block_storage.create_qos_spec(name=f"{tag}-qos", consumer="back-end")
    made.append(lambda: admin.block_storage.delete_qos_spec(qos, ignore_missing=True))
    migration = next(iter(admin.compute.migrations()), None)

    wait_for(lambda: owner.compute.get_server(server.id).status == "ACTIVE", 180, "pm server")
    server_port = next(net.ports(device_id=server.id))
    fip = net.create_ip(floating_network_id=public.id, port_id=server_port.id)
    made.append(lambda: net.delete_ip(fip, ignore_missing=True))
    wait_for(
        lambda: owner.block_storage.get_volume(volume.id).status == "available", 120, "pm volume"
    )
    _build_block_storage(owner, tag, volume.id, ids, made)
    ids.update(
        network=network.id,
        subnet=subnet.id,
        port=port.id,
        router=router.id,
        router_port=router_port.id,
        nexthop=f"10.77.{third}.50",
        security_group=group.id,
        rule=rule.id,
        keypair=keypair.name,
        flavor=owner.compute.find_flavor("m1.tiny", ignore_missing=False).id,
        nano=flavor.id,
        cloud_image=cloud_image.id,
        server=server.id,
        server_port=server_port.id,
        server_ip=server_port.fixed_ips[0]["ip_address"],
        floating_ip=fip.id,
        floating_ip_address=fip.floating_ip_address,
        image=image.id,
        protected_image=protected.id,
        community_image=community.id,
        volume=volume.id,
        server_group=server_group.id,
        app_credential=credential.id,
        user=user.id,
        group=kgroup.id,
        role=role.id,
        domain="default",  # Identity › Domains: the one every cloud has
        aggregate=aggregate.id,
        service=service.id,
        host=service.host,
        volume_type=vtype.id,
        qos_spec=qos.id,
        migration=str(migration.id if migration else 1),
    )


def _build_block_storage(
    owner: Any, tag: str, volume_id: str, ids: dict[str, str], made: list[Any]
) -> None:
    """For the volumes pages: a snapshot and a backup of the volume, and a second volume
    offered for transfer (a transfer holds its volume; the other rows need theirs available).
    The snapshot is gone before the volume's own delete runs (Cinder refuses it otherwise)."""
    bs = owner.block_storage
    snapshot = bs.create_snapshot(volume_id=volume_id, name=f"{tag}-snap")

    def delete_snapshot() -> None:
        bs.delete_snapshot(snapshot, ignore_missing=True)
        bs.wait_for_delete(snapshot, wait=120)

    made.append(delete_snapshot)
    moving = bs.create_volume(name=f"{tag}-moving", size=1)
    made.append(lambda: bs.delete_volume(moving, ignore_missing=True))
    wait_for(lambda: bs.get_snapshot(snapshot.id).status == "available", 120, "pm snapshot")
    backup = bs.create_backup(volume_id=volume_id, name=f"{tag}-backup")

    def delete_backup() -> None:
        bs.delete_backup(backup, ignore_missing=True)
        bs.wait_for_delete(backup, wait=300)

    made.append(delete_backup)
    wait_for(lambda: bs.get_volume(moving.id).status == "available", 120, "pm moving volume")
    transfer = bs.create_transfer(volume_id=moving.id, name=f"{tag}-transfer")
    made.append(lambda: bs.delete_transfer(transfer, ignore_missing=True))
    wait_for(lambda: bs.get_backup(backup.id).status == "available", 300, "pm backup")
    ids.update(volume_snapshot=snapshot.id, volume_backup=backup.id, volume_transfer=transfer.id)


def cloud_state(world: World) -> dict[str, Any]:
    """What the walk must not change: the owner's pm- resources as the admin sees them, and
    anything named pm-hacked (what the matrix's forms ask to create) anywhere."""
    a: Any = sdk("admin")
    owner: Any = sdk("member")
    i = world.ids
    s = a.compute.get_server(i["server"])
    net = a.network
    router = net.get_router(i["router"])
    group = net.get_security_group(i["security_group"])
    fip = net.get_ip(i["floating_ip"])
    volume = a.block_storage.get_volume(i["volume"])
    state: dict[str, Any] = {
        "server": (
            s.name, s.description, s.status, s.task_state, s.is_locked,
            s.flavor.get("original_name"), sorted(g["name"] for g in s.security_groups or []),
            sorted(p.id for p in net.ports(device_id=s.id)),
        ),
        "network": _attrs(net.get_network(i["network"]), "name", "description", "subnet_ids"),
        "subnet": _attrs(net.get_subnet(i["subnet"]), "name", "gateway_ip", "allocation_pools"),
        "ports": sorted(p.id for p in net.ports(network_id=i["network"])),
        "router": (
            router.name, router.description, router.is_admin_state_up,
            router.external_gateway_info and router.external_gateway_info.get("network_id"),
            sorted(str(r) for r in router.routes or []),
            sorted(p.id for p in net.ports(device_id=router.id)),
        ),
        "security_group": (
            group.name, group.description, sorted(r["id"] for r in group.security_group_rules)
        ),
        "floating_ip": (fip.port_id, fip.fixed_ip_address),
        "images": [
            _attrs(a.image.get_image(i[k]), "name", "status", "visibility", "is_protected")
            for k in ("image", "protected_image", "community_image")
        ],
        "volume": (volume.name, volume.status, len(volume.attachments or [])),
        "keypair": owner.compute.find_keypair(i["keypair"]) is not None,
        "server_group": _attrs(
            owner.compute.get_server_group(i["server_group"]), "name", "member_ids"
        ),
        "app_credential": owner.identity.find_application_credential(
            i["owner_user"], i["app_credential"]
        )
        is not None,
        "project": _attrs(a.identity.get_project(i["project"]), "name", "is_enabled"),
        "user": _attrs(a.identity.get_user(i["user"]), "name", "is_enabled"),
        "aggregate": _attrs(a.compute.get_aggregate(i["aggregate"]), "name", "hosts", "metadata"),
        "role": a.identity.find_role(f"{world.tag}-role") is not None,
        "flavor": _flavor(a, i["flavor"]),
        "hacked": sorted(
            f"{kind}:{r.id}"
            for kind, listing in (
                ("server", a.compute.servers(all_projects=True, name="^pm-hacked$")),
                ("flavor", (f for f in a.compute.flavors(is_public=None) if f.name == "pm-hacked")),
                ("network", net.networks(name="pm-hacked")),
                ("router", net.routers(name="pm-hacked")),
                ("security_group", net.security_groups(name="pm-hacked")),
                ("floating_ip", net.ips(project_id=i["project"], description="pm-hacked")),
                ("image", (x for x in a.image.images() if x.name == "pm-hacked")),
                ("volume", a.block_storage.volumes(all_projects=True, name="pm-hacked")),
                ("server_group", owner.compute.server_groups()),
            )
            for r in listing
            if kind != "server_group" or r.name == "pm-hacked"
        ),
    }  # fmt: skip
    return state


def _flavor(admin: Any, flavor_id: str) -> tuple[Any, ...]:
    flavor = admin.compute.get_flavor(flavor_id)
    specs = admin.compute.fetch_flavor_extra_specs(flavor).extra_specs
    return (flavor.name, flavor.vcpus, flavor.ram, flavor.is_public, sorted(specs.items()))


def _attrs(resource: Any, *names: str) -> tuple[Any, ...]:
    return tuple(
        # lists (of ids, of allocation pools) compared whatever their order
        sorted(map(str, v)) if isinstance(v := getattr(resource, n), list) else v
        for n in names
    )


def portal_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row the portal's own apps hold (jobs, uploads, preferences, counters...)."""
    root = str(settings.BASE_DIR)
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for config in apps.get_app_configs()
        if config.path.startswith(root) and "/.venv/" not in config.path
        for model in config.get_models()
    }


def row_changes(before: dict[str, list[dict[str, Any]]], refused: bool) -> list[str]:
    """What a POST changed in the portal's rows, the audit trail's new records excepted
    (unless, after a refused POST, one says the change was made)."""
    after = portal_rows()
    changed = [k for k in after if k != AUDIT_LOG and after[k] != before.get(k)]
    old, new = before.get(AUDIT_LOG, []), after.get(AUDIT_LOG, [])
    if new[: len(old)] != old:
        changed.append(f"{AUDIT_LOG} (earlier records)")
    if refused and any(r.get("result") in DONE for r in new[len(old) :]):
        changed.append(f"{AUDIT_LOG} (a record says it was done)")
    return changed


def owner_rows(world: World, member_id: str, admin_id: str) -> dict[str, str]:
    """The owner's jobs and upload (and two of the admin's), made directly with the models:
    a queued router delete, a running upload into the community image, an export."""
    common = {"cloud_key": PORTAL_CLOUD_KEY, "task_name": "pm", "project_name": "demo"}
    owner = {
        **common,
        "user_id": member_id,
        "user_name": "demo",
        "project_id": world.ids["project"],
    }
    t = world.tag
    job = Operation.objects.create(
        kind="delete_router", title=f"{t}-job", target=world.ids["router"],
        target_name=f"{t}-router", step=f"{t}-job-step", **owner,
    )  # fmt: skip
    upload_job = Operation.objects.create(
        kind="upload_image", title=f"{t}-upload-job", target_name=f"{t}-upload-job",
        step=f"{t}-upload-step", state=Operation.State.RUNNING,
        result={"image_id": world.ids["community_image"]}, **owner,
    )  # fmt: skip
    export = Operation.objects.create(
        kind="export_usage", title=f"{t}-export", step=f"{t}-export-step", **owner
    )
    upload = ImageUpload.objects.create(
        cloud_key=PORTAL_CLOUD_KEY, user_id=member_id, project_id=world.ids["project"],
        file_name=f"{t}-upload-job.qcow2", size=1 << 20, spec={"name": f"{t}-upload-job"},
        operation=upload_job,
    )  # fmt: skip
    admin = {**common, "user_id": admin_id, "user_name": "admin", "project_id": "admin"}
    quota_job = Operation.objects.create(kind="apply_quotas", title="pm quotas", **admin)
    host_job = Operation.objects.create(
        kind="drain_host", title="pm drain", target=world.ids["host"], **admin
    )
    return {
        "op": str(job.pk),
        "export_op": str(export.pk),
        "upload": str(upload.pk),
        "quota_op": str(quota_job.pk),
        "host_op": str(host_job.pk),
    }


# --- one request, judged ----------------------------------------------------------------------


def redirect_of(response: Response) -> str | None:
    """Where a response sends the browser: Location, or htmx's HX-Redirect (a 200)."""
    if response.has_header("HX-Redirect"):
        return str(response["HX-Redirect"])
    if 300 <= response.status_code < 400:
        return str(response.get("Location", ""))
    return None


def outcomes(response: Response) -> set[str]:
    """The matrix outcomes a response counts as."""
    status = response.status_code
    location = redirect_of(response)
    if location is not None:
        if location.startswith(SIGN_IN_PATH):
            return {pm.SIGN_IN}
        found = {pm.MOVED, pm.ALLOWED}
        # A redirect back is a refusal when the view said nothing was done: no success or
        # info message queued (the messages framework keeps this request's in _queued_messages)
        # and not a job's page.
        queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
        done = any(m.level in (messages.SUCCESS, messages.INFO) for m in queued)
        if not done and not location.startswith("/operations/"):
            found.add(pm.REFUSED)
        return found
    if 200 <= status < 300:
        return {pm.OK, pm.ALLOWED}
    return {
        400: {pm.REFUSED},
        401: {pm.UNAUTHENTICATED},
        403: {pm.FORBIDDEN, pm.REFUSED},
        404: {pm.HIDDEN, pm.REFUSED},
        405: {pm.NO_METHOD},
        409: {pm.REFUSED},
    }.get(status, set())


def body_of(response: Response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        content = response.content
    return content.decode(errors="replace") + "\n" + (redirect_of(response) or "")


@dataclass
class Walk:
    persona: str
    client: Client
    token: str
    ids: dict[str, str]
    secrets: set[str]
    failures: list[str] = field(default_factory=list)
    timings: list[tuple[float, str]] = field(default_factory=list)
    requests: int = 0

    def forget_messages(self) -> None:
        """Drop the messages this response queued for the next page: they quote what the
        persona sent, and would show up in the next, unrelated, response's body."""
        session = self.client.session
        if session.pop("_messages", None) is not None:
            session.save()

    def fill(self, text: str) -> str:
        return text.format_map(self.ids)

    def request(self, row: pm.Row, method: str, htmx: bool = False) -> None:
        expected = (row.get if method == "GET" else row.post).of(self.persona)
        if expected == pm.SKIP:
            return
        url = reverse(row.name, kwargs={k: self.ids[v] for k, v in row.kwargs.items()})
        headers = {"X-Auth-Token": self.token} if row.api and self.token else {}
        if htmx:
            headers["HX-Request"] = "true"
        before = portal_rows() if method == "POST" and expected != pm.NO_METHOD else None
        started = time.monotonic()
        if method == "GET":
            target = url + ("?" + self.fill(row.query) if row.query else "")
            response = self.client.get(target, headers=headers)
        else:
            target = url
            data = {k: self.fill(v) for k, v in row.data.items()}
            response = self.client.post(url, data, headers=headers)
        self.timings.append((time.monotonic() - started, f"{method} {target}"))
        self.forget_messages()
        self.requests += 1
        where = f"{self.persona} {method}{' (htmx)' if htmx else ''} {target} ({row.name})"
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{where}: server error {status}")
        elif expected not in outcomes(response):
            location = redirect_of(response)
            moved = f" → {location}" if location is not None else ""
            self.failures.append(f"{where}: expected {expected}, got {status}{moved}")
        asked = target + " " + " ".join(row.data.values() if method == "POST" else ())
        asked = self.fill(asked)
        body = body_of(response)
        rightly = {self.ids[k] for k in row.may_show}
        leaked = sorted(s for s in self.secrets - rightly if s not in asked and s in body)
        if leaked:
            self.failures.append(f"{where}: shows another tenant's {leaked}")
        if before is not None and (
            changed := row_changes(before, expected not in (pm.OK, pm.ALLOWED, pm.MOVED))
        ):
            self.failures.append(f"{where}: changed the portal's rows {changed}")


def signed_in(persona: str) -> tuple[Client, str, str]:
    """A client signed in through the portal's sign-in page, the persona's own project-scoped
    API token and its project id (empty for anonymous)."""
    # a view that raises answers 500 like in production: recorded, and the walk goes on
    client = Client(raise_request_exception=False)
    if persona == "anonymous":
        return client, "", ""
    conn: Any = sdk(CLOUD_PERSONA[persona])
    portal_sign_in(client, CLOUD_PERSONA[persona], project_id=conn.current_project_id)
    return client, str(conn.auth_token), str(conn.current_project_id)


@pytest.mark.parametrize("persona", pm.PERSONAS)
def test_persona_matrix(persona: str, world: World, portal_clouds_yaml: object) -> None:
    member_id, admin_id = world.ids["owner_user"], str(sdk("admin").current_user_id)
    ids = {**world.ids, **owner_rows(world, member_id, admin_id)}
    client, token, own_project = signed_in(persona)
    ids["own_project"] = own_project or ids["project"]
    secrets = {
        "anonymous": world.owner_secrets | world.other_secrets,
        "outsider": world.owner_secrets,
        # the reader shares the owner's project, and so its jobs' traces on the project's
        # pages (an upload's progress on the image); the job's own page stays the member's
        "reader": world.other_secrets | {f"{world.tag}-job-step"},
        "member": world.other_secrets,
        "admin": set(),
    }[persona]
    walk = Walk(persona, client, token, ids, secrets)
    cloud_before = cloud_state(world)
    for row in pm.MATRIX:
        walk.request(row, "GET")
        walk.request(row, "GET", htmx=True)
    for row in pm.MATRIX:
        walk.request(row, "POST")
    cloud_after = cloud_state(world)
    for key in cloud_before:
        if cloud_after[key] != cloud_before[key]:
            walk.failures.append(
                f"{persona}: the cloud changed: {key} {cloud_before[key]!r} → {cloud_after[key]!r}"
            )
    slowest = sorted(walk.timings, reverse=True)[:3]
    total = sum(t for t, _ in walk.timings)
    print(f"{persona}: {walk.requests} requests in {total:.1f}s; slowest {slowest}")
    assert not walk.failures, f"{len(walk.failures)} defects:\n" + "\n".join(walk.failures)
