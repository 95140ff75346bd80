"""Reads on schedules, always inside one merchant."""

from copy import copy
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connections
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from billing.models import Boleto
from portal.models import Merchant
from portal.pagination import DeferredJoinPaginator
from portal.timezones import business_day_start
from schedules import dates, extensions
from schedules.filters import ScheduleListFilters
from schedules.models import (
    READ_ONLY_STATUSES,
    DeactivationCause,
    Schedule,
    ScheduleEvent,
    ScheduleStatus,
    ScheduleStatusCount,
    needs_consent,
)
from schedules.search import customer_text_matches, schedule_number_in


def schedule_counts(*, merchant: Merchant) -> dict[str, int]:
    """How many schedules the merchant has in each status (the Agendados tab counts).

    On PostgreSQL, read from the counts the database keeps (ScheduleStatusCount, maintained by
    triggers): one index lookup, however many schedules. Elsewhere, one aggregate.
    """
    if connections[ScheduleStatusCount.objects.db].vendor == "postgresql":
        counts = dict.fromkeys(ScheduleStatus.values, 0)
        counts.update(
            ScheduleStatusCount.objects.filter(merchant=merchant).values_list("status", "count")
        )
        return counts
    return Schedule.objects.for_merchant(merchant).aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in ScheduleStatus.values}
    )


def schedule_list(
    *,
    merchant: Merchant,
    status: str | None = None,
    query: str = "",
    cause: str = "",
    deactivated_from: date | None = None,
    deactivated_to: date | None = None,
) -> QuerySet[Schedule]:
    """A tab of the schedule lists, filtered and ordered like its index.

    ``query`` is a schedule number ("123", "#123", "nº 123": exact) or else a piece of the
    customer's name or email (case- and accent-insensitive). Cause and period apply to
    deactivated schedules, newest deactivation first; the other tabs list newest first.
    """
    queryset = Schedule.objects.for_merchant(merchant).select_related("customer")
    if status:
        queryset = queryset.filter(status=status)
    number = schedule_number_in(query)
    if number is not None:
        queryset = queryset.filter(number=number)
    elif query.strip():
        # The customer's merchant too: the trigram index leads with it (small merchants).
        queryset = customer_text_matches(queryset.filter(customer__merchant=merchant), query=query)
    if status != ScheduleStatus.DEACTIVATED:
        return queryset.order_by("-id")
    if cause:
        queryset = queryset.filter(deactivation_cause=cause)
    if deactivated_from:
        queryset = queryset.filter(deactivated_at__gte=business_day_start(deactivated_from))
    if deactivated_to:
        # A period typed as dd/mm/aaaa is a range of business days.
        end = business_day_start(deactivated_to + timedelta(days=1))
        queryset = queryset.filter(deactivated_at__lt=end)
    return queryset.order_by("-deactivated_at", "-id")


def schedule_list_filtered(*, merchant: Merchant, filters: ScheduleListFilters):
    return schedule_list(
        merchant=merchant,
        status=filters.status,
        query=filters.query,
        cause=filters.cause,
        deactivated_from=filters.deactivated_from,
        deactivated_to=filters.deactivated_to,
    )


def _undelivered_boletos() -> Prefetch:
    """``schedule.undelivered_boletos``: its boletos not delivered, latest installment first."""
    return Prefetch(
        "boletos",
        queryset=Boleto.objects.filter(
            status=Boleto.Status.ISSUED, delivery_status=Boleto.DeliveryStatus.UNDELIVERED
        ).order_by("-sequence"),
        to_attr="undelivered_boletos",
    )


def schedule_rows(*, status: str) -> QuerySet[Schedule]:
    """What a list row shows: the customer and, for deactivated schedules, the undelivered
    boletos. Only ever filtered by ids of an already merchant-scoped list."""
    rows = Schedule.objects.select_related("customer")
    if status == ScheduleStatus.DEACTIVATED:
        rows = rows.prefetch_related(_undelivered_boletos())
    return rows


def schedule_list_page(
    *,
    merchant: Merchant,
    filters: ScheduleListFilters,
    page_number,
    per_page: int,
    counts: dict[str, int] | None = None,
):
    """One page of a tab, in a constant number of queries whatever the page: the COUNT (none
    when the tab's count is already known and nothing narrows it), the page's rows (cut by an
    index-only scan, fetched by id with their customer), and the undelivered boletos of those
    rows in the Desativados tab."""
    known = None if filters.narrowed or counts is None else counts.get(filters.status)
    paginator = DeferredJoinPaginator(
        schedule_list_filtered(merchant=merchant, filters=filters),
        per_page,
        rows=schedule_rows(status=filters.status),
        count=known,
    )
    return paginator.get_page(page_number)


