"""Reactivating a schedule that was off long enough for an installment's issue date to pass:
the form lists it, the merchant issues it now, keeps the address after a spam complaint only by
confirming it, and the new boleto goes out."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Boleto
from notifications.delivery import delivery_hand_off
from notifications.models import OutboundEmail
from schedules.generator import installments_issue_due
from schedules.models import Schedule
from tests.e2e.conftest import WEBHOOK_SECRET, assert_boleto_pdf, post_bounce
from tests.factories import registered_at_bank, registration_paused

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAUSE = "Marcado como spam pelo cliente"


@pytest.fixture
def off_for_a_month(live_server, settings, merchant, customer):
    """Installment 1 was issued 35 days ago and emailed; the customer marked it as spam, and
    the schedule has been deactivated since, so installment 2's issue date passed (missed)."""
    from tests.factories import ScheduleFactory

    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    today = timezone.localdate()
    first_due = today - timedelta(days=25)
    schedule = ScheduleFactory(
        merchant=merchant, customer=customer, first_due_date=first_due, lead_days=10
    )
    # The generator as it ran on installment 1's issue date (due date shifted to a business
    # day, minus the lead days).
    # The bank registered it then (today the test bank would refuse a due date in the past).
    with registration_paused():
        run = installments_issue_due(schedule_id=schedule.pk, today=schedule.next_issue_on)
    assert run.issued == 1
    boleto = Boleto.objects.get(schedule=schedule)
    registered_at_bank(boleto.pk)
    delivery_hand_off(merchant_id=merchant.pk, boleto_ids=[boleto.pk])
    outbound = OutboundEmail.objects.get(schedule=schedule)
    post_bounce(live_server, outbound, "postmark_spamcomplaint_1.json")
    schedule.refresh_from_db()
    assert schedule.status == "deactivated" and schedule.deactivation_cause == "spam_complaint"
    return schedule


def test_issue_the_missed_installment_now_keeping_the_email(
    page, login, owner, off_for_a_month, screenshot
):
    schedule = off_for_a_month
    number = schedule.number
    login(page.context, owner)
    page.goto(f"/agendamentos/{number}/")
    expect(page.get_by_role("alert").filter(has_text="Motivo da desativação")).to_contain_text(
        CAUSE
    )
    expect(page.get_by_text("1 parcela deixou de ser emitida desde a desativação")).to_be_visible()
    # A spam complaint is not a wrong address: the action does not ask to fix the email.
    actions = page.get_by_role("navigation", name="Ações do agendamento")
    expect(actions.get_by_role("link", name="Corrigir e-mail e reativar")).to_have_count(0)
    actions.get_by_role("link", name="Reativar agendamento").click()

    # The missed installment is listed; skipping is the default.
    missed = page.get_by_role("group", name=re.compile("^Parcelas não emitidas"))
    expect(missed.get_by_role("row").filter(has=page.get_by_role("cell", name="2"))).to_have_count(
        1
    )
    skip = missed.get_by_role("radio", name="Não emitir (pular estas parcelas)")
    issue_now = missed.get_by_role("radio", name="Emitir agora")
    expect(skip).to_be_checked()
    expect(issue_now).not_to_be_checked()
    screenshot(page, "flow-reactivate-missed")

    # After a spam complaint the address may stay, but only if the merchant says so.
    page.get_by_role("checkbox", name=re.compile("^Parcela 1")).uncheck()
    issue_now.check()
    page.get_by_role("button", name="Reativar agendamento").click()
    keep_error = "Informe um novo e-mail ou marque “Manter o e-mail atual”."
    expect(page.get_by_text(keep_error)).to_be_visible()
    expect(page.get_by_role("radio", name="Emitir agora")).to_be_checked()  # choice kept
    assert Schedule.objects.get(pk=schedule.pk).status == "deactivated"

    mail.outbox.clear()
    page.get_by_role("checkbox", name=re.compile("^Manter o e-mail atual")).check()
    page.get_by_role("button", name="Reativar agendamento").click()

    expect(page).to_have_url(re.compile(rf"/agendamentos/{number}/$"))
    expect(page.get_by_text(f"Agendamento nº {number} reativado.")).to_be_visible()
    expect(page.get_by_text("Parcelas emitidas agora: 2.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ativo")
    history = page.locator("section").filter(has=page.get_by_role("heading", name="Histórico"))
    expect(history).to_contain_text("Agendamento reativado")
    expect(history).to_contain_text("e-mail mantido")
    expect(history).to_contain_text("Parcela 2 emitida")

    # Installment 2 exists now, was emailed to the (kept) address and downloads as a PDF.
    second = Boleto.objects.get(schedule=schedule, sequence=2)
    assert second.status == "issued"
    (sent,) = [m for m in mail.outbox if m.to == [schedule.customer.email]]
    assert_boleto_pdf(sent.attachments[0][1], second)
    row = (
        page.locator("section")
        .filter(has=page.get_by_role("heading", name=re.compile("^Parcelas")))
        .get_by_role("row")
        .filter(has=page.get_by_role("cell", name="2", exact=True))
    )
    with page.expect_download() as download:
        row.get_by_role("link", name="Baixar PDF").click()
    assert_boleto_pdf(download.value.path().read_bytes(), second)
