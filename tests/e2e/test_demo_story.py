"""The demo, as `python3 dev.py start` seeds it, tells the product's story at the first page:
the merchant logs in and the banner says a schedule was just deactivated by a bounce, which
leads to the schedule, its undelivered boleto and the provider's words."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from schedules.models import Schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_banner_after_seeding_leads_to_the_bounced_schedule(
    page, login, settings, tmp_path, screenshot
):
    settings.EMAIL_BACKEND = "portal.mail.FileEmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "dev:dev-webhook-secret"}
    call_command("seed_demo", stdout=StringIO())
    schedule = Schedule.objects.get(customer__name="Karina Alves")
    (alert_file,) = tmp_path.glob(f"*-agendamento-no-{schedule.number}-desativado-*.eml")

    login(page.context, get_user_model().objects.get(username="demo"))
    page.goto("/")
    banners = page.get_by_role("region", name="Alertas").get_by_role("alert")
    expect(banners).to_have_count(1)
    banner = banners.first
    expect(banner).to_contain_text(f"Agendamento nº {schedule.number} desativado")
    screenshot(page, "demo-start")
    banner.get_by_role("link", name="Ver agendamento").click()

    expect(page).to_have_url(re.compile(rf"/{schedule.number}/?$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Desativado")
    expect(page.get_by_text("karina.alves@gmial.com", exact=True)).to_be_visible()
    installments = page.locator("#parcelas")
    expect(installments).to_contain_text("Não entregue")
    # The provider's own words (the real-format bounce's SMTP reply).
    expect(page.locator("code.diagnostic").first).to_contain_text("5.1.1")
    expect(page.get_by_role("link", name="Corrigir e-mail e reativar")).to_be_visible()
