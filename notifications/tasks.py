from anymail.exceptions import AnymailAPIError
from celery import shared_task

from notifications.sending import boleto_send
from notifications.services import (
    delivery_hand_off,
    delivery_sweep,
    email_event_process,
    merchant_alert_email,
)


@shared_task(ignore_result=True)
def delivery_hand_off_task(*, merchant_id: int, boleto_ids: list[int]) -> int:
    return delivery_hand_off(merchant_id=merchant_id, boleto_ids=boleto_ids)


@shared_task(
    ignore_result=True,
    # ESP outages and SMTP errors (OSError) are retried with backoff; the send is idempotent.
    autoretry_for=(AnymailAPIError, OSError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=8,
)
def boleto_send_task(*, merchant_id: int, boleto_id: int) -> None:
    boleto_send(merchant_id=merchant_id, boleto_id=boleto_id)


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def email_event_process_task(*, email_event_id: int) -> None:
    email_event_process(email_event_id=email_event_id)


@shared_task(ignore_result=True, autoretry_for=(AnymailAPIError, OSError), retry_backoff=30)
def merchant_alert_email_task(*, alert_id: int) -> None:
    merchant_alert_email(alert_id=alert_id)


@shared_task(ignore_result=True)
def delivery_sweep_task() -> dict:
    return delivery_sweep()
