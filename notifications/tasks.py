from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.db import InterfaceError, OperationalError

from notifications.alerts import merchant_alert_email, ops_alert
from notifications.delivery import (
    delivery_hand_off,
    delivery_retries_send,
    delivery_sweep,
    email_event_process,
    email_events_drain,
    email_events_rematch,
)
from notifications.sending import boleto_send

# Idempotent tasks (a second run changes nothing: status guards and row locks) are acknowledged
# only when they finish, and given back to the broker when the worker process running them dies
# (kill -9, out of memory): another worker runs them again at once, or after the broker's
# visibility timeout when the whole worker died (settings, CELERY_BROKER_TRANSPORT_OPTIONS),
# instead of waiting an hour for the delivery sweeper.
IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(ignore_result=True, **IDEMPOTENT)
def delivery_hand_off_task(*, merchant_id: int, boleto_ids: list[int]) -> int:
    return delivery_hand_off(merchant_id=merchant_id, boleto_ids=boleto_ids)


@shared_task(ignore_result=True, **IDEMPOTENT)
def delivery_hand_off_batch_task(*, batch: list[list]) -> int:
    """One generator batch: ``[[merchant_id, [boleto_id, ...]], ...]``, handed off per merchant."""
    return sum(
        delivery_hand_off(merchant_id=merchant_id, boleto_ids=boleto_ids)
        for merchant_id, boleto_ids in batch
    )


@shared_task(
    ignore_result=True,
    # ESP outages, SMTP errors (OSError) and a lost database connection (a PostgreSQL restart:
    # the retry gets a fresh one, portal/celery.py) are retried with backoff; the send is
    # idempotent. The longest wait (10 min) stays under the broker's visibility timeout, so a
    # waiting retry is never handed to a second worker.
    autoretry_for=(AnymailAPIError, OSError, InterfaceError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=10 * 60,
    max_retries=10,
    **IDEMPOTENT,
)
def boleto_send_task(*, merchant_id: int, boleto_id: int) -> None:
    boleto_send(merchant_id=merchant_id, boleto_id=boleto_id)


@shared_task(
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
    **IDEMPOTENT,
)
def email_event_process_task(*, email_event_id: int) -> None:
    """One event (messages queued before the inbox drain existed; the drain does the rest)."""
    email_event_process(email_event_id=email_event_id)


@shared_task(ignore_result=True, **IDEMPOTENT)
def email_events_drain_task() -> dict:
    """Process every pending webhook event: queued by the inbox's kick (at most one waiting at a
    time) and by beat every INBOX_DRAIN_INTERVAL seconds (the safety net)."""
    return email_events_drain()


@shared_task(
    ignore_result=True, autoretry_for=(AnymailAPIError, OSError), retry_backoff=30, **IDEMPOTENT
)
def merchant_alert_email_task(*, alert_id: int) -> None:
    merchant_alert_email(alert_id=alert_id)


@shared_task(ignore_result=True)
def delivery_sweep_task() -> dict:
    return delivery_sweep()


@shared_task(ignore_result=True, **IDEMPOTENT)
def delivery_retries_send_task() -> int:
    """Beat, every minute: send the retries whose time has come."""
    return delivery_retries_send()


@shared_task(ignore_result=True, **IDEMPOTENT)
def email_events_rematch_task() -> dict:
    """Beat, every minute: match again the events that arrived before their email's row."""
    return email_events_rematch()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def ops_alert_task(**kwargs) -> bool:
    return ops_alert(**kwargs)


# Registered here by importing them (Celery discovers notifications.tasks only).
from notifications.tickets.tasks import (  # noqa: E402, F401
    ticket_message_notify_task,
    ticket_notify_sweep_task,
)
