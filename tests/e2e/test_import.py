"""Importar planilha: upload a spreadsheet with some invalid rows, fix nothing, import the valid
rows, and see them under Agendamentos Ativos."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from schedules.models import Schedule
from tests.factories import make_cpf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = (
    "nome;cpf_cnpj;email;telefone;endereco;bairro;cidade;uf;cep;valor;frequencia;"
    "primeiro_vencimento;antecedencia;descricao"
)


def sheet(tmp_path):
    due = (timezone.localdate() + timedelta(days=45)).strftime("%d/%m/%Y")
    past = (timezone.localdate() - timedelta(days=200)).strftime("%d/%m/%Y")
    rows = [
        f"Joana Bezerra;{make_cpf(11)};joana@example.com;;Rua A, 1;Centro;Recife;PE;50000-000;"
        f"199,90;Mensal;{due};;Mensalidade",
        f"Carlos Dias;{make_cpf(12)};carlos@example.com;;Rua B, 2;;Natal;RN;59000-000;"
        f"1.234,56;anual;{past};15;Plano anual",
        f"Linha Errada;123.456.789-00;sem-arroba;;Rua C;;Lugar;XX;123;abc;quinzenal;{due};;",
        f"Joana Bezerra;{make_cpf(11)};joana@example.com;;Rua A, 1;Centro;Recife;PE;50000-000;"
        f"199,90;Mensal;{due};;Mensalidade",
    ]
    path = tmp_path / "carteira.csv"
    # As Excel saves "CSV" in Portuguese: Windows-1252, CRLF.
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1252"))
    return path


def test_import_valid_rows_and_see_them_under_ativos(
    page, login, owner, merchant, tmp_path, screenshot
):
    login(page.context, owner)
    page.goto("/agendamentos/")
    page.get_by_role("link", name="Importar planilha").click()
    expect(page.get_by_role("link", name="Baixar modelo (.xlsx)")).to_be_visible()

    page.get_by_label("Planilha (.csv ou .xlsx)").set_input_files(str(sheet(tmp_path)))
    page.get_by_role("button", name="Enviar e conferir").click()

    expect(page).to_have_url(re.compile(r"/agendamentos/importar/\d+/$"))
    table = page.get_by_role("table")
    error_row = page.locator("#linha-4")
    expect(error_row).to_contain_text("erro")
    expect(error_row).to_contain_text("CPF inválido")
    expect(error_row).to_contain_text("E-mail inválido")
    expect(error_row).to_contain_text("sigla de um estado brasileiro (UF)")
    expect(error_row).to_contain_text("Frequência inválida")
    expect(page.locator("#linha-5")).to_contain_text("duplicado")
    expect(page.locator("#linha-3")).to_contain_text("Primeira a emitir: Parcela")
    expect(table).to_contain_text("Carlos Dias")
    assert not Schedule.objects.exists()
    screenshot(page, "flow-import-preview")

    page.get_by_role("button", name="Importar 2 agendamentos válidos").click()
    expect(page).to_have_url(re.compile(r"/agendamentos/\?status=active$"))
    expect(page.get_by_text("2 agendamentos importados")).to_be_visible()
    results = page.locator("#results")
    expect(results).to_contain_text("Joana Bezerra")
    expect(results).to_contain_text("Carlos Dias")
    expect(results).not_to_contain_text("Linha Errada")
    assert Schedule.objects.filter(merchant=merchant).count() == 2

    # Back to the preview: it says it was imported, and offers no second import.
    page.go_back()
    page.reload()
    expect(page.get_by_text("Esta planilha já foi importada")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Importar"))).to_have_count(0)
