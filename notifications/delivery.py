"""Delivery of issued boletos to the customer: hand-off, event processing, retries, sweep.

The hand-off is the seam between issuing and sending: the generator records each new boleto as
``pending``; once its bank confirms the registration (billing.signals.boletos_registered: at
once with the test bank, after the bank's retorno by file) it is queued here. A boleto the bank
does not know is never emailed: the hand-off and the sweep take only registered boletos. The
hand-off marks them ``queued`` and queues one send task per boleto (notifications/sending.py). A
boleto whose hand-off was lost (broker down at commit) stays ``pending`` ("Aguardando envio")
until ``delivery_sweep`` (a beat job every 5 minutes) hands it off again. Stored webhook events
are classified and applied here (the drain, the per-minute rematch); a failed send's retry is
queued here when due; the merchant's "Reenviar boleto" request starts here too.
"""

import logging
from datetime import timedelta

from anymail.signals import AnymailTrackingEvent
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from billing.models import Boleto, BoletoBank
from notifications import policy
from notifications.classifier import classify
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from notifications.vocabulary import EmailState
from portal.formats import datetime_br
from portal.logs import log_decision
from portal.queue import enqueue_on_commit
from schedules.models import DELIVERING_STATUSES, Schedule, ScheduleEvent
from schedules.services import event_record

logger = logging.getLogger(__name__)


def delivery_hand_off_on_commit(boleto_ids_by_merchant: dict[int, list[int]]) -> None:
    """Queue the boletos for delivery once the current transaction commits: one message for the
    whole batch (publishing costs ~1 ms a message; a generator batch spans ~100 merchants)."""
    # In the function: the tasks module imports this one.
    from notifications.tasks import delivery_hand_off_batch_task

    if boleto_ids_by_merchant:
        enqueue_on_commit(
            delivery_hand_off_batch_task,
            batch=[[merchant_id, ids] for merchant_id, ids in boleto_ids_by_merchant.items()],
        )


def boletos_registered_receiver(sender, *, boleto_ids_by_merchant, **kwargs) -> None:
    """billing.signals.boletos_registered (after commit): the bank knows them now; hand the
    batch to delivery."""
    delivery_hand_off_on_commit(boleto_ids_by_merchant)


def delivery_hand_off(*, merchant_id: int, boleto_ids: list[int]) -> int:
    """Record that pending boletos reached the delivery queue and queue one send per boleto
    (the send renders and stores the PDF). Only boletos registered at the bank: the others are
    left pending for their registration's hand-off. Safe to run twice (status guards)."""
    # In the function: the tasks module imports this one.
    from notifications.tasks import boleto_send_task

    pending = Boleto.objects.for_merchant(merchant_id).filter(
        pk__in=boleto_ids,
        status=Boleto.Status.ISSUED,
        delivery_status=Boleto.DeliveryStatus.PENDING,
        bank__registration_status=Boleto.Registration.REGISTERED,
    )
    ids = list(pending.values_list("pk", flat=True))
    now = timezone.now()
    updated = pending.filter(pk__in=ids).update(
        delivery_status=Boleto.DeliveryStatus.QUEUED, handed_off_at=now, updated_at=now
    )
    for boleto_id in ids:
        enqueue_on_commit(boleto_send_task, merchant_id=merchant_id, boleto_id=boleto_id)
    return updated


def _email_event_classify_apply(stored) -> None:
    """Classify one locked event, apply it (notifications/policy.py) and record the outcome on
    the row (saved)."""
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
    stored.outcome = policy.email_event_apply(stored)
    stored.processed_at = timezone.now()
    stored.error = ""
    stored.save()


def email_event_process(*, email_event_id: int) -> None:
    """Classify a stored tracking event, apply it (notifications/policy.py) and record the
    outcome. Safe to run twice: a processed event is left alone."""
    with transaction.atomic():
        stored = EmailEvent.objects.select_for_update().get(pk=email_event_id)
        if stored.processed_at is not None:
            return
        _email_event_classify_apply(stored)


# Events are processed in batches of this many, each batch one transaction (one savepoint per
# event, so one failing event does not undo the others).
DRAIN_BATCH = 50
# A failing event is retried by the periodic sweep this many times, then left ``failed`` for a
# human (the admin's inbox lists it; the error is on the row and in the log).
DRAIN_MAX_ATTEMPTS = 12


