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

from billing.models import AMOUNT_OUT_OF_RANGE, Boleto, Customer
from billing.remessas import boletos_write_off_request
from billing.services import customer_create
from portal.formats import date_br
from portal.formtokens import AlreadySubmitted
from portal.logs import log_decision
from portal.models import Merchant
from portal.queue import enqueue_on_commit
from schedules import dates, generator, selectors
from schedules.models import (
    LEAD_DAYS_OUT_OF_RANGE,
    READ_ONLY_STATUSES,
    DeactivationCause,
    Schedule,
    ScheduleEvent,
    ScheduleStatus,
)
from schedules.signals import boletos_issued_on_commit, schedule_state_changed
from schedules.tasks import issue_installments_for_schedule_task

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


SCHEDULE_READ_ONLY = _("Este agendamento foi %(status)s e não pode mais ser alterado.")
END_COUNT_TOO_LOW = _(
    "O número de parcelas não pode ser menor que %(min)s: a parcela %(min)s é a próxima a ser "
    "emitida."
)
END_COUNT_RANGE = _("Informe um número de parcelas de 1 a %(max)s.")
END_COUNT_MAX = 1200  # 100 years of a monthly schedule
END_DATE_TOO_EARLY = _(
    "A data final não pode ser anterior a %(date)s, o vencimento da parcela %(n)s, a próxima a "
    "ser emitida."
)
END_DATE_TOO_FAR = _("A data final deve ser até 31/12/%(year)s.")
END_DATE_INVALID = _("Informe uma data válida.")
END_BOTH = _("Escolha um só fim: um número de parcelas ou uma data final.")
DUE_DAY_RANGE = _("Informe um dia de vencimento de 1 a 31.")
EDIT_NOTHING_CHANGED = _("Nada foi alterado.")
EDIT_SEQUENCE_CHANGED = _(
    "A parcela %(expected)s foi emitida enquanto você editava: as alterações valeriam a partir "
    "da parcela %(actual)s. Confira a prévia e salve de novo."
)
EDIT_NO_NEXT_INSTALLMENT = _("Este agendamento não tem mais parcelas a emitir.")
# What schedule_update accepts.
EDITABLE_FIELDS = frozenset(
    {"amount", "description", "lead_days", "due_day", "end_count", "end_date"}
)


