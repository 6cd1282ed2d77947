"""Instances (list, launch, detail, every action), key pairs and server groups.

Every view acts with the signed-in user's own token through ComputeGateway. The instances
page makes three calls at once whatever the number of servers (the warm servers list's one
changes-since delta, compute/warm.py; images; limits) and pages, filters and sorts the warm
rows itself; a row in a changing state polls its own partial until it settles (286 stops it).
After an action, an htmx request gets the fresh row (plus the message, out of band); a
plain request is redirected back with the message.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from compute import actions as acts
from compute import forms as f
from compute import launch, warm
from compute.gateway import ComputeGateway, Server, ServerQuery
from compute.hints import explain, hint_for
from portal.actions import (
    CHANGED,
    CLOSE_MODAL,
    TEMPLATE,
    changed,
    done,
    form_page,
    go,
    next_url,
)
from portal.concurrency import concurrently
from portal.errors import CloudError, CloudUnavailable, NotFound, Rejected
from portal.forms import PortalForm
from portal.gateways import gateway
from portal.identity import PortalRequest, login_required, me, safe_next
from portal.kept import kept, portal_changes
from portal.preferences import page_size
from portal.refs import Image

T = TypeVar("T")
LOG_LENGTHS = (35, 100, 500)
AWAIT_SECONDS = 60  # how long a row watches for a status change that has no task state
IMAGES_KEPT_SECONDS = 30  # the instances page's image names (portal/kept.py)
QUOTA_KEPT_SECONDS = 2  # and its quota: the warm list's freshness bound
TAB_LABELS = (
    ("overview", gettext_lazy("Overview")),
    ("log", gettext_lazy("Log")),
    ("console", gettext_lazy("Console")),
    ("actions", gettext_lazy("Action Log")),
)
DETAIL_TABS = tuple(key for key, _label in TAB_LABELS)


def _gw(request: PortalRequest) -> ComputeGateway:
    return gateway(request, ComputeGateway)


def _posted(request: PortalRequest) -> Any:
    """The POST data of a POST (even an empty one), None for a GET: binds a form."""
    return request.POST if request.method == "POST" else None


def _partial(request: PortalRequest) -> bool:
    """An htmx request that wants a piece of the page, not the whole page."""
    return bool(request.htmx) and not request.htmx.boosted


def _optional(call: Callable[[], T]) -> Callable[[], T | None]:
    """For secondary reads (image names, quota): a failing service leaves a gap, not an error
    page. A session that has ended still ends (SignInRequired is not caught)."""

    def run() -> T | None:
        try:
            return call()
        except (CloudUnavailable, Rejected, NotFound):
            return None

    return run


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerRow:
    """One line of an instances table: the server, its image's name and what it offers.
    Admin › Instances builds the same rows (with `admin` set in the context)."""

    server: Server
    image_name: str
    actions: tuple[acts.Action, ...]
    leaving: str = ""  # a status Nova leaves without a task state (confirm resize), awaited
    since: int = 0  # when the wait for `leaving` began (epoch seconds)
    admin: bool = False  # Admin › Instances: project and host columns

    @property
    def polls(self) -> bool:
        return self.server.is_transitional or self.server.status == self.leaving != ""

    @property
    def poll_query(self) -> str:
        params = {"leaving": self.leaving, "since": self.since} if self.leaving else {}
        if self.admin:
            params["admin"] = 1
        return "?" + urlencode(params) if params else ""

    @property
    def detail_url(self) -> str:
        return acts.url_for("server_detail", self.server.id)

    @property
    def poll_url(self) -> str:
        return acts.url_for("server_row", self.server.id) + self.poll_query

    @property
    def menu_url(self) -> str:
        return acts.url_for("server_actions", self.server.id)

    @property
    def menu(self) -> list[tuple[acts.Action, str]]:
        return [(a, a.url(self.server.id)) for a in self.actions]

    @property
    def fault_hint(self) -> str:
        return str(hint_for(self.server.fault_message)) if self.server.fault_message else ""


def image_label(server: Server, names: dict[str, str]) -> str:
    if not server.image_id:
        return _("Booted from volume")
    return names.get(server.image_id) or server.image_id


def server_rows(
    servers: tuple[Server, ...] | list[Server], images: list[Image] | None, has_volumes: bool
) -> list[ServerRow]:
    names = {i.id: i.label for i in images or []}
    return [
        ServerRow(s, image_label(s, names), acts.available_actions(s, has_volumes)) for s in servers
    ]


def _leaving(request: PortalRequest) -> tuple[str, int]:
    """The status a poll waits to see the server leave, while that wait is not too old."""
    leaving = request.GET.get("leaving", "")
    since = _int(request.GET.get("since"), 0)
    if leaving in ("VERIFY_RESIZE",) and time.time() - since < AWAIT_SECONDS:
        return leaving, since
    return "", 0


def fetch_row(
    gw: ComputeGateway, server_id: str, leaving: str = "", since: int = 0
) -> ServerRow | None:
    """A single fresh row (None once the server is gone): the server, then its image name."""
    try:
        server = gw.get_server(server_id)
    except NotFound:
        return None
    images = None
    if server.image_id:
        image = _optional(lambda: gw.get_image(server.image_id))()
        images = [image] if image else None
    row = server_rows([server], images, gw.has_volumes())[0]
    return replace(row, leaving=leaving, since=since) if leaving else row


def _list_url(params: dict[str, str]) -> str:
    query = urlencode(params)
    return reverse("compute:list-servers") + (f"?{query}" if query else "")


# --- the instances page ------------------------------------------------------------------------


@require_GET
@login_required
def list_servers(request: PortalRequest) -> HttpResponse:
    form = f.ServerFilterForm(request.GET or None, per_page=page_size(request))
    gw = _gw(request)
    scope = warm.project_scope(me(request))
    # The warm servers (one changes-since delta; one full list when cold), the image names
    # and the quota: three calls at once, whatever N; the names and the quota are kept copies
    # (portal/kept.py), so a warm view is usually the delta alone. The page is cut here.
    identity = me(request)
    stamp = portal_changes(identity)
    servers, images, limits = concurrently(
        lambda: warm.warm_servers(gw, scope),
        lambda: kept(
            identity, "compute:images", _optional(gw.list_images), IMAGES_KEPT_SECONDS, stamp
        ),
        lambda: kept(
            identity, "compute:limits", _optional(gw.get_limits), QUOTA_KEPT_SECONDS, stamp
        ),
    )
    page = warm.page_of(servers, form.query(), {i.id: i.label for i in images or []})
    params = form.link_params()
    context = {
        "form": form,
        "rows": server_rows(page.servers, images, gw.has_volumes()),
        "page": page,
        "limits": limits,
        "next_url": _list_url({**params, "marker": page.next_marker}) if page.next_marker else "",
        "prev_url": _list_url({**params, "before": page.prev_marker}) if page.prev_marker else "",
        "first_url": _list_url(params) if page.prev_marker else "",
        "bulk_actions": acts.BULK,
        "filtered": bool(params.keys() - {"sort", "per_page"}),
    }
    if _partial(request):
        return render(request, "compute/servers.html#table", context)
    return render(request, "compute/servers.html", context)


@require_GET
@login_required
def server_row(request: PortalRequest, server_id: str) -> HttpResponse:
    """A row polling while its server changes: 286 (stop) once it has settled or is gone."""
    row = fetch_row(_gw(request), server_id, *_leaving(request))
    if row is None:
        return HttpResponse("", status=286)  # deleted: the row disappears
    # Admin › Instances polls the same rows with its extra columns.
    admin = request.GET.get("admin") == "1" and me(request).is_admin
    row = replace(row, admin=admin)
    context = {"row": row, "admin": admin}
    status = 200 if row.polls else 286
    return render(request, "compute/servers.html#row", context, status=status)


def menu_of_gone_server() -> HttpResponse:
    """A row's menu opened after its server was deleted (here or by someone else)."""
    gone = _("This instance no longer exists.")
    return HttpResponse(format_html('<li><span class="dropdown-item-text">{}</span></li>', gone))


