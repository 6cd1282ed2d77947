"""The persona matrix: every URL name of the portal, how its arguments are filled with the
owner's real resources, and what each persona must get for a GET and for a POST.

The owner is the `demo` project (its member persona). The five personas:

- anonymous: no session, no token;
- outsider: a member of `study1`, another tenant;
- reader: the reader of `demo` (same project as the owner, another user, reader role only);
- member: the owner, the member of `demo` who made the resources;
- admin: the cloud administrator, signed in to the `admin` project.

`kwargs` maps a URL argument to a resource key of the cloud test's world (tests/cloud/
test_persona_matrix.py builds it: a server, a network, a router...). `data` is the POST body;
"{key}" in a value is replaced by that resource's id. tests/test_persona_matrix_complete.py
fails when a URL pattern has no row here, or a row names a URL that no longer exists.

A POST is tried only where it is refused: what the owner or the admin may do (SKIP) would
change the owner's things, and those journeys have tests of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PERSONAS = ("anonymous", "outsider", "reader", "member", "admin")

# --- outcomes --------------------------------------------------------------------------------
OK = "ok"  # 2xx: a page, a partial, 286 for a poll that is over
MOVED = "moved"  # a redirect elsewhere than the sign-in page
ALLOWED = "allowed"  # OK or MOVED: the persona got what it asked for
SIGN_IN = "sign-in"  # a redirect to the sign-in page
UNAUTHENTICATED = "401"  # the JSON API without a token
FORBIDDEN = "403"
HIDDEN = "404"  # as if the resource did not exist
NO_METHOD = "405"
# A change that was not made: 400 (the form says why), 403, 404 or 409, or a redirect back
# that queued no success message. The cloud test also checks that nothing changed.
REFUSED = "refused"
SKIP = "skip"  # not tried (see above)
OUTCOMES = frozenset(
    {OK, MOVED, ALLOWED, SIGN_IN, UNAUTHENTICATED, FORBIDDEN, HIDDEN, NO_METHOD, REFUSED, SKIP}
)


@dataclass(frozen=True)
class Expect:
    anonymous: str
    outsider: str
    reader: str
    member: str
    admin: str

    def of(self, persona: str) -> str:
        value: str = getattr(self, persona)
        return value


def every(outcome: str) -> Expect:
    return Expect(outcome, outcome, outcome, outcome, outcome)


# --- profiles: the usual shapes; a row spells out an Expect where it differs ------------------
NOT_GET = every(NO_METHOD)
NOT_POST = every(NO_METHOD)
PAGE = Expect(SIGN_IN, OK, OK, OK, OK)  # a page of the persona's own project
OWNED = Expect(SIGN_IN, HIDDEN, OK, OK, OK)  # a page about one of the owner's resources
CHANGE = Expect(SIGN_IN, REFUSED, REFUSED, SKIP, SKIP)  # a change to the owner's resource
# Creating in one's own project: the outsider's project is its own business; the reader's
# role does not allow it.
CREATE = Expect(SIGN_IN, SKIP, REFUSED, SKIP, SKIP)
MINE = Expect(SIGN_IN, SKIP, SKIP, SKIP, SKIP)  # a change only to one's own session or rows
ADMIN_PAGE = Expect(SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
ADMIN_CHANGE = Expect(SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, SKIP)
# The owner's job: only its user (and an admin) sees it; the reader is another user.
OWN_JOB = Expect(SIGN_IN, HIDDEN, HIDDEN, OK, OK)
OWN_JOB_CHANGE = Expect(SIGN_IN, HIDDEN, HIDDEN, SKIP, SKIP)
# A browser upload is its user's alone, administrators included.
OWN_UPLOAD = Expect(SIGN_IN, HIDDEN, HIDDEN, OK, HIDDEN)
API_PAGE = Expect(UNAUTHENTICATED, OK, OK, OK, OK)
API_ADMIN_CHANGE = Expect(UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, SKIP)


@dataclass(frozen=True)
class Row:
    name: str  # namespace:name
    get: Expect
    post: Expect
    kwargs: Mapping[str, str] = field(default_factory=dict)  # URL argument -> resource key
    data: Mapping[str, str] = field(default_factory=dict)  # POST body, "{key}" -> its id
    query: str = ""  # appended to a GET, "{key}" -> its id
    api: bool = False  # /api/v1/: X-Auth-Token instead of the session
    # resource keys whose ids this page rightly shows to whoever may see it
    may_show: tuple[str, ...] = ()


S = {"server_id": "server"}
N = {"network_id": "network"}
R = {"router_id": "router"}
G = {"group_id": "security_group"}
IMG = {"image_id": "image"}
P = {"project_id": "project"}
U = {"user_id": "user"}
KG = {"group_id": "group"}
AGG = {"aggregate_id": "aggregate"}
SVC = {"service_id": "service"}
HOST = {"host": "host"}
FL = {"flavor_id": "flavor"}
HACK = {"name": "pm-hacked", "description": "pm-hacked"}
VOL = {"volume_id": "volume"}
VT = {"type_id": "volume_type"}
QOS = {"qos_id": "qos_spec"}
DOM = {"domain_id": "domain"}

MATRIX: tuple[Row, ...] = (
    # --- portal: sign-in, session, jobs -------------------------------------------------------
    # home and healthz take any method
    Row("portal:home", Expect(SIGN_IN, MOVED, MOVED, MOVED, MOVED), Expect(SIGN_IN, *[SKIP] * 4)),
    # an empty POST is an unbound form, shown again; a signed-in persona is sent on
    Row("portal:sign-in", Expect(OK, MOVED, MOVED, MOVED, MOVED), Expect(OK, *[SKIP] * 4)),
    # without a sign-in under way, the project choice sends everyone to sign in
    Row("portal:choose-project", every(SIGN_IN), MINE),
    Row(
        "portal:switch-project",
        NOT_GET,
        Expect(SIGN_IN, REFUSED, SKIP, SKIP, SKIP),
        data={"project_id": "{project}"},
    ),
    Row("portal:sign-out", NOT_GET, MINE),
    Row("portal:operations", PAGE, NOT_POST),
    Row("portal:admin-operations", ADMIN_PAGE, NOT_POST),
    Row("portal:operation", OWN_JOB, NOT_POST, kwargs={"pk": "op"}),
    Row("portal:cancel-operation", NOT_GET, OWN_JOB_CHANGE, kwargs={"pk": "op"}),
    # the audit log: the persona's own project's records (readers too), all for admins
    Row("portal:audit-log", PAGE, NOT_POST),
    Row("portal:export-audit-log", PAGE, NOT_POST),
    Row("portal:admin-audit-log", ADMIN_PAGE, NOT_POST),
    Row("portal:admin-export-audit-log", ADMIN_PAGE, NOT_POST),
    Row("portal:healthz", every(OK), every(OK)),
    # the signed-in user's own settings and password
    Row("portal:update-preferences", PAGE, MINE),
    # "show as code" without the form it is for: none to show (tested with forms in each app)
    Row("portal:show-as-code", Expect(SIGN_IN, HIDDEN, HIDDEN, HIDDEN, HIDDEN), NOT_POST),
    # Prometheus' page answers by address, session or none: the test client is 127.0.0.1
    Row("portal:metrics", every(OK), every(NO_METHOD)),
    Row("set_language", every(ALLOWED), Expect(ALLOWED, *[SKIP] * 4)),
    # --- projects -----------------------------------------------------------------------------
    Row("projects:overview", PAGE, NOT_POST),
    Row("projects:refresh-project-counts", NOT_GET, MINE),
    Row("quotas:show-limits", PAGE, NOT_POST),
    Row("quotas:show-usage", PAGE, NOT_POST),
    # the signed-in user's own endpoints, clouds.yaml and openrc
    Row("projects:api-access", PAGE, NOT_POST),
    Row("projects:download-clouds-yaml", PAGE, NOT_POST),
    Row("projects:download-openrc", PAGE, NOT_POST),
    Row("projects:list-app-credentials", PAGE, NOT_POST),
    Row("projects:create-app-credential", PAGE, MINE),
    # an application credential belongs to its user: Keystone answers 404 to anyone else
    Row(
        "projects:delete-app-credential",
        Expect(SIGN_IN, HIDDEN, HIDDEN, OK, HIDDEN),
        Expect(SIGN_IN, REFUSED, REFUSED, SKIP, REFUSED),
        kwargs={"credential_id": "app_credential"},
    ),
    Row("projects:list-projects", ADMIN_PAGE, NOT_POST),
    Row("projects:create-project", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("quotas:apply-quotas", ADMIN_PAGE, ADMIN_CHANGE),
    Row("projects:show-project", ADMIN_PAGE, NOT_POST, kwargs=P),
    Row("projects:update-project", ADMIN_PAGE, ADMIN_CHANGE, kwargs=P, data=HACK),
    Row("projects:update-project-enabled", NOT_GET, ADMIN_CHANGE, kwargs=P, data={"enabled": ""}),
    Row("projects:delete-project", ADMIN_PAGE, ADMIN_CHANGE, kwargs=P),
    Row("quotas:update-quotas", ADMIN_PAGE, ADMIN_CHANGE, kwargs=P, data={"instances": "0"}),
    Row(
        "projects:assign-project-role-to-user",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=P,
        data={"user_id": "{user}", "role_id": "{role}"},
    ),
    Row(
        "projects:unassign-project-role-from-user",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=P,
        data={"user_id": "{owner_user}", "role_id": "{member_role}"},
    ),
    Row(
        "projects:assign-project-role-to-group",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=P,
        data={"group_id": "{group}", "role_id": "{role}"},
    ),
    Row(
        "projects:unassign-project-role-from-group",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=P,
        data={"group_id": "{group}", "role_id": "{role}"},
    ),
    Row("projects:list-users", ADMIN_PAGE, NOT_POST),
    Row("projects:create-user", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("projects:update-user", ADMIN_PAGE, ADMIN_CHANGE, kwargs=U, data=HACK),
    Row(
        "projects:update-user-password",
        ADMIN_PAGE,
        ADMIN_CHANGE,
        kwargs=U,
        data={"password": "pm-hacked-pw", "confirm": "pm-hacked-pw"},
    ),
    Row("projects:update-user-enabled", NOT_GET, ADMIN_CHANGE, kwargs=U, data={"enabled": ""}),
    Row("projects:delete-user", ADMIN_PAGE, ADMIN_CHANGE, kwargs=U),
    Row("projects:list-groups", ADMIN_PAGE, NOT_POST),
    Row("projects:create-group", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("projects:show-group", ADMIN_PAGE, NOT_POST, kwargs=KG),
    Row("projects:update-group", ADMIN_PAGE, ADMIN_CHANGE, kwargs=KG, data=HACK),
    Row("projects:add-user-to-group", NOT_GET, ADMIN_CHANGE, kwargs=KG, data={"user_id": "{user}"}),
    Row(
        "projects:remove-user-from-group",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=KG,
        data={"user_id": "{user}"},
    ),
    Row("projects:delete-group", ADMIN_PAGE, ADMIN_CHANGE, kwargs=KG),
    Row("projects:list-roles", ADMIN_PAGE, NOT_POST),
    Row("projects:create-role", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("projects:delete-role", ADMIN_PAGE, ADMIN_CHANGE, kwargs={"role_id": "role"}),
    Row("projects:list-domains", ADMIN_PAGE, NOT_POST),
    Row("projects:create-domain", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("projects:set-domain-context", NOT_GET, ADMIN_CHANGE, data={"domain_id": "{domain}"}),
    Row("projects:clear-domain-context", NOT_GET, ADMIN_CHANGE),
    Row("projects:update-domain-enabled", NOT_GET, ADMIN_CHANGE, kwargs=DOM, data={"enabled": ""}),
    Row("projects:delete-domain", ADMIN_PAGE, ADMIN_CHANGE, kwargs=DOM),
    Row("projects:update-password", PAGE, MINE),
    # --- quotas and usage ---------------------------------------------------------------------
    Row("quotas:admin-usage", ADMIN_PAGE, NOT_POST),
    Row("quotas:export-usage", ADMIN_PAGE, ADMIN_CHANGE),
    Row("quotas:defaults", ADMIN_PAGE, ADMIN_CHANGE, data={"instances": "0"}),
    Row("quotas:show-quota-job", ADMIN_PAGE, NOT_POST, kwargs={"pk": "quota_op"}),
    Row("quotas:export-project-usage", PAGE, NOT_POST),
    Row("quotas:show-export", OWN_JOB, NOT_POST, kwargs={"pk": "export_op"}),
    # the export job has no file yet: even its owner gets a 404 until it has one
    Row(
        "quotas:download-export",
        Expect(SIGN_IN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        NOT_POST,
        kwargs={"pk": "export_op"},
    ),
    # --- images -------------------------------------------------------------------------------
    Row("images:list-images", PAGE, NOT_POST),
    Row("images:admin-images", ADMIN_PAGE, NOT_POST),
    Row(
        "images:create-image",
        PAGE,
        CREATE,
        data={
            "source": "url",
            "url": "http://127.0.0.1:9/pm-hacked.qcow2",
            "name": "pm-hacked",
            "disk_format": "qcow2",
            "container_format": "bare",
            "visibility": "private",
            "min_disk": "0",
            "min_ram": "0",
        },
    ),
    Row(
        "images:delete-images",
        NOT_GET,
        Expect(SIGN_IN, REFUSED, REFUSED, SKIP, SKIP),
        data={"image_id": "{image}"},
    ),
    # an upload belongs to the user who started it
    Row("images:get-upload", OWN_UPLOAD, NOT_POST, kwargs={"upload_id": "upload"}),
    Row("images:receive-chunk", NOT_GET, OWN_JOB_CHANGE, kwargs={"upload_id": "upload"}),
    Row("images:resume-upload", NOT_GET, OWN_JOB_CHANGE, kwargs={"upload_id": "upload"}),
    Row("images:cancel-upload", NOT_GET, OWN_JOB_CHANGE, kwargs={"upload_id": "upload"}),
    Row("images:get-image", OWNED, NOT_POST, kwargs=IMG),
    # a community image is everyone's to see, with its owner as Glance shows it; the owner's
    # upload job into it is not (issue 18 #2)
    Row(
        "images:get-image",
        PAGE,
        NOT_POST,
        kwargs={"image_id": "community_image"},
        may_show=("project",),
    ),
    Row("images:update-image", OWNED, CHANGE, kwargs=IMG, data=HACK),
    Row("images:protect-image", NOT_GET, CHANGE, kwargs=IMG),
    Row("images:unprotect-image", NOT_GET, CHANGE, kwargs={"image_id": "protected_image"}),
    Row("images:delete-image", NOT_GET, CHANGE, kwargs=IMG),
    Row("images:create-volume", OWNED, CHANGE, kwargs=IMG, data={"name": "pm-hacked", "size": "1"}),
    # --- network ------------------------------------------------------------------------------
    Row("network:topology", PAGE, NOT_POST),
    Row("network:list-networks", PAGE, NOT_POST),
    Row("network:create-network", PAGE, CREATE, data={"name": "pm-hacked"}),
    Row("network:network-detail", OWNED, NOT_POST, kwargs=N),
    Row("network:update-network", OWNED, CHANGE, kwargs=N, data=HACK),
    Row("network:delete-network", NOT_GET, CHANGE, kwargs=N),
    Row(
        "network:create-subnet",
        OWNED,
        CHANGE,
        kwargs=N,
        data={"name": "pm-hacked", "cidr": "10.254.254.0/24", "ip_version": "4"},
    ),
    Row(
        "network:update-subnet",
        OWNED,
        CHANGE,
        kwargs={"network_id": "network", "subnet_id": "subnet"},
        data={"name": "pm-hacked"},
    ),
    Row(
        "network:delete-subnet",
        NOT_GET,
        CHANGE,
        kwargs={"network_id": "network", "subnet_id": "subnet"},
    ),
    Row("network:create-port", OWNED, CHANGE, kwargs=N, data={"name": "pm-hacked"}),
    Row(
        "network:delete-port", NOT_GET, CHANGE, kwargs={"network_id": "network", "port_id": "port"}
    ),
    Row("network:list-routers", PAGE, NOT_POST),
    Row("network:create-router", PAGE, CREATE, data={"name": "pm-hacked", "admin_state_up": "on"}),
    Row("network:router-detail", OWNED, NOT_POST, kwargs=R),
    Row("network:update-router", OWNED, CHANGE, kwargs=R, data=HACK),
    # a delete is a job: it must neither start for nor reuse another tenant's (issue 18 #1)
    Row("network:delete-router", NOT_GET, CHANGE, kwargs=R),
    Row("network:set-router-gateway", OWNED, CHANGE, kwargs=R, data={"network_id": "{public}"}),
    Row("network:clear-router-gateway", NOT_GET, CHANGE, kwargs=R),
    Row("network:add-interface-to-router", OWNED, CHANGE, kwargs=R, data={"subnet_id": "{subnet}"}),
    Row(
        "network:remove-interface-from-router",
        NOT_GET,
        CHANGE,
        kwargs=R,
        data={"port_id": "{router_port}"},
    ),
    Row(
        "network:add-extra-routes-to-router",
        OWNED,
        CHANGE,
        kwargs=R,
        data={"destination": "10.253.0.0/24", "nexthop": "{nexthop}"},
    ),
    Row(
        "network:remove-extra-routes-from-router",
        NOT_GET,
        CHANGE,
        kwargs=R,
        data={"destination": "10.252.0.0/24", "nexthop": "{nexthop}"},
    ),
    Row("network:list-security-groups", PAGE, NOT_POST),
    Row("network:create-security-group", PAGE, CREATE, data={"name": "pm-hacked"}),
    Row("network:security-group-detail", OWNED, NOT_POST, kwargs=G),
    Row("network:update-security-group", OWNED, CHANGE, kwargs=G, data=HACK),
    Row("network:delete-security-group", NOT_GET, CHANGE, kwargs=G),
    Row(
        "network:create-security-group-rule",
        OWNED,
        CHANGE,
        kwargs=G,
        data={
            "direction": "ingress",
            "ether_type": "IPv4",
            "protocol": "tcp",
            "port_range_min": "2222",
            "port_range_max": "2222",
            "remote_ip_prefix": "0.0.0.0/0",
        },
    ),
    Row(
        "network:delete-security-group-rule",
        NOT_GET,
        CHANGE,
        kwargs={"group_id": "security_group", "rule_id": "rule"},
    ),
    Row("network:list-floating-ips", PAGE, NOT_POST),
    Row(
        "network:create-floating-ip",
        PAGE,
        CREATE,
        data={"floating_network_id": "{public}", "description": "pm-hacked"},
    ),
    Row(
        "network:associate-floating-ip",
        OWNED,
        CHANGE,
        kwargs={"floating_ip_id": "floating_ip"},
        data={"target": "{server_port} {server_ip}"},
    ),
    Row(
        "network:disassociate-floating-ip",
        NOT_GET,
        CHANGE,
        kwargs={"floating_ip_id": "floating_ip"},
    ),
    Row("network:delete-floating-ip", NOT_GET, CHANGE, kwargs={"floating_ip_id": "floating_ip"}),
    Row("network:admin-networks", ADMIN_PAGE, NOT_POST),
    Row("network:admin-create-network", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("network:admin-routers", ADMIN_PAGE, NOT_POST),
    Row("network:admin-floating-ips", ADMIN_PAGE, NOT_POST),
    # --- compute ------------------------------------------------------------------------------
    Row("compute:list-servers", PAGE, NOT_POST),
    Row(
        "compute:launch-server",
        PAGE,
        CREATE,
        data={
            "_step": "configuration",
            "_launch": "1",
            "name": "pm-hacked",
            "description": "",
            "availability_zone": "",
            "count": "1",
            "source_type": "image",
            "image": "{cloud_image}",
            "flavor": "{nano}",
            "nic_1": "net:{network}",
            "key_name": "",
            "user_data": "",
            "server_group": "",
            "scheduler_hints": "",
            "metadata": "",
        },
    ),
    Row(
        "compute:act-on-servers",
        NOT_GET,
        Expect(SIGN_IN, REFUSED, REFUSED, SKIP, SKIP),
        data={"action": "stop_server", "server_id": "{server}"},
    ),
    Row("compute:server-detail", OWNED, NOT_POST, kwargs=S),
    # a row poll and a menu answer "gone" (286, an empty menu) for a server one cannot see
    Row("compute:server-row", Expect(SIGN_IN, OK, OK, OK, OK), NOT_POST, kwargs=S),
    Row("compute:server-actions", Expect(SIGN_IN, OK, OK, OK, OK), NOT_POST, kwargs=S),
    Row("compute:update-server", OWNED, CHANGE, kwargs=S, data=HACK),
    Row("compute:create-server-image", OWNED, CHANGE, kwargs=S, data={"name": "pm-hacked"}),
    Row("compute:pause-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:unpause-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:suspend-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:resume-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:shelve-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:unshelve-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:stop-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:start-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:reboot-server", NOT_GET, CHANGE, kwargs=S, data={"hard": "on"}),
    Row("compute:resize-server", OWNED, CHANGE, kwargs=S, data={"flavor_id": "{flavor}"}),
    Row("compute:confirm-server-resize", NOT_GET, CHANGE, kwargs=S),
    Row("compute:revert-server-resize", NOT_GET, CHANGE, kwargs=S),
    Row("compute:rebuild-server", OWNED, CHANGE, kwargs=S, data={"image_id": "{cloud_image}"}),
    Row("compute:lock-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:unlock-server", NOT_GET, CHANGE, kwargs=S),
    Row("compute:rescue-server", OWNED, CHANGE, kwargs=S),
    Row("compute:unrescue-server", NOT_GET, CHANGE, kwargs=S),
    Row(
        "compute:associate-floating-ip",
        OWNED,
        CHANGE,
        kwargs=S,
        data={"floating_ip_id": "{floating_ip}"},
    ),
    Row(
        "compute:disassociate-floating-ip",
        OWNED,
        CHANGE,
        kwargs=S,
        data={"floating_ip_id": "{floating_ip}"},
    ),
    Row(
        "compute:create-server-interface", OWNED, CHANGE, kwargs=S, data={"network_id": "{network}"}
    ),
    Row(
        "compute:delete-server-interface",
        OWNED,
        CHANGE,
        kwargs=S,
        data={"port_id": "{server_port}"},
    ),
    Row(
        "compute:create-volume-attachment", OWNED, CHANGE, kwargs=S, data={"volume_id": "{volume}"}
    ),
    Row(
        "compute:delete-volume-attachment", OWNED, CHANGE, kwargs=S, data={"volume_id": "{volume}"}
    ),
    Row("compute:delete-server", OWNED, CHANGE, kwargs=S),
    Row("compute:list-keypairs", PAGE, NOT_POST),
    # a key pair is its user's own: Nova lets a reader make one
    Row("compute:create-keypair", PAGE, MINE),
    Row("compute:import-keypair", PAGE, MINE),
    # key pairs belong to their user: the confirmation names only what the URL says
    Row("compute:delete-keypair", PAGE, CHANGE, kwargs={"name": "keypair"}),
    Row("compute:list-server-groups", PAGE, NOT_POST),
    Row(
        "compute:create-server-group",
        PAGE,
        CREATE,
        data={"name": "pm-hacked", "policy": "affinity"},
    ),
    # the confirmation is read from the URL alone, without asking Nova
    Row("compute:delete-server-group", PAGE, CHANGE, kwargs={"group_id": "server_group"}),
    Row("compute:admin-hypervisors", ADMIN_PAGE, NOT_POST),
    # capacity trends: the admin's cloud's samples; a project's quota usage over time, its own
    Row("capacity:admin-capacity", ADMIN_PAGE, NOT_POST),
    Row("capacity:show-capacity-chart", ADMIN_PAGE, NOT_POST),
    Row("capacity:export-capacity", ADMIN_PAGE, NOT_POST),
    Row("capacity:show-project-trends", PAGE, NOT_POST),
    Row("capacity:show-project-chart", PAGE, NOT_POST),
    Row("capacity:export-project-trends", PAGE, NOT_POST),
    Row("compute:admin-services", ADMIN_PAGE, NOT_POST),
    Row("compute:enable-service", NOT_GET, ADMIN_CHANGE, kwargs=SVC),
    Row("compute:disable-service", ADMIN_PAGE, ADMIN_CHANGE, kwargs=SVC, data={"reason": "pm"}),
    Row(
        "compute:update-service-forced-down",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=SVC,
        data={"forced_down": "on"},
    ),
    Row("compute:drain-host", ADMIN_PAGE, ADMIN_CHANGE, kwargs=HOST),
    # the host is up: the admin's page says it cannot be evacuated (400)
    Row(
        "compute:evacuate-host",
        Expect(SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, REFUSED),
        ADMIN_CHANGE,
        kwargs=HOST,
    ),
    Row("compute:admin-aggregates", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("compute:delete-aggregate", NOT_GET, ADMIN_CHANGE, kwargs=AGG),
    Row(
        "compute:add-host-to-aggregate", NOT_GET, ADMIN_CHANGE, kwargs=AGG, data={"host": "{host}"}
    ),
    Row(
        "compute:remove-host-from-aggregate",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=AGG,
        data={"host": "{host}"},
    ),
    Row(
        "compute:set-aggregate-metadata",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=AGG,
        data={"metadata": "pm=hacked"},
    ),
    Row("compute:list-flavors", ADMIN_PAGE, NOT_POST),
    Row("compute:create-flavor", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("compute:flavor-detail", ADMIN_PAGE, NOT_POST, kwargs=FL),
    Row(
        "compute:update-flavor-extra-specs",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=FL,
        data={"key": "pm:hacked", "value": "1"},
    ),
    Row(
        "compute:delete-flavor-extra-spec",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=FL,
        data={"key": "pm:hacked"},
    ),
    Row(
        "compute:add-flavor-access",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=FL,
        data={"project_id": "{own_project}"},
    ),
    Row(
        "compute:remove-flavor-access",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=FL,
        data={"project_id": "{own_project}"},
    ),
    Row("compute:delete-flavor", ADMIN_PAGE, ADMIN_CHANGE, kwargs=FL),
    Row("compute:admin-servers", ADMIN_PAGE, NOT_POST),
    Row("compute:admin-server-actions", ADMIN_PAGE, NOT_POST, kwargs=S),
    Row("compute:live-migrate-server", ADMIN_PAGE, ADMIN_CHANGE, kwargs=S),
    Row("compute:migrate-server", ADMIN_PAGE, ADMIN_CHANGE, kwargs=S),
    Row(
        "compute:abort-server-migration",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs={"server_id": "server", "migration_id": "migration"},
    ),
    Row(
        "compute:force-complete-server-migration",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs={"server_id": "server", "migration_id": "migration"},
    ),
    Row("compute:admin-migrations", ADMIN_PAGE, NOT_POST),
    Row("compute:host-operation", ADMIN_PAGE, NOT_POST, kwargs={"pk": "host_op"}),
    Row("compute:admin-health", ADMIN_PAGE, NOT_POST),
    # --- monitoring (System Health's RabbitMQ, MariaDB and Ceph sections) -------------------
    Row("monitoring:admin-health", ADMIN_PAGE, NOT_POST),
    # --- volumes ------------------------------------------------------------------------------
    Row("volumes:list-volumes", PAGE, NOT_POST),
    Row(
        "volumes:create-volume",
        PAGE,
        CREATE,
        data={"name": "pm-hacked", "size": "1", "source_type": "blank"},
    ),
    # a bulk delete of the owner's volume: Cinder refuses it to the outsider and the reader
    Row("volumes:delete-volumes", NOT_GET, CHANGE, data={"volume_ids": "{volume}"}),
    Row("volumes:get-volume", OWNED, NOT_POST, kwargs=VOL),
    Row("volumes:update-volume", OWNED, CHANGE, kwargs=VOL, data=HACK),
    Row("volumes:extend-volume", OWNED, CHANGE, kwargs=VOL, data={"size": "2"}),
    Row(
        "volumes:retype-volume",
        OWNED,
        CHANGE,
        kwargs=VOL,
        data={"volume_type": "__DEFAULT__", "migration_policy": "on-demand"},
    ),
    Row(
        "volumes:upload-volume-to-image",
        OWNED,
        CHANGE,
        kwargs=VOL,
        data={"image_name": "pm-hacked", "disk_format": "raw"},
    ),
    Row("volumes:attach-volume", OWNED, CHANGE, kwargs=VOL, data={"server": "{server}"}),
    Row("volumes:detach-volume", OWNED, CHANGE, kwargs=VOL, data={"server": "{server}"}),
    Row("volumes:delete-volume", OWNED, CHANGE, kwargs=VOL),
    Row("volumes:create-snapshot", OWNED, CHANGE, kwargs=VOL, data=HACK),
    Row("volumes:create-backup", OWNED, CHANGE, kwargs=VOL, data=HACK),
    Row("volumes:create-transfer", OWNED, CHANGE, kwargs=VOL, data={"name": "pm-hacked"}),
    Row("volumes:list-snapshots", PAGE, NOT_POST),
    Row("volumes:delete-snapshot", OWNED, CHANGE, kwargs={"snapshot_id": "volume_snapshot"}),
    Row("volumes:list-backups", PAGE, NOT_POST),
    Row(
        "volumes:restore-backup",
        OWNED,
        CHANGE,
        kwargs={"backup_id": "volume_backup"},
        data={"target": "new", "name": "pm-hacked"},
    ),
    Row("volumes:delete-backup", OWNED, CHANGE, kwargs={"backup_id": "volume_backup"}),
    Row("volumes:list-transfers", PAGE, NOT_POST),
    # accepting into one's own project: a made-up transfer, refused to the reader by policy
    Row(
        "volumes:accept-transfer",
        PAGE,
        CREATE,
        data={"transfer_id": "{volume}", "auth_key": "0123456789abcdef"},
    ),
    Row("volumes:delete-transfer", OWNED, CHANGE, kwargs={"transfer_id": "volume_transfer"}),
    Row(
        "volumes:update-snapshot",
        OWNED,
        CHANGE,
        kwargs={"snapshot_id": "volume_snapshot"},
        data=HACK,
    ),
    # Admin › Volume: every project's volumes, types, QoS specs, pools, services
    Row("volumes:admin-volumes", ADMIN_PAGE, NOT_POST),
    Row(
        "volumes:reset-volume-status",
        ADMIN_PAGE,
        ADMIN_CHANGE,
        kwargs=VOL,
        data={"status": "error"},
    ),
    Row("volumes:admin-volume-types", ADMIN_PAGE, NOT_POST),
    Row("volumes:create-volume-type", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row("volumes:get-volume-type", ADMIN_PAGE, NOT_POST, kwargs=VT),
    Row(
        "volumes:update-volume-type-extra-specs",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=VT,
        data={"key": "pm:hacked", "value": "1"},
    ),
    Row(
        "volumes:delete-volume-type-extra-spec",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=VT,
        data={"key": "pm:hacked"},
    ),
    Row(
        "volumes:add-volume-type-access",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=VT,
        data={"project": "{own_project}"},
    ),
    Row(
        "volumes:remove-volume-type-access",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=VT,
        data={"project": "{own_project}"},
    ),
    Row("volumes:delete-volume-type", ADMIN_PAGE, ADMIN_CHANGE, kwargs=VT),
    Row("volumes:admin-qos-specs", ADMIN_PAGE, NOT_POST),
    Row("volumes:create-qos-spec", ADMIN_PAGE, ADMIN_CHANGE, data={"name": "pm-hacked"}),
    Row(
        "volumes:associate-qos-spec",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=QOS,
        data={"volume_type": "{volume_type}"},
    ),
    Row(
        "volumes:disassociate-qos-spec",
        NOT_GET,
        ADMIN_CHANGE,
        kwargs=QOS,
        data={"volume_type": "{volume_type}"},
    ),
    Row("volumes:delete-qos-spec", ADMIN_PAGE, ADMIN_CHANGE, kwargs=QOS),
    Row("volumes:admin-storage-pools", ADMIN_PAGE, NOT_POST),
    Row("volumes:admin-volume-services", ADMIN_PAGE, NOT_POST),
    Row(
        "volumes:enable-volume-service",
        NOT_GET,
        ADMIN_CHANGE,
        data={"host": "{host}", "binary": "cinder-volume"},
    ),
    Row(
        "volumes:disable-volume-service",
        NOT_GET,
        ADMIN_CHANGE,
        data={"host": "{host}", "binary": "cinder-volume", "reason": "pm-hacked"},
    ),
    # --- the JSON API (X-Auth-Token) ----------------------------------------------------------
    Row("api:list-operations", API_PAGE, NOT_POST, api=True),
    Row(
        "api:operation",
        Expect(UNAUTHENTICATED, HIDDEN, HIDDEN, OK, OK),
        NOT_POST,
        kwargs={"pk": "op"},
        api=True,
    ),
    Row(
        "api:cancel-operation",
        NOT_GET,
        Expect(UNAUTHENTICATED, HIDDEN, HIDDEN, SKIP, SKIP),
        kwargs={"pk": "op"},
        api=True,
    ),
    Row("api:drain-host", NOT_GET, API_ADMIN_CHANGE, kwargs=HOST, api=True),
    Row("api:evacuate-host", NOT_GET, API_ADMIN_CHANGE, kwargs=HOST, api=True),
    Row("api:live-migrate-server", NOT_GET, API_ADMIN_CHANGE, kwargs=S, api=True),
    Row("api:migrate-server", NOT_GET, API_ADMIN_CHANGE, kwargs=S, api=True),
    Row("api:apply-quotas", NOT_GET, API_ADMIN_CHANGE, api=True),
    # the caller's own project's usage; another project's is refused
    Row(
        "api:usage-csv",
        API_PAGE,
        NOT_POST,
        query="start=2026-01-01&end=2026-01-31&project={own_project}",
        api=True,
    ),
    Row(
        "api:usage-csv",
        Expect(UNAUTHENTICATED, FORBIDDEN, OK, OK, FORBIDDEN),
        NOT_POST,
        query="start=2026-01-01&end=2026-01-31&project={project}",
        api=True,
    ),
    Row("api:list-audit-records", API_PAGE, NOT_POST, api=True),
    # the OpenAPI document holds no data: served to anyone, with or without a token
    Row("api:openapi", every(OK), NOT_POST, api=True),
    # any other path under /api/v1/ (here the host's name) is the API's JSON 404 for everyone
    Row("api:no-endpoint", every(HIDDEN), every(HIDDEN), kwargs={"rest": "host"}, api=True),
)


def url_names() -> set[str]:
    return {row.name for row in MATRIX}
