"""The two followed migrations (live_migrate_server, migrate_server): one instance moved by
the portal's job (POST /api/v1/servers/<id>/live-migrate/ or migrate/), followed to its end."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stackdesk.portal.plugins.module_utils.portal import (
    PortalError,
    Session,
    argument_spec,
    finish,
    moved,
    server_brief,
    wait_spec,
)


def move_server(live: bool) -> None:
    own: dict[str, Any] = {
        "server": {"type": "str", "required": True},
        "host": {"type": "str"},
    }
    if live:
        own["block_migration"] = {
            "type": "str",
            "default": "auto",
            "choices": ["auto", "yes", "no"],
        }
    else:
        own["confirm"] = {"type": "bool", "default": False}
    module = AnsibleModule(
        argument_spec=argument_spec(**own, **wait_spec(timeout=900)),
        supports_check_mode=True,
    )
    session = Session(module)
    try:
        _run(module, session, live)
    except PortalError as exc:
        job = exc.body if isinstance(exc.body, dict) and "state" in exc.body else None
        module.fail_json(msg=exc.message, operation=job, status=exc.status)


def _run(module: AnsibleModule, session: Session, live: bool) -> None:
    p = module.params
    before = server_brief(session.server(p["server"]))
    target = p["host"] or ""
    if target and before["host"] == target:
        module.exit_json(
            changed=False,
            msg=f"{before['name']} is on {target} already.",
            operation=None,
            report=None,
            server=before,
        )
    if module.check_mode:
        where = target or "a host the scheduler chooses"
        module.exit_json(
            changed=True,
            msg=f"Would move {before['name']} from {before['host']} to {where}.",
            operation=None,
            report=None,
            server=before,
        )
    body: dict[str, Any] = {"host": target}
    if live:
        body["block_migration"] = p["block_migration"]
    kind = "live-migrate" if live else "migrate"
    job = session.start_job(f"servers/{quote(before['id'], safe='')}/{kind}/", body)
    if not p["wait"]:
        finish(module, job, True, server=before)
    job = session.follow(job)
    confirmed = False
    if not live and p["confirm"] and (job.get("report") or {}).get("verify"):
        _confirm(module, session, before["id"])
        confirmed = True
    after = server_brief(session.server(before["id"]))
    finish(module, job, moved(job) > 0, server=after, confirmed=confirmed)


def _confirm(module: AnsibleModule, session: Session, server_id: str) -> None:
    """Nova's confirmResize for a cold migration waiting on its new host, then wait for the
    instance to be ACTIVE (or SHUTOFF, as it was) again."""
    path = f"/servers/{quote(server_id, safe='')}"
    session.nova(path + "/action", method="POST", body={"confirmResize": None})
    deadline = time.monotonic() + module.params["timeout"]
    while time.monotonic() < deadline:
        status = session.nova(path)["server"]["status"]
        if status != "VERIFY_RESIZE":
            return
        time.sleep(2)
    raise PortalError(f"Nova did not confirm the migration of {server_id} in time.")