@require_GET
@login_required
def server_actions(request: PortalRequest, server_id: str) -> HttpResponse:
    """A row's action menu, read when it is opened: what the server's state allows now."""
    gw = _gw(request)
    try:
        server = gw.get_server(server_id)
    except NotFound:
        return menu_of_gone_server()
    row = ServerRow(server, "", acts.available_actions(server, gw.has_volumes()))
    return render(request, "compute/servers.html#menu", {"row": row})


def _after(
    request: PortalRequest,
    gw: ComputeGateway,
    server_id: str,
    message: str,
    ok: bool = True,
    back: str = "",
    leaving: str = "",
) -> HttpResponse:
    """The response to an action. From the list (htmx, no `next`): the fresh row, the modal
    closes. From the detail page (`next`) or without JavaScript: back there, with the message."""
    (messages.success if ok else messages.error)(request, message)
    posted_next = safe_next(request, request.POST.get("next"))
    if request.htmx and not posted_next:
        row = fetch_row(gw, server_id, leaving, int(time.time()))
        warm.note_server(me(request), server_id, row.server if row else None)
        oob = request.htmx.target != f"server-{server_id}"
        context = {"row": row, "server_id": server_id, "oob": oob}
        response = render(request, "compute/servers.html#action-response", context)
        return trigger_client_event(response, CLOSE_MODAL)
    url = back or posted_next or reverse("compute:server-detail", args=[server_id])
    if leaving and not back:
        url += "?" + urlencode({"leaving": leaving, "since": int(time.time())})
    return go(request, url)


