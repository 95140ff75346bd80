"""The import's reading layer on awkward files: encodings, separators, quoting, blank lines,
extra and reordered columns, XLSX cells, limits and files that are not spreadsheets."""

import io
import zipfile
from datetime import datetime

import openpyxl
import pytest

from schedules.importing.reading import (
    COLUMNS,
    HEADER_LINE,
    ImportFileError,
    normalize_label,
    read_table,
)

ROW = (
    "Ana Souza;123.456.789-09;ana@example.com;;Rua A, 1;Centro;São Paulo;SP;01310-100;"
    "1.234,56;Mensal;10/03/2030;;Mensalidade"
)


def read(data: bytes, name="planilha.csv", max_rows=1000, max_bytes=5 * 1024 * 1024):
    return read_table(data, filename=name, max_bytes=max_bytes, max_rows=max_rows)


class TestCsv:
    def test_utf8_semicolon(self):
        table = read(f"{HEADER_LINE}\n{ROW}\n".encode())
        (row,) = table.rows
        assert row.number == 2
        assert row.values["cidade"] == "São Paulo"
        assert row.values["endereco"] == "Rua A, 1"
        assert table.separator == ";" and table.encoding == "utf-8"

    def test_utf8_with_bom(self):
        table = read(("\ufeff" + f"{HEADER_LINE}\r\n{ROW}\r\n").encode())
        assert table.rows[0].values["nome"] == "Ana Souza"  # the BOM is not part of "nome"

    def test_cp1252_as_excel_saves_it(self):
        data = f"{HEADER_LINE}\r\n{ROW.replace('Centro', 'Conceição')}\r\n".encode("cp1252")
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        table = read(data)
        assert table.encoding == "cp1252"
        assert table.rows[0].values["bairro"] == "Conceição"
        assert table.rows[0].values["cidade"] == "São Paulo"

    def test_comma_separator_with_quoted_fields(self):
        header = HEADER_LINE.replace(";", ",")
        row = (
            'Ana Souza,123.456.789-09,ana@example.com,,"Rua A, 1; fundos",Centro,São Paulo,SP,'
            '01310-100,"1.234,56",Mensal,10/03/2030,,"Plano ""ouro"""'
        )
        table = read(f"{header}\n{row}\n".encode())
        values = table.rows[0].values
        assert table.separator == ","
        assert values["endereco"] == "Rua A, 1; fundos"
        assert values["valor"] == "1.234,56"
        assert values["descricao"] == 'Plano "ouro"'

    def test_quoted_semicolon_in_semicolon_file(self):
        row = ROW.replace("Rua A, 1", '"Rua A; 1"')
        assert read(f"{HEADER_LINE}\n{row}\n".encode()).rows[0].values["endereco"] == "Rua A; 1"

    def test_blank_lines_skipped_numbers_kept(self):
        data = f"\n{HEADER_LINE}\n\n{ROW}\n;;;;;;;;;;;;;\n\n{ROW}\n\n".encode()
        table = read(data)
        assert [row.number for row in table.rows] == [4, 7]

    def test_crlf_and_no_final_newline(self):
        table = read(f"{HEADER_LINE}\r\n{ROW}\r\n{ROW}".encode())
        assert [row.number for row in table.rows] == [2, 3]
        assert table.rows[1].values["descricao"] == "Mensalidade"

    def test_extra_columns_ignored_and_listed(self):
        table = read(f"{HEADER_LINE};observação interna\n{ROW};não importar\n".encode())
        assert table.ignored_columns == ["observação interna"]
        assert "observação interna" not in table.rows[0].values

    def test_columns_in_another_order_with_loose_header(self):
        header = [
            "Descrição",
            "Primeiro Vencimento",
            "NOME",
            " CPF/CNPJ ",
            "E-mail",
            "Endereço",
            "Cidade",
            "UF",
            "CEP",
            "Valor",
            "Frequência",
        ]
        row = [
            "Mensalidade",
            "10/03/2030",
            "Ana",
            "123.456.789-09",
            "ana@example.com",
            "Rua A",
            "Recife",
            "PE",
            "50000-000",
            "10",
            "Mensal",
        ]
        table = read((";".join(header) + "\n" + ";".join(row) + "\n").encode())
        values = table.rows[0].values
        assert values["nome"] == "Ana" and values["descricao"] == "Mensalidade"
        assert values["email"] == "ana@example.com"
        assert "telefone" not in values  # optional column absent: None when asked

    def test_missing_required_columns_named(self):
        header = HEADER_LINE.replace("cpf_cnpj;", "").replace(";valor", "")
        with pytest.raises(ImportFileError) as error:
            read(f"{header}\n".encode())
        assert "cpf_cnpj" in error.value.message and "valor" in error.value.message

    def test_no_header_at_all(self):
        with pytest.raises(ImportFileError) as error:
            read(f"{ROW}\n{ROW}\n".encode())
        assert HEADER_LINE in error.value.message

    def test_normalize_label(self):
        assert normalize_label("  Primeiro   Vencimento ") == "primeiro_vencimento"
        assert normalize_label("ANTECEDÊNCIA") == "antecedencia"


