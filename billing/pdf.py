"""The printed boleto: one A4 page (recibo do pagador + ficha de compensação) as PDF bytes.

`render_boleto_pdf(boleto)` renders ``templates/pdf/boleto.html`` with Django, always in pt-BR
(a boleto is a Brazilian document whatever language the request is in), and lays it out with
WeasyPrint. What is printed follows shared/docs/boleto-standard.md §6.

Speed (measured and explained in docs/benchmarks.md, "Boleto PDF (issue #3)"): WeasyPrint
spends ~0.45 ms per element and ~0.25 ms per line of text (cascade, layout, drawing), and most of
a boleto's elements and lines are the same on every boleto of a bank. So the page is two layers
of the same template, drawn into one PDF page:

* the **skeleton** (rules, labels, bank header, fixed texts: ~80 elements) is laid out and drawn
  once per thread, bank and Pix/no Pix (`_skeleton`, ~80 ms once); its PDF operators are kept,
  compressed, as a content stream of their own;
* the **values layer** (the boleto's texts, ~20 absolutely positioned elements, the Pix QR and
  the ITF barcode) is laid out for each boleto, and `_write_pdf` puts the skeleton's content
  stream before the page's own (a page's content streams are one stream to a reader). WeasyPrint
  names fonts by a hash of their description and subsets them with HarfBuzz keeping glyph ids,
  so adding the skeleton's glyphs to the page's fonts (`_merge_fonts`) makes one subset per font
  serve both layers: the page is the same as a one-layer rendering would be (one page, two
  embedded subsets, text extractable in both layers).

This fast path goes through WeasyPrint internals, listed in one place, `FAST_PATH_INTERNALS`,
and written against one WeasyPrint minor, `WEASYPRINT_TESTED` (pyproject.toml pins it). Before
its first use in a process, `fast_path_problem` checks the installed version and each internal;
if anything is off, or the fast path raises, the page is drawn the plain way instead,
`HTML(string=...).write_pdf()` of the whole page (layer "page" of the template, ~2.5× slower,
same texts, barcode and QR), and that is logged once per process. ``BILLING_PDF_FAST_PATH =
False`` in the settings forces the plain way. tests/billing/test_pdf.py renders, extracts the
text of and decodes every boleto variant both ways.

Also: the stylesheet is parsed once per process (`_stylesheet`), the `FontConfiguration` kept per
thread (`_font_config`; Pango objects are not thread-safe); the values layer gets only the
user-agent rules it needs (`_ValuesHTML`, ~2.5 ms less cascade), and two one-line values of a
column share an element (templates/pdf/boleto.css, "Pairs"; each element is ~0.7 ms of style,
layout and drawing); values never wrap, so long ones are cut to their cell here (`_fit`), keeping
documents and CEPs; the Pix QR and the ITF barcode are 8-bit grayscale PNGs (`_gray_png`: a 1-bit
PNG is converted to RGB and re-encoded twice by WeasyPrint), one pixel per module, drawn without
interpolation (as SVG paths WeasyPrint parses them in Python: ~12 ms for the barcode, ~15 ms for
the QR); the QR is segno's, through its public API (`segno.make`, `matrix_iter`: ~12 ms, ~9 of
them choosing the data mask as ISO/IEC 18004 asks, in a worker); fonts are subset by HarfBuzz
when ``libharfbuzz-subset0`` is installed (fontTools otherwise: ~0.5 s per PDF).

Output is deterministic: WeasyPrint writes dates only when the HTML has date metadata (ours has
none), font subset names are content hashes, no file identifier is requested, and a skeleton
drawn now or reused gives the same bytes.
"""

from __future__ import annotations

import base64
import copy
import importlib
import inspect
import logging
import os
import re
import struct
import threading
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache

import pydyf
import segno
import weasyprint
from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import number_format
from fontTools.ttLib import TTFont
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from billing.boleto_codes import formatted_nosso_numero
from billing.febraban import Itau, format_linha, get_bank
from billing.itf import itf_modules
from portal.documents import format_document, normalize_document
from portal.formats import date_br
from portal.templatetags.money import format_brl
from portal.timezones import business_localtime

