from celery import shared_task

from portal.audit import purge_old_records
from portal.operations import reap_stale_operations


@shared_task(ignore_result=True)
def reap_operations() -> list[int]:
    # The beat's one housekeeping task also keeps the audit log to its retention (a delete
    # on an indexed time: nothing to do most of the time).
    purge_old_records()
    return reap_stale_operations()
