"""The installment generator: issues every installment whose issue date has arrived.

Contract:
- An installment is issued at most once, ever: ``(schedule, sequence)`` is unique in the
  database, and each batch locks its schedules with ``FOR UPDATE SKIP LOCKED`` and advances their
  cursor in the same transaction, so concurrent generators split the work instead of sharing it.
- An installment whose due date has already passed when it is first seen is recorded as
  ``skipped``, never issued.
- Work is done in batches: a fixed number of statements per batch (lock, insert, cursor update),
  never per row. On PostgreSQL the insert is a COPY (see ``_insert_postgresql``; bench/generator.py
  and docs/benchmarks.md measure it), elsewhere bulk_create.
- Newly issued installments are handed to delivery after the batch commits.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.utils import timezone

from billing import nosso_numero_allocation
from billing.boleto_codes import boleto_codes
from billing.febraban import BoletoError
from billing.models import Boleto
from portal.logs import log_decision
from portal.models import Merchant
from schedules import dates
from schedules.models import Schedule, ScheduleEvent, ScheduleStatus
from schedules.signals import boletos_issued_on_commit

logger = logging.getLogger(__name__)

# A schedule that was stopped for years must not flood one batch; the rest comes next run.
MAX_INSTALLMENTS_PER_SCHEDULE_PER_RUN = 120

_SCHEDULE_FIELDS = (
    "id",
    "merchant_id",
    "amount",
    "frequency_months",
    "anchor_due",  # Coalesce(anchor_due_date, first_due_date), see _lock_batch
    "lead_days",
    "next_sequence",
    "number",
    "anchor_sequence",
    "end_count",
    "end_date",
    "anchor_day",
)
_PAYER_AT = len(_SCHEDULE_FIELDS)
_PAYER_KEYS = (
    "name",
    "document",
    "email",
    "address_street",
    "address_district",
    "address_city",
    "address_state",
    "address_zip",
)


@dataclass
class IssueRun:
    issued: int = 0
    skipped: int = 0
    schedules: int = 0
    batches: int = 0


class Installment(NamedTuple):
    """One row the batch will insert: plain values, no model instance (see _insert_postgresql)."""

    merchant_id: int
    schedule_id: int
    sequence: int
    due_date: date
    amount: Decimal
    issued: bool  # False: already past due when first seen, recorded as skipped
    payer: dict | str  # the pagador snapshot; JSON text on PostgreSQL (see _lock_batch)
    nosso_numero: int | None = None
    barcode: str = ""
    linha_digitavel: str = ""
    pix_payload: str = ""


def beneficiary_snapshot(merchant: Merchant) -> dict:
    return {
        "legal_name": merchant.legal_name,
        "trade_name": merchant.trade_name,
        "cnpj": merchant.cnpj,
        "address_street": merchant.address_street,
        "address_city": merchant.address_city,
        "address_state": merchant.address_state,
        "address_zip": merchant.address_zip,
        "bank_code": merchant.bank_code,
        "agency": merchant.agency,
        "agency_digit": merchant.agency_digit,
        "account": merchant.account,
        "account_digit": merchant.account_digit,
        "wallet": merchant.wallet,
        "agreement": merchant.agreement,
        "pix_key": merchant.pix_key,
        "late_fee_percent": str(merchant.late_fee_percent),
        "monthly_interest_percent": str(merchant.monthly_interest_percent),
        # The stored name of the logo at issue (portal.logos names files by content and never
        # deletes them): the boleto's PDF and email keep the logo it was issued with.
        "logo": merchant.logo.name or "",
    }


def installments_issue_due(
    *,
    today: date | None = None,
    batch_size: int | None = None,
    schedule_id: int | None = None,
    merchant_id: int | None = None,
) -> IssueRun:
    """Issue every due installment of every active schedule (or of one schedule)."""
    today = today or timezone.localdate()
    batch_size = batch_size or settings.GENERATOR_BATCH_SIZE
    run = IssueRun()
    beneficiaries: dict[int, dict] = {}
    last_id = 0
    while True:
        with transaction.atomic():
            rows = _lock_batch(
                today=today,
                after_id=last_id,
                limit=batch_size,
                schedule_id=schedule_id,
                merchant_id=merchant_id,
            )
            if not rows:
                break
            last_id = rows[-1][0]
            _load_beneficiaries(beneficiaries, {row[1] for row in rows})
            _issue_batch(rows=rows, today=today, beneficiaries=beneficiaries, run=run)
        if len(rows) < batch_size:
            break
    log_decision(
        logger,
        "generator_run",
        level=logging.INFO if run.schedules else logging.DEBUG,
        today=today,
        schedules=run.schedules,
        issued=run.issued,
        skipped=run.skipped,
        batches=run.batches,
    )
    return run


def installments_due_count(*, today: date | None = None, limit: int) -> int:
    """How many active schedules have an installment to issue, counted up to ``limit`` (an
    index-only count of at most ``limit`` rows: cheap enough to run before every beat run)."""
    today = today or timezone.localdate()
    due = Schedule.objects.filter(status=ScheduleStatus.ACTIVE, next_issue_on__lte=today)
    return due.values("id")[:limit].count()


def cursor_after(schedule: Schedule, sequence: int) -> tuple[int, date]:
    """The cursor ``(next_sequence, next_issue_on)`` pointing at the installment after
    ``sequence``, as a batch leaves it (parked at date.max beyond the holiday calendar).

    Past the schedule's end there is no next installment: the cursor then points at the issue
    day of ``sequence`` itself (already arrived), so the next generator run for the schedule
    finds nothing to issue and finishes it."""
    following = sequence + 1
    lead = timedelta(days=schedule.lead_days)
    try:
        due = schedule.due_date_of(following)
    except dates.UnsupportedDateError:
        return following, date.max
    if not schedule.within_end(following, due):
        return following, schedule.due_date_of(sequence) - lead
    return following, due - lead


class NumberingError(Exception):
    """The merchant's boleto numbers cannot be computed now (bank data, nosso número range)."""


