"""Import schedules from a CSV or XLSX file, as Agendados › Importar planilha does.

    python manage.py schedules_import FILE --merchant CNPJ [--dry-run]

Prints one JSON object: ``rows`` (data rows read), ``valid`` (rows that would be imported),
``created`` (schedules created; 0 with --dry-run), ``errors``: a list of
``{"row", "field", "message"}`` with ``row`` as the spreadsheet shows it (the header is row 1),
``field`` the column name; a duplicate row has ``field`` "" and a message starting
"Duplicado". Exit 0 when the file was read (even with row errors); 1 with one line on stderr
when the file cannot be read or the merchant does not exist.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from portal.documents import normalize_document
from portal.models import Merchant
from schedules.importing import reading, services

EXIT_FAILED = 1


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()


class Command(BaseCommand):
    help = "Importa agendamentos de uma planilha CSV ou XLSX (mesmas regras do portal)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="arquivo .csv ou .xlsx")
        parser.add_argument("--merchant", required=True, help="CNPJ do lojista")
        parser.add_argument(
            "--dry-run", action="store_true", help="só valida: não cria nada (created = 0)"
        )

    def fail(self, message: str) -> None:
        sys.stderr.write(f"Erro: {_one_line(message)}\n")
        sys.exit(EXIT_FAILED)

    def handle(self, *args, file, merchant, dry_run, **options):
        with translation.override("pt-br"):
            found = Merchant.objects.filter(cnpj=normalize_document(merchant)).first()
            if found is None:
                self.fail(f"lojista com CNPJ {merchant} não encontrado.")
            path = Path(file)
            max_bytes = settings.IMPORT_MAX_BYTES
            try:
                if path.stat().st_size > max_bytes:
                    self.fail(reading.too_big_message(max_bytes))
                data = path.read_bytes()
            except OSError as exc:
                self.fail(f"não foi possível ler {file}: {exc.strerror or exc}")
            try:
                table = reading.read_table(
                    data,
                    filename=path.name,
                    max_bytes=max_bytes,
                    max_rows=settings.IMPORT_MAX_ROWS,
                )
            except reading.ImportFileError as exc:
                self.fail(exc.message)
            preview = services.import_preview(merchant=found, table=table)
            created = 0
            if not dry_run and preview.valid:
                result = services.import_rows_create(
                    merchant=found, rows=[row.cleaned for row in preview.valid]
                )
                created = result.created
            report = {
                "rows": preview.total,
                "valid": len(preview.valid),
                "created": created,
                "errors": preview.errors(),
            }
        self.stdout.write(json.dumps(report, ensure_ascii=False))
