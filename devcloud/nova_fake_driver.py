"""nova's fake virt driver with a stable node identity and a realistic capacity.

`devcloud up` copies this file to <venv>/.../nova/virt/devcloud_fake.py: nova
imports compute drivers only as nova.virt.<compute_driver>, so a subclass
cannot live in a package of its own. It adds a file to nova and changes none.

Why this subclass:
- fake.FakeDriverWithoutFakeNodes keeps a stable node UUID in
  <state_path>/compute_id, so a fake nova-compute can restart. Small/Medium
  FakeDriver draw a random node UUID per process and nova refuses the restart
  ("No local node identity found, but this is not our first startup").
- FakeDriver reports 1000 vCPU / 800000 MB / 600000 GB per host, so nothing is
  ever full; nova has no option for the fake driver's size. The capacity comes
  from the environment devcloud gives each nova-compute (devcloud/config.py).
"""

import os

from nova.virt import fake  # type: ignore[import-not-found]  # only in the devcloud venv


class DevcloudFakeDriver(fake.FakeDriverWithoutFakeNodes):  # type: ignore[misc]
    vcpus = int(os.environ.get("DEVCLOUD_HOST_VCPUS", "16"))
    memory_mb = int(os.environ.get("DEVCLOUD_HOST_RAM_MB", "32768"))
    local_gb = int(os.environ.get("DEVCLOUD_HOST_DISK_GB", "500"))
