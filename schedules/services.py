"""Writes on schedules. Every state change locks the row, re-checks the stored state, and appends
to the schedule's history in the same transaction."""

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Customer
from portal.models import Merchant
from portal.queue import enqueue_on_commit
from schedules import dates
from schedules.models import DeactivationCause, Schedule, ScheduleEvent, ScheduleStatus

CUSTOMER_NOT_FOUND = _("Cliente não encontrado.")
FIRST_DUE_IN_PAST = _("O primeiro vencimento não pode ser anterior a hoje.")
FIRST_DUE_TOO_FAR = _("O primeiro vencimento deve estar nos próximos 5 anos.")
FIRST_DUE_MAX_YEARS = 5
SCHEDULE_ALREADY_CANCELLED = _("Este agendamento já foi cancelado.")
SCHEDULE_NOT_ACTIVE = _("Este agendamento não está ativo.")


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
) -> Schedule:
    """Create an active schedule and issue, right after commit, whatever is already due."""
    today = today or timezone.localdate()
    if customer.merchant_id != merchant.pk:
        raise ValidationError({"customer": CUSTOMER_NOT_FOUND})
    if first_due_date < today:
        raise ValidationError({"first_due_date": FIRST_DUE_IN_PAST})
    if first_due_date > today + relativedelta(years=FIRST_DUE_MAX_YEARS):
        raise ValidationError({"first_due_date": FIRST_DUE_TOO_FAR})
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
    )
    # Validate the fields before allocating anything (a placeholder number keeps full_clean happy).
    schedule.next_issue_on = today
    schedule.full_clean(exclude=["number"], validate_unique=False)
    schedule.next_issue_on = next_issue_date(
        first_due_date=first_due_date,
        frequency_months=frequency_months,
        lead_days=lead_days,
        sequence=1,
    )
    with transaction.atomic():
        schedule.number = _allocate_schedule_number(merchant)
        schedule.save()
        event_record(schedule=schedule, kind=ScheduleEvent.Kind.CREATED, actor=actor)
        if schedule.next_issue_on <= today:
            from schedules.tasks import issue_installments_for_schedule_task

            enqueue_on_commit(
                issue_installments_for_schedule_task,
                schedule_id=schedule.pk,
                merchant_id=merchant.pk,
            )
    return schedule


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