__all__ = [
    "FAST_PATH_INTERNALS",
    "WEASYPRINT_TESTED",
    "BoletoPageError",
    "boleto_context",
    "boleto_fields",
    "fast_path_problem",
    "render_boleto_html",
    "page_html",
    "render_boleto_pdf",
    "render_skeleton_html",
    "skeleton_context",
    "values_html",
]

logger = logging.getLogger(__name__)

# WeasyPrint logs 7 INFO lines per document, fontTools some more: quiet unless configured.
for _name in ("weasyprint", "fontTools"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)

TEMPLATE = "pdf/boleto.html"
STYLESHEET = "pdf/boleto.css"
LANGUAGE = "pt-br"
#: Espécie do documento: DS, duplicata de serviço (recurring billing of a service).
DOCUMENT_KIND = "DS"
#: PDF points per CSS pixel (72 / 96): the scale WeasyPrint draws pages at, with zoom 1.
PDF_SCALE = 0.75

#: Cells do not wrap (a wrapped line would push the next one out of the cell): long values are
#: cut with "…" to this width, the text width of a 140 mm cell, at the values' size.
LINE_MM = 136.0
VALUE_PT = 7.5
#: DejaVu Sans (Debian's fonts-dejavu-core; other distributions' paths after it), for widths.
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


class BoletoPageError(RuntimeError):
    """The boleto does not fit one page: a template or data problem, not a WeasyPrint one."""


# -- the fast path's WeasyPrint internals ---------------------------------------------------------


#: The WeasyPrint release (major, minor) the fast path is written against and tested with; any
#: other version draws the plain way until someone checks `FAST_PATH_INTERNALS` against it, runs
#: tests/billing/test_pdf.py and bench/pdf.py, and moves this (and pyproject.toml's pin).
WEASYPRINT_TESTED = (70, 0)


@dataclass(frozen=True)
class _Internal:
    """One thing the fast path uses that is not WeasyPrint's (or pydyf's) public API."""

    module: str
    #: The attribute in `module`, dotted for a method ("HTML._ua_stylesheets").
    name: str
    #: How the fast path uses it.
    use: str
    #: Its leading parameters after ``self`` (of ``__init__`` for a class), as called.
    params: tuple[str, ...] = ()
    #: Attributes of its instances the fast path reads or writes: assigned by its ``__init__``.
    assigned: tuple[str, ...] = ()

    def problem(self) -> str | None:
        """What is not as expected in the installed WeasyPrint, or None."""
        where = f"{self.module}.{self.name}"
        try:
            target = importlib.import_module(self.module)
            for part in self.name.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError):
            return f"{where} is missing"
        function = target.__init__ if isinstance(target, type) else target
        if self.params:
            try:
                names = list(inspect.signature(function).parameters)[1:]
            except (TypeError, ValueError):
                names = []
            if names[: len(self.params)] != list(self.params):
                return f"{where} takes ({', '.join(names)}), not ({', '.join(self.params)}, ...)"
        code = getattr(function, "__code__", None)
        missing = [name for name in self.assigned if code is None or name not in code.co_names]
        if missing:
            return f"{where} no longer sets {', '.join(missing)}"
        return None


