"""``manage.py cnab_info FILE``: describe a CNAB 240/400 file (retorno or remessa) as JSON.

Errors (a file we cannot read, an unsupported bank, a missing path) print one line on stderr and
exit with status 1.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from billing.cnab import CnabError, parse_file


class Command(BaseCommand):
    help = (
        "Lê um arquivo CNAB 240 ou CNAB 400 (retorno ou remessa) e imprime um objeto JSON com "
        "o layout, a direção, o banco e os títulos."
    )
    # Pure reading: no database, so no system checks that could fail for unrelated reasons.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="ARQUIVO", help="Caminho do arquivo CNAB.")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise CommandError(f"arquivo não encontrado: {path}", returncode=1) from None
        except IsADirectoryError:
            raise CommandError(f"{path} é um diretório, não um arquivo", returncode=1) from None
        except PermissionError:
            raise CommandError(f"sem permissão para ler {path}", returncode=1) from None
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            raise CommandError(f"não foi possível ler {path}: {reason}", returncode=1) from None
        try:
            parsed = parse_file(data)
        except CnabError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(json.dumps(parsed.as_json(), ensure_ascii=False, indent=2))