def installments_record(
    *, schedule: Schedule, payer: dict, items: list[tuple[int, date]], issue: bool, now
) -> list[int]:
    """Rows for installments decided outside a batch (a reactivation's missed installments):
    ``items`` are ``(sequence, due_date)``, all recorded as skipped or all issued with that due
    date, numbered and inserted by the batch's own code (``_number``, ``_insert``). The cursor is
    the caller's (``cursor_after``); hand-off too. Returns the new boletos' ids.

    Raises NumberingError, inserting nothing, when an issued row cannot be numbered.
    ``(schedule, sequence)`` is unique: never twice.
    """
    merchant = Merchant.objects.get(pk=schedule.merchant_id)
    beneficiaries = {merchant.pk: beneficiary_snapshot(merchant)}
    rows = [
        Installment(merchant.pk, schedule.pk, sequence, due, schedule.amount, issue, payer)
        for sequence, due in items
    ]
    numbered, _, failed = _number(rows, [], beneficiaries, decision="reactivation_refused")
    if failed:
        raise NumberingError(schedule.pk)
    return _insert(numbered, beneficiaries, now)


def _lock_batch(*, today, after_id, limit, schedule_id, merchant_id):
    """Lock the next batch of due schedules, skipping those another generator holds.

    Rows are ``(id, merchant_id, amount, every, anchor_due, lead_days, next_sequence, number,
    anchor_sequence, end_count, end_date, anchor_day, payer)``.
    On PostgreSQL the payer snapshot comes back as JSON text built by the server
    (``jsonb_build_object``): the COPY passes it through untouched instead of Python encoding
    100,000 dicts per run; elsewhere it is a dict.
    """
    queryset = Schedule.objects.filter(
        status=ScheduleStatus.ACTIVE, next_issue_on__lte=today, id__gt=after_id
    )
    if schedule_id is not None:
        queryset = queryset.filter(id=schedule_id)
    if merchant_id is not None:
        queryset = queryset.filter(merchant_id=merchant_id)
    queryset = queryset.annotate(anchor_due=Coalesce("anchor_due_date", "first_due_date"))
    if connection.vendor == "postgresql":
        payer = JSONObject(**{key: F(f"customer__{key}") for key in _PAYER_KEYS})
        queryset = queryset.annotate(payer_json=Cast(payer, output_field=TextField()))
        fields = (*_SCHEDULE_FIELDS, "payer_json")
    else:
        fields = (*_SCHEDULE_FIELDS, *(f"customer__{key}" for key in _PAYER_KEYS))
    rows = list(
        queryset.order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(*fields)[:limit]
    )
    if connection.vendor != "postgresql":
        rows = [
            (*row[:_PAYER_AT], dict(zip(_PAYER_KEYS, row[_PAYER_AT:], strict=True))) for row in rows
        ]
    return rows


