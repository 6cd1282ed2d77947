"""stackdesk.portal.migrate_server: one cold migration, followed by the portal's job."""

from __future__ import annotations

from ansible_collections.stackdesk.portal.plugins.module_utils.migrate import move_server

DOCUMENTATION = r"""
module: migrate_server
short_description: Cold migrate one instance and follow it, with the portal's job
description:
  - Asks the portal to cold migrate the instance (POST /api/v1/servers/<id>/migrate/) and
    waits for its job, which ends when the instance waits on its new host (VERIFY_RESIZE).
  - With I(confirm) the module then confirms the migration with Nova (confirmResize), as
    the portal's Confirm button does, and waits until the instance has left VERIFY_RESIZE.
  - With I(host), an instance already on that host is left alone (no change, no job).
  - Check mode says where the instance is and where it would go, without starting a job.
  - Needs a token with the admin role.
version_added: 1.0.0
options:
  server:
    description: The instance's ID, or its exact name (one instance of that name in all projects).
    type: str
    required: true
  host:
    description: The target host; empty, the scheduler chooses.
    type: str
  confirm:
    description: Confirm the migration once the instance waits on its new host.
    type: bool
    default: false
extends_documentation_fragment:
  - stackdesk.portal.portal
  - stackdesk.portal.portal.wait
notes:
  - I(timeout) defaults to 900 seconds for one instance.
"""

EXAMPLES = r"""
- name: Cold migrate batch-7 and confirm it
  stackdesk.portal.migrate_server:
    cloud: ops
    server: batch-7
    confirm: true
"""

RETURN = r"""
operation:
  description: The portal's job, with one item in C(result.items).
  returned: always
  type: dict
report:
  description: The job's counts by state (C(verify) until confirmed).
  returned: always
  type: dict
server:
  description: The instance (id, name, status, host) after the job.
  returned: always
  type: dict
confirmed:
  description: Whether the module confirmed the migration.
  returned: success
  type: bool
"""

if __name__ == "__main__":
    move_server(live=False)
