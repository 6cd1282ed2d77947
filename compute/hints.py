"""Plain-language hints beside OpenStack's own words.

A fault or a refusal is always shown with Nova's (or Neutron's, Cinder's) message as it is;
the hint below it says what it means for a tenant and what to try. The patterns are the
stable beginnings of the messages the services send.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.errors import CloudError

HINTS: tuple[tuple[str, str | Promise], ...] = (
    (
        "no valid host was found",
        _(
            "No compute host has room for this flavor right now. Try a smaller flavor, "
            "or ask an administrator for capacity."
        ),
    ),
    (
        "exceeded maximum number of retries",
        _(
            "The cloud tried several hosts and none could start the instance. Delete it and "
            "try again later, or ask an administrator."
        ),
    ),
    (
        "exceeds allowed",  # Cinder: "... exceeds allowed gigabytes quota"
        _(
            "Your project has used up its quota. Delete resources you no longer need, or ask "
            "an administrator to raise the quota."
        ),
    ),
    (
        "quota exceeded",
        _(
            "Your project has used up its quota. Delete resources you no longer need, or ask "
            "an administrator to raise the quota."
        ),
    ),
    (
        "is locked",
        _("The instance is locked. Unlock it first, then try again."),
    ),
    (
        "while it is in",
        _(
            "The instance is busy or in a state that does not allow this. Wait until its "
            "status settles, then try again."
        ),
    ),
    (
        "policy doesn't allow",
        _("Your role in this project does not allow this. Ask a project member or an admin."),
    ),
    (
        "is too small for requested image",
        _("The flavor's disk is smaller than the image needs. Choose a larger flavor."),
    ),
    (
        "flavor's memory is too small",
        _("The flavor has less memory than the image needs. Choose a larger flavor."),
    ),
    (
        "multiple possible networks found",
        _("The project has several networks. Choose the network the instance should use."),
    ),
    (
        "no more ip addresses available",
        _("The network's subnet has no free address. Choose another network."),
    ),
    (
        "external network",
        _("There is no floating IP left, or the external network cannot be reached."),
    ),
    (
        "did not finish being created",
        _("The boot volume could not be created in time. Check the volume's status."),
    ),
    (
        "unable to associate floating ip",
        _("The floating IP needs a router between the instance's network and the outside."),
    ),
)


def hint_for(message: str) -> str | Promise:
    """The hint for an OpenStack message, or "" when there is nothing useful to add."""
    lowered = message.lower()
    for pattern, hint in HINTS:
        if pattern in lowered:
            return hint
    return ""


def explain(exc: CloudError) -> str:
    """OpenStack's reason followed by the hint, for a message or a form error."""
    hint = hint_for(exc.message)
    if not hint and exc.status == 403:
        hint = hint_for("policy doesn't allow")
    return f"{exc.message} {hint}".strip() if hint else exc.message
