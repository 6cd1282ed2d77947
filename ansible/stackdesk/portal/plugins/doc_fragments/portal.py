"""The options every stackdesk.portal module shares: how to sign in (as openstack.cloud does),
where the portal is, and how long to wait for its job."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  portal_url:
    description:
      - The portal's address, e.g. C(https://stackdesk.example.org). The API is under
        C(/api/v1/) there.
      - When not given, the environment variable C(STACKDESK_URL).
    type: str
    required: true
  portal_cloud:
    description:
      - When the portal serves several clouds, the one to act on (sent as
        C(X-Stackdesk-Cloud)) — the portal's C(clouds.yaml) entry name, or C(name:region).
      - When not given, the portal's first cloud.
    type: str
  cloud:
    description:
      - As in openstack.cloud. A C(clouds.yaml) entry's name (looked for where openstacksdk
        looks, C(OS_CLIENT_CONFIG_FILE) first, with C(secure.yaml) merged in), or a dict
        holding such an entry.
      - When neither I(cloud) nor I(auth) is given, C(OS_CLOUD), else the C(OS_*) variables.
    type: raw
  auth:
    description:
      - As in openstack.cloud, merged over the I(cloud) entry's C(auth). For C(password),
        C(auth_url), C(username) (or C(user_id)), C(password), C(project_name) (or
        C(project_id)), C(user_domain_name) and C(project_domain_name) (C(default) when
        left out). For C(v3applicationcredential) — C(auth_url),
        C(application_credential_id) and C(application_credential_secret). For C(token),
        C(auth_url), C(token) and the project.
    type: dict
  auth_type:
    description:
      - C(password) (the default), C(v3applicationcredential) (the default when the
        I(auth) has an application credential secret) or C(token).
    type: str
  region_name:
    description: The region whose endpoints the module reads from the token's catalog.
    type: str
  interface:
    description: Which endpoints of the token's catalog the module calls.
    type: str
    choices: [admin, internal, public]
    default: public
  validate_certs:
    description: Check TLS certificates (of Keystone, the portal and the services).
    type: bool
    default: true
  ca_cert:
    description: A CA bundle to check them with.
    type: str
  api_timeout:
    description: Seconds each HTTP call may take.
    type: int
    default: 30
notes:
  - The module asks Keystone for a project-scoped token with these credentials and sends it
    to the portal in C(X-Auth-Token), as docs/api.md says; the portal checks it and acts with
    it (its policy is the cloud's). Passwords, secrets and tokens are never in the output.
  - Only Python (3.9 or newer) with its standard library and ansible-core are needed on the
    host that runs it; no openstacksdk.
"""

    WAIT = r"""
options:
  wait:
    description:
      - Wait for the portal's job to end, and return its report. Without it the module
        returns once the job is queued (C(changed) then says a job was started).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the job. When they pass the module fails, and the job goes on in
        the portal (its C(operation.url) says where to follow it).
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two looks at the job.
    type: int
    default: 3
"""