#: Everything the fast path relies on beyond WeasyPrint's and pydyf's public API, in one place
#: (checked against WeasyPrint 70.0 and pydyf 0.13). `fast_path_problem` checks that each exists
#: with the expected parameters and attributes; what they do is checked by the tests, which
#: render every boleto variant through the fast path under the pinned version.
FAST_PATH_INTERNALS: tuple[_Internal, ...] = (
    _Internal(
        "weasyprint.pdf.stream",
        "Stream",
        "the skeleton is painted into a detached content stream (`_draw_skeleton`); the page's "
        "stream's `_resources` get the skeleton's graphics states (`_write_pdf`)",
        params=("fonts", "page_rectangle", "resources", "images", "tags", "color_profiles"),
        assigned=("_resources",),
    ),
    _Internal(
        "weasyprint.pdf.fonts",
        "Font",
        "the skeleton's glyphs are added to the page's fonts, matched by `hash`, the font's name "
        "in the content stream (`_merge_fonts`)",
        assigned=("hash", "widths", "to_unicode", "missing", "variations"),
    ),
    _Internal(
        "weasyprint.document",
        "Document",
        "its `fonts` (the fonts written to the PDF, merged into), `color_profiles` and "
        "`output_intent` (given to the skeleton's stream)",
        assigned=("fonts", "color_profiles", "output_intent"),
    ),
    _Internal(
        "weasyprint.document",
        "Page.paint",
        "`write_pdf` paints each page through it: wrapped per boleto (`_write_pdf`)",
        params=("stream", "scale"),
    ),
    _Internal(
        "weasyprint",
        "HTML._ua_stylesheets",
        "overridden to give the values layer only the user-agent rules it needs (`_ValuesHTML`)",
        params=("forms",),
    ),
    _Internal(
        "pydyf",
        "_to_bytes",
        "serialises the skeleton's operators once per skeleton (`_draw_skeleton`)",
    ),
)


def _version(text: str) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else ()


@cache
def fast_path_problem() -> str | None:
    """Why the fast path cannot be used with the installed WeasyPrint, or None. Checked once."""
    installed = weasyprint.__version__
    if _version(installed) != WEASYPRINT_TESTED:
        tested = ".".join(map(str, WEASYPRINT_TESTED))
        return f"WeasyPrint {installed} installed, the fast path is tested with {tested}.x"
    for internal in FAST_PATH_INTERNALS:
        if problem := internal.problem():
            return problem
    return None


#: Why the fast path raised in this process (then it is not tried again), or None.
_fast_path_failure: str | None = None
_fallback_logged = False


def _fast_path_off() -> str | None:
    """Why this rendering takes the plain path, or None for the fast path."""
    if not getattr(settings, "BILLING_PDF_FAST_PATH", True):
        return "BILLING_PDF_FAST_PATH is off"
    return _fast_path_failure or fast_path_problem()


def _log_fallback(reason: str, *, exc_info: bool = False) -> None:
    """Logs, once per process, that boletos are drawn the plain way, and why."""
    global _fallback_logged
    if not _fallback_logged:
        _fallback_logged = True
        logger.warning(
            "event=boleto_pdf_fallback decision=plain_weasyprint reason=%r "
            "(logged once per process)",
            reason,
            exc_info=exc_info,
        )


class _LocalOnlyFetcher(URLFetcher):
    """Resolves ``data:`` URLs (the inline QR image) and refuses everything else.

    The boleto is self-contained (inline SVG and image, system fonts): nothing is fetched from the
    network or the file system, and a stray URL fails the rendering instead of being skipped.
    """

    def __init__(self):
        super().__init__(allowed_protocols={"data"}, fail_on_errors=True)

    def fetch(self, url, headers=None):
        # Our own PNGs (`_png_data_url`), decoded here: urllib's data: handler builds its answer
        # through the email package, ~0.3 ms per image. Other URLs: WeasyPrint's checks.
        if url.startswith(PNG_DATA_URL):
            data = base64.b64decode(url[len(PNG_DATA_URL) :], validate=True)
            return URLFetcherResponse(url, data)
        return super().fetch(url, headers)


@cache
def _stylesheet() -> CSS:
    # Parsed once per process: restart the process to see an edit of the stylesheet.
    return CSS(string=render_to_string(STYLESHEET), url_fetcher=_LocalOnlyFetcher())


#: The rules of WeasyPrint's HTML user-agent stylesheet that apply to the values layer's
#: elements (html, head and its children, body, div, img): matching ~300 UA selectors against
#: every element is ~2.5 ms per boleto, and the page comes out byte for byte the same.
VALUES_UA_CSS = """
head, meta, title { display: none }
html, body, div { display: block }
html { color-scheme: light }
img { overflow: hidden }
"""


@cache
def _values_ua_stylesheet() -> CSS:
    return CSS(string=VALUES_UA_CSS)


