"""The printed boleto (billing.pdf) and its ITF barcode (billing.itf).

The PDF is checked the way a payer's bank would see it: text extracted with poppler's
`pdftotext`, and the barcode and Pix QR read back from a 300 dpi raster (`pdftoppm`) by a real
decoder (`zbarimg`, which reads ITF as "I2/5"). poppler-utils and zbar-tools are declared system
dependencies: when they are missing these tests fail, they are never skipped.

No database: the boletos are unsaved model instances built with billing.boleto_codes.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import segno
import weasyprint
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from billing import pdf
from billing.boleto_codes import boleto_numbers, formatted_nosso_numero, pix_payload
from billing.febraban import format_linha, get_bank
from billing.itf import itf_modules, itf_png, itf_svg
from billing.models import Boleto
from schedules.models import Schedule
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]

ACCOUNTS = {
    "001": {
        "agency": "1234",
        "agency_digit": "5",
        "account": "12345678",
        "account_digit": "9",
        "wallet": "17",
        "agreement": "1234567",
    },
    "033": {"agency": "1234", "account": "1234567", "wallet": "101", "agreement": "1234567"},
    "237": {
        "agency": "1234",
        "agency_digit": "1",
        "account": "0012345",
        "account_digit": "6",
        "wallet": "09",
    },
    "341": {"agency": "0057", "account": "12345", "wallet": "109"},
}
BANKS = sorted(ACCOUNTS)
PAYER_CPF = "24843803480"
CNPJ = "11222333000181"
ALPHANUMERIC_CNPJ = "12ABC34501DE35"


def make_boleto(
    bank: str = "001",
    *,
    pix: bool = True,
    late_fee: str | None = "2.00",
    interest: str | None = "1.00",
    cnpj: str = CNPJ,
    amount: str = "1234.56",
    nosso_numero: int = 4567,
) -> Boleto:
    beneficiary = {
        "legal_name": "Academia Corpo em Forma Ltda",
        "trade_name": "Corpo em Forma",
        "cnpj": cnpj,
        "address_street": "Av. Paulista, 1000, conj. 12",
        "address_city": "São Paulo",
        "address_state": "SP",
        "address_zip": "01310100",
        "bank_code": bank,
        "pix_key": "financeiro@corpoemforma.com.br" if pix else "",
        **ACCOUNTS[bank],
    }
    # Missing keys (older snapshots) must read as "not configured".
    if late_fee is not None:
        beneficiary["late_fee_percent"] = late_fee
    if interest is not None:
        beneficiary["monthly_interest_percent"] = interest
    payer = {
        "name": "Maria da Silva Souza",
        "document": PAYER_CPF,
        "email": "maria@example.com",
        "address_street": "Rua das Flores, 123, apto 45",
        "address_district": "Jardim Paulista",
        "address_city": "São Paulo",
        "address_state": "SP",
        "address_zip": "01415000",
    }
    due = date(2026, 3, 10)
    value = Decimal(amount)
    numbers = boleto_numbers(
        beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due, amount=value
    )
    boleto = Boleto(
        sequence=3,
        due_date=due,
        amount=value,
        # 01:30 UTC is still the previous day in São Paulo: the date printed must be local.
        issued_at=datetime(2026, 3, 1, 1, 30, tzinfo=UTC),
        payer=payer,
        beneficiary=beneficiary,
        nosso_numero=nosso_numero,
        barcode=numbers.barcode,
        linha_digitavel=numbers.linha_digitavel,
        pix_payload=pix_payload(beneficiary=beneficiary, amount=value, txid=f"BOL{nosso_numero}"),
    )
    boleto.schedule = Schedule(number=123, description="Mensalidade — plano anual")
    return boleto


# --- tools ---------------------------------------------------------------------------------------


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"`{name}` not found: install Debian's {package} (apt-get install {package})"
        # CI installs it (.ci/run): missing there is a failure; on a laptop, a skip with the reason.
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """Text of the PDF per pdftotext, whitespace (NBSP included) collapsed to single spaces."""
    source = tmp_path / "boleto.pdf"
    source.write_bytes(data)
    result = subprocess.run(
        [_tool("pdftotext", "poppler-utils"), "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    return re.sub(r"\s+", " ", result.stdout.replace("\xa0", " ")).strip()


def decoded_symbols(data: bytes, tmp_path: Path, dpi: int = 300) -> list[str]:
    """Every ITF (44 digits) and QR symbol zbar finds on the page rasterised at `dpi`."""
    source = tmp_path / "boleto.pdf"
    source.write_bytes(data)
    subprocess.run(
        [
            _tool("pdftoppm", "poppler-utils"),
            "-r",
            str(dpi),
            "-gray",
            "-png",
            "-singlefile",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [
            _tool("zbarimg", "zbar-tools"),
            "-q",
            "-Sdisable",
            "-Si25.enable",
            "-Si25.min-length=44",
            "-Sqrcode.enable",
            str(tmp_path / "page.png"),
        ],
        capture_output=True,
        text=True,
    )
    # zbarimg exits 4 when it finds nothing; anything else but 0 is an error.
    assert result.returncode in (0, 4), result.stderr
    return result.stdout.splitlines()


# --- the PDF -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[Boleto, bytes]]:
    """One boleto with Pix per bank, rendered once for the module."""
    boletos = {bank: make_boleto(bank, nosso_numero=4567 + i) for i, bank in enumerate(BANKS)}
    return {bank: (boleto, pdf.render_boleto_pdf(boleto)) for bank, boleto in boletos.items()}


@pytest.mark.parametrize("bank", BANKS)
def test_one_a4_page_with_embedded_fonts(rendered, bank, tmp_path):
    _, data = rendered[bank]
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points

    source = tmp_path / "boleto.pdf"
    source.write_bytes(data)
    fonts = subprocess.run(
        [_tool("pdffonts", "poppler-utils"), str(source)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[2:]
    # DejaVu Sans and DejaVu Sans Bold only, each embedded as a subset.
    assert sorted(line.split()[0].split("+")[1] for line in fonts) == [
        "DejaVu-Sans",
        "DejaVu-Sans-Bold",
    ], fonts
    assert all(re.search(r"\byes\s+yes\b", line) for line in fonts), fonts


@pytest.mark.parametrize("bank", BANKS)
def test_prints_every_field_of_the_ficha(rendered, bank, tmp_path):
    boleto, data = rendered[bank]
    text = pdf_text(data, tmp_path)

    bank_rules = get_bank(bank)
    # pdftotext's reading order mixes the columns of a row, so labels and values are looked up
    # separately.
    for expected in (
        # top line: bank, code-DV, linha digitável
        bank_rules.name,
        bank_rules.code_with_dv,
        format_linha(boleto.linha_digitavel),
        # fields and their values
        "Local de pagamento",
        "Pagável em qualquer banco ou correspondente bancário até o vencimento",
        "Vencimento",
        "10/03/2026",
        "Beneficiário",
        "Academia Corpo em Forma Ltda — CNPJ 11.222.333/0001-81",
        "Av. Paulista, 1000, conj. 12 — São Paulo/SP — CEP 01310-100",
        "Agência/Código do beneficiário",
        "Data do documento",
        "Data processamento",
        "Nº do documento",
        "123/3",
        "Espécie doc.",
        "DS",
        "Aceite",
        "Nosso número",
        formatted_nosso_numero(beneficiary=boleto.beneficiary, nosso_numero=boleto.nosso_numero),
        "Uso do banco",
        "Carteira",
        ACCOUNTS[bank]["wallet"],
        "Espécie",
        "R$",
        "Quantidade",
        "(=) Valor do documento",
        "R$ 1.234,56",
        "Instruções (texto de responsabilidade do beneficiário)",
        "Referente a: Mensalidade — plano anual — parcela 3.",
        "(−) Desconto/Abatimento",
        "(−) Outras deduções",
        "(+) Mora/Multa",
        "(+) Outros acréscimos",
        "(=) Valor cobrado",
        "Pagador",
        "Maria da Silva Souza — CPF 248.438.034-80",
        "Rua das Flores, 123, apto 45 — Jardim Paulista",
        "CEP 01415-000 — São Paulo/SP",
        "Sacador/Avalista",
        "Recibo do Pagador",
        "Linha digitável",
        "Autenticação mecânica — Ficha de Compensação",
    ):
        assert expected in text, expected
    # Issued at 01:30 UTC on 01/03, i.e. 22:30 on 28/02 in São Paulo: the local date is printed.
    assert "28/02/2026" in text and "01/03/2026" not in text


@pytest.mark.parametrize("bank", BANKS)
def test_barcode_and_pix_qr_decode(rendered, bank, tmp_path):
    boleto, data = rendered[bank]
    expected = sorted([f"I2/5:{boleto.barcode}", f"QR-Code:{boleto.pix_payload}"])
    # Both are 1-bit images drawn without interpolation: they must decode at 300 and 150 dpi.
    assert sorted(decoded_symbols(data, tmp_path)) == expected
    assert sorted(decoded_symbols(data, tmp_path, dpi=150)) == expected

    # The copia e cola is printed too (wrapped over lines, hence compared without spaces).
    text = pdf_text(data, tmp_path)
    assert "Pague com Pix" in text and "Pix Copia e Cola" in text
    assert boleto.pix_payload.replace(" ", "") in text.replace(" ", "")


def test_pix_qr_is_segnos_symbol_one_pixel_per_module(rendered):
    """The QR image is segno's QR Code (level M or higher, segno's mask), quiet zone of 4."""
    boleto, data = rendered["001"]
    images = PdfReader(io.BytesIO(data)).pages[0].images
    (qr_image,) = (image.image for image in images if image.image.size[1] > 1)  # not the ITF
    symbol = segno.make(boleto.pix_payload, error="m", micro=False)
    expected = [
        bytes(0 if dark else 255 for dark in row) for row in symbol.matrix_iter(scale=1, border=4)
    ]
    width, height = qr_image.size
    assert (width, height) == (len(expected[0]), len(expected))
    pixels = qr_image.convert("L").tobytes()
    assert [pixels[y * width : (y + 1) * width] for y in range(height)] == expected


def test_without_pix_no_qr_and_no_pix_block(tmp_path):
    boleto = make_boleto("237", pix=False)
    assert boleto.pix_payload == ""
    data = pdf.render_boleto_pdf(boleto)

    assert decoded_symbols(data, tmp_path) == [f"I2/5:{boleto.barcode}"]
    assert "pix" not in pdf_text(data, tmp_path).lower()
    # The only image is the ITF barcode (405 × 1 px, one pixel per module): no QR.
    images = PdfReader(io.BytesIO(data)).pages[0].images
    assert len(images) == 1 and images[0].image.size == (405, 1)


def test_long_values_are_cut_but_documents_and_cep_stay(tmp_path):
    boleto = make_boleto("001", pix=False)
    boleto.beneficiary["legal_name"] = "Associação Beneficente dos Amigos do Bairro " * 4
    boleto.beneficiary["address_street"] = "Rua Professor Doutor Antônio Carlos de Almeida " * 4
    boleto.payer["name"] = "MARIA APARECIDA DOS SANTOS FIGUEIREDO " * 4
    boleto.payer["address_street"] = "Avenida Engenheiro Luís Carlos Berrini, 1748 " * 4
    boleto.schedule.description = "Mensalidade do plano anual com todas as unidades " * 4
    text = pdf_text(pdf.render_boleto_pdf(boleto), tmp_path)

    assert text.count("…") >= 5
    for kept in (
        "— CNPJ 11.222.333/0001-81",
        "— São Paulo/SP — CEP 01310-100",
        "— CPF 248.438.034-80",
        "— parcela 3.",
        "CEP 01415-000 — São Paulo/SP",
    ):
        assert kept in text, kept


def test_alphanumeric_cnpj_beneficiary(tmp_path):
    text = pdf_text(pdf.render_boleto_pdf(make_boleto("341", cnpj=ALPHANUMERIC_CNPJ)), tmp_path)
    assert "CNPJ 12.ABC.345/01DE-35" in text


@pytest.mark.parametrize(
    ("late_fee", "interest", "expected"),
    [
        ("2.00", "1.00", "Após o vencimento, cobrar multa de 2,00% e juros de 1,00% ao mês."),
        ("2.00", "0.00", "Após o vencimento, cobrar multa de 2,00%."),
        ("", "0.33", "Após o vencimento, cobrar juros de 0,33% ao mês."),
        ("0.00", "0", None),
        ("", "", None),
        (None, None, None),  # keys absent from an older snapshot
    ],
)
def test_late_fee_and_interest_only_when_configured(late_fee, interest, expected, tmp_path):
    boleto = make_boleto("033", pix=False, late_fee=late_fee, interest=interest)
    text = pdf_text(pdf.render_boleto_pdf(boleto), tmp_path)
    if expected is None:
        assert "Após o vencimento" not in text
        assert "multa de" not in text and "juros de" not in text
    else:
        assert expected in text


def test_same_boleto_same_bytes():
    boleto = make_boleto("001")
    assert pdf.render_boleto_pdf(boleto) == pdf.render_boleto_pdf(boleto)


def test_same_bytes_in_another_process():
    """No clock, random id or hash-seed-dependent order leaks into the file."""
    script = (
        "import django, hashlib, os;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings.test');"
        "django.setup();"
        "from billing.pdf import render_boleto_pdf;"
        "from tests.billing.test_pdf import make_boleto;"
        "print(hashlib.sha256(render_boleto_pdf(make_boleto('001'))).hexdigest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345", "LOG_LEVEL": "WARNING"},
    )
    here = hashlib.sha256(pdf.render_boleto_pdf(make_boleto("001"))).hexdigest()
    assert result.stdout.strip() == here


def test_skeleton_drawn_once_per_bank_and_same_bytes_when_drawn_afresh():
    """The bank's skeleton is drawn once per thread; a fresh one gives the same document."""
    boleto = make_boleto("237")
    here = pdf.render_boleto_pdf(boleto)
    assert pdf._bank_skeleton(boleto) is pdf._bank_skeleton(boleto)
    assert pdf._bank_skeleton(boleto) is not pdf._bank_skeleton(make_boleto("341"))
    assert pdf._bank_skeleton(boleto) is not pdf._bank_skeleton(make_boleto("237", pix=False))

    # A new thread has its own FontConfiguration and skeletons (Pango is not thread-safe).
    result = {}
    thread = threading.Thread(target=lambda: result.update(data=pdf.render_boleto_pdf(boleto)))
    thread.start()
    thread.join()
    assert result["data"] == here