def _load_beneficiaries(cache: dict[int, dict], merchant_ids: set[int]) -> None:
    missing = merchant_ids - cache.keys()
    if missing:
        for merchant in Merchant.objects.filter(pk__in=missing):
            cache[merchant.pk] = beneficiary_snapshot(merchant)


def _issue_batch(*, rows, today: date, beneficiaries: dict[int, dict], run: IssueRun) -> None:
    now = timezone.now()
    # One plain tuple per installment (no model instances): (merchant_id, schedule_id, sequence,
    # due_date, amount, issued, payer).
    installments: list[Installment] = []
    # (schedule id, next_sequence, next_issue_on, finished)
    cursors: list[tuple[int, int, date, bool]] = []
    due_date = _memoized_due_date({})
    one_day = timedelta(days=1)
    numbers: dict[int, int] = {}  # schedule id -> public number, for the log lines
    for row in rows:
        (
            schedule_id,
            merchant_id,
            amount,
            every,
            anchor_due,
            lead_days,
            sequence,
            number,
            anchor_sequence,
            end_count,
            end_date,
            day,
            payer,
        ) = row
        numbers[schedule_id] = number
        lead = lead_days * one_day
        # Installment n is due (n - anchor_sequence + 1) periods from the anchor (memo key).
        offset = 1 - anchor_sequence
        finished = False
        for _ in range(MAX_INSTALLMENTS_PER_SCHEDULE_PER_RUN):
            if end_count is not None and sequence > end_count:
                finished = True
                break
            try:
                due = due_date(anchor_due, every, sequence + offset, day)
            except dates.UnsupportedDateError:
                break
            if end_date is not None and due > end_date:
                finished = True
                break
            if due - lead > today:
                break
            installments.append(
                Installment(merchant_id, schedule_id, sequence, due, amount, due >= today, payer)
            )
            sequence += 1
        if finished:
            # The last installment was issued (in this batch or before): the schedule finishes
            # with it, in this transaction (_advance_cursors).
            cursors.append((schedule_id, sequence, today, True))
            continue
        try:
            next_issue_on = due_date(anchor_due, every, sequence + offset, day) - lead
        except dates.UnsupportedDateError:
            # Beyond the holiday calendar (after 2100): park the schedule instead of failing the
            # whole batch on every run.
            log_decision(
                logger,
                "schedule_parked",
                level=logging.ERROR,
                merchant=merchant_id,
                schedule_id=schedule_id,
                schedule_number=number,
                decision="parked",
                reason="beyond_holiday_calendar",
            )
            next_issue_on = date.max
        cursors.append((schedule_id, sequence, next_issue_on, False))

    installments, cursors, _ = _number(installments, cursors, beneficiaries)
    ids = _insert(installments, beneficiaries, now)
    _advance_cursors(cursors, now)
    for installment in installments:
        if not installment.issued:
            # A decision the merchant may ask about: never issued silently, recorded as skipped.
            log_decision(
                logger,
                "installment_skipped",
                merchant=installment.merchant_id,
                schedule_id=installment.schedule_id,
                schedule_number=numbers[installment.schedule_id],
                decision="skipped",
                sequence=installment.sequence,
                due=installment.due_date,
                reason="past_due_when_first_seen",
            )

    issued_by_merchant: dict[int, list[int]] = defaultdict(list)
    for boleto_id, installment in zip(ids, installments, strict=True):
        if installment.issued:
            issued_by_merchant[installment.merchant_id].append(boleto_id)
    issued = sum(len(boleto_ids) for boleto_ids in issued_by_merchant.values())
    run.issued += issued
    run.skipped += len(installments) - issued
    run.schedules += len(rows)
    run.batches += 1
    boletos_issued_on_commit(issued_by_merchant)


