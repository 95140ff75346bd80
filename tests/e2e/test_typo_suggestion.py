"""Catching an email typo before it bounces: "Você quis dizer ...?" as soon as the field loses
focus, one click puts the suggestion in the field; without the click, the form asks once."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIELDS = {
    "Nome": "Fulano de Tal",
    "CPF ou CNPJ": "529.982.247-25",
    "Endereço": "Rua Augusta, 100",
    "Cidade": "São Paulo",
    "UF": "SP",
    "CEP": "01304-001",
}


def fill_customer(page):
    for name, value in FIELDS.items():
        page.get_by_role("textbox", name=name, exact=True).fill(value)


def test_suggestion_on_blur_and_one_click_fix(page, login, owner, merchant, screenshot):
    login(page.context, owner)
    page.goto("/clientes/novo/")
    fill_customer(page)
    email = page.get_by_role("textbox", name="E-mail", exact=True)
    email.fill("fulano@gmial.com")
    email.blur()

    expect(page.get_by_text("Você quis dizer fulano@gmail.com?")).to_be_visible()
    use = page.get_by_role("button", name="Usar fulano@gmail.com")
    screenshot(page, "flow-email-typo-suggestion")
    use.click()
    expect(email).to_have_value("fulano@gmail.com")
    expect(use).to_have_count(0)

    page.get_by_role("button", name="Cadastrar cliente").click()
    expect(page).to_have_url(re.compile(r"/clientes/$"))
    expect(page.get_by_text("Cliente Fulano de Tal cadastrado.")).to_be_visible()
    assert Customer.objects.get().email == "fulano@gmail.com"


def test_real_domain_is_kept_on_second_submit(page, login, owner, merchant):
    """The merchant ignores the hint: the form asks once, then keeps what was typed."""
    login(page.context, owner)
    page.goto("/clientes/novo/")
    fill_customer(page)
    page.get_by_role("textbox", name="E-mail", exact=True).fill("fulano@hotmal.com")
    page.get_by_role("button", name="Cadastrar cliente").click()

    expect(page.locator(".field.has-error")).to_contain_text("Você quis dizer fulano@hotmail.com?")
    assert not Customer.objects.exists()
    # The suggestion button is there after the re-display as well.
    expect(page.get_by_role("button", name="Usar fulano@hotmail.com")).to_be_visible()
    page.get_by_role("button", name="Cadastrar cliente").click()
    expect(page.get_by_text("Cliente Fulano de Tal cadastrado.")).to_be_visible()
    assert Customer.objects.get().email == "fulano@hotmal.com"


def test_suggestion_in_new_schedule_form(page, login, owner, merchant):
    login(page.context, owner)
    page.goto("/agendamentos/novo/")
    page.get_by_role("radio", name="Novo cliente").check()
    email = page.get_by_role("textbox", name="E-mail", exact=True)
    email.fill("fulano@uol.com")
    email.blur()
    page.get_by_role("button", name="Usar fulano@uol.com.br").click()
    expect(email).to_have_value("fulano@uol.com.br")