def test_prints_portuguese_under_another_active_language(tmp_path):
    translation.activate("en")
    try:
        text = pdf_text(pdf.render_boleto_pdf(make_boleto("001", pix=False)), tmp_path)
        assert translation.get_language() == "en"  # the caller's language is left alone
    finally:
        translation.deactivate()
    assert "R$ 1.234,56" in text and "1,234.56" not in text
    assert "multa de 2,00% e juros de 1,00% ao mês" in text
    assert "Vencimento" in text and "10/03/2026" in text


def test_only_an_issued_boleto_prints():
    boleto = make_boleto("001")
    boleto.nosso_numero, boleto.barcode, boleto.linha_digitavel = None, "", ""
    with pytest.raises(ValueError, match="issued"):
        pdf.render_boleto_pdf(boleto)


def test_refuses_to_fetch_anything():
    fetcher = pdf._LocalOnlyFetcher()
    for url in ("https://example.com/logo.png", "http://example.com/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)


# --- the plain path (fallback) -------------------------------------------------------------------


@pytest.fixture
def fresh_fast_path(monkeypatch):
    """The fast path's per-process state (checks, failure, "logged once") fresh, and restored."""
    monkeypatch.setattr(pdf, "_fast_path_failure", None)
    monkeypatch.setattr(pdf, "_fallback_logged", False)
    pdf.fast_path_problem.cache_clear()
    yield
    pdf.fast_path_problem.cache_clear()


def fallback_logs(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "event=boleto_pdf_fallback" in r.getMessage()]


def plain_pdf(boleto: Boleto) -> bytes:
    with translation.override(pdf.LANGUAGE):
        return pdf._plain_pdf(pdf.boleto_context(boleto))


def test_the_fast_path_is_used_with_the_installed_weasyprint(fresh_fast_path, caplog):
    """The installed WeasyPrint is the tested minor with every internal the fast path uses."""
    assert pdf._version(weasyprint.__version__) == pdf.WEASYPRINT_TESTED
    assert pdf.fast_path_problem() is None
    boleto = make_boleto("001")
    with caplog.at_level(logging.WARNING, logger="billing.pdf"):
        data = pdf.render_boleto_pdf(boleto)
    assert not fallback_logs(caplog)
    assert data != plain_pdf(boleto)  # two different ways of drawing the page


@pytest.mark.parametrize(("bank", "pix"), [*((bank, True) for bank in BANKS), ("237", False)])
def test_plain_path_prints_the_same_page(
    rendered, bank, pix, settings, fresh_fast_path, caplog, tmp_path
):
    boleto = rendered[bank][0] if pix else make_boleto(bank, pix=False)
    fast = rendered[bank][1] if pix else pdf.render_boleto_pdf(boleto)
    settings.BILLING_PDF_FAST_PATH = False
    with caplog.at_level(logging.WARNING, logger="billing.pdf"):
        plain = pdf.render_boleto_pdf(boleto)
    assert plain == plain_pdf(boleto) != fast
    assert "BILLING_PDF_FAST_PATH is off" in fallback_logs(caplog)[0].getMessage()

    # Same text, same symbols, one A4 page, the same two fonts embedded once each.
    assert pdf_text(plain, tmp_path) == pdf_text(fast, tmp_path)
    expected = [f"I2/5:{boleto.barcode}"] + ([f"QR-Code:{boleto.pix_payload}"] if pix else [])
    assert sorted(decoded_symbols(plain, tmp_path)) == sorted(expected)
    assert sorted(decoded_symbols(plain, tmp_path, dpi=150)) == sorted(expected)
    reader = PdfReader(io.BytesIO(plain))
    assert len(reader.pages) == 1
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]
    fonts = sorted(
        font["/BaseFont"].split("+")[1] for font in reader.pages[0]["/Resources"]["/Font"].values()
    )
    assert fonts == ["DejaVu-Sans", "DejaVu-Sans-Bold"]