def email_events_drain(*, retry_failed: bool = False, limit: int = 20_000) -> dict[str, int]:
    """Process stored events still pending, oldest first, in batches claimed with
    ``SELECT … FOR UPDATE SKIP LOCKED``: drains running at the same time (a kick, the beat, the
    sweeper) share the rows, each row processed once. An event whose processing raises is
    rolled back to its savepoint and recorded as ``failed`` (attempts + 1, the error) — never
    lost: ``retry_failed`` drains (the delivery sweeper) try it again, up to
    DRAIN_MAX_ATTEMPTS. Returns counts."""
    done = 0
    # Processed rows leave the partial index by themselves; rows that failed in this run are
    # not tried twice by it.
    failed_ids: list[int] = []
    pending = EmailEvent.objects.filter(processed_at__isnull=True)
    pending = (
        pending.filter(attempts__lt=DRAIN_MAX_ATTEMPTS)
        if retry_failed
        else pending.filter(attempts=0)
    )
    while done + len(failed_ids) < limit:
        with transaction.atomic():
            batch = list(
                pending.exclude(pk__in=failed_ids)
                .select_for_update(skip_locked=True)
                .order_by("received_at", "pk")[:DRAIN_BATCH]
            )
            if not batch:
                break
            for stored in batch:
                try:
                    with transaction.atomic():
                        _email_event_classify_apply(stored)
                    done += 1
                except Exception as exc:
                    failed_ids.append(stored.pk)
                    attempts = stored.attempts  # incremented before the failure
                    log_decision(
                        logger,
                        "email_event_failed",
                        level=logging.ERROR,
                        exc_info=True,
                        email_event=stored.pk,
                        attempts=attempts,
                        error=type(exc).__name__,
                    )
                    EmailEvent.objects.filter(pk=stored.pk).update(
                        attempts=attempts,
                        outcome=EmailEvent.Outcome.FAILED,
                        error=f"{type(exc).__name__}: {exc}"[:2000],
                    )
    result = {"processed": done, "failed": len(failed_ids)}
    if done or failed_ids:
        log_decision(logger, "email_events_drained", processed=done, failed=len(failed_ids))
    return result


# An event that matched none of our emails may have been processed before its email's row was
# committed (a quick "dropped"/"blocked" comes back from the ESP while the send's transaction is
# still open): it is matched again every minute (email_events_rematch) for this long after it
# arrived, then left as unmatched.
UNMATCHED_RETRY_FOR = timedelta(minutes=15)


def email_events_rematch(*, now=None, limit: int = 5_000) -> dict[str, int]:
    """The per-minute beat job: apply again the events recorded ``unmatched`` in the last
    UNMATCHED_RETRY_FOR (claimed with SKIP LOCKED; re-applying an unmatched event changes
    nothing unless its email is found now). Returns how many were tried and how many matched."""
    now = now or timezone.now()
    tried = matched = 0
    with transaction.atomic():
        rows = list(
            EmailEvent.objects.filter(
                outcome=EmailEvent.Outcome.UNMATCHED,
                received_at__gte=now - UNMATCHED_RETRY_FOR,
            )
            .select_for_update(skip_locked=True)
            .order_by("received_at", "pk")[:limit]
        )
        for stored in rows:
            try:
                with transaction.atomic():
                    _email_event_classify_apply(stored)
            except Exception:
                log_decision(
                    logger,
                    "email_event_rematch_failed",
                    level=logging.ERROR,
                    exc_info=True,
                    email_event=stored.pk,
                )
                continue
            tried += 1
            matched += stored.outcome != EmailEvent.Outcome.UNMATCHED
    if matched:
        log_decision(logger, "email_events_rematched", tried=tried, matched=matched)
    return {"tried": tried, "matched": matched}


STUCK_PENDING_AFTER = timedelta(minutes=10)
STUCK_QUEUED_AFTER = timedelta(hours=1)
NOT_DELIVERED_AFTER = timedelta(hours=24)


