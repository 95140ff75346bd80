#!/usr/bin/env python
"""Benchmark of the boleto PDF (issue #3): WeasyPrint vs a minimal ReportLab page. Run by hand.

    .venv/bin/python bench/pdf.py              # 50 single renders + a batch of 200, both engines
    .venv/bin/python bench/pdf.py --profile    # + cProfile of 20 WeasyPrint renders
    .venv/bin/python bench/pdf.py --help

What it does, in one worker process (no database: the boletos are unsaved model instances):

1. Builds ``--boletos`` different boletos (default 200): the four supported banks in turn, each
   with its own nosso número, amount, payer and Pix payload, so nothing can be served from a
   cache of a previous document.
2. Warms both engines up (``--warmup`` renders each), then renders ``--singles`` boletos one by
   one with each engine, alternating WeasyPrint and ReportLab so both see the same machine load,
   and reports median and p95 per PDF, wall clock and CPU time of this process.
3. Renders the whole batch with each engine and reports PDFs per second.
4. Splits one WeasyPrint render into its phases (fields + QR, template, HTML parse of the values
   layer, its layout, drawing it over the bank's skeleton + PDF writing), and times drawing one
   skeleton (paid once per process, bank and Pix/no Pix, so inside the warm-up here).

The ReportLab baseline draws the same page by hand: the same texts (from
`billing.pdf.boleto_fields`, so the formatting work is the same), the same rules, the ITF bars
(from `billing.itf.itf_modules`) and the Pix QR (from segno, as in the WeasyPrint path), with the
same DejaVu fonts embedded. It is the floor for "a boleto PDF in Python", not a second
implementation to maintain.
"""

from __future__ import annotations

import os
import sys

# Python puts this folder first on sys.path, where bench/numbers.py would shadow the standard
# library's `numbers` (imported by `decimal` and `statistics`): replace it with the project root.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

from bench._common import machine_info, pdf_stack, version  # noqa: E402

TARGET_MS = 50
TARGET_RATIO = 2.5
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MM = 72 / 25.4  # points per mm

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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boletos", type=int, default=200, help="batch size (default 200)")
    parser.add_argument("--singles", type=int, default=50, help="timed single renders (50)")
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--no-pix", action="store_true", help="boletos without a Pix QR")
    parser.add_argument("--profile", action="store_true", help="cProfile 20 WeasyPrint renders")
    parser.add_argument("--save", metavar="DIR", help="write one PDF of each engine to DIR")
    return parser.parse_args()


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    os.environ["DJANGO_DEBUG"] = "false"
    # The project logs at INFO by default, and WeasyPrint logs 7 progress lines per document.
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


# --- data ---------------------------------------------------------------------------------------


def make_boletos(count: int, *, pix: bool) -> list:
    from billing.boleto_codes import boleto_numbers, pix_payload
    from billing.models import Boleto
    from schedules.models import Schedule

    banks = sorted(ACCOUNTS)
    boletos = []
    for i in range(count):
        bank = banks[i % len(banks)]
        beneficiary = {
            "legal_name": f"Academia Corpo em Forma {i} Ltda",
            "trade_name": "Corpo em Forma",
            "cnpj": "12ABC34501DE35" if i % 5 == 0 else "11222333000181",
            "address_street": "Av. Paulista, 1000, conj. 12",
            "address_city": "São Paulo",
            "address_state": "SP",
            "address_zip": "01310100",
            "bank_code": bank,
            "pix_key": "financeiro@corpoemforma.com.br" if pix else "",
            "late_fee_percent": "2.00",
            "monthly_interest_percent": "1.00",
            **ACCOUNTS[bank],
        }
        payer = {
            "name": f"Cliente Número {i} da Silva",
            "document": "24843803480",
            "email": f"cliente{i}@example.com",
            "address_street": f"Rua das Flores, {100 + i}, apto {i % 90 + 1}",
            "address_district": "Jardim Paulista",
            "address_city": "São Paulo",
            "address_state": "SP",
            "address_zip": "01415000",
        }
        due = date(2026, 3, 10) + timedelta(days=i % 60)
        amount = Decimal(1000 + 37 * i) / 100 + Decimal("99.90")
        nosso_numero = 1000 + i
        numbers = boleto_numbers(
            beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due, amount=amount
        )
        boleto = Boleto(
            sequence=i % 12 + 1,
            due_date=due,
            amount=amount,
            issued_at=datetime(2026, 2, 28, 13, 5, tzinfo=UTC),
            payer=payer,
            beneficiary=beneficiary,
            nosso_numero=nosso_numero,
            barcode=numbers.barcode,
            linha_digitavel=numbers.linha_digitavel,
            pix_payload=pix_payload(
                beneficiary=beneficiary, amount=amount, txid=f"BOL{nosso_numero:010d}"
            ),
        )
        boleto.schedule = Schedule(number=100 + i, description="Mensalidade — plano anual")
        boletos.append(boleto)
    return boletos


