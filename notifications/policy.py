"""What a classified delivery event does to its boleto and schedule (product.md, Delivery).

Applied under the schedule's row lock, per message and monotonically: an event only moves its
email's state up (sent < deferred < delivered < soft failure < hard failure < complaint), so
duplicates and out-of-order events change nothing twice. A permanent failure deactivates the
schedule only when the email was sent in the schedule's current epoch, to its current address,
and the schedule is active (email-delivery.md §5.3); otherwise it is kept on the timeline only.

Not built yet: our own retries of transient failures and the deactivation after they are
exhausted (soft failures are recorded, the boleto stays as sent).
"""

import logging

from django.db import transaction

from billing.models import Boleto
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from portal.queue import enqueue_on_commit
from schedules.models import Schedule
from schedules.services import schedule_deactivate

logger = logging.getLogger(__name__)

SENT, DEFERRED, DELIVERED, SOFT, HARD, COMPLAINT = range(6)
_COMPLAINT_CAUSES = {"spam_complaint", "unsubscribed"}


def _rank(event: EmailEvent) -> int | None:
    if event.action == "deliver":
        return DELIVERED
    if event.action == "soft":
        return SOFT
    if event.action == "hard":
        return COMPLAINT if event.cause in _COMPLAINT_CAUSES else HARD
    if event.action == "record" and event.event_type == "deferred":
        return DEFERRED
    return None  # sender-side and informational events never move a message's state


def email_event_apply(event: EmailEvent) -> str:
    """Apply one stored, classified event. Returns the outcome to record on it."""
    outbound = (
        OutboundEmail.objects.filter(message_id=event.message_id)
        .exclude(message_id="")
        .filter(recipient__iexact=event.recipient)
        .first()
    )
    if outbound is None:
        return EmailEvent.Outcome.UNMATCHED
    if event.action == "sender":
        logger.error(
            "sender-side delivery failure schedule=%s boleto=%s cause=%s diagnostic=%s",
            outbound.schedule_id,
            outbound.boleto_id,
            event.cause,
            event.diagnostic,
        )
    rank = _rank(event)
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=outbound.schedule_id)
        )
        outbound = OutboundEmail.objects.select_for_update().get(pk=outbound.pk)
        if rank is None or rank <= outbound.state:
            return EmailEvent.Outcome.STALE
        outbound.state = rank
        outbound.last_event_at = event.esp_timestamp or event.received_at
        outbound.save(update_fields=["state", "last_event_at"])
        boleto = Boleto.objects.select_for_update().get(pk=outbound.boleto_id)
        if rank == DELIVERED:
            boleto.delivery_status = Boleto.DeliveryStatus.DELIVERED
            boleto.save(update_fields=["delivery_status", "updated_at"])
        elif rank >= HARD:
            boleto.delivery_status = Boleto.DeliveryStatus.UNDELIVERED
            boleto.save(update_fields=["delivery_status", "updated_at"])
            current = (
                outbound.schedule_epoch == schedule.epoch
                and outbound.recipient.lower() == schedule.customer.email.lower()
            )
            if current and schedule_deactivate(
                schedule=schedule,
                cause=event.cause or "other",
                boleto_id=boleto.pk,
                email_event_id=event.pk,
                diagnostic=event.diagnostic,
            ):
                _alert(schedule=schedule, boleto=boleto, event=event)
                logger.info(
                    "schedule deactivated merchant=%s schedule=%s cause=%s",
                    schedule.merchant_id,
                    schedule.number,
                    event.cause,
                )
    return EmailEvent.Outcome.APPLIED


def _alert(*, schedule: Schedule, boleto: Boleto, event: EmailEvent) -> None:
    from notifications.tasks import merchant_alert_email_task

    alert, created = MerchantAlert.objects.get_or_create(
        schedule=schedule,
        kind=MerchantAlert.Kind.DEACTIVATED,
        schedule_epoch=schedule.epoch,
        defaults={
            "merchant_id": schedule.merchant_id,
            "boleto": boleto,
            "cause": event.cause,
            "diagnostic": event.diagnostic,
        },
    )
    if created:
        enqueue_on_commit(merchant_alert_email_task, alert_id=alert.pk)
