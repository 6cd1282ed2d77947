"""Show as code: beside each form that changes the cloud, the `openstack` command and the
Ansible task that do the same, with the values typed so far.

Each domain app writes its own in `<app>/as_code.py`: one function per form, registered under
the form view's URL name, taking what was typed (a `Draft`) and the URL's arguments:

    @writes("volumes:create-volume")
    def create_volume(draft: Draft) -> Code:
        name = draft.need("name")
        return Code(
            commands=(draft.openstack("volume create", name, size=draft.number("size")),),
            tasks=(draft.task("volume", _("Create the volume"), name=name, size=...),),
        )

A writer calls nothing: the panel costs no OpenStack call and shows nothing the user did not
type or the URL does not name. A secret never appears: a `Draft` hands out no field the audit
log keeps out (password, secret, token...), the panel's requests do not send them, and the
commands name the clouds.yaml entry API Access downloads (`--os-cloud`, `cloud:`), never a
credential. The portal's own jobs (drain, evacuate, bulk quotas...) have no `openstack`
command: their shell is a call of the portal's JSON API and their task the stackdesk.portal
module.

The panel (portal/templates/portal/as_code.html, `{% show_as_code %}` in a form) renders the
writer of the view that drew the form; typing asks `portal:show-as-code` again for it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.forms import BaseForm
from django.http import QueryDict

from portal import cloud
from portal.audit import is_secret
from portal.identity import PortalRequest, me

Writer = Callable[..., "Code"]
WRITERS: dict[str, Writer] = {}

# Changes that are the portal's own, not the cloud's: nothing to show as code.
NOT_CLOUD_CHANGES = frozenset(
    {
        "portal:home",
        "portal:healthz",
        "portal:sign-in",
        "portal:sign-out",
        "portal:choose-project",
        "portal:switch-project",
        "portal:update-preferences",
        "portal:cancel-operation",
        "set_language",
        "projects:set-domain-context",
        "projects:clear-domain-context",
        "projects:refresh-project-counts",
        "images:receive-chunk",
        "images:resume-upload",
        "images:cancel-upload",
        "api:cancel-operation",
    }
)


def writes(*view_names: str) -> Callable[[Writer], Writer]:
    """Register `writer` as the code of the forms of these URL names."""

    def register(writer: Writer) -> Writer:
        for name in view_names:
            if name in WRITERS:
                raise ValueError(f"two writers for {name}")
            WRITERS[name] = writer
        return writer

    return register


def shown_for(
    request: PortalRequest, view_name: str, kwargs: dict[str, Any], fields: dict[str, list[str]]
) -> Shown | None:
    """The panel of the form of `view_name` (its URL's arguments `kwargs`), or None when that
    form has no code."""
    writer = WRITERS.get(view_name)
    if writer is None:
        return None
    where = cloud.find_cloud(me(request).cloud_key)
    draft = Draft(fields=fields, cloud=where.name, portal=request.build_absolute_uri("/"))
    return show(writer(draft, **kwargs))


Option = str | int | bool | None | list[str] | tuple[str, ...]


def placeholder(name: str) -> str:
    return f"<{name.replace('_', '-')}>"


@dataclass(frozen=True)
class Draft:
    """A form as typed so far, and where its commands go: `cloud`, the clouds.yaml entry;
    `portal`, the portal's address (its API is under `portal` + api/v1/)."""

    fields: Mapping[str, list[str]]
    cloud: str
    portal: str

    def text(self, name: str) -> str:
        """The field as typed (stripped), "" when absent, empty or secret."""
        if is_secret(name):
            return ""
        values = self.fields.get(name) or [""]
        return values[-1].strip()

    def need(self, name: str) -> str:
        """The field, or a placeholder `<name>` where the command needs one."""
        return self.text(name) or placeholder(name)

    def all(self, name: str) -> list[str]:
        """Every value of a multiple field (checkboxes, a multiple select), in order."""
        if is_secret(name):
            return []
        return [v.strip() for v in self.fields.get(name) or [] if v.strip()]

    def flag(self, name: str) -> bool:
        """A checkbox: ticked (sent as on/true/1/yes)."""
        return self.text(name).lower() in {"on", "true", "1", "yes"}

    def number(self, name: str) -> int | str:
        """A whole number as typed, or the placeholder while it is none."""
        text = self.text(name)
        try:
            return int(text)
        except ValueError:
            return placeholder(name)

    def openstack(self, words: str, *arguments: str, **options: Option) -> str:
        """`openstack --os-cloud CLOUD <words> --option value... <arguments>`, shell-quoted.
        An option None, False or "" is left out, True is a bare flag, a list repeats it;
        `some_option` is written `--some-option`."""
        argv = ["openstack", "--os-cloud", self.cloud, *words.split()]
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif isinstance(value, list | tuple):
                for item in value:
                    argv += [flag, str(item)]
            elif value is not None and value is not False and value != "":  # 0 is a value
                argv += [flag, str(value)]
        argv += [a for a in arguments if a]
        return shlex.join(argv)

    def task(self, module: str, title: str, **params: Any) -> dict[str, Any]:
        """One Ansible task of `openstack.cloud.<module>` (or a module named in full, such as
        stackdesk.portal.drain_host); a parameter None is left out."""
        name = module if "." in module else f"openstack.cloud.{module}"
        args: dict[str, Any] = {"cloud": self.cloud}
        if name.startswith("stackdesk.portal."):
            args["portal_url"] = self.portal
        args |= {k: v for k, v in params.items() if v is not None}
        return {"name": str(title), name: args}

    def portal_api(self, method: str, path: str, body: dict[str, Any] | None = None) -> str:
        """The portal's JSON API (docs/api.md) with a token of the same clouds.yaml entry:
        two lines, the token into $TOKEN, then curl."""
        token = ["openstack", "--os-cloud", self.cloud, "token", "issue", "-f", "value", "-c", "id"]
        words = [shlex.quote(w) for w in ("curl", "-sS", "--fail-with-body", "-X", method)]
        words += ["-H", '"X-Auth-Token: $TOKEN"']  # the one word the shell fills in
        if body is not None:
            words += ["-H", shlex.quote("Content-Type: application/json")]
            words += ["-d", shlex.quote(json.dumps(body))]
        words.append(shlex.quote(f"{self.portal}api/v1/{path}"))
        return f"TOKEN=$({shlex.join(token)})\n{' '.join(words)}"


@dataclass(frozen=True)
class Code:
    """What a form does, as shell commands and as Ansible tasks."""

    commands: tuple[str, ...] = ()
    tasks: tuple[dict[str, Any], ...] = ()
    note: str = field(default="")


@dataclass(frozen=True)
class Shown:
    commands: str
    playbook: str
    note: str


def show(code: Code) -> Shown:
    playbook = yaml.safe_dump(
        list(code.tasks), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return Shown(
        commands="\n".join(code.commands), playbook=playbook if code.tasks else "", note=code.note
    )


def draft_of_form(form: BaseForm) -> dict[str, list[str]]:
    """The fields of a form as the browser would send them: the data of a bound form, the
    initial values of a new one."""
    if form.is_bound:
        data = form.data
        if isinstance(data, QueryDict):
            return {name: data.getlist(name) for name in data}
        return {
            k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in data.items()
        }
    fields: dict[str, list[str]] = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            fields[bound.html_name] = ["on"]
        elif isinstance(value, list | tuple):
            fields[bound.html_name] = [str(v) for v in value]
        else:
            fields[bound.html_name] = [str(value)]
    return fields