def schedule_export_rows(*, merchant: Merchant, filters: ScheduleListFilters, chunk_size=2000):
    """Every row of a (filtered) tab for the CSV export, streamed in chunks: one query for
    each chunk of schedules and one for its undelivered boletos."""
    queryset = schedule_list_filtered(merchant=merchant, filters=filters)
    if filters.status == ScheduleStatus.DEACTIVATED:
        queryset = queryset.prefetch_related(_undelivered_boletos())
    return queryset.iterator(chunk_size=chunk_size)


def schedule_find_by_number(*, merchant: Merchant, number: int) -> Schedule | None:
    """The merchant's schedule with this number, whatever its status (or None)."""
    return (
        Schedule.objects.for_merchant(merchant)
        .filter(number=number)
        .only("id", "number", "status")
        .first()
    )


def schedule_find_by_form_token(*, merchant: Merchant, form_token) -> Schedule | None:
    """The merchant's schedule created by the form that carried this one-time token."""
    if form_token is None:
        return None
    return (
        Schedule.objects.for_merchant(merchant)
        .filter(form_token=form_token)
        .only("id", "number")
        .first()
    )


def schedule_upcoming_due_dates(
    *, schedule: Schedule, count: int = 6, today: date | None = None
) -> list[dict]:
    """The next ``count`` due dates from today on (America/Sao_Paulo), each saying whether its
    installment was already issued (the generator's cursor is past it), never past the
    schedule's end. None for a cancelled or finished schedule. A deactivated one shows what
    flows after a reactivation: installments whose issue date has passed are the missed ones
    (schedule_missed_installments), not upcoming. Dates are counted from the anchor (the due
    day's last change): installments before it are all issued."""
    if schedule.status in READ_ONLY_STATUSES:
        return []
    today = today or timezone.localdate()
    anchor_sequence, anchor_due, day = schedule.anchor
    every = schedule.frequency_months
    since = today
    if schedule.status == ScheduleStatus.DEACTIVATED:
        since = today + timedelta(days=schedule.lead_days + 1)  # issue date still ahead
    try:
        start = dates.first_sequence_due_on_or_after(anchor_due, every, since, day)
        due_dates = dates.due_dates(anchor_due, every, count, start=start, day=day)
    except dates.UnsupportedDateError:
        return []
    rows = []
    for i, due in enumerate(due_dates):
        sequence = anchor_sequence + start - 1 + i
        if not schedule.within_end(sequence, due):
            break
        rows.append(
            {"sequence": sequence, "due_date": due, "issued": sequence < schedule.next_sequence}
        )
    return rows


def boleto_recent(*, merchant: Merchant, limit: int = 10):
    return (
        Boleto.objects.for_merchant(merchant)
        .filter(status=Boleto.Status.ISSUED)
        .select_related("schedule", "bank")
        .order_by("-issued_at", "-id")[:limit]
    )


# What each deactivation cause means for the merchant, in plain words (reactivation form, detail).
CAUSE_HINTS = {
    DeactivationCause.INVALID_ADDRESS: _lazy(
        "O servidor do cliente informou que este endereço não existe (ou ele foi digitado "
        "errado). Confira o e-mail com o cliente e informe o endereço correto."
    ),
    DeactivationCause.MAILBOX_FULL: _lazy(
        "A caixa postal do cliente estava cheia em todas as tentativas. Confirme com o cliente "
        "se o endereço ainda é usado ou peça outro."
    ),
    DeactivationCause.SERVER_UNAVAILABLE: _lazy(
        "O servidor de e-mail do cliente não aceitou a mensagem em nenhuma das tentativas. "
        "Confirme o endereço com o cliente."
    ),
    DeactivationCause.SPAM_COMPLAINT: _lazy(
        "O cliente marcou o boleto como spam. Combine com ele antes de voltar a enviar por "
        "e-mail, ou informe outro endereço."
    ),
    DeactivationCause.UNSUBSCRIBED: _lazy(
        "O cliente pediu para não receber estes e-mails. Combine com ele antes de voltar a "
        "enviar, ou informe outro endereço."
    ),
    DeactivationCause.ESP_SUPPRESSED: _lazy(
        "O provedor de e-mail da plataforma não envia mais para este endereço: ele está na "
        "lista de bloqueio do provedor, em geral por uma devolução anterior. Se o endereço "
        "estiver correto, abra um chamado: o suporte pode retirar o bloqueio, e então você "
        "reativa mantendo o e-mail (marque a confirmação abaixo). Se não estiver, informe o "
        "endereço correto."
    ),
}


def cause_label(value: str) -> str:
    """The cause in plain Portuguese; an unknown stored value is shown as it is, never a 500."""
    try:
        return str(DeactivationCause(value).label)
    except ValueError:
        return value or ""


