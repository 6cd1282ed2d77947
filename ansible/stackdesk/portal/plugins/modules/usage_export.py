"""stackdesk.portal.usage_export: the portal's usage CSV (GET /api/v1/usage.csv)."""

from __future__ import annotations

import csv
import io
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stackdesk.portal.plugins.module_utils.portal import (
    PortalError,
    Session,
    argument_spec,
)

DOCUMENTATION = r"""
module: usage_export
short_description: Export the usage CSV of the Stackdesk portal
description:
  - The usage CSV the portal's pages export (layouts in the portal's docs/usage-csv.md),
    without I(project), one row per project (administrators); with the token's own project,
    its instances, or with I(rows=summary) its one summary row.
  - With I(dest) the CSV is written there, and C(changed) says whether the file's content
    changed (a second run over a closed period changes nothing). Without I(dest) it is only
    returned. Check mode reads the CSV and says whether I(dest) would change, writing nothing.
  - A period too large to stream is refused by the portal (409) — ask for a shorter one.
version_added: 1.0.0
options:
  start:
    description: The first day, C(YYYY-MM-DD) (UTC). Default, the first of this month.
    type: str
  end:
    description: The last day, C(YYYY-MM-DD), included. Default, today.
    type: str
  project:
    description: The token's own project ID, for its instances' rows. Another project is refused.
    type: str
  rows:
    description: With I(project), C(summary) for one summary row.
    type: str
    choices: [summary]
  dest:
    description: Where to write the CSV (its folder must exist).
    type: path
extends_documentation_fragment:
  - stackdesk.portal.portal
"""

EXAMPLES = r"""
- name: Last month's usage of every project
  stackdesk.portal.usage_export:
    cloud: ops
    start: "2026-11-01"
    end: "2026-11-30"
    dest: /srv/reports/usage-2026-11.csv
"""

RETURN = r"""
header:
  description: The CSV's column names.
  returned: always
  type: list
rows:
  description: How many rows follow the header.
  returned: always
  type: int
content:
  description: The CSV itself, when no I(dest) was given.
  returned: when dest is not given
  type: str
dest:
  description: The file written.
  returned: when dest is given
  type: str
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            start={"type": "str"},
            end={"type": "str"},
            project={"type": "str"},
            rows={"type": "str", "choices": ["summary"]},
            dest={"type": "path"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    session = Session(module)
    query = {k: p[k] for k in ("start", "end", "project", "rows")}
    try:
        raw = session.portal_call("GET", "usage.csv", query=query)[2]
    except PortalError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    text = raw.decode("utf-8")
    table = list(csv.reader(io.StringIO(text)))
    result = {"header": table[0] if table else [], "rows": max(0, len(table) - 1)}
    if not p["dest"]:
        module.exit_json(changed=False, content=text, **result)
    dest = p["dest"]
    try:
        with open(dest, "rb") as handle:
            changed = handle.read() != raw
    except FileNotFoundError:
        changed = True
    if changed and not module.check_mode:
        folder = os.path.dirname(os.path.abspath(dest))
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".usage-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        module.atomic_move(temporary, dest)
    module.exit_json(changed=changed, dest=dest, **result)


if __name__ == "__main__":
    main()