# --- the ReportLab baseline ---------------------------------------------------------------------

# (x, y, width, height, label, field, flags) in mm from the top-left of the 190 × 281 mm content
# box, as in templates/pdf/boleto.html. flags: v = left rule, r = value right-aligned, b = bold.
RECIBO = [
    (0, 9, 140, 10, "Beneficiário", "beneficiary", ""),
    (140, 9, 50, 10, "Vencimento", "due_date", "vrb"),
    (0, 19, 45, 7, "Agência/Código do beneficiário", "agency_code", ""),
    (45, 19, 50, 7, "Nosso número", "nosso_numero", "v"),
    (95, 19, 45, 7, "Nº do documento", "document_number", "v"),
    (140, 19, 50, 7, "Valor do documento", "amount", "vrb"),
    (0, 26, 190, 13, "Pagador", "payer", ""),
    (0, 39, 190, 7, "Linha digitável", "linha", "b"),
    (0, 46, 140, 10, "Demonstrativo", "reference", ""),
    (140, 46, 50, 10, "Autenticação mecânica", None, "v"),
]
FICHA = [
    (0, 9, 140, 8, "Local de pagamento", "place", ""),
    (140, 9, 50, 8, "Vencimento", "due_date", "vrb"),
    (0, 17, 140, 10, "Beneficiário", "beneficiary", ""),
    (140, 17, 50, 10, "Agência/Código do beneficiário", "agency_code", "vr"),
    (0, 27, 30, 7, "Data do documento", "document_date", ""),
    (30, 27, 32, 7, "Nº do documento", "document_number", "v"),
    (62, 27, 18, 7, "Espécie doc.", "document_kind", "v"),
    (80, 27, 15, 7, "Aceite", "accept", "v"),
    (95, 27, 45, 7, "Data processamento", "processing_date", "v"),
    (140, 27, 50, 7, "Nosso número", "nosso_numero", "vr"),
    (0, 34, 30, 7, "Uso do banco", None, ""),
    (30, 34, 20, 7, "Carteira", "wallet", "v"),
    (50, 34, 15, 7, "Espécie", "currency", "v"),
    (65, 34, 30, 7, "Quantidade", None, "v"),
    (95, 34, 45, 7, "Valor", None, "v"),
    (140, 34, 50, 7, "(=) Valor do documento", "amount", "vrb"),
    (0, 41, 140, 30, "Instruções (texto de responsabilidade do beneficiário)", "instructions", ""),
    (140, 41, 50, 6, "(−) Desconto/Abatimento", None, "v"),
    (140, 47, 50, 6, "(−) Outras deduções", None, "v"),
    (140, 53, 50, 6, "(+) Mora/Multa", None, "v"),
    (140, 59, 50, 6, "(+) Outros acréscimos", None, "v"),
    (140, 65, 50, 6, "(=) Valor cobrado", None, "v"),
    (0, 71, 140, 13, "Pagador", "payer", ""),
    (140, 71, 50, 13, "Sacador/Avalista", None, "v"),
]


