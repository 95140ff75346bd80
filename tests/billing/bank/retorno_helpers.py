"""Shared set-up for the retorno tests: merchants with boletos issued by the real generator,
and retornos for them written with tests/billing/bank/cnab_builder.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.cnab.nosso_numero import file_nosso_numero
from billing.connectors import connector_for, remessa_account
from billing.models import Boleto, BoletoBank
from billing.retornos import retorno_import
from billing.services import bank_collection_get
from schedules.generator import installments_issue_due
from tests.billing.bank.cnab_builder import Retorno240, Title
from tests.billing.bank.flow_helpers import registration_paused
from tests.factories import CustomerFactory, ScheduleFactory

TODAY = date(2026, 3, 10)
DUE = date(2026, 3, 20)


def issue_boletos(merchant, count: int, *, amount=Decimal("150.00")) -> list[Boleto]:
    """``count`` issued boletos (registration pending), each its own schedule, through the
    installment generator as production issues them."""
    customer = CustomerFactory(merchant=merchant)
    for _ in range(count):
        ScheduleFactory(merchant=merchant, customer=customer, first_due_date=DUE, amount=amount)
    with registration_paused():  # these tests play the bank's retornos themselves
        installments_issue_due(today=TODAY, merchant_id=merchant.pk)
    boletos = list(Boleto.objects.for_merchant(merchant).filter(status="issued").order_by("id"))
    assert len(boletos) == count
    return boletos


def file_number(boleto: Boleto) -> str:
    """The boleto's nosso número as its bank's files carry it."""
    merchant = boleto.merchant
    collection = bank_collection_get(merchant=merchant)
    connector = connector_for(merchant=merchant, collection=collection)
    account = remessa_account(merchant=merchant, collection=collection)
    return file_nosso_numero(
        bank_code=connector.code, account=account, sequence=boleto.nosso_numero
    )


def title(boleto: Boleto, occurrence: str, **fields) -> Title:
    fields.setdefault("amount", boleto.amount)
    fields.setdefault("our_id", f"PB{boleto.pk}")
    if occurrence in ("06", "17"):
        fields.setdefault("amount_paid", boleto.amount)
    fields.setdefault("nosso_numero", file_number(boleto))
    return Title(occurrence=occurrence, **fields)


def retorno_file(merchant, titles: list[Title], **header) -> bytes:
    header.setdefault("document", merchant.cnpj)
    header.setdefault("agency", merchant.agency)
    header.setdefault("account", merchant.account)
    header.setdefault("agreement", merchant.agreement)
    return Retorno240(titles=titles, **header).build()


def import_file(merchant, data: bytes, name: str = "retorno.ret", source: str = "upload"):
    return retorno_import(merchant=merchant, data=data, filename=name, source=source)


def boleto_state(boleto_ids) -> list[tuple]:
    """Every bank field of these boletos, for before/after comparisons."""
    return list(
        BoletoBank.objects.filter(pk__in=list(boleto_ids))
        .order_by("pk")
        .values_list(
            "pk",
            "registration_status",
            "registration_reasons",
            "payment_status",
            "amount_paid",
            "amount_credited",
            "bank_fee",
            "interest_fine",
            "discount",
            "paid_on",
            "credited_on",
            "written_off_on",
            "instruction",
            "instruction_status",
            "instruction_reasons",
        )
    )
