"""Importar planilha: preview a file, store the preview, import its valid rows.

- ``import_preview``: every row validated (rows.RowValidator), then the file-wide rules: a row
  whose CPF/CNPJ is already a customer uses that customer (its data is never overwritten by the
  spreadsheet; differences are noted), several rows of one new CPF/CNPJ make one customer, and a
  row with the same CPF/CNPJ, amount, frequency and first due date as an earlier row or as an
  existing schedule is a duplicate (reported, not imported). That rule is also why uploading the
  same file again imports nothing twice.
- ``import_batch_create`` stores a preview (ImportBatch) so that it is confirmed by id.
- ``import_rows_create`` / ``import_batch_confirm``: the valid rows in one transaction, under the
  merchant's row lock (concurrent imports of one merchant run one after the other, and the
  duplicate rule is checked again under it), with bulk inserts and one number allocation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Customer
from portal.formats import date_br
from portal.models import Merchant
from portal.queue import enqueue_on_commit
from schedules.importing import rows as row_rules
from schedules.importing.reading import Table
from schedules.importing.rows import RowResult, RowValidator
from schedules.models import ImportBatch, Schedule, ScheduleEvent
from schedules.tasks import issue_due_installments_task

CUSTOMER_KEYS = (
    "name",
    "document",
    "email",
    "phone",
    "address_street",
    "address_district",
    "address_city",
    "address_state",
    "address_zip",
)
DUPLICATE_FIELD = ""  # a duplicate is about the row, not one column (command's JSON errors)


@dataclass
class Preview:
    file_format: str
    sha256: str
    ignored_columns: list[str]
    rows: list[RowResult]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def valid(self) -> list[RowResult]:
        return [row for row in self.rows if row.status == "ok"]

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.status == "error")

    @property
    def duplicate_count(self) -> int:
        return sum(1 for row in self.rows if row.status == "duplicate")

    def errors(self) -> list[dict]:
        """Every problem as ``{"row", "field", "message"}`` (duplicates with field "")."""
        found = []
        for row in self.rows:
            for column, message in row.errors:
                found.append({"row": row.number, "field": column, "message": message})
            if row.status == "duplicate":
                found.append(
                    {"row": row.number, "field": DUPLICATE_FIELD, "message": row.duplicate_of}
                )
        return found


@dataclass
class ImportResult:
    created: int = 0
    customers_created: int = 0
    duplicates: int = 0  # valid rows found duplicate only under the lock (a concurrent import)
    numbers: list[int] = field(default_factory=list)
    already_imported: bool = False


def _key(cleaned: dict) -> tuple:
    return (
        cleaned["customer"]["document"],
        cleaned["amount"],
        cleaned["frequency_months"],
        cleaned["first_due_date"],
    )


def _existing_schedules(merchant: Merchant, documents: Iterable[str]) -> dict[tuple, int]:
    """(document, amount, frequency, first due date) -> number, for this merchant's schedules
    of these customers (any status: a cancelled schedule imported again is still a duplicate)."""
    rows = (
        Schedule.objects.for_merchant(merchant)
        .filter(customer__document__in=list(documents))
        .values_list("customer__document", "amount", "frequency_months", "first_due_date", "number")
    )
    return {(doc, amount, every, first): number for doc, amount, every, first, number in rows}


def _existing_customers(merchant: Merchant, documents: Iterable[str]) -> dict[str, dict]:
    rows = (
        Customer.objects.for_merchant(merchant)
        .filter(document__in=list(documents))
        .values("id", "document", "name", "email")
    )
    return {row["document"]: row for row in rows}


def import_preview(*, merchant: Merchant, table: Table, today: date | None = None) -> Preview:
    """Validate every row of ``table`` for ``merchant`` (reads only)."""
    today = today or timezone.localdate()
    validator = RowValidator(merchant=merchant, today=today)
    results = [validator.validate(raw.number, raw.values) for raw in table.rows]
    valid = [row for row in results if row.cleaned is not None]
    documents = {row.cleaned["customer"]["document"] for row in valid}
    customers = _existing_customers(merchant, documents)
    schedules = _existing_schedules(merchant, documents)
    seen: dict[tuple, int] = {}
    first_of_customer: dict[str, RowResult] = {}
    for row in valid:
        cleaned = row.cleaned
        key = _key(cleaned)
        if key in schedules:
            row.status = "duplicate"
            row.duplicate_of = _(
                "Duplicado: já existe o agendamento nº %(number)s com o mesmo CPF/CNPJ, valor, "
                "frequência e primeiro vencimento."
            ) % {"number": schedules[key]}
        elif key in seen:
            row.status = "duplicate"
            row.duplicate_of = _(
                "Duplicado: igual à linha %(row)s (mesmo CPF/CNPJ, valor, frequência e primeiro "
                "vencimento)."
            ) % {"row": seen[key]}
        else:
            seen[key] = row.number
        _note_customer(row, customers, first_of_customer)
        if row.status == "ok":
            sequence, issue_on = row_rules.first_installment(
                first_due_date=cleaned["first_due_date"],
                frequency_months=cleaned["frequency_months"],
                lead_days=cleaned["lead_days"],
                today=today,
            )
            row.first_installment = (sequence, issue_on)
    return Preview(
        file_format=table.file_format,
        sha256=table.sha256,
        ignored_columns=list(table.ignored_columns),
        rows=results,
    )


def _note_customer(row: RowResult, existing: dict, first_of_customer: dict) -> None:
    customer = row.cleaned["customer"]
    document = customer["document"]
    registered = existing.get(document)
    if registered is not None:
        row.suggestion = None  # the registered customer's email is used, not this row's
        if (
            registered["name"].casefold() != customer["name"].casefold()
            or registered["email"].casefold() != customer["email"].casefold()
        ):
            row.notes.append(
                _(
                    "Cliente já cadastrado com este CPF/CNPJ: o agendamento usa o cadastro "
                    "existente (%(name)s, %(email)s); os dados desta linha não alteram o "
                    "cadastro."
                )
                % {"name": registered["name"], "email": registered["email"]}
            )
        return
    first = first_of_customer.setdefault(document, row)
    if first is not row and any(
        first.cleaned["customer"][key] != customer[key] for key in CUSTOMER_KEYS
    ):
        row.notes.append(
            _(
                "Mesmo CPF/CNPJ da linha %(row)s: o cliente é cadastrado uma vez, com os dados "
                "daquela linha."
            )
            % {"row": first.number}
        )


# --- Storing a preview --------------------------------------------------------------------------


def _report_row(row: RowResult) -> dict:
    first = row.first_installment
    return {
        "row": row.number,
        "status": row.status,
        "values": row.display,
        "errors": [list(pair) for pair in row.errors],
        "duplicate_of": row.duplicate_of,
        "notes": row.notes,
        "first_installment": (
            {"sequence": first[0], "issue_on": first[1].isoformat()} if first else None
        ),
        "suggestion": row.suggestion,
    }


def import_batch_create(
    *, merchant: Merchant, preview: Preview, original_name: str, actor=None
) -> ImportBatch:
    """Keep a preview until the merchant confirms it (the file itself is not kept)."""
    valid = preview.valid
    batch = ImportBatch(
        merchant=merchant,
        original_name=(original_name or "planilha")[:255],
        sha256=preview.sha256,
        file_format=preview.file_format,
        total_rows=preview.total,
        valid_rows=len(valid),
        error_rows=preview.error_count,
        duplicate_rows=preview.duplicate_count,
        ignored_columns=preview.ignored_columns,
        report=[_report_row(row) for row in preview.rows],
        rows=[{"row": row.number, **row_rules.to_json(row.cleaned)} for row in valid],
        created_by=actor,
    )
    batch.full_clean()
    batch.save()
    return batch


# --- Importing ----------------------------------------------------------------------------------


def import_rows_create(
    *,
    merchant: Merchant,
    rows: Sequence[dict],
    actor=None,
    today: date | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Create the schedules (and new customers) of validated rows, all or nothing.

    Runs under the merchant's row lock: another import of the same merchant waits, then finds
    these schedules and skips them as duplicates. Existing customers are used as they are.
    Installments already due are issued right after commit by one generator run.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        return _create(locked, rows, actor=actor, today=today, batch=batch)


def _create(merchant, rows, *, actor, today, batch) -> ImportResult:
    result = ImportResult()
    documents = {row["customer"]["document"] for row in rows}
    existing = _existing_schedules(merchant, documents)
    keep, seen = [], set()
    for row in rows:
        key = _key(row)
        if key in existing or key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        keep.append(row)
    if not keep:
        return result

    customer_ids = {doc: c["id"] for doc, c in _existing_customers(merchant, documents).items()}
    new_customers: dict[str, Customer] = {}
    for row in keep:
        data = row["customer"]
        if data["document"] not in customer_ids and data["document"] not in new_customers:
            new_customers[data["document"]] = Customer(
                merchant=merchant, **{key: data[key] for key in CUSTOMER_KEYS}
            )
    if new_customers:
        _insert_customers(list(new_customers.values()))
        added = _existing_customers(merchant, new_customers.keys())
        customer_ids.update({doc: c["id"] for doc, c in added.items()})
        result.customers_created = len(new_customers)

    start = merchant.next_schedule_number
    Merchant.objects.filter(pk=merchant.pk).update(next_schedule_number=start + len(keep))
    schedules = []
    for offset, row in enumerate(keep):
        sequence, issue_on = row_rules.first_installment(
            first_due_date=row["first_due_date"],
            frequency_months=row["frequency_months"],
            lead_days=row["lead_days"],
            today=today,
        )
        schedules.append(
            Schedule(
                merchant=merchant,
                number=start + offset,
                customer_id=customer_ids[row["customer"]["document"]],
                amount=row["amount"],
                frequency_months=row["frequency_months"],
                first_due_date=row["first_due_date"],
                lead_days=row["lead_days"],
                description=row["description"],
                created_by=actor,
                next_sequence=sequence,
                next_issue_on=issue_on,
            )
        )
    # Rows were validated by the form fields' rules; the table's constraints check them again.
    _insert(Schedule, schedules)
    data = {"source": "import"}
    if batch is not None:
        data["import_batch"] = batch.pk
    _insert(
        ScheduleEvent,
        [
            ScheduleEvent(
                merchant_id=merchant.pk,
                schedule_id=schedule.pk,
                kind=ScheduleEvent.Kind.CREATED,
                actor=actor,
                data={**data, "first_sequence": schedule.next_sequence}
                if schedule.next_sequence > 1
                else data,
            )
            for schedule in schedules
        ],
    )
    if any(schedule.next_issue_on <= today for schedule in schedules):
        # One generator run for the whole import (schedule_create queues one per schedule).
        enqueue_on_commit(issue_due_installments_task)
    result.created = len(schedules)
    result.numbers = [schedule.number for schedule in schedules]
    return result


def _insert_customers(customers: list[Customer]) -> None:
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                _insert(Customer, customers)
            return
        except IntegrityError:
            pass  # registered meanwhile on the Clientes screen: see below
    # ignore_conflicts: a customer registered meanwhile on the Clientes screen (which does not
    # take the merchant lock) is used as it is, like any existing customer.
    Customer.objects.bulk_create(customers, batch_size=1000, ignore_conflicts=True)


def _insert(model, objs: list) -> None:
    """Insert new model instances, setting their pk. On PostgreSQL by COPY, with ids drawn from
    the table's sequence first (as schedules.generator inserts boletos): bulk_create spends
    most of its time preparing and quoting values in Python, which took ~0.35 ms a schedule in
    bench/import.py. Constraints, foreign keys and triggers (ScheduleStatusCount's counts) apply
    to COPY as to INSERT. Values go as Python objects; psycopg adapts them in C."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=1000)
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    kinds = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            kinds.append("now")
        elif isinstance(f, models.JSONField):
            kinds.append("json")
        else:
            kinds.append("")
    table = model._meta.db_table
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} (id, {columns}) FROM STDIN") as copy,
        ):
            for pk, obj in zip(ids, objs, strict=True):
                values = [pk]
                for f, kind in zip(fields, kinds, strict=True):
                    if kind == "now":
                        setattr(obj, f.attname, now)
                        values.append(now)
                    elif kind == "json":
                        values.append(json.dumps(getattr(obj, f.attname)))
                    else:
                        values.append(getattr(obj, f.attname))
                copy.write_row(values)
    for pk, obj in zip(ids, objs, strict=True):
        obj.pk = pk
        obj._state.adding = False