def _perform(
    request: PortalRequest,
    server_id: str,
    act: Callable[[ComputeGateway], object],
    done: str | Promise,
    failed: str | Promise,
    leaving: str = "",
) -> HttpResponse:
    """A POST action without a form: do it, then report success or OpenStack's reason."""
    gw = _gw(request)
    try:
        act(gw)
    except (Rejected, NotFound) as exc:
        message = str(failed) % {"reason": explain(exc)}
        return _after(request, gw, server_id, message, ok=False)
    return _after(request, gw, server_id, str(done), leaving=leaving)


@require_POST
@login_required
def pause_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.pause_server(server_id),
        _("Pausing the instance."),
        _("The instance was not paused: %(reason)s"),
    )


@require_POST
@login_required
def unpause_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.unpause_server(server_id),
        _("Unpausing the instance."),
        _("The instance was not unpaused: %(reason)s"),
    )


@require_POST
@login_required
def suspend_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.suspend_server(server_id),
        _("Suspending the instance."),
        _("The instance was not suspended: %(reason)s"),
    )


@require_POST
@login_required
def resume_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.resume_server(server_id),
        _("Resuming the instance."),
        _("The instance was not resumed: %(reason)s"),
    )


@require_POST
@login_required
def shelve_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.shelve_server(server_id),
        _("Shelving the instance."),
        _("The instance was not shelved: %(reason)s"),
    )


@require_POST
@login_required
def unshelve_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.unshelve_server(server_id),
        _("Unshelving the instance."),
        _("The instance was not unshelved: %(reason)s"),
    )


@require_POST
@login_required
def stop_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.stop_server(server_id),
        _("Shutting off the instance."),
        _("The instance was not shut off: %(reason)s"),
    )


@require_POST
@login_required
def start_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.start_server(server_id),
        _("Starting the instance."),
        _("The instance was not started: %(reason)s"),
    )


@require_POST
@login_required
def reboot_server(request: PortalRequest, server_id: str) -> HttpResponse:
    hard = request.POST.get("hard") == "1"
    return _perform(
        request,
        server_id,
        lambda gw: gw.reboot_server(server_id, hard=hard),
        _("Hard rebooting the instance.") if hard else _("Rebooting the instance."),
        _("The instance was not rebooted: %(reason)s"),
    )


@require_POST
@login_required
def confirm_server_resize(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.confirm_server_resize(server_id),
        _("Resize confirmed."),
        _("The resize was not confirmed: %(reason)s"),
        # Nova confirms in the background without a task state: watch the status change.
        leaving="VERIFY_RESIZE",
    )


@require_POST
@login_required
def revert_server_resize(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.revert_server_resize(server_id),
        _("Reverting the resize."),
        _("The resize was not reverted: %(reason)s"),
    )


@require_POST
@login_required
def lock_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.lock_server(server_id),
        _("Instance locked."),
        _("The instance was not locked: %(reason)s"),
    )


@require_POST
@login_required
def unlock_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.unlock_server(server_id),
        _("Instance unlocked."),
        _("The instance was not unlocked: %(reason)s"),
    )