class _ValuesHTML(HTML):
    """The values layer's HTML, with the user-agent rules it needs only (`VALUES_UA_CSS`).

    Overrides WeasyPrint's ``HTML._ua_stylesheets`` (`FAST_PATH_INTERNALS`). Only the values
    layer, whose template uses nothing else, goes through it: the skeleton keeps the whole
    user-agent stylesheet.
    """

    def _ua_stylesheets(self, forms=False):
        return [_values_ua_stylesheet()]


_local = threading.local()


def _font_config() -> FontConfiguration:
    font_config = getattr(_local, "font_config", None)
    if font_config is None:
        font_config = _local.font_config = FontConfiguration()
    return font_config


# -- fitting text into a cell -------------------------------------------------------------------


@cache
def _advances() -> dict[int, float]:
    """Advance width (in em) of each character of DejaVu Sans; empty if the font is not found."""
    for path in FONT_FILES:
        if os.path.exists(path):
            font = TTFont(path, lazy=True)
            units = font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            return {code: metrics[name][0] / units for code, name in font.getBestCmap().items()}
    return {}


def _width_mm(text: str, size_pt: float = VALUE_PT) -> float:
    advances = _advances()
    # Unknown characters (or no font file): count them as 1 em, wider than any letter.
    ems = sum(advances.get(ord(char), 1.0) for char in text)
    return ems * size_pt * 25.4 / 72


def _fit(text: str, width_mm: float = LINE_MM) -> str:
    """`text`, cut and ended with "…" if it is wider than `width_mm` at the values' size."""
    if _width_mm(text) <= width_mm:
        return text
    budget = width_mm - _width_mm("…")
    used = 0.0
    for index, char in enumerate(text):
        used += _width_mm(char)
        if used > budget:
            return text[:index].rstrip(" ,—-") + "…"
    return text  # pragma: no cover (unreachable: the whole text is wider than the width)


def _fit_before(text: str, tail: str, width_mm: float = LINE_MM) -> str:
    """`text` cut so that `text + tail` fits (the tail, a document number or a CEP, is kept)."""
    return _fit(text, width_mm - _width_mm(tail)) + tail


# -- formatting -------------------------------------------------------------------------------