def import_batch_confirm(*, batch: ImportBatch, actor=None, today: date | None = None):
    """Import a stored preview's valid rows; confirming twice imports once."""
    today = today or timezone.localdate()
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=batch.merchant_id)
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk, merchant_id=merchant.pk)
        if locked.status == ImportBatch.Status.IMPORTED:
            return ImportResult(created=locked.created_count, already_imported=True)
        rows = [row_rules.from_json(row) for row in locked.rows]
        result = _create(merchant, rows, actor=actor, today=today, batch=locked)
        locked.status = ImportBatch.Status.IMPORTED
        locked.imported_at = timezone.now()
        locked.created_count = result.created
        locked.save(update_fields=["status", "imported_at", "created_count", "updated_at"])
    return result


def import_batch_email_accept(*, batch: ImportBatch, row_number: int | None) -> int:
    """Accept the suggested email of one row (``row_number``) or of every row (None) of a
    preview not yet imported: the stored row imports with the suggested address. Returns how
    many rows changed; 0 when there is nothing to change (already accepted, imported)."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportBatch.Status.PENDING:
            return 0
        fixes: dict[int, tuple[str, str]] = {}
        for entry in locked.report:
            suggestion = entry.get("suggestion")
            if suggestion and (row_number is None or entry["row"] == row_number):
                typed = entry["values"].get("email", "")
                fixes[entry["row"]] = (typed, suggestion)
                entry["values"]["email"] = suggestion
                entry["suggestion"] = None
                entry.setdefault("notes", []).append(
                    _("E-mail corrigido pela sugestão (digitado: %(typed)s).") % {"typed": typed}
                )
        if not fixes:
            return 0
        for stored in locked.rows:
            fix = fixes.get(stored["row"])
            if fix is not None:
                stored["customer"]["email"] = fix[1]
        locked.save(update_fields=["report", "rows", "updated_at"])
    return len(fixes)


def first_installment_label(report_row: dict) -> str:
    """'Parcela 3 — emissão em 05/03/2025' for the preview."""
    first = report_row.get("first_installment")
    if not first:
        return ""
    return _("Parcela %(n)s, emitida em %(day)s") % {
        "n": first["sequence"],
        "day": date_br(date.fromisoformat(first["issue_on"])),
    }