class _FakeStream:
    def __init__(self, fonts, page_rectangle, resources):
        self._resources = resources

    def paint(self, stream, matrix, scale=1):
        pass


@pytest.mark.parametrize(
    ("internal", "problem"),
    [
        (
            pdf._Internal(
                "tests.billing.test_pdf", "_FakeStream", "ok", ("fonts",), ("_resources",)
            ),
            None,
        ),
        (pdf._Internal("tests.billing.test_pdf", "_Gone", "x"), "test_pdf._Gone is missing"),
        (pdf._Internal("tests.billing.nowhere", "Stream", "x"), "nowhere.Stream is missing"),
        (
            pdf._Internal("tests.billing.test_pdf", "_FakeStream.paint", "x", ("stream", "scale")),
            "_FakeStream.paint takes (stream, matrix, scale), not (stream, scale, ...)",
        ),
        (
            pdf._Internal("tests.billing.test_pdf", "_FakeStream", "x", assigned=("_fonts",)),
            "_FakeStream no longer sets _fonts",
        ),
    ],
)
def test_each_internal_is_checked(internal, problem):
    if problem is None:
        assert internal.problem() is None
    else:
        assert problem in internal.problem()


def _stream_moved(monkeypatch):
    monkeypatch.delattr(importlib.import_module("weasyprint.pdf.stream"), "Stream")
    return "weasyprint.pdf.stream.Stream is missing"


