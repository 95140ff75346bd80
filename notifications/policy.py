"""What a classified delivery event does to its boleto and schedule (product.md, Delivery).

Applied under the schedule's row lock, per message and monotonically: an event only moves its
email's state up (sent < deferred < delivered < soft failure < hard failure < complaint), so
duplicates and out-of-order events change nothing twice. A permanent failure deactivates the
schedule only when the email was sent in the schedule's current epoch, to its current address,
and the schedule is active (email-delivery.md §5.3); otherwise it is kept on the timeline only.

A transient failure of the latest attempt is retried by us (settings.DELIVERY_RETRY_DELAYS: the
boleto waits as "retry" until its next_attempt_at); the merchant is warned at the first failure
of every boleto, and the schedule is deactivated with that cause only when the last attempt
fails too. Failures on our side (action ``sender``: our domain blocked,
SPF/DKIM/DMARC, content or size refused) never deactivate anything: they alert operations
(notifications.alerts.ops_alert, at most one email per cause per OPS_ALERT_INTERVAL) and log;
the boleto shows "envio atrasado — problema na plataforma".

Every decision is one log line, ``event=delivery_decision`` with ``key=value`` fields: the
event, the schedule number, the boleto, the classifier's action and cause, and the decision.
"""

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from billing.models import Boleto
from notifications.alerts import alerts_acknowledge
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from notifications.vocabulary import DeliveryAction, EmailState
from portal.logs import log_decision
from portal.queue import enqueue_on_commit
from schedules.models import DELIVERING_STATUSES, DeactivationCause, Schedule
from schedules.services import schedule_deactivate

logger = logging.getLogger(__name__)

# schedules/selectors.py imports it from here.
DELIVERED = EmailState.DELIVERED
_COMPLAINT_CAUSES = {DeactivationCause.SPAM_COMPLAINT.value, DeactivationCause.UNSUBSCRIBED.value}


def _rank(event: EmailEvent) -> EmailState | None:
    if event.action == DeliveryAction.DELIVER:
        return EmailState.DELIVERED
    if event.action == DeliveryAction.SOFT:
        return EmailState.SOFT
    if event.action == DeliveryAction.HARD:
        return EmailState.COMPLAINT if event.cause in _COMPLAINT_CAUSES else EmailState.HARD
    if event.action == DeliveryAction.RECORD and event.event_type == "deferred":
        return EmailState.DEFERRED
    return None  # sender-side and informational events never move a message's state


@dataclass(frozen=True)
class PolicyResult:
    """What the policy did with one event: the outcome recorded on the event, the decision (and
    the effect derived from it, shown on the timeline), and the facts the decision was about
    (merchant, schedule id and number, boleto, attempt; None when the event matched no email)."""

    outcome: str
    decision: str
    merchant: int | None = None
    schedule_id: int | None = None
    schedule_number: int | None = None
    boleto: int | None = None
    attempt: int | None = None
    effect: str = ""


def email_event_apply(event: EmailEvent) -> str:
    """Apply one stored, classified event. Returns the outcome to record on it; logs the
    decision (one line)."""
    result = _apply(event)
    result = replace(result, effect=_effect(event, result.decision))
    event.effect = result.effect
    log_decision(
        logger,
        "delivery_decision",
        level=logging.WARNING if result.decision in ("deactivated", "ops_alert") else logging.INFO,
        merchant=result.merchant,
        schedule_id=result.schedule_id,
        schedule_number=result.schedule_number,
        boleto=result.boleto,
        decision=result.decision,
        email_event=event.pk,
        esp=event.esp_name or None,
        event_type=event.event_type or None,
        action=event.action or None,
        cause=event.cause or None,
        status=event.enhanced_status or event.smtp_code or None,
        attempt=result.attempt,
        outcome=result.outcome,
    )
    return result.outcome


def _effect(event: EmailEvent, decision: str) -> str:
    """The effect recorded on the event (saved by the caller): the decision, except that an
    informational event naming a cause while the ESP still retries (Brevo deferred 5.1.1)
    marks the address suspect, even when an earlier deferral already moved the state."""
    if event.action == DeliveryAction.RECORD and event.cause and decision in ("deferred", "stale"):
        return EmailEvent.Effect.SUSPECT
    return decision if decision in EmailEvent.Effect.values else ""


