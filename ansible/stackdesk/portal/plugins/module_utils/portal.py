"""What every stackdesk.portal module shares: signing in to Keystone the way openstack.cloud
does (a clouds.yaml entry, an `auth:` dict or an application credential), calling the portal's
API (/api/v1/, docs/api.md) with the token it got, reading Nova and the other services with the
same token where a module needs to know the state before it acts, and following a job to its
end.

Only the standard library and ansible-core: the module runs wherever Ansible runs it, with no
openstacksdk. The token, passwords and secrets are registered as no_log values, so they never
reach the output, even inside an error message.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.urls import open_url

USER_AGENT = "stackdesk.portal-ansible/1.0.0"
# Nova 2.11 reports forced_down on services; everything read here exists since.
NOVA_VERSION = "2.11"
JOB_RUNNING = ("queued", "running")
SECRET_WORDS = ("password", "secret", "token")


def argument_spec(**extra: Any) -> dict[str, Any]:
    """The shared options (plugins/doc_fragments/portal.py), and the module's own."""
    spec: dict[str, Any] = {
        "portal_url": {
            "type": "str",
            "required": True,
            "fallback": (env_fallback, ["STACKDESK_URL"]),
        },
        "portal_cloud": {"type": "str"},
        "cloud": {"type": "raw"},
        "auth": {"type": "dict", "no_log": True},
        "auth_type": {"type": "str"},
        "region_name": {"type": "str"},
        "interface": {
            "type": "str",
            "default": "public",
            "choices": ["admin", "internal", "public"],
        },
        "validate_certs": {"type": "bool", "default": True},
        "ca_cert": {"type": "str"},
        "api_timeout": {"type": "int", "default": 30},
    }
    spec.update(extra)
    return spec


def wait_spec(timeout: int = 1800) -> dict[str, Any]:
    return {
        "wait": {"type": "bool", "default": True},
        "timeout": {"type": "int", "default": timeout},
        "poll_interval": {"type": "int", "default": 3},
    }


