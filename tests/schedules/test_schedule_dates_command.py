"""`manage.py schedule_dates`: one ISO date per line; bad arguments: one Portuguese line, exit 2."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]

EXPECTED_2024_01_31_MONTHLY = [
    "2024-01-31",
    "2024-02-29",
    "2024-04-01",  # 31 Mar 2024 is a Sunday
    "2024-04-30",
    "2024-05-31",
    "2024-07-01",  # 30 Jun 2024 is a Sunday
]


def run_manage(*args):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", "schedule_dates", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_call_command_prints_one_date_per_line():
    out = StringIO()
    call_command(
        "schedule_dates", "--first-due", "2024-01-31", "--every", "1", "--count", "6", stdout=out
    )
    assert out.getvalue().splitlines() == EXPECTED_2024_01_31_MONTHLY
    assert out.getvalue().endswith("\n")


def test_call_command_start():
    out = StringIO()
    call_command(
        "schedule_dates",
        "--first-due=2024-01-31",
        "--every=1",
        "--count=3",
        "--start=4",
        stdout=out,
    )
    assert out.getvalue().splitlines() == EXPECTED_2024_01_31_MONTHLY[3:]


def test_call_command_carnival_and_31_december():
    out = StringIO()
    call_command(
        "schedule_dates", "--first-due", "2024-12-31", "--every", "2", "--count", "2", stdout=out
    )
    # 31 Dec -> 2 Jan 2025; 28 Feb 2025 is a Friday and a business day.
    assert out.getvalue().splitlines() == ["2025-01-02", "2025-02-28"]


def test_call_command_bad_argument_raises_command_error_without_exiting():
    with pytest.raises(CommandError) as excinfo:
        call_command("schedule_dates", "--first-due", "2024-01-31", "--every", "5", "--count", "6")
    assert excinfo.value.returncode == 2
    assert str(excinfo.value) == "Erro: --every deve ser um destes: 1, 2, 3, 6, 12, 24"


def test_command_line_happy_path():
    result = run_manage("--first-due", "2024-01-31", "--every", "1", "--count", "6")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED_2024_01_31_MONTHLY
    assert result.stderr == ""


VALID = {"--first-due": "2024-01-31", "--every": "1", "--count": "6"}


def args_with(**changes):
    """Valid arguments with some replaced (value) or removed (None); keys use _ for -."""
    values = dict(VALID)
    for key, value in changes.items():
        option = "--" + key.replace("_", "-")
        if value is None:
            values.pop(option)
        else:
            values[option] = value
    return [part for option, value in values.items() for part in (option, value)]


BAD_ARGUMENTS = [
    pytest.param(args_with(first_due=None), "--first-due é obrigatório", id="missing-first-due"),
    pytest.param(args_with(every=None), "--every é obrigatório", id="missing-every"),
    pytest.param(args_with(count=None), "--count é obrigatório", id="missing-count"),
    pytest.param(args_with(first_due="31/01/2024"), "formato AAAA-MM-DD", id="first-due-not-iso"),
    pytest.param(args_with(first_due="20240131"), "formato AAAA-MM-DD", id="first-due-basic-iso"),
    pytest.param(
        args_with(first_due="2024-02-30"), "não é uma data válida", id="first-due-impossible"
    ),
    pytest.param(
        args_with(first_due="2023-02-29"), "não é uma data válida", id="first-due-not-leap"
    ),
    pytest.param(
        args_with(every="5"),
        "--every deve ser um destes: 1, 2, 3, 6, 12, 24",
        id="every-not-allowed",
    ),
    pytest.param(
        args_with(every="0"),
        "--every deve ser um destes: 1, 2, 3, 6, 12, 24",
        id="every-zero",
    ),
    pytest.param(args_with(every="1.5"), "--every deve ser um número inteiro", id="every-float"),
    pytest.param(args_with(every="mensal"), "--every deve ser um número inteiro", id="every-text"),
    pytest.param(args_with(count="0"), "--count deve estar entre 1 e 1200", id="count-zero"),
    pytest.param(args_with(count="-3"), "--count deve estar entre 1 e 1200", id="count-negative"),
    pytest.param(args_with(count="1201"), "--count deve estar entre 1 e 1200", id="count-too-big"),
    pytest.param(args_with(count="seis"), "--count deve ser um número inteiro", id="count-text"),
    pytest.param(
        [*args_with(), "--start", "0"], "--start deve ser maior ou igual a 1", id="start-zero"
    ),
    pytest.param(
        [*args_with(), "--start", "x"], "--start deve ser um número inteiro", id="start-text"
    ),
    pytest.param([*args_with(), "--count"], "--count requer um valor", id="option-without-value"),
    pytest.param(
        [*args_with(), "--bogus"], "argumentos não reconhecidos: --bogus", id="unknown-option"
    ),
    pytest.param([*args_with(), "extra"], "argumentos não reconhecidos", id="positional"),
    pytest.param([], "--first-due é obrigatório", id="no-arguments"),
    pytest.param(
        args_with(first_due="2024-01-31\nsegunda linha"),
        "formato AAAA-MM-DD",
        id="newline-in-value",
    ),
    pytest.param(
        args_with(every="24", count="1200"),
        "não há calendário de feriados bancários para o ano",
        id="beyond-holiday-calendar",
    ),
]


@pytest.fixture(scope="module")
def bad_argument_runs():
    """Run every bad-argument case once, concurrently (each one starts Django: ~1 s)."""
    cases = [tuple(case.values[0]) for case in BAD_ARGUMENTS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        return dict(zip(cases, pool.map(lambda args: run_manage(*args), cases), strict=True))


@pytest.mark.parametrize(("args", "expected"), BAD_ARGUMENTS)
def test_bad_arguments_print_one_portuguese_line_and_exit_2(args, expected, bad_argument_runs):
    result = bad_argument_runs[tuple(args)]
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("Erro: ")
    assert expected in line
    assert "Traceback" not in result.stderr
    for english in ("usage:", "error:", "commanderror", "invalid", "required", "unrecognized"):
        assert english not in line.lower()