def validate_end(
    schedule: Schedule, *, end_count: int | None, end_date: date | None, from_sequence: int
) -> None:
    """An end (at most one kind) that still lets installment ``from_sequence`` (the next one
    not issued yet) be issued: never before an installment already issued or due next."""
    if end_count is not None and end_date is not None:
        raise ValidationError({"end_count": END_BOTH})
    if end_count is not None:
        if not 1 <= end_count <= END_COUNT_MAX:
            raise ValidationError(
                {"end_count": ValidationError(END_COUNT_RANGE, params={"max": END_COUNT_MAX})}
            )
        if end_count < from_sequence:
            raise ValidationError(
                {"end_count": ValidationError(END_COUNT_TOO_LOW, params={"min": from_sequence})}
            )
    if end_date is not None:
        if end_date.year > dates.HOLIDAY_CALENDAR_LAST_YEAR:
            raise ValidationError(
                {
                    "end_date": ValidationError(
                        END_DATE_TOO_FAR, params={"year": dates.HOLIDAY_CALENDAR_LAST_YEAR}
                    )
                }
            )
        due = schedule.due_date_of(from_sequence)
        if end_date < due:
            raise ValidationError(
                {
                    "end_date": ValidationError(
                        END_DATE_TOO_EARLY,
                        params={"date": date_br(due), "n": from_sequence},
                    )
                }
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
    end_count: int | None = None,
    end_date: date | None = None,
) -> Schedule:
    """Create an active schedule and issue, right after commit, whatever is already due.

    ``end_count`` (total installments) or ``end_date`` (last due date allowed), at most one:
    the schedule finishes by itself with its last installment (generator).
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
        end_count=end_count,
        end_date=end_date,
    )
    if frequency_months in dates.FREQUENCIES:  # else full_clean below says so
        validate_end(schedule, end_count=end_count, end_date=end_date, from_sequence=1)
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
        schedule_state_changed.send(
            sender=Schedule, schedule=locked, state=locked.status, at=locked.cancelled_at
        )
        # Its open boletos leave the bank: a write-off in the next remessa (at once on the test
        # bank); those never sent are withdrawn.
        boletos_write_off_request(merchant_id=locked.merchant_id, schedule_id=locked.pk)
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


# --- Editing ------------------------------------------------------------------------------------


def _edit_values(schedule: Schedule) -> dict:
    """The editable values as the history records them (JSON: amounts and dates as text)."""
    return {
        "amount": str(schedule.amount),
        "description": schedule.description,
        "lead_days": schedule.lead_days,
        "due_day": schedule.due_day,
        "end_count": schedule.end_count,
        "end_date": schedule.end_date.isoformat() if schedule.end_date else None,
    }


def _edit_input_clean(fields: dict) -> dict:
    """Types checked before any lock: a bad value is a message, never a 500."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"schedule_update() got unexpected fields: {sorted(unknown)}")
    cleaned = dict(fields)
    if "amount" in cleaned:
        try:
            cleaned["amount"] = Decimal(str(cleaned["amount"]))
        except (ArithmeticError, ValueError) as exc:
            raise ValidationError({"amount": AMOUNT_OUT_OF_RANGE}) from exc
        if not cleaned["amount"].is_finite():
            raise ValidationError({"amount": AMOUNT_OUT_OF_RANGE})
    if "description" in cleaned:
        cleaned["description"] = (cleaned["description"] or "").strip()
    for name, message in (("due_day", DUE_DAY_RANGE), ("lead_days", LEAD_DAYS_OUT_OF_RANGE)):
        value = cleaned.get(name)
        if name in cleaned and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValidationError({name: message})
    if "due_day" in cleaned and not 1 <= cleaned["due_day"] <= 31:
        raise ValidationError({"due_day": DUE_DAY_RANGE})
    for name in ("end_count", "end_date"):
        if name in cleaned and cleaned[name] == "":
            cleaned[name] = None
    if cleaned.get("end_count") is not None and (
        not isinstance(cleaned["end_count"], int) or isinstance(cleaned["end_count"], bool)
    ):
        raise ValidationError(
            {"end_count": ValidationError(END_COUNT_RANGE, params={"max": END_COUNT_MAX})}
        )
    if cleaned.get("end_date") is not None and not isinstance(cleaned["end_date"], date):
        raise ValidationError({"end_date": END_DATE_INVALID})
    return cleaned


