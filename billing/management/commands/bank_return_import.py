"""``manage.py bank_return_import FILE --merchant CNPJ``: apply a bank's retorno as the upload
does (billing.retornos.retorno_import, source "command") and print its summary as JSON.

The same file twice changes nothing the second time (``"already_imported": true``). A file the
portal refuses, or an unknown merchant, prints one line on stderr and exits with status 1.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from billing.retornos import (
    RETORNO_UNKNOWN_MERCHANT,
    retorno_import,
    retorno_read_path,
)
from portal.documents import normalize_document
from portal.models import Merchant


class Command(BaseCommand):
    help = (
        "Processa um arquivo de retorno do banco para um lojista (como o envio pelo portal) e "
        "imprime o resumo em JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="ARQUIVO", help="Arquivo de retorno (CNAB 240/400).")
        parser.add_argument(
            "--merchant",
            required=True,
            metavar="CNPJ",
            help="CNPJ do lojista (com ou sem pontuação).",
        )

    def handle(self, *args, **options):
        cnpj = normalize_document(options["merchant"])
        merchant = Merchant.objects.filter(cnpj=cnpj).first()
        if merchant is None:
            self._fail(str(RETORNO_UNKNOWN_MERCHANT) % {"cnpj": options["merchant"]})
        try:
            data = retorno_read_path(options["file"])
            retorno = retorno_import(
                merchant=merchant, data=data, filename=options["file"], source="command"
            )
        except ValidationError as exc:
            self._fail(" ".join(exc.messages))
        self.stdout.write(json.dumps(retorno.summary, ensure_ascii=False, indent=2))

    def _fail(self, message: str):
        self.stderr.write(message)
        raise SystemExit(1)