class PortalError(Exception):
    """A refusal or a failure, with the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message, self.status, self.body = message, status, body


# --- configuration: as openstacksdk reads it ---------------------------------------------------


def _config_files(variable: str, name: str) -> list[str]:
    found = [os.environ[variable]] if os.environ.get(variable) else []
    found += [
        os.path.join(os.getcwd(), name),
        os.path.expanduser(os.path.join("~", ".config", "openstack", name)),
        os.path.join("/etc", "openstack", name),
    ]
    return found


def _load_yaml(path: str) -> dict[str, Any]:
    try:
        import yaml  # ansible-core depends on PyYAML
    except ImportError as exc:
        raise PortalError(
            "Reading clouds.yaml needs PyYAML on the host running the module."
        ) from exc
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return data if isinstance(data, dict) else {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def named_cloud(name: str) -> dict[str, Any]:
    """The clouds.yaml entry `name` (the first file that exists, as openstacksdk reads it),
    with the same entry of secure.yaml merged over it."""
    files = [f for f in _config_files("OS_CLIENT_CONFIG_FILE", "clouds.yaml") if os.path.exists(f)]
    if not files:
        raise PortalError(f"There is no clouds.yaml to find the cloud {name!r} in.")
    entry = (_load_yaml(files[0]).get("clouds") or {}).get(name)
    if not isinstance(entry, dict):
        raise PortalError(f"{files[0]} has no cloud called {name!r}.")
    for secure in _config_files("OS_CLIENT_SECURE_FILE", "secure.yaml"):
        if os.path.exists(secure):
            extra = (_load_yaml(secure).get("clouds") or {}).get(name)
            if isinstance(extra, dict):
                entry = _merge(entry, extra)
            break
    return entry


ENV_AUTH = (
    "auth_url",
    "username",
    "user_id",
    "password",
    "project_name",
    "project_id",
    "user_domain_name",
    "user_domain_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "application_credential_id",
    "application_credential_name",
    "application_credential_secret",
    "token",
)


def _environment_cloud() -> dict[str, Any]:
    """The OS_* variables, as openstacksdk reads them when no cloud is named."""
    auth = {k: os.environ[f"OS_{k.upper()}"] for k in ENV_AUTH if os.environ.get(f"OS_{k.upper()}")}
    config: dict[str, Any] = {"auth": auth}
    for key in ("auth_type", "region_name", "interface"):
        if os.environ.get(f"OS_{key.upper()}"):
            config[key] = os.environ[f"OS_{key.upper()}"]
    return config


def cloud_config(params: dict[str, Any]) -> dict[str, Any]:
    """The cloud entry the options name, with `auth`, `auth_type` and `region_name` over it."""
    chosen = params.get("cloud")
    if chosen is None and not params.get("auth"):
        chosen = os.environ.get("OS_CLOUD") or None
    if isinstance(chosen, dict):
        config = dict(chosen)
    elif isinstance(chosen, str) and chosen:
        config = named_cloud(chosen)
    elif params.get("auth"):
        config = {}
    else:
        config = _environment_cloud()
    auth = dict(config.get("auth") or {})
    auth.update({k: v for k, v in (params.get("auth") or {}).items() if v is not None})
    config["auth"] = auth
    for key in ("auth_type", "region_name"):
        if params.get(key):
            config[key] = params[key]
    if not config.get("auth_type"):
        secret = "application_credential_secret" in auth
        config["auth_type"] = "v3applicationcredential" if secret else "password"
    return config


# --- Keystone ------------------------------------------------------------------------------


def _domain(auth: dict[str, Any], prefix: str) -> dict[str, str]:
    for key in (f"{prefix}_domain_id", "domain_id"):
        if auth.get(key):
            return {"id": auth[key]}
    for key in (f"{prefix}_domain_name", "domain_name"):
        if auth.get(key):
            return {"name": auth[key]}
    return {"id": "default"}


def _project_scope(auth: dict[str, Any]) -> dict[str, Any] | None:
    if auth.get("project_id"):
        return {"project": {"id": auth["project_id"]}}
    if auth.get("project_name"):
        return {"project": {"name": auth["project_name"], "domain": _domain(auth, "project")}}
    return None  # Keystone scopes to the user's default project


def _user(auth: dict[str, Any]) -> dict[str, Any]:
    if auth.get("user_id"):
        return {"id": auth["user_id"]}
    if not auth.get("username"):
        raise PortalError("auth needs username (or user_id).")
    return {"name": auth["username"], "domain": _domain(auth, "user")}


def token_request(auth_type: str, auth: dict[str, Any]) -> dict[str, Any]:
    """The body of Keystone's POST /v3/auth/tokens for this auth type."""
    kind = auth_type.removeprefix("v3")
    scope = _project_scope(auth)
    if kind == "password":
        if "password" not in auth:
            raise PortalError("auth needs a password.")
        identity: dict[str, Any] = {
            "methods": ["password"],
            "password": {"user": {**_user(auth), "password": auth["password"]}},
        }
    elif kind == "applicationcredential":
        if not auth.get("application_credential_secret"):
            raise PortalError("auth needs application_credential_secret.")
        credential: dict[str, Any] = {"secret": auth["application_credential_secret"]}
        if auth.get("application_credential_id"):
            credential["id"] = auth["application_credential_id"]
        else:
            credential.update(name=auth.get("application_credential_name"), user=_user(auth))
        identity = {"methods": ["application_credential"], "application_credential": credential}
        scope = None  # the credential is bound to its project
    elif kind == "token":
        identity = {"methods": ["token"], "token": {"id": auth.get("token")}}
    else:
        raise PortalError(
            f"auth_type {auth_type!r} is not supported: use password, "
            "v3applicationcredential or token."
        )
    body: dict[str, Any] = {"auth": {"identity": identity}}
    if scope:
        body["auth"]["scope"] = scope
    return body


def keystone_url(auth_url: str) -> str:
    """auth_url as clouds.yaml gives it (with /v3 or without) -> the v3 root."""
    url = auth_url.rstrip("/")
    return url if url.endswith("/v3") else url + "/v3"


# --- the session: one token, the portal and the catalog ---------------------------------------


