"""The flow the portal exists for: a boleto bounces, the merchant is alerted, finds the schedule
by the number in the alert email under Gerenciar Boletos › Agendados › Agendamentos
Desativados, sees why, downloads the boleto to send it by hand, fixes the email and reactivates
with the undelivered boleto resent, and finds the schedule under Ativos with the whole history."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from notifications.models import OutboundEmail
from schedules.models import Schedule, ScheduleEvent
from tests.e2e.conftest import assert_boleto_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAUSE = "Endereço de e-mail inexistente ou inválido"
OLD_EMAIL = "joana.bezerra@gmial.com"
NEW_EMAIL = "joana.bezerra@gmail.com"


def main_nav(page):
    return page.get_by_role("navigation", name="Navegação principal")


def status_tabs(page):
    return page.get_by_role("navigation", name="Situação dos agendamentos")


def tab(page, label: str, count: int):
    return status_tabs(page).get_by_role("link", name=re.compile(rf"^{label}\s+{count}$"))


def section(page, heading: str):
    return page.locator("section").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^{heading}"))
    )


def test_alert_to_reactivation_with_resend(page, login, owner, deactivated, screenshot):
    schedule, boleto = deactivated["schedule"], deactivated["boleto"]
    number = deactivated["number_from_email"]
    assert number == str(schedule.number)
    login(page.context, owner)

    # The banner: which schedule, why, and the ways out.
    page.goto("/")
    banner = page.get_by_role("alert").filter(has_text=f"Agendamento nº {number} desativado")
    expect(banner).to_contain_text(CAUSE)
    expect(banner.get_by_role("link", name="Ver agendamento")).to_be_visible()
    with page.expect_download() as download:
        banner.get_by_role("link", name="Baixar PDF").click()
    assert_boleto_pdf(download.value.path().read_bytes(), boleto)

    # Gerenciar Boletos › Agendados › Agendamentos Desativados, each tab with its count.
    main_nav(page).get_by_role("link", name="Gerenciar Boletos").click()
    expect(page.get_by_role("heading", level=1, name="Gerenciar Boletos")).to_be_visible()
    page.get_by_role("navigation", name="Gerenciar Boletos").get_by_role(
        "link", name="Agendados"
    ).click()
    expect(tab(page, "Agendamentos Ativos", 3)).to_have_attribute("aria-current", "page")
    expect(tab(page, "Cancelados", 0)).to_be_visible()
    tab(page, "Agendamentos Desativados", 1).click()
    expect(tab(page, "Agendamentos Desativados", 1)).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"nº {number}"))
    expect(row).to_contain_text(CAUSE)
    expect(row).to_contain_text(OLD_EMAIL)
    expect(row).to_contain_text("Joana Bezerra")
    expect(row.get_by_role("link", name=re.compile(r"^Parcela 1 · venc\."))).to_be_visible()
    for action in ("Corrigir e-mail e reativar", "Baixar PDF", "Abrir chamado"):
        expect(row.get_by_role("link", name=action)).to_be_visible()
    screenshot(page, "flow-desativados")

    # The number from the alert email, typed in the search box and confirmed: lands on it.
    search = page.get_by_role("searchbox", name="Buscar")
    search.fill(number)
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/agendamentos/{number}/$"))

    # The schedule: status, cause in plain words, the provider's diagnostic, the undelivered one.
    h1 = page.get_by_role("heading", level=1)
    expect(h1).to_contain_text(f"Agendamento nº {number}")
    expect(h1).to_contain_text("Desativado")
    deactivation = page.get_by_role("alert").filter(has_text="Motivo da desativação")
    expect(deactivation).to_contain_text(CAUSE)
    expect(deactivation).to_contain_text("5.1.1")
    installment = section(page, "Parcelas").get_by_role("row").filter(has_text="Não entregue")
    expect(installment).to_have_count(1)
    history = section(page, "Histórico")
    expect(history).to_contain_text("Agendamento desativado")
    expect(history).to_contain_text(f"Boleto da parcela 1 enviado para {OLD_EMAIL}")
    with page.expect_download() as download:
        installment.get_by_role("link", name="Baixar PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert_boleto_pdf(download.value.path().read_bytes(), boleto)

    # Corrigir e-mail e reativar.
    page.get_by_role("navigation", name="Ações do agendamento").get_by_role(
        "link", name="Corrigir e-mail e reativar"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Corrigir e-mail e reativar")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Motivo da desativação")).to_contain_text(
        CAUSE
    )
    email = page.get_by_label("Novo e-mail do cliente")
    expect(email).to_have_value(OLD_EMAIL)
    expect(page.get_by_text("Nenhuma parcela deixou de ser emitida")).to_be_visible()
    # (no "/" in these patterns: Playwright cannot serialise it in a role/label selector)
    resend = page.get_by_role(
        "checkbox", name=re.compile(r"^Parcela 1 — vencimento \S+ — R\$\s189,90$")
    )
    expect(resend).to_be_checked()  # resending is the default
    screenshot(page, "flow-reactivate-form")

    # The same (nonexistent) address is refused next to the field, in Portuguese.
    page.get_by_role("button", name="Reativar agendamento").click()
    expect(page.get_by_text("informe um endereço diferente do atual")).to_be_visible()
    expect(email).to_have_attribute("aria-invalid", "true")
    # Not an address at all: the same, and what was typed is kept.
    email.fill("joana.bezerra@")
    page.get_by_role("button", name="Reativar agendamento").click()
    expect(page.get_by_text("Informe um endereço de email válido.")).to_be_visible()
    expect(email).to_have_value("joana.bezerra@")
    assert Schedule.objects.get(pk=schedule.pk).status == "deactivated"

    mail.outbox.clear()
    email.fill(NEW_EMAIL)
    expect(resend).to_be_checked()
    form_url = page.url
    # What this submit posts, to post it a second time below.
    posted = page.locator("form:has(button:text('Reativar agendamento'))").evaluate(
        "form => [...new FormData(form).entries()]"
    )
    page.get_by_role("button", name="Reativar agendamento").click()

    # Back on the schedule: active again, and the message says what happened.
    expect(page).to_have_url(re.compile(rf"/agendamentos/{number}/$"))
    expect(page.get_by_text(f"Agendamento nº {number} reativado.")).to_be_visible()
    expect(page.get_by_text(f"Novo e-mail do cliente: {NEW_EMAIL}.")).to_be_visible()
    expect(page.get_by_text("Boleto reenviado (parcela 1).")).to_be_visible()
    expect(h1).to_contain_text("Ativo")
    # The undelivered boleto went to the new address, PDF attached, linha digitável in the body.
    (resent,) = [m for m in mail.outbox if m.to == [NEW_EMAIL]]
    assert resent.attachments and resent.attachments[0][2] == "application/pdf"
    assert_boleto_pdf(resent.attachments[0][1], boleto)
    assert OutboundEmail.objects.filter(boleto=boleto, recipient=NEW_EMAIL).count() == 1

    # Under Ativos now, with the new address; Desativados is empty.
    main_nav(page).get_by_role("link", name="Gerenciar Boletos").click()
    page.get_by_role("navigation", name="Gerenciar Boletos").get_by_role(
        "link", name="Agendados"
    ).click()
    expect(tab(page, "Agendamentos Desativados", 0)).to_be_visible()
    tab(page, "Agendamentos Ativos", 4).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"nº {number}"))
    expect(row).to_contain_text(NEW_EMAIL)
    row.get_by_role("link", name=f"nº {number}").click()

    # The history tells the whole story, with who did it.
    history = section(page, "Histórico")
    expect(history).to_contain_text("Agendamento reativado")
    expect(history).to_contain_text(f"de {OLD_EMAIL} para {NEW_EMAIL}")
    expect(history).to_contain_text(f"por {owner.username}")
    expect(history).to_contain_text(f"Boleto da parcela 1 reenviado para {NEW_EMAIL}")
    expect(history).to_contain_text("Alerta enviado ao lojista por e-mail")
    expect(history).to_contain_text("Agendamento desativado")
    expect(history).to_contain_text(f"Boleto da parcela 1 enviado para {OLD_EMAIL}")
    screenshot(page, "flow-reactivated-detail")

    # The same form posted again (a double submit, a resubmit after Back) changes nothing.
    response = page.request.post(
        form_url, multipart={k: v for k, v in posted}, headers={"Referer": form_url}
    )
    assert response.ok and response.url.endswith(f"/agendamentos/{number}/"), response.url
    assert "Este agendamento já está ativo" in response.text()
    assert ScheduleEvent.objects.filter(schedule=schedule, kind="reactivated").count() == 1
    assert OutboundEmail.objects.filter(boleto=boleto, recipient=NEW_EMAIL).count() == 1


def test_boleto_list_filters_undelivered_and_downloads_the_pdf(page, login, owner, deactivated):
    boleto = deactivated["boleto"]
    login(page.context, owner)
    page.goto("/")
    main_nav(page).get_by_role("link", name="Gerenciar Boletos").click()
    expect(
        page.get_by_role("navigation", name="Gerenciar Boletos").get_by_role("link", name="Boletos")
    ).to_have_attribute("aria-current", "page")
    page.get_by_label("Entrega").select_option(label="Não entregue")
    page.get_by_role("button", name="Filtrar").click()
    expect(page).to_have_url(re.compile(r"entrega=undelivered"))
    rows = page.get_by_role("row").filter(has=page.get_by_role("link", name="Baixar PDF"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"nº {deactivated['schedule'].number}")
    expect(rows).to_contain_text("Joana Bezerra")
    expect(rows).to_contain_text("R$ 189,90")

    with page.expect_download() as download:
        rows.get_by_role("link", name="Baixar PDF").click()
    assert_boleto_pdf(download.value.path().read_bytes(), boleto)
