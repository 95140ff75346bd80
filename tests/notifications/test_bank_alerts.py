"""billing.signals.bank_attention -> a merchant alert: banner, one email, once per boleto and
kind; registration alerts close when the bank confirms the boleto."""

import pytest
from django.core import mail
from django.test import TestCase

from billing.models import BankAttention, Boleto
from billing.signals import bank_attention, boletos_registered
from notifications.models import MerchantAlert
from schedules.generator import installments_issue_due
from tests.factories import ScheduleFactory, bank_set

pytestmark = pytest.mark.django_db


def announce(boleto, kind, **detail):
    with TestCase.captureOnCommitCallbacks(execute=True):
        bank_attention.send(
            sender=None,
            merchant_id=boleto.merchant_id,
            boleto_id=boleto.pk,
            kind=kind,
            detail=detail,
        )


@pytest.fixture
def boleto(merchant):
    """An issued boleto (its registration's on-commit steps are not run here)."""
    from datetime import date
    from decimal import Decimal

    schedule = ScheduleFactory(
        merchant=merchant, first_due_date=date(2026, 3, 20), amount=Decimal("150.00")
    )
    installments_issue_due(today=date(2026, 3, 10), schedule_id=schedule.pk)
    return Boleto.objects.get(schedule=schedule, sequence=1)


def test_rejected_registration_alert_in_banner_and_emailed_once(boleto, owner_client):
    bank_set(
        boleto,
        registration_status="rejected",
        registration_reasons=[{"code": "48", "text": "CEP inválido"}],
    )
    announce(boleto, BankAttention.REGISTRATION_REJECTED)
    announce(boleto, BankAttention.REGISTRATION_REJECTED)  # a retorno imported twice

    alert = MerchantAlert.objects.get(boleto=boleto)
    assert alert.kind == "registration_rejected"
    assert alert.diagnostic == "CEP inválido"
    (email,) = mail.outbox
    number = boleto.schedule.number
    assert email.subject == f"Boleto do agendamento nº {number} rejeitado pelo banco"
    assert "Motivo informado pelo banco: CEP inválido" in email.body
    assert email.to == [boleto.merchant.alert_email]

    page = owner_client.get("/").content.decode()
    assert f"Boleto do agendamento nº {number} rejeitado pelo banco" in page
    assert "CEP inválido" in page


def test_amount_differs_alert_names_both_amounts(boleto):
    from datetime import date
    from decimal import Decimal

    bank_set(boleto, payment_status="paid", amount_paid=Decimal("10.00"), paid_on=date(2026, 3, 18))
    announce(boleto, BankAttention.AMOUNT_DIFFERS)
    alert = MerchantAlert.objects.get(boleto=boleto)
    assert alert.diagnostic == "Emitido: R$\xa0150,00; pago: R$\xa010,00 em 18/03/2026"
    assert "valor diferente" in mail.outbox[0].subject


def test_paid_after_write_off_and_overdue_are_separate_alerts(boleto):
    announce(boleto, BankAttention.REGISTRATION_OVERDUE, remessa="REM000001_001.rem")
    announce(boleto, BankAttention.PAID_AFTER_WRITE_OFF)
    kinds = sorted(MerchantAlert.objects.filter(boleto=boleto).values_list("kind", flat=True))
    assert kinds == ["paid_after_write_off", "registration_overdue"]
    assert len(mail.outbox) == 2


def test_registration_closes_the_overdue_alert(boleto):
    announce(boleto, BankAttention.REGISTRATION_OVERDUE, remessa="REM000001_001.rem")
    with TestCase.captureOnCommitCallbacks(execute=True):
        boletos_registered.send(
            sender=None, boleto_ids_by_merchant={boleto.merchant_id: [boleto.pk]}
        )
    assert MerchantAlert.objects.get(boleto=boleto).acknowledged_at is not None


def test_another_merchants_boleto_is_ignored(boleto, other_merchant):
    with TestCase.captureOnCommitCallbacks(execute=True):
        bank_attention.send(
            sender=None,
            merchant_id=other_merchant.pk,
            boleto_id=boleto.pk,
            kind=BankAttention.AMOUNT_DIFFERS,
            detail={},
        )
    assert not MerchantAlert.objects.exists()
