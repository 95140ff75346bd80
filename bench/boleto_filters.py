#!/usr/bin/env python
"""Benchmark of the Boletos tab's bank-state filters and the dashboard's totals at 100,000
boletos of one merchant (issue #12: the bank state lives in BoletoBank). Run by hand.

    .venv/bin/python bench/boleto_filters.py

It builds bench/retorno.py's data set (one merchant on the Banco de testes, ``--titles``
issued boletos, registration pending) in a dedicated database (dropped at the end unless
``--keep-db``), then measures, through the real selectors and the paginator the view uses
(first page of 50 and its count), each registration and payment filter and
``boleto_payment_totals``: first with every boleto open and pending, then after the test
bank's payment retorno of all of them (every boleto paid). Prints min and median ms of
``--repeat`` runs per case.
"""

# ruff: noqa: E402  (the standard-library imports must come after the sys.path fix below)
from __future__ import annotations

import os
import sys

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR]
sys.path.insert(0, os.path.dirname(_BENCH_DIR))

import argparse
import statistics
import time
from urllib.parse import urlsplit

from bench import retorno as retorno_bench
from bench._common import drop_database, machine_info, recreate_database

CASES = [("registration", v) for v in ("pending", "registered", "rejected")] + [
    ("payment", v) for v in ("open", "overdue", "paid", "written_off", "paid_after_write_off")
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--db-url",
        default="postgres://postgres@127.0.0.1:5432/portal_bench_filters",
        help="a DEDICATED database: it is dropped and recreated",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if "bench" not in urlsplit(args.db_url).path:
        parser.error("--db-url must name a dedicated database with 'bench' in its name")
    return args


def measure(merchant, repeat: int) -> list[tuple[str, int, float, float]]:
    from billing import selectors
    from billing.models import Boleto
    from portal.pagination import DeferredJoinPaginator
    from portal.timezones import business_today

    today = business_today()
    rows = []
    for key, value in CASES:
        filters = {key: value}
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            queryset = selectors.boleto_list_filtered(merchant=merchant, today=today, **filters)
            paginator = DeferredJoinPaginator(
                queryset,
                50,
                rows=Boleto.objects.select_related("schedule", "bank"),
                count=selectors.boleto_list_count(merchant=merchant, today=today, **filters),
            )
            page = paginator.get_page(1)
            list(page)
            times.append((time.perf_counter() - start) * 1000)
        rows.append((f"{key}={value}", paginator.count, min(times), statistics.median(times)))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        selectors.boleto_payment_totals(merchant=merchant, today=today)
        times.append((time.perf_counter() - start) * 1000)
    rows.append(("dashboard totals", 0, min(times), statistics.median(times)))
    return rows


def main() -> None:
    args = parse_args()
    retorno_bench.configure_environment(args)
    recreate_database(args.db_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", interactive=False, verbosity=0)
        info = machine_info(db_url=args.db_url)
        merchant = retorno_bench.build_data_set(args.titles)
        data = retorno_bench.make_retorno(merchant)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        before = measure(merchant, args.repeat)
        retorno_bench.time_import(merchant, data, args.titles)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would after 100,000 changed rows
        after = measure(merchant, args.repeat)
        for label, value in info:
            print(f"- {label}: {value}")
        print(f"- {args.titles:,} boletos of one merchant, {args.repeat} runs per case\n")
        print(
            "| case | all open: found | min ms | median ms | all paid: found | min ms | median ms |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for (label, found, low, mid), (_, found2, low2, mid2) in zip(before, after, strict=True):
            cells = [label, f"{found:,}", f"{low:.1f}", f"{mid:.1f}", f"{found2:,}"]
            cells += [f"{low2:.1f}", f"{mid2:.1f}"]
            print("| " + " | ".join(cells) + " |")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(args.db_url)


if __name__ == "__main__":
    main()
