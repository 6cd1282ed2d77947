"""stackdesk.portal.live_migrate_server: one live migration, followed by the portal's job."""

from __future__ import annotations

from ansible_collections.stackdesk.portal.plugins.module_utils.migrate import move_server

DOCUMENTATION = r"""
module: live_migrate_server
short_description: Live migrate one instance and follow it to the end, with the portal's job
description:
  - Asks the portal to live migrate the instance (POST /api/v1/servers/<id>/live-migrate/)
    and waits for its job — the portal follows Nova's migration until the instance runs on
    its new host, or reports why it did not.
  - With I(host), an instance already on that host is left alone (no change, no job).
    Without I(host) every run moves the instance again (the scheduler chooses), so
    C(changed) is true whenever the job moved it.
  - Check mode says where the instance is and where it would go, without starting a job.
  - Needs a token with the admin role.
version_added: 1.0.0
options:
  server:
    description: The instance's ID, or its exact name (one instance of that name in all projects).
    type: str
    required: true
  host:
    description:
      - The target host. It must be up, enabled and have room, or the portal refuses with
        the reason. Empty, the scheduler chooses.
    type: str
  block_migration:
    description: C(auto) (Nova decides), C(yes) or C(no).
    type: str
    choices: [auto, "yes", "no"]
    default: auto
extends_documentation_fragment:
  - stackdesk.portal.portal
  - stackdesk.portal.portal.wait
notes:
  - I(timeout) defaults to 900 seconds for one instance.
"""

EXAMPLES = r"""
- name: Move web-1 to compute3 and wait until it runs there
  stackdesk.portal.live_migrate_server:
    cloud: ops
    server: web-1
    host: compute3
"""

RETURN = r"""
operation:
  description: The portal's job, with one item in C(result.items) (its C(dest)).
  returned: always
  type: dict
report:
  description: The job's counts by state.
  returned: always
  type: dict
server:
  description: The instance (id, name, status, host) after the job, or before it in check mode.
  returned: always
  type: dict
"""

if __name__ == "__main__":
    move_server(live=True)
