"""Bad input: a clear pt-BR message, nothing stored, nothing applied."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from billing.models import BankCollection, BankOccurrence, Retorno
from billing.retornos import retorno_read_path
from tests.billing.bank.cnab_builder import Retorno240
from tests.billing.bank.retorno_helpers import (
    boleto_state,
    import_file,
    issue_boletos,
    retorno_file,
    title,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def boletos(merchant):
    return issue_boletos(merchant, 2)


def _refused(merchant, data) -> str:
    with pytest.raises(ValidationError) as info:
        import_file(merchant, data)
    assert not Retorno.objects.exists()
    assert not BankOccurrence.objects.exists()
    (message,) = info.value.messages
    return message


def _untouched(boletos, before):
    assert boleto_state(b.pk for b in boletos) == before


def test_truncated_file(merchant, boletos):
    before = boleto_state(b.pk for b in boletos)
    data = retorno_file(merchant, [title(boletos[0], "06"), title(boletos[1], "06")])
    lines = data.split(b"\r\n")
    message = _refused(merchant, b"\r\n".join(lines[:4]))
    assert message.startswith("Não foi possível ler o retorno: ")
    assert "trailer" in message
    _untouched(boletos, before)


def test_another_banks_file(merchant, boletos):
    data = retorno_file(merchant, [title(boletos[0], "06")], bank="341")
    message = _refused(merchant, data)
    assert message == "Este retorno é do banco 341, mas sua conta de cobrança é do banco 999."


def test_another_banks_file_on_a_cnab_channel(merchant, boletos):
    merchant.bank_code, merchant.agreement = "001", "1234567"
    merchant.save()
    BankCollection.objects.filter(merchant=merchant).update(channel="cnab240")
    data = retorno_file(merchant, [title(boletos[0], "06")], bank="341")
    message = _refused(merchant, data)
    assert message == "Este retorno é do banco 341, mas sua conta de cobrança é do banco 001."


def test_remessa_uploaded_as_retorno(merchant, boletos):
    data = Retorno240(
        document=merchant.cnpj, agency=merchant.agency, account=merchant.account, direction="1"
    ).build()
    message = _refused(merchant, data)
    assert message.startswith(
        "Este arquivo é uma remessa (arquivo que o portal envia ao banco), não um retorno"
    )


def test_another_beneficiarys_file(merchant, other_merchant, boletos):
    data = retorno_file(merchant, [title(boletos[0], "06")], document=other_merchant.cnpj)
    message = _refused(merchant, data)
    assert message.startswith("Este retorno é de outro beneficiário")
    assert other_merchant.cnpj in message


def test_another_account(merchant, boletos):
    data = retorno_file(merchant, [title(boletos[0], "06")], account="99999")
    message = _refused(merchant, data)
    assert message.startswith("Este retorno é de outra conta")


def test_another_agreement(merchant, boletos):
    merchant.agreement = "1234567"
    merchant.save()
    data = retorno_file(merchant, [title(boletos[0], "06")], agreement="7654321")
    message = _refused(merchant, data)
    assert message.startswith("Este retorno é de outro convênio (7654321)")


def test_utf16(merchant, boletos):
    data = retorno_file(merchant, [title(boletos[0], "06")]).decode("ascii")
    for encoded in (data.encode("utf-16"), data.encode("utf-16-le")):
        message = _refused(merchant, encoded)
        assert "UTF-16" in message


def test_empty_and_blank(merchant):
    for data in (b"", b"\r\n\r\n  \n", b"\xef\xbb\xbf"):
        assert _refused(merchant, data) == "O arquivo está vazio: não há nada para processar."


def test_garbage(merchant):
    message = _refused(merchant, b"%PDF-1.7\n" + bytes(range(1, 256)) * 40)
    assert message.startswith("Não foi possível ler o retorno: ")


@override_settings(BANK_FILE_MAX_BYTES=40 * 1024 * 1024)
def test_50_mb_upload_is_refused_with_the_limit(merchant, tmp_path):
    data = b"0" * (50 * 1024 * 1024)
    message = _refused(merchant, data)
    assert message == ("Arquivo grande demais (50 MB): o limite para arquivos do banco é 40 MB.")
    # The command and the inbox refuse it by its size, before reading it.
    path = tmp_path / "big.ret"
    path.write_bytes(data)
    with pytest.raises(ValidationError) as info:
        retorno_read_path(path)
    assert "40 MB" in info.value.messages[0]


def test_amount_beyond_a_boleto(merchant, boletos):
    from decimal import Decimal

    data = retorno_file(
        merchant, [title(boletos[0], "06", amount_paid=Decimal("9999999999999.99"))]
    )
    message = _refused(merchant, data)
    assert message.startswith("Linha 3: valor 9999999999999.99 acima do limite")


def test_retorno_with_no_titles_is_fine(merchant):
    retorno = import_file(merchant, retorno_file(merchant, []))
    assert retorno.summary["records"] == 0
    assert retorno.status == "applied"
