#!/usr/bin/env python
"""Benchmark of Importar planilha on PostgreSQL (issue 13 item 3). Run by hand, not a test.

    .venv/bin/python bench/import.py                # 10,000 rows
    .venv/bin/python bench/import.py --rows 20000   # the default IMPORT_MAX_ROWS
    .venv/bin/python bench/import.py --help

What it does:

1. (Re)creates a dedicated database (default ``portal_bench_import``, dropped at the end unless
   ``--keep-db``), runs the migrations, registers one merchant and ``--existing`` customers of
   it (so some rows meet a registered customer).
2. Writes a ``;``-separated UTF-8 (BOM) CSV of ``--rows`` rows as a merchant migrating from
   another system would: ~90% distinct customers (some with two schedules), a third of the first
   due dates in the past (running schedules), every frequency, amounts typed "1.234,56", about
   1% rows with an error and 0.5% duplicates.
3. Times, in the same process and run: the bare CSV parse (``csv.reader`` over the decoded
   text: the floor), the reading layer (``read_table``: encoding, separator, header, rows), the
   validation (``import_preview``: every column's rules, the existing customers and schedules
   looked up), and the import (``import_rows_create``: one transaction, bulk inserts). Then the
   same file again (everything is a duplicate: 0 created). Target: read + validate + import
   ≤ 15 s for 10,000 rows.
"""

# ruff: noqa: E402  (the standard-library imports must come after the sys.path fix below)
from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where other benchmarks' modules
# (bench/numbers.py, ...) would shadow the standard library: import from the project root only.
_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR]
sys.path.insert(0, os.path.dirname(_BENCH_DIR))

import argparse
import csv
import io
import random
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

from bench._common import drop_database, machine_info, recreate_database

TARGET_SECONDS = 15.0
COLUMNS = (
    "nome;cpf_cnpj;email;telefone;endereco;bairro;cidade;uf;cep;valor;frequencia;"
    "primeiro_vencimento;antecedencia;descricao"
).split(";")
FREQUENCIES = ("Mensal", "mensal", "1", "Bimestral", "A cada 3 meses", "semestral", "Anual", "24")
NAMES = ("Ana", "Bruno", "Cecília", "Diego", "Érica", "Fábio", "Gisele", "Hélio", "Íris", "João")
SURNAMES = ("Souza", "Araújo", "Gonçalves", "Conceição", "Lima", "Pereira", "Simões", "Brandão")
CITIES = (("São Paulo", "SP"), ("Belém", "PA"), ("Florianópolis", "SC"), ("Goiânia", "GO"))


