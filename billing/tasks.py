"""billing's Celery tasks: thin, they take ids and call the services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from billing.registration import (
    registration_request,
    registrations_overdue_alert,
    registrations_sweep,
)
from billing.remessas import remessas_generate_due
from billing.retornos import retornos_inbox_collect

# Idempotent (status guards under the collection lock): acknowledged when done, given back to
# the broker when the worker dies (as notifications.tasks).
IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    ignore_result=True,
    autoretry_for=(InterfaceError, OperationalError),
    retry_backoff=30,
    max_retries=5,
    **IDEMPOTENT,
)
def registration_request_task(*, batch: list[list]) -> int:
    """Issued boletos to register where the bank answers at once (the test bank):
    ``[[merchant_id, [boleto_id, ...]], ...]``."""
    return registration_request(
        boleto_ids_by_merchant={merchant_id: ids for merchant_id, ids in batch}
    )


@shared_task(ignore_result=True, **IDEMPOTENT)
def registrations_sweep_task() -> int:
    """Beat, every 5 minutes: test-bank registrations whose task was lost."""
    return registrations_sweep()


@shared_task(ignore_result=True, **IDEMPOTENT)
def registrations_overdue_alert_task() -> int:
    """Beat, hourly: registrations still unconfirmed N business days after their remessa."""
    return registrations_overdue_alert()


@shared_task(ignore_result=True, **IDEMPOTENT)
def remessas_generate_due_task() -> int:
    """Beat, every 15 minutes: the day's scheduled remessa of file channels (BANK_REMESSA_TIME)."""
    return remessas_generate_due()


@shared_task(ignore_result=True)
def retornos_inbox_collect_task() -> int:
    """Beat, every 5 minutes: import the retornos waiting in settings.BANK_INBOX_DIR."""
    return retornos_inbox_collect()
