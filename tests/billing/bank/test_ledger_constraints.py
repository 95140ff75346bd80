"""The ledger's keys in the database (PostgreSQL): a BankOccurrence's retorno exists and is the
same merchant's (one composite foreign key, migration 0011); its boleto exists, checked against
the boleto's bank row (migration 0013)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing.models import BankOccurrence, Boleto, BoletoBank, Retorno
from tests.factories import MerchantFactory, ScheduleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _retorno(merchant) -> Retorno:
    return Retorno.objects.create(
        merchant=merchant,
        sha256=f"{merchant.pk:064d}",
        file="bank/retornos/x.ret",
        filename="x.ret",
        size=1,
        layout="cnab240",
        bank_code="999",
        source=Retorno.Source.UPLOAD,
    )


def _occurrence(*, merchant, retorno_id, line=1, boleto_id=None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # Deferred until commit otherwise (the test's transaction never commits).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        BankOccurrence.objects.create(
            merchant=merchant,
            retorno_id=retorno_id,
            line=line,
            nosso_numero="1",
            occurrence="06",
            kind="paid",
            outcome=BankOccurrence.Outcome.NOT_FOUND,
            boleto_id=boleto_id,
        )


def test_a_ledger_row_of_the_retornos_own_merchant_is_accepted():
    merchant = MerchantFactory()
    retorno = _retorno(merchant)
    _occurrence(merchant=merchant, retorno_id=retorno.pk)
    assert BankOccurrence.objects.filter(retorno=retorno, merchant=merchant).count() == 1


def test_a_ledger_row_naming_another_merchants_retorno_is_refused():
    owner, other = MerchantFactory(), MerchantFactory()
    retorno = _retorno(owner)
    with pytest.raises(IntegrityError, match="occurrence_retorno_same_merchant"):
        _occurrence(merchant=other, retorno_id=retorno.pk)
    assert not BankOccurrence.objects.exists()


def test_a_ledger_row_of_a_missing_retorno_is_refused():
    merchant = MerchantFactory()
    retorno = _retorno(merchant)
    with pytest.raises(IntegrityError, match="occurrence_retorno_same_merchant"):
        _occurrence(merchant=merchant, retorno_id=retorno.pk + 1000)
    assert not BankOccurrence.objects.exists()


def test_a_ledger_row_of_a_missing_boleto_is_refused():
    merchant = MerchantFactory()
    retorno = _retorno(merchant)
    with pytest.raises(IntegrityError, match="occurrence_boleto_bank"):
        _occurrence(merchant=merchant, retorno_id=retorno.pk, boleto_id=987654321)
    assert not BankOccurrence.objects.exists()


def test_a_boleto_with_ledger_rows_cannot_lose_its_bank_row():
    schedule = ScheduleFactory()
    boleto = Boleto.objects.create(
        merchant=schedule.merchant,
        schedule=schedule,
        sequence=1,
        due_date=date(2026, 4, 1),
        amount=Decimal("10.00"),
        status=Boleto.Status.ISSUED,
        delivery_status=Boleto.DeliveryStatus.PENDING,
        issued_at=timezone.now(),
    )
    retorno = _retorno(schedule.merchant)
    _occurrence(merchant=schedule.merchant, retorno_id=retorno.pk, boleto_id=boleto.pk)
    with pytest.raises(IntegrityError, match="occurrence_boleto_bank"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("DELETE FROM billing_boletobank WHERE boleto_id = %s", [boleto.pk])
    assert BoletoBank.objects.filter(pk=boleto.pk).exists()