def sequence_list(sequences) -> str:
    """'3', '3 e 4', '3, 4 e 5' (pt-BR list of installment numbers)."""
    items = [str(n) for n in sequences]
    if len(items) <= 1:
        return "".join(items)
    return _("%(first)s e %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def schedule_deactivation(*, schedule: Schedule) -> dict | None:
    """Why a deactivated schedule stopped: the cause in plain words, what to do, the provider's
    diagnostic (recorded with the deactivation in the history, or else by a
    ``deactivation_diagnostics`` provider: notifications' alert) and when."""
    if schedule.status != ScheduleStatus.DEACTIVATED:
        return None
    event = (
        ScheduleEvent.objects.filter(schedule=schedule, kind=ScheduleEvent.Kind.DEACTIVATED)
        .order_by("-created_at", "-id")
        .only("data")
        .first()
    )
    diagnostic = (event.data.get("diagnostic") or "") if event else ""
    if not diagnostic:
        diagnostic = extensions.deactivation_diagnostics.first(schedule) or ""
    return {
        "cause": schedule.deactivation_cause,
        # Complaint / unsubscribe: nothing to "fix"; reactivating needs the customer's consent.
        "consent": needs_consent(schedule.deactivation_cause),
        "label": cause_label(schedule.deactivation_cause),
        "hint": CAUSE_HINTS.get(schedule.deactivation_cause, ""),
        "diagnostic": diagnostic,
        "at": schedule.deactivated_at,
    }


def schedule_email_suspect(*, schedule: Schedule):
    """Why the customer's current address is suspect (notifications: the provider event that
    called it nonexistent while still retrying), or None; asked of the ``email_suspects``
    providers, only for an active schedule."""
    if schedule.status != ScheduleStatus.ACTIVE:
        return None
    return extensions.email_suspects.first(schedule)


def schedule_undelivered_boletos(*, schedule: Schedule):
    """Issued boletos of this schedule that were not delivered, or not sent because the schedule
    was off when their turn came (the ones a reactivation can send again), oldest first."""
    return (
        Boleto.objects.for_merchant(schedule.merchant_id)
        .filter(
            schedule=schedule,
            status=Boleto.Status.ISSUED,
            delivery_status__in=[
                Boleto.DeliveryStatus.UNDELIVERED,
                Boleto.DeliveryStatus.WITHHELD,
            ],
        )
        .order_by("sequence")
    )


# Missed installments issued on reactivation whose due date has already passed get a new due date
# this many days ahead (then moved to a business day): a boleto is never registered already
# overdue, and the customer gets a few days to pay a charge that is late through no fault of
# theirs. Installments whose due date has not passed keep it.
MISSED_NEW_DUE_IN_DAYS = 5
# Safety bound on the walk (50 years of a monthly schedule).
MISSED_MAX = 600


@dataclass(frozen=True)
class MissedInstallment:
    sequence: int
    due_date: date  # the installment's own due date
    issue_on: date  # the day it should have been issued
    new_due_date: date | None  # the due date it gets if issued now (None: keeps its own)

    @property
    def due_date_if_issued(self) -> date:
        return self.new_due_date or self.due_date


def missed_new_due_date(today: date) -> date:
    return dates.next_business_day(today + timedelta(days=MISSED_NEW_DUE_IN_DAYS))


def schedule_missed_installments(
    *, schedule: Schedule, today: date | None = None
) -> list[MissedInstallment]:
    """The installments whose issue date passed while the schedule was deactivated (up to
    ``today`` in America/Sao_Paulo), from the generator's cursor on. Empty unless deactivated."""
    if schedule.status != ScheduleStatus.DEACTIVATED:
        return []
    today = today or timezone.localdate()
    lead = timedelta(days=schedule.lead_days)
    new_due = None
    missed = []
    sequence = schedule.next_sequence
    while len(missed) < MISSED_MAX:
        try:
            due = schedule.due_date_of(sequence)
        except dates.UnsupportedDateError:
            break
        if due - lead > today or not schedule.within_end(sequence, due):
            break
        if due < today and new_due is None:
            new_due = missed_new_due_date(today)
        missed.append(
            MissedInstallment(
                sequence=sequence,
                due_date=due,
                issue_on=due - lead,
                new_due_date=new_due if due < today else None,
            )
        )
        sequence += 1
    return missed


def schedule_preview_dates(
    *,
    first_due_date: date,
    frequency_months: int,
    lead_days: int | None = None,
    count: int = 6,
    today: date | None = None,
) -> list[dict]:
    """The first ``count`` due dates of a schedule not saved yet (the form's preview), each with
    the date it would have had before the business-day shift, and the day it will be issued."""
    today = today or timezone.localdate()
    rows = []
    for sequence in range(1, count + 1):
        try:
            nominal = dates.nominal_due_date(first_due_date, frequency_months, sequence)
            due = dates.next_business_day(nominal)
        except dates.UnsupportedDateError:
            break
        issue_on = due - timedelta(days=lead_days) if lead_days else None
        rows.append(
            {
                "sequence": sequence,
                "due_date": due,
                "nominal": nominal,
                "moved": nominal != due,
                "issue_on": issue_on,
                "issued_at_once": issue_on is not None and issue_on <= today,
            }
        )
    return rows


def schedule_installments(*, schedule: Schedule):
    """Every installment (issued or skipped) of a schedule, newest first."""
    return (
        Boleto.objects.for_merchant(schedule.merchant_id)
        .filter(schedule=schedule)
        .select_related("bank")
        .order_by("-sequence")
    )


def schedule_skipped_on_reactivation(*, schedule: Schedule) -> set[int]:
    """Sequences the merchant chose to skip when reactivating (not skipped for being late)."""
    skipped: set[int] = set()
    for data in ScheduleEvent.objects.filter(
        schedule=schedule, kind=ScheduleEvent.Kind.INSTALLMENTS_SKIPPED
    ).values_list("data", flat=True):
        skipped.update(data.get("sequences", []))
    return skipped


def customer_other_schedules(*, schedule: Schedule) -> list[Schedule]:
    """The customer's other schedules that are not cancelled (they share the customer's email)."""
    return list(
        Schedule.objects.for_merchant(schedule.merchant_id)
        .filter(customer_id=schedule.customer_id)
        .exclude(pk=schedule.pk)
        .exclude(status=ScheduleStatus.CANCELLED)
        .only("number", "status")
        .order_by("number")[:50]
    )


# --- Editing a schedule ------------------------------------------------------------------------

EDIT_PREVIEW_COUNT = 3


@dataclass(frozen=True)
class EditPlan:
    """What an edit would do, computed the same way for the form's preview and for the save:
    the changes apply from ``sequence``, the next installment not issued yet."""

    sequence: int
    due_date: date | None  # its due date after the changes (None: no such installment)
    anchor: tuple[int, date, int | None] | None  # the new anchor when the due day changes
    next_dates: list[dict]  # the next installments after the changes: sequence, due_date


def schedule_reanchor(
    *, schedule: Schedule, due_day: int, today: date | None = None
) -> tuple[int, date, int]:
    """The anchor for due day ``due_day``, from the next installment not issued yet: its own
    month on that day (the last day of a shorter month). For an active schedule a date that is
    not after today moves one period ahead (never an installment born overdue); a deactivated
    schedule keeps the month, its missed installments are decided on reactivation."""
    today = today or timezone.localdate()
    sequence = schedule.next_sequence
    anchor_sequence, anchor_due, day = schedule.anchor
    every = schedule.frequency_months
    nominal = dates.nominal_due_date(anchor_due, every, sequence - anchor_sequence + 1, day)
    new_anchor = dates.with_day(nominal, due_day)
    if schedule.status == ScheduleStatus.ACTIVE:
        for _ in range(3):  # one step always suffices; bounded anyway
            if dates.next_business_day(new_anchor) > today:
                break
            new_anchor = dates.nominal_due_date(new_anchor, every, 2, due_day)
    return sequence, new_anchor, due_day


def _edited(schedule: Schedule, *, anchor=None, end_count=None, end_date=None) -> Schedule:
    """An unsaved copy of ``schedule`` with the anchor and end an edit would give it."""
    edited = copy(schedule)
    if anchor is not None:
        edited.anchor_sequence, edited.anchor_due_date, edited.anchor_day = anchor
    edited.end_count, edited.end_date = end_count, end_date
    return edited


def schedule_edit_plan(
    *,
    schedule: Schedule,
    due_day: int | None = None,
    end_count: int | None = None,
    end_date: date | None = None,
    today: date | None = None,
    count: int = EDIT_PREVIEW_COUNT,
) -> EditPlan:
    """What the edit form's preview shows: from which installment the changes apply, its due
    date, and the next ``count`` due dates, with the due day (when it changes) and the end
    given (``end_count``/``end_date``: the end as it would be after the edit)."""
    anchor = None
    if due_day is not None and due_day != schedule.due_day:
        anchor = schedule_reanchor(schedule=schedule, due_day=due_day, today=today)
    edited = _edited(schedule, anchor=anchor, end_count=end_count, end_date=end_date)
    sequence = schedule.next_sequence
    rows = []
    for n in range(sequence, sequence + count):
        try:
            due = edited.due_date_of(n)
        except dates.UnsupportedDateError:
            break
        if not edited.within_end(n, due):
            break
        rows.append({"sequence": n, "due_date": due})
    return EditPlan(
        sequence=sequence,
        due_date=rows[0]["due_date"] if rows else None,
        anchor=anchor,
        next_dates=rows,
    )
