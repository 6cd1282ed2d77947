"""stackdesk.portal.evacuate_host: the portal's evacuation job
(POST /api/v1/hosts/<host>/evacuate/)."""

from __future__ import annotations

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

DOCUMENTATION = r"""
module: evacuate_host
short_description: Evacuate a failed compute host with the Stackdesk portal's job
description:
  - Rebuilds every instance of a host whose nova-compute service is down (or forced down)
    on other hosts, as the portal's Admin › Hosts › Evacuate does, and waits for the report.
    Nova (microversion 2.95) leaves each evacuated instance shut off.
  - The portal refuses a host that is up; the module fails then with the portal's reason,
    and nothing is changed. Check mode reads the same from Nova and fails the same way.
  - When no instance is left on the host the module starts no job and reports no change (a
    second run). C(changed) is true when the job rebuilt at least one instance elsewhere.
  - Check mode lists the instances the job would rebuild, without starting it.
  - Needs a token with the admin role.
version_added: 1.0.0
options:
  host:
    description: The failed compute host.
    type: str
    required: true
  concurrency:
    description: Instances rebuilt at once, 1 to 8.
    type: int
    default: 2
extends_documentation_fragment:
  - stackdesk.portal.portal
  - stackdesk.portal.portal.wait
"""

EXAMPLES = r"""
- name: Rebuild what ran on compute2 elsewhere (after forcing its service down)
  stackdesk.portal.evacuate_host:
    cloud: ops
    host: compute2
"""

RETURN = r"""
operation:
  description: The portal's job (None when none was started).
  returned: always
  type: dict
report:
  description: The job's counts of instances by state.
  returned: always
  type: dict
service:
  description: The host's compute service as Nova reported it before.
  returned: always
  type: dict
plan:
  description: The instances on the host when the module looked.
  returned: always
  type: list
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            host={"type": "str", "required": True},
            concurrency={"type": "int", "default": 2},
            **wait_spec(),
        ),
        supports_check_mode=True,
    )
    if not 1 <= module.params["concurrency"] <= 8:
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
    brief = {k: service.get(k) for k in ("host", "status", "state", "forced_down")}
    plan = [server_brief(s) for s in session.servers_on(host)]
    if not plan:
        module.exit_json(
            changed=False,
            msg=f"No instance is on {host}: nothing to evacuate.",
            operation=None,
            report={"moved": 0},
            service=brief,
            plan=plan,
        )
    if module.check_mode:
        if not (service.get("forced_down") or service.get("state") == "down"):
            # The portal's own refusal (compute/hosts.py evacuation_refusal), read from Nova.
            module.fail_json(
                msg=f"{host} is up: evacuation is for a host whose compute service is down.",
                service=brief,
                plan=plan,
            )
        module.exit_json(
            changed=True,
            msg=f"Would rebuild {len(plan)} instances of {host} elsewhere.",
            operation=None,
            report={"moved": 0},
            service=brief,
            plan=plan,
        )
    job = session.start_job(
        f"hosts/{quote(host, safe='')}/evacuate/", {"concurrency": p["concurrency"]}
    )
    if p["wait"]:
        job = session.follow(job)
        changed = moved(job) > 0
    else:
        changed = True
    finish(module, job, changed, service=brief, plan=plan)


if __name__ == "__main__":
    main()
