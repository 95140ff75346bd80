"""The ledger's tenancy in the database: a BankOccurrence's retorno exists and is the same
merchant's (one composite foreign key, migration 0011; PostgreSQL)."""

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import BankOccurrence, Retorno
from tests.factories import MerchantFactory

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


def _occurrence(*, merchant, retorno_id, line=1) -> None:
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
