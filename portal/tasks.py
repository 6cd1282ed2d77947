from celery import shared_task

from portal.operations import reap_stale_operations


@shared_task(ignore_result=True)
def reap_operations() -> list[int]:
    return reap_stale_operations()
