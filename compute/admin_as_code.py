"""The admin compute forms as `openstack` commands and openstack.cloud tasks (portal/as_code.py)."""

from __future__ import annotations

import shlex
from typing import Any

from django.utils.translation import gettext as _

from portal.as_code import Code, Draft, writes

BINARY = "nova-compute"  # the services page acts on compute services only


def _service_host(draft: Draft, service_id: str) -> tuple[str, dict[str, Any], str]:
    """A service is named by its ID in the portal's URL, by host and binary in the command and
    the module: the line that finds the host into $HOST, the task that registers it, and the
    module's `host` (a template of what that task found)."""
    listing = draft.openstack("compute service list -f value -c ID -c Host", service=BINARY)
    find = f"HOST=$({listing} | awk -v id={shlex.quote(service_id)} '$1 == id {{print $2}}')"
    task = draft.task(
        "compute_service_info", _("Find the host of the compute service"), binary=BINARY
    )
    task["register"] = "found"
    match = f"selectattr('id', 'equalto', '{service_id}')"
    host = "{{ (found.compute_services | " + match + " | first).host }}"
    return find, task, host


def _on_host(command: str) -> str:
    """shlex quotes `$HOST` as a literal; the shell is to fill it in."""
    return command.replace("'$HOST'", '"$HOST"')


@writes("compute:enable-service")
def enable_service(draft: Draft, service_id: str) -> Code:
    find, found, host = _service_host(draft, service_id)
    command = draft.openstack("compute service set", "$HOST", BINARY, enable=True)
    return Code(
        commands=(find, _on_host(command)),
        tasks=(
            found,
            draft.task(
                "compute_service",
                _("Enable the compute service"),
                host=host,
                binary=BINARY,
                status="enabled",
            ),
        ),
    )


@writes("compute:disable-service")
def disable_service(draft: Draft, service_id: str) -> Code:
    find, found, host = _service_host(draft, service_id)
    reason = draft.text("reason") or None
    command = draft.openstack(
        "compute service set", "$HOST", BINARY, disable=True, disable_reason=reason
    )
    return Code(
        commands=(find, _on_host(command)),
        tasks=(
            found,
            draft.task(
                "compute_service",
                _("Disable the compute service"),
                host=host,
                binary=BINARY,
                status="disabled",
                disabled_reason=reason,
            ),
        ),
    )


@writes("compute:update-service-forced-down")
def update_service_forced_down(draft: Draft, service_id: str) -> Code:
    find, _found, _host = _service_host(draft, service_id)
    forced = draft.text("forced") == "1"
    # Forcing a service down or up needs compute microversion 2.11.
    command = draft.openstack(
        "--os-compute-api-version 2.11 compute service set",
        "$HOST",
        BINARY,
        down=forced,
        up=not forced,
    )
    return Code(
        commands=(find, _on_host(command)),
        note=_("openstack.cloud has no module that forces a compute service down or up."),
    )


@writes("compute:drain-host")
def drain_host(draft: Draft, host: str) -> Code:
    concurrency = draft.number("concurrency")
    active, stopped = draft.text("active") or "live", draft.text("stopped") or "cold"
    reason = draft.text("reason") or None
    body: dict[str, object] = {"concurrency": concurrency, "active": active, "stopped": stopped}
    if reason:
        body["reason"] = reason
    return Code(
        commands=(draft.portal_api("POST", f"hosts/{host}/drain/", body),),
        tasks=(
            draft.task(
                "stackdesk.portal.drain_host",
                _("Drain the compute host"),
                host=host,
                concurrency=concurrency,
                active=active,
                stopped=stopped,
                reason=reason,
            ),
        ),
        note=_("Draining is the portal's own job: the command calls the portal's API."),
    )


@writes("compute:evacuate-host")
def evacuate_host(draft: Draft, host: str) -> Code:
    concurrency = draft.number("concurrency")
    return Code(
        commands=(
            draft.portal_api("POST", f"hosts/{host}/evacuate/", {"concurrency": concurrency}),
        ),
        tasks=(
            draft.task(
                "stackdesk.portal.evacuate_host",
                _("Evacuate the failed compute host"),
                host=host,
                concurrency=concurrency,
            ),
        ),
        note=_("Evacuating a host is the portal's own job: the command calls the portal's API."),
    )