def _another_minor(monkeypatch):
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    return "WeasyPrint 71.0 installed, the fast path is tested with 70.0.x"


def _paint_changed(monkeypatch):
    # As if WeasyPrint's Page.paint now took a matrix: the registry's expectation is not met.
    changed = pdf._Internal("weasyprint.document", "Page.paint", "x", ("stream", "matrix"))
    monkeypatch.setattr(pdf, "FAST_PATH_INTERNALS", (*pdf.FAST_PATH_INTERNALS, changed))
    return "Page.paint takes (stream, scale), not (stream, matrix, ...)"


@pytest.mark.parametrize("simulate", [_stream_moved, _another_minor, _paint_changed])
def test_plain_path_when_an_assumption_fails(
    simulate, monkeypatch, fresh_fast_path, caplog, tmp_path
):
    """A WeasyPrint without an internal, with a changed one, or of another minor: plain path."""
    problem = simulate(monkeypatch)
    assert problem in pdf.fast_path_problem()

    boleto, other = make_boleto("341"), make_boleto("033", pix=False)
    with caplog.at_level(logging.WARNING, logger="billing.pdf"):
        first = pdf.render_boleto_pdf(boleto)
        second = pdf.render_boleto_pdf(other)
    assert first == plain_pdf(boleto) and second == plain_pdf(other)
    (record,) = fallback_logs(caplog)  # once per process
    assert problem in record.getMessage()
    assert sorted(decoded_symbols(first, tmp_path)) == sorted(
        [f"I2/5:{boleto.barcode}", f"QR-Code:{boleto.pix_payload}"]
    )