def delivery_sweep(*, now=None) -> dict[str, int]:
    """Nothing is lost silently: hand off registered boletos whose hand-off never ran (broker
    down at commit), re-queue sends that never happened, re-run events whose processing failed,
    and log emails still without a delivery event a day after sending. Every step is idempotent."""
    # In the function: the tasks module imports this one.
    from notifications.tasks import boleto_send_task

    now = now or timezone.now()
    pending: dict[int, list[int]] = {}
    for merchant_id, boleto_id in Boleto.objects.filter(
        status=Boleto.Status.ISSUED,
        delivery_status=Boleto.DeliveryStatus.PENDING,
        bank__registration_status=Boleto.Registration.REGISTERED,
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

    # Events left pending (a lost kick, a worker killed mid-drain) or failed: processed here.
    events = email_events_drain(retry_failed=True)

    silent = OutboundEmail.objects.filter(
        state=EmailState.SENT,
        sent_at__lt=now - NOT_DELIVERED_AFTER,
        boleto__delivery_status=Boleto.DeliveryStatus.SENT,
    ).count()
    if silent:
        log_decision(
            logger, "emails_without_events", level=logging.WARNING, count=silent, older_than_h=24
        )
    result = {
        "handed_off": sum(len(ids) for ids in pending.values()),
        "requeued": len(stuck),
        "events": events["processed"],
        "events_failed": events["failed"],
        "silent": silent,
        "unconfirmed_alerts": delivery_unconfirmed_flag(now=now),
    }
    log_decision(logger, "delivery_sweep", **result)
    return result


def delivery_retries_send(*, now=None, limit: int = 5_000) -> int:
    """The per-minute beat job: boletos whose retry is due (``retry``, next_attempt_at reached)
    go back to the queue and their send is queued after commit. Claimed with SKIP LOCKED, so two
    runs never queue a boleto twice; a lost message leaves it ``queued`` for the sweeper. The
    send checks the schedule is still active. Returns how many were queued."""
    # In the function: the tasks module imports this one.
    from notifications.tasks import boleto_send_task

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Boleto.objects.filter(
                delivery_status=Boleto.DeliveryStatus.RETRY, next_attempt_at__lte=now
            )
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at")
            .values_list("merchant_id", "pk")[:limit]
        )
        if not due:
            return 0
        Boleto.objects.filter(pk__in=[pk for _, pk in due]).update(
            delivery_status=Boleto.DeliveryStatus.QUEUED, next_attempt_at=None, updated_at=now
        )
        for merchant_id, boleto_id in due:
            enqueue_on_commit(boleto_send_task, merchant_id=merchant_id, boleto_id=boleto_id)
    log_decision(logger, "delivery_retries_queued", count=len(due))
    return len(due)


# The same boleto resent again this soon by the same schedule's page is one request (a
# double-click, a reloaded confirmation): recorded and sent once.
RESEND_DUPLICATE_WINDOW = timedelta(minutes=2)
RESEND_SCHEDULE_NOT_ACTIVE = _lazy(
    "Só é possível reenviar boletos de agendamentos ativos. Reative o agendamento para reenviar."
)
RESEND_NOT_ISSUED = _lazy("Esta parcela não foi emitida: não há boleto para reenviar.")
RESEND_IN_QUEUE = _lazy("Este boleto já está na fila de envio.")
RESEND_PAID = _lazy("Este boleto já foi pago: não há o que reenviar.")
RESEND_WRITTEN_OFF = _lazy(
    "Este boleto foi baixado no banco e não pode mais ser pago: não há o que reenviar."
)
RESEND_REJECTED = _lazy(
    "O banco rejeitou o registro deste boleto: ele não pode ser pago. Veja o motivo na parcela."
)


def _not_payable(boleto: Boleto) -> ValidationError:
    """Why an issued boleto that is not Boleto.payable cannot be resent."""
    if boleto.bank.payment_status == Boleto.Payment.WRITTEN_OFF:
        return ValidationError(RESEND_WRITTEN_OFF, code="written_off")
    if boleto.bank.payment_status != Boleto.Payment.OPEN:
        return ValidationError(RESEND_PAID, code="paid")
    return ValidationError(RESEND_REJECTED, code="rejected")


