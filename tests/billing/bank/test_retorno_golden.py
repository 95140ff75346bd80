"""The real retornos of tests/data/cnab/retorno (see tests/data/PROVENANCE.md) imported for a
merchant whose account matches each header: no crash, every title accounted for, the second
import changes nothing. Their titles are not ours, so most are not found; in bb_240 one
boleto is given the file's nosso número and is paid."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from billing.cnab.reading import parse_file
from billing.models import BankCollection, BankOccurrence, Boleto
from tests.billing.bank.retorno_helpers import import_file, issue_boletos
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parents[2] / "data" / "cnab" / "retorno"

# file -> (merchant bank, wallet, channel, merchant agreement, collection company code)
SETUP = {
    "bb_240.ret": ("001", "17", "cnab240", "3294860", ""),
    "santander_240.ret": ("033", "101", "cnab240", "1111111", ""),
    "bb_400.ret": ("001", "17", "cnab400", "1112245", ""),
    "itau_400.ret": ("341", "109", "cnab400", "", ""),
    "bradesco_400.ret": ("237", "09", "cnab400", "", "4466911"),
    "fake_999_400.ret": ("341", "109", "testbank", "", ""),
}


def _merchant_for(name: str, parsed):
    bank, wallet, channel, agreement, company_code = SETUP[name]
    fields = {"bank_code": bank, "wallet": wallet, "agreement": agreement}
    if parsed.beneficiary_document:
        fields["cnpj"] = parsed.beneficiary_document.lstrip("0").zfill(14)[-14:]
    if parsed.agency:
        fields["agency"] = parsed.agency
    if parsed.account:
        fields["account"] = parsed.account
    merchant = MerchantFactory(**fields)
    BankCollection.objects.filter(merchant=merchant).update(
        channel=channel, company_code=company_code
    )
    return merchant


@pytest.mark.parametrize("name", sorted(SETUP))
def test_real_retorno_imports_and_accounts_for_every_title(name):
    data = (FILES / name).read_bytes()
    parsed = parse_file(data)
    merchant = _merchant_for(name, parsed)
    boletos = issue_boletos(merchant, 3)
    if name == "bb_240.ret":
        Boleto.objects.filter(pk=boletos[0].pk).update(nosso_numero=196)

    retorno = import_file(merchant, data, name=name)
    summary = retorno.summary
    assert summary["records"] == len(parsed.events)
    counted = sum(v for k, v in summary.items() if isinstance(v, int) and k != "records")
    assert counted == summary["records"]
    assert BankOccurrence.objects.filter(retorno=retorno).count() == len(parsed.events)
    if name == "bb_240.ret":
        assert summary["paid"] == 1
        assert summary["not_found"] == 4
        paid = Boleto.objects.get(pk=boletos[0].pk)
        assert paid.bank.payment_status == "paid"
        assert paid.bank.amount_paid == parsed.events[0].amount_paid > Decimal(0)
    else:
        assert summary["not_found"] == len(parsed.events)
        assert not Boleto.objects.exclude(bank__payment_status="open").exists()

    again = import_file(merchant, data, name=name)
    assert again.already_imported is True
    assert BankOccurrence.objects.count() == len(parsed.events)


def test_caixa_file_is_another_bank():
    merchant = MerchantFactory(bank_code="001", wallet="17", agreement="1234567")
    BankCollection.objects.filter(merchant=merchant).update(channel="cnab240")
    with pytest.raises(ValidationError) as info:
        import_file(merchant, (FILES / "caixa_240.ret").read_bytes())
    assert info.value.messages == [
        "Este retorno é do banco 104, mas sua conta de cobrança é do banco 001."
    ]


def test_real_file_of_another_account_is_refused():
    data = (FILES / "itau_400.ret").read_bytes()
    merchant = MerchantFactory(bank_code="341", agency="0057", account="99999")
    BankCollection.objects.filter(merchant=merchant).update(channel="cnab400")
    with pytest.raises(ValidationError) as info:
        import_file(merchant, data)
    assert info.value.messages[0].startswith("Este retorno é de outra conta")
