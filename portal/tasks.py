import logging
import time

from celery import shared_task
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal.audit import purge_old_records
from portal.crypto import unseal
from portal.errors import CloudUnavailable, Rejected
from portal.identity import (
    SESSION_CONFIRMED,
    SESSION_CREDENTIAL,
    SESSION_IDENTITY,
    WATCHED_INTERVALS,
    watch_token,
)
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
    in_use = time.time() - WATCHED_INTERVALS * settings.STACKDESK_TOKEN_RECHECK_SECONDS
    away: set[str] = set()  # clouds whose Keystone did not answer: not asked again this round
    asked = 0
    for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        session = row.get_decoded()
        identity = session.get(SESSION_IDENTITY)
        credential = unseal(session.get(SESSION_CREDENTIAL, ""))
        if not identity or credential is None or session.get(SESSION_CONFIRMED, 0.0) < in_use:
            continue  # not signed in, or idle: its next view asks Keystone itself
        if identity["cloud_key"] in away:
            continue
        try:
            watch_token(identity["cloud_key"], credential["token"])
        except CloudUnavailable as exc:
            logger.warning("sessions of %s not confirmed: %s", identity["cloud_key"], exc)
            away.add(identity["cloud_key"])
            continue
        except Rejected as exc:  # an unexpected 4xx: this session's views ask Keystone inline
            logger.warning("a session of %s not confirmed: %s", identity["cloud_key"], exc)
            continue
        asked += 1
    return asked