def reportlab_setup():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVu", str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def render_reportlab(boleto) -> bytes:
    import segno
    from django.utils import translation
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from billing.itf import itf_modules
    from billing.pdf import boleto_fields

    with translation.override("pt-br"):
        f = boleto_fields(boleto)
    f["beneficiary"] = (
        f"{f['beneficiary_name']} — CNPJ {f['beneficiary_cnpj']}\n{f['beneficiary_address']}"
    )
    f["payer"] = f"{f['payer_name']} — {f['payer_document']}\n{f['payer_address']}"
    f["place"] = "Pagável em qualquer banco ou correspondente bancário até o vencimento"
    f["accept"], f["currency"] = "N", "R$"

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    left, top = 10 * MM, A4[1] - 8 * MM

    def x_(mm):
        return left + mm * MM

    def y_(mm):
        return top - mm * MM

    rules = c.beginPath()

    def header(y0, right_text, right_size):
        c.setFont("DejaVu-Bold", 9.5)
        c.drawString(x_(0), y_(y0 + 5.5), f["bank_name"])
        c.setFont("DejaVu-Bold", 13)
        c.drawCentredString(x_(51), y_(y0 + 6), f["bank_code"])
        c.setFont("DejaVu-Bold", right_size)
        c.drawRightString(x_(190), y_(y0 + 5.7), right_text)
        for x in (42, 60):
            rules.moveTo(x_(x), y_(y0))
            rules.lineTo(x_(x), y_(y0 + 8.4))
        c.setLineWidth(0.6 * MM)
        c.line(x_(0), y_(y0 + 8.7), x_(190), y_(y0 + 8.7))
        c.setLineWidth(0.2 * MM)

    def cells(y0, table, bottoms):
        for x, y, w, h, label, field, flags in table:
            rules.moveTo(x_(x), y_(y0 + y))
            rules.lineTo(x_(x + w), y_(y0 + y))
            if "v" in flags:
                rules.moveTo(x_(x), y_(y0 + y))
                rules.lineTo(x_(x), y_(y0 + y + h))
            c.setFont("DejaVu", 5.5)
            c.drawString(x_(x + 1), y_(y0 + y + 2.2), label)
            if field and f[field]:
                c.setFont("DejaVu-Bold" if "b" in flags else "DejaVu", 7.5)
                for n, line in enumerate(f[field].split("\n")):
                    baseline = y_(y0 + y + 5 + 3.2 * n)
                    if "r" in flags:
                        c.drawRightString(x_(x + w - 1), baseline, line)
                    else:
                        c.drawString(x_(x + 1), baseline, line)
        for y in bottoms:
            rules.moveTo(x_(0), y_(y0 + y))
            rules.lineTo(x_(190), y_(y0 + y))

    header(0, "Recibo do Pagador", 10)
    cells(0, RECIBO, [56])
    if f["pix_payload"]:
        qr = segno.make(f["pix_payload"], error="m", micro=False)
        modules = c.beginPath()
        size = 41 / (qr.symbol_size(border=4)[0])
        for row, bits in enumerate(qr.matrix):
            for col, bit in enumerate(bits):
                if bit:
                    modules.rect(
                        x_(1.8 + (col + 4) * size),
                        y_(61.8 + (row + 5) * size),
                        size * MM,
                        size * MM,
                    )
        c.drawPath(modules, stroke=0, fill=1)
        c.rect(x_(0), y_(105), 190 * MM, 45 * MM)
        c.setFont("DejaVu-Bold", 10)
        c.drawString(x_(47), y_(67), "Pague com Pix")
        c.setFont("DejaVu", 7.5)
        c.drawString(
            x_(47),
            y_(72),
            "Leia o QR Code no app do seu banco ou use o Pix Copia e "
            "Cola. Pague de uma só forma: Pix ou boleto.",
        )
        c.setFont("DejaVu", 5.5)
        c.drawString(x_(47), y_(77), "Pix Copia e Cola")
        c.setFont("DejaVu", 7.5)
        payload = f["pix_payload"]
        for n in range(0, len(payload), 90):
            c.drawString(x_(47), y_(80.5 + 3.2 * n / 90), payload[n : n + 90])
    c.setDash(2, 2)
    c.line(x_(0), y_(174), x_(190), y_(174))
    c.setDash()
    c.setFont("DejaVu", 6)
    c.drawRightString(x_(190), y_(176.5), "✂ Corte na linha pontilhada")
    header(181, f["linha"], 10.5)
    cells(181, FICHA, [84])
    c.drawPath(rules, stroke=1, fill=0)
    c.setFont("DejaVu", 6)
    c.drawRightString(x_(190), y_(267), "Autenticação mecânica — Ficha de Compensação")
    bars = c.beginPath()
    x = 5.0
    for index, width in enumerate(itf_modules(boleto.barcode)):
        if index % 2 == 0:
            bars.rect(x_(x), y_(280), width * 0.254 * MM, 13 * MM)
        x += width * 0.254
    c.drawPath(bars, stroke=0, fill=1)
    c.showPage()
    c.save()
    return buffer.getvalue()


