"""Delivery of issued boletos to the customer.

The hand-off is the seam between issuing and sending: the generator records each new boleto as
``pending`` and, after its batch commits, queues it here. Sending itself (email with the PDF
through anymail) is built on this seam; until then the hand-off only records that the boleto
reached the delivery queue. A boleto whose hand-off was lost (broker down at commit) stays
``pending`` and is picked up again by the delivery sweeper.
"""

from django.utils import timezone

from billing.models import Boleto
from portal.queue import enqueue_on_commit


def delivery_hand_off_on_commit(boleto_ids_by_merchant: dict[int, list[int]]) -> None:
    """Queue the boletos for delivery once the current transaction commits (one message per
    merchant and batch)."""
    from notifications.tasks import delivery_hand_off_task

    for merchant_id, boleto_ids in boleto_ids_by_merchant.items():
        enqueue_on_commit(delivery_hand_off_task, merchant_id=merchant_id, boleto_ids=boleto_ids)


def delivery_hand_off(*, merchant_id: int, boleto_ids: list[int]) -> int:
    """Record that pending boletos reached the delivery queue and have their PDFs rendered by
    the workers. Safe to run twice (status guard; rendering is idempotent)."""
    from billing.tasks import boleto_render_pdf_task

    pending = Boleto.objects.for_merchant(merchant_id).filter(
        pk__in=boleto_ids,
        status=Boleto.Status.ISSUED,
        delivery_status=Boleto.DeliveryStatus.PENDING,
    )
    ids = list(pending.values_list("pk", flat=True))
    now = timezone.now()
    updated = pending.filter(pk__in=ids).update(
        delivery_status=Boleto.DeliveryStatus.QUEUED, handed_off_at=now, updated_at=now
    )
    for boleto_id in ids:
        enqueue_on_commit(boleto_render_pdf_task, merchant_id=merchant_id, boleto_id=boleto_id)
    return updated
