"""stackdesk.portal.apply_quotas: one quota set for several projects, as the portal's job
(POST /api/v1/quotas/bulk/)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stackdesk.portal.plugins.module_utils.portal import (
    PortalError,
    Session,
    argument_spec,
    keystone_url,
    wait_spec,
)

DOCUMENTATION = r"""
module: apply_quotas
short_description: Apply one quota set to several projects with the Stackdesk portal's job
description:
  - The portal's Admin › Projects › Apply quotas to several projects. Each project gets all of
    the values or none — a value below what a project uses refuses that project, and when a
    service refuses its part the parts already applied are set back.
  - Before it acts the module reads each project's quotas from Nova, Cinder and Neutron with
    the same token, and sends only the projects whose quotas differ. When none differs it
    starts no job and reports no change (a second run).
  - Check mode returns those differences without starting the job.
  - The module fails when the job refused a project (the result says which and why); the
    projects it changed are changed.
  - Needs a token with the admin role. For one project, openstack.cloud.quota does the same.
version_added: 1.0.0
options:
  projects:
    description: The projects, by ID or by name (a name must be unique in the cloud).
    type: list
    elements: str
    required: true
  quotas:
    description:
      - The quotas, by service and key as in the portal's form. C(compute) (instances, cores,
        ram, key_pairs, metadata_items, server_groups, server_group_members, injected_files,
        injected_file_content_bytes, injected_file_path_bytes), C(volume) (volumes,
        snapshots, gigabytes, per_volume_gigabytes, backups, backup_gigabytes, groups),
        C(network) (networks, subnets, ports, routers, floating_ips, security_groups,
        security_group_rules). C(-1) is unlimited. A quota left out stays as it is.
    type: dict
    required: true
extends_documentation_fragment:
  - stackdesk.portal.portal
  - stackdesk.portal.portal.wait
"""

EXAMPLES = r"""
- name: Every course project gets 20 instances and 40 vCPUs
  stackdesk.portal.apply_quotas:
    cloud: ops
    projects: [study1, study2, study3]
    quotas:
      compute: {instances: 20, cores: 40}
      network: {floating_ips: 2}
"""

RETURN = r"""
changes:
  description: Per project ID, each quota that differed as C([current, wanted]).
  returned: always
  type: dict
operation:
  description: The portal's job; its C(result) has one entry per project (status changed or
    refused, and what was refused). None when no job was started.
  returned: always
  type: dict
"""

KEYS = {
    "compute": (
        "instances",
        "cores",
        "ram",
        "key_pairs",
        "metadata_items",
        "server_groups",
        "server_group_members",
        "injected_files",
        "injected_file_content_bytes",
        "injected_file_path_bytes",
    ),
    "volume": (
        "volumes",
        "snapshots",
        "gigabytes",
        "per_volume_gigabytes",
        "backups",
        "backup_gigabytes",
        "groups",
    ),
    "network": (
        "networks",
        "subnets",
        "ports",
        "routers",
        "floating_ips",
        "security_groups",
        "security_group_rules",
    ),
}
# The portal's network quota names -> Neutron's.
NEUTRON = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "routers": "router",
    "floating_ips": "floatingip",
    "security_groups": "security_group",
    "security_group_rules": "security_group_rule",
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            projects={"type": "list", "elements": "str", "required": True},
            quotas={"type": "dict", "required": True},
            **wait_spec(timeout=600),
        ),
        supports_check_mode=True,
    )
    wanted = _wanted(module)
    session = Session(module)
    try:
        run(module, session, wanted)
    except PortalError as exc:
        job = exc.body if isinstance(exc.body, dict) and "state" in exc.body else None
        module.fail_json(msg=exc.message, operation=job, status=exc.status)


def _wanted(module: AnsibleModule) -> dict[str, dict[str, int]]:
    wanted: dict[str, dict[str, int]] = {}
    for service, values in module.params["quotas"].items():
        if service not in KEYS or not isinstance(values, dict):
            module.fail_json(msg=f"quotas has no service {service!r}: compute, volume, network.")
        for key, value in values.items():
            if key not in KEYS[service]:
                module.fail_json(msg=f"{service} has no quota {key!r}: {', '.join(KEYS[service])}.")
            try:
                wanted.setdefault(service, {})[key] = int(value)
            except (TypeError, ValueError):
                module.fail_json(msg=f"quotas.{service}.{key} is not a whole number.")
            if wanted[service][key] < -1:
                module.fail_json(msg=f"quotas.{service}.{key} is -1 (unlimited) or more.")
    if not wanted:
        module.fail_json(msg="Give at least one quota.")
    return wanted


def project_id(session: Session, ref: str) -> str:
    """A project's ID from its ID or its unique name (Keystone)."""
    keystone = keystone_url(session.config["auth"]["auth_url"])
    headers = {"X-Auth-Token": session.token}
    status, _h, _raw = session.call(
        "GET", f"{keystone}/projects/{quote(ref, safe='')}", None, headers
    )
    if status == 200:
        return ref
    found = session.call("GET", f"{keystone}/projects?{urlencode({'name': ref})}", None, headers)
    projects = (json.loads(found[2]).get("projects") or []) if found[0] == 200 else []
    if len(projects) != 1:
        many = "are several projects" if projects else "is no project"
        raise PortalError(f"There {many} called {ref!r}.", 404)
    return str(projects[0]["id"])