def _percent(value) -> Decimal:
    """A snapshot percentage ("2.00", "", missing) as a Decimal; empty or missing means 0."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def _format_percent(value: Decimal) -> str:
    return number_format(value, 2, use_l10n=True) + "%"


def _zip(value: str) -> str:
    digits = (value or "").replace("-", "").replace(".", "").strip()
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 8 else digits


def _join(*parts: str, sep: str) -> str:
    return sep.join(part for part in parts if part)


def _document(value: str) -> str:
    """``CPF 000.000.000-00`` or ``CNPJ 00.000.000/0000-00`` (alphanumeric CNPJ kept)."""
    value = normalize_document(value)
    if not value:
        return ""
    return f"{'CPF' if len(value) == 11 else 'CNPJ'} {format_document(value)}"


def _beneficiary_address(beneficiary: dict) -> str:
    """One line: street — city/UF — CEP (the street is cut if the line is too long)."""
    zip_code = _zip(beneficiary.get("address_zip", ""))
    tail = _join(
        _join(beneficiary.get("address_city", ""), beneficiary.get("address_state", ""), sep="/"),
        f"CEP {zip_code}" if zip_code else "",
        sep=" — ",
    )
    street = beneficiary.get("address_street", "")
    if street and tail:
        return _fit_before(street, " — " + tail)
    return _fit(street or tail)


def _payer_address(payer: dict) -> str:
    """Two lines: street and district; CEP, city/UF."""
    zip_code = _zip(payer.get("address_zip", ""))
    lines = (
        _join(payer.get("address_street", ""), payer.get("address_district", ""), sep=" — "),
        _join(
            f"CEP {zip_code}" if zip_code else "",
            _join(payer.get("address_city", ""), payer.get("address_state", ""), sep="/"),
            sep=" — ",
        ),
    )
    return _join(*(_fit(line) for line in lines), sep="\n")


def _agency_code(bank, beneficiary: dict) -> str:
    """Agência/Código do beneficiário as banks print it: ``1234-5 / 12345678-9``."""
    agency = _join(beneficiary.get("agency", ""), beneficiary.get("agency_digit", ""), sep="-")
    if bank.code == "033":  # Santander prints the código do beneficiário (convênio)
        return _join(agency, beneficiary.get("agreement", ""), sep=" / ")
    account = beneficiary.get("account", "")
    digit = beneficiary.get("account_digit", "")
    if not digit and isinstance(bank, Itau) and beneficiary.get("agency") and account:
        digit = Itau.account_dac(beneficiary["agency"], account)
    return _join(agency, _join(account, digit, sep="-"), sep=" / ")


def _reference(boleto) -> str:
    description = boleto.schedule.description or "Cobrança recorrente"
    return _fit_before(f"Referente a: {description}", f" — parcela {boleto.sequence}.")


def _instructions(boleto, beneficiary: dict) -> str:
    fee = _percent(beneficiary.get("late_fee_percent"))
    interest = _percent(beneficiary.get("monthly_interest_percent"))
    charges = []
    if fee > 0:
        charges.append(f"multa de {_format_percent(fee)}")
    if interest > 0:
        charges.append(f"juros de {_format_percent(interest)} ao mês")
    lines = []
    if charges:
        lines.append(f"Após o vencimento, cobrar {' e '.join(charges)}.")
    lines.append(_reference(boleto))
    if boleto.pix_payload:
        lines.append("Também pode ser pago com Pix pelo QR Code do recibo do pagador.")
    return "\n".join(lines)


def pix_qr(payload: str) -> segno.QRCode:
    """The Pix QR Code of `payload`: a QR Code (never Micro QR), error correction level M.

    segno's public API, mask chosen by segno (ISO/IEC 18004's penalty rules); segno raises the
    level above M when the version leaves room for it.
    """
    return segno.make(payload, error=QR_ERROR, micro=False)


def _pix_qr_data_url(payload: str) -> str:
    """The Pix QR as a ``data:`` URL of a grayscale PNG, one pixel per module, quiet zone of 4.

    The same pixels as segno's 1-bit PNG (``save(kind="png", scale=1, border=4)``), read through
    segno's ``matrix_iter`` and written as an 8-bit gray PNG (`_gray_png`).
    """
    rows = pix_qr(payload).matrix_iter(scale=1, border=QR_BORDER)
    return _png_data_url(_gray_png([bytes(row).translate(_DARK_IS_BLACK) for row in rows]))


#: segno's modules (1 dark, 0 light) as gray levels (0 black, 255 white).
_DARK_IS_BLACK = bytes.maketrans(b"\x00\x01", b"\xff\x00")
QR_BORDER = 4
QR_ERROR = "m"


def _itf_data_url(digits: str) -> str:
    """The ITF bars as a ``data:`` URL of a grayscale PNG, one pixel per module, 1 pixel high.

    The same pixels as `billing.itf.itf_png` (a 1-bit PNG), 8-bit gray (`_gray_png`).
    """
    row = b"".join(
        (b"\xff" if index % 2 else b"\x00") * width  # bars (even elements) black, spaces white
        for index, width in enumerate(itf_modules(digits))
    )
    return _png_data_url(_gray_png([row]))


def _gray_png(rows: list[bytes]) -> bytes:
    """An 8-bit grayscale PNG of `rows` (one byte per pixel). Deterministic bytes.

    WeasyPrint converts a 1-bit PNG to RGB and encodes it as PNG twice (when loading it and when
    writing the PDF); an 8-bit gray one is used as it is and encoded once, as a /DeviceGray image
    a third the size: ~0.9 ms less per boleto for the QR and the barcode.
    """
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, 0, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + row for row in rows), 6)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


PNG_DATA_URL = "data:image/png;base64,"


def _png_data_url(data: bytes) -> str:
    return PNG_DATA_URL + base64.b64encode(data).decode("ascii")


# -- rendering --------------------------------------------------------------------------------


def boleto_fields(boleto) -> dict[str, str]:
    """Every text printed on the boleto, formatted as printed. Call it under pt-BR."""
    if boleto.nosso_numero is None or not boleto.barcode or not boleto.linha_digitavel:
        raise ValueError("Only an issued boleto (with nosso número and barcode) can be printed")
    payer = boleto.payer or {}
    beneficiary = boleto.beneficiary or {}
    bank = get_bank(beneficiary.get("bank_code", ""))
    issued = date_br(business_localtime(boleto.issued_at).date())
    cnpj = format_document(beneficiary.get("cnpj", ""))
    payer_document = _document(payer.get("document", ""))
    return {
        "bank_name": bank.name,
        "bank_code": bank.code_with_dv,
        "linha": format_linha(boleto.linha_digitavel),
        "due_date": date_br(boleto.due_date),
        "amount": format_brl(boleto.amount),
        "nosso_numero": formatted_nosso_numero(
            beneficiary=beneficiary, nosso_numero=boleto.nosso_numero
        ),
        "document_number": f"{boleto.schedule.number}/{boleto.sequence}",
        "document_kind": DOCUMENT_KIND,
        "document_date": issued,
        "processing_date": issued,
        "wallet": beneficiary.get("wallet", ""),
        "agency_code": _agency_code(bank, beneficiary),
        # Printed as "name — CNPJ ..." on one line: the name gives way to the CNPJ.
        "beneficiary_name": _fit(
            beneficiary.get("legal_name", ""), LINE_MM - _width_mm(f" — CNPJ {cnpj}")
        ),
        "beneficiary_cnpj": cnpj,
        "beneficiary_address": _beneficiary_address(beneficiary),
        "payer_name": _fit(payer.get("name", ""), LINE_MM - _width_mm(f" — {payer_document}")),
        "payer_document": payer_document,
        "payer_address": _payer_address(payer),
        "instructions": _instructions(boleto, beneficiary),
        "reference": _reference(boleto),
        "pix_payload": boleto.pix_payload or "",
    }


LOGO_MAX_STORED_BYTES = 1024 * 1024


@lru_cache(maxsize=64)
def logo_png(name: str) -> bytes:
    """The merchant's stored logo (a PNG portal.logos made; the boleto's beneficiary snapshot
    records its name); b"" when there is none or the file is gone: the boleto prints and is
    emailed without it rather than failing. Cached: stored names are never reused."""
    if not name:
        return b""
    try:
        with default_storage.open(name, "rb") as stored:
            data = stored.read(LOGO_MAX_STORED_BYTES + 1)
    except OSError:
        logger.warning("event=boleto_logo_missing name=%s", name)
        return b""
    if len(data) > LOGO_MAX_STORED_BYTES or not data.startswith(b"\x89PNG"):
        return b""
    return data


@lru_cache(maxsize=64)
def logo_data_url(name: str) -> str:
    data = logo_png(name)
    return _png_data_url(data) if data else ""


def boleto_context(boleto) -> dict:
    """The values layer's template context: `boleto_fields` plus the barcode, the Pix QR and
    the merchant's logo (on the recibo do pagador)."""
    context = boleto_fields(boleto)
    context["layer"] = "values"
    context["barcode_png"] = _itf_data_url(boleto.barcode)
    pix = context["pix_payload"]
    context["pix_qr"] = _pix_qr_data_url(pix) if pix else ""
    context["logo"] = logo_data_url((boleto.beneficiary or {}).get("logo", ""))
    return context


