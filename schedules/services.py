"""Writes on schedules. Every state change locks the row, re-checks the stored state, and appends
to the schedule's history in the same transaction."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Boleto, Customer
from portal.formtokens import AlreadySubmitted
from portal.models import Merchant
from portal.queue import enqueue_on_commit
from schedules import dates, selectors
from schedules.models import DeactivationCause, Schedule, ScheduleEvent, ScheduleStatus

logger = logging.getLogger(__name__)

CUSTOMER_NOT_FOUND = _("Cliente não encontrado.")
FIRST_DUE_IN_PAST = _("O primeiro vencimento não pode ser anterior a hoje.")
FIRST_DUE_TOO_FAR = _("O primeiro vencimento deve estar nos próximos 5 anos.")
FIRST_DUE_MAX_YEARS = 5
SCHEDULE_ALREADY_CANCELLED = _("Este agendamento já foi cancelado.")
SCHEDULE_NOT_ACTIVE = _("Este agendamento não está ativo.")
SCHEDULE_ALREADY_ACTIVE = _("Este agendamento já está ativo: a reativação já foi feita.")
SCHEDULE_CANCELLED_NOT_REACTIVATED = _("Este agendamento foi cancelado e não pode ser reativado.")
EMAIL_MUST_CHANGE = _(
    "O e-mail não foi entregue porque este endereço não existe ou é inválido: informe um "
    "endereço diferente do atual."
)
EMAIL_KEEP_NOT_CONFIRMED = _("Informe um novo e-mail ou marque “Manter o e-mail atual”.")
EMAIL_KEEP_CONFLICT = _(
    "Você marcou “Manter o e-mail atual”, mas digitou outro endereço: escolha um dos dois."
)
MISSED_CHOICE_INVALID = _("Escolha o que fazer com as parcelas não emitidas.")
MISSED_LIST_CHANGED = _(
    "A lista de parcelas não emitidas mudou desde que a página foi aberta. Confira e confirme "
    "de novo."
)
RESEND_BOLETO_NOT_FOUND = _("Boleto não encontrado entre os não entregues deste agendamento.")
MISSED_ISSUE_FAILED = _(
    "Não foi possível emitir as parcelas agora: os dados bancários do beneficiário estão "
    "inválidos. Corrija-os em Configurações ou escolha não emitir as parcelas."
)


def validate_first_due_date(value: date, *, today: date) -> None:
    """The first due date is today or later, and at most five years ahead."""
    if value < today:
        raise ValidationError(FIRST_DUE_IN_PAST, code="past")
    if value > today + relativedelta(years=FIRST_DUE_MAX_YEARS):
        raise ValidationError(FIRST_DUE_TOO_FAR, code="too_far")


def next_issue_date(*, first_due_date: date, frequency_months: int, lead_days: int, sequence: int):
    return dates.due_date(first_due_date, frequency_months, sequence) - timedelta(days=lead_days)


def event_record(*, schedule: Schedule, kind: str, actor=None, **data) -> ScheduleEvent:
    return ScheduleEvent.objects.create(
        merchant_id=schedule.merchant_id, schedule=schedule, kind=kind, actor=actor, data=data
    )


def _allocate_schedule_number(merchant: Merchant) -> int:
    # The merchant row lock serialises allocations for one merchant only; numbers never repeat.
    locked = Merchant.objects.select_for_update().only("next_schedule_number").get(pk=merchant.pk)
    number = locked.next_schedule_number
    Merchant.objects.filter(pk=merchant.pk).update(next_schedule_number=number + 1)
    return number


def schedule_create(
    *,
    merchant: Merchant,
    customer: Customer,
    amount: Decimal,
    frequency_months: int,
    first_due_date: date,
    lead_days: int,
    description: str = "",
    actor=None,
    today: date | None = None,
    form_token=None,
) -> Schedule:
    """Create an active schedule and issue, right after commit, whatever is already due.

    ``form_token`` (portal.formtokens): a second submission of the same form raises
    AlreadySubmitted with the schedule the first one created, and creates nothing.
    """
    today = today or timezone.localdate()
    if customer.merchant_id != merchant.pk:
        raise ValidationError({"customer": CUSTOMER_NOT_FOUND})
    try:
        validate_first_due_date(first_due_date, today=today)
    except ValidationError as exc:
        raise ValidationError({"first_due_date": exc.messages}) from exc
    schedule = Schedule(
        merchant=merchant,
        customer=customer,
        amount=amount,
        frequency_months=frequency_months,
        first_due_date=first_due_date,
        lead_days=lead_days,
        description=description,
        created_by=actor,
        number=0,
        form_token=form_token,
    )
    # Validate the fields before allocating anything (a placeholder number keeps full_clean happy).
    schedule.next_issue_on = today
    schedule.full_clean(exclude=["number", "form_token"], validate_unique=False)
    schedule.next_issue_on = next_issue_date(
        first_due_date=first_due_date,
        frequency_months=frequency_months,
        lead_days=lead_days,
        sequence=1,
    )
    with transaction.atomic():
        # After the merchant's row lock: a concurrent submission of the same form has committed
        # by now, and its schedule is visible.
        schedule.number = _allocate_schedule_number(merchant)
        _schedule_refuse_resubmission(merchant=merchant, form_token=form_token)
        try:
            with transaction.atomic():
                schedule.save()
        except IntegrityError:
            # The unique (merchant, form_token) index is the guarantee, even for a writer that
            # does not take the merchant lock.
            _schedule_refuse_resubmission(merchant=merchant, form_token=form_token)
            raise
        event_record(schedule=schedule, kind=ScheduleEvent.Kind.CREATED, actor=actor)
        if schedule.next_issue_on <= today:
            from schedules.tasks import issue_installments_for_schedule_task

            enqueue_on_commit(
                issue_installments_for_schedule_task,
                schedule_id=schedule.pk,
                merchant_id=merchant.pk,
            )
    return schedule


def _schedule_refuse_resubmission(*, merchant: Merchant, form_token) -> None:
    if form_token is None:
        return
    existing = Schedule.objects.for_merchant(merchant).filter(form_token=form_token).first()
    if existing is not None:
        raise AlreadySubmitted(existing)


def schedule_create_with_new_customer(
    *, merchant: Merchant, customer_fields: dict, actor=None, form_token=None, **schedule_fields
) -> Schedule:
    """Register a customer and create their first schedule, both or neither.

    The schedule carries ``form_token``. A second submission of the same form meets the customer
    the first one registered (same CPF/CNPJ): it raises AlreadySubmitted with that schedule
    rather than "CPF/CNPJ already registered".
    """
    from billing.services import customer_create

    with transaction.atomic():
        try:
            customer = customer_create(merchant=merchant, **customer_fields)
        except ValidationError:
            _schedule_refuse_resubmission(merchant=merchant, form_token=form_token)
            raise
        return schedule_create(
            merchant=merchant,
            customer=customer,
            actor=actor,
            form_token=form_token,
            **schedule_fields,
        )


def _alerts_resolve(*, schedule: Schedule, now) -> int:
    """The schedule's open alerts are resolved by what the merchant just did (reactivated or
    cancelled it): they leave the banner."""
    from notifications.alerts import alerts_acknowledge

    return alerts_acknowledge(merchant_id=schedule.merchant_id, schedule_id=schedule.pk, now=now)


def _lock(schedule: Schedule) -> Schedule:
    return Schedule.objects.select_for_update().get(
        pk=schedule.pk, merchant_id=schedule.merchant_id
    )


def schedule_cancel(*, schedule: Schedule, actor=None) -> Schedule:
    """Cancellation is final: no future installment; issued boletos stay downloadable."""
    with transaction.atomic():
        locked = _lock(schedule)
        if locked.status == ScheduleStatus.CANCELLED:
            raise ValidationError(SCHEDULE_ALREADY_CANCELLED)
        previous = locked.status
        locked.status = ScheduleStatus.CANCELLED
        locked.deactivation_cause = ""
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "deactivation_cause", "cancelled_at", "updated_at"])
        event_record(
            schedule=locked, kind=ScheduleEvent.Kind.CANCELLED, actor=actor, previous=previous
        )
        _alerts_resolve(schedule=locked, now=locked.cancelled_at)
    return locked


def schedule_deactivate(
    *, schedule: Schedule, cause: DeactivationCause, actor=None, **details
) -> bool:
    """Stop the next installments. Returns False (and changes nothing) unless it was active."""
    with transaction.atomic():
        locked = _lock(schedule)
        if locked.status != ScheduleStatus.ACTIVE:
            return False
        locked.status = ScheduleStatus.DEACTIVATED
        locked.deactivation_cause = cause
        locked.deactivated_at = timezone.now()
        locked.save(update_fields=["status", "deactivation_cause", "deactivated_at", "updated_at"])
        event_record(
            schedule=locked,
            kind=ScheduleEvent.Kind.DEACTIVATED,
            actor=actor,
            cause=cause,
            **details,
        )
    schedule.refresh_from_db()
    return True


# --- Reactivation ------------------------------------------------------------------------------


class MissedChoice(models.TextChoices):
    """What happens to the installments whose issue date passed while the schedule was off."""

    SKIP = "skip", _("Não emitir (pular estas parcelas)")
    ISSUE = "issue", _("Emitir agora")


@dataclass
class Reactivation:
    schedule: Schedule
    email_changed: bool
    skipped: list[int] = field(default_factory=list)  # sequences recorded as skipped
    issued: list[int] = field(default_factory=list)  # sequences issued now
    resent: list[int] = field(default_factory=list)  # sequences of the boletos sent again


def _cursor_after(schedule: Schedule, sequence: int) -> tuple[int, date]:
    """The generator cursor pointing at the installment after ``sequence``."""
    following = sequence + 1
    try:
        issue_on = next_issue_date(
            first_due_date=schedule.first_due_date,
            frequency_months=schedule.frequency_months,
            lead_days=schedule.lead_days,
            sequence=following,
        )
    except dates.UnsupportedDateError:
        issue_on = date.max  # beyond the holiday calendar: parked, as the generator does
    return following, issue_on


def _missed_rows(
    *, schedule: Schedule, customer: Customer, missed, issue: bool, now
) -> list[Boleto]:
    """Boleto rows for missed installments: recorded as skipped (as the generator records a
    past-due one), or issued with their due date moved ahead (MissedInstallment.new_due_date)
    and numbered like any boleto. ``(schedule, sequence)`` is unique: never twice."""
    from billing import nosso_numero
    from billing.febraban import BoletoError
    from billing.numbers import boleto_codes
    from schedules.generator import beneficiary_snapshot

    merchant = Merchant.objects.get(pk=schedule.merchant_id)
    beneficiary = beneficiary_snapshot(merchant)
    payer = customer.snapshot()
    numbers = iter(nosso_numero.allocate({merchant.pk: len(missed)})[merchant.pk] if issue else [])
    rows = []
    for item in missed:
        row = Boleto(
            merchant_id=schedule.merchant_id,
            schedule=schedule,
            sequence=item.sequence,
            due_date=item.due_date,
            amount=schedule.amount,
            status=Boleto.Status.SKIPPED,
            delivery_status=Boleto.DeliveryStatus.NOT_APPLICABLE,
            issued_at=now,
            payer=payer,
            beneficiary=beneficiary,
        )
        if issue:
            number = next(numbers)
            row.status = Boleto.Status.ISSUED
            row.delivery_status = Boleto.DeliveryStatus.PENDING
            row.due_date = item.due_date_if_issued
            row.nosso_numero = number
            try:
                row.barcode, row.linha_digitavel, row.pix_payload = boleto_codes(
                    beneficiary=beneficiary,
                    nosso_numero=number,
                    due_date=row.due_date,
                    amount=row.amount,
                )
            except (BoletoError, ValueError) as exc:
                logger.error(
                    "cannot number missed installment schedule=%s sequence=%s: %s",
                    schedule.pk,
                    item.sequence,
                    exc,
                )
                raise ValidationError(MISSED_ISSUE_FAILED, code="numbering") from exc
        rows.append(row)
    return Boleto.objects.bulk_create(rows)


def schedule_reactivate(
    *,
    schedule: Schedule,
    email: str,
    keep_email: bool = False,
    missed_choice: str = MissedChoice.SKIP,
    expected_missed: Sequence[int] | None = None,
    resend_boleto_ids: Iterable[int] = (),
    actor=None,
    today: date | None = None,
) -> Reactivation:
    """Fix (or confirm) the customer's email and turn a deactivated schedule back on.

    Under the schedule's row lock (and its customer's), re-checking what the merchant saw:

    - only a deactivated schedule is reactivated: a second submit finds it active and changes
      nothing (``code="not_deactivated"``);
    - the email must change when the cause was an invalid address; otherwise an unchanged email
      needs ``keep_email``. The customer row is shared by all of the merchant's schedules for
      that customer: the new address is theirs too, and each of them records the change;
    - ``expected_missed`` (the sequences the form listed) must still be the installments whose
      issue date passed while deactivated (up to ``today``). They are skipped (recorded as
      ``skipped`` boletos) or issued now: past-due ones here with a new due date
      (selectors.MISSED_NEW_DUE_IN_DAYS ahead), the others by the generator with their own;
    - ``resend_boleto_ids`` must be undelivered boletos of this schedule; they go back to the
      delivery queue and leave (after commit) to the current address in the new epoch.

    The epoch is bumped, so events about emails sent before never deactivate again; open alerts
    of the schedule are resolved; the history gets EMAIL_CHANGED, INSTALLMENTS_SKIPPED and
    REACTIVATED (with every choice and the actor). The generator runs for the schedule after
    commit, as at creation.
    """
    from notifications.delivery import delivery_hand_off_on_commit
    from schedules.generator import installments_issue_due
    from schedules.tasks import issue_installments_for_schedule_task

    today = today or timezone.localdate()
    if missed_choice not in MissedChoice.values:
        raise ValidationError({"missed_choice": MISSED_CHOICE_INVALID})
    email = BaseUserManager.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    resend_ids = set(resend_boleto_ids)
    with transaction.atomic():
        locked = (
            Schedule.objects.select_for_update()  # the schedule and its customer
            .select_related("customer")
            .get(pk=schedule.pk, merchant_id=schedule.merchant_id)
        )
        if locked.status == ScheduleStatus.CANCELLED:
            raise ValidationError(SCHEDULE_CANCELLED_NOT_REACTIVATED, code="not_deactivated")
        if locked.status != ScheduleStatus.DEACTIVATED:
            raise ValidationError(SCHEDULE_ALREADY_ACTIVE, code="not_deactivated")
        customer = locked.customer
        old_email = customer.email
        changed = email.lower() != old_email.lower()
        cause = locked.deactivation_cause
        if not changed and cause == DeactivationCause.INVALID_ADDRESS:
            raise ValidationError({"email": EMAIL_MUST_CHANGE})
        if not changed and not keep_email:
            raise ValidationError({"keep_email": EMAIL_KEEP_NOT_CONFIRMED})
        if changed and keep_email:
            raise ValidationError({"keep_email": EMAIL_KEEP_CONFLICT})
        missed = selectors.schedule_missed_installments(schedule=locked, today=today)
        missed_sequences = [item.sequence for item in missed]
        if expected_missed is not None and list(expected_missed) != missed_sequences:
            raise ValidationError({"missed": MISSED_LIST_CHANGED})
        undelivered = {
            boleto.pk: boleto.sequence
            for boleto in selectors.schedule_undelivered_boletos(schedule=locked)
        }
        if not resend_ids <= undelivered.keys():
            raise ValidationError({"resend": RESEND_BOLETO_NOT_FOUND})

        now = timezone.now()
        result = Reactivation(schedule=locked, email_changed=changed)
        if changed:
            customer.email = email
            customer.save(update_fields=["email", "updated_at"])
        locked.status = ScheduleStatus.ACTIVE
        locked.deactivation_cause = ""
        locked.reactivated_at = now
        locked.epoch += 1
        to_deliver: list[int] = []
        new_due_dates = []
        if missed and missed_choice == MissedChoice.SKIP:
            _missed_rows(schedule=locked, customer=customer, missed=missed, issue=False, now=now)
            result.skipped = missed_sequences
            locked.next_sequence, locked.next_issue_on = _cursor_after(locked, missed[-1].sequence)
        elif missed:
            past_due = [item for item in missed if item.new_due_date is not None]
            if past_due:
                rows = _missed_rows(
                    schedule=locked, customer=customer, missed=past_due, issue=True, now=now
                )
                to_deliver += [row.pk for row in rows]
                new_due_dates = [
                    {
                        "sequence": item.sequence,
                        "original_due_date": item.due_date.isoformat(),
                        "due_date": item.new_due_date.isoformat(),
                    }
                    for item in past_due
                ]
                locked.next_sequence, locked.next_issue_on = _cursor_after(
                    locked, past_due[-1].sequence
                )
            result.issued = missed_sequences
        locked.save(
            update_fields=[
                "status",
                "deactivation_cause",
                "reactivated_at",
                "epoch",
                "next_sequence",
                "next_issue_on",
                "updated_at",
            ]
        )

        if changed:
            event_record(
                schedule=locked,
                kind=ScheduleEvent.Kind.EMAIL_CHANGED,
                actor=actor,
                **{"from": old_email, "to": email},
            )
            others = (
                Schedule.objects.for_merchant(locked.merchant_id)
                .filter(customer_id=customer.pk)
                .exclude(pk=locked.pk)
                .exclude(status=ScheduleStatus.CANCELLED)
                .values_list("pk", flat=True)
            )
            ScheduleEvent.objects.bulk_create(
                ScheduleEvent(
                    merchant_id=locked.merchant_id,
                    schedule_id=other,
                    kind=ScheduleEvent.Kind.EMAIL_CHANGED,
                    actor=actor,
                    data={"from": old_email, "to": email, "via_schedule": locked.number},
                )
                for other in others
            )
        if result.skipped:
            event_record(
                schedule=locked,
                kind=ScheduleEvent.Kind.INSTALLMENTS_SKIPPED,
                actor=actor,
                sequences=result.skipped,
            )
        if resend_ids:
            Boleto.objects.filter(
                pk__in=resend_ids,
                schedule=locked,
                status=Boleto.Status.ISSUED,
                delivery_status__in=[
                    Boleto.DeliveryStatus.UNDELIVERED,
                    Boleto.DeliveryStatus.WITHHELD,
                ],
            ).update(delivery_status=Boleto.DeliveryStatus.PENDING, updated_at=now)
            to_deliver += sorted(resend_ids)
            result.resent = sorted(undelivered[pk] for pk in resend_ids)
        event_record(
            schedule=locked,
            kind=ScheduleEvent.Kind.REACTIVATED,
            actor=actor,
            previous_cause=cause,
            epoch=locked.epoch,
            email=email,
            email_changed=changed,
            missed=missed_sequences,
            missed_choice=missed_choice if missed else "",
            issued_with_new_due_date=new_due_dates,
            resent=result.resent,
        )
        _alerts_resolve(schedule=locked, now=now)
        if to_deliver:
            delivery_hand_off_on_commit({locked.merchant_id: to_deliver})
        if result.issued and len(new_due_dates) < len(missed):
            # The rest of the missed installments are not past due: the generator issues them
            # now, in this transaction, with their own due dates (status and cursor are saved).
            installments_issue_due(
                schedule_id=locked.pk, merchant_id=locked.merchant_id, today=today
            )
            cursor = Schedule.objects.filter(pk=locked.pk).values_list("next_sequence", flat=True)
            if cursor.get() <= missed_sequences[-1]:
                raise ValidationError(MISSED_ISSUE_FAILED, code="numbering")
        enqueue_on_commit(
            issue_installments_for_schedule_task,
            schedule_id=locked.pk,
            merchant_id=locked.merchant_id,
        )
    logger.info(
        "schedule reactivated merchant=%s schedule=%s epoch=%s email_changed=%s skipped=%s "
        "issued=%s resent=%s",
        locked.merchant_id,
        locked.number,
        locked.epoch,
        changed,
        result.skipped,
        result.issued,
        result.resent,
    )
    schedule.refresh_from_db()
    return result