def _number(
    installments: list[Installment],
    cursors: list[tuple],
    beneficiaries: dict[int, dict],
    *,
    decision: str = "schedule_left_out_of_batch",
) -> tuple[list[Installment], list[tuple], set[int]]:
    """Give every issued installment its nosso número, barcode, linha digitável and Pix.

    Nosso números come from one allocation for the whole batch. A schedule whose numbers cannot
    be computed (the merchant's bank data became invalid, its nosso número range is exhausted) is
    left out of this batch, its cursor untouched, and logged with ``decision``; the rest of the
    batch goes on. Returns the numbered rows, the cursors kept and the schedules left out.
    """
    counts: dict[int, int] = defaultdict(int)
    for installment in installments:
        if installment.issued:
            counts[installment.merchant_id] += 1
    allocated = {m: iter(values) for m, values in nosso_numero_allocation.allocate(counts).items()}
    numbered: list[Installment] = []
    append = numbered.append
    failed: set[int] = set()
    for installment in installments:
        if not installment.issued:
            append(installment)
            continue
        merchant_id, schedule_id, sequence, due, amount, issued, payer = installment[:7]
        beneficiary = beneficiaries[merchant_id]
        number = next(allocated[merchant_id])
        try:
            barcode, linha, pix = boleto_codes(
                beneficiary=beneficiary, nosso_numero=number, due_date=due, amount=amount
            )
        except (BoletoError, ValueError) as exc:
            log_decision(
                logger,
                "numbering_failed",
                level=logging.ERROR,
                merchant=merchant_id,
                schedule_id=schedule_id,
                decision=decision,
                sequence=sequence,
                error=str(exc),
            )
            failed.add(schedule_id)
            continue
        append(
            Installment(
                merchant_id,
                schedule_id,
                sequence,
                due,
                amount,
                issued,
                payer,
                number,
                barcode,
                linha,
                pix,
            )
        )
    if failed:
        numbered = [row for row in numbered if row.schedule_id not in failed]
        cursors = [cursor for cursor in cursors if cursor[0] not in failed]
    return numbered, cursors, failed


def _memoized_due_date(memo: dict):
    """``dates.due_date`` with a per-batch memo: schedules cluster on a few first due dates (the
    5th, the 10th, ...), so most (first_due, every, sequence) triples repeat within a batch."""
    compute = dates.due_date

    def due_date(first_due: date, every: int, sequence: int, day: int | None = None) -> date:
        key = (first_due, every, sequence, day)
        try:
            return memo[key]
        except KeyError:
            memo[key] = value = compute(first_due, every, sequence, day)  # errors not memoized
            return value

    return due_date


def _insert(installments: list[Installment], beneficiaries: dict[int, dict], now) -> list[int]:
    """Insert the rows; the new boletos' ids, in the same order."""
    if connection.vendor == "postgresql":
        return _insert_postgresql(installments, beneficiaries, now)
    return _insert_generic(installments, beneficiaries, now)