def skeleton_context(bank_name: str, bank_code: str, *, pix: bool) -> dict:
    """The skeleton layer's template context: all it depends on (see `_skeleton`)."""
    return {
        "layer": "skeleton",
        "bank_name": bank_name,
        "bank_code": bank_code,
        "pix": pix,
        "document_kind": DOCUMENT_KIND,
    }


def render_boleto_html(boleto) -> str:
    """The HTML of the boleto's values layer, in pt-BR whatever language is active.

    The page is this layer drawn over the bank's skeleton (`render_skeleton_html`).
    """
    with translation.override(LANGUAGE):
        return values_html(boleto_context(boleto))


def values_html(context: dict) -> str:
    """The values layer's template rendered with `context` (`boleto_context`). Call it under pt-BR.

    The line breaks between its tags are whitespace text nodes that WeasyPrint parses, builds and
    collapses away (~0.5 ms): dropped. Values are escaped (no "<" or ">"), so they are intact.
    """
    return render_to_string(TEMPLATE, context).replace(">\n<", "><")


def render_skeleton_html(bank_name: str, bank_code: str, *, pix: bool) -> str:
    with translation.override(LANGUAGE):
        return render_to_string(TEMPLATE, skeleton_context(bank_name, bank_code, pix=pix))


def page_html(context: dict) -> str:
    """The whole page in one document, skeleton and values: the plain path's HTML.

    `context` is the values layer's (`boleto_context`). Call it under pt-BR.
    """
    return render_to_string(
        TEMPLATE, {**context, "layer": "page", "pix": bool(context["pix_payload"])}
    )


