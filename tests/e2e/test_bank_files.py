"""The bank round trip in the browser: a boleto issued on the Banco de testes is registered at
once; its payment comes back in a retorno (the test bank's real CNAB 240, occurrence 06) that the
merchant uploads under Gerenciar Boletos › Arquivos; the result page lists it as paid, and the
schedule page and the dashboard show the payment."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing import testbank
from billing.cnab.nosso_numero import file_nosso_numero
from billing.connectors import remessa_account
from billing.models import Boleto, Retorno
from billing.services import bank_collection_get
from portal.timezones import business_today
from tests.e2e.conftest import schedule_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def payment_retorno(merchant, boleto, *, amount_paid: Decimal) -> bytes:
    """What the test bank sends back when the payer pays `boleto` today."""
    collection = bank_collection_get(merchant=merchant)
    account = remessa_account(merchant=merchant, collection=collection)
    today = business_today()
    payment = testbank.TestBankPayment(
        nosso_numero=file_nosso_numero(
            bank_code=account.bank_code, account=account, sequence=boleto.nosso_numero
        ).strip(),
        our_id=f"PB{boleto.pk}",
        amount=boleto.amount,
        due_date=boleto.due_date,
        amount_paid=amount_paid,
        paid_on=today,
        credited_on=today + timedelta(days=1),
        fee=Decimal("1.50"),
        interest_fine=Decimal("0.00"),
        discount=Decimal("0.00"),
    )
    return testbank.testbank_payment_retorno(
        account=account, titles=[payment], nsa=900, today=today
    )


def test_upload_a_retorno_and_see_the_boleto_paid(
    page, login, owner, merchant, customer, tmp_path, screenshot
):
    schedule = schedule_create(merchant, customer, due_in_days=5, amount="189.90", actor=owner)
    boleto = Boleto.objects.get(schedule=schedule, sequence=1)
    # The test bank registers at once, through a remessa and its retorno.
    assert boleto.bank.registration_status == Boleto.Registration.REGISTERED
    retorno_file = tmp_path / "RET-PAGAMENTO.ret"
    retorno_file.write_bytes(payment_retorno(merchant, boleto, amount_paid=Decimal("189.90")))

    login(page.context, owner)
    page.goto("/")
    page.get_by_role("navigation", name="Navegação principal").get_by_role(
        "link", name="Gerenciar Boletos"
    ).click()
    page.get_by_role("navigation", name="Gerenciar Boletos").get_by_role(
        "link", name="Arquivos"
    ).click()
    expect(page.get_by_role("heading", name="Enviar retorno")).to_be_visible()
    # The test bank registers at once: there is no remessa to generate by hand.
    expect(page.get_by_role("button", name="Gerar remessa agora")).to_have_count(0)

    page.get_by_label("Arquivo de retorno").set_input_files(retorno_file)
    page.get_by_role("button", name="Enviar retorno").click()

    expect(page).to_have_url(re.compile(r"/arquivos/retornos/\d+/$"))
    expect(page.get_by_text("Retorno RET-PAGAMENTO.ret processado.")).to_be_visible()
    paid = page.locator("section#paid")
    expect(paid.get_by_role("heading", name=re.compile(r"^Pagos\s+1$"))).to_be_visible()
    row = paid.get_by_role("row").filter(has_text=f"nº {schedule.number}, parcela 1")
    expect(row).to_contain_text("R$\xa0189,90")
    expect(row).to_contain_text("Pago R$\xa0189,90")
    screenshot(page, "flow-retorno-result")

    # Uploading the same file again changes nothing and says so.
    page.goto("/arquivos/")
    page.get_by_label("Arquivo de retorno").set_input_files(retorno_file)
    page.get_by_role("button", name="Enviar retorno").click()
    expect(page.get_by_text(re.compile("Este arquivo já foi processado em"))).to_be_visible()
    assert Retorno.objects.filter(merchant=merchant, source="upload").count() == 1

    # The schedule page: the installment is paid, with the amount; the history says it.
    page.goto("/arquivos/")
    page.get_by_role("link", name="RET-PAGAMENTO.ret").click()
    page.locator("section#paid").get_by_role("link", name=re.compile(r"parcela 1")).click()
    expect(page).to_have_url(re.compile(rf"/agendamentos/{schedule.number}/$"))
    installments = page.locator("section#parcelas")
    first = installments.locator("tbody tr").first
    expect(first).to_contain_text("Registrado")
    expect(first).to_contain_text("Pago")
    expect(first).to_contain_text("R$\xa0189,90")
    history = page.locator("section").filter(has=page.get_by_role("heading", name="Histórico"))
    expect(history).to_contain_text("Registro confirmado pelo banco")
    expect(history).to_contain_text("Pago R$\xa0189,90 em")
    screenshot(page, "flow-schedule-paid")

    # The dashboard counts it under "Pagos neste mês" and links to the filtered list.
    page.get_by_role("navigation", name="Navegação principal").get_by_role(
        "link", name="Painel"
    ).click()
    card = page.get_by_role("link", name=re.compile("Pagos neste mês"))
    expect(card).to_contain_text("1")
    expect(card).to_contain_text("R$\xa0189,90")
    card.click()
    expect(page).to_have_url(re.compile(r"/boletos/\?pagamento=paid&pago_em=\d{4}-\d{2}$"))
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Pago")
    expect(rows.first).to_contain_text(f"nº {schedule.number}")
