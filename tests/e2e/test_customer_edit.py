"""Clientes › Editar: the merchant changes a customer's email from the customer list and finds the
change (who, from → to) in the history of the customer's schedule."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Customer
from tests.factories import CustomerFactory, ScheduleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD = "marcos.lima@empresa.com.br"
NEW = "marcos.lima@novaempresa.com.br"


def test_edit_customer_email_shows_in_schedule_history(page, login, owner, merchant, screenshot):
    customer = CustomerFactory(merchant=merchant, name="Marcos Lima", email=OLD)
    schedule = ScheduleFactory(merchant=merchant, customer=customer)
    login(page.context, owner)
    page.goto("/")
    page.get_by_role("navigation", name="Navegação principal").get_by_role(
        "link", name="Clientes"
    ).click()
    page.get_by_role("link", name="Editar Marcos Lima").click()
    expect(page.get_by_role("heading", level=1, name="Editar cliente")).to_be_visible()
    expect(page.get_by_text(customer.formatted_document)).to_be_visible()
    expect(page.get_by_role("textbox", name="CPF ou CNPJ")).to_have_count(0)  # read-only

    email = page.get_by_role("textbox", name="E-mail", exact=True)
    expect(email).to_have_value(OLD)
    email.fill(NEW)
    page.get_by_role("textbox", name="Telefone").fill("(11) 98888-7777")
    screenshot(page, "flow-customer-edit")
    page.get_by_role("button", name="Salvar alterações").click()

    expect(page).to_have_url(re.compile(r"/clientes/$"))
    expect(page.get_by_text("Dados do cliente Marcos Lima atualizados.")).to_be_visible()
    expect(page.get_by_role("cell", name=NEW)).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).email == NEW

    page.goto(schedule.get_absolute_url())
    entry = page.locator("ul.timeline li.timeline-customer_updated")
    expect(entry).to_contain_text("Dados do cliente alterados")
    expect(entry).to_contain_text(f"E-mail: {OLD} → {NEW}")
    expect(entry).to_contain_text("Telefone: — → (11) 98888-7777")
    expect(entry).to_contain_text(f"por {owner.get_username()}")
