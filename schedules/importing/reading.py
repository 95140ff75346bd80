"""Reading an uploaded spreadsheet into raw rows: no validation of the values here.

CSV: UTF-8 (with or without BOM) or Windows-1252, as Excel saves "CSV" in Portuguese; the
separator (``;``, ``,`` or tab) is taken from the header line; quoting through the csv module.
XLSX: openpyxl, read-only and ``data_only`` (a formula cell gives the value Excel cached when it
saved the file, never a formula evaluated here); cells come typed (numbers, dates).

Rows keep the number the spreadsheet shows (the header is row 1); blank rows are skipped, extra
columns ignored (and listed), missing required columns refuse the file. A file that cannot be
read, or is over the limits, raises ImportFileError with a message in Portuguese: nothing of it
is imported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

COLUMNS = (
    "nome",
    "cpf_cnpj",
    "email",
    "telefone",
    "endereco",
    "bairro",
    "cidade",
    "uf",
    "cep",
    "valor",
    "frequencia",
    "primeiro_vencimento",
    "antecedencia",
    "descricao",
)
OPTIONAL_COLUMNS = frozenset({"telefone", "bairro", "antecedencia", "descricao"})
REQUIRED_COLUMNS = tuple(name for name in COLUMNS if name not in OPTIONAL_COLUMNS)
HEADER_LINE = ";".join(COLUMNS)
# Header spellings people type that mean one of our columns (after normalisation).
_ALIASES = {"e_mail": "email", "cpf_ou_cnpj": "cpf_cnpj", "cpf_cnpj_do_cliente": "cpf_cnpj"}
# Cells read per XLSX row: the template has 14 columns; the rest of a wide sheet is ignored.
MAX_COLUMNS = 64
# An XLSX is a zip: refuse one that inflates beyond this many times the upload limit (a zip bomb
# would otherwise be decompressed in full by the XML parser).
MAX_INFLATION = 25

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003), also old .doc
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


class ImportFileError(Exception):
    """The file cannot be imported at all; ``message`` says why, in Portuguese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class RawRow:
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, object]  # column -> cell (str from CSV; str/int/float/datetime from XLSX)


