"""delete_router: Neutron deletes a router only once it has no interfaces, and removes an
interface only once no static route needs it, so deleting a wired router is several calls
(about a second each on a busy cloud): it runs as a job.

The job reads the router again on every attempt and does only what is left, so a retried or
redelivered job finishes the work instead of failing on what an earlier attempt did; a router
it never saw is reported as not found, never as deleted.
A floating IP that still needs an interface stops the job with Neutron's reason.
"""

from __future__ import annotations

import contextlib

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from network.gateway import NetworkGateway
from portal.errors import NotFound
from portal.gateways import job_gateway
from portal.operations import Job, job


@job(gettext_noop("Delete router"))
def delete_router(job: Job) -> None:
    gw = job_gateway(job, NetworkGateway)
    router_id = job.op.target
    try:
        router = gw.get_router(router_id)
    except NotFound:
        # "Gone" is success only if an earlier attempt of this job saw the router with the
        # requester's token; otherwise it was never theirs to delete (or never existed).
        if not job.result.get("seen"):
            raise
        job.progress(step=_("The router is gone."), log=_("The router no longer exists."))
        return
    job.result["seen"] = router.label  # saved with the next progress report
    if router.routes:
        job.progress(step=_("Removing static routes"), percent=10)
        gw.remove_extra_routes_from_router(router_id, list(router.routes))
        job.progress(log=_("Removed %(n)d static routes.") % {"n": len(router.routes)})
    interfaces = sorted(
        (p for p in gw.list_ports(device_id=router_id) if p.is_router_interface),
        key=lambda p: [ip.ip_address for ip in p.fixed_ips],  # a stable order for the log
    )
    for index, port in enumerate(interfaces):
        address = ", ".join(ip.ip_address for ip in port.fixed_ips) or port.id
        job.progress(
            step=_("Removing interface %(address)s") % {"address": address},
            percent=20 + 70 * index // len(interfaces),
        )
        with contextlib.suppress(NotFound):  # gone since we listed it
            gw.remove_interface_from_router(router_id, port.id)
        job.result.setdefault("interfaces_removed", []).append(address)
        job.progress(log=_("Removed interface %(address)s.") % {"address": address})
    job.progress(step=_("Deleting the router"), percent=95)
    with contextlib.suppress(NotFound):  # a redelivered job whose first run got this far
        gw.delete_router(router_id)
    job.result["deleted"] = router.label
    job.progress(
        step=_("Router deleted"), log=_("Deleted router %(name)s.") % {"name": router.label}
    )
