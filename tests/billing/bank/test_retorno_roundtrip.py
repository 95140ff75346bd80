"""Round trip through the Banco de testes: our remessa (the connector) -> the test bank's
answer (02 / 03) -> our ingestion; then its payment retorno (06, 17, 09, 28) -> paid."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.cnab.remessa import RemessaTitle
from billing.connectors import Capability, TestBankConnector, connector_for, remessa_account
from billing.models import Boleto
from billing.services import bank_collection_get
from billing.testbank import TestBankPayment, testbank_payment_retorno, testbank_process_remessa
from tests.billing.bank.retorno_helpers import TODAY, file_number, import_file, issue_boletos
from tests.factories import bank_of

pytestmark = pytest.mark.django_db


def _remessa_title(boleto: Boleto, zip_code=None) -> RemessaTitle:
    payer = boleto.payer
    return RemessaTitle(
        movement="01",
        nosso_numero=boleto.nosso_numero,
        our_id=f"PB{boleto.pk}",
        seu_numero=f"{boleto.schedule_id}-{boleto.sequence}",
        issue_date=TODAY,
        due_date=boleto.due_date,
        amount=boleto.amount,
        payer_document=payer["document"],
        payer_name=payer["name"],
        payer_street=payer["address_street"],
        payer_district=payer["address_district"],
        payer_city=payer["address_city"],
        payer_state=payer["address_state"],
        payer_zip=zip_code or payer["address_zip"],
    )


def test_round_trip_register_then_pay(merchant):
    b = issue_boletos(merchant, 4)
    collection = bank_collection_get(merchant=merchant)
    connector = connector_for(merchant=merchant, collection=collection)
    assert isinstance(connector, TestBankConnector)
    assert connector.can(Capability.INSTANT)
    assert (connector.code, connector.layout) == ("999", "cnab240")
    account = remessa_account(merchant=merchant, collection=collection)

    titles = [_remessa_title(x) for x in b[:3]] + [_remessa_title(b[3], zip_code="00000000")]
    remessa = connector.build_remessa(
        account=account, titles=titles, nsa=1, generated_at=timezone.now()
    )
    answer = testbank_process_remessa(data=remessa, known=lambda nn: False, today=TODAY)
    assert len(answer.accepted) == 3
    assert len(answer.rejected) == 1

    answered = import_file(merchant, answer.retorno, source="testbank")
    assert answered.summary["registered"] == 3
    assert answered.summary["rejected"] == 1
    assert answered.summary["not_found"] == 0
    states = dict(
        Boleto.objects.filter(merchant=merchant).values_list("pk", "bank__registration_status")
    )
    assert [states[x.pk] for x in b] == ["registered"] * 3 + ["rejected"]
    assert bank_of(b[3]).registration_reasons

    payments = [
        TestBankPayment(
            nosso_numero=file_number(b[0]),
            our_id=f"PB{b[0].pk}",
            amount=b[0].amount,
            due_date=b[0].due_date,
            amount_paid=b[0].amount,
            paid_on=date(2026, 3, 19),
            fee=Decimal("1.90"),
        ),
        TestBankPayment(
            nosso_numero=file_number(b[1]),
            our_id=f"PB{b[1].pk}",
            amount=b[1].amount,
            due_date=b[1].due_date,
            amount_paid=Decimal("153.40"),
            interest_fine=Decimal("3.40"),
            paid_on=date(2026, 3, 23),
        ),
        TestBankPayment(
            nosso_numero=file_number(b[2]),
            our_id=f"PB{b[2].pk}",
            amount=b[2].amount,
            due_date=b[2].due_date,
            fee=Decimal("2.50"),
            occurrence="28",
            paid_on=date(2026, 3, 19),
        ),
    ]
    data = testbank_payment_retorno(account=account, payments=payments, nsa=2, today=TODAY)
    paid = import_file(merchant, data, source="testbank")
    assert paid.summary["paid"] == 2
    assert paid.summary["fee"] == 1
    assert paid.summary["amount_paid"] == "303.40"
    first = bank_of(b[0])
    assert (first.payment_status, first.amount_paid, first.bank_fee) == (
        "paid",
        Decimal("150.00"),
        Decimal("1.90"),
    )
    assert first.amount_credited == Decimal("148.10")
    assert first.paid_on == date(2026, 3, 19)
    second = bank_of(b[1])
    assert second.interest_fine == Decimal("3.40")
    assert bank_of(b[2]).payment_status == "open"