@dataclass
class Table:
    file_format: str  # "csv" or "xlsx"
    sha256: str
    rows: list[RawRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    separator: str = ""


def format_bytes(value: int) -> str:
    """5242880 -> '5 MB'; 1536 -> '1,5 KB' (the limit as the message prints it)."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if value >= size:
            amount = value / size
            text = f"{amount:.1f}".rstrip("0").rstrip(".")
            return f"{text.replace('.', ',')} {unit}"
    return f"{value} bytes"


def format_count(value: int) -> str:
    """20000 -> '20.000'."""
    return f"{value:,}".replace(",", ".")


def too_big_message(max_bytes: int) -> str:
    return _(
        "O arquivo é maior que %(limit)s, o limite para importar. Divida a planilha em "
        "arquivos menores."
    ) % {"limit": format_bytes(max_bytes)}


def too_many_rows_message(max_rows: int) -> str:
    return ngettext(
        "A planilha tem mais de %(limit)s linha de dados, o limite por arquivo. Divida-a em "
        "arquivos menores.",
        "A planilha tem mais de %(limit)s linhas de dados, o limite por arquivo. Divida-a em "
        "arquivos menores.",
        max_rows,
    ) % {"limit": format_count(max_rows)}


def normalize_label(text: str) -> str:
    """'Primeiro Vencimento' -> 'primeiro_vencimento'; 'Endereço' -> 'endereco';
    'CPF/CNPJ' -> 'cpf_cnpj' (case, accents, spaces and punctuation do not matter)."""
    decomposed = unicodedata.normalize("NFKD", str(text).replace("\ufeff", ""))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NOT_WORD.sub("_", bare).strip("_")


def read_table(data: bytes, *, filename: str, max_bytes: int, max_rows: int) -> Table:
    """The rows of an uploaded file, or ImportFileError."""
    if len(data) > max_bytes:
        raise ImportFileError(too_big_message(max_bytes))
    if not data.strip():
        raise ImportFileError(_("O arquivo está vazio."))
    digest = hashlib.sha256(data).hexdigest()
    name = (filename or "").lower()
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise ImportFileError(
            _(
                "Planilhas .xls (Excel 97-2003) não são aceitas: no Excel, use “Salvar como” "
                "e escolha “Pasta de Trabalho do Excel (.xlsx)” ou “CSV”."
            )
        )
    if data.startswith(_ZIP_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        table = Table(file_format="xlsx", sha256=digest)
        _read_xlsx(data, table, max_bytes=max_bytes, max_rows=max_rows)
    else:
        table = Table(file_format="csv", sha256=digest)
        _read_csv(data, table, max_rows=max_rows)
    return table


# --- CSV ----------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    not_text = ImportFileError(
        _(
            "O arquivo não parece ser uma planilha em texto (CSV): salve-a como CSV (UTF-8 ou "
            "“separado por ponto e vírgula”) ou como .xlsx."
        )
    )
    if b"\x00" in data:
        raise not_text  # UTF-16 or a binary file: no CSV Excel writes has NUL bytes
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            # What Excel saves as "CSV (separado por vírgulas)" on a Portuguese Windows.
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise not_text from None
    if _CONTROL.search(text):
        raise not_text
    return text, encoding


def _sniff_separator(line: str) -> str:
    counts = dict.fromkeys(";,\t", 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda ch: counts[ch])
    return best if counts[best] else ";"


def _read_csv(data: bytes, table: Table, *, max_rows: int) -> None:
    text, table.encoding = _decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    table.separator = _sniff_separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=table.separator)
    try:
        _collect(enumerate(reader, start=1), table, max_rows=max_rows)
    except csv.Error as exc:
        raise ImportFileError(
            _("Não foi possível ler o CSV (aspas sem fechamento?) perto da linha %(line)s.")
            % {"line": reader.line_num}
        ) from exc


# --- XLSX ---------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, table: Table, *, max_bytes: int, max_rows: int) -> None:
    invalid = ImportFileError(
        _(
            "O arquivo não é uma planilha .xlsx válida (talvez esteja corrompido ou seja de "
            "outro formato). Abra-o no Excel e salve novamente como .xlsx ou CSV."
        )
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise invalid from None
    if inflated > max_bytes * MAX_INFLATION:
        raise ImportFileError(too_big_message(max_bytes))
    workbook = None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if not workbook.worksheets:
            raise invalid
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the sizes the file declares; a wrong declaration would cut rows.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        _collect(enumerate(rows, start=1), table, max_rows=max_rows)
    except ImportFileError:
        raise
    except Exception as exc:
        # openpyxl reports a malformed workbook through many exception types (KeyError for a
        # missing part, ValueError, lxml/ElementTree parse errors, TypeError in its descriptors):
        # every one means the same thing to the merchant.
        raise invalid from exc
    finally:
        if workbook is not None:
            workbook.close()


# --- Both ---------------------------------------------------------------------------------------


def _is_blank(cells) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _clean_cell(cell):
    if isinstance(cell, str):
        return cell.strip()
    return cell


def _header(cells, table: Table) -> dict[str, int]:
    """Column -> index, from the header row; refuses a file without our required columns."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        label = normalize_label(str(cell))
        label = _ALIASES.get(label, label)
        if label in COLUMNS and label not in positions:
            positions[label] = index
        else:
            table.ignored_columns.append(str(cell).strip()[:60])
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        if not positions:
            raise ImportFileError(
                _(
                    "A primeira linha da planilha deve ser o cabeçalho com os nomes das colunas: "
                    "%(header)s. Baixe o modelo e confira."
                )
                % {"header": HEADER_LINE}
            )
        raise ImportFileError(
            ngettext(
                "Falta a coluna obrigatória %(columns)s no cabeçalho. Baixe o modelo e confira.",
                "Faltam as colunas obrigatórias %(columns)s no cabeçalho. Baixe o modelo e "
                "confira.",
                len(missing),
            )
            % {"columns": ", ".join(missing)}
        )
    return positions


def _collect(numbered_rows, table: Table, *, max_rows: int) -> None:
    positions = None
    for number, cells in numbered_rows:
        if _is_blank(cells):
            continue
        if positions is None:
            positions = _header(cells, table)
            continue
        if len(table.rows) >= max_rows:
            raise ImportFileError(too_many_rows_message(max_rows))
        width = len(cells)
        values = {
            name: _clean_cell(cells[index]) if index < width else None
            for name, index in positions.items()
        }
        table.rows.append(RawRow(number=number, values=values))
    if positions is None:
        raise ImportFileError(_("O arquivo está vazio."))
