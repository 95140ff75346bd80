"""Preview and import: customers, duplicates, the same file twice, past first due dates."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Boleto, Customer
from portal.models import Merchant
from schedules import dates
from schedules.generator import installments_issue_due
from schedules.importing import services
from schedules.importing.reading import HEADER_LINE, read_table
from schedules.models import ImportBatch, Schedule, ScheduleEvent, ScheduleStatus
from schedules.selectors import schedule_counts
from schedules.services import schedule_create
from tests.factories import CustomerFactory, make_cpf

pytestmark = pytest.mark.django_db


def line(**overrides) -> str:
    values = {
        "nome": "Ana Souza",
        "cpf_cnpj": "123.456.789-09",
        "email": "ana@example.com",
        "telefone": "",
        "endereco": "Rua A, 1",
        "bairro": "Centro",
        "cidade": "Recife",
        "uf": "PE",
        "cep": "50000-000",
        "valor": "199,90",
        "frequencia": "Mensal",
        "primeiro_vencimento": (timezone.localdate() + timedelta(days=40)).strftime("%d/%m/%Y"),
        "antecedencia": "10",
        "descricao": "Mensalidade",
    }
    values.update(overrides)
    return ";".join(values[name] for name in HEADER_LINE.split(";"))


def csv_file(*lines: str) -> bytes:
    return ("\n".join([HEADER_LINE, *lines]) + "\n").encode()


def preview(merchant, data: bytes, today=None):
    table = read_table(data, filename="p.csv", max_bytes=10**7, max_rows=10**5)
    return services.import_preview(merchant=merchant, table=table, today=today)


def import_file(merchant, data: bytes, today=None):
    found = preview(merchant, data, today=today)
    rows = [row.cleaned for row in found.valid]
    return found, services.import_rows_create(merchant=merchant, rows=rows, today=today)


def test_import_creates_customers_schedules_and_history(merchant, owner):
    data = csv_file(
        line(),
        line(cpf_cnpj=make_cpf(1), nome="Bruno", email="bruno@example.com", valor="50"),
        line(cpf_cnpj="123", nome="Erro"),
    )
    found = preview(merchant, data)
    assert (found.total, len(found.valid), found.error_count) == (3, 2, 1)
    result = services.import_rows_create(
        merchant=merchant, rows=[row.cleaned for row in found.valid], actor=owner
    )
    assert result.created == 2 and result.customers_created == 2
    schedules = list(Schedule.objects.for_merchant(merchant).order_by("number"))
    assert [s.number for s in schedules] == [1, 2]
    assert schedules[0].amount == Decimal("199.90")
    assert schedules[0].customer.name == "Ana Souza"
    assert schedules[0].created_by == owner
    assert all(s.status == ScheduleStatus.ACTIVE for s in schedules)
    merchant.refresh_from_db()
    assert merchant.next_schedule_number == 3
    events = ScheduleEvent.objects.filter(schedule__in=schedules)
    assert sorted(events.values_list("kind", flat=True)) == ["created", "created"]
    assert {e.actor for e in events} == {owner}


def test_numbers_continue_after_existing(merchant):
    Merchant.objects.filter(pk=merchant.pk).update(next_schedule_number=41)
    _, result = import_file(merchant, csv_file(line()))
    assert result.numbers == [41]


def test_existing_customer_used_not_overwritten(merchant):
    customer = CustomerFactory(
        merchant=merchant, document="12345678909", name="Ana S.", email="ana.s@old.com"
    )
    found, result = import_file(merchant, csv_file(line()))
    (row,) = found.rows
    assert row.status == "ok"
    assert "já cadastrado" in row.notes[0] and "Ana S." in row.notes[0]
    assert result.customers_created == 0
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Ana S.", "ana.s@old.com")
    assert Schedule.objects.get().customer == customer


def test_same_new_document_makes_one_customer(merchant):
    found, result = import_file(
        merchant,
        csv_file(line(), line(valor="10,00", nome="Ana Outra"), line(valor="20,00")),
    )
    assert result.created == 3
    assert Customer.objects.for_merchant(merchant).count() == 1
    assert Customer.objects.get().name == "Ana Souza"  # the first row's data
    assert "linha 2" in found.rows[1].notes[0]
    assert not found.rows[2].notes  # same data: nothing to say


def test_duplicate_within_file(merchant):
    found, result = import_file(merchant, csv_file(line(), line(descricao="outra"), line()))
    assert [row.status for row in found.rows] == ["ok", "duplicate", "duplicate"]
    assert "linha 2" in found.rows[1].duplicate_of
    assert result.created == 1
    errors = found.errors()
    assert errors == [
        {"row": 3, "field": "", "message": found.rows[1].duplicate_of},
        {"row": 4, "field": "", "message": found.rows[2].duplicate_of},
    ]


def test_duplicate_of_existing_schedule(merchant):
    customer = CustomerFactory(merchant=merchant, document="12345678909")
    first = timezone.localdate() + timedelta(days=40)
    existing = schedule_create(
        merchant=merchant,
        customer=customer,
        amount=Decimal("199.90"),
        frequency_months=1,
        first_due_date=first,
        lead_days=10,
    )
    found, result = import_file(merchant, csv_file(line(), line(valor="199,91")))
    assert found.rows[0].status == "duplicate"
    assert f"nº {existing.number}" in found.rows[0].duplicate_of
    assert found.rows[1].status == "ok"
    assert result.created == 1


def test_same_file_twice_creates_nothing_more(merchant):
    data = csv_file(*(line(cpf_cnpj=make_cpf(n), valor=f"{n},00") for n in range(1, 6)))
    _, first = import_file(merchant, data)
    found, second = import_file(merchant, data)
    assert first.created == 5
    assert second.created == 0
    assert {row.status for row in found.rows} == {"duplicate"}
    assert Schedule.objects.count() == 5


def test_rows_of_an_already_imported_preview_are_skipped_under_lock(merchant):
    found = preview(merchant, csv_file(line()))
    rows = [row.cleaned for row in found.valid]
    assert services.import_rows_create(merchant=merchant, rows=rows).created == 1
    again = services.import_rows_create(merchant=merchant, rows=rows)
    assert (again.created, again.duplicates) == (0, 1)


class TestBatch:
    def test_confirm_twice_imports_once(self, merchant, owner):
        batch = services.import_batch_create(
            merchant=merchant,
            preview=preview(merchant, csv_file(line(), line(cpf_cnpj="1"))),
            original_name="clientes.csv",
            actor=owner,
        )
        assert (batch.total_rows, batch.valid_rows, batch.error_rows) == (2, 1, 1)
        assert batch.report[1]["errors"][0][0] == "cpf_cnpj"
        first = services.import_batch_confirm(batch=batch, actor=owner)
        second = services.import_batch_confirm(batch=batch, actor=owner)
        assert first.created == 1 and not first.already_imported
        assert second.already_imported and second.created == 1
        assert Schedule.objects.count() == 1
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.IMPORTED and batch.imported_at
        event = ScheduleEvent.objects.get()
        assert event.data["import_batch"] == batch.pk


class TestPastFirstDueDate:
    def test_nothing_earlier_issued_or_skipped(self, merchant, django_capture_on_commit_callbacks):
        today = timezone.localdate()
        first = today.replace(day=1) - timedelta(days=400)  # >1 year ago, monthly
        data = csv_file(line(primeiro_vencimento=first.strftime("%d/%m/%Y"), antecedencia="10"))
        found = preview(merchant, data)
        (row,) = found.valid
        sequence, issue_on = row.first_installment
        assert sequence > 12
        assert issue_on >= today
        with django_capture_on_commit_callbacks(execute=True):
            services.import_rows_create(merchant=merchant, rows=[row.cleaned])
        schedule = Schedule.objects.get()
        assert schedule.next_sequence == sequence
        assert schedule.next_issue_on == issue_on
        # The generator, run today and on every day up to the first issue date: nothing earlier
        # is issued nor recorded as skipped; on the issue date, exactly that installment.
        installments_issue_due(today=today)
        installments_issue_due(today=issue_on - timedelta(days=1))
        assert not Boleto.objects.exists()
        installments_issue_due(today=issue_on)
        boleto = Boleto.objects.get()
        assert boleto.sequence == sequence
        assert boleto.status == Boleto.Status.ISSUED
        assert boleto.due_date - timedelta(days=10) == issue_on

    def test_issue_date_today_is_issued_on_commit(
        self, merchant, django_capture_on_commit_callbacks
    ):
        today = timezone.localdate()
        # A first due date a year ago whose installment 13 issues exactly today, if it exists
        # (the business-day shift may move it): then it is issued by the on-commit run.
        first = today + timedelta(days=10)
        first = date(first.year - 1, first.month, min(first.day, 28))
        found = preview(merchant, csv_file(line(primeiro_vencimento=first.strftime("%d/%m/%Y"))))
        (row,) = found.valid
        sequence, issue_on = row.first_installment
        with django_capture_on_commit_callbacks(execute=True):
            services.import_rows_create(merchant=merchant, rows=[row.cleaned])
        boletos = list(Boleto.objects.values_list("sequence", "status"))
        if issue_on == today:
            assert boletos == [(sequence, Boleto.Status.ISSUED)]
        else:
            assert boletos == []
        assert dates.due_date(first, 1, sequence) - timedelta(days=10) >= today

    def test_future_first_due_in_lead_window_issued_at_once(
        self, merchant, django_capture_on_commit_callbacks
    ):
        due = timezone.localdate() + timedelta(days=5)
        found = preview(merchant, csv_file(line(primeiro_vencimento=due.strftime("%d/%m/%Y"))))
        with django_capture_on_commit_callbacks(execute=True):
            services.import_rows_create(merchant=merchant, rows=[found.valid[0].cleaned])
        assert list(Boleto.objects.values_list("sequence", "status")) == [(1, Boleto.Status.ISSUED)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_file_create_once(merchant):
    data = csv_file(*(line(cpf_cnpj=make_cpf(n), valor=f"{n},00") for n in range(1, 21)))
    rows = [row.cleaned for row in preview(merchant, data).valid]
    results, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(services.import_rows_create(merchant=merchant, rows=rows).created)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 20]
    assert Schedule.objects.count() == 20
    assert Customer.objects.count() == 20


@pytest.mark.postgres
def test_status_counts_kept_by_the_database(merchant):
    import_file(merchant, csv_file(*(line(cpf_cnpj=make_cpf(n)) for n in range(1, 4))))
    assert schedule_counts(merchant=merchant)["active"] == 3