def test_plain_path_when_the_fast_path_raises(monkeypatch, fresh_fast_path, caplog, tmp_path):
    """An internal that changed behind the checks: the boleto is drawn the plain way, the error
    logged once with its traceback, and the fast path not tried again in this process."""
    calls = []

    def broken_merge(fonts, skeleton):
        calls.append(1)
        raise AttributeError("'Font' object has no attribute 'to_unicode'")

    monkeypatch.setattr(pdf, "_merge_fonts", broken_merge)
    boleto = make_boleto("001")
    with caplog.at_level(logging.WARNING, logger="billing.pdf"):
        first = pdf.render_boleto_pdf(boleto)
        second = pdf.render_boleto_pdf(boleto)
    assert first == second == plain_pdf(boleto)
    assert len(calls) == 1
    (record,) = fallback_logs(caplog)
    assert "to_unicode" in record.getMessage() and record.exc_info is not None
    assert sorted(decoded_symbols(first, tmp_path)) == sorted(
        [f"I2/5:{boleto.barcode}", f"QR-Code:{boleto.pix_payload}"]
    )


def test_a_page_overflow_is_not_hidden_by_the_plain_path(monkeypatch, fresh_fast_path):
    boleto = make_boleto("001")

    def two_pages(html, html_class=pdf.HTML):
        raise pdf.BoletoPageError("The boleto must fit one page, got 2")

    monkeypatch.setattr(pdf, "_render", two_pages)
    with pytest.raises(pdf.BoletoPageError):
        pdf.render_boleto_pdf(boleto)
    assert pdf._fast_path_failure is None


