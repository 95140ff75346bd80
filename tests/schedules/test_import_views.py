"""Agendados › Importar planilha: templates, upload, preview, confirm once, tenancy, no 500."""

import io
from unittest import mock

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billing.models import Customer
from portal.models import Merchant
from schedules.importing import services as import_services
from schedules.importing.reading import COLUMNS, HEADER_LINE
from schedules.models import ImportBatch, Schedule, ScheduleEvent
from tests.factories import make_cpf
from tests.schedules.test_import_services import csv_file, line

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name="agendamentos.csv"):
    return client.post(reverse("schedules:import"), {"arquivo": SimpleUploadedFile(name, data)})


def test_list_has_the_button(owner_client):
    page = owner_client.get(reverse("schedules:list")).content.decode()
    assert reverse("schedules:import") in page and "Importar planilha" in page


def test_upload_page(owner_client):
    response = owner_client.get(reverse("schedules:import"))
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("schedules:import_sample_csv") in body
    assert reverse("schedules:import_sample_xlsx") in body
    assert "5 MB" in body and "20.000" in body


def test_csv_template_imports_as_it_is(owner_client, merchant):
    response = owner_client.get(reverse("schedules:import_sample_csv"))
    data = response.content
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").splitlines()[0] == HEADER_LINE
    assert "attachment" in response["Content-Disposition"]
    response = upload(owner_client, data, "modelo.csv")
    batch = ImportBatch.objects.get()
    assert (batch.valid_rows, batch.error_rows) == (1, 0), batch.report


