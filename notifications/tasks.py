from celery import shared_task

from notifications.services import delivery_hand_off, email_event_process


@shared_task(ignore_result=True)
def delivery_hand_off_task(*, merchant_id: int, boleto_ids: list[int]) -> int:
    return delivery_hand_off(merchant_id=merchant_id, boleto_ids=boleto_ids)


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def email_event_process_task(*, email_event_id: int) -> None:
    email_event_process(email_event_id=email_event_id)