def schedule_update(
    *,
    schedule: Schedule,
    actor=None,
    today: date | None = None,
    expected_sequence: int | None = None,
    **fields,
) -> Schedule:
    """Change an active or deactivated schedule: ``amount`` (a reajuste), ``description``,
    ``lead_days``, ``due_day`` (1-31) and the end (``end_count`` / ``end_date``; None removes
    it). Only the fields given are touched.

    Every change applies from the next installment not issued yet (``next_sequence`` under the
    row lock): issued boletos keep their amount and due date. A new due day re-anchors the due
    dates at that installment (selectors.schedule_reanchor). The end may not fall before that
    installment. ``expected_sequence``: the installment the form's preview named; if the
    generator issued it meanwhile the edit is refused (``code="sequence_changed"``) so the
    merchant sees the new preview.

    Under the row lock, which the generator's ``FOR UPDATE SKIP LOCKED`` respects: neither the
    edit nor an issue in progress is lost. A cancelled or finished schedule is read-only
    (``code="read_only"``); nothing changed is ``code="unchanged"``. Recorded in the history
    as UPDATED with ``changes`` ({field: [before, after]}) and ``effective_sequence``.
    """
    today = today or timezone.localdate()
    fields = _edit_input_clean(fields)
    with transaction.atomic():
        locked = _lock(schedule)
        if locked.status in READ_ONLY_STATUSES:
            raise ValidationError(
                SCHEDULE_READ_ONLY,
                code="read_only",
                params={"status": str(locked.get_status_display()).lower()},
            )
        sequence = locked.next_sequence
        if expected_sequence is not None and expected_sequence != sequence:
            raise ValidationError(
                EDIT_SEQUENCE_CHANGED,
                code="sequence_changed",
                params={"expected": expected_sequence, "actual": sequence},
            )
        before = _edit_values(locked)
        for name in ("amount", "description", "lead_days", "end_count", "end_date"):
            if name in fields:
                setattr(locked, name, fields[name])
        if "due_day" in fields and fields["due_day"] != locked.due_day:
            (
                locked.anchor_sequence,
                locked.anchor_due_date,
                locked.anchor_day,
            ) = selectors.schedule_reanchor(schedule=locked, due_day=fields["due_day"], today=today)
        after = _edit_values(locked)
        changes = {
            name: [before[name], after[name]] for name in before if before[name] != after[name]
        }
        if not changes:
            raise ValidationError(EDIT_NOTHING_CHANGED, code="unchanged")
        if locked.has_end:
            validate_end(
                locked, end_count=locked.end_count, end_date=locked.end_date, from_sequence=sequence
            )
        locked.full_clean(exclude=["number", "form_token", "customer"], validate_unique=False)
        try:
            due = locked.due_date_of(sequence)
            locked.next_issue_on = due - timedelta(days=locked.lead_days)
        except dates.UnsupportedDateError:
            due, locked.next_issue_on = None, date.max
        locked.save(
            update_fields=[
                "amount",
                "description",
                "lead_days",
                "end_count",
                "end_date",
                "anchor_sequence",
                "anchor_due_date",
                "anchor_day",
                "next_issue_on",
                "updated_at",
            ]
        )
        event_record(
            schedule=locked,
            kind=ScheduleEvent.Kind.UPDATED,
            actor=actor,
            changes=changes,
            effective_sequence=sequence,
            effective_due_date=due.isoformat() if due else None,
        )
        if locked.status == ScheduleStatus.ACTIVE and locked.next_issue_on <= today:
            # A longer lead or an earlier day brought the next issue date to today or before.
            enqueue_on_commit(
                issue_installments_for_schedule_task,
                schedule_id=locked.pk,
                merchant_id=locked.merchant_id,
            )
    log_decision(
        logger,
        "schedule_updated",
        merchant=locked.merchant_id,
        schedule_id=locked.pk,
        schedule_number=locked.number,
        decision="updated",
        fields=sorted(changes),
        effective_sequence=sequence,
    )
    schedule.refresh_from_db()
    return locked


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


def _missed_insert(
    *, schedule: Schedule, customer: Customer, missed, issue: bool, now
) -> list[int]:
    """Missed installments recorded as skipped (as the generator records a past-due one), or
    issued with their due date moved ahead (MissedInstallment.new_due_date), by the generator's
    own code. Numbering that fails refuses the whole reactivation."""
    due = (lambda item: item.due_date_if_issued) if issue else (lambda item: item.due_date)
    try:
        return generator.installments_record(
            schedule=schedule,
            payer=customer.snapshot(),
            items=[(item.sequence, due(item)) for item in missed],
            issue=issue,
            now=now,
        )
    except generator.NumberingError as exc:
        raise ValidationError(MISSED_ISSUE_FAILED, code="numbering") from exc


@dataclass(frozen=True)
class _ReactivationRequest:
    """What the merchant asked for, checked against the locked schedule."""

    email: str
    old_email: str
    email_changed: bool
    cause: str  # the deactivation cause being cleared
    missed_choice: str
    missed: list[selectors.MissedInstallment]
    resend: dict[int, int]  # the chosen undelivered boletos: id -> sequence

    @property
    def missed_sequences(self) -> list[int]:
        return [item.sequence for item in self.missed]


# What a reactivation changes on the schedule row.
_REACTIVATION_FIELDS = [
    "status",
    "deactivation_cause",
    "reactivated_at",
    "epoch",
    "next_sequence",
    "next_issue_on",
    "updated_at",
]


def _reactivation_input_clean(*, email: str, missed_choice: str) -> str:
    """The checks that need no lock: a known choice and a well-formed email (normalized)."""
    if missed_choice not in MissedChoice.values:
        raise ValidationError({"missed_choice": MISSED_CHOICE_INVALID})
    email = BaseUserManager.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    return email


