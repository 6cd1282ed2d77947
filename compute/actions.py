"""Which instance actions the pages offer for a server in a given state.

The rules follow Nova's own state checks (nova/compute/api.py `check_instance_state`), so a
button is shown only when Nova would accept it. Nova still decides: when a state changes
between the page and the click, its 409 reason is shown.

Each action is one gateway method, one view and one URL name (STYLE.md §6):
`pause_server` -> views.pause_server -> compute:pause-server.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from compute.gateway import Server


@dataclass(frozen=True, eq=False)  # one object per action: compared and hashed by identity
class Action:
    name: str  # verb_noun, as the gateway method and the view
    label: str | Promise
    form: bool = False  # opens a form (GET) first; otherwise a POST button
    danger: bool = False
    confirm: str | Promise = ""  # asked in the browser before a POST button acts
    hidden: tuple[tuple[str, str], ...] = ()  # extra POST fields (e.g. hard reboot)

    @property
    def url_name(self) -> str:
        return "compute:" + self.name.replace("_", "-")

    def url(self, server_id: str) -> str:
        """The action's URL for a server; reversed once per action, not once per row."""
        return _url_pattern(self.url_name).replace(_ID, server_id)


_ID = "00000000-server-id-00000000"


@functools.cache
def _url_pattern(url_name: str) -> str:
    return reverse(url_name, args=[_ID])


def url_for(view: str, server_id: str) -> str:
    """A server page's URL by its view name (server_detail -> compute:server-detail)."""
    return _url_pattern("compute:" + view.replace("_", "-")).replace(_ID, server_id)


EDIT = Action("update_server", _("Edit instance"), form=True)
SNAPSHOT = Action("create_server_image", _("Create snapshot"), form=True)
PAUSE = Action("pause_server", _("Pause"))
UNPAUSE = Action("unpause_server", _("Unpause"))
SUSPEND = Action("suspend_server", _("Suspend"))
RESUME = Action("resume_server", _("Resume"))
SHELVE = Action("shelve_server", _("Shelve"))
UNSHELVE = Action("unshelve_server", _("Unshelve"))
STOP = Action("stop_server", _("Shut off"), danger=True, confirm=_("Shut off this instance?"))
START = Action("start_server", _("Start"))
SOFT_REBOOT = Action("reboot_server", _("Soft reboot"), confirm=_("Reboot this instance?"))
HARD_REBOOT = Action(
    "reboot_server",
    _("Hard reboot"),
    danger=True,
    confirm=_("Hard reboot this instance? Unsaved data in memory is lost."),
    hidden=(("hard", "1"),),
)
RESIZE = Action("resize_server", _("Resize"), form=True)
CONFIRM_RESIZE = Action("confirm_server_resize", _("Confirm resize"))
REVERT_RESIZE = Action("revert_server_resize", _("Revert resize"))
REBUILD = Action("rebuild_server", _("Rebuild"), form=True, danger=True)
LOCK = Action("lock_server", _("Lock"))
UNLOCK = Action("unlock_server", _("Unlock"))
RESCUE = Action("rescue_server", _("Rescue"), form=True)
UNRESCUE = Action("unrescue_server", _("Unrescue"))
ASSOCIATE_IP = Action("associate_floating_ip", _("Associate floating IP"), form=True)
DISASSOCIATE_IP = Action("disassociate_floating_ip", _("Disassociate floating IP"), form=True)
ATTACH_INTERFACE = Action("create_server_interface", _("Attach interface"), form=True)
DETACH_INTERFACE = Action("delete_server_interface", _("Detach interface"), form=True)
ATTACH_VOLUME = Action("create_volume_attachment", _("Attach volume"), form=True)
DETACH_VOLUME = Action("delete_volume_attachment", _("Detach volume"), form=True)
DELETE = Action("delete_server", _("Delete instance"), form=True, danger=True)

