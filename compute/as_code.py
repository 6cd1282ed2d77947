"""The compute forms as `openstack` commands and openstack.cloud tasks (portal/as_code.py)."""

from __future__ import annotations

import shlex
from typing import Any

from django.utils.translation import gettext as _

from compute.launch import NIC_SLOTS
from portal.as_code import Code, Draft, placeholder, writes


def _action_title(verb: str) -> str:
    """The task title of a one-click action (its verb is also openstack.cloud.server_action's
    `action`)."""
    return {
        "pause": _("Pause the instance"),
        "unpause": _("Unpause the instance"),
        "suspend": _("Suspend the instance"),
        "resume": _("Resume the instance"),
        "shelve": _("Shelve the instance"),
        "unshelve": _("Unshelve the instance"),
        "stop": _("Stop the instance"),
        "start": _("Start the instance"),
        "lock": _("Lock the instance"),
        "unlock": _("Unlock the instance"),
    }[verb]


PORT = "__PORT__"  # a word the shell fills in, left unquoted


def _pairs(text: str) -> list[tuple[str, str]]:
    """key=value lines (as compute.launch.parse_pairs reads them; wrong lines left out)."""
    pairs = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            pairs.append((key.strip(), value.strip()))
    return pairs


def _server_action(draft: Draft, verb: str, server_id: str) -> Code:
    """A one-click action: `openstack server <verb>` and openstack.cloud.server_action."""
    return Code(
        commands=(draft.openstack(f"server {verb}", server_id),),
        tasks=(
            draft.task(
                "server_action",
                _action_title(verb),
                server=server_id,
                action=verb,
            ),
        ),
    )


@writes("compute:pause-server")
def pause_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "pause", server_id)


@writes("compute:unpause-server")
def unpause_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "unpause", server_id)


@writes("compute:suspend-server")
def suspend_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "suspend", server_id)


@writes("compute:resume-server")
def resume_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "resume", server_id)


@writes("compute:shelve-server")
def shelve_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "shelve", server_id)


@writes("compute:unshelve-server")
def unshelve_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "unshelve", server_id)


@writes("compute:stop-server")
def stop_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "stop", server_id)


@writes("compute:start-server")
def start_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "start", server_id)


@writes("compute:lock-server")
def lock_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "lock", server_id)


@writes("compute:unlock-server")
def unlock_server(draft: Draft, server_id: str) -> Code:
    return _server_action(draft, "unlock", server_id)


@writes("compute:reboot-server")
def reboot_server(draft: Draft, server_id: str) -> Code:
    hard = draft.text("hard") == "1"
    return Code(
        commands=(draft.openstack("server reboot", server_id, hard=hard, soft=not hard),),
        tasks=(
            draft.task(
                "server_action",
                _("Hard reboot the instance") if hard else _("Reboot the instance"),
                server=server_id,
                action="reboot_hard" if hard else "reboot_soft",
            ),
        ),
    )


def _no_module(commands: tuple[str, ...], note: str) -> Code:
    """An action openstack.cloud has no module for: the commands, and `note` saying so."""
    return Code(commands=commands, note=note)


@writes("compute:confirm-server-resize")
def confirm_server_resize(draft: Draft, server_id: str) -> Code:
    return _no_module(
        (draft.openstack("server resize confirm", server_id),),
        _("The openstack.cloud collection has no module to confirm a resize: commands only."),
    )


@writes("compute:revert-server-resize")
def revert_server_resize(draft: Draft, server_id: str) -> Code:
    return _no_module(
        (draft.openstack("server resize revert", server_id),),
        _("The openstack.cloud collection has no module to revert a resize: commands only."),
    )


@writes("compute:unrescue-server")
def unrescue_server(draft: Draft, server_id: str) -> Code:
    return _no_module(
        (draft.openstack("server unrescue", server_id),),
        _(
            "The openstack.cloud collection has no module to end the rescue of an instance: "
            "commands only."
        ),
    )


@writes("compute:resize-server")
def resize_server(draft: Draft, server_id: str) -> Code:
    return _no_module(
        (draft.openstack("server resize", server_id, flavor=draft.need("flavor"), wait=True),),
        _("The openstack.cloud collection has no module to resize an instance: commands only."),
    )


