"""``manage.py boleto_info``: JSON on success, one stderr line and exit status 1 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.febraban import barcode_to_linha, build_barcode

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Vector #1 (BoletoNetCore, Banco do Brasil carteira 17): due 2016-11-27, R$ 400,00, factor 6991.
LINHA = "00190000090123456700400000005173169910000040000"
LINHA_PRINTED = "00190.00009 01234.567004 00000.005173 1 69910000040000"
BARCODE = "00191699100000400000000001234567000000000517"
# Daycoval vectors around the 2025 reset: factor 9963 (2025-01-16) and 1042 (2025-04-05).
DAYCOVAL_BEFORE = "70792996300002711120001121193443600845801078"
DAYCOVAL_AFTER_LINHA = "70790.00118 21193.443609 08458.010868 4 10420000064539"


def run(*args: str, **options) -> dict:
    out = StringIO()
    call_command("boleto_info", *args, stdout=out, **options)
    return json.loads(out.getvalue())


def test_linha_with_dots_and_spaces_split_over_arguments():
    data = run(*LINHA_PRINTED.split(), reference_date="2016-11-01")
    assert data == {
        "input_kind": "linha",
        "bank_code": "001",
        "bank_name": "Banco do Brasil",
        "currency": "9",
        "barcode": BARCODE,
        "linha_digitavel": LINHA,
        "linha_digitavel_formatada": LINHA_PRINTED,
        "general_dv": 1,
        "factor": 6991,
        "due_date": "2016-11-27",
        "reference_date": "2016-11-01",
        "amount": "400.00",
        "campo_livre": "0000001234567000000000517",
    }


def test_linha_as_one_argument():
    data = run(LINHA_PRINTED, reference_date="2016-11-01")
    assert data["barcode"] == BARCODE and data["input_kind"] == "linha"


def test_barcode():
    data = run(BARCODE, reference_date="2016-11-01")
    assert data["input_kind"] == "barcode"
    assert data["linha_digitavel"] == LINHA
    assert data["linha_digitavel_formatada"] == LINHA_PRINTED
    assert data["due_date"] == "2016-11-27"
    assert data["amount"] == "400.00"


def test_factor_0000_gives_null_due_date():
    barcode = build_barcode("237", None, Decimal("123.45"), "1234090000000045301234560")
    data = run(barcode, reference_date="2026-01-01")
    assert data["factor"] == 0
    assert data["due_date"] is None
    assert data["amount"] == "123.45"
    assert data["bank_name"] == "Bradesco"


def test_unknown_bank_has_null_name():
    barcode = build_barcode("999", date(2026, 5, 1), Decimal("1"), "0" * 25)
    data = run(barcode_to_linha(barcode), reference_date="2026-01-01")
    assert data["bank_code"] == "999" and data["bank_name"] is None


def test_reference_date_moves_the_decoded_year_across_the_2025_reset():
    # Factor 1042: 2000-08-14 in the first cycle, 2025-04-05 after the reset.
    assert run(DAYCOVAL_AFTER_LINHA, reference_date="2025-04-01")["due_date"] == "2025-04-05"
    assert run(DAYCOVAL_AFTER_LINHA, reference_date="2001-01-01")["due_date"] == "2000-08-14"
    # Factor 9963: 2025-01-16 at the end of cycle 1, 2049-09-07 at the end of cycle 2.
    assert run(DAYCOVAL_BEFORE, reference_date="2025-01-01")["due_date"] == "2025-01-16"
    assert run(DAYCOVAL_BEFORE, reference_date="2049-09-01")["due_date"] == "2049-09-07"


def test_default_reference_is_localdate():
    data = run(DAYCOVAL_AFTER_LINHA)
    assert data["reference_date"] == timezone.localdate().isoformat()


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ((LINHA[:-1] + "X",), {}, "Caracteres inválidos"),
        ((LINHA[:-1],), {}, "Tamanho inválido: 46 dígitos"),
        ((), {}, "Informe a linha digitável"),
        ((LINHA,), {"reference_date": "27/11/2016"}, "Data de referência inválida"),
        ((LINHA,), {"reference_date": "2016-02-30"}, "Data de referência inválida"),
        # 2016-11-27 + 3200 days: the 2016 date is more than 3000 days old and the next date
        # with factor 6991 (9000 days later) more than 5500 days ahead.
        ((LINHA,), {"reference_date": "2025-09-01"}, "fora da janela do fator"),
    ],
)
def test_call_command_errors(args, options, message):
    with pytest.raises(CommandError, match=message) as info:
        run(*args, **options)
    assert info.value.returncode == 1


# --------------------------------------------------------------------------------------------
# Real process: exit status, one stderr line, no traceback
# --------------------------------------------------------------------------------------------


def manage(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", "boleto_info", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _with(s: str, index: int, digit: str) -> str:
    return s[:index] + digit + s[index + 1 :]


def test_process_success_prints_one_json_object():
    result = manage(*LINHA_PRINTED.split(), "--reference-date", "2016-11-01")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["barcode"] == BARCODE
    assert data["due_date"] == "2016-11-27"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0019O.00009", "01234.567004"], "Caracteres inválidos"),
        (["abc"], "Caracteres inválidos"),
        ([LINHA + "1"], "Tamanho inválido: 48 dígitos"),
        ([BARCODE[:-1]], "Tamanho inválido: 43 dígitos"),
        ([_with(LINHA, 9, "0")], "Dígito verificador do campo 1 inválido: esperado 9, informado 0"),
        (
            [_with(LINHA, 20, "5")],
            "Dígito verificador do campo 2 inválido: esperado 4, informado 5",
        ),
        (
            [_with(LINHA, 31, "4")],
            "Dígito verificador do campo 3 inválido: esperado 3, informado 4",
        ),
        (
            [_with(LINHA, 32, "2")],
            "Dígito verificador geral (campo 4) inválido: esperado 1, informado 2",
        ),
        (
            [_with(BARCODE, 4, "7")],
            "Dígito verificador geral (posição 5 do código de barras) "
            "inválido: esperado 1, informado 7",
        ),
        ([LINHA, "--reference-date", "2016-13-01"], "Data de referência inválida"),
    ],
    ids=[
        "letter-O",
        "letters",
        "48-digits",
        "43-digits",
        "dv-field-1",
        "dv-field-2",
        "dv-field-3",
        "dv-general-linha",
        "dv-general-barcode",
        "bad-reference-date",
    ],
)
def test_process_errors(args, message):
    result = manage(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: ")
    assert message in lines[0]
