"""Two generators at once on PostgreSQL issue each installment exactly once."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from billing.models import Boleto
from schedules.generator import installments_issue_due
from tests.factories import CustomerFactory, MerchantFactory, ScheduleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = date(2026, 3, 10)


def test_two_generators_at_once_issue_each_installment_exactly_once():
    merchants = [MerchantFactory() for _ in range(3)]
    expected = 0
    for merchant in merchants:
        customer = CustomerFactory(merchant=merchant)
        for i in range(100):
            # Some schedules owe one installment, some owe several (catch-up).
            first_due = date(2026, 3, 20) if i % 3 else date(2025, 12, 20)
            ScheduleFactory(merchant=merchant, customer=customer, first_due_date=first_due)
            expected += 1 if i % 3 else 4

    barrier = threading.Barrier(2)
    runs, errors = [], []

    def generator():
        try:
            barrier.wait()
            runs.append(installments_issue_due(today=TODAY, batch_size=7))
        except Exception as exc:  # pragma: no cover - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=generator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    assert len(runs) == 2
    assert sum(run.issued + run.skipped for run in runs) == expected
    assert Boleto.objects.count() == expected
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT schedule_id, sequence FROM billing_boleto "
            "GROUP BY schedule_id, sequence HAVING count(*) > 1) d"
        )
        assert cursor.fetchone()[0] == 0
        # Nosso números allocated by both generators at once never repeat within a merchant.
        cursor.execute(
            "SELECT count(*) FROM (SELECT merchant_id, nosso_numero FROM billing_boleto "
            "WHERE nosso_numero IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
        assert cursor.fetchone()[0] == 0
    assert not Boleto.objects.filter(status="issued", barcode="").exists()
    # A third run finds nothing left to do.
    assert installments_issue_due(today=TODAY).issued == 0
