"""Enqueueing Celery tasks after commit without letting a broker outage break the caller.

A message that could not be published is logged and its work stays visible in the database:
the generator's beat run re-issues what a schedule still owes, and a boleto left ``pending`` is
for the delivery sweeper to queue again.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *, countdown: int | None = None, **kwargs) -> None:
    def publish():
        try:
            task.apply_async(kwargs=kwargs, countdown=countdown)
        except Exception:
            logger.exception(
                "could not queue %s %s; a periodic sweep will retry", task.name, kwargs
            )

    transaction.on_commit(publish)