@writes("compute:rescue-server")
def rescue_server(draft: Draft, server_id: str) -> Code:
    command = draft.openstack("server rescue", server_id, image=draft.text("image") or None)
    return Code(
        commands=(command,),
        note=_(
            "The openstack.cloud collection has no module to rescue an instance: commands only. "
            "An administrator password is never shown: add --password to choose one."
        ),
    )


@writes("compute:rebuild-server")
def rebuild_server(draft: Draft, server_id: str) -> Code:
    image = draft.need("image")
    return Code(
        commands=(draft.openstack("server rebuild", server_id, image=image, wait=True),),
        tasks=(
            draft.task(
                "server_action",
                _("Rebuild the instance"),
                server=server_id,
                action="rebuild",
                image=image,
            ),
        ),
    )


@writes("compute:update-server")
def update_server(draft: Draft, server_id: str) -> Code:
    rename = draft.openstack(
        "server set", server_id, name=draft.need("name"), description=draft.text("description")
    )
    # Nova's add/removeSecurityGroup act on every port of the instance and refuse a group it
    # already has; setting each port's groups to the ticked ones is the same, and repeatable.
    ports = draft.openstack("port list -f value -c ID", server=server_id)
    groups = draft.openstack(
        "port set", PORT, no_security_group=True, security_group=draft.all("security_groups")
    ).replace(PORT, '"$port"')
    return Code(
        commands=(rename, f"for port in $({ports}); do\n  {groups}\ndone"),
        note=_(
            "openstack.cloud.server finds an instance by its name and cannot rename it: commands "
            "only."
        ),
    )


@writes("compute:create-server-image")
def create_server_image(draft: Draft, server_id: str) -> Code:
    return _no_module(
        (draft.openstack("server image create", server_id, name=draft.need("name"), wait=True),),
        _("The openstack.cloud collection has no module to snapshot an instance: commands only."),
    )


@writes("compute:delete-server")
def delete_server(draft: Draft, server_id: str) -> Code:
    return Code(
        commands=(draft.openstack("server delete", server_id, wait=True),),
        tasks=(draft.task("server", _("Delete the instance"), name=server_id, state="absent"),),
    )


@writes("compute:act-on-servers")
def act_on_servers(draft: Draft) -> Code:
    action = draft.text("action")
    ids = draft.all("server_id") or [placeholder("server_id")]
    # The one page of this view with a form is the bulk delete's confirmation, drawn without
    # a form object: its panel has no action typed, and it deletes.
    verb = {"stop_server": "stop", "start_server": "start", "reboot_server": "reboot"}.get(
        action, "delete"
    )
    commands = tuple(draft.openstack(f"server {verb}", i) for i in ids)
    if verb == "delete":
        tasks = tuple(
            draft.task("server", _("Delete the instance"), name=i, state="absent") for i in ids
        )
    else:
        title = _action_title(verb) if verb != "reboot" else _("Reboot the instance")
        tasks = tuple(
            draft.task(
                "server_action", title, server=i, action="reboot_soft" if verb == "reboot" else verb
            )
            for i in ids
        )
    return Code(commands=commands, tasks=tasks)


# --- floating IPs, interfaces, volumes ---------------------------------------------------------


@writes("compute:associate-floating-ip")
def associate_floating_ip(draft: Draft, server_id: str) -> Code:
    chosen, port = draft.need("floating_ip"), draft.need("port")
    if chosen.startswith("new:"):
        network = chosen[4:]
        return Code(
            commands=(draft.openstack("floating ip create", network, port=port),),
            tasks=(
                draft.task(
                    "floating_ip",
                    _("Give the instance a floating IP"),
                    server=server_id,
                    network=network,
                    reuse=True,
                    state="present",
                ),
            ),
        )
    return Code(
        commands=(draft.openstack("floating ip set", chosen, port=port),),
        tasks=(
            draft.task(
                "floating_ip",
                _("Give the instance a floating IP"),
                server=server_id,
                floating_ip_address=placeholder("floating_ip_address"),
                state="present",
            ),
        ),
        note=_("openstack.cloud.floating_ip names the address, not its id: type it in."),
    )