class TestBadFiles:
    def test_binary_named_csv(self):
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
        with pytest.raises(ImportFileError) as error:
            read(png)
        assert "CSV" in error.value.message

    def test_undecodable_without_nul(self):
        with pytest.raises(ImportFileError):
            read(b"nome;cpf_cnpj\n\x81\x8d\x8f\x90\x9d\n")

    def test_utf16_refused(self):
        with pytest.raises(ImportFileError):
            read(f"{HEADER_LINE}\n{ROW}\n".encode("utf-16"))

    def test_empty(self):
        with pytest.raises(ImportFileError):
            read(b"\n\n  \n")

    def test_too_big_says_the_limit(self):
        with pytest.raises(ImportFileError) as error:
            read(b"x" * (20 * 1024 * 1024), max_bytes=5 * 1024 * 1024)
        assert "5 MB" in error.value.message

    def test_too_many_rows_says_the_limit(self):
        data = (HEADER_LINE + "\n" + "x\n" * 100_000).encode()
        with pytest.raises(ImportFileError) as error:
            read(data, max_rows=20_000)
        assert "20.000" in error.value.message

    def test_at_the_row_limit_is_read(self):
        data = (HEADER_LINE + "\n" + "x\n" * 50).encode()
        assert len(read(data, max_rows=50).rows) == 50

    def test_xlsx_name_not_a_zip(self):
        with pytest.raises(ImportFileError) as error:
            read(f"{HEADER_LINE}\n".encode(), name="planilha.xlsx")
        assert ".xlsx" in error.value.message

    def test_zip_that_is_not_a_workbook(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hi")
        with pytest.raises(ImportFileError) as error:
            read(buffer.getvalue(), name="x.xlsx")
        assert ".xlsx" in error.value.message

    def test_truncated_xlsx(self):
        data = xlsx([list(COLUMNS)])
        with pytest.raises(ImportFileError):
            read(data[: len(data) // 2], name="x.xlsx")

    def test_old_xls(self):
        with pytest.raises(ImportFileError) as error:
            read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="a.xls")
        assert ".xls" in error.value.message

    def test_unclosed_quote_is_read_not_crashing(self):
        # The csv module reads to the end of the file inside the quote: one odd row, no 500.
        table = read(f'{HEADER_LINE}\n"Ana;1\n'.encode())
        assert len(table.rows) == 1


def xlsx(rows, *, text_cells=()) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for ref in text_cells:  # a string starting with "=" stored as text, not as a formula
        sheet[ref].data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class TestXlsx:
    def test_typed_cells_and_row_numbers(self):
        data = xlsx(
            [
                list(COLUMNS),
                [],
                [
                    "Ana",
                    12345678909,
                    "ana@example.com",
                    None,
                    "Rua A",
                    None,
                    "Recife",
                    "PE",
                    1310100,
                    199.9,
                    12,
                    datetime(2030, 3, 10),
                    10,
                    '=HYPERLINK("http://evil.example","clique")',
                ],
            ]
        )
        table = read(data, name="planilha.xlsx")
        (row,) = table.rows
        assert table.file_format == "xlsx"
        assert row.number == 3
        assert row.values["cpf_cnpj"] == 12345678909
        assert row.values["valor"] == 199.9
        assert row.values["primeiro_vencimento"] == datetime(2030, 3, 10)
        # A formula is never evaluated: data_only gives the value Excel cached (none here).
        assert row.values["descricao"] is None

    def test_detected_by_content_whatever_the_name(self):
        data = xlsx([list(COLUMNS), ["Ana"]])
        assert read(data, name="planilha.csv").file_format == "xlsx"

    def test_row_limit(self):
        data = xlsx([list(COLUMNS)] + [["x"]] * 30)
        with pytest.raises(ImportFileError) as error:
            read(data, name="a.xlsx", max_rows=20)
        assert "20" in error.value.message
