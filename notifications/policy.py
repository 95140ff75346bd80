"""What a classified delivery event does to its boleto and schedule (product.md, Delivery).

Applied under the schedule's row lock, per message and monotonically: an event only moves its
email's state up (sent < deferred < delivered < soft failure < hard failure < complaint), so
duplicates and out-of-order events change nothing twice. A permanent failure deactivates the
schedule only when the email was sent in the schedule's current epoch, to its current address,
and the schedule is active (email-delivery.md §5.3); otherwise it is kept on the timeline only.

A transient failure of the latest attempt is retried by us (settings.DELIVERY_RETRY_DELAYS);
the merchant is warned at the first one, and the schedule is deactivated with that cause only
when the last attempt fails too. Failures on our side never deactivate anything.
"""

import logging

from django.conf import settings
from django.db import transaction

from billing.models import Boleto
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from portal.queue import enqueue_on_commit
from schedules.models import Schedule, ScheduleStatus
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
    event.outbound_email = outbound  # saved by the caller with the outcome
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
        if rank is None:
            return EmailEvent.Outcome.RECORDED
        if rank <= outbound.state:
            return EmailEvent.Outcome.STALE
        outbound.state = rank
        outbound.last_event_at = event.esp_timestamp or event.received_at
        outbound.save(update_fields=["state", "last_event_at"])
        boleto = Boleto.objects.select_for_update().get(pk=outbound.boleto_id)
        if rank == DELIVERED:
            boleto.delivery_status = Boleto.DeliveryStatus.DELIVERED
            boleto.save(update_fields=["delivery_status", "updated_at"])
            return EmailEvent.Outcome.APPLIED
        current = (
            outbound.schedule_epoch == schedule.epoch
            and outbound.recipient.lower() == schedule.customer.email.lower()
        )
        if rank == SOFT and current and schedule.status == ScheduleStatus.ACTIVE:
            latest = not OutboundEmail.objects.filter(
                boleto=boleto, schedule_epoch=outbound.schedule_epoch, attempt__gt=outbound.attempt
            ).exists()
            retries = settings.DELIVERY_RETRY_DELAYS
            if latest and outbound.attempt <= len(retries):
                _retry(boleto=boleto, outbound=outbound, delay=retries[outbound.attempt - 1])
                if outbound.attempt == 1:
                    _alert(schedule, boleto, event, kind=MerchantAlert.Kind.DELIVERY_FAILING)
                return EmailEvent.Outcome.APPLIED
            if not latest:
                return EmailEvent.Outcome.APPLIED
        if rank >= SOFT:
            boleto.delivery_status = Boleto.DeliveryStatus.UNDELIVERED
            boleto.save(update_fields=["delivery_status", "updated_at"])
            if current and schedule_deactivate(
                schedule=schedule,
                cause=event.cause or "other",
                boleto_id=boleto.pk,
                email_event_id=event.pk,
                diagnostic=event.diagnostic,
            ):
                _alert(schedule, boleto, event, kind=MerchantAlert.Kind.DEACTIVATED)
                logger.info(
                    "schedule deactivated merchant=%s schedule=%s cause=%s",
                    schedule.merchant_id,
                    schedule.number,
                    event.cause,
                )
    return EmailEvent.Outcome.APPLIED


def _retry(*, boleto: Boleto, outbound: OutboundEmail, delay: int) -> None:
    from notifications.tasks import boleto_send_task

    boleto.delivery_status = Boleto.DeliveryStatus.QUEUED
    boleto.save(update_fields=["delivery_status", "updated_at"])
    enqueue_on_commit(
        boleto_send_task, countdown=delay, merchant_id=boleto.merchant_id, boleto_id=boleto.pk
    )
    logger.info(
        "transient failure, retrying boleto=%s attempt=%s in %ss",
        boleto.pk,
        outbound.attempt + 1,
        delay,
    )


def _alert(schedule: Schedule, boleto: Boleto, event: EmailEvent, *, kind: str) -> None:
    from notifications.tasks import merchant_alert_email_task

    alert, created = MerchantAlert.objects.get_or_create(
        schedule=schedule,
        kind=kind,
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
