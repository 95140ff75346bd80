"""Logging in through the real pt-BR login form (a real session), and what an anonymous user
gets."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_form_in_portuguese_then_lands_where_it_was_going(page, merchant, owner, screenshot):
    # Anonymous: a portal page sends to /entrar/ and remembers where it was going.
    page.goto("/agendamentos/?status=deactivated")
    expect(page).to_have_url(re.compile(r"/entrar/\?next="))
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    screenshot(page, "login")

    # A wrong password: a pt-BR error, the username kept, the password not.
    page.get_by_label("Usuário").fill(owner.username)
    page.get_by_label("Senha").fill("senha-errada")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("usuário e senha corretos")).to_be_visible()
    expect(page.get_by_label("Usuário")).to_have_value(owner.username)
    expect(page.get_by_label("Senha")).to_have_value("")

    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(re.compile(r"/agendamentos/\?status=deactivated$"))
    expect(page.get_by_role("heading", level=1, name="Gerenciar Boletos")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Situação dos agendamentos").get_by_role(
            "link", name=re.compile("^Agendamentos Desativados")
        )
    ).to_have_attribute("aria-current", "page")
    expect(page.get_by_text(owner.username)).to_be_visible()

    # The session is real: the dashboard opens, and Sair ends it.
    page.get_by_role("navigation", name="Navegação principal").get_by_role(
        "link", name="Painel"
    ).click()
    expect(page.get_by_role("heading", name=str(merchant))).to_be_visible()
    page.get_by_role("button", name="Sair").click()
    expect(page).to_have_url(re.compile(r"/entrar/"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/entrar/\?next=/$"))


def test_forgotten_password_reset_by_email(page, live_server, settings, merchant, owner):
    from django.core import mail

    settings.PORTAL_BASE_URL = live_server.url  # the link in the email points here
    page.goto("/entrar/")
    page.get_by_role("link", name="Esqueci minha senha").click()
    expect(page.get_by_role("heading", level=1, name="Esqueci minha senha")).to_be_visible()
    page.get_by_label(re.compile(r"^E-?mail")).fill(owner.email)
    page.get_by_role("button", name="Enviar link").click()
    expect(page.get_by_role("heading", level=1, name="Verifique seu e-mail")).to_be_visible()

    (message,) = mail.outbox
    assert message.to == [owner.email]
    link = re.search(rf"{re.escape(live_server.url)}/senha/redefinir/\S+", message.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Defina sua senha")).to_be_visible()
    page.get_by_label(re.compile("^Nova senha")).fill("Boletos-2026-forte!")
    page.get_by_label(re.compile("^Confirmação")).fill("Boletos-2026-outra!")
    page.get_by_role("button", name="Salvar senha").click()
    expect(page.get_by_text("Os dois campos de senha não correspondem.")).to_be_visible()
    page.get_by_label(re.compile("^Nova senha")).fill("Boletos-2026-forte!")
    page.get_by_label(re.compile("^Confirmação")).fill("Boletos-2026-forte!")
    page.get_by_role("button", name="Salvar senha").click()
    expect(page.get_by_role("heading", level=1, name="Senha definida")).to_be_visible()

    # The link works once; the new password logs in, the old one no longer does.
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Link inválido ou expirado")).to_be_visible()
    page.goto("/entrar/")
    page.get_by_label("Usuário").fill(owner.username)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("usuário e senha corretos")).to_be_visible()
    page.get_by_label("Senha").fill("Boletos-2026-forte!")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", level=1, name=str(merchant))).to_be_visible()