@writes("compute:disassociate-floating-ip")
def disassociate_floating_ip(draft: Draft, server_id: str) -> Code:
    return Code(
        commands=(draft.openstack("floating ip unset", draft.need("floating_ip"), port=True),),
        tasks=(
            draft.task(
                "floating_ip",
                _("Take the floating IP off the instance"),
                server=server_id,
                floating_ip_address=placeholder("floating_ip_address"),
                purge=False,
                state="absent",
            ),
        ),
        note=_("openstack.cloud.floating_ip names the address, not its id: type it in."),
    )


@writes("compute:create-server-interface")
def create_server_interface(draft: Draft, server_id: str) -> Code:
    port = draft.text("port")
    command = (
        draft.openstack("server add port", server_id, port)
        if port
        else draft.openstack("server add network", server_id, draft.need("network"))
    )
    return _no_module(
        (command,),
        _("The openstack.cloud collection has no module to attach an interface: commands only."),
    )


@writes("compute:delete-server-interface")
def delete_server_interface(draft: Draft, server_id: str) -> Code:
    return _no_module(
        (draft.openstack("server remove port", server_id, draft.need("port")),),
        _("The openstack.cloud collection has no module to detach an interface: commands only."),
    )


@writes("compute:create-volume-attachment")
def create_volume_attachment(draft: Draft, server_id: str) -> Code:
    volume = draft.need("volume")
    return Code(
        commands=(draft.openstack("server add volume", server_id, volume),),
        tasks=(
            draft.task(
                "server_volume",
                _("Attach the volume"),
                server=server_id,
                volume=volume,
                state="present",
            ),
        ),
    )


@writes("compute:delete-volume-attachment")
def delete_volume_attachment(draft: Draft, server_id: str) -> Code:
    volume = draft.need("volume")
    return Code(
        commands=(draft.openstack("server remove volume", server_id, volume),),
        tasks=(
            draft.task(
                "server_volume",
                _("Detach the volume"),
                server=server_id,
                volume=volume,
                state="absent",
            ),
        ),
    )


# --- key pairs and server groups -------------------------------------------------------------


@writes("compute:create-keypair")
def create_keypair(draft: Draft) -> Code:
    name = draft.need("name")
    return Code(
        commands=(draft.openstack("keypair create", name, private_key=f"{name}.pem"),),
        tasks=(draft.task("keypair", _("Create the key pair"), name=name, state="present"),),
        note=_(
            "The private key is shown once: the command saves it in a file, the task in its result."
        ),
    )


@writes("compute:import-keypair")
def import_keypair(draft: Draft) -> Code:
    name, key = draft.need("name"), " ".join(draft.text("public_key").split())
    key = key or placeholder("public_key")
    return Code(
        # The key on standard input: nothing to save first.
        commands=(
            f"printf '%s\\n' {shlex.quote(key)} | "
            + draft.openstack("keypair create", name, public_key="/dev/stdin"),
        ),
        tasks=(
            draft.task(
                "keypair", _("Import the key pair"), name=name, public_key=key, state="present"
            ),
        ),
    )


@writes("compute:delete-keypair")
def delete_keypair(draft: Draft, name: str) -> Code:
    return Code(
        commands=(draft.openstack("keypair delete", name),),
        tasks=(draft.task("keypair", _("Delete the key pair"), name=name, state="absent"),),
    )


@writes("compute:create-server-group")
def create_server_group(draft: Draft) -> Code:
    name, policy = draft.need("name"), draft.need("policy")
    return Code(
        commands=(draft.openstack("server group create", name, policy=policy),),
        tasks=(
            draft.task(
                "server_group",
                _("Create the server group"),
                name=name,
                policy=policy,
                state="present",
            ),
        ),
    )


@writes("compute:delete-server-group")
def delete_server_group(draft: Draft, group_id: str) -> Code:
    return Code(
        commands=(draft.openstack("server group delete", group_id),),
        tasks=(
            draft.task("server_group", _("Delete the server group"), name=group_id, state="absent"),
        ),
    )


# --- launch -------------------------------------------------------------------------------------


def _block_device(source: str, uuid: str, size: int | str | None, delete: bool) -> str:
    """--block-device for a boot volume Nova makes (as compute.gateway._block_device)."""
    parts = [f"source_type={source}", f"uuid={uuid}", "destination_type=volume"]
    if size is not None:
        parts.append(f"volume_size={size}")
    parts += ["boot_index=0", f"delete_on_termination={str(delete).lower()}"]
    return ",".join(parts)