# --- measuring ----------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(function, boleto) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function(boleto)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def phases(boleto) -> dict[str, float]:
    from django.utils import translation

    from billing import pdf

    skeleton = pdf._bank_skeleton(boleto)  # drawn once per process and bank: warm here
    marks = [time.perf_counter()]
    with translation.override(pdf.LANGUAGE):
        context = pdf.boleto_context(boleto)
        marks.append(time.perf_counter())
        html = pdf.values_html(context)
    marks.append(time.perf_counter())
    parsed = pdf._ValuesHTML(string=html, url_fetcher=pdf._LocalOnlyFetcher())
    marks.append(time.perf_counter())
    document = parsed.render(stylesheets=[pdf._stylesheet()], font_config=pdf._font_config())
    marks.append(time.perf_counter())
    pdf._write_pdf(document, skeleton)
    marks.append(time.perf_counter())
    names = [
        "fields + barcode + QR",
        "template",
        "HTML parse",
        "style + layout",
        "draw + skeleton + PDF",
    ]
    return {name: (b - a) * 1000 for name, a, b in zip(names, marks[:-1], marks[1:], strict=True)}


def skeleton_cost() -> float:
    """Milliseconds to lay out and draw one bank's skeleton (paid once per process and bank)."""
    from billing import pdf

    times = []
    for _ in range(5):
        start = time.perf_counter()
        pdf._draw_skeleton("Banco do Brasil", "001-9", pix=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def describe_machine() -> list[tuple[str, str]]:
    rendering = ("ReportLab / segno", f"{version('reportlab')} / {version('segno')}")
    return [*machine_info(packages=("django",)), *pdf_stack(), rendering]


def main() -> None:
    args = parse_args()
    setup_django()
    from billing.pdf import render_boleto_pdf

    reportlab_setup()
    boletos = make_boletos(args.boletos, pix=not args.no_pix)
    engines = {"WeasyPrint": render_boleto_pdf, "ReportLab": render_reportlab}

    print("Machine")
    for key, value in describe_machine():
        print(f"  {key:36s} {value}")
    pix = "without" if args.no_pix else "with"
    print(f"\n{args.boletos} different boletos (4 banks, {pix} Pix QR), one process\n")

    if args.save:
        out = Path(args.save)
        out.mkdir(parents=True, exist_ok=True)
        for name, render in engines.items():
            (out / f"boleto-{name.lower()}.pdf").write_bytes(render(boletos[0]))

    for i in range(args.warmup):
        for render in engines.values():
            render(boletos[i % len(boletos)])

    singles = {name: [] for name in engines}
    for i in range(args.singles):
        boleto = boletos[(args.warmup + i) % len(boletos)]
        for name, render in engines.items():
            singles[name].append(timed(render, boleto))

    batch = {}
    for name, render in engines.items():
        start = time.perf_counter()
        for boleto in boletos:
            render(boleto)
        batch[name] = len(boletos) / (time.perf_counter() - start)

    header = (
        f"{'engine':11s} {'median ms':>10s} {'p95 ms':>8s} {'median CPU ms':>14s} "
        f"{'p95 CPU ms':>11s} {'batch PDFs/s':>13s}"
    )
    print(header)
    print("-" * len(header))
    medians = {}
    for name, values in singles.items():
        wall = [w for w, _ in values]
        cpu = [c for _, c in values]
        medians[name] = (statistics.median(wall), statistics.median(cpu))
        print(
            f"{name:11s} {medians[name][0]:10.1f} {pct(wall, 0.95):8.1f} {medians[name][1]:14.1f} "
            f"{pct(cpu, 0.95):11.1f} {batch[name]:13.1f}"
        )
    ratio_wall = medians["WeasyPrint"][0] / medians["ReportLab"][0]
    ratio_cpu = medians["WeasyPrint"][1] / medians["ReportLab"][1]
    print(
        f"\nWeasyPrint / ReportLab (median): {ratio_wall:.2f}× wall, {ratio_cpu:.2f}× CPU "
        f"(target ≤ {TARGET_RATIO}×); WeasyPrint median {medians['WeasyPrint'][0]:.1f} ms "
        f"(target ≤ {TARGET_MS} ms)"
    )

    split = [phases(boletos[i % len(boletos)]) for i in range(20)]
    print("\nWeasyPrint phases (median of 20 renders, wall ms)")
    for name in split[0]:
        print(f"  {name:24s} {statistics.median(s[name] for s in split):6.1f}")
    print(f"  {'(once per bank: skeleton)':24s} {skeleton_cost():6.1f}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(20):
            render_boleto_pdf(boletos[i % len(boletos)])
        profiler.disable()
        print("\ncProfile, 20 WeasyPrint renders, by cumulative time")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