@require_POST
@login_required
def unrescue_server(request: PortalRequest, server_id: str) -> HttpResponse:
    return _perform(
        request,
        server_id,
        lambda gw: gw.unrescue_server(server_id),
        _("Leaving rescue mode."),
        _("The instance did not leave rescue mode: %(reason)s"),
    )


# --- actions with a form -----------------------------------------------------------------------


def _form_action(
    request: PortalRequest,
    gw: ComputeGateway,
    server: Server,
    form: PortalForm,
    *,
    title: str | Promise,
    submit: str | Promise,
    perform: Callable[[dict[str, Any]], object],
    done: str | Promise,
    danger: bool = False,
    intro: str | Promise = "",
    next_url: str = "",
    addresses: bool = False,
) -> HttpResponse:
    """GET shows the form (in the modal for htmx); a valid POST acts; a refusal comes back on
    the form with OpenStack's reason, the values kept. `addresses`: the action changes the
    server's addresses, which Nova's changes-since does not report (and Nova learns them from
    Neutron a moment later), so the warm lists are read in full on their next view."""
    if request.method == "POST" and form.is_valid():
        try:
            perform(form.cleaned_data)
        except (Rejected, NotFound) as exc:
            form.add_error(None, explain(exc))
        else:
            if addresses:
                warm.forget(me(request))
            return _after(request, gw, server.id, str(done), back=next_url)
    return form_page(
        request,
        form,
        title=title,
        submit=submit,
        cancel=reverse("compute:server-detail", args=[server.id]),
        intro=intro,
        danger=danger,
    )


