"""Abrir chamado from a deactivated schedule: prefilled with the number and the recorded cause;
support answers in the admin; the merchant gets the answer by email and sees it in the portal."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from notifications.tickets.models import SupportTicket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAUSE = "Endereço de e-mail inexistente ou inválido"
QUESTION = "Liguei para a cliente e o e-mail está certo. Por que não chega?"
ANSWER = "O servidor da cliente recusou o endereço (550 5.1.1). Confirme a grafia: gmial.com."


def test_ticket_from_deactivated_schedule_answered_by_support(
    page, make_context, login, owner, merchant, deactivated, settings, screenshot
):
    from tests.factories import UserFactory

    settings.SUPPORT_EMAILS = ["suporte@portal.example"]
    number = deactivated["schedule"].number
    login(page.context, owner)

    # From the Desativados row.
    page.goto("/agendamentos/?status=deactivated")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"nº {number}"))
    row.get_by_role("link", name="Abrir chamado").click()
    expect(page.get_by_role("heading", level=1, name="Abrir chamado")).to_be_visible()
    # The schedule and what was recorded, shown read-only above the form.
    recorded = page.locator("dl").filter(has_text="Motivo registrado")
    expect(recorded.get_by_role("link", name=f"nº {number}")).to_be_visible()
    expect(recorded.locator("dt:text-is('Motivo registrado') + dd")).to_have_text(CAUSE)
    expect(recorded).to_contain_text("5.1.1")
    subject = page.get_by_label("Assunto")
    expect(subject).to_have_value(f"Agendamento nº {number} desativado: {CAUSE}")

    # No message: refused next to the field, the subject kept.
    page.get_by_role("button", name="Enviar chamado").click()
    expect(page.get_by_text("Escreva a sua mensagem.")).to_be_visible()
    expect(page.get_by_label("Mensagem")).to_have_attribute("aria-invalid", "true")
    expect(subject).to_have_value(f"Agendamento nº {number} desativado: {CAUSE}")
    assert not SupportTicket.objects.exists()

    page.get_by_label("Mensagem").fill(QUESTION)
    screenshot(page, "flow-ticket-form")
    page.get_by_role("button", name="Enviar chamado").click()
    ticket = SupportTicket.objects.get()
    expect(page).to_have_url(re.compile(rf"/chamados/{ticket.number}/$"))
    expect(page.get_by_text(f"Chamado nº {ticket.number} aberto.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aberto")
    expect(page.get_by_text(QUESTION)).to_be_visible()
    assert ticket.schedule_id == deactivated["schedule"].pk
    assert ticket.cause == "invalid_address" and "5.1.1" in ticket.diagnostic
    assert any(m.to == ["suporte@portal.example"] for m in mail.outbox)

    # Support, in the admin (its own browser and session).
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = make_context("desktop")
    login(admin, staff)
    admin_page = admin.new_page()
    admin_page.goto("/admin/notifications/supportticket/")
    admin_page.get_by_role("link", name=ticket.subject).click()
    expect(admin_page.get_by_text(QUESTION)).to_be_visible()
    admin_page.get_by_label("Nova resposta").fill(ANSWER)
    mail.outbox.clear()
    admin_page.get_by_role("button", name="Salvar", exact=True).click()
    expect(admin_page.get_by_text("Resposta registrada")).to_be_visible()

    # The answer is emailed to the merchant...
    (answer_email,) = [m for m in mail.outbox if merchant.alert_email in m.to]
    assert f"Resposta ao chamado nº {ticket.number}" in answer_email.subject
    assert ANSWER in answer_email.body

    # ...and shown in the portal's ticket list and ticket.
    page.get_by_role("navigation", name="Navegação principal").get_by_role(
        "link", name="Chamados"
    ).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"nº {ticket.number}"))
    expect(row).to_contain_text("Respondido")
    expect(row).to_contain_text(f"nº {number}")
    expect(row.get_by_role("cell").last).to_have_text(re.compile(r"^\d\d.\d\d.\d{4} \d\d:\d\d$"))
    screenshot(page, "flow-ticket-list")
    row.get_by_role("link", name=f"nº {ticket.number}").click()
    conversation = page.locator("section").filter(has=page.get_by_role("heading", name="Conversa"))
    expect(conversation).to_contain_text("Resposta do suporte")
    expect(conversation).to_contain_text(ANSWER)
    expect(conversation).to_contain_text(QUESTION)
    screenshot(page, "flow-ticket-answered")
