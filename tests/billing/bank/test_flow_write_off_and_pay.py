"""Cancelling a schedule writes its open boletos off at the bank; the test bank's "Simular
pagamento" (testbank_pay: command and admin action) pays through the real retorno ingestion."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import registration
from billing.cnab import parse_file
from billing.models import Boleto, Remessa, TestBankTitle
from billing.remessas import remessa_generate
from notifications.models import MerchantAlert
from portal.timezones import business_today
from schedules.services import schedule_cancel
from tests.billing.bank.flow_helpers import file_channel_merchant, issue, run_on_commit
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def pay(boleto, *args) -> dict:
    from io import StringIO

    out = StringIO()
    run_on_commit(call_command, "testbank_pay", str(boleto.pk), *args, stdout=out)
    return json.loads(out.getvalue())


def test_cancel_writes_off_a_registered_boleto_at_the_test_bank_at_once(merchant):
    boleto = issue(merchant)
    assert boleto.bank.registration_status == Boleto.Registration.REGISTERED

    run_on_commit(schedule_cancel, schedule=boleto.schedule)

    boleto.refresh_from_db()
    remessa = boleto.bank.instruction_remessa
    assert (remessa.nsa, remessa.movements) == (2, {"02": 1})
    (event,) = parse_file(remessa.file.open("rb").read()).events
    assert (event.occurrence, event.our_id) == ("02", f"PB{boleto.pk}")
    assert (boleto.bank.instruction, boleto.bank.instruction_status) == ("write_off", "confirmed")
    assert boleto.bank.payment_status == Boleto.Payment.WRITTEN_OFF
    assert boleto.bank.written_off_on is not None
    title = TestBankTitle.objects.get(our_id=f"PB{boleto.pk}")
    assert title.status == TestBankTitle.Status.WRITTEN_OFF


def test_cancel_on_a_file_channel_sends_the_write_off_in_the_next_remessa():
    merchant = file_channel_merchant()
    sent = issue(merchant)
    run_on_commit(remessa_generate, merchant=merchant, trigger=Remessa.Trigger.MANUAL)
    never_sent = issue(merchant)

    run_on_commit(schedule_cancel, schedule=sent.schedule)
    run_on_commit(schedule_cancel, schedule=never_sent.schedule)

    sent.refresh_from_db()
    never_sent.refresh_from_db()
    assert (sent.bank.instruction, sent.bank.instruction_status) == ("write_off", "pending")
    # Withdrawn before any remessa carried it: never sent, nothing to write off.
    assert (never_sent.bank.instruction, never_sent.bank.instruction_status) == (
        "write_off",
        "confirmed",
    )
    assert never_sent.bank.instruction_remessa is None
    assert never_sent.bank.registration_status == Boleto.Registration.PENDING

    remessa = run_on_commit(remessa_generate, merchant=merchant, trigger=Remessa.Trigger.MANUAL)
    assert (remessa.nsa, remessa.movements) == (2, {"02": 1})
    (event,) = parse_file(remessa.file.open("rb").read()).events
    assert (event.occurrence, event.our_id) == ("02", f"PB{sent.pk}")
    sent.refresh_from_db()
    assert (sent.bank.instruction_status, sent.bank.instruction_remessa) == ("sent", remessa)
    assert remessa_generate(merchant=merchant, trigger=Remessa.Trigger.MANUAL) is None


def test_automatic_write_off_days_travel_with_each_title(merchant):
    from billing.models import BankCollection

    BankCollection.objects.filter(merchant=merchant).update(write_off_days=30)
    boleto = issue(merchant)
    assert TestBankTitle.objects.get(our_id=f"PB{boleto.pk}").write_off_days == 30
    data = boleto.bank.registration_remessa.file.open("rb").read().decode("ascii")
    segment_p = next(line for line in data.splitlines() if line[13] == "P")
    assert segment_p[223:227] == "1030"  # P 224 write-off code "1", 225-227 days


def test_testbank_pay_marks_the_boleto_paid(merchant):
    boleto = issue(merchant, amount=Decimal("150.00"))
    summary = pay(boleto)
    assert (summary["paid"], summary["amount_paid"]) == (1, "150.00")
    boleto.refresh_from_db()
    assert boleto.bank.payment_status == Boleto.Payment.PAID
    assert boleto.bank.amount_paid == Decimal("150.00")
    assert boleto.bank.paid_on == business_today()
    assert boleto.bank.credited_on > boleto.bank.paid_on
    assert not MerchantAlert.objects.filter(boleto=boleto).exists()
    # Paid once: the test bank refuses a second payment.
    with pytest.raises(CommandError, match="já foi pago"):
        call_command("testbank_pay", str(boleto.pk))


def test_testbank_pay_with_another_amount_and_date_alerts_the_merchant(merchant):
    boleto = issue(merchant, amount=Decimal("150.00"))
    paid_on = business_today() - timedelta(days=1)
    summary = pay(boleto, "--amount", "12,50", "--date", paid_on.strftime("%d/%m/%Y"))
    assert summary["amount_paid"] == "12.50"
    boleto.refresh_from_db()
    assert (boleto.bank.amount_paid, boleto.bank.paid_on) == (Decimal("12.50"), paid_on)
    alert = MerchantAlert.objects.get(boleto=boleto)
    assert alert.kind == MerchantAlert.Kind.AMOUNT_DIFFERS
    assert "R$\xa0150,00" in alert.diagnostic and "R$\xa012,50" in alert.diagnostic
    assert alert.emailed_at is not None


def test_testbank_pay_after_write_off_is_17_and_alerts(merchant):
    boleto = issue(merchant)
    run_on_commit(schedule_cancel, schedule=boleto.schedule)
    summary = pay(boleto, "--amount", str(boleto.amount))
    assert summary["paid_after_write_off"] == 1
    boleto.refresh_from_db()
    assert boleto.bank.payment_status == Boleto.Payment.PAID_AFTER_WRITE_OFF
    kinds = set(MerchantAlert.objects.filter(boleto=boleto).values_list("kind", flat=True))
    assert MerchantAlert.Kind.PAID_AFTER_WRITE_OFF in kinds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999999"], "não encontrado"),
        (["abc"], "boleto inválido"),
    ],
)
def test_testbank_pay_refuses_unknown_boletos(db, args, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("testbank_pay", *args)
    assert error.value.returncode == 1


def test_testbank_pay_refuses_bad_amounts_and_dates(merchant):
    boleto = issue(merchant)
    with pytest.raises(CommandError, match="valor inválido"):
        call_command("testbank_pay", str(boleto.pk), "--amount", "doze")
    with pytest.raises(CommandError, match="data inválida"):
        call_command("testbank_pay", str(boleto.pk), "--date", "31/02/2026")


def test_testbank_pay_refuses_a_file_channel_merchant():
    merchant = file_channel_merchant()
    boleto = issue(merchant)
    with pytest.raises(CommandError, match="não usa o Banco de testes") as error:
        call_command("testbank_pay", str(boleto.pk))
    assert error.value.returncode == 1


def test_testbank_pay_refuses_a_rejected_boleto(merchant):
    from tests.factories import CustomerFactory

    boleto = issue(merchant, customer=CustomerFactory(merchant=merchant, address_zip="00000000"))
    assert boleto.bank.registration_status == Boleto.Registration.REJECTED
    with pytest.raises(CommandError, match="ainda não foi registrado"):
        call_command("testbank_pay", str(boleto.pk))


def test_admin_simulate_payment_action(merchant, client):
    boleto = issue(merchant)
    staff = MembershipFactory(merchant=merchant).user
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    with pytest.MonkeyPatch.context():
        response = run_on_commit(
            client.post,
            "/admin/billing/boleto/",
            {"action": "simulate_payment", "_selected_action": [boleto.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "1 pagamento simulado" in response.content.decode()
    boleto.refresh_from_db()
    assert boleto.bank.payment_status == Boleto.Payment.PAID


def test_admin_boleto_page_shows_its_bank_state(merchant, client):
    boleto = issue(merchant)
    staff = MembershipFactory(merchant=merchant).user
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    registration.testbank_pay(boleto=boleto, amount=Decimal("12.34"))
    page = client.get(f"/admin/billing/boleto/{boleto.pk}/change/").content.decode()
    assert "Situação no banco" in page or "situação no banco" in page
    assert "Registrado" in page
    assert "Pago" in page
    assert "12,34" in page or "12.34" in page