# -- two layers, one page ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Skeleton:
    """A skeleton layer, drawn: its content stream and the fonts (with glyphs) it uses."""

    #: The skeleton's PDF operators in page coordinates, balanced (q … Q), Flate-compressed.
    contents: bytes
    #: WeasyPrint's ``weasyprint.pdf.fonts.Font`` objects (`FAST_PATH_INTERNALS`).
    fonts: tuple
    graphics_states: dict


def _render(html: str, html_class=HTML):
    document = html_class(string=html, url_fetcher=_LocalOnlyFetcher()).render(
        stylesheets=[_stylesheet()], font_config=_font_config()
    )
    if len(document.pages) != 1:
        raise BoletoPageError(f"The boleto must fit one page, got {len(document.pages)}")
    return document


def _draw_skeleton(bank_name: str, bank_code: str, *, pix: bool) -> _Skeleton:
    """Lays out and draws the skeleton of a bank into a detached PDF content stream."""
    # A WeasyPrint internal (`FAST_PATH_INTERNALS`), imported here so that this module still
    # imports, and draws the plain way, with a WeasyPrint that moved or dropped it.
    from weasyprint.pdf.stream import Stream

    document = _render(render_skeleton_html(bank_name, bank_code, pix=pix))
    page = document.pages[0]
    resources = pydyf.Dictionary(
        {key: pydyf.Dictionary() for key in ("ExtGState", "XObject", "Pattern", "Shading")}
    )
    stream = Stream(
        document.fonts,
        (0, 0, page.width, page.height),
        resources,
        {},
        None,
        document.color_profiles,
        document.output_intent,
        compress=False,
    )
    page.paint(stream, PDF_SCALE)
    # The operators are copied into each boleto's page, whose resources are not these: the
    # skeleton may use fonts (merged into the page's, `_merge_fonts`) and graphics states (opacity
    # states, named after their value by WeasyPrint, so copied as they are), nothing else.
    if any(resources[key] for key in ("XObject", "Pattern", "Shading")):
        raise RuntimeError("The boleto skeleton must not use images, patterns or gradients")
    # The skeleton is the page's first content stream (a page's content streams are one stream
    # to a PDF reader), flipped to WeasyPrint's top-down coordinates as WeasyPrint's own page
    # stream is, and compressed here once: pydyf would otherwise join and compress its ~30 KB of
    # operators again for every boleto (~0.6 ms, at zlib level 9).
    skeleton_stream = pydyf.Stream()
    skeleton_stream.push_state()
    skeleton_stream.set_matrix(1, 0, 0, -1, 0, page.height * PDF_SCALE)
    skeleton_stream.stream.extend(stream.stream)
    skeleton_stream.pop_state()
    operators = b"\n".join(pydyf._to_bytes(item) for item in skeleton_stream.stream)
    compressor = zlib.compressobj(level=9)
    return _Skeleton(
        compressor.compress(operators) + compressor.flush(),
        tuple(document.fonts.values()),
        dict(resources["ExtGState"]),
    )


def _skeleton(bank_name: str, bank_code: str, *, pix: bool) -> _Skeleton:
    """The bank's skeleton, drawn once per thread (Pango objects are not thread-safe)."""
    cache = getattr(_local, "skeletons", None)
    if cache is None:
        cache = _local.skeletons = {}
    key = (bank_name, bank_code, pix)
    if key not in cache:
        cache[key] = _draw_skeleton(bank_name, bank_code, pix=pix)
    return cache[key]