# --- the ITF encoder -----------------------------------------------------------------------------


def test_itf_boleto_barcode_is_405_modules_103_mm():
    barcode = make_boleto("001").barcode
    widths = itf_modules(barcode)
    assert sum(widths) == 405
    assert widths[:4] == [1, 1, 1, 1] and widths[-3:] == [3, 1, 1]  # start and stop patterns
    assert set(widths) == {1, 3}  # narrow:wide 1:3

    svg = itf_svg(barcode)
    assert svg.count("<path") == 1 and "<rect" not in svg
    # 405 × 0.254 mm = 102.87 mm of bars + two 5 mm quiet zones.
    assert 'width="112.87mm"' in svg and 'height="13mm"' in svg
    assert svg.count("M") == len(widths[::2])  # one subpath per bar


def test_itf_png_is_one_pixel_per_module():
    barcode = make_boleto("001").barcode
    data = itf_png(barcode)
    assert data == itf_png(barcode)  # deterministic bytes
    image = Image.open(io.BytesIO(data))
    assert image.mode == "1" and image.size == (405, 1)
    # Black runs and white runs, left to right, are the bars and spaces.
    pixels = [image.getpixel((x, 0)) for x in range(405)]
    runs = [len(list(group)) for _, group in itertools.groupby(pixels)]
    assert runs == itf_modules(barcode)
    assert pixels[0] == 0 and pixels[-1] == 0  # starts and ends with a bar


def test_itf_known_pair_pattern():
    # "00" interleaves NNWWN bars with NNWWN spaces.
    assert itf_modules("00") == [1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 3, 1, 1]


@given(st.text(alphabet="0123456789", min_size=1, max_size=30).map(lambda s: s * 2))
def test_itf_width_is_9_modules_per_digit_plus_9(digits):
    widths = itf_modules(digits)
    assert sum(widths) == 9 * len(digits) + 9
    assert len(widths) == 10 * len(digits) // 2 + 7
    assert all(widths[i : i + 10].count(3) == 4 for i in range(4, len(widths) - 3, 10))


@pytest.mark.parametrize("digits", ["", "123", "12a4", "١٢", "12 4", None])
def test_itf_rejects_odd_empty_and_non_digit_input(digits):
    with pytest.raises(ValueError):
        itf_svg(digits)
    with pytest.raises(ValueError):
        itf_png(digits)
