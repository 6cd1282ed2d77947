import logging

from celery import shared_task

from portal.audit import purge_old_records
from portal.errors import CloudUnavailable, Rejected
from portal.identity import sessions_in_use, watch_token
from portal.operations import reap_stale_operations

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def reap_operations() -> list[int]:
    # The beat's one housekeeping task also keeps the audit log to its retention (a delete
    # on an indexed time: nothing to do most of the time).
    purge_old_records()
    return reap_stale_operations()


@shared_task(ignore_result=True)
def confirm_sessions() -> int:
    """Ask Keystone about the token of every session in use, so that page views need not
    (portal/identity.py's docstring). Takes no argument: the tokens come from the sessions'
    rows, sealed, and leave only as a hash. Returns how many tokens it asked about."""
    away: set[str] = set()  # clouds whose Keystone did not answer: not asked again this round
    asked = 0
    # Idle sessions are not asked about: their next view asks Keystone itself.
    for identity, credential in sessions_in_use():
        if identity.cloud_key in away:
            continue
        try:
            watch_token(identity.cloud_key, credential["token"])
        except CloudUnavailable as exc:
            logger.warning("sessions of %s not confirmed: %s", identity.cloud_key, exc)
            away.add(identity.cloud_key)
            continue
        except Rejected as exc:  # an unexpected 4xx: this session's views ask Keystone inline
            logger.warning("a session of %s not confirmed: %s", identity.cloud_key, exc)
            continue
        asked += 1
    return asked