# Menu order.
ALL = (
    EDIT,
    SNAPSHOT,
    CONFIRM_RESIZE,
    REVERT_RESIZE,
    START,
    STOP,
    SOFT_REBOOT,
    HARD_REBOOT,
    PAUSE,
    UNPAUSE,
    SUSPEND,
    RESUME,
    SHELVE,
    UNSHELVE,
    RESCUE,
    UNRESCUE,
    RESIZE,
    REBUILD,
    ASSOCIATE_IP,
    DISASSOCIATE_IP,
    ATTACH_INTERFACE,
    DETACH_INTERFACE,
    ATTACH_VOLUME,
    DETACH_VOLUME,
    LOCK,
    UNLOCK,
    DELETE,
)

_NETWORKED = {ASSOCIATE_IP, ATTACH_INTERFACE, DETACH_INTERFACE}
_BY_VM_STATE: dict[str, set[Action]] = {
    "active": {
        EDIT,
        SNAPSHOT,
        PAUSE,
        SUSPEND,
        SHELVE,
        STOP,
        SOFT_REBOOT,
        HARD_REBOOT,
        RESIZE,
        REBUILD,
        LOCK,
        RESCUE,
        ATTACH_VOLUME,
        DETACH_VOLUME,
        DELETE,
        *_NETWORKED,
    },
    "stopped": {
        EDIT,
        SNAPSHOT,
        START,
        SHELVE,
        HARD_REBOOT,
        RESIZE,
        REBUILD,
        LOCK,
        RESCUE,
        ATTACH_VOLUME,
        DETACH_VOLUME,
        DELETE,
        *_NETWORKED,
    },
    "paused": {EDIT, SNAPSHOT, UNPAUSE, SHELVE, HARD_REBOOT, LOCK, DELETE, *_NETWORKED},
    "suspended": {EDIT, SNAPSHOT, RESUME, SHELVE, HARD_REBOOT, LOCK, DELETE},
    "shelved": {EDIT, UNSHELVE, LOCK, DELETE},
    "shelved_offloaded": {EDIT, UNSHELVE, LOCK, DELETE},
    "rescued": {EDIT, UNRESCUE, LOCK, DELETE},
    "resized": {EDIT, CONFIRM_RESIZE, REVERT_RESIZE, LOCK, DELETE},
    "error": {EDIT, HARD_REBOOT, REBUILD, LOCK, DELETE},
}
# While Nova works on a server (task state set) only these make sense.
_BUSY = {EDIT, DELETE, LOCK}


def available_actions(server: Server, has_volumes: bool = True) -> tuple[Action, ...]:
    """The actions to offer for `server`, in menu order."""
    if server.locked:
        # Nova refuses a locked server's actions to non-admins; unlocking comes first.
        allowed = {EDIT, UNLOCK}
    elif server.task_state or server.status == "BUILD":
        allowed = set(_BUSY)
    else:
        allowed = set(_BY_VM_STATE.get(server.vm_state, {EDIT, DELETE, LOCK}))
    if not server.floating_ips:
        allowed.discard(DISASSOCIATE_IP)
    elif ASSOCIATE_IP in allowed:
        allowed.add(DISASSOCIATE_IP)
    if not server.addresses:
        allowed.discard(DETACH_INTERFACE)
    if not has_volumes:
        allowed -= {ATTACH_VOLUME, DETACH_VOLUME}
    elif not server.volume_ids:
        allowed.discard(DETACH_VOLUME)
    return tuple(a for a in ALL if a in allowed)


def action_names(server: Server, has_volumes: bool = True) -> set[str]:
    return {a.name for a in available_actions(server, has_volumes)}


# For the bulk bar: actions that apply to many servers at once, without a form.
BULK = {
    "delete_server": (
        _("Delete"),
        ngettext_lazy("Deleting %(n)d instance.", "Deleting %(n)d instances.", "n"),
    ),
    "stop_server": (
        _("Shut off"),
        ngettext_lazy("Shutting off %(n)d instance.", "Shutting off %(n)d instances.", "n"),
    ),
    "start_server": (
        _("Start"),
        ngettext_lazy("Starting %(n)d instance.", "Starting %(n)d instances.", "n"),
    ),
    "reboot_server": (
        _("Soft reboot"),
        ngettext_lazy("Rebooting %(n)d instance.", "Rebooting %(n)d instances.", "n"),
    ),
}