def _reactivation_lock(schedule: Schedule) -> Schedule:
    """The schedule and its customer, both rows locked."""
    return (
        Schedule.objects.select_for_update()
        .select_related("customer")
        .get(pk=schedule.pk, merchant_id=schedule.merchant_id)
    )


def _reactivation_check(
    locked: Schedule,
    *,
    email: str,
    keep_email: bool,
    missed_choice: str,
    expected_missed: Sequence[int] | None,
    resend_ids: set[int],
    today: date,
) -> _ReactivationRequest:
    """Re-check, under the lock, what the merchant saw: still deactivated, the email decision,
    the missed installments listed, the boletos to send again."""
    if locked.status == ScheduleStatus.CANCELLED:
        raise ValidationError(SCHEDULE_CANCELLED_NOT_REACTIVATED, code="not_deactivated")
    if locked.status != ScheduleStatus.DEACTIVATED:
        raise ValidationError(SCHEDULE_ALREADY_ACTIVE, code="not_deactivated")
    old_email = locked.customer.email
    changed = email.lower() != old_email.lower()
    cause = locked.deactivation_cause
    if not changed and cause == DeactivationCause.INVALID_ADDRESS:
        raise ValidationError({"email": EMAIL_MUST_CHANGE})
    if not changed and not keep_email:
        raise ValidationError({"keep_email": EMAIL_KEEP_NOT_CONFIRMED})
    if changed and keep_email:
        raise ValidationError({"keep_email": EMAIL_KEEP_CONFLICT})
    missed = selectors.schedule_missed_installments(schedule=locked, today=today)
    if expected_missed is not None and list(expected_missed) != [m.sequence for m in missed]:
        raise ValidationError({"missed": MISSED_LIST_CHANGED})
    undelivered = {
        boleto.pk: boleto.sequence
        for boleto in selectors.schedule_undelivered_boletos(schedule=locked)
    }
    if not resend_ids <= undelivered.keys():
        raise ValidationError({"resend": RESEND_BOLETO_NOT_FOUND})
    return _ReactivationRequest(
        email=email,
        old_email=old_email,
        email_changed=changed,
        cause=cause,
        missed_choice=missed_choice,
        missed=missed,
        resend={pk: undelivered[pk] for pk in resend_ids},
    )


def _schedule_turn_on(locked: Schedule, *, now) -> None:
    """Active again, in a new epoch: events about emails sent before never deactivate again."""
    locked.status = ScheduleStatus.ACTIVE
    locked.deactivation_cause = ""
    locked.reactivated_at = now
    locked.epoch += 1


def _missed_apply(
    locked: Schedule, request: _ReactivationRequest, *, result: Reactivation, now
) -> tuple[list[int], list[dict]]:
    """Skip the missed installments, or issue the past-due ones here with a new due date (the
    others are left to the generator, _missed_issue_rest), moving the cursor past what was
    written. Returns the boletos to deliver and the new due dates (for the history)."""
    missed = request.missed
    if not missed:
        return [], []
    customer = locked.customer
    if request.missed_choice == MissedChoice.SKIP:
        _missed_insert(schedule=locked, customer=customer, missed=missed, issue=False, now=now)
        result.skipped = request.missed_sequences
        locked.next_sequence, locked.next_issue_on = generator.cursor_after(
            locked, missed[-1].sequence
        )
        return [], []
    result.issued = request.missed_sequences
    past_due = [item for item in missed if item.new_due_date is not None]
    if not past_due:
        return [], []
    to_deliver = _missed_insert(
        schedule=locked, customer=customer, missed=past_due, issue=True, now=now
    )
    locked.next_sequence, locked.next_issue_on = generator.cursor_after(
        locked, past_due[-1].sequence
    )
    new_due_dates = [
        {
            "sequence": item.sequence,
            "original_due_date": item.due_date.isoformat(),
            "due_date": item.new_due_date.isoformat(),
        }
        for item in past_due
    ]
    return to_deliver, new_due_dates


