"""Create a schedule for a new customer, seeing the next six due dates before saving (htmx
refreshes them as the dates change; without JavaScript a button does the same)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Customer
from schedules import dates
from schedules.models import Schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_jan_31() -> date:
    today = timezone.localdate()
    candidate = date(today.year, 1, 31)
    return candidate if candidate > today else date(today.year + 1, 1, 31)


def expected_dates(first: date, every: int = 1) -> list[str]:
    return [dates.due_date(first, every, n).strftime("%d/%m/%Y") for n in range(1, 7)]


def preview_rows(page):
    return page.locator("#date-preview").get_by_role("row").filter(has=page.get_by_role("cell"))


def fill_new_customer(page):
    page.get_by_role("radio", name="Novo cliente").check()
    fields = {
        "Nome": "Academia Corpo & Mente Ltda",
        "CPF ou CNPJ": "11.222.333/0001-81",
        "E-mail": "financeiro@corpoemente.com.br",
        "Endereço": "Av. Paulista, 1578",
        "Bairro": "Bela Vista",
        "Cidade": "São Paulo",
        "UF": "SP",
        "CEP": "01310-200",
    }
    for name, value in fields.items():
        # By accessible name: the label without its aria-hidden "*".
        page.get_by_role("textbox", name=name, exact=True).fill(value)


def test_new_customer_schedule_with_live_date_preview(page, login, owner, merchant, screenshot):
    login(page.context, owner)
    page.goto("/agendamentos/")
    page.get_by_role("link", name="Novo agendamento").first.click()
    expect(page.get_by_role("heading", level=1, name="Novo agendamento")).to_be_visible()

    fill_new_customer(page)
    page.get_by_label("Valor (R$)").fill("1.234,56")
    expect(page.get_by_label("Frequência")).to_have_value("1")  # Mensal by default
    first = next_jan_31()
    page.get_by_label("Primeiro vencimento").fill(first.isoformat())
    page.get_by_label("Descrição").fill("Plano anual parcelado")

    # The preview follows the date as it changes (htmx), before anything is saved: the 31st is
    # clamped to the month's end and weekends/holidays move to the next business day.
    expect(preview_rows(page)).to_have_count(6)
    for n, due in enumerate(expected_dates(first), start=1):
        expect(preview_rows(page).nth(n - 1)).to_contain_text(due)
    expect(page.locator("#date-preview")).to_contain_text("não é dia útil")
    assert not Schedule.objects.exists()
    screenshot(page, "flow-schedule-create-preview")

    # Another frequency refreshes it.
    page.get_by_label("Frequência").select_option(label="A cada 3 meses")
    expect(preview_rows(page).nth(1)).to_contain_text(expected_dates(first, 3)[1])

    page.get_by_role("button", name="Criar agendamento").click()
    schedule = Schedule.objects.get()
    expect(page).to_have_url(re.compile(rf"/agendamentos/{schedule.number}/$"))
    expect(page.get_by_text(f"Agendamento nº {schedule.number} criado.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ativo")
    data = page.locator("section").filter(has=page.get_by_role("heading", name="Dados"))
    expect(data).to_contain_text("Academia Corpo & Mente Ltda")
    expect(data).to_contain_text("R$ 1.234,56")
    expect(data).to_contain_text("A cada 3 meses")
    upcoming = page.locator("section").filter(
        has=page.get_by_role("heading", name="Próximos vencimentos")
    )
    for due in expected_dates(first, 3):
        expect(upcoming).to_contain_text(due)
    customer = Customer.objects.get(merchant=merchant)
    assert customer.document == "11222333000181" and schedule.customer == customer
    assert schedule.amount == Decimal("1234.56") and schedule.frequency_months == 3


def test_without_javascript_the_preview_button_and_errors_in_portuguese(
    make_context, login, owner, merchant
):
    from tests.factories import CustomerFactory

    CustomerFactory(merchant=merchant, name="Bruno Tavares")
    context = make_context("desktop", java_script_enabled=False)
    page = context.new_page()
    login(context, owner)
    page.goto("/agendamentos/novo/")
    customers = page.get_by_label("Cliente cadastrado")
    option = customers.locator("option").filter(has_text="Bruno Tavares").text_content()
    customers.select_option(label=option.strip())
    page.get_by_label("Valor (R$)").fill("0,00")
    first = next_jan_31()
    page.get_by_label("Primeiro vencimento").fill(first.isoformat())
    page.get_by_role("button", name="Pré-visualizar datas").click()
    # Server-rendered: the dates, and everything typed kept.
    expect(preview_rows(page)).to_have_count(6)
    expect(preview_rows(page).first).to_contain_text(expected_dates(first)[0])
    expect(page.get_by_label("Valor (R$)")).to_have_value("0,00")

    page.get_by_role("button", name="Criar agendamento").click()
    amount = page.get_by_label("Valor (R$)")
    expect(page.get_by_text("O valor mínimo é R$ 0,01.")).to_be_visible()
    expect(amount).to_have_value("0,00")
    expect(amount).to_have_attribute("aria-invalid", "true")
    assert not Schedule.objects.exists()

    amount.fill("89,90")
    page.get_by_role("button", name="Criar agendamento").click()
    expect(page.get_by_text(re.compile(r"Agendamento nº \d+ criado\."))).to_be_visible()
    assert Schedule.objects.get().customer.name == "Bruno Tavares"


def test_preview_shows_the_dates_of_the_last_change(page, login, owner):
    """Two changes in quick succession (frequency, then the date, before the first preview
    answered — a slow connection): the preview must end up showing the dates of what the form
    holds, not the answer to the first change."""
    login(page.context, owner)
    page.goto("/agendamentos/novo/")
    first = next_jan_31()
    page.get_by_label("Frequência").select_option(label="A cada 6 meses")
    page.get_by_label("Primeiro vencimento").fill(first.isoformat())
    expect(preview_rows(page)).to_have_count(6)
    for n, due in enumerate(expected_dates(first, 6), start=1):
        expect(preview_rows(page).nth(n - 1)).to_contain_text(due)


def test_bad_values_each_get_one_message_in_the_fields_terms(page, login, owner, merchant):
    """Issue 10 item 24: one message per error, in the field's own terms, the date's once."""
    from datetime import timedelta

    from tests.factories import CustomerFactory

    CustomerFactory(merchant=merchant, name="Bruno Tavares")
    login(page.context, owner)
    page.goto("/agendamentos/novo/")
    customers = page.get_by_label("Cliente cadastrado")
    option = customers.locator("option").filter(has_text="Bruno Tavares").text_content()
    customers.select_option(label=option.strip())
    page.get_by_label("Valor (R$)").fill("100.000.000,00")
    page.get_by_label("Emitir com quantos dias de antecedência").fill("61")
    past = timezone.localdate() - timedelta(days=10)
    page.get_by_label("Primeiro vencimento").fill(past.isoformat())
    date_error = "O primeiro vencimento não pode ser anterior a hoje."
    # The live preview (htmx) says why it shows no dates: the date's error, once.
    expect(page.locator("#date-preview")).to_contain_text(date_error)
    expect(page.get_by_text(date_error)).to_have_count(1)

    page.get_by_role("button", name="Criar agendamento").click()

    expect(page.get_by_text("O valor máximo é R$ 99.999.999,99.")).to_have_count(1)
    expect(page.get_by_text("Antecedência: de 1 a 60 dias.")).to_have_count(1)
    expect(page.get_by_text(date_error)).to_have_count(1)
    amount = page.get_by_label("Valor (R$)")
    expect(amount).to_have_value("100.000.000,00")
    expect(amount).to_have_attribute("aria-invalid", "true")
    for field in ("amount", "lead_days", "first_due_date"):
        expect(page.locator(f"#id_{field}").locator("xpath=..").locator(".error")).to_have_count(1)
    body = page.locator("body").inner_text()
    assert "Certifique-se" not in body and "ponto decimal" not in body
    assert not Schedule.objects.exists()
