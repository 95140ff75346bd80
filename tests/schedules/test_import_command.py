"""python manage.py schedules_import FILE --merchant CNPJ [--dry-run]: one JSON object."""

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from portal.documents import format_document
from schedules.models import Schedule
from tests.schedules.test_import_services import csv_file, line

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("schedules_import", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def sheet(tmp_path):
    path = tmp_path / "agendamentos.csv"
    path.write_bytes(
        csv_file(
            line(),
            "",
            line(cpf_cnpj="123.456.789-00", email="x@"),
            line(),
            line(valor="10,00"),
        )
    )
    return path


def test_dry_run_reports_and_creates_nothing(merchant, sheet):
    report = run(str(sheet), "--merchant", format_document(merchant.cnpj), "--dry-run")
    assert report["rows"] == 4
    assert report["valid"] == 2
    assert report["created"] == 0
    assert report["errors"][:2] == [
        {
            "row": 4,
            "field": "cpf_cnpj",
            "message": "CPF inválido: confira os dígitos verificadores.",
        },
        {
            "row": 4,
            "field": "email",
            "message": "E-mail inválido: confira o endereço (por exemplo, nome@empresa.com.br).",
        },
    ]
    assert report["errors"][2]["row"] == 5 and report["errors"][2]["field"] == ""
    assert report["errors"][2]["message"].startswith("Duplicado")
    assert not Schedule.objects.exists()


def test_import_then_again(merchant, sheet):
    first = run(str(sheet), "--merchant", merchant.cnpj)
    assert first["created"] == 2
    again = run(str(sheet), "--merchant", merchant.cnpj)
    assert (again["valid"], again["created"]) == (0, 0)
    assert Schedule.objects.count() == 2


def _exit(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("schedules_import", *args, stdout=StringIO())
    err = capsys.readouterr().err
    return exit_info.value.code, err


def test_unknown_merchant(capsys, sheet, db):
    code, err = _exit(capsys, str(sheet), "--merchant", "11.222.333/0001-81")
    assert code == 1
    assert err.count("\n") == 1 and "não encontrado" in err


def test_missing_file(capsys, merchant, tmp_path):
    code, err = _exit(capsys, str(tmp_path / "nada.csv"), "--merchant", merchant.cnpj)
    assert code == 1 and err.count("\n") == 1


def test_unreadable_file(capsys, merchant, tmp_path):
    path = tmp_path / "foto.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    code, err = _exit(capsys, str(path), "--merchant", merchant.cnpj)
    assert code == 1 and err.count("\n") == 1 and "CSV" in err


def test_too_big_file_says_the_limit(capsys, merchant, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1024
    path = tmp_path / "grande.csv"
    path.write_bytes(csv_file(*[line()] * 50))
    code, err = _exit(capsys, str(path), "--merchant", merchant.cnpj)
    assert code == 1 and "1 KB" in err


def test_missing_columns(capsys, merchant, tmp_path):
    path = tmp_path / "colunas.csv"
    path.write_bytes(b"nome;email\nAna;a@b.com\n")
    code, err = _exit(capsys, str(path), "--merchant", merchant.cnpj)
    assert code == 1 and "cpf_cnpj" in err


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_process_exit_codes(merchant, sheet, settings):
    """The command as run from a shell: stdout is one JSON object; exit 0 / 1."""
    env = {**os.environ, "DATABASE_URL": _database_url(settings)}
    ok = subprocess.run(
        [sys.executable, "manage.py", "schedules_import", str(sheet), "--merchant", merchant.cnpj],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["created"] == 2
    bad = subprocess.run(
        [sys.executable, "manage.py", "schedules_import", str(sheet), "--merchant", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1 and bad.stdout == "" and bad.stderr.count("\n") == 1


def _database_url(settings) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
