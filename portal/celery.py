"""The Celery app. Broker: Redis when REDIS_URL is set, else kombu's SQLAlchemy transport on a
SQLite file in the state folder. Tasks live in each app's tasks.py."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("stackdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _reap_on_start(**_: object) -> None:
    """A worker that starts after a crash picks up what the dead one left running."""
    from portal.tasks import reap_operations

    reap_operations.delay()
