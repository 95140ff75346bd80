"""Every boleto has its bank row (BoletoBank), made by the database in the statement that
inserts the boleto, whatever inserts it: the generator (COPY on PostgreSQL, bulk_create
elsewhere), bulk_create, the ORM. Runs on both backends (the trigger is per backend,
billing/migrations/0012)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Boleto, BoletoBank
from schedules.generator import installments_issue_due
from tests.factories import ScheduleFactory, registration_paused

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)


def _fields(schedule, sequence: int, status: str) -> dict:
    now = timezone.now()
    return {
        "merchant": schedule.merchant,
        "schedule": schedule,
        "sequence": sequence,
        "due_date": date(2026, 4, 1) + timedelta(days=sequence),
        "amount": Decimal("10.00"),
        "status": status,
        "delivery_status": "pending" if status == "issued" else "n/a",
        "issued_at": now,
    }


def _rows(boletos) -> list[tuple]:
    by_id = {b.pk: b for b in BoletoBank.objects.filter(pk__in=[b.pk for b in boletos])}
    return [
        (
            by_id[b.pk].merchant_id == b.merchant_id,
            by_id[b.pk].due_date == b.due_date,
            by_id[b.pk].registration_status,
            by_id[b.pk].payment_status,
            by_id[b.pk].instruction_status,
            by_id[b.pk].registration_reasons,
        )
        for b in boletos
    ]


def test_the_generator_issues_each_boleto_with_its_bank_row():
    # The first installment is past due when first seen (skipped), the second is issued.
    schedule = ScheduleFactory(first_due_date=date(2026, 2, 20), lead_days=30)
    with registration_paused():
        run = installments_issue_due(today=TODAY)
    assert (run.issued, run.skipped) == (1, 1)
    boletos = list(Boleto.objects.filter(schedule=schedule).order_by("sequence"))
    assert [b.status for b in boletos] == ["skipped", "issued"]
    assert _rows(boletos) == [
        (True, True, "n/a", "open", "", []),
        (True, True, "pending", "open", "", []),
    ]


def test_orm_create_and_bulk_create_get_their_bank_rows():
    schedule = ScheduleFactory()
    created = Boleto.objects.create(**_fields(schedule, 1, "issued"))
    bulk = Boleto.objects.bulk_create(
        [Boleto(**_fields(schedule, 2, "skipped")), Boleto(**_fields(schedule, 3, "issued"))]
    )
    assert _rows([created, *bulk]) == [
        (True, True, "pending", "open", "", []),
        (True, True, "n/a", "open", "", []),
        (True, True, "pending", "open", "", []),
    ]
    assert created.bank.registration_status == "pending"


def test_a_boleto_has_one_bank_row_and_loses_it_with_itself():
    schedule = ScheduleFactory()
    boleto = Boleto.objects.create(**_fields(schedule, 1, "issued"))
    with pytest.raises(IntegrityError), transaction.atomic():
        BoletoBank.objects.create(
            boleto=boleto, merchant=schedule.merchant, due_date=boleto.due_date
        )
    boleto.delete()
    assert not BoletoBank.objects.filter(pk=boleto.pk).exists()


def test_the_bank_row_keeps_its_invariants():
    schedule = ScheduleFactory()
    boleto = Boleto.objects.create(**_fields(schedule, 1, "issued"))
    rows = BoletoBank.objects.filter(pk=boleto.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(payment_status="paid")  # paid without what and when
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(payment_status="refunded")
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(instruction="write_off")  # an instruction without its state
    rows.update(payment_status="paid", amount_paid=Decimal("10.00"), paid_on=TODAY)
    assert Boleto.objects.filter(bank__payment_status="paid").get() == boleto


def test_the_boletos_tab_counts_on_bank_rows_what_it_lists():
    """boleto_list_count (the bank rows alone) finds the same boletos as the list it counts,
    skipped boletos ("n/a", open) and another merchant's included in the data."""
    from itertools import product

    from billing.selectors import (
        PAYMENT_FILTERS,
        REGISTRATION_FILTERS,
        boleto_list_count,
        boleto_list_filtered,
    )
    from tests.factories import bank_set

    today = date(2026, 4, 10)
    schedule = ScheduleFactory()
    other = ScheduleFactory()
    states = [
        ("skipped", {}),
        ("issued", {}),  # pending, open
        ("issued", {"registration_status": "registered"}),
        ("issued", {"registration_status": "rejected"}),
        ("issued", {"payment_status": "paid", "amount_paid": Decimal("10"), "paid_on": today}),
        ("issued", {"payment_status": "written_off", "written_off_on": today}),
        (
            "issued",
            {
                "payment_status": "paid_after_write_off",
                "amount_paid": Decimal("9"),
                "paid_on": today,
            },
        ),
    ]
    for sequence, (status, bank) in enumerate(states * 2, start=1):
        fields = _fields(schedule, sequence, status)
        # Half of them overdue on ``today`` (due dates around it), half still open.
        fields["due_date"] = today + timedelta(days=sequence - len(states))
        boleto = Boleto.objects.create(**fields)
        bank_set(boleto, **bank)
    bank_set(Boleto.objects.create(**_fields(other, 1, "issued")), payment_status="open")

    merchant = schedule.merchant
    checked = 0
    for registration, payment, paid_month in product(
        ("", *REGISTRATION_FILTERS), ("", *PAYMENT_FILTERS), (None, today)
    ):
        filters = {"registration": registration, "payment": payment, "paid_month": paid_month}
        counted = boleto_list_count(merchant=merchant, today=today, **filters)
        listed = boleto_list_filtered(merchant=merchant, today=today, **filters).count()
        if not (registration or payment or paid_month):
            assert counted is None
            continue
        assert counted == listed, filters
        checked += 1
    assert checked == 4 * 6 * 2 - 1
    # A delivery filter is the boleto's own column: the list counts itself.
    assert (
        boleto_list_count(merchant=merchant, today=today, delivery_status="sent", payment="paid")
        is None
    )
