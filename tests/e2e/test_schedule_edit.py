"""Edit a schedule in the browser: the form names, before saving, the installment a reajuste
starts from; the change lands in the history; a schedule with an end finishes by itself and
shows under Encerrados, read-only."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Boleto
from schedules import services
from schedules.models import Schedule, ScheduleStatus
from tests.e2e.conftest import schedule_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reajuste_previewed_then_saved_and_in_the_history(
    page, login, owner, merchant, customer, screenshot
):
    schedule = schedule_create(merchant, customer, due_in_days=5, actor=owner)
    number = schedule.number
    first = Boleto.objects.get(schedule=schedule)
    schedule.refresh_from_db()
    next_due = schedule.due_date_of(2).strftime("%d/%m/%Y")
    login(page.context, owner)
    page.goto(f"/agendamentos/{number}/")

    actions = page.get_by_role("navigation", name="Ações do agendamento")
    actions.get_by_role("link", name="Editar", exact=True).click()
    expect(
        page.get_by_role("heading", level=1, name=f"Editar agendamento nº {number}")
    ).to_be_visible()
    preview = page.locator("#edit-preview")
    expect(preview).to_contain_text(
        f"As alterações valem a partir da parcela 2, vencimento {next_due}."
    )
    expect(preview).to_contain_text("já emitida, não muda")

    amount = page.get_by_label("Valor (R$)")
    amount.fill("210,00")
    amount.press("Tab")  # htmx refreshes the preview on change, before anything is saved
    expect(preview).to_contain_text(
        f"O novo valor vale a partir da parcela 2, vencimento {next_due}"
    )
    assert Schedule.objects.get(pk=schedule.pk).amount == Decimal("189.90")
    screenshot(page, "flow-schedule-edit-preview")

    page.get_by_role("button", name="Salvar alterações").click()
    expect(page).to_have_url(re.compile(rf"/agendamentos/{number}/$"))
    expect(page.get_by_text(f"Agendamento nº {number} alterado.")).to_be_visible()
    history = page.locator("section").filter(has=page.get_by_role("heading", name="Histórico"))
    expect(history).to_contain_text("Agendamento alterado")
    expect(history).to_contain_text(re.compile(r"Valor: R\$\s189,90 → R\$\s210,00"))
    expect(history).to_contain_text("a partir da parcela 2")
    expect(history).to_contain_text(f"por {owner.username}")
    assert Schedule.objects.get(pk=schedule.pk).amount == Decimal("210.00")
    first.refresh_from_db()
    assert first.amount == Decimal("189.90")  # the issued boleto keeps its amount


def test_a_schedule_with_an_end_finishes_under_encerrados(page, login, owner, merchant, customer):
    schedule = services.schedule_create(
        merchant=merchant,
        customer=customer,
        amount=Decimal("50.00"),
        frequency_months=1,
        first_due_date=timezone.localdate() + timedelta(days=5),
        lead_days=10,
        actor=owner,
        end_count=1,
    )
    schedule.refresh_from_db()  # its only installment was issued at once, and it finished
    assert schedule.status == ScheduleStatus.FINISHED
    number = schedule.number
    login(page.context, owner)

    page.goto("/agendamentos/?status=finished")
    tabs = page.get_by_role("navigation", name="Situação dos agendamentos")
    expect(tabs.get_by_role("link", name=re.compile(r"^Encerrados\s+1$"))).to_have_attribute(
        "aria-current", "page"
    )
    expect(tabs.get_by_role("link", name=re.compile(r"^Cancelados\s+0$"))).to_be_visible()
    page.get_by_role("link", name=f"nº {number}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Encerrado")
    expect(page.get_by_text("Agendamento encerrado em")).to_be_visible()
    actions = page.get_by_role("navigation", name="Ações do agendamento")
    expect(actions.get_by_role("link", name="Editar", exact=True)).to_have_count(0)
    expect(actions.get_by_role("link", name="Cancelar agendamento")).to_have_count(0)
    history = page.locator("section").filter(has=page.get_by_role("heading", name="Histórico"))
    expect(history).to_contain_text("Encerrado")

    page.goto(f"/agendamentos/{number}/editar/")
    expect(page).to_have_url(re.compile(rf"/agendamentos/{number}/$"))
    expect(
        page.get_by_text("Este agendamento foi encerrado e não pode mais ser alterado.")
    ).to_be_visible()