def _apply(event: EmailEvent) -> PolicyResult:
    """Decide and apply: the outcome, the decision and the facts it was about."""
    outbound = (
        OutboundEmail.objects.filter(message_id=event.message_id)
        .exclude(message_id="")
        .filter(recipient__iexact=event.recipient)
        .first()
    )
    if outbound is None:
        return PolicyResult(EmailEvent.Outcome.UNMATCHED, "unmatched")
    event.outbound_email = outbound  # saved by the caller with the outcome
    result = partial(
        PolicyResult,
        merchant=outbound.merchant_id,
        boleto=outbound.boleto_id,
        attempt=outbound.attempt,
    )
    rank = _rank(event)
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=outbound.schedule_id)
        )
        result = partial(result, schedule_id=schedule.pk, schedule_number=schedule.number)
        outbound = OutboundEmail.objects.select_for_update().get(pk=outbound.pk)
        if event.action == DeliveryAction.SENDER:
            _ops_alert(event, outbound, schedule)
            _delayed_on_our_side(outbound)
            return result(EmailEvent.Outcome.RECORDED, "ops_alert")
        if rank is None:
            return result(EmailEvent.Outcome.RECORDED, "recorded")
        if rank <= outbound.state:
            return result(EmailEvent.Outcome.STALE, "stale")
        outbound.state = rank
        outbound.last_event_at = event.esp_timestamp or event.received_at
        outbound.save(update_fields=["state", "last_event_at"])
        boleto = Boleto.objects.select_for_update().get(pk=outbound.boleto_id)
        if rank == EmailState.DEFERRED:
            return result(EmailEvent.Outcome.APPLIED, "deferred")
        if rank == EmailState.DELIVERED:
            boleto.delivery_status = Boleto.DeliveryStatus.DELIVERED
            boleto.save(update_fields=["delivery_status", "updated_at"])
            # A "delivery not confirmed" banner about this boleto is now answered.
            alerts_acknowledge(
                merchant_id=boleto.merchant_id,
                boleto_id=boleto.pk,
                kind=MerchantAlert.Kind.DELIVERY_UNCONFIRMED,
            )
            return result(EmailEvent.Outcome.APPLIED, "delivered")
        current = (
            outbound.schedule_epoch == schedule.epoch
            and outbound.recipient.lower() == schedule.customer.email.lower()
        )
        if rank == EmailState.SOFT and current and schedule.status in DELIVERING_STATUSES:
            latest = not OutboundEmail.objects.filter(
                boleto=boleto, schedule_epoch=outbound.schedule_epoch, attempt__gt=outbound.attempt
            ).exists()
            retries = settings.DELIVERY_RETRY_DELAYS
            if latest and outbound.attempt <= len(retries):
                _retry(boleto=boleto, outbound=outbound, delay=retries[outbound.attempt - 1])
                # The first failure of every boleto (in this epoch) warns the merchant.
                if _alert(schedule, boleto, event, kind=MerchantAlert.Kind.DELIVERY_FAILING):
                    return result(EmailEvent.Outcome.APPLIED, "retry_and_warn")
                return result(EmailEvent.Outcome.APPLIED, "retry")
            if not latest:
                return result(EmailEvent.Outcome.APPLIED, "superseded_attempt")
        # rank >= EmailState.SOFT: this boleto was not delivered.
        boleto.delivery_status = Boleto.DeliveryStatus.UNDELIVERED
        boleto.save(update_fields=["delivery_status", "updated_at"])
        if not current:
            old_epoch = outbound.schedule_epoch != schedule.epoch
            return result(
                EmailEvent.Outcome.APPLIED,
                "undelivered_old_epoch" if old_epoch else "undelivered_old_address",
            )
        if schedule_deactivate(
            schedule=schedule,
            cause=event.cause or "other",
            boleto_id=boleto.pk,
            email_event_id=event.pk,
            diagnostic=event.diagnostic,
        ):
            _alert(schedule, boleto, event, kind=MerchantAlert.Kind.DEACTIVATED)
            return result(EmailEvent.Outcome.APPLIED, "deactivated")
        return result(EmailEvent.Outcome.APPLIED, "undelivered_schedule_not_active")


