"""Issuance -> registration at the bank -> email: the test bank answers at once; a file
channel's boleto waits for the bank's retorno (02) before it is emailed."""

from datetime import timedelta
from decimal import Decimal
from hashlib import sha256

import pytest
from django.core import mail
from django.test import override_settings

from billing.cnab import parse_file
from billing.models import BankCollection, Boleto, Remessa, TestBankTitle
from billing.registration import registration_request, registrations_sweep
from billing.remessas import remessa_generate
from billing.retornos import retorno_import
from notifications.models import MerchantAlert
from tests.billing.bank.flow_helpers import (
    file_channel_merchant,
    issue,
    registration_paused,
    run_on_commit,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def customer_emails(customer):
    return [message for message in mail.outbox if customer.email in message.to]


def test_issued_boleto_is_registered_by_the_test_bank_then_emailed(merchant):
    customer = CustomerFactory(merchant=merchant)
    boleto = issue(merchant, customer=customer)

    assert boleto.bank.registration_status == Boleto.Registration.REGISTERED
    assert boleto.bank.registered_at is not None
    remessa = boleto.bank.registration_remessa
    assert (remessa.trigger, remessa.nsa, remessa.movements) == ("testbank", 1, {"01": 1})
    assert boleto.delivery_status == Boleto.DeliveryStatus.SENT
    assert len(customer_emails(customer)) == 1
    title = TestBankTitle.objects.get(our_id=f"PB{boleto.pk}")
    assert (title.amount, title.due_date, title.status) == (
        boleto.amount,
        boleto.due_date,
        TestBankTitle.Status.REGISTERED,
    )


def test_the_remessa_carries_the_boletos_snapshots(merchant):
    boleto = issue(merchant, amount=Decimal("123.45"))
    remessa = boleto.bank.registration_remessa
    data = remessa.file.open("rb").read()
    parsed = parse_file(data)
    (event,) = parsed.events
    assert parsed.direction == "remessa"
    assert parsed.bank_code == "999"
    assert event.our_id == f"PB{boleto.pk}"
    assert event.seu_numero == f"{boleto.schedule.number}-1"
    assert event.amount == Decimal("123.45")
    assert event.due_date == boleto.due_date
    assert remessa.filename == "REM000001_999.rem"
    assert remessa.sha256 == sha256(data).hexdigest()
    assert (remessa.titles, remessa.total_amount) == (1, Decimal("123.45"))


def test_nsa_increments_and_a_remessa_stays_as_generated(merchant):
    first = issue(merchant).bank.registration_remessa
    stored = first.file.open("rb").read()
    second = issue(merchant).bank.registration_remessa
    assert (first.nsa, second.nsa) == (1, 2)
    assert second.filename == "REM000002_999.rem"
    first.refresh_from_db()
    assert first.file.open("rb").read() == stored
    assert sha256(stored).hexdigest() == first.sha256
    assert BankCollection.objects.get(merchant=merchant).next_nsa == 3


def test_nothing_pending_makes_no_remessa(merchant):
    issue(merchant)
    assert remessa_generate(merchant=merchant, trigger=Remessa.Trigger.MANUAL) is None
    assert Remessa.objects.filter(merchant=merchant).count() == 1


def test_remessa_written_to_the_outbox_folder(merchant, tmp_path):
    with override_settings(BANK_OUTBOX_DIR=str(tmp_path)):
        remessa = issue(merchant).bank.registration_remessa
    written = tmp_path / merchant.cnpj / remessa.filename
    assert written.read_bytes() == remessa.file.open("rb").read()
    assert [p.name for p in (tmp_path / merchant.cnpj).iterdir()] == [remessa.filename]


def test_rejected_registration_is_not_emailed_and_alerts_the_merchant(merchant):
    customer = CustomerFactory(merchant=merchant, address_zip="00000000")
    boleto = issue(merchant, customer=customer)

    assert boleto.bank.registration_status == Boleto.Registration.REJECTED
    assert boleto.bank.registration_reasons
    assert boleto.delivery_status == Boleto.DeliveryStatus.PENDING
    assert customer_emails(customer) == []
    alert = MerchantAlert.objects.get(boleto=boleto)
    assert alert.kind == MerchantAlert.Kind.REGISTRATION_REJECTED
    assert "CEP" in alert.diagnostic
    assert alert.emailed_at is not None
    (alert_email,) = [m for m in mail.outbox if merchant.alert_email in m.to]
    assert f"nº {boleto.schedule.number}" in alert_email.subject
    assert "CEP" in alert_email.body
    assert not TestBankTitle.objects.filter(our_id=f"PB{boleto.pk}").exists()


def test_file_channel_boleto_waits_for_the_banks_retorno(client):
    from tests.billing.bank.cnab_builder import Retorno240, Title

    merchant = file_channel_merchant()
    customer = CustomerFactory(merchant=merchant)
    boleto = issue(merchant, customer=customer)
    assert boleto.bank.registration_status == Boleto.Registration.PENDING
    assert boleto.bank.registration_remessa is None
    assert customer_emails(customer) == []

    remessa = run_on_commit(remessa_generate, merchant=merchant, trigger=Remessa.Trigger.MANUAL)
    assert (remessa.bank_code, remessa.layout, remessa.movements) == ("001", "cnab240", {"01": 1})
    assert remessa.filename == "REM000001_001.rem"
    boleto.refresh_from_db()
    assert boleto.bank.registration_remessa == remessa
    assert boleto.delivery_status == Boleto.DeliveryStatus.PENDING
    assert customer_emails(customer) == []

    # The bank's answer, the next business day: entrada confirmada.
    from billing.cnab.nosso_numero import file_nosso_numero
    from billing.connectors import remessa_account

    account = remessa_account(
        merchant=merchant, collection=BankCollection.objects.get(merchant=merchant)
    )
    number = file_nosso_numero(bank_code="001", account=account, sequence=boleto.nosso_numero)
    data = Retorno240(
        bank="001",
        document=merchant.cnpj,
        agreement=merchant.agreement,
        agency=merchant.agency,
        account=merchant.account,
        titles=[
            Title(
                nosso_numero=number,
                occurrence="02",
                our_id=f"PB{boleto.pk}",
                amount=boleto.amount,
                due_date=boleto.due_date,
            )
        ],
    ).build()
    run_on_commit(retorno_import, merchant=merchant, data=data, filename="ret.ret", source="upload")
    boleto.refresh_from_db()
    assert boleto.bank.registration_status == Boleto.Registration.REGISTERED
    assert boleto.delivery_status == Boleto.DeliveryStatus.SENT
    assert len(customer_emails(customer)) == 1

    # The same file again: nothing changes, no second email.
    run_on_commit(retorno_import, merchant=merchant, data=data, filename="ret.ret", source="upload")
    assert len(customer_emails(customer)) == 1


def test_file_channel_merchants_are_not_sent_to_the_test_bank():
    merchant = file_channel_merchant()
    boleto = issue(merchant)
    assert (
        run_on_commit(registration_request, boleto_ids_by_merchant={merchant.pk: [boleto.pk]}) == 0
    )
    assert not Remessa.objects.filter(merchant=merchant).exists()


def test_sweep_registers_test_bank_boletos_whose_task_was_lost(merchant):
    # The registration task is lost (broker down at commit): the boleto stays pending.
    with registration_paused():
        boleto = issue(merchant)
    assert boleto.bank.registration_status == Boleto.Registration.PENDING
    assert run_on_commit(registrations_sweep) == 0  # too recent: its task may still run
    Boleto.objects.filter(pk=boleto.pk).update(issued_at=boleto.issued_at - timedelta(minutes=11))
    assert run_on_commit(registrations_sweep) == 1
    boleto.refresh_from_db()
    assert boleto.bank.registration_status == Boleto.Registration.REGISTERED
    assert boleto.delivery_status == Boleto.DeliveryStatus.SENT