def current(session: Session, pid: str, services: set[str]) -> dict[str, dict[str, Any]]:
    """A project's quotas of these services, keyed as the portal names them."""
    found: dict[str, dict[str, Any]] = {}
    pid_q = quote(pid, safe="")
    if "compute" in services:
        found["compute"] = session.nova(f"/os-quota-sets/{pid_q}")["quota_set"]
    if "volume" in services:
        got = session.service_json(
            ("block-storage", "volumev3", "volume"), f"/os-quota-sets/{pid_q}"
        )
        found["volume"] = got["quota_set"]
    if "network" in services:
        root = session.endpoint("network")
        path = f"/quotas/{pid_q}" if root.endswith("/v2.0") else f"/v2.0/quotas/{pid_q}"
        got = session.service_json(("network",), path)["quota"]
        found["network"] = {ours: got.get(theirs) for ours, theirs in NEUTRON.items()}
    return found


def run(module: AnsibleModule, session: Session, wanted: dict[str, dict[str, int]]) -> None:
    ids = list(dict.fromkeys(project_id(session, ref) for ref in module.params["projects"]))
    changes: dict[str, dict[str, list[Any]]] = {}
    for pid in ids:
        now = current(session, pid, set(wanted))
        diff = {
            f"{service}__{key}": [now[service].get(key), value]
            for service, values in wanted.items()
            for key, value in values.items()
            if now[service].get(key) != value
        }
        if diff:
            changes[pid] = diff
    if not changes:
        module.exit_json(
            changed=False, msg="Every project has these quotas already.", changes={}, operation=None
        )
    if module.check_mode:
        module.exit_json(
            changed=True,
            msg=f"Would change the quotas of {len(changes)} of {len(ids)} projects.",
            changes=changes,
            operation=None,
        )
    body: dict[str, Any] = {"projects": list(changes)}
    for service, values in wanted.items():
        for key, value in values.items():
            body[f"{service}__{key}"] = value
    job = session.start_job("quotas/bulk/", body)
    if not module.params["wait"]:
        module.exit_json(changed=True, msg="Queued.", changes=changes, operation=job)
    job = session.follow(job)
    entries = job.get("result") or {}
    changed = any(e.get("status") == "changed" for e in entries.values())
    refused = {pid: e for pid, e in entries.items() if e.get("status") == "refused"}
    if job["state"] != "succeeded" or refused:
        why = job.get("error") or f"refused for {', '.join(e['name'] for e in refused.values())}"
        module.fail_json(
            msg=f"The portal's job {job['id']} {job['state']}: {why}",
            changed=changed,
            changes=changes,
            operation=job,
        )
    module.exit_json(changed=changed, msg=job.get("step") or "", changes=changes, operation=job)


if __name__ == "__main__":
    main()
