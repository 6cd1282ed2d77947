"""Bring back the fake guests of restarted computes: readopt.py HOST...

nova's fake virt driver keeps its guests in process memory. After a
nova-compute restart the database still says ACTIVE or SHUTOFF, but the driver
knows nothing: stop silently does nothing and a soft reboot ends in ERROR, and
nova notices (power_state NOSTATE) only at its next power-state sync, up to
10 minutes later. A HARD reboot makes the fake driver spawn the guest again,
as libvirt would; SHUTOFF guests are stopped again afterwards. Guests that
were PAUSED or SUSPENDED are left as they are. `devcloud up` and
`devcloud restart` run this for every compute they (re)started.
"""

import sys
import time
import warnings

import openstack

from devcloud import config

warnings.filterwarnings("ignore")  # eventlet and SDK deprecation banners

TIMEOUT = 180


def main(hosts: list[str]) -> None:
    conn = openstack.connect(cloud=config.ADMIN.cloud)
    # 2.96: the server list filters by compute_host and shows the host to admins
    conn.compute.default_microversion = "2.96"
    was = {}  # server id -> status before the reboot
    for host in hosts:
        for server in conn.compute.servers(all_projects=True, compute_host=host):
            if server.task_state is None and server.status in ("ACTIVE", "SHUTOFF"):
                was[server.id] = server.status
    for server_id in was:
        conn.compute.reboot_server(server_id, "HARD")
    pending = set(was)
    deadline = time.monotonic() + TIMEOUT
    while pending and time.monotonic() < deadline:
        time.sleep(1)
        for server_id in list(pending):
            server = conn.compute.get_server(server_id)
            if server.task_state is None and server.status in ("ACTIVE", "ERROR"):
                pending.discard(server_id)
                if was[server_id] == "SHUTOFF" and server.status == "ACTIVE":
                    conn.compute.stop_server(server_id)
    print(
        f"readopt: {len(was) - len(pending)} of {len(was)} guest(s) on {', '.join(hosts)} back",
        end="",
    )
    print(f"; still rebooting: {', '.join(sorted(pending))}" if pending else "")


if __name__ == "__main__":
    main(sys.argv[1:])