def _merge_fonts(fonts: dict, skeleton: _Skeleton) -> None:
    """Adds the skeleton's glyphs to the document's `fonts`, so one subset serves both layers.

    WeasyPrint names a font in the content stream by a hash of its description and subsets with
    HarfBuzz keeping glyph ids, so the skeleton's operators stay valid with the page's fonts as
    long as those fonts also hold the skeleton's glyphs (widths and ToUnicode entries).
    """
    for skeleton_font in skeleton.fonts:
        same = [font for font in fonts.values() if font.hash == skeleton_font.hash]
        if not same:  # a font only the skeleton uses: a fresh copy, subset for this document
            font = copy.copy(skeleton_font)
            font.widths, font.to_unicode = {}, {}
            font.missing, font.variations = dict(font.missing), dict(font.variations)
            fonts[("skeleton", skeleton_font.hash)] = font
            same = [font]
        for font in same:
            font.widths.update(skeleton_font.widths)
            font.to_unicode.update(skeleton_font.to_unicode)


def _bank_skeleton(boleto) -> _Skeleton:
    bank = get_bank((boleto.beneficiary or {}).get("bank_code", ""))
    return _skeleton(bank.name, bank.code_with_dv, pix=bool(boleto.pix_payload))


def _write_pdf(document, skeleton: _Skeleton) -> bytes:
    """Writes the values layer's `document` with the `skeleton` painted under it, as one page."""
    page = document.pages[0]
    paint = page.paint

    def paint_with_skeleton(stream, scale=1):
        states = stream._resources["ExtGState"]
        for name, state in skeleton.graphics_states.items():
            states.setdefault(name, state)
        paint(stream, scale)
        _merge_fonts(document.fonts, skeleton)

    def skeleton_first(_document, pdf_file: pydyf.PDF) -> None:
        """Puts the skeleton's content stream before the values layer's, sharing its resources."""
        contents = pydyf.Stream(
            [skeleton.contents], pydyf.Dictionary({"Filter": "/FlateDecode"}), compress=False
        )
        pdf_file.add_object(contents)
        (pdf_page,) = (
            item
            for item in pdf_file.objects
            if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/Page"
        )
        pdf_page["Contents"] = pydyf.Array([contents.reference, pdf_page["Contents"]])

    page.paint = paint_with_skeleton
    return document.write_pdf(zoom=1, finisher=skeleton_first)


def _fast_pdf(context: dict, skeleton: _Skeleton) -> bytes:
    """The fast path: the values layer laid out and written over the bank's `skeleton`."""
    return _write_pdf(_render(values_html(context), _ValuesHTML), skeleton)


def _plain_pdf(context: dict) -> bytes:
    """The plain path: the whole page laid out and written by WeasyPrint's public API alone."""
    return _render(page_html(context)).write_pdf()


def render_boleto_pdf(boleto) -> bytes:
    """The boleto as a one-page A4 PDF. Re-rendering the same boleto gives the same bytes.

    The fast path: the values layer is laid out for this boleto; the bank's skeleton (rules,
    labels, header), laid out and drawn once per process, is painted under it in the same content
    stream, with one font subset per font for both layers. When the installed WeasyPrint is not
    the one it is written for (`fast_path_problem`), when it is turned off
    (``BILLING_PDF_FAST_PATH``) or when it raises, the plain path draws the same page in one go
    (logged once per process; after a raise the fast path is not tried again in this process).
    """
    global _fast_path_failure
    with translation.override(LANGUAGE):
        context = boleto_context(boleto)  # refuses a boleto that was not issued
        reason = _fast_path_off()
        if reason is None:
            try:
                return _fast_pdf(context, _bank_skeleton(boleto))
            except BoletoPageError:
                raise  # the page itself is wrong: the plain path would not fit it either
            except Exception as error:
                # Anything else is taken for the fast path's assumptions failing (a WeasyPrint
                # internal that changed): the payer still gets the boleto, drawn the plain way.
                reason = _fast_path_failure = f"the fast path raised {error!r}"
                _log_fallback(reason, exc_info=True)
        _log_fallback(reason)
        return _plain_pdf(context)