def test_xlsx_template_imports_as_it_is(owner_client):
    response = owner_client.get(reverse("schedules:import_sample_xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == list(COLUMNS)
    upload(owner_client, response.content, "modelo.xlsx")
    batch = ImportBatch.objects.get()
    assert (batch.valid_rows, batch.error_rows) == (1, 0), batch.report


def test_upload_preview_confirm(owner_client, merchant, owner):
    data = csv_file(line(), line(cpf_cnpj="111", nome="Erro Aqui"), line())
    response = upload(owner_client, data)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("schedules:import_preview", kwargs={"pk": batch.pk})
    assert batch.merchant == merchant and batch.created_by == owner
    assert not Schedule.objects.exists()  # nothing imported before confirming

    page = owner_client.get(response.url).content.decode()
    assert "Importar 1 agendamento válido" in page
    assert "Erro Aqui" in page and "CPF (11 dígitos) ou CNPJ" in page
    assert "duplicado" in page
    errors_only = owner_client.get(response.url + "?mostrar=erros").content.decode()
    assert "Erro Aqui" in errors_only and "Ana Souza" not in errors_only

    confirm = reverse("schedules:import_confirm", kwargs={"pk": batch.pk})
    response = owner_client.post(confirm, follow=True)
    assert response.redirect_chain[-1][0] == reverse("schedules:list") + "?status=active"
    body = response.content.decode()
    assert "1 agendamento importado" in body
    assert Schedule.objects.count() == 1

    again = owner_client.post(confirm, follow=True)
    assert "já foi importada" in again.content.decode()
    assert Schedule.objects.count() == 1
    page = owner_client.get(reverse("schedules:import_preview", kwargs={"pk": batch.pk}))
    assert "já foi importada" in page.content.decode()


def test_other_merchant_gets_404(owner_client, other_owner):
    upload(owner_client, csv_file(line()))
    batch = ImportBatch.objects.get()
    other = Client()
    other.force_login(other_owner)
    assert other.get(reverse("schedules:import_preview", args=[batch.pk])).status_code == 404
    assert other.post(reverse("schedules:import_confirm", args=[batch.pk])).status_code == 404
    assert not Schedule.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PENDING


def test_unknown_batch_404(owner_client):
    assert owner_client.get("/agendamentos/importar/999999999999999999/").status_code == 404
    assert owner_client.post("/agendamentos/importar/123/confirmar/").status_code == 404
    assert owner_client.get("/agendamentos/importar/modelo.pdf").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("foto.csv", b"\x89PNG\r\n\x1a\n\x00\x00IHDR" + bytes(range(256)), "CSV"),
        ("planilha.xlsx", b"isto nao e um zip", ".xlsx"),
        ("velha.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        ("vazia.csv", b"", "vazio"),
        ("colunas.csv", b"nome;email\nAna;a@b.com\n", "cpf_cnpj"),
        ("lixo.csv", bytes(range(1, 256)) * 50, "CSV"),
    ],
)
def test_bad_files_no_500(owner_client, name, data, message):
    response = upload(owner_client, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_no_file(owner_client):
    response = owner_client.post(reverse("schedules:import"), {})
    assert response.status_code == 400
    assert "Escolha o arquivo" in response.content.decode()


def test_20_mb_file_refused_with_the_limit(owner_client):
    data = csv_file(line()) + b"x" * (20 * 1024 * 1024)
    response = upload(owner_client, data)
    assert response.status_code == 400
    assert "5 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_100000_rows_refused_with_the_limit(owner_client):
    data = (HEADER_LINE + "\n" + "x\n" * 100_000).encode()
    response = upload(owner_client, data)
    assert response.status_code == 400
    assert "20.000" in response.content.decode()


def test_limits_from_settings(owner_client, settings):
    settings.IMPORT_MAX_ROWS = 2
    response = upload(owner_client, csv_file(line(), line(valor="1"), line(valor="2")))
    assert response.status_code == 400 and "mais de 2 linhas" in response.content.decode()


def test_formula_never_echoed_unescaped(owner_client):
    formula = '=HYPERLINK("http://evil.example","<b>clique</b>")'
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    values = line(descricao="x").split(";")
    values[COLUMNS.index("nome")] = "<script>alert(1)</script>"
    sheet.append(values)
    values2 = line(cpf_cnpj=make_cpf(7)).split(";")
    values2[COLUMNS.index("descricao")] = formula
    sheet.append(values2)
    sheet.cell(row=3, column=COLUMNS.index("descricao") + 1).data_type = "s"  # text, as typed
    values3 = line(cpf_cnpj=make_cpf(8)).split(";")
    sheet.append(values3)
    sheet.cell(row=4, column=COLUMNS.index("descricao") + 1).value = formula  # a real formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(owner_client, buffer.getvalue(), "x.xlsx")
    page = owner_client.get(response.url).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>clique</b>" not in page
    batch = ImportBatch.objects.get()
    statuses = [row["status"] for row in batch.report]
    assert statuses == ["ok", "error", "ok"]  # the typed formula text is refused
    assert batch.report[1]["errors"][0][0] == "descricao"
    owner_client.post(reverse("schedules:import_confirm", args=[batch.pk]))
    assert not Schedule.objects.filter(description__startswith="=").exists()
    assert Schedule.objects.count() == 2


def test_all_or_nothing(owner_client, merchant):
    upload(owner_client, csv_file(line(), line(cpf_cnpj=make_cpf(3))))
    batch = ImportBatch.objects.get()
    real_insert = import_services._insert

    def insert_then_fail(model, objs):
        real_insert(model, objs)
        if model is ScheduleEvent:  # the last write: customers and schedules are in by now
            raise RuntimeError("boom")

    with (
        mock.patch.object(import_services, "_insert", side_effect=insert_then_fail),
        pytest.raises(RuntimeError),
    ):
        owner_client.post(reverse("schedules:import_confirm", args=[batch.pk]))
    assert not Schedule.objects.exists()
    assert not Customer.objects.exists()
    merchant.refresh_from_db()
    assert merchant.next_schedule_number == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PENDING
    assert Merchant.objects.get(pk=merchant.pk).next_schedule_number == 1


def test_get_confirm_not_allowed(owner_client):
    upload(owner_client, csv_file(line()))
    batch = ImportBatch.objects.get()
    response = owner_client.get(reverse("schedules:import_confirm", args=[batch.pk]))
    assert response.status_code == 405
    assert not Schedule.objects.exists()


def test_anonymous_redirected(client):
    response = client.get(reverse("schedules:import"))
    assert response.status_code == 302