@writes("compute:launch-server")
def launch_server(draft: Draft) -> Code:
    name, flavor = draft.need("name"), draft.need("flavor")
    count = draft.number("count") if draft.text("count") else 1
    kind = draft.text("source_type") or "image"
    delete = draft.flag("delete_volume_on_delete")
    size: int | str | None = draft.number("volume_size") if draft.text("volume_size") else None
    source: dict[str, Any] = {}  # the CLI's boot options
    boot: dict[str, Any] = {}  # openstack.cloud.server's
    notes: list[str] = []
    pre_tasks: list[dict[str, Any]] = []
    if kind in ("image", "snapshot"):
        image = draft.need(kind)
        if draft.flag("create_volume"):
            source["block_device"] = _block_device(
                "image", image, size or placeholder("volume_size"), delete
            )
            boot = {
                "image": image,
                "boot_from_volume": True,
                "volume_size": size or placeholder("volume_size"),
                "terminate_volume": delete,
            }
        else:
            source["image"] = image
            boot = {"image": image}
    elif kind == "volume":
        volume = draft.need("volume")
        source["block_device"] = _block_device("volume", volume, None, delete)
        boot = {"boot_volume": volume, "terminate_volume": delete}
    else:
        snapshot = draft.need("volume_snapshot")
        source["block_device"] = _block_device("snapshot", snapshot, size, delete)
        # openstack.cloud.server cannot boot from a volume snapshot: a volume made from it first.
        root = f"{name}-root"
        pre_tasks.append(
            draft.task(
                "volume",
                _("Create the boot volume from the snapshot"),
                name=root,
                snapshot_id=snapshot,
                size=size,
                state="present",
            )
        )
        boot = {"boot_volume": root, "terminate_volume": delete}
        notes.append(
            _("openstack.cloud.server cannot boot from a volume snapshot: a volume is made first.")
        )
    nics = [draft.text(f"nic_{i}") for i in range(1, NIC_SLOTS + 1)]
    networks = [n[4:] for n in nics if n.startswith("net:")]
    ports = [n[5:] for n in nics if n.startswith("port:")]
    groups = draft.all("security_groups")
    key = draft.text("key_name") or None
    zone = draft.text("availability_zone") or None
    description = draft.text("description") or None
    hints = _pairs(draft.text("scheduler_hints"))
    if draft.text("server_group"):
        hints.append(("group", draft.text("server_group")))
    metadata = _pairs(draft.text("metadata"))
    user_data = bool(draft.text("user_data"))
    if user_data:
        notes.append(_("Save the user data you typed in user-data.yaml beside the commands."))
    nic_options = [f"net-id={n}" for n in networks] + [f"port-id={p}" for p in ports]
    command = draft.openstack(
        "server create",
        name,
        flavor=flavor,
        **source,
        nic=nic_options or ["none"],
        security_group=groups,
        key_name=key,
        availability_zone=zone,
        description=description,
        hint=[f"{k}={v}" for k, v in hints],
        property=[f"{k}={v}" for k, v in metadata],
        user_data="user-data.yaml" if user_data else None,
        use_config_drive=draft.flag("config_drive"),
        min=count if count != 1 else None,
        max=count if count != 1 else None,
        wait=True,
    )
    task = draft.task(
        "server",
        _("Launch the instance") if count == 1 else _("Launch the instances"),
        name=name if count == 1 else f"{name}-{{{{ item }}}}",
        flavor=flavor,
        **boot,
        nics=[{"net-id": n} for n in networks] + [{"port-id": p} for p in ports],
        # Without it the module gives the instance a floating IP; the portal's launch does not.
        auto_ip=False,
        security_groups=groups or None,
        key_name=key,
        availability_zone=zone,
        description=description,
        scheduler_hints=dict(hints) or None,
        metadata=dict(metadata) or None,
        userdata="{{ lookup('file', 'user-data.yaml') }}" if user_data else None,
        config_drive=True if draft.flag("config_drive") else None,
        state="present",
    )
    if count != 1:
        # Nova names the instances of one request <name>-1...<name>-N; the module makes one each.
        task["loop"] = f"{{{{ range(1, {count} + 1) | list }}}}"
    return Code(commands=(command,), tasks=(*pre_tasks, task), note=" ".join(notes))