def _missed_issue_rest(locked: Schedule, request: _ReactivationRequest, *, today: date) -> None:
    """The missed installments that are not past due: the generator issues them now, in this
    transaction, with their own due dates (status and cursor are saved by then)."""
    generator.installments_issue_due(
        schedule_id=locked.pk, merchant_id=locked.merchant_id, today=today
    )
    cursor = Schedule.objects.filter(pk=locked.pk).values_list("next_sequence", flat=True)
    if cursor.get() <= request.missed_sequences[-1]:
        raise ValidationError(MISSED_ISSUE_FAILED, code="numbering")


def _customer_email_change(locked: Schedule, request: _ReactivationRequest, *, actor) -> None:
    """The customer row is shared by all of the merchant's schedules for that customer: the
    new address is theirs too, and each of them (cancelled ones aside) records the change."""
    customer = locked.customer
    customer.email = request.email
    customer.save(update_fields=["email", "updated_at"])
    change = {"from": request.old_email, "to": request.email}
    event_record(schedule=locked, kind=ScheduleEvent.Kind.EMAIL_CHANGED, actor=actor, **change)
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
            data={**change, "via_schedule": locked.number},
        )
        for other in others
    )


def _boletos_resend(locked: Schedule, request: _ReactivationRequest, *, now) -> list[int]:
    """The chosen undelivered boletos go back to the delivery queue (they leave, after commit,
    to the current address in the new epoch). Returns their ids."""
    if not request.resend:
        return []
    Boleto.objects.filter(
        pk__in=request.resend.keys(),
        schedule=locked,
        status=Boleto.Status.ISSUED,
        delivery_status__in=[Boleto.DeliveryStatus.UNDELIVERED, Boleto.DeliveryStatus.WITHHELD],
    ).update(delivery_status=Boleto.DeliveryStatus.PENDING, updated_at=now)
    return sorted(request.resend)


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
    today = today or timezone.localdate()
    email = _reactivation_input_clean(email=email, missed_choice=missed_choice)
    with transaction.atomic():
        locked = _reactivation_lock(schedule)
        request = _reactivation_check(
            locked,
            email=email,
            keep_email=keep_email,
            missed_choice=missed_choice,
            expected_missed=expected_missed,
            resend_ids=set(resend_boleto_ids),
            today=today,
        )
        now = timezone.now()
        result = Reactivation(schedule=locked, email_changed=request.email_changed)
        if request.email_changed:  # first: the missed boletos' payer gets the new address
            _customer_email_change(locked, request, actor=actor)
        _schedule_turn_on(locked, now=now)
        to_deliver, new_due_dates = _missed_apply(locked, request, result=result, now=now)
        locked.save(update_fields=_REACTIVATION_FIELDS)
        if result.skipped:
            event_record(
                schedule=locked,
                kind=ScheduleEvent.Kind.INSTALLMENTS_SKIPPED,
                actor=actor,
                sequences=result.skipped,
            )
        to_deliver += _boletos_resend(locked, request, now=now)
        result.resent = sorted(request.resend.values())
        event_record(
            schedule=locked,
            kind=ScheduleEvent.Kind.REACTIVATED,
            actor=actor,
            previous_cause=request.cause,
            epoch=locked.epoch,
            email=email,
            email_changed=request.email_changed,
            missed=request.missed_sequences,
            missed_choice=missed_choice if request.missed else "",
            issued_with_new_due_date=new_due_dates,
            resent=result.resent,
        )
        schedule_state_changed.send(sender=Schedule, schedule=locked, state=locked.status, at=now)
        if to_deliver:
            boletos_issued_on_commit({locked.merchant_id: to_deliver})
        if result.issued and len(new_due_dates) < len(request.missed):
            _missed_issue_rest(locked, request, today=today)
        enqueue_on_commit(
            issue_installments_for_schedule_task,
            schedule_id=locked.pk,
            merchant_id=locked.merchant_id,
        )
    log_decision(
        logger,
        "schedule_reactivated",
        merchant=locked.merchant_id,
        schedule_id=locked.pk,
        schedule_number=locked.number,
        decision="reactivated",
        epoch=locked.epoch,
        email_changed=request.email_changed,
        skipped=result.skipped,
        issued=result.issued,
        resent=result.resent,
    )
    schedule.refresh_from_db()
    return result
