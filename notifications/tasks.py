from celery import shared_task

from notifications.services import delivery_hand_off


@shared_task(ignore_result=True)
def delivery_hand_off_task(*, merchant_id: int, boleto_ids: list[int]) -> int:
    return delivery_hand_off(merchant_id=merchant_id, boleto_ids=boleto_ids)