class Session:
    """A project-scoped Keystone token and what it opens: the portal's API and the services of
    the token's catalog."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        params = module.params
        self.portal = params["portal_url"].rstrip("/")
        self.interface = params["interface"]
        try:
            self.config = cloud_config(params)
        except PortalError as exc:
            module.fail_json(msg=exc.message)
        self.region = self.config.get("region_name")
        self._hide(self.config)
        verify = params["validate_certs"] and self.config.get("verify", True) is not False
        self.http = {
            "validate_certs": verify,
            "ca_path": params.get("ca_cert") or self.config.get("cacert"),
            "timeout": params["api_timeout"],
            "http_agent": USER_AGENT,
        }
        self.token, self.catalog, self.project_id = self._sign_in()

    def _hide(self, value: Any, key: str = "") -> None:
        """Every secret of the configuration becomes a no_log value (even from clouds.yaml)."""
        if isinstance(value, dict):
            for k, v in value.items():
                self._hide(v, str(k))
        elif isinstance(value, str) and value and any(w in key for w in SECRET_WORDS):
            self.module.no_log_values.add(value)

    # -- HTTP

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, bytes]:
        """(status, headers, body) of one HTTP call; no exception for a 4xx or 5xx answer."""
        sent = {"Accept": "application/json", "Accept-Language": "en", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            response = open_url(url, data=data, headers=sent, method=method, **self.http)
            return response.getcode(), response.headers, response.read()
        except HTTPError as exc:
            return exc.code, exc.headers, exc.read()
        except (URLError, OSError) as exc:
            raise PortalError(f"{method} {url}: {exc}") from exc

    def _sign_in(self) -> tuple[str, list[dict[str, Any]], str]:
        auth = self.config["auth"]
        if not auth.get("auth_url"):
            self.module.fail_json(msg="No auth_url: name a cloud, or give auth.auth_url.")
        try:
            request = token_request(self.config["auth_type"], auth)
            url = keystone_url(auth["auth_url"]) + "/auth/tokens"
            status, headers, raw = self.call("POST", url, request)
        except PortalError as exc:
            self.module.fail_json(msg=exc.message)
        if status != 201:
            self.module.fail_json(msg=f"Keystone refused the credentials ({status}): {_text(raw)}")
        token = headers.get("X-Subject-Token", "")
        self.module.no_log_values.add(token)
        body = json.loads(raw)["token"]
        if not body.get("project"):
            self.module.fail_json(
                msg="The token is not scoped to a project: give a project (the portal needs one)."
            )
        return token, body.get("catalog") or [], body["project"]["id"]

    def endpoint(self, *service_types: str) -> str:
        """The first of these service types in the token's catalog (interface, region)."""
        for wanted in service_types:
            for service in self.catalog:
                if service.get("type") != wanted:
                    continue
                for ep in service.get("endpoints") or []:
                    region = ep.get("region_id") or ep.get("region")
                    if ep.get("interface") == self.interface and (
                        not self.region or region == self.region
                    ):
                        return str(ep["url"]).rstrip("/")
        raise PortalError(f"The catalog has no {self.interface} {service_types[0]} endpoint.")

    # -- the portal

    def portal_call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> tuple[int, Any, bytes]:
        headers = {"X-Auth-Token": self.token}
        if self.module.params.get("portal_cloud"):
            headers["X-Stackdesk-Cloud"] = self.module.params["portal_cloud"]
        url = self.portal + "/api/v1/" + path.lstrip("/")
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
        status, headers, raw = self.call(method, url, body, headers)
        if status >= 400:
            raise PortalError(_portal_refusal(status, raw), status, _json(raw))
        return status, headers, raw

    def portal_json(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self.portal_call(method, path, body)[2])

    def start_job(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a job (202) and return it."""
        job: dict[str, Any] = self.portal_json("POST", path, body)
        return job

    def follow(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job once it has ended (as the portal reports it), or a PortalError on timeout."""
        params = self.module.params
        deadline = time.monotonic() + params["timeout"]
        while job["state"] in JOB_RUNNING:
            if time.monotonic() >= deadline:
                raise PortalError(
                    f"The portal's job {job['id']} ({job['kind']}) is still {job['state']} "
                    f"after {params['timeout']} s: it goes on in the portal "
                    f"({self.portal}{job['url']}); cancel it there or with POST "
                    f"{job['url']}cancel/.",
                    body=job,
                )
            time.sleep(max(1, params["poll_interval"]))
            # By its id, not its `url`: that carries the portal's own path prefix, if any.
            job = self.portal_json("GET", f"operations/{int(job['id'])}/")
        return job

    # -- the services, read with the same token

    def service_json(
        self,
        service_types: tuple[str, ...],
        path: str,
        *,
        method: str = "GET",
        body: Any = None,
        nova: bool = False,
    ) -> Any:
        headers = {"X-Auth-Token": self.token}
        if nova:
            headers["OpenStack-API-Version"] = f"compute {NOVA_VERSION}"
            headers["X-OpenStack-Nova-API-Version"] = NOVA_VERSION
        url = self.endpoint(*service_types) + path
        status, _headers, raw = self.call(method, url, body, headers)
        if status >= 400:
            raise PortalError(f"{method} {url}: {status} {_text(raw)}", status)
        return _json(raw)

    def nova(self, path: str, **kwargs: Any) -> Any:
        return self.service_json(("compute",), path, nova=True, **kwargs)

    def compute_service(self, host: str) -> dict[str, Any]:
        """The nova-compute service of `host` (as the portal's own check finds it)."""
        found = self.nova("/os-services?" + urlencode({"binary": "nova-compute", "host": host}))
        services = [s for s in found.get("services") or [] if s.get("host") == host]
        if not services:
            raise PortalError(f"There is no compute service on {host}.", 404)
        return dict(services[0])

    def servers_on(self, host: str) -> list[dict[str, Any]]:
        """Every project's instances on `host`, oldest first (the drain's own order)."""
        query = {
            "all_tenants": 1,
            "host": host,
            "limit": 1000,
            "sort_key": "created_at",
            "sort_dir": "asc",
        }
        found = self.nova("/servers/detail?" + urlencode(query))
        return [s for s in found.get("servers") or [] if s.get("OS-EXT-SRV-ATTR:host") == host]

    def server(self, server: str) -> dict[str, Any]:
        """An instance by ID, or by its exact name in any project (one match only)."""
        status, _h, raw = self.call(
            "GET",
            self.endpoint("compute") + "/servers/" + quote(server, safe=""),
            headers={"X-Auth-Token": self.token, "X-OpenStack-Nova-API-Version": NOVA_VERSION},
        )
        if status == 200:
            return dict(json.loads(raw)["server"])
        query = urlencode({"all_tenants": 1, "name": f"^{server}$"})
        found = [s for s in self.nova("/servers/detail?" + query).get("servers") or []]
        found = [s for s in found if s.get("name") == server]
        if len(found) != 1:
            many = "are several instances" if found else "is no instance"
            raise PortalError(f"There {many} called {server!r}.", 404)
        return dict(found[0])


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")[:500]


def _portal_refusal(status: int, raw: bytes) -> str:
    """The portal's error JSON ({"error", "field"}) as one sentence."""
    data = _json(raw)
    if isinstance(data, dict) and data.get("error"):
        field = f" (field {data['field']})" if data.get("field") else ""
        return f"The portal refused ({status}){field}: {data['error']}"
    return f"The portal answered {status}: {_text(raw)}"


# --- host jobs: what Nova says before, what the job says after ------------------------------


def server_brief(server: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": server.get("id"),
        "name": server.get("name"),
        "status": server.get("status"),
        "host": server.get("OS-EXT-SRV-ATTR:host"),
        "project_id": server.get("tenant_id"),
    }


def plan_move(server: dict[str, Any], active: str, stopped: str) -> tuple[str, str]:
    """How the portal's drain moves this instance: (live|cold, "") or ("", why it is skipped).
    The same rules as the portal's plan (compute/hosts.py plan_move): Nova live-migrates
    ACTIVE and PAUSED instances and cold-migrates ACTIVE and SHUTOFF ones."""
    task = server.get("OS-EXT-STS:task_state")
    vm_state = server.get("OS-EXT-STS:vm_state")
    if task:
        return "", f"Nova is busy with it ({task})."
    if vm_state == "active":
        return ("cold" if active == "cold" else "live"), ""
    if vm_state == "paused":
        return "live", ""
    if vm_state == "stopped":
        if stopped == "skip":
            return "", "It is shut off, and this run leaves shut-off instances in place."
        return "cold", ""
    return "", f"Nova cannot move an instance that is {server.get('status')}."


def moved(job: dict[str, Any]) -> int:
    """How many instances the job moved (to their new host, or waiting there to be confirmed)."""
    report = job.get("report") or {}
    return int(report.get("moved", 0)) + int(report.get("verify", 0))


def finish(module: AnsibleModule, job: dict[str, Any], changed: bool, **extra: Any) -> None:
    """exit_json with the job and its report, or fail_json when the job failed or was
    cancelled (changed still says whether anything was done before it ended)."""
    result = {"changed": changed, "operation": job, "report": job.get("report"), **extra}
    if job["state"] in ("failed", "cancelled"):
        error = job.get("error") or job.get("step") or job["state"]
        module.fail_json(msg=f"The portal's job {job['id']} {job['state']}: {error}", **result)
    module.exit_json(msg=job.get("step") or job["state"], **result)