@require_http_methods(["GET", "POST"])
@login_required
def update_server(request: PortalRequest, server_id: str) -> HttpResponse:
    """Edit: name, description and security groups (Nova add/removeSecurityGroup)."""
    gw = _gw(request)
    server, groups = concurrently(lambda: gw.get_server(server_id), gw.list_security_groups)
    current = [g.id for g in groups if g.name in server.security_groups]
    form = f.UpdateServerForm(
        _posted(request),
        groups=groups,
        initial={
            "name": server.name,
            "description": server.description,
            "security_groups": current,
        },
    )

    def perform(data: dict[str, Any]) -> None:
        if (data["name"], data["description"]) != (server.name, server.description):
            gw.update_server(server.id, data["name"], data["description"])
        chosen = set(data["security_groups"])
        for group_id in sorted(chosen - set(current)):
            gw.add_security_group_to_server(server.id, group_id)
        for group_id in sorted(set(current) - chosen):
            gw.remove_security_group_from_server(server.id, group_id)

    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Edit %(name)s") % {"name": server.name},
        submit=_("Save"),
        perform=perform,
        done=_("Instance updated."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def create_server_image(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server = gw.get_server(server_id)
    form = f.CreateServerImageForm(_posted(request), initial={"name": f"{server.name}-snapshot"})
    created: list[str] = []
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Create a snapshot of %(name)s") % {"name": server.name},
        submit=_("Create snapshot"),
        perform=lambda data: created.append(gw.create_server_image(server.id, data["name"])),
        done=gettext_lazy(
            "Snapshot requested. It appears among the images and can be launched once Glance "
            "marks it active."
        ),
        intro=_("A snapshot saves the instance's disk as an image you can launch later."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def resize_server(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, flavors = concurrently(lambda: gw.get_server(server_id), gw.list_flavors)
    form = f.ResizeServerForm(_posted(request), flavors=flavors, server=server)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Resize %(name)s") % {"name": server.name},
        submit=_("Resize"),
        perform=lambda data: gw.resize_server(server.id, data["flavor"]),
        done=_("Resizing. Confirm or revert the resize once the instance is ready."),
        intro=_("The instance now has flavor %(flavor)s.") % {"flavor": server.flavor.name},
    )


@require_http_methods(["GET", "POST"])
@login_required
def rebuild_server(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, images = concurrently(lambda: gw.get_server(server_id), gw.list_images)
    form = f.RebuildServerForm(_posted(request), images=images, server=server)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Rebuild %(name)s") % {"name": server.name},
        submit=_("Rebuild"),
        perform=lambda data: gw.rebuild_server(server.id, data["image"]),
        done=_("Rebuilding the instance."),
        danger=True,
        intro=_("Rebuilding replaces the instance's disk with the chosen image."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def rescue_server(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, images = concurrently(lambda: gw.get_server(server_id), gw.list_images)
    form = f.RescueServerForm(_posted(request), images=images)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Rescue %(name)s") % {"name": server.name},
        submit=_("Rescue"),
        perform=lambda data: gw.rescue_server(server.id, data["image"], data["password"]),
        done=_("Starting the instance in rescue mode."),
        intro=_("The instance boots from a rescue image with its own disk attached, to repair it."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def associate_floating_ip(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, fips, networks, ports = concurrently(
        lambda: gw.get_server(server_id),
        gw.list_floating_ips,
        gw.list_networks,
        lambda: gw.list_ports(device_id=server_id),
    )
    form = f.AssociateFloatingIpForm(
        _posted(request),
        floating_ips=fips,
        external_networks=[n for n in networks if n.is_external],
        ports=ports,
    )

    def perform(data: dict[str, Any]) -> None:
        fip_id = data["floating_ip"]
        if fip_id.startswith("new:"):
            fip_id = gw.create_floating_ip(fip_id[4:]).id
        gw.update_floating_ip(fip_id, data["port"])

    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Associate a floating IP with %(name)s") % {"name": server.name},
        submit=_("Associate"),
        perform=perform,
        done=_("Floating IP associated."),
        addresses=True,
    )


@require_http_methods(["GET", "POST"])
@login_required
def disassociate_floating_ip(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, fips, ports = concurrently(
        lambda: gw.get_server(server_id),
        gw.list_floating_ips,
        lambda: gw.list_ports(device_id=server_id),
    )
    port_ids = {p.id for p in ports}
    form = f.DisassociateFloatingIpForm(
        _posted(request), floating_ips=[x for x in fips if x.port_id in port_ids]
    )
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Disassociate a floating IP from %(name)s") % {"name": server.name},
        submit=_("Disassociate"),
        perform=lambda data: gw.update_floating_ip(data["floating_ip"], None),
        done=_("Floating IP disassociated. It stays in the project until released."),
        danger=True,
        addresses=True,
    )


@require_http_methods(["GET", "POST"])
@login_required
def create_server_interface(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, networks, ports = concurrently(
        lambda: gw.get_server(server_id), gw.list_networks, gw.list_ports
    )
    form = f.CreateServerInterfaceForm(_posted(request), networks=networks, ports=ports)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Attach an interface to %(name)s") % {"name": server.name},
        submit=_("Attach interface"),
        perform=lambda data: gw.create_server_interface(
            server.id, network_id=data["network"], port_id=data["port"]
        ),
        done=_("Interface attached."),
        addresses=True,
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_server_interface(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, ports = concurrently(
        lambda: gw.get_server(server_id), lambda: gw.list_ports(device_id=server_id)
    )
    form = f.DeleteServerInterfaceForm(_posted(request), ports=ports)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Detach an interface from %(name)s") % {"name": server.name},
        submit=_("Detach interface"),
        perform=lambda data: gw.delete_server_interface(server.id, data["port"]),
        done=_("Interface detached."),
        danger=True,
        addresses=True,
    )


@require_http_methods(["GET", "POST"])
@login_required
def create_volume_attachment(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, volumes = concurrently(lambda: gw.get_server(server_id), gw.list_volumes)
    form = f.CreateVolumeAttachmentForm(_posted(request), volumes=volumes)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Attach a volume to %(name)s") % {"name": server.name},
        submit=_("Attach volume"),
        perform=lambda data: gw.create_volume_attachment(server.id, data["volume"]),
        done=_("Attaching the volume."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_volume_attachment(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server, volumes = concurrently(lambda: gw.get_server(server_id), gw.list_volumes)
    attached = [
        (v.id, f"{v.label} ({a.device})" if a.device else v.label)
        for v in volumes
        for a in v.attachments
        if a.server_id == server.id
    ]
    form = f.DeleteVolumeAttachmentForm(_posted(request), volumes=attached)
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Detach a volume from %(name)s") % {"name": server.name},
        submit=_("Detach volume"),
        perform=lambda data: gw.delete_volume_attachment(server.id, data["volume"]),
        done=_("Detaching the volume."),
        danger=True,
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_server(request: PortalRequest, server_id: str) -> HttpResponse:
    gw = _gw(request)
    server = gw.get_server(server_id)
    form = PortalForm(_posted(request))
    return _form_action(
        request,
        gw,
        server,
        form,
        title=_("Delete %(name)s") % {"name": server.name},
        submit=_("Delete instance"),
        perform=lambda data: gw.delete_server(server.id),
        done=_("Deleting %(name)s.") % {"name": server.name},
        danger=True,
        intro=_("The instance and its local disk are deleted. This cannot be undone."),
        next_url=reverse("compute:list-servers"),
    )


# --- bulk actions ------------------------------------------------------------------------------

BULK_MAX = 100


@require_POST
@login_required
def act_on_servers(request: PortalRequest) -> HttpResponse:
    """Bulk actions on the selected rows, all at once; each server's outcome is reported."""
    action = request.POST.get("action", "")
    ids = list(dict.fromkeys(request.POST.getlist("server_id")))[:BULK_MAX]
    if action not in acts.BULK or not ids:
        messages.error(request, _("Select instances and an action first."))  # nothing done
        return _bulk_done(request)
    gw = _gw(request)
    if action == "delete_server" and request.POST.get("confirmed") != "1":
        page = gw.list_servers(ServerQuery(limit=1000))
        names = {s.id: s.name for s in page.servers}
        intro = ngettext(
            "Delete this instance? This cannot be undone.",
            "Delete these %(n)s instances? This cannot be undone.",
            len(ids),
        ) % {"n": len(ids)}
        return form_page(
            request,
            None,
            title=_("Delete instances"),
            intro=intro,
            submit=_("Delete instances"),
            cancel=reverse("compute:list-servers"),
            danger=True,
            above="compute/bulk_servers.html",
            ids=ids,
            names=[names.get(i, i) for i in ids],
            bulk_action=action,
        )
    methods: dict[str, Callable[[str], None]] = {
        "delete_server": gw.delete_server,
        "stop_server": gw.stop_server,
        "start_server": gw.start_server,
        "reboot_server": gw.reboot_server,
    }

    def run(server_id: str) -> str:
        try:
            methods[action](server_id)
        except (Rejected, NotFound) as exc:
            return exc.message
        return ""

    outcomes: list[str] = list(concurrently(*[functools.partial(run, i) for i in ids]))
    label, done = acts.BULK[action]
    ok = sum(1 for o in outcomes if not o)
    if ok:
        messages.success(request, done % {"n": ok})
    for server_id, outcome in zip(ids, outcomes, strict=True):
        if outcome:
            messages.error(
                request,
                _("%(action)s refused for %(id)s: %(reason)s")
                % {"action": label, "id": server_id, "reason": explain(Rejected(outcome))},
            )
    return _bulk_done(request)


def _bulk_done(request: PortalRequest) -> HttpResponse:
    """The messages, and the list reloads (htmx); or back to the list."""
    if request.htmx:
        return trigger_client_event(render(request, f"{TEMPLATE}#messages"), CHANGED)
    return redirect(next_url(request) or reverse("compute:list-servers"))


# --- launch ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def launch_server(request: PortalRequest) -> HttpResponse:
    """The launch wizard; ?image=<id> or ?volume=<id> preselects the boot source."""
    gw = _gw(request)
    choices = launch.load_choices(gw)
    if request.method == "GET":
        wizard = launch.start(choices, request.GET.get("image", ""), request.GET.get("volume", ""))
    else:
        wizard = launch.advance(choices, request.POST)
        if wizard.launch_requested and all(form.is_valid() for form in wizard.forms.values()):
            spec = wizard.spec()
            try:
                gw.create_server(spec)
            except (Rejected, NotFound) as exc:
                wizard.error = explain(exc)
            else:
                messages.success(
                    request,
                    _("Launching %(name)s.") % {"name": spec.name}
                    if spec.count == 1
                    else _("Launching %(n)d instances named %(name)s-1 to %(name)s-%(n)d.")
                    % {"name": spec.name, "n": spec.count},
                )
                url = reverse("compute:list-servers")
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"wizard": wizard, "forms": wizard.forms, "choices": choices}
    template = "compute/launch.html#wizard" if _partial(request) else "compute/launch.html"
    return render(request, template, context, status=400 if wizard.launch_requested else 200)


# --- detail ------------------------------------------------------------------------------------


@require_GET
@login_required
def server_detail(request: PortalRequest, server_id: str) -> HttpResponse:
    """Overview, Log, Console and Action Log tabs; ?part=header polls while it changes."""
    gw = _gw(request)
    tab = request.GET.get("tab", "overview")
    tab = tab if tab in DETAIL_TABS else "overview"
    if request.GET.get("part") == "header":
        context = _header_context(request, gw, gw.get_server(server_id))
        status = 200 if context["row"].polls else 286
        return render(request, "compute/server_detail.html#header", context, status=status)
    context = {"tab": tab, "tabs": TAB_LABELS, **_TABS[tab](request, gw, server_id)}
    context.update(_header_context(request, gw, context["server"]))
    if _partial(request):
        return render(request, "compute/server_detail.html#tab", context)
    return render(request, "compute/server_detail.html", context)


def _header_context(request: PortalRequest, gw: ComputeGateway, server: Server) -> dict[str, Any]:
    leaving, since = _leaving(request)
    actions = acts.available_actions(server, gw.has_volumes())
    return {
        "server": server,
        "row": ServerRow(server, "", actions, leaving, since),
        "actions": actions,
        "fault_hint": hint_for(server.fault_message) if server.fault_message else "",
    }


def _overview(request: PortalRequest, gw: ComputeGateway, server_id: str) -> dict[str, Any]:
    has_volumes = gw.has_volumes()
    server, ports, groups, volumes, images = concurrently(
        lambda: gw.get_server(server_id),
        _optional(lambda: gw.list_ports(device_id=server_id)),
        _optional(gw.list_security_groups),
        _optional(gw.list_volumes) if has_volumes else (lambda: None),
        _optional(gw.list_images),
    )
    port_groups = {sg for p in ports or [] for sg in p.security_group_ids}
    shown_groups = [
        g
        for g in groups or []
        if g.id in port_groups or (not ports and g.name in server.security_groups)
    ]
    return {
        "server": server,
        "image_name": image_label(server, {i.id: i.label for i in images or []}),
        "ports": ports or [],
        "groups": shown_groups,
        "volumes": [v for v in volumes or [] if v.id in server.volume_ids],
        "has_volumes": has_volumes,
        "is_admin": me(request).is_admin,
    }


def _log(request: PortalRequest, gw: ComputeGateway, server_id: str) -> dict[str, Any]:
    length = _int(request.GET.get("lines"), LOG_LENGTHS[0])
    if length not in LOG_LENGTHS:
        length = 0  # all of it
    server, output = concurrently(
        lambda: gw.get_server(server_id),
        _or_error(lambda: gw.get_server_console_output(server_id, length or None)),
    )
    context: dict[str, Any] = {"server": server, "lines": length, "lengths": LOG_LENGTHS}
    if isinstance(output, CloudError):
        context["output_error"] = explain(output)
    else:
        context["output"] = output
    return context


def _console(request: PortalRequest, gw: ComputeGateway, server_id: str) -> dict[str, Any]:
    server, console = concurrently(
        lambda: gw.get_server(server_id),
        _or_error(lambda: gw.create_server_remote_console(server_id)),
    )
    if isinstance(console, CloudError):
        return {"server": server, "console_error": explain(console)}
    return {"server": server, "console": console}


def _actions_log(request: PortalRequest, gw: ComputeGateway, server_id: str) -> dict[str, Any]:
    server, log = concurrently(
        lambda: gw.get_server(server_id), lambda: gw.list_server_actions(server_id)
    )
    return {"server": server, "action_log": log}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def _or_error(call: Callable[[], T]) -> Callable[[], T | CloudError]:
    """A tab's own call: its refusal is shown inside the tab, the rest of the page stands."""

    def run() -> T | CloudError:
        try:
            return call()
        except (Rejected, CloudUnavailable) as exc:
            return exc

    return run


_TABS: dict[str, Callable[[PortalRequest, ComputeGateway, str], dict[str, Any]]] = {
    "overview": _overview,
    "log": _log,
    "console": _console,
    "actions": _actions_log,
}


# --- key pairs ---------------------------------------------------------------------------------


@require_GET
@login_required
def list_keypairs(request: PortalRequest) -> HttpResponse:
    keypairs = _gw(request).list_keypairs()
    template = "compute/keypairs.html#table" if _partial(request) else "compute/keypairs.html"
    return render(request, template, {"keypairs": keypairs})


def _modal_or_page(
    request: PortalRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    name = f"{template}#modal" if _partial(request) else template
    return render(request, name, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def create_keypair(request: PortalRequest) -> HttpResponse:
    """Nova generates the pair; the private key is in this one response and nowhere else."""
    form = f.CreateKeypairForm(_posted(request))
    for_launch = request.GET.get("for") == "launch" or request.POST.get("for") == "launch"
    if request.method == "POST" and form.is_valid():
        gw = _gw(request)
        try:
            created = gw.create_keypair(form.cleaned_data["name"])
        except Rejected as exc:
            form.add_error("name", explain(exc))
        else:
            context = {"created": created, "for_launch": for_launch}
            if for_launch:
                context["keypairs"] = gw.list_keypairs()
            response = _modal_or_page(request, "compute/keypair_created.html", context)
            response["Cache-Control"] = "no-store"
            return trigger_client_event(response, CHANGED) if request.htmx else response
    context = {"form": form, "mode": "create", "for_launch": for_launch}
    return _modal_or_page(
        request, "compute/keypair_form.html", context, 400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@login_required
def import_keypair(request: PortalRequest) -> HttpResponse:
    form = f.ImportKeypairForm(_posted(request))
    for_launch = request.GET.get("for") == "launch" or request.POST.get("for") == "launch"
    if request.method == "POST" and form.is_valid():
        gw = _gw(request)
        try:
            imported = gw.import_keypair(form.cleaned_data["name"], form.cleaned_data["public_key"])
        except Rejected as exc:
            form.add_error(None, explain(exc))
        else:
            messages.success(request, _("Key pair %(name)s imported.") % {"name": imported.name})
            if request.htmx:
                context = {"imported": imported, "for_launch": for_launch}
                if for_launch:
                    context["keypairs"] = gw.list_keypairs()
                return changed(render(request, "compute/keypair_created.html#imported", context))
            return redirect("compute:list-keypairs")
    context = {"form": form, "mode": "import", "for_launch": for_launch}
    return _modal_or_page(
        request, "compute/keypair_form.html", context, 400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_keypair(request: PortalRequest, name: str) -> HttpResponse:
    back = reverse("compute:list-keypairs")
    if request.method == "POST":
        try:
            _gw(request).delete_keypair(name)
        except (Rejected, NotFound) as exc:
            return done(request, explain(exc), back, ok=False)
        return done(request, _("Key pair %(name)s deleted.") % {"name": name}, back)
    return form_page(
        request,
        None,
        title=_("Delete key pair %(name)s") % {"name": name},
        intro=_("Instances launched with it keep the key; new launches cannot use it."),
        submit=_("Delete key pair"),
        cancel=back,
        danger=True,
    )


# --- server groups -----------------------------------------------------------------------------


@require_GET
@login_required
def list_server_groups(request: PortalRequest) -> HttpResponse:
    gw = _gw(request)
    groups, limits = concurrently(gw.list_server_groups, _optional(gw.get_limits))
    context = {"groups": groups, "limits": limits, "policies": dict(f.SERVER_GROUP_POLICIES)}
    template = (
        "compute/server_groups.html#table" if _partial(request) else "compute/server_groups.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def create_server_group(request: PortalRequest) -> HttpResponse:
    form = f.CreateServerGroupForm(_posted(request), initial={"policy": "anti-affinity"})
    back = reverse("compute:list-server-groups")
    if request.method == "POST" and form.is_valid():
        try:
            group = _gw(request).create_server_group(
                form.cleaned_data["name"], form.cleaned_data["policy"]
            )
        except Rejected as exc:
            form.add_error(None, explain(exc))
        else:
            return done(request, _("Server group %(name)s created.") % {"name": group.name}, back)
    return form_page(
        request,
        form,
        title=_("Create a server group"),
        submit=_("Create server group"),
        cancel=back,
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_server_group(request: PortalRequest, group_id: str) -> HttpResponse:
    back = reverse("compute:list-server-groups")
    if request.method == "POST":
        try:
            _gw(request).delete_server_group(group_id)
        except (Rejected, NotFound) as exc:
            return done(request, explain(exc), back, ok=False)
        return done(request, _("Server group deleted."), back)
    return form_page(
        request,
        None,
        title=_("Delete this server group?"),
        intro=_("Its instances keep running; the policy no longer applies to new ones."),
        submit=_("Delete server group"),
        cancel=back,
        danger=True,
    )