def _retry(*, boleto: Boleto, outbound: OutboundEmail, delay: int) -> None:
    """Record when the next attempt is due; the per-minute beat job sends it then
    (notifications.delivery.delivery_retries_send). No Celery countdown: Redis hands a message
    out again once it has waited longer than the broker's visibility timeout."""
    boleto.delivery_status = Boleto.DeliveryStatus.RETRY
    boleto.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    boleto.save(update_fields=["delivery_status", "next_attempt_at", "updated_at"])
    log_decision(
        logger,
        "delivery_retry_scheduled",
        merchant=boleto.merchant_id,
        schedule_id=boleto.schedule_id,
        boleto=boleto.pk,
        decision="retry",
        attempt=outbound.attempt + 1,
        delay_s=delay,
        due=boleto.next_attempt_at,
    )


def _delayed_on_our_side(outbound: OutboundEmail) -> None:
    """A failure on our side about the boleto's latest email: the boleto shows "envio atrasado —
    problema na plataforma" instead of "enviado" (operations are alerted; nothing is asked of
    the merchant). A delivery event, should one still come, moves it on as usual."""
    newer = OutboundEmail.objects.filter(
        boleto_id=outbound.boleto_id,
        schedule_epoch=outbound.schedule_epoch,
        attempt__gt=outbound.attempt,
    )
    sent = Boleto.objects.filter(pk=outbound.boleto_id, delivery_status=Boleto.DeliveryStatus.SENT)
    sent.exclude(Exists(newer)).update(
        delivery_status=Boleto.DeliveryStatus.DELAYED, updated_at=timezone.now()
    )


def _alert(schedule: Schedule, boleto: Boleto, event: EmailEvent, *, kind: str) -> bool:
    """Record (and email after commit) the merchant's alert, once: per schedule and epoch for a
    deactivation, per boleto and epoch for a first delivery failure. True when it is new."""
    from notifications.tasks import merchant_alert_email_task

    once = {"schedule_epoch": schedule.epoch, "kind": kind}
    if kind == MerchantAlert.Kind.DELIVERY_FAILING:
        once["boleto"] = boleto
    else:
        once["schedule"] = schedule
    alert, created = MerchantAlert.objects.get_or_create(
        **once,
        defaults={
            "merchant_id": schedule.merchant_id,
            "schedule": schedule,
            "boleto": boleto,
            "cause": event.cause,
            "diagnostic": event.diagnostic,
        },
    )
    if created:
        enqueue_on_commit(merchant_alert_email_task, alert_id=alert.pk)
        log_decision(
            logger,
            "merchant_alert",
            merchant=schedule.merchant_id,
            schedule_id=schedule.pk,
            schedule_number=schedule.number,
            boleto=boleto.pk,
            decision="alerted",
            kind=kind,
            cause=event.cause or None,
            alert=alert.pk,
        )
    return created


def _ops_alert(event: EmailEvent, outbound: OutboundEmail, schedule: Schedule) -> None:
    """A failure on our side: never touches the customer; one log line per event, and operations
    emailed after commit (throttled per cause in the task)."""
    from notifications.tasks import ops_alert_task

    log_decision(
        logger,
        "sender_side_failure",
        level=logging.ERROR,
        merchant=schedule.merchant_id,
        schedule_id=schedule.pk,
        schedule_number=schedule.number,
        boleto=outbound.boleto_id,
        decision="ops_alert",
        email_event=event.pk,
        esp=event.esp_name or None,
        cause=event.cause or None,
        status=event.enhanced_status or event.smtp_code or None,
        diagnostic=event.diagnostic,
    )
    enqueue_on_commit(
        ops_alert_task,
        cause=event.cause or "other",
        esp=event.esp_name,
        status=event.enhanced_status or event.smtp_code,
        diagnostic=event.diagnostic,
        merchant_id=schedule.merchant_id,
        schedule_number=schedule.number,
        boleto_id=outbound.boleto_id,
        email_event_id=event.pk,
    )
