"""Agendamentos Desativados on a phone: search as you type, select a row, download the
undelivered boletos as one ZIP and the list as CSV (pt-BR spreadsheet friendly)."""

import csv
import io
import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_boleto_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_as_you_type_zip_and_csv_on_a_phone(make_context, login, owner, deactivated):
    schedule, boleto = deactivated["schedule"], deactivated["boleto"]
    context = make_context("phone")
    login(context, owner)
    page = context.new_page()

    # Ativos: typing a name narrows the list without submitting (htmx), and the URL follows.
    page.goto("/agendamentos/?status=active")
    expect(page.get_by_role("status")).to_have_text("3 agendamentos")
    page.get_by_role("searchbox", name="Buscar").press_sequentially("Ativo 1", delay=30)
    expect(page.get_by_role("status")).to_have_text("1 agendamento")
    expect(page.get_by_role("row").filter(has_text="Cliente Ativo 1")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=Ativo(\+|%20)1"))
    page.get_by_role("searchbox", name="Buscar").fill("ninguem-com-este-nome")
    expect(page.get_by_text("Nenhum agendamento encontrado com esses filtros.")).to_be_visible()

    # Desativados: by email, as typed.
    page.goto("/agendamentos/?status=deactivated")
    page.get_by_role("searchbox", name="Buscar").press_sequentially("gmial", delay=30)
    expect(page.get_by_role("status")).to_have_text("1 agendamento")
    page.get_by_role("checkbox", name=f"nº {schedule.number}").check()

    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("^Baixar boletos não entregues")).click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    (name,) = archive.namelist()
    assert name.endswith(".pdf")
    assert_boleto_pdf(archive.read(name), boleto)

    with page.expect_download() as download:
        page.get_by_role("link", name="Exportar CSV").click()
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens the accents right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2, rows
    line = ";".join(rows[1])
    assert str(schedule.number) in rows[1] and "Joana Bezerra" in line
    assert re.search(r"\b\d\d/\d\d/\d{4}\b", line), line
