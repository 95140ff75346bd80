"""The spreadsheet templates offered for download (modelo.csv, modelo.xlsx): the header and one
example row that imports as it is."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
from dateutil.relativedelta import relativedelta
from openpyxl.styles import Font

from schedules.importing.reading import COLUMNS

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Typed as text in the XLSX template, so that Excel keeps leading zeros.
_TEXT_COLUMNS = ("cpf_cnpj", "telefone", "cep")
_WIDTHS = {"nome": 28, "email": 30, "endereco": 30, "descricao": 30, "primeiro_vencimento": 20}


def example_first_due(today: date) -> date:
    """The 10th of next month: always a valid first due date in the example row."""
    return (today + relativedelta(months=1)).replace(day=10)


def example_row(today: date) -> dict[str, object]:
    return {
        "nome": "Maria da Silva",
        "cpf_cnpj": "123.456.789-09",
        "email": "maria.silva@exemplo.com.br",
        "telefone": "(11) 98765-4321",
        "endereco": "Rua das Flores, 120",
        "bairro": "Centro",
        "cidade": "São Paulo",
        "uf": "SP",
        "cep": "01310-100",
        "valor": "199,90",
        "frequencia": "Mensal",
        "primeiro_vencimento": example_first_due(today),
        "antecedencia": "10",
        "descricao": "Mensalidade",
    }


def template_csv(today: date) -> bytes:
    """``;``-separated, UTF-8 with BOM (Excel then reads the accents right), CRLF lines."""
    row = example_row(today)
    row["primeiro_vencimento"] = row["primeiro_vencimento"].strftime("%d/%m/%Y")
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([row[name] for name in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(today: date) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Agendamentos"
    sheet.append(list(COLUMNS))
    row = example_row(today)
    row["valor"] = 199.9
    row["antecedencia"] = 10
    row["primeiro_vencimento"] = datetime.combine(row["primeiro_vencimento"], datetime.min.time())
    sheet.append([row[name] for name in COLUMNS])
    for index, name in enumerate(COLUMNS, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, max(12, len(name) + 2))
        cell = sheet[f"{letter}2"]
        if name in _TEXT_COLUMNS:
            cell.number_format = "@"
        elif name == "valor":
            cell.number_format = "#,##0.00"
        elif name == "primeiro_vencimento":
            cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
