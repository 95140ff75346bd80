"""Shared set-up for the bank flow tests: boletos issued by the real generator, with every
on-commit step (registration, the test bank, the retorno, the hand-off, the email) run as the
production worker would run it."""

from __future__ import annotations

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from billing.models import BankCollection, Boleto, CollectionChannel
from schedules.generator import installments_issue_due
from tests.factories import (  # noqa: F401 (registration_paused: shared with the bank tests)
    CustomerFactory,
    MerchantFactory,
    ScheduleFactory,
    registration_paused,
)


def run_on_commit(func, *args, **kwargs):
    """Call ``func`` and run every on-commit callback it (and its callbacks) leaves."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return func(*args, **kwargs)


def issue(merchant, *, customer=None, amount=None, due_in_days: int = 5) -> Boleto:
    """One boleto issued now by the generator (its installment inside the lead window)."""
    customer = customer or CustomerFactory(merchant=merchant)
    fields = {"amount": amount} if amount is not None else {}
    schedule = ScheduleFactory(
        merchant=merchant,
        customer=customer,
        first_due_date=timezone.localdate() + timedelta(days=due_in_days),
        lead_days=10,
        **fields,
    )
    run_on_commit(installments_issue_due, schedule_id=schedule.pk, merchant_id=merchant.pk)
    return Boleto.objects.get(schedule=schedule, sequence=1)


def file_channel_merchant(channel: str = CollectionChannel.CNAB240):
    """A Banco do Brasil merchant registering by CNAB 240 (or 400) files."""
    merchant = MerchantFactory(
        bank_code="001",
        agency="1234",
        agency_digit="3",
        account="12345",
        account_digit="6",
        wallet="17",
        agreement="1234567",
    )
    BankCollection.objects.filter(merchant=merchant).update(channel=channel)
    return merchant
