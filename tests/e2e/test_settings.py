"""Configurações: the owner edits the alert email and the Pix key (history of changes), invites
a member; the member accepts the invitation from its email by choosing a password, logs in and
sees the settings read-only."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from portal.models import Merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_ALERT_EMAIL = "financeiro@lojista.com.br"
MEMBER_EMAIL = "ana.souza@lojista.com.br"
MEMBER_PASSWORD = "Membro-2026-forte!"


def test_owner_edits_settings_and_invites_a_read_only_member(
    page, make_context, live_server, settings, login, owner, merchant, screenshot
):
    settings.PORTAL_BASE_URL = live_server.url  # links in the invitation email
    old_alert_email = merchant.alert_email
    login(page.context, owner)
    page.goto("/")
    page.get_by_role("navigation", name="Navegação principal").get_by_role(
        "link", name="Configurações"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Configurações")).to_be_visible()

    alert_email = page.get_by_label("E-mail de alertas")
    expect(alert_email).to_have_value(old_alert_email)
    alert_email.fill("financeiro@")
    page.get_by_label("Chave Pix").fill(NEW_ALERT_EMAIL)
    page.get_by_role("button", name="Salvar configurações").click()
    expect(alert_email).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".has-error").filter(has=alert_email)).to_contain_text("válido")
    expect(page.get_by_label("Chave Pix")).to_have_value(NEW_ALERT_EMAIL)  # kept
    assert Merchant.objects.get(pk=merchant.pk).alert_email == old_alert_email

    alert_email.fill(NEW_ALERT_EMAIL)
    page.get_by_role("button", name="Salvar configurações").click()
    expect(page.get_by_label("E-mail de alertas")).to_have_value(NEW_ALERT_EMAIL)
    history = page.locator("section").filter(
        has=page.get_by_role("heading", name="Histórico de alterações")
    )
    expect(history).to_contain_text(f"{old_alert_email} → {NEW_ALERT_EMAIL}")
    assert Merchant.objects.get(pk=merchant.pk).alert_email == NEW_ALERT_EMAIL
    assert Merchant.objects.get(pk=merchant.pk).pix_key == NEW_ALERT_EMAIL
    screenshot(page, "flow-settings-saved")

    # Invite a member.
    page.get_by_role("navigation", name="Configurações").get_by_role(
        "link", name="Usuários"
    ).click()
    page.get_by_role("link", name="Convidar usuário").click()
    page.get_by_label("E-mail").fill(MEMBER_EMAIL)
    expect(page.get_by_label("Papel")).to_have_value("member")  # the default
    mail.outbox.clear()
    page.get_by_role("button", name="Enviar convite").click()
    row = page.get_by_role("row").filter(has_text=MEMBER_EMAIL)
    expect(row).to_contain_text("Convite pendente")
    (invitation,) = [m for m in mail.outbox if m.to == [MEMBER_EMAIL]]
    link = re.search(rf"{re.escape(live_server.url)}/\S+", invitation.body).group(0)

    # The member, in their own browser: accepts by choosing a password (their username is the
    # invited email), is logged in on the merchant, and logs in again later with it.
    member = make_context("phone").new_page()
    member.goto(link)
    expect(
        member.get_by_role("heading", level=1, name=f"Convite para a conta {merchant}")
    ).to_be_visible()
    member.get_by_label(re.compile("^Nova senha")).fill(MEMBER_PASSWORD)
    member.get_by_label(re.compile("^Confirmação")).fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="Definir senha e aceitar").click()
    expect(member.get_by_role("heading", level=1, name=str(merchant))).to_be_visible()
    member.context.clear_cookies()
    member.goto("/entrar/")
    member.get_by_label("Usuário").fill(MEMBER_EMAIL)
    member.get_by_label("Senha").fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="Entrar").click()
    expect(member.get_by_role("heading", level=1, name=str(merchant))).to_be_visible()

    # Members see the settings, read-only; a forged POST is refused.
    member.goto("/configuracoes/")
    expect(member.get_by_text("Somente proprietários da conta podem alterar")).to_be_visible()
    expect(member.get_by_role("button", name="Salvar configurações")).to_have_count(0)
    expect(member.get_by_text(NEW_ALERT_EMAIL).first).to_be_visible()
    token = member.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = member.request.post(
        "/configuracoes/",
        form={"csrfmiddlewaretoken": token, "alert_email": "invasor@example.com"},
        headers={"Referer": member.url},
    )
    assert response.status == 403
    assert Merchant.objects.get(pk=merchant.pk).alert_email == NEW_ALERT_EMAIL
    member.goto("/configuracoes/usuarios/")
    expect(member.get_by_role("link", name="Convidar usuário")).to_have_count(0)

    # The owner's list now shows the member as active.
    page.reload()
    expect(page.get_by_role("row").filter(has_text=MEMBER_EMAIL)).to_contain_text("Ativo")
