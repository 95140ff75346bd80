"""The PostgreSQL fast path (arrays, COPY, one UPDATE) and the plain ORM path give the same
result: same summary, same ledger, same boleto states, same facts announced."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from billing import retornos
from billing.models import BankOccurrence, BoletoBank
from tests.billing.bank.retorno_helpers import (
    boleto_state,
    import_file,
    issue_boletos,
    retorno_file,
    title,
)
from tests.factories import MerchantFactory, bank_set

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _scenario():
    merchant = MerchantFactory()
    b = issue_boletos(merchant, 10)
    bank_set(b[9], instruction="write_off", instruction_status="sent")
    first = retorno_file(
        merchant,
        [
            title(b[0], "02"),
            title(b[1], "03", reasons="48"),
            title(b[2], "06", amount_paid=Decimal("149.00"), fee=Decimal("1.20")),
            title(b[3], "09"),
            title(b[4], "28", fee=Decimal("2.00")),
            title(b[5], "99"),
            title(b[6], "06", nosso_numero="5555", our_id=""),
            title(b[7], "06", nosso_numero="6666"),
            title(b[8], "02"),
            title(b[8], "06", interest_fine=Decimal("3.00"), amount_paid=Decimal("153.00")),
            title(b[9], "09"),
        ],
        nsa=1,
    )
    second = retorno_file(
        merchant,
        [
            title(b[0], "02"),
            title(b[2], "02", occurred_on=date(2026, 3, 12)),
            title(b[3], "17"),
            title(b[1], "02", occurred_on=date(2026, 3, 30)),
        ],
        nsa=2,
    )
    return merchant, b, first, second


def _run(fast: bool, django_capture_on_commit_callbacks):
    merchant, b, first, second = _scenario()
    sent = []
    with override_settings(BANK_RETORNO_FAST_PATH=fast):
        assert retornos._fast_path() is fast
        with django_capture_on_commit_callbacks() as callbacks:
            one = import_file(merchant, first)
            two = import_file(merchant, second)
        sent = len(callbacks)
    occurrences = [
        (
            o.retorno_id == one.pk,
            o.line,
            b.index(o.boleto) if o.boleto else None,
            o.outcome,
            o.kind,
            o.occurrence,
            o.reasons,
            o.amount,
            o.amount_paid,
            o.fee,
            o.occurred_on,
            o.applied_key.split(":", 1)[1] if o.applied_key else None,
        )
        for o in BankOccurrence.objects.for_merchant(merchant)
        .select_related("boleto")
        .order_by("retorno_id", "line")
    ]
    states = [row[1:] for row in boleto_state(x.pk for x in b)]
    registered_at = [
        x.registered_at is not None
        for x in BoletoBank.objects.filter(pk__in=[x.pk for x in b]).order_by("pk")
    ]
    summaries = (one.summary, two.summary)
    return summaries, occurrences, states, registered_at, sent


def test_fast_and_plain_paths_agree(django_capture_on_commit_callbacks):
    fast = _run(True, django_capture_on_commit_callbacks)
    plain = _run(False, django_capture_on_commit_callbacks)
    assert fast == plain
    summaries = fast[0]
    assert summaries[0]["not_found"] == 1
    assert summaries[0]["paid"] == 3
    assert summaries[1]["paid_after_write_off"] == 1
    assert summaries[1]["registered"] == 1  # the rejected boleto, by a later 02
