"""A generator run must survive a schedule it cannot number (a bug found while writing the crash
tests: a batch in which no schedule could be numbered left the cursor update an empty list)."""

from datetime import date

import pytest
from django.db import connection

from billing.models import Boleto
from schedules.generator import installments_issue_due
from tests.factories import MerchantFactory, ScheduleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TODAY = date(2026, 3, 10)
ON_TIME = date(2026, 3, 20)


def test_batch_in_which_no_schedule_can_be_numbered_does_not_stop_the_run():
    """Property: a schedule whose boletos cannot be numbered (here its merchant's nosso número
    range is exhausted) is left out and logged, and the run goes on with the next batches — as
    generator._number promises — so no other merchant's installment waits behind it.

    Before the fix the run raised ValueError whenever every schedule of one batch failed
    numbering, and every later run stopped at the same batch.
    """
    broken, healthy = MerchantFactory(), MerchantFactory()
    ScheduleFactory(merchant=broken, first_due_date=ON_TIME)
    later = ScheduleFactory(merchant=healthy, first_due_date=ON_TIME)
    with connection.cursor() as cursor:
        # Past what the bank's nosso número field can hold: boleto_numbers raises BoletoError.
        cursor.execute(f"SELECT setval('billing_nosso_numero_{broken.pk}', 999999999999)")

    run = installments_issue_due(today=TODAY, batch_size=1)

    assert run.issued == 1
    assert list(Boleto.objects.values_list("schedule_id", "sequence", "status")) == [
        (later.pk, 1, "issued")
    ]
