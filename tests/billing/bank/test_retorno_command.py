"""``manage.py bank_return_import FILE --merchant CNPJ`` and the BANK_INBOX_DIR pickup."""

import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from billing.models import BankOccurrence, Boleto, Retorno
from billing.retornos import retornos_inbox_collect
from billing.tasks import retornos_inbox_collect_task
from portal.documents import format_document
from tests.billing.bank.retorno_helpers import boleto_state, issue_boletos, retorno_file, title
from tests.factories import bank_of

pytestmark = pytest.mark.django_db


def _run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("bank_return_import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_command_prints_the_summary_and_is_idempotent(merchant, tmp_path):
    b = issue_boletos(merchant, 2)
    path = tmp_path / "CB190301.RET"
    path.write_bytes(retorno_file(merchant, [title(b[0], "06"), title(b[1], "02")]))

    code, out, err = _run(str(path), "--merchant", format_document(merchant.cnpj))
    assert (code, err) == (0, "")
    summary = json.loads(out)
    assert summary["file"] == "CB190301.RET"
    assert (summary["paid"], summary["registered"], summary["records"]) == (1, 1, 2)
    assert summary["amount_paid"] == "150.00"
    assert summary["already_imported"] is False
    assert Retorno.objects.get().source == "command"

    before = boleto_state(x.pk for x in b)
    code, out, err = _run(str(path), "--merchant", merchant.cnpj)
    assert code == 0
    again = json.loads(out)
    assert again["already_imported"] is True
    assert again["paid"] == 1
    assert boleto_state(x.pk for x in b) == before
    assert BankOccurrence.objects.count() == 2


def test_command_refusal_is_one_line_and_exit_1(merchant, tmp_path):
    (b,) = issue_boletos(merchant, 1)
    path = tmp_path / "other.ret"
    path.write_bytes(retorno_file(merchant, [title(b, "06")], bank="237"))
    code, out, err = _run(str(path), "--merchant", merchant.cnpj)
    assert code == 1
    assert out == ""
    assert err.strip() == ("Este retorno é do banco 237, mas sua conta de cobrança é do banco 999.")
    assert "\n" not in err.strip()
    assert Boleto.objects.get().bank.payment_status == "open"


def test_command_unknown_merchant_and_missing_file(merchant, tmp_path):
    code, out, err = _run(str(tmp_path / "x.ret"), "--merchant", "11.222.333/0001-81")
    assert code == 1
    assert err.startswith("Lojista não encontrado")
    code, out, err = _run(str(tmp_path / "missing.ret"), "--merchant", merchant.cnpj)
    assert code == 1
    assert err.startswith("Não foi possível ler o arquivo")


def test_inbox_imports_moves_and_refuses(merchant, other_merchant, tmp_path):
    b = issue_boletos(merchant, 2)
    folder = tmp_path / merchant.cnpj
    folder.mkdir()
    (folder / "a.ret").write_bytes(retorno_file(merchant, [title(b[0], "06")]))
    (folder / "b.ret").write_bytes(retorno_file(merchant, [title(b[1], "02")], bank="341"))
    (folder / "c.ret.part").write_bytes(b"still being written")
    (tmp_path / "00000000000000").mkdir()  # no such merchant: left alone
    (tmp_path / "00000000000000" / "x.ret").write_bytes(b"x")

    with override_settings(BANK_INBOX_DIR=str(tmp_path)):
        assert retornos_inbox_collect() == 1
        assert retornos_inbox_collect() == 0  # nothing left

    assert Retorno.objects.get().source == "inbox"
    assert bank_of(b[0]).payment_status == "paid"
    assert bank_of(b[1]).registration_status == "pending"
    assert (folder / "processed" / "a.ret").exists()
    assert (folder / "refused" / "b.ret").exists()
    reason = (folder / "refused" / "b.ret.txt").read_text("utf-8")
    assert reason.strip() == (
        "Este retorno é do banco 341, mas sua conta de cobrança é do banco 999."
    )
    assert (folder / "c.ret.part").exists()
    assert not (folder / "a.ret").exists()
    assert (tmp_path / "00000000000000" / "x.ret").exists()

    # The same file dropped again: processed, nothing changes.
    (folder / "a.ret").write_bytes(retorno_file(merchant, [title(b[0], "06")]))
    with override_settings(BANK_INBOX_DIR=str(tmp_path)):
        assert retornos_inbox_collect_task.delay().get() == 1
    assert Retorno.objects.count() == 1
    assert len(list((folder / "processed").iterdir())) == 2


def test_inbox_unset_does_nothing(settings):
    settings.BANK_INBOX_DIR = ""
    assert retornos_inbox_collect() == 0