def _insert_generic(
    installments: list[Installment], beneficiaries: dict[int, dict], now
) -> list[int]:
    """Any backend: bulk_create (one INSERT per 1,000 rows, ids back where the backend can)."""
    boletos = [
        Boleto(
            merchant_id=row.merchant_id,
            schedule_id=row.schedule_id,
            sequence=row.sequence,
            due_date=row.due_date,
            amount=row.amount,
            status=Boleto.Status.ISSUED if row.issued else Boleto.Status.SKIPPED,
            delivery_status=(
                Boleto.DeliveryStatus.PENDING
                if row.issued
                else Boleto.DeliveryStatus.NOT_APPLICABLE
            ),
            issued_at=now,
            payer=row.payer,
            beneficiary=beneficiaries[row.merchant_id],
            nosso_numero=row.nosso_numero,
            barcode=row.barcode,
            linha_digitavel=row.linha_digitavel,
            pix_payload=row.pix_payload,
            created_at=now,
            updated_at=now,
        )
        for row in installments
    ]
    Boleto.objects.bulk_create(boletos, batch_size=1000)
    return [boleto.pk for boleto in boletos]


# Columns the PostgreSQL fast path computes per row; every other concrete column of Boleto gets its
# model default (NULL numbers and hand-off time, empty barcode/PDF), read from the model so that a
# new field cannot be silently left out.
_COMPUTED_COLUMNS = (
    "id",
    "merchant_id",
    "schedule_id",
    "sequence",
    "due_date",
    "amount",
    "status",
    "delivery_status",
    "issued_at",
    "payer",
    "beneficiary",
    "nosso_numero",
    "barcode",
    "linha_digitavel",
    "pix_payload",
    "created_at",
    "updated_at",
)


def _constant_columns() -> tuple[tuple[str, ...], tuple]:
    columns, values = [], []
    for field in Boleto._meta.concrete_fields:
        if field.column in _COMPUTED_COLUMNS:
            continue
        columns.append(field.column)
        values.append(field.get_db_prep_save(field.get_default(), connection))
    return tuple(columns), tuple(values)


_json_dumps = json.JSONEncoder().encode  # what JSONField stores: json.dumps with no options
# The bank state row (registration "pending" or "n/a") is made by the database with each boleto
# (billing.models.BoletoBank).
_ISSUED = (Boleto.Status.ISSUED.value, Boleto.DeliveryStatus.PENDING.value)
_SKIPPED = (Boleto.Status.SKIPPED.value, Boleto.DeliveryStatus.NOT_APPLICABLE.value)


def _insert_postgresql(
    installments: list[Installment], beneficiaries: dict[int, dict], now
) -> list[int]:
    """PostgreSQL: COPY the batch in, with ids drawn beforehand from the table's own sequence.

    Row for row this stores what bulk_create stores, but bulk_create spends most of a batch in
    Python (a model instance per row, per-field preparation, and client-side quoting of its UNNEST
    arrays, which escapes every quote of every JSON snapshot with a regex). COPY hands psycopg
    plain tuples that its C code formats. Constraints, the (schedule, sequence) unique key above
    all, and foreign keys are enforced exactly as for an INSERT.
    """
    if not installments:
        return []
    constant_columns, constant_values = _constant_columns()
    table = Boleto._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq)"
            " AS q, generate_series(1, %s)",
            [table, len(installments)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        beneficiary_json: dict[int, str] = {}
        columns = ", ".join(_COMPUTED_COLUMNS + constant_columns)
        # COPY goes to psycopg directly: translate its errors (IntegrityError on a duplicate
        # installment, ...) into Django's, as cursor.execute does.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for boleto_id, (
                merchant_id,
                schedule_id,
                sequence,
                due,
                amount,
                issued,
                payer,
                number,
                barcode,
                linha,
                pix,
            ) in zip(ids, installments, strict=True):
                beneficiary = beneficiary_json.get(merchant_id)
                if beneficiary is None:
                    beneficiary = beneficiary_json[merchant_id] = _json_dumps(
                        beneficiaries[merchant_id]
                    )
                payer_text = payer if payer.__class__ is str else _json_dumps(payer)
                status, delivery_status = _ISSUED if issued else _SKIPPED
                write_row(
                    (
                        boleto_id,
                        merchant_id,
                        schedule_id,
                        sequence,
                        due,
                        amount,
                        status,
                        delivery_status,
                        now,
                        payer_text,
                        beneficiary,
                        number,
                        barcode,
                        linha,
                        pix,
                        now,
                        now,
                        *constant_values,
                    )
                )
    return ids