def boleto_resend(*, merchant_id: int, schedule_id: int, boleto_id: int, actor=None) -> bool:
    """The "Reenviar boleto" action: email an issued boleto of an active schedule again, to the
    customer's current address, at the merchant's request. Under the schedule's and the boleto's
    row locks: refused (ValidationError) unless the schedule is active and the boleto issued,
    still payable (not paid, written off or rejected by the bank) and not already waiting to be
    sent; a second request for the same boleto within
    RESEND_DUPLICATE_WINDOW changes nothing (returns False). Recorded in the schedule's history
    with the actor."""
    # In the function: the tasks module imports this one.
    from notifications.tasks import boleto_send_task

    with transaction.atomic():
        schedule = (
            Schedule.objects.for_merchant(merchant_id)
            .select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=schedule_id)
        )
        boleto = (
            Boleto.objects.for_merchant(merchant_id)
            .select_for_update()
            .get(pk=boleto_id, schedule_id=schedule.pk)
        )
        # Its bank row too (a reverse one-to-one cannot be locked through the join): a retorno
        # applying a payment meanwhile waits for this decision.
        boleto.bank = BoletoBank.objects.select_for_update().get(pk=boleto.pk)
        if schedule.status not in DELIVERING_STATUSES:
            raise ValidationError(RESEND_SCHEDULE_NOT_ACTIVE, code="not_active")
        if boleto.status != Boleto.Status.ISSUED:
            raise ValidationError(RESEND_NOT_ISSUED, code="not_issued")
        if not boleto.payable:  # only a boleto the customer can still pay is worth resending
            raise _not_payable(boleto)
        now = timezone.now()
        duplicate = ScheduleEvent.objects.filter(
            schedule=schedule,
            kind=ScheduleEvent.Kind.BOLETO_RESENT,
            data__boleto_id=boleto.pk,
            created_at__gte=now - RESEND_DUPLICATE_WINDOW,
        ).exists()
        if duplicate:
            return False
        if boleto.delivery_status in (
            Boleto.DeliveryStatus.PENDING,
            Boleto.DeliveryStatus.QUEUED,
        ):
            raise ValidationError(RESEND_IN_QUEUE, code="in_queue")
        previous = boleto.delivery_status
        boleto.delivery_status = Boleto.DeliveryStatus.QUEUED
        boleto.next_attempt_at = None
        boleto.handed_off_at = now
        boleto.save(
            update_fields=["delivery_status", "next_attempt_at", "handed_off_at", "updated_at"]
        )
        event_record(
            schedule=schedule,
            kind=ScheduleEvent.Kind.BOLETO_RESENT,
            actor=actor,
            boleto_id=boleto.pk,
            sequence=boleto.sequence,
            email=schedule.customer.email,
            previous_delivery=previous,
        )
        enqueue_on_commit(boleto_send_task, merchant_id=merchant_id, boleto_id=boleto.pk)
    log_decision(
        logger,
        "boleto_resend_requested",
        merchant=merchant_id,
        schedule_id=schedule.pk,
        schedule_number=schedule.number,
        boleto=boleto.pk,
        decision="queued",
        previous=previous,
    )
    return True


def delivery_unconfirmed_flag(*, now=None) -> int:
    """At risk: a boleto emailed through an ESP more than NOT_DELIVERED_AFTER ago whose email
    has neither a delivery nor a failure event (no event at all, only deferrals while the ESP
    retries, or only failures on our side), still issued, sent and not yet due. The merchant
    sees one "Entrega não confirmada" banner per boleto (MerchantAlert, not emailed: some ESPs
    do not report every delivery, so this is a prompt to send the PDF another way before the due
    date, not a failure) until acknowledged or until a delivery event arrives. Nothing is
    deactivated. Emails sent without an ESP (files, SMTP to the mail catcher) never get events
    and are left out. Returns the number of new alerts."""
    now = now or timezone.now()
    flagged = MerchantAlert.objects.filter(kind=MerchantAlert.Kind.DELIVERY_UNCONFIRMED)
    rows = (
        OutboundEmail.objects.filter(
            state__lt=EmailState.DELIVERED,  # the partial index outbound_email_unconfirmed
            sent_at__lt=now - NOT_DELIVERED_AFTER,
            boleto__status=Boleto.Status.ISSUED,
            # Sent, or delayed by a failure on our side (operations are on it; the banner only
            # offers to send the PDF another way, it asks the merchant to fix nothing).
            boleto__delivery_status__in=[
                Boleto.DeliveryStatus.SENT,
                Boleto.DeliveryStatus.DELAYED,
            ],
            boleto__due_date__gte=timezone.localdate(now),
        )
        .exclude(esp_name="")
        .exclude(boleto_id__in=flagged.values("boleto_id"))
        .select_related("schedule")
        .order_by("boleto_id", "-attempt")[:5_000]
    )
    created = 0
    seen: set[int] = set()
    for outbound in rows:
        if outbound.boleto_id in seen:
            continue  # an older attempt of the same boleto
        seen.add(outbound.boleto_id)
        schedule = outbound.schedule
        sent_at = datetime_br(outbound.sent_at)
        _, new = MerchantAlert.objects.get_or_create(
            boleto_id=outbound.boleto_id,
            kind=MerchantAlert.Kind.DELIVERY_UNCONFIRMED,
            defaults={
                "merchant_id": outbound.merchant_id,
                "schedule": schedule,
                "schedule_epoch": schedule.epoch,
                "diagnostic": f"Enviado em {sent_at} para {outbound.recipient}"[:500],
            },
        )
        if new:
            created += 1
            log_decision(
                logger,
                "delivery_unconfirmed",
                level=logging.WARNING,
                merchant=outbound.merchant_id,
                schedule_id=schedule.pk,
                schedule_number=schedule.number,
                boleto=outbound.boleto_id,
                decision="merchant_alerted",
                attempt=outbound.attempt,
                state=EmailState(outbound.state).name.lower(),
                sent_at=outbound.sent_at,
            )
    return created
