"""Print the due dates of a recurring schedule, one ISO date per line.

    python manage.py schedule_dates --first-due 2024-01-31 --every 1 --count 6 [--start 1]

Bad arguments print exactly one line to stderr, in Portuguese ("Erro: ..."), and exit with
status 2. Django's defaults are replaced on purpose: argparse prints the usage plus an English
message (two lines), and a CommandError is printed as "CommandError: ...".
"""

from __future__ import annotations

import re
import sys
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError

from schedules import dates

MAX_COUNT = 1200
EXIT_USAGE = 2

_ISO_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_INTEGER = re.compile(r"\A[+-]?[0-9]+\Z")

# argparse's own (English) messages -> Portuguese. Anything else gets a generic message.
_ARGPARSE_MESSAGES = (
    (
        re.compile(r"\Aargument (?P<opt>[^:]+): expected one argument\Z"),
        "{opt} requer um valor",
    ),
    (
        re.compile(
            r"\Aargument (?P<opt>[^:]+): invalid choice: (?P<val>.*?)(?: \(choose from .*\))?\Z"
        ),
        "valor inválido para {opt}: {val}",
    ),
    (
        re.compile(r"\Aargument (?P<opt>[^:]+): invalid \w+ value: (?P<val>.*)\Z"),
        "valor inválido para {opt}: {val}",
    ),
    (
        re.compile(r"\Aargument (?P<opt>[^:]+): ignored explicit argument (?P<val>.*)\Z"),
        "valor inesperado para {opt}: {val}",
    ),
    (re.compile(r"\Aunrecognized arguments: (?P<val>.*)\Z"), "argumentos não reconhecidos: {val}"),
    (re.compile(r"\Aambiguous option: (?P<val>\S+)"), "opção ambígua: {val}"),
    (
        re.compile(r"\Athe following arguments are required: (?P<val>.*)\Z"),
        "opções obrigatórias ausentes: {val}",
    ),
)


def _one_line(text: str) -> str:
    """Collapse line breaks so that the error is always exactly one line."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def _translate_argparse_message(message: str) -> str:
    for pattern, template in _ARGPARSE_MESSAGES:
        match = pattern.search(message)
        if match:
            return template.format(**match.groupdict())
    return "argumentos inválidos (use --help para ver as opções)"


class Command(BaseCommand):
    help = (
        "Mostra as datas de vencimento de uma recorrência (uma data ISO por linha), já "
        "ajustadas ao fim do mês e ao próximo dia útil bancário."
    )
    # Pure date arithmetic: skipping system checks keeps this support tool instant.
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message: str):
            self._usage_error(_translate_argparse_message(message))

        # argparse calls self.error() for every parsing problem; an instance attribute overrides
        # CommandParser.error (usage + message on two lines, or CommandError("Error: ...")).
        parser.error = error
        return parser

    def add_arguments(self, parser):
        # Plain strings, validated in handle(): argparse's type=/required=/choices= would produce
        # English messages.
        parser.add_argument(
            "--first-due",
            dest="first_due",
            metavar="AAAA-MM-DD",
            help="Primeiro vencimento (data ISO).",
        )
        parser.add_argument(
            "--every",
            dest="every",
            metavar="MESES",
            help="Frequência em meses: " + ", ".join(map(str, dates.FREQUENCIES)) + ".",
        )
        parser.add_argument(
            "--count",
            dest="count",
            metavar="N",
            help=f"Quantidade de vencimentos (1 a {MAX_COUNT}).",
        )
        parser.add_argument(
            "--start",
            dest="start",
            metavar="N",
            default=1,
            help="Número da primeira parcela mostrada (padrão: 1).",
        )

    def _usage_error(self, message: str):
        line = "Erro: " + _one_line(message)
        if getattr(self, "_called_from_command_line", False):
            self.stderr.write(line)
            sys.exit(EXIT_USAGE)
        # call_command(): never SystemExit, the caller gets the same message.
        raise CommandError(line, returncode=EXIT_USAGE)

    def _parse_date(self, value, option: str) -> date:
        if value is None:
            self._usage_error(f"{option} é obrigatório (data no formato AAAA-MM-DD)")
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        text = str(value)
        if _ISO_DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                self._usage_error(f"{option} não é uma data válida: {text}")
        self._usage_error(f"{option} deve ser uma data no formato AAAA-MM-DD: {text}")

    def _parse_int(self, value, option: str) -> int:
        if value is None:
            self._usage_error(f"{option} é obrigatório")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value)
        if not _INTEGER.match(text):
            self._usage_error(f"{option} deve ser um número inteiro: {text}")
        return int(text)

    def handle(self, *args, **options):
        first_due = self._parse_date(options["first_due"], "--first-due")
        every = self._parse_int(options["every"], "--every")
        count = self._parse_int(options["count"], "--count")
        start = self._parse_int(options["start"], "--start")

        if every not in dates.FREQUENCIES:
            self._usage_error(
                "--every deve ser um destes: " + ", ".join(map(str, dates.FREQUENCIES))
            )
        if not 1 <= count <= MAX_COUNT:
            self._usage_error(f"--count deve estar entre 1 e {MAX_COUNT}")
        if start < 1:
            self._usage_error("--start deve ser maior ou igual a 1")

        try:
            # Computed in full before printing: an error never leaves partial output behind.
            result = dates.due_dates(first_due, every, count, start=start)
        except dates.UnsupportedDateError as exc:
            if exc.year is None:
                self._usage_error("os vencimentos ultrapassam o ano 9999")
            self._usage_error(
                f"não há calendário de feriados bancários para o ano {exc.year} "
                f"(anos suportados: {dates.HOLIDAY_CALENDAR_FIRST_YEAR} a "
                f"{dates.HOLIDAY_CALENDAR_LAST_YEAR})"
            )

        for due in result:
            self.stdout.write(due.isoformat())