def cpf(n: int) -> str:
    digits = [int(c) for c in f"{n:09d}"]
    for weights in (range(10, 1, -1), range(11, 1, -1)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


def brl(cents: int) -> str:
    whole, frac = divmod(cents, 100)
    return f"{whole:,}".replace(",", ".") + f",{frac:02d}"


def make_csv(rows: int, *, today: date, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    written: list[list[str]] = []
    for n in range(rows):
        if written and rng.random() < 0.005:
            writer.writerow(rng.choice(written))  # a duplicate
            continue
        customer = n if rng.random() < 0.9 or n == 0 else rng.randrange(n)
        name = f"{NAMES[customer % 10]} {SURNAMES[customer % 8]} {customer}"
        city, uf = CITIES[customer % 4]
        if rng.random() < 0.33:
            first_due = today - timedelta(days=rng.randrange(1, 900))
        else:
            first_due = today + timedelta(days=rng.randrange(0, 400))
        row = [
            name,
            cpf(100_000_000 + customer),
            f"cliente{customer}@exemplo.com.br",
            f"(11) 9{customer % 10000:04d}-{customer % 7919:04d}",
            f"Rua {SURNAMES[customer % 8]}, {customer % 999 + 1}",
            "Centro",
            city,
            uf,
            f"{customer % 99999:05d}-{customer % 999:03d}",
            brl(rng.randrange(1_000, 500_000)),
            FREQUENCIES[n % len(FREQUENCIES)],
            first_due.strftime("%d/%m/%Y"),
            str(rng.choice((5, 10, 10, 15))),
            "Mensalidade",
        ]
        if rng.random() < 0.01:
            row[1] = row[1][:-1] + str((int(row[1][-1]) + 1) % 10)  # wrong check digit
        written.append(row)
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--existing", type=int, default=500, help="customers registered before")
    parser.add_argument(
        "--db-url",
        default="postgres://postgres@127.0.0.1:5432/portal_bench_import",
        help="a DEDICATED database: it is dropped and recreated",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if "bench" not in urlsplit(args.db_url).path:
        parser.error("--db-url must name a dedicated database with 'bench' in its name")
    return args


def configure_environment(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    os.environ["DATABASE_URL"] = args.db_url
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would keep every SQL statement in memory
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["IMPORT_MAX_ROWS"] = str(max(args.rows, 20_000))
    os.environ["IMPORT_MAX_BYTES"] = str(50 * 1024 * 1024)
    # The on-commit generator run is queued, not run here: the bench measures the import.
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")


def timed(label: str, results: list, function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    seconds = time.perf_counter() - start
    results.append((label, seconds))
    print(f"  {label:<48} {seconds:8.2f} s", flush=True)
    return value


def main() -> None:
    args = parse_args()
    configure_environment(args)
    print(f"recreating {urlsplit(args.db_url).path.lstrip('/')} ...", flush=True)
    recreate_database(args.db_url)

    # Django is imported only now: its settings read the environment configured above.
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from billing.models import Customer
    from portal.models import Merchant
    from schedules.importing import reading, services
    from schedules.models import Schedule

    try:
        call_command("migrate", interactive=False, verbosity=0)
        merchant = Merchant.objects.create(
            legal_name="Lojista Bench Ltda",
            cnpj="11222333000181",
            alert_email="alertas@exemplo.com.br",
            bank_code="341",
            agency="0057",
            account="12345",
            account_digit="7",
            wallet="109",
        )
        Customer.objects.bulk_create(
            Customer(
                merchant=merchant,
                name=f"Cliente antigo {n}",
                document=cpf(100_000_000 + n).replace(".", "").replace("-", ""),
                email=f"antigo{n}@exemplo.com.br",
                address_street="Rua Velha, 1",
                address_city="Recife",
                address_state="PE",
                address_zip="50000000",
            )
            for n in range(0, args.existing * 7, 7)
        )
        today = timezone.localdate()
        data = make_csv(args.rows, today=today, seed=args.seed)
        info = machine_info(db_url=args.db_url, packages=("django", "psycopg", "openpyxl"))
        print(f"\nfile: {args.rows:,} rows, {len(data) / 1024 / 1024:.2f} MB\n", flush=True)
        results: list[tuple[str, float]] = []

        def bare_parse():
            return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))

        timed("bare CSV parse (csv.reader)", results, bare_parse)
        table = timed(
            "read (reading.read_table)",
            results,
            reading.read_table,
            data,
            filename="bench.csv",
            max_bytes=settings.IMPORT_MAX_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
        )
        preview = timed(
            "validate (services.import_preview)",
            results,
            services.import_preview,
            merchant=merchant,
            table=table,
        )
        rows = [row.cleaned for row in preview.valid]
        result = timed(
            "import (services.import_rows_create)",
            results,
            services.import_rows_create,
            merchant=merchant,
            rows=rows,
        )
        total = sum(seconds for label, seconds in results[1:])
        print(f"  {'read + validate + import':<48} {total:8.2f} s", flush=True)
        print(
            f"\n  rows {preview.total:,}, valid {len(preview.valid):,}, errors "
            f"{preview.error_count:,}, duplicates {preview.duplicate_count:,}; created "
            f"{result.created:,} schedules, {result.customers_created:,} customers",
            flush=True,
        )
        assert Schedule.objects.count() == result.created

        print("\nsame file again (every valid row is now a duplicate):", flush=True)
        again: list[tuple[str, float]] = []
        table = timed(
            "read",
            again,
            reading.read_table,
            data,
            filename="bench.csv",
            max_bytes=settings.IMPORT_MAX_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
        )
        preview2 = timed("validate", again, services.import_preview, merchant=merchant, table=table)
        assert not preview2.valid
        print(f"  created: 0 (duplicates {preview2.duplicate_count:,})")

        print("\nmachine:")
        for label, value in info:
            print(f"  {label}: {value}")
        verdict = "met" if total <= TARGET_SECONDS else "NOT met"
        print(f"\ntarget read + validate + import <= {TARGET_SECONDS:.0f} s: {verdict}")
    finally:
        if not args.keep_db:
            drop_database(args.db_url)


if __name__ == "__main__":
    main()