def _advance_cursors(cursors: list[tuple[int, int, date, bool]], now) -> None:
    """Move every cursor of the batch in one statement; schedules past their end become
    FINISHED in that same statement, and their history gets a FINISHED event (one INSERT)."""
    if not cursors:  # every schedule of the batch was left out (see _number)
        return
    finished_ids = [cursor[0] for cursor in cursors if cursor[3]]
    if connection.vendor == "postgresql":
        # One statement for the whole batch (bulk_update would build a CASE per row). The id range
        # is redundant with the join but lets the planner read only this batch's slice of the
        # primary key instead of hashing the whole table on every batch. Only a batch where a
        # schedule finishes sets the status (the tab-count trigger then fires for those rows
        # alone); the usual batch keeps the plain cursor update.
        ids, sequences, issue_dates, finished = zip(*cursors, strict=True)
        params = [now, list(ids), list(sequences), list(issue_dates)]
        if finished_ids:
            statement = """
                UPDATE schedules_schedule AS s
                   SET next_sequence = v.seq, next_issue_on = v.issue_on, updated_at = %s,
                       status = CASE WHEN v.fin THEN %s ELSE s.status END,
                       finished_at = CASE WHEN v.fin THEN %s ELSE s.finished_at END
                  FROM unnest(%s::bigint[], %s::int[], %s::date[], %s::boolean[])
                       AS v(id, seq, issue_on, fin)
                 WHERE s.id = v.id AND s.id BETWEEN %s AND %s
                """
            params = [
                now,
                ScheduleStatus.FINISHED.value,
                now,
                *params[1:],
                list(finished),
            ]
        else:
            statement = """
                UPDATE schedules_schedule AS s
                   SET next_sequence = v.seq, next_issue_on = v.issue_on, updated_at = %s
                  FROM unnest(%s::bigint[], %s::int[], %s::date[]) AS v(id, seq, issue_on)
                 WHERE s.id = v.id AND s.id BETWEEN %s AND %s
                """
        with connection.cursor() as cursor:
            cursor.execute(statement, [*params, min(ids), max(ids)])
    else:
        objs = [
            Schedule(id=sid, next_sequence=seq, next_issue_on=issue_on, updated_at=now)
            for sid, seq, issue_on, fin in cursors
            if not fin
        ]
        Schedule.objects.bulk_update(objs, ["next_sequence", "next_issue_on", "updated_at"])
        if finished_ids:
            Schedule.objects.bulk_update(
                [
                    Schedule(
                        id=sid,
                        next_sequence=seq,
                        next_issue_on=issue_on,
                        updated_at=now,
                        status=ScheduleStatus.FINISHED,
                        finished_at=now,
                    )
                    for sid, seq, issue_on, fin in cursors
                    if fin
                ],
                ["next_sequence", "next_issue_on", "updated_at", "status", "finished_at"],
            )
    if finished_ids:
        _record_finished(cursors, now)


def _record_finished(cursors: list[tuple[int, int, date, bool]], now) -> None:
    """A FINISHED history event per schedule that finished in this batch (one INSERT)."""
    merchants = dict(
        Schedule.objects.filter(pk__in=[c[0] for c in cursors if c[3]]).values_list(
            "pk", "merchant_id"
        )
    )
    ScheduleEvent.objects.bulk_create(
        ScheduleEvent(
            merchant_id=merchants[sid],
            schedule_id=sid,
            kind=ScheduleEvent.Kind.FINISHED,
            data={"last_sequence": seq - 1},
        )
        for sid, seq, _issue_on, fin in cursors
        if fin
    )
    for sid, seq, _issue_on, fin in cursors:
        if fin:
            log_decision(
                logger,
                "schedule_finished",
                merchant=merchants[sid],
                schedule_id=sid,
                decision="finished",
                last_sequence=seq - 1,
            )
