"""``manage.py boleto_info <linha digitável ou código de barras>``: decode a boleto into JSON.

The code may be pasted with spaces, dots and hyphens, quoted or not (all positional words are
joined). Errors print one line on stderr and exit with status 1.
"""

from __future__ import annotations

import json
import re
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.febraban import BoletoError, bank_name, parse


class Command(BaseCommand):
    help = (
        "Decodifica um boleto de cobrança a partir da linha digitável (47 dígitos) ou do código "
        "de barras (44 dígitos) e imprime um objeto JSON."
    )
    # Pure decoding: no database, so no system checks that could fail for unrelated reasons.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "code",
            nargs="*",
            metavar="CODIGO",
            help="Linha digitável ou código de barras; espaços, pontos e hífens são ignorados.",
        )
        parser.add_argument(
            "--reference-date",
            metavar="AAAA-MM-DD",
            help=(
                "Data de referência para decodificar o fator de vencimento (janela de 3000 dias "
                "antes a 5500 dias depois). Padrão: hoje em America/Sao_Paulo."
            ),
        )

    def handle(self, *args, **options):
        raw = " ".join(options["code"]).strip()
        if not raw:
            raise CommandError(
                "Informe a linha digitável (47 dígitos) ou o código de barras (44 dígitos)",
                returncode=1,
            )
        reference = self._reference_date(options.get("reference_date"))
        try:
            boleto = parse(raw, reference_date=reference)
        except BoletoError as exc:
            raise CommandError(str(exc), returncode=1) from None

        data = {
            "input_kind": boleto.input_kind,
            "bank_code": boleto.bank_code,
            "bank_name": bank_name(boleto.bank_code),
            "currency": boleto.currency,
            "barcode": boleto.barcode,
            "linha_digitavel": boleto.linha_digitavel,
            "linha_digitavel_formatada": boleto.linha_digitavel_formatada,
            "general_dv": boleto.general_dv,
            "factor": boleto.factor,
            "due_date": boleto.due_date.isoformat() if boleto.due_date else None,
            "reference_date": boleto.reference_date.isoformat(),
            "amount": f"{boleto.amount:.2f}",
            "campo_livre": boleto.campo_livre,
        }
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))

    @staticmethod
    def _reference_date(value: str | None) -> date:
        if value is None:
            return timezone.localdate()
        value = value.strip()
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise CommandError(
            f"Data de referência inválida: {value!r} (use o formato AAAA-MM-DD)", returncode=1
        )
