"""Delivery of issued boletos to the customer.

The hand-off is the seam between issuing and sending: the generator records each new boleto as
``pending`` and, after its batch commits, queues it here. The hand-off marks them ``queued``
and queues one send task per boleto (notifications/sending.py). A boleto whose hand-off was
lost (broker down at commit) stays ``pending`` ("Aguardando envio") until ``delivery_sweep``
(a beat job every 5 minutes) hands it off again.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from billing.models import Boleto
from portal.queue import enqueue_on_commit

logger = logging.getLogger(__name__)


def delivery_hand_off_on_commit(boleto_ids_by_merchant: dict[int, list[int]]) -> None:
    """Queue the boletos for delivery once the current transaction commits (one message per
    merchant and batch)."""
    from notifications.tasks import delivery_hand_off_task

    for merchant_id, boleto_ids in boleto_ids_by_merchant.items():
        enqueue_on_commit(delivery_hand_off_task, merchant_id=merchant_id, boleto_ids=boleto_ids)


def delivery_hand_off(*, merchant_id: int, boleto_ids: list[int]) -> int:
    """Record that pending boletos reached the delivery queue and queue one send per boleto
    (the send renders and stores the PDF). Safe to run twice (status guards)."""
    from notifications.tasks import boleto_send_task

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
        enqueue_on_commit(boleto_send_task, merchant_id=merchant_id, boleto_id=boleto_id)
    return updated


def email_event_process(*, email_event_id: int) -> None:
    """Classify a stored tracking event, apply it (notifications/policy.py) and record the
    outcome. Safe to run twice: a processed event is left alone."""
    from anymail.signals import AnymailTrackingEvent

    from notifications.classifier import classify
    from notifications.models import EmailEvent
    from notifications.policy import email_event_apply

    with transaction.atomic():
        stored = EmailEvent.objects.select_for_update().get(pk=email_event_id)
        if stored.processed_at is not None:
            return
        stored.attempts += 1
        event = AnymailTrackingEvent(
            event_type=stored.event_type,
            reject_reason=stored.reject_reason or None,
            esp_event=stored.raw,
            description=stored.description or None,
            mta_response=stored.mta_response or None,
            recipient=stored.recipient or None,
            message_id=stored.message_id or None,
            timestamp=stored.esp_timestamp,
            event_id=stored.event_id or None,
        )
        verdict = classify(event, esp_name=stored.esp_name)
        stored.action = verdict.action
        stored.cause = verdict.cause
        stored.smtp_code = verdict.smtp_code[:10]
        stored.enhanced_status = verdict.enhanced_status[:10]
        stored.diagnostic = verdict.diagnostic[:500]
        stored.outcome = email_event_apply(stored)
        stored.processed_at = timezone.now()
        stored.save()


def merchant_alert_email(*, alert_id: int) -> bool:
    """Email an alert (deactivation, or a first delivery failure being retried) to the
    merchant's alert address, once."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation
    from django.utils.formats import date_format

    from notifications.models import MerchantAlert
    from portal.templatetags.money import format_brl
    from schedules.models import DeactivationCause

    with transaction.atomic():
        alert = (
            MerchantAlert.objects.select_for_update(of=("self",))
            .select_related("merchant", "schedule__customer", "boleto")
            .get(pk=alert_id)
        )
        if alert.emailed_at is not None:
            return False
        schedule, boleto, base = alert.schedule, alert.boleto, settings.PORTAL_BASE_URL
        with translation.override("pt-br"):
            context = {
                "merchant": alert.merchant,
                "schedule": schedule,
                "customer": schedule.customer,
                "boleto": boleto,
                "due_date": date_format(boleto.due_date, "SHORT_DATE_FORMAT") if boleto else "",
                "amount": format_brl(boleto.amount) if boleto else "",
                "cause": DeactivationCause(alert.cause).label if alert.cause else "",
                "diagnostic": alert.diagnostic,
                "schedule_url": base + schedule.get_absolute_url(),
                "pdf_url": base + reverse("billing:boleto_pdf", args=[boleto.pk]) if boleto else "",
            }
            context["warning"] = alert.kind == MerchantAlert.Kind.DELIVERY_FAILING
            if context["warning"]:
                subject = translation.gettext(
                    "Boleto do agendamento nº %(number)s não entregue: %(cause)s"
                )
            else:
                subject = translation.gettext("Agendamento nº %(number)s desativado: %(cause)s")
            subject = subject % {"number": schedule.number, "cause": context["cause"]}
            text = render_to_string("emails/merchant_alert.txt", context)
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[alert.merchant.alert_email]
        )
        message.send()
        alert.emailed_at = timezone.now()
        alert.save(update_fields=["emailed_at"])
    return True


STUCK_PENDING_AFTER = timedelta(minutes=10)
STUCK_QUEUED_AFTER = timedelta(hours=1)
UNPROCESSED_EVENT_AFTER = timedelta(minutes=5)
NOT_DELIVERED_AFTER = timedelta(hours=24)


def delivery_sweep(*, now=None) -> dict[str, int]:
    """Nothing is lost silently: hand off boletos whose hand-off never ran (broker down at
    commit), re-queue sends that never happened, re-run events whose processing failed, and log
    emails still without a delivery event a day after sending. Every step is idempotent."""
    from notifications.models import EmailEvent, OutboundEmail
    from notifications.tasks import boleto_send_task, email_event_process_task

    now = now or timezone.now()
    pending: dict[int, list[int]] = {}
    for merchant_id, boleto_id in Boleto.objects.filter(
        status=Boleto.Status.ISSUED,
        delivery_status=Boleto.DeliveryStatus.PENDING,
        issued_at__lt=now - STUCK_PENDING_AFTER,
    ).values_list("merchant_id", "pk")[:10_000]:
        pending.setdefault(merchant_id, []).append(boleto_id)
    for merchant_id, boleto_ids in pending.items():
        delivery_hand_off(merchant_id=merchant_id, boleto_ids=boleto_ids)

    stuck = Boleto.objects.filter(
        status=Boleto.Status.ISSUED,
        delivery_status=Boleto.DeliveryStatus.QUEUED,
        handed_off_at__lt=now - STUCK_QUEUED_AFTER,
        updated_at__lt=now - STUCK_QUEUED_AFTER,
    ).values_list("merchant_id", "pk")[:10_000]
    for merchant_id, boleto_id in stuck:
        enqueue_on_commit(boleto_send_task, merchant_id=merchant_id, boleto_id=boleto_id)

    unprocessed = EmailEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=now - UNPROCESSED_EVENT_AFTER
    ).values_list("pk", flat=True)[:10_000]
    for email_event_id in unprocessed:
        enqueue_on_commit(email_event_process_task, email_event_id=email_event_id)

    silent = OutboundEmail.objects.filter(
        state=0, sent_at__lt=now - NOT_DELIVERED_AFTER, boleto__delivery_status="sent"
    ).count()
    if silent:
        logger.warning("%d boleto emails without any delivery event after 24 h", silent)
    result = {
        "handed_off": sum(len(ids) for ids in pending.values()),
        "requeued": len(stuck),
        "events": len(unprocessed),
        "silent": silent,
    }
    logger.info("delivery sweep %s", result)
    return result
