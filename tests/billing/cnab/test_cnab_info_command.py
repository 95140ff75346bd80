"""``manage.py cnab_info FILE``: JSON on stdout; one line on stderr and exit 1 on errors."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from tests import DATA
from tests.billing.cnab import REMESSA, RETORNO

ROOT = DATA.parent.parent  # the checkout (tests/data -> tests -> root)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "cnab_info", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def info(path) -> dict:
    out = StringIO()
    call_command("cnab_info", str(path), stdout=out)
    return json.loads(out.getvalue())


def test_retorno_json_has_the_interface_fields():
    data = info(RETORNO / "santander_240.ret")
    assert (data["layout"], data["direction"], data["bank_code"]) == ("cnab240", "retorno", "033")
    [record] = data["records"]
    for key in ("nosso_numero", "occurrence", "kind", "reasons", "amount", "amount_paid", "fee"):
        assert key in record
    assert record["nosso_numero"] == "0000000001040"
    assert (record["occurrence"], record["kind"]) == ("17", "paid_after_write_off")
    assert (record["amount"], record["amount_paid"], record["fee"]) == ("10.00", "11.00", "3.24")
    assert (record["occurred_on"], record["credited_on"]) == ("2014-06-04", "2014-06-05")
    assert record["reasons"] == []
    assert data["totals"] == {"records": 1, "paid": "11.00"}


def test_non_payments_show_null_amount_paid():
    data = info(RETORNO / "bradesco_400.ret")
    registered = data["records"][0]
    assert (registered["kind"], registered["amount_paid"], registered["fee"]) == (
        "registered",
        None,
        "2.52",
    )
    assert registered["credited_on"] is None
    assert data["totals"] == {"records": 7, "paid": "5.10"}


@pytest.mark.parametrize(
    ("name", "layout", "bank"),
    [
        ("remessa-banco_brasil-cnab240.rem", "cnab240", "001"),
        ("remessa-caixa-cnab240.rem", "cnab240", "104"),
        ("remessa-santander-cnab240.rem", "cnab240", "033"),
        ("remessa-banco-brasil-cnab400.rem", "cnab400", "001"),
        ("remessa-bradesco-cnab400.rem", "cnab400", "237"),
        ("remessa-itau-cnab400.rem", "cnab400", "341"),
        ("remessa-santander-cnab400.rem", "cnab400", "033"),
    ],
)
def test_each_remessa_is_described_as_a_remessa(name, layout, bank):
    data = info(REMESSA / name)
    assert (data["layout"], data["direction"], data["bank_code"]) == (layout, "remessa", bank)
    assert data["totals"] == {"records": 1, "paid": "0.00"}
    assert data["records"][0]["kind"] == "info"


def test_stdout_is_json_and_exit_code_zero():
    result = run(str(RETORNO / "caixa_240.ret"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["totals"] == {"records": 9, "paid": "1010.00"}
    assert "\n  " in result.stdout  # indented


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "arquivo não encontrado"),
        (b"", "arquivo vazio"),
        ("X".encode("utf-16"), "UTF-16"),
        ("truncated", "arquivo truncado: trailer ausente"),
        ("bank041", "CNAB 400 do banco 041 não suportado"),
    ],
)
def test_errors_print_one_line_and_exit_1(tmp_path, content, message):
    path = tmp_path / "file.ret"
    if content == "truncated":
        content = b"\r\n".join((RETORNO / "bb_240.ret").read_bytes().split(b"\n")[:-2])
    elif content == "bank041":
        data = bytearray((RETORNO / "itau_400.ret").read_bytes())
        data[76:79] = b"041"
        content = bytes(data)
    if content is not None:
        path.write_bytes(content)
    result = run(str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
