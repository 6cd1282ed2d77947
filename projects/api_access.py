"""Project › API Access: the endpoints of the token's catalog in the portal's region, the
current token's roles and expiry, and a clouds.yaml entry and an openrc for the signed-in
user and project to download.

Nothing here calls OpenStack: the catalog comes with the token (the sealed body the session
keeps, the same document portal/cloud.py builds the user's connection from), the roles and
expiry from the session's Identity. The downloads hold no password and no token: the
clouds.yaml entry leaves the password out, the openrc asks for it when sourced.
"""

from __future__ import annotations

import shlex
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from portal import cloud
from portal.identity import Identity, PortalRequest, login_required, me, session_credential
from portal.refs import CatalogEndpoint
from projects.views import clouds_yaml

CLOUDS_YAML_NOTE = (
    "# From Stackdesk, without your password: add `password: ...` under auth (or in\n"
    "# secure.yaml), then use it with `openstack --os-cloud NAME` or openstacksdk.\n"
)


def catalog_endpoints(body: dict[str, Any], region: str | None) -> list[CatalogEndpoint]:
    """The token document's catalog ({"token": {"catalog": [...]}}), in `region` only when
    the portal's cloud names one (a catalog may list several regions)."""
    found = [
        CatalogEndpoint(
            service_type=str(service.get("type", "")),
            service_name=str(service.get("name", "")),
            interface=str(e.get("interface", "")),
            region=str(e.get("region_id") or e.get("region") or ""),
            url=str(e.get("url", "")),
        )
        for service in (body.get("token") or {}).get("catalog") or []
        for e in service.get("endpoints") or []
    ]
    if region:
        found = [e for e in found if e.region == region]
    return sorted(found, key=lambda e: (e.service_type, e.interface, e.url))


def _project_domain(identity: Identity) -> str:
    return next((p.domain_id for p in identity.projects if p.id == identity.project_id), "")


def password_auth(identity: Identity) -> dict[str, str]:
    """Who signs in, as clouds.yaml's auth section says it (no password)."""
    auth = {
        "username": identity.user_name,
        "user_domain_name": identity.user_domain,
        "project_id": identity.project_id,
        "project_name": identity.project_name,
    }
    if domain := _project_domain(identity):
        auth["project_domain_id"] = domain
    return auth


def openrc(identity: Identity, where: cloud.Cloud) -> str:
    """A bash file to source: the OS_* variables, and the password read from the terminal
    (read -sr: not echoed, not stored). Every value is shell-quoted: names are the user's."""
    exports = {
        "OS_AUTH_URL": where.auth_url,
        "OS_AUTH_TYPE": "password",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": identity.user_name,
        "OS_USER_DOMAIN_NAME": identity.user_domain,
        "OS_PROJECT_ID": identity.project_id,
        "OS_PROJECT_NAME": identity.project_name,
        "OS_PROJECT_DOMAIN_ID": _project_domain(identity),
        "OS_REGION_NAME": where.region_name or "",
        "OS_INTERFACE": where.interface,
    }
    lines = [
        "#!/usr/bin/env bash",
        "# OpenStack command-line credentials from Stackdesk. Use: source this file.",
        "# It holds no password: it asks for yours and keeps it in this shell only.",
        # Left over from another openrc or clouds.yaml entry they would win over these.
        "unset OS_CLOUD OS_TOKEN OS_TENANT_ID OS_TENANT_NAME OS_PASSWORD",
        "unset OS_APPLICATION_CREDENTIAL_ID OS_APPLICATION_CREDENTIAL_SECRET",
    ]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in exports.items() if v]
    lines += [
        # The prompt on stderr: it is seen even when the caller's output is redirected.
        'printf "Password for %s in project %s: " "$OS_USERNAME" "$OS_PROJECT_NAME" >&2',
        "read -sr OS_PASSWORD",
        "echo >&2",
        "export OS_PASSWORD",
    ]
    return "\n".join(lines) + "\n"


def _attachment(content: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    response["Cache-Control"] = "no-store"  # who signs in where: not for shared caches
    return response


@require_GET
@login_required
def api_access(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    where = cloud.find_cloud(identity.cloud_key)
    body = session_credential(request)["body"]
    context = {
        "endpoints": catalog_endpoints(body, where.region_name),
        "identity": identity,
        "where": where,
    }
    return render(request, "projects/api_access.html", context)


@require_GET
@login_required
def download_clouds_yaml(request: PortalRequest) -> HttpResponse:
    content = CLOUDS_YAML_NOTE + clouds_yaml(request, password_auth(me(request)), "password")
    return _attachment(content, "clouds.yaml", "application/yaml; charset=utf-8")


@require_GET
@login_required
def download_openrc(request: PortalRequest) -> HttpResponse:
    identity = me(request)
    content = openrc(identity, cloud.find_cloud(identity.cloud_key))
    filename = f"{identity.project_name}-openrc.sh"
    return _attachment(content, filename, "text/x-shellscript; charset=utf-8")
