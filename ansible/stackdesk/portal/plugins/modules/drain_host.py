"""stackdesk.portal.drain_host: the portal's drain job (POST /api/v1/hosts/<host>/drain/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stackdesk.portal.plugins.module_utils.portal import (
    PortalError,
    Session,
    argument_spec,
    finish,
    moved,
    plan_move,
    server_brief,
    wait_spec,
)

DOCUMENTATION = r"""
module: drain_host
short_description: Drain a compute host with the Stackdesk portal's job
description:
  - Disables the host's nova-compute service, then moves every instance off it (live or cold,
    as the portal's Admin › Hosts › Drain does), and waits for the job's report.
  - Before it acts, the module reads the host's service and instances from Nova with the same
    token. When the service is already disabled and no instance on the host would be moved,
    it starts no job and reports no change (a second run of the same playbook).
  - C(changed) is true when the service was enabled (the job disables it) or the job moved at
    least one instance. A job that only skipped instances changed nothing.
  - Check mode says what the job would do (disable the service, move or skip each instance)
    without starting it.
  - Needs a token with the admin role.
version_added: 1.0.0
options:
  host:
    description: The compute host, as Nova names it (its nova-compute service's host).
    type: str
    required: true
  concurrency:
    description: Instances moved at once, 1 to 8.
    type: int
    default: 2
  active:
    description: Running instances are live migrated (C(live)) or cold migrated (C(cold)).
    type: str
    choices: [live, cold]
    default: live
  stopped:
    description: Shut-off instances are cold migrated (C(cold)) or left in place (C(skip)).
    type: str
    choices: [cold, skip]
    default: cold
  reason:
    description: The compute service's disabled reason (the portal's default names you).
    type: str
extends_documentation_fragment:
  - stackdesk.portal.portal
  - stackdesk.portal.portal.wait
"""

EXAMPLES = r"""
- name: Drain compute2 for a RAM swap
  stackdesk.portal.drain_host:
    cloud: ops
    portal_url: https://stackdesk.example.org
    host: compute2
    concurrency: 3
    reason: RAM swap, ticket 4711
  register: drained

- name: What a drain of compute3 would move
  stackdesk.portal.drain_host:
    cloud: ops
    host: compute3
  check_mode: true
  register: plan
"""

RETURN = r"""
operation:
  description: The portal's job as GET /api/v1/operations/<id>/ returns it (state, step, log,
    result with one item per instance). None when no job was started.
  returned: always
  type: dict
report:
  description: The job's counts of instances by state (pending, migrating, moved, verify,
    failed, skipped).
  returned: always
  type: dict
service:
  description: The host's compute service before the module acted (status, state, reason).
  returned: always
  type: dict
plan:
  description: Each instance on the host with how the drain moves it (C(kind) live or cold)
    or why it skips it (C(reason)).
  returned: always
  type: list
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            host={"type": "str", "required": True},
            concurrency={"type": "int", "default": 2},
            active={"type": "str", "default": "live", "choices": ["live", "cold"]},
            stopped={"type": "str", "default": "cold", "choices": ["cold", "skip"]},
            reason={"type": "str"},
            **wait_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not 1 <= p["concurrency"] <= 8:
        module.fail_json(msg="concurrency is 1 to 8.")
    session = Session(module)
    try:
        run(module, session)
    except PortalError as exc:
        job = exc.body if isinstance(exc.body, dict) and "state" in exc.body else None
        module.fail_json(msg=exc.message, operation=job, status=exc.status)


def run(module: AnsibleModule, session: Session) -> None:
    p = module.params
    host = p["host"]
    service = session.compute_service(host)
    was_enabled = service.get("status") == "enabled"
    plan = []
    for server in session.servers_on(host):
        kind, why = plan_move(server, p["active"], p["stopped"])
        plan.append({**server_brief(server), "kind": kind or None, "reason": why or None})
    to_move = [item for item in plan if item["kind"]]
    brief = {
        k: service.get(k) for k in ("host", "status", "state", "disabled_reason", "forced_down")
    }
    empty = {"moved": 0, "skipped": len(plan) - len(to_move)}
    if not was_enabled and not to_move:
        module.exit_json(
            changed=False,
            msg=f"{host} is disabled and has no instance to move: nothing to do.",
            operation=None,
            report=empty,
            service=brief,
            plan=plan,
        )
    if module.check_mode:
        steps = ["disable its compute service"] if was_enabled else []
        steps.append(f"move {len(to_move)} of its {len(plan)} instances")
        module.exit_json(
            changed=True,
            msg=f"Would drain {host}: " + ", ".join(steps) + ".",
            operation=None,
            report=empty,
            service=brief,
            plan=plan,
        )
    body: dict[str, Any] = {
        "concurrency": p["concurrency"],
        "active": p["active"],
        "stopped": p["stopped"],
    }
    if p["reason"]:
        body["reason"] = p["reason"]
    job = session.start_job(f"hosts/{quote(host, safe='')}/drain/", body)
    if p["wait"]:
        job = session.follow(job)
        changed = was_enabled or moved(job) > 0
    else:
        changed = True
    finish(module, job, changed, service=brief, plan=plan)


if __name__ == "__main__":
    main()
