"""Cancel a schedule only after confirming; cancelling is final and shows in the history and
under Cancelados, and the issued boleto stays downloadable."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Boleto
from schedules.models import Schedule
from tests.e2e.conftest import assert_boleto_pdf, schedule_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancel_asks_first_then_is_final(page, login, owner, merchant, customer, screenshot):
    schedule = schedule_create(merchant, customer, due_in_days=5, actor=owner)
    number = schedule.number
    boleto = Boleto.objects.get(schedule=schedule)
    login(page.context, owner)
    page.goto(f"/agendamentos/{number}/")
    actions = page.get_by_role("navigation", name="Ações do agendamento")

    # The confirmation says what cancelling means; going back changes nothing.
    actions.get_by_role("link", name="Cancelar agendamento").click()
    expect(
        page.get_by_role("heading", level=1, name=f"Cancelar agendamento nº {number}?")
    ).to_be_visible()
    expect(page.get_by_text("O cancelamento é definitivo")).to_be_visible()
    expect(page.get_by_text("continua disponível para download")).to_be_visible()
    screenshot(page, "flow-cancel-confirm")
    page.get_by_role("link", name="Voltar sem cancelar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ativo")
    assert Schedule.objects.get(pk=schedule.pk).status == "active"

    actions.get_by_role("link", name="Cancelar agendamento").click()
    page.get_by_role("button", name="Sim, cancelar agendamento").click()
    expect(page).to_have_url(re.compile(rf"/agendamentos/{number}/$"))
    expect(page.get_by_text(f"Agendamento nº {number} cancelado.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancelado")
    expect(actions.get_by_role("link", name="Cancelar agendamento")).to_have_count(0)
    expect(actions.get_by_role("link", name="Corrigir e-mail e reativar")).to_have_count(0)
    history = page.locator("section").filter(has=page.get_by_role("heading", name="Histórico"))
    expect(history).to_contain_text("Agendamento cancelado")
    expect(history).to_contain_text(f"por {owner.username}")
    assert Schedule.objects.get(pk=schedule.pk).status == "cancelled"

    # Issued boletos remain downloadable.
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar PDF").click()
    assert_boleto_pdf(download.value.path().read_bytes(), boleto)

    # Final: the reactivation form refuses a cancelled schedule.
    page.goto(f"/agendamentos/{number}/reativar/")
    expect(page.get_by_text("foi cancelado e não pode ser reativado")).to_be_visible()

    page.goto("/agendamentos/?status=cancelled")
    tabs = page.get_by_role("navigation", name="Situação dos agendamentos")
    expect(tabs.get_by_role("link", name=re.compile(r"^Cancelados\s+1$"))).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("link", name=f"nº {number}")).to_be_visible()
