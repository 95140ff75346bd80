"""Enqueueing Celery tasks after commit without letting a broker outage break the caller.

Work enqueued here is always also reachable by a periodic sweep (the generator's beat run, the
delivery sweeper), so a message that could not be published is delayed, never lost.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, **kwargs) -> None:
    def publish():
        try:
            task.delay(**kwargs)
        except Exception:
            logger.exception(
                "could not queue %s %s; a periodic sweep will retry", task.name, kwargs
            )

    transaction.on_commit(publish)
