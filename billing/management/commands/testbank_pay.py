"""``manage.py testbank_pay <boleto id> [--amount X] [--date D]``: the Banco de testes (999)
receives a payment for a registered boleto ("Simular pagamento"). The test bank writes a payment
retorno (06; 17 when the title was written off) and it goes through the same ingestion as any
bank's file; the retorno's summary is printed as JSON.

Refused (one line in Portuguese, exit status 1): an unknown boleto, a merchant that does not use
the test bank, a boleto the test bank has not registered (or already paid), an amount or a date
that cannot be read.
"""

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.models import Boleto
from billing.registration import testbank_pay


def parse_amount(text: str) -> Decimal:
    """ "12,50", "12.50", "1.234,56" or "1234.56" -> Decimal("12.50")."""
    value = text.strip().replace("R$", "").strip()
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"valor inválido: {text!r} (use 12,50 ou 12.50)", returncode=1) from None
    if not amount.is_finite() or amount <= 0:
        raise CommandError(f"valor inválido: {text!r} (deve ser maior que zero)", returncode=1)
    return amount.quantize(Decimal("0.01"))


def parse_day(text: str) -> date:
    """dd/mm/aaaa or ISO (aaaa-mm-dd)."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    raise CommandError(f"data inválida: {text!r} (use dd/mm/aaaa ou aaaa-mm-dd)", returncode=1)


class Command(BaseCommand):
    help = (
        "Banco de testes (999): simula o pagamento de um boleto registrado e processa o retorno "
        "como o de um banco (imprime o resumo em JSON)."
    )

    def add_arguments(self, parser):
        parser.add_argument("boleto_id", metavar="BOLETO", help="Id do boleto.")
        parser.add_argument("--amount", help="Valor pago (12,50 ou 12.50); padrão: o do boleto.")
        parser.add_argument("--date", help="Data do pagamento (dd/mm/aaaa ou ISO); padrão: hoje.")

    def handle(self, *args, **options):
        try:
            boleto_id = int(options["boleto_id"])
        except ValueError:
            raise CommandError(
                f"boleto inválido: {options['boleto_id']!r} (informe o id)", returncode=1
            ) from None
        amount = parse_amount(options["amount"]) if options["amount"] else None
        paid_on = parse_day(options["date"]) if options["date"] else None
        boleto = Boleto.objects.filter(pk=boleto_id).first()
        if boleto is None:
            raise CommandError(f"boleto {boleto_id} não encontrado", returncode=1)
        try:
            retorno = testbank_pay(boleto=boleto, amount=amount, paid_on=paid_on)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=1) from None
        self.stdout.write(json.dumps(retorno.summary, ensure_ascii=False, indent=2))