# --- aggregates ------------------------------------------------------------------------------


@writes("compute:admin-aggregates")
def admin_aggregates(draft: Draft) -> Code:
    name, zone = draft.need("name"), draft.text("availability_zone") or None
    return Code(
        commands=(draft.openstack("aggregate create", name, zone=zone),),
        tasks=(
            draft.task(
                "host_aggregate",
                _("Create the aggregate"),
                name=name,
                availability_zone=zone,
                state="present",
            ),
        ),
    )


@writes("compute:delete-aggregate")
def delete_aggregate(draft: Draft, aggregate_id: str) -> Code:
    # host_aggregate finds the aggregate by name or ID, and removes its hosts before deleting
    # it; Nova (and so the command) refuses to delete an aggregate that still has hosts.
    return Code(
        commands=(draft.openstack("aggregate delete", aggregate_id),),
        tasks=(
            draft.task(
                "host_aggregate", _("Delete the aggregate"), name=aggregate_id, state="absent"
            ),
        ),
    )


@writes("compute:add-host-to-aggregate")
def add_host_to_aggregate(draft: Draft, aggregate_id: str) -> Code:
    host = draft.need("host")
    return Code(
        commands=(draft.openstack("aggregate add host", aggregate_id, host),),
        tasks=(
            draft.task(
                "host_aggregate",
                _("Add the host to the aggregate"),
                name=aggregate_id,
                hosts=[host],
                purge_hosts=False,
                state="present",
            ),
        ),
    )


@writes("compute:remove-host-from-aggregate")
def remove_host_from_aggregate(draft: Draft, aggregate_id: str) -> Code:
    host = draft.need("host")
    return Code(
        commands=(draft.openstack("aggregate remove host", aggregate_id, host),),
        note=_(
            "openstack.cloud.host_aggregate removes a host only by listing every host that "
            "stays (purge_hosts): no task for removing one."
        ),
    )


@writes("compute:set-aggregate-metadata")
def set_aggregate_metadata(draft: Draft, aggregate_id: str) -> Code:
    removed = draft.text("remove")
    if removed:
        command = draft.openstack("aggregate unset", aggregate_id, property=removed)
    else:
        pair = f"{draft.need('key')}={draft.text('value')}"
        command = draft.openstack("aggregate set", aggregate_id, property=pair)
    return Code(
        commands=(command,),
        note=_(
            "openstack.cloud.host_aggregate replaces all of an aggregate's metadata: no task "
            "for setting or removing one key."
        ),
    )


# --- flavors ---------------------------------------------------------------------------------


def _factor(draft: Draft) -> float | str:
    text = draft.text("rxtx_factor")
    try:
        return float(text)
    except ValueError:
        return "<rxtx-factor>"


@writes("compute:create-flavor")
def create_flavor(draft: Draft) -> Code:
    name, flavor_id = draft.need("name"), draft.text("flavor_id") or None
    vcpus, ram, disk = (draft.number(k) for k in ("vcpus", "ram", "disk"))
    ephemeral, swap = draft.number("ephemeral"), draft.number("swap")
    factor, public = _factor(draft), draft.flag("is_public")
    # The client speaks the newest microversion, and 2.102 dropped the RX/TX factor: a factor
    # other than Nova's default 1.0 needs 2.101 at most.
    words = "flavor create" if factor == 1.0 else "--os-compute-api-version 2.101 flavor create"
    return Code(
        commands=(
            draft.openstack(
                words,
                name,
                id=flavor_id,
                vcpus=vcpus,
                ram=ram,
                disk=disk,
                ephemeral=ephemeral,
                swap=swap,
                rxtx_factor=None if factor == 1.0 else str(factor),
                public=public,
                private=not public,
            ),
        ),
        tasks=(
            draft.task(
                "compute_flavor",
                _("Create the flavor"),
                name=name,
                id=flavor_id,
                vcpus=vcpus,
                ram=ram,
                disk=disk,
                ephemeral=ephemeral,
                swap=swap,
                rxtx_factor=factor,
                is_public=public,
                state="present",
            ),
        ),
    )


def _specs_note() -> str:
    return _(
        "openstack.cloud.compute_flavor sets a flavor as a whole (its size and every extra "
        "spec, removing the others): no task for one key."
    )


@writes("compute:update-flavor-extra-specs")
def update_flavor_extra_specs(draft: Draft, flavor_id: str) -> Code:
    pair = f"{draft.need('key')}={draft.text('value')}"
    return Code(
        commands=(draft.openstack("flavor set", flavor_id, property=pair),),
        note=_specs_note(),
    )


@writes("compute:delete-flavor-extra-spec")
def delete_flavor_extra_spec(draft: Draft, flavor_id: str) -> Code:
    return Code(
        commands=(draft.openstack("flavor unset", flavor_id, property=draft.need("key")),),
        note=_specs_note(),
    )


@writes("compute:add-flavor-access")
def add_flavor_access(draft: Draft, flavor_id: str) -> Code:
    project = draft.need("project_id")
    return Code(
        commands=(draft.openstack("flavor set", flavor_id, project=project),),
        tasks=(
            draft.task(
                "compute_flavor_access",
                _("Give the project access to the flavor"),
                name=flavor_id,
                project=project,
                state="present",
            ),
        ),
    )


@writes("compute:remove-flavor-access")
def remove_flavor_access(draft: Draft, flavor_id: str) -> Code:
    project = draft.need("project_id")
    return Code(
        commands=(draft.openstack("flavor unset", flavor_id, project=project),),
        tasks=(
            draft.task(
                "compute_flavor_access",
                _("Remove the project's access to the flavor"),
                name=flavor_id,
                project=project,
                state="absent",
            ),
        ),
    )


@writes("compute:delete-flavor")
def delete_flavor(draft: Draft, flavor_id: str) -> Code:
    # compute_flavor finds the flavor by the name given, or by its ID.
    return Code(
        commands=(draft.openstack("flavor delete", flavor_id),),
        tasks=(
            draft.task("compute_flavor", _("Delete the flavor"), name=flavor_id, state="absent"),
        ),
    )


# --- moving one instance ---------------------------------------------------------------------


@writes("compute:live-migrate-server")
def live_migrate_server(draft: Draft, server_id: str) -> Code:
    host = draft.text("host") or None
    block = draft.text("block_migration") or "auto"
    # 2.30: a target host is checked by the scheduler (not forced); from 2.25 no flag is
    # Nova's "auto" block migration.
    command = draft.openstack(
        "--os-compute-api-version 2.30 server migrate",
        server_id,
        live_migration=True,
        host=host,
        block_migration=block == "yes",
        shared_migration=block == "no",
    )
    return Code(
        commands=(command,),
        tasks=(
            draft.task(
                "stackdesk.portal.live_migrate_server",
                _("Live migrate the instance"),
                server=server_id,
                host=host,
                block_migration=block,
            ),
        ),
        note=_(
            "The command only asks Nova. The portal's job follows the migration to its end: "
            "the task, or the portal's API (POST %(path)s, docs/api.md)."
        )
        % {"path": f"api/v1/servers/{server_id}/live-migrate/"},
    )


@writes("compute:migrate-server")
def migrate_server(draft: Draft, server_id: str) -> Code:
    host = draft.text("host") or None
    # 2.56: a cold migration may name its target host.
    version = "--os-compute-api-version 2.56 " if host else ""
    return Code(
        commands=(draft.openstack(f"{version}server migrate", server_id, host=host),),
        tasks=(
            draft.task(
                "stackdesk.portal.migrate_server",
                _("Cold migrate the instance"),
                server=server_id,
                host=host,
            ),
        ),
        note=_(
            "The command only asks Nova. The portal's job follows the migration until the "
            "instance waits on its new host: the task, or the portal's API (POST %(path)s, "
            "docs/api.md)."
        )
        % {"path": f"api/v1/servers/{server_id}/migrate/"},
    )


@writes("compute:abort-server-migration")
def abort_server_migration(draft: Draft, server_id: str, migration_id: int) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "--os-compute-api-version 2.24 server migration abort",
                server_id,
                str(migration_id),
            ),
        ),
        note=_("openstack.cloud has no module that aborts a live migration."),
    )


@writes("compute:force-complete-server-migration")
def force_complete_server_migration(draft: Draft, server_id: str, migration_id: int) -> Code:
    return Code(
        commands=(
            draft.openstack(
                "--os-compute-api-version 2.22 server migration force complete",
                server_id,
                str(migration_id),
            ),
        ),
        note=_("openstack.cloud has no module that forces a live migration to complete."),
    )
