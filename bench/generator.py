#!/usr/bin/env python
"""Benchmark of the installment generator on PostgreSQL (issue #2). Run by hand, not a test.

    .venv/bin/python bench/generator.py                 # 100 merchants, 100,000 schedules, 3 rounds
    .venv/bin/python bench/generator.py --profile       # + one cProfile'd generator run at the end
    .venv/bin/python bench/generator.py --help

What it does:

1. (Re)creates a dedicated database (default ``portal_bench``, dropped at the end unless
   ``--keep-db``), runs the migrations and loads, with COPY (not timed), ``--merchants``
   merchants and ``--schedules`` active schedules, each with its own customer, randomly
   interleaved between merchants as real sign-ups are, every one with its first installment
   already inside its lead window: one run of the generator issues exactly one installment per
   schedule.
2. Each round, from the same starting state (boletos truncated, schedule cursors restored,
   VACUUM ANALYZE, CHECKPOINT, broker database flushed):

   a. **generator**: ``installments_issue_due(today=...)`` end to end, hand-off included: the
      broker is a real Redis database (default ``redis://127.0.0.1:6379/13``, flushed before
      and after), and the messages published are counted;
   b. **baseline**: the very same rows (same columns, same values, read back from round 1) with
      a plain multi-row ``INSERT INTO billing_boleto (...) VALUES (...), (...)`` through the raw
      Django cursor, ``batch size`` rows per statement and one transaction per batch, as the
      generator commits. JSON columns are passed pre-serialised, so the baseline does nothing
      in Python but compose the statement.

3. Prints the machine, a table (best and median of the rounds, ratio generator/baseline), and
   where the generator's wall time went (SQL by statement kind, measured with an execute
   wrapper, vs everything else).
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
import json
import random
import statistics
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from bench._common import drop_database, machine_info, recreate_database, redis_client

TARGET_RATE = 25_000
TARGET_RATIO = 0.6
QUEUE = "celery"  # Celery's default queue: every hand-off message lands in this Redis list.


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=100_000)
    parser.add_argument("--merchants", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default: settings.GENERATOR_BATCH_SIZE"
    )
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 3, 10))
    parser.add_argument(
        "--db-url",
        default="postgres://postgres@127.0.0.1:5432/portal_bench",
        help="a DEDICATED database: it is dropped and recreated",
    )
    parser.add_argument(
        "--broker-url",
        default="redis://127.0.0.1:6379/13",
        help="a DEDICATED Redis database: it is flushed",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE.prof",
        help="after the rounds, run the generator once more under cProfile and print the top "
        "functions (and dump the stats to FILE.prof when given)",
    )
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="generator processes running at once, as that many Celery worker processes do "
        "when the beat job fans out (settings.GENERATOR_PARALLELISM); default 1",
    )
    args = parser.parse_args()
    if "bench" not in urlsplit(args.db_url).path:
        parser.error("--db-url must name a dedicated database with 'bench' in its name")
    if urlsplit(args.broker_url).path.strip("/") in ("", "0"):
        parser.error("--broker-url must name a dedicated Redis database (not 0)")
    return args


def configure_environment(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    os.environ["DATABASE_URL"] = args.db_url
    os.environ["CELERY_BROKER_URL"] = args.broker_url
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would keep every SQL statement in memory
    os.environ["LOG_LEVEL"] = "WARNING"
    if args.batch_size:
        os.environ["GENERATOR_BATCH_SIZE"] = str(args.batch_size)


# --- data set (not timed) -----------------------------------------------------------------------

_FREQUENCIES = (1,) * 14 + (2, 3, 3, 6, 12, 24)  # mostly monthly, like the demo merchants


def _first_due_inside_lead_window(rng, today: date, every: int, lead: int):
    """A first due date whose installment 1 must be issued today (and is not past due)."""
    from schedules import dates

    offset = rng.randint(0, lead)
    while True:
        first = today + timedelta(days=offset)
        due = dates.due_date(first, every, 1)
        if due - timedelta(days=lead) <= today:
            return first, due - timedelta(days=lead)
        offset -= 1  # the business-day shift pushed it out of the window: start earlier


def create_merchants(count: int, *, cnpj_base: int) -> list:
    """``count`` merchants with valid bank data, cycling through the four supported banks."""
    from portal.models import Merchant
    from tests.factories import make_cnpj

    banks = ("001", "033", "237", "341")
    return Merchant.objects.bulk_create(
        Merchant(
            legal_name=f"Lojista Bench {i} Comércio Ltda",
            trade_name=f"Lojista Bench {i}",
            cnpj=make_cnpj(cnpj_base + i),
            alert_email=f"alertas{i}@bench.example.com",
            address_street=f"Avenida Paulista, {1000 + i}",
            address_city="São Paulo",
            address_state="SP",
            address_zip="01310100",
            bank_code=banks[i % 4],
            agency=f"{i:04d}",
            agency_digit=str(i % 10),
            account=f"{10000 + i}",
            account_digit=str(i % 7),
            # A carteira each bank's layout accepts (BB 17, Santander 101, Bradesco 09, Itaú 109).
            wallet={"001": "17", "033": "101", "237": "09", "341": "109"}[banks[i % 4]],
            agreement=f"{1_000_000 + i}",
        )
        for i in range(count)
    )


def build_data_set(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from billing.nosso_numero_allocation import ensure_sequences
    from tests.factories import make_cpf

    rng = random.Random(args.seed)
    now = timezone.now()
    merchant_ids = [m.pk for m in create_merchants(args.merchants, cnpj_base=40_000_000)]
    # Per-merchant nosso número sequences, which Merchant.save() creates (bulk_create does not).
    ensure_sequences(merchant_ids)
    # Exactly N/M schedules per merchant, randomly interleaved (ids do not cluster by merchant).
    owners = [merchant_ids[i % len(merchant_ids)] for i in range(args.schedules)]
    rng.shuffle(owners)

    raw = connection.cursor().cursor  # psycopg 3 cursor: COPY
    with raw.copy(
        "COPY billing_customer (merchant_id, name, document, email, phone, address_street, "
        "address_district, address_city, address_state, address_zip, created_at, updated_at) "
        "FROM STDIN"
    ) as copy:
        for i, merchant_id in enumerate(owners):
            copy.write_row(
                (
                    merchant_id,
                    f"Cliente Bench {i} da Silva",
                    make_cpf(500_000_000 + i),
                    f"cliente{i}@bench.example.com",
                    "",
                    f"Rua das Flores, {i % 2000}",
                    "Centro",
                    "Curitiba",
                    "PR",
                    "80020310",
                    now,
                    now,
                )
            )
    raw.execute("SELECT id FROM billing_customer ORDER BY id")
    customer_ids = [row[0] for row in raw.fetchall()]

    numbers: dict[int, int] = defaultdict(int)
    with raw.copy(
        "COPY schedules_schedule (merchant_id, number, customer_id, amount, frequency_months, "
        "first_due_date, lead_days, description, status, deactivation_cause, epoch, "
        "next_sequence, next_issue_on, created_at, updated_at) FROM STDIN"
    ) as copy:
        for merchant_id, customer_id in zip(owners, customer_ids, strict=True):
            numbers[merchant_id] += 1
            every = rng.choice(_FREQUENCIES)
            lead = rng.randint(5, 20)
            first, issue_on = _first_due_inside_lead_window(rng, args.today, every, lead)
            amount = Decimal(rng.randint(1_000, 250_000)) / 100
            copy.write_row(
                (
                    merchant_id,
                    numbers[merchant_id],
                    customer_id,
                    amount,
                    every,
                    first,
                    lead,
                    "Mensalidade",
                    "active",
                    "",
                    0,
                    1,
                    issue_on,
                    now,
                    now,
                )
            )
    for merchant_id, count in numbers.items():
        raw.execute(
            "UPDATE portal_merchant SET next_schedule_number = %s WHERE id = %s",
            (count + 1, merchant_id),
        )
    raw.execute(
        "CREATE TABLE bench_initial_cursor AS SELECT id, next_sequence, next_issue_on "
        "FROM schedules_schedule"
    )


# --- state reset between measurements -----------------------------------------------------------


def reset_state(*, restore_cursors: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_boleto CASCADE")
        if restore_cursors:
            cursor.execute(
                "UPDATE schedules_schedule s SET next_sequence = b.next_sequence, "
                "next_issue_on = b.next_issue_on FROM bench_initial_cursor b WHERE s.id = b.id"
            )
            # The UPDATE left one dead tuple per schedule: rewrite the table so every round
            # starts from the same physical state as round 1.
            cursor.execute("VACUUM FULL schedules_schedule")
        cursor.execute("VACUUM ANALYZE billing_boleto")
        cursor.execute("VACUUM ANALYZE schedules_schedule")
        cursor.execute("CHECKPOINT")


def flush_broker(url: str) -> None:
    redis_client(url).flushdb()


def queued_messages(url: str) -> int:
    return redis_client(url).llen(QUEUE)


# --- measurements -------------------------------------------------------------------------------


class SqlTimer:
    """Execute wrapper: wall time spent inside cursor.execute, by statement kind."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def __call__(self, execute, sql, params, many, context):
        kind = sql.lstrip().split(None, 1)[0].upper()
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[kind] += time.perf_counter() - start
            self.count[kind] += 1


def _generator_process(today, batch_size, results) -> None:
    """One forked generator process (a Celery worker process, in production)."""
    from django.db import connection

    from schedules.generator import installments_issue_due

    try:
        run = installments_issue_due(today=today, batch_size=batch_size)
        results.put((run.issued, run.skipped, run.schedules, run.batches))
    finally:
        connection.close()


def _run_parallel(args, batch_size: int):
    """``args.workers`` generators at once, each in its own process and connection; they split
    the due schedules between them with FOR UPDATE SKIP LOCKED. Wall time until the last ends."""
    import multiprocessing

    from django.db import connection

    from schedules.generator import IssueRun

    connection.close()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_generator_process, args=(args.today, batch_size, results))
        for _ in range(args.workers)
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    parts = [results.get() for _ in processes]
    for process in processes:
        process.join()
    seconds = time.perf_counter() - start
    if any(process.exitcode for process in processes):
        raise SystemExit("a generator process failed")
    run = IssueRun()
    for issued, skipped, schedules, batches in parts:
        run.issued += issued
        run.skipped += skipped
        run.schedules += schedules
        run.batches += batches
    return seconds, run


def time_generator(args, batch_size: int):
    from django.db import connection

    from billing.models import Boleto
    from schedules.generator import installments_issue_due

    flush_broker(args.broker_url)
    sql = SqlTimer()
    if args.workers > 1:
        seconds, run = _run_parallel(args, batch_size)
    else:
        with connection.execute_wrapper(sql):
            start = time.perf_counter()
            run = installments_issue_due(today=args.today, batch_size=batch_size)
            seconds = time.perf_counter() - start
    messages = queued_messages(args.broker_url)
    flush_broker(args.broker_url)
    total = Boleto.objects.count()
    if (run.issued, run.skipped, total) != (args.schedules, 0, args.schedules):
        raise SystemExit(f"unexpected run: {run} with {total} boletos (want {args.schedules})")
    return seconds, run, messages, sql


def boleto_columns() -> list[str]:
    """The columns the generator's INSERT writes (every concrete field but the id)."""
    from billing.models import Boleto

    return [f.column for f in Boleto._meta.concrete_fields if not f.primary_key]


def read_back_rows() -> list[tuple]:
    from django.db import connection

    columns = boleto_columns()
    json_at = [i for i, c in enumerate(columns) if c in ("payer", "beneficiary")]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM billing_boleto ORDER BY id")
        rows = cursor.fetchall()
    out = []
    for row in rows:
        row = list(row)
        for i in json_at:
            # Django's PostgreSQL backend loads jsonb as text already; keep that text as is.
            if not isinstance(row[i], str):
                row[i] = json.dumps(row[i])
        out.append(tuple(row))
    return out


def content_checksum() -> str:
    """md5 of every inserted column of every boleto (not the id): generator == baseline."""
    from django.db import connection

    columns = ", ".join(boleto_columns())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT md5(string_agg(ROW({columns})::text, '|' ORDER BY schedule_id, sequence)) "
            "FROM billing_boleto"
        )
        return cursor.fetchone()[0]


def time_baseline(rows: list[tuple], batch_size: int) -> float:
    from django.db import connection, transaction

    columns = boleto_columns()
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    head = f"INSERT INTO billing_boleto ({', '.join(columns)}) VALUES "
    start = time.perf_counter()
    for offset in range(0, len(rows), batch_size):
        chunk = rows[offset : offset + batch_size]
        params = [value for row in chunk for value in row]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(head + ", ".join([one] * len(chunk)), params)
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM billing_boleto")
        assert cursor.fetchone()[0] == len(rows)
    return seconds


def time_copy(rows: list[tuple], batch_size: int) -> float:
    """Reference floor: COPY ... FROM STDIN of the same rows, one COPY and transaction per batch."""
    from django.db import connection, transaction

    statement = f"COPY billing_boleto ({', '.join(boleto_columns())}) FROM STDIN"
    start = time.perf_counter()
    for offset in range(0, len(rows), batch_size):
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(statement) as copy:
                for row in rows[offset : offset + batch_size]:
                    copy.write_row(row)
    return time.perf_counter() - start


def profile_generator(args, batch_size: int) -> None:
    import cProfile
    import pstats

    from schedules.generator import installments_issue_due

    reset_state(restore_cursors=True)
    flush_broker(args.broker_url)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    installments_issue_due(today=args.today, batch_size=batch_size)
    profiler.disable()
    seconds = time.perf_counter() - start
    flush_broker(args.broker_url)
    print(f"\n## cProfile of one generator run ({seconds:.2f} s under the profiler)\n")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)
    if args.profile != "-":
        stats.dump_stats(args.profile)
        print(f"stats written to {args.profile}")


# --- report -------------------------------------------------------------------------------------


def summarise(values: list[float]) -> tuple[float, float]:
    return max(values), statistics.median(values)


def main() -> None:
    args = parse_args()
    configure_environment(args)
    print(f"recreating {urlsplit(args.db_url).path.lstrip('/')} ...", flush=True)
    recreate_database(args.db_url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    batch_size = args.batch_size or settings.GENERATOR_BATCH_SIZE
    try:
        call_command("migrate", interactive=False, verbosity=0)
        start = time.perf_counter()
        build_data_set(args)
        print(
            f"data set: {args.merchants} merchants, {args.schedules:,} customers and schedules "
            f"({time.perf_counter() - start:.1f} s, not timed)",
            flush=True,
        )

        gen_rates, base_rates, copy_rates, ratios = [], [], [], []
        baseline_rows = None
        last_sql = last_run = None
        messages = 0
        for round_no in range(1, args.rounds + 1):
            reset_state(restore_cursors=True)
            seconds, run, messages, sql = time_generator(args, batch_size)
            if baseline_rows is None:
                baseline_rows = read_back_rows()
                checksum = content_checksum()
            reset_state(restore_cursors=False)
            base_seconds = time_baseline(baseline_rows, batch_size)
            if content_checksum() != checksum:
                raise SystemExit("the baseline did not insert the same rows as the generator")
            reset_state(restore_cursors=False)
            copy_seconds = time_copy(baseline_rows, batch_size)
            if content_checksum() != checksum:
                raise SystemExit("COPY did not insert the same rows as the generator")
            copy_rates.append(len(baseline_rows) / copy_seconds)
            gen_rate = run.issued / seconds
            base_rate = len(baseline_rows) / base_seconds
            gen_rates.append(gen_rate)
            base_rates.append(base_rate)
            ratios.append(gen_rate / base_rate)
            last_sql, last_run = sql, run
            print(
                f"round {round_no}: generator {seconds:.2f} s = {gen_rate:,.0f}/s "
                f"({run.batches} batches, {messages} hand-off messages); "
                f"baseline {base_seconds:.2f} s = {base_rate:,.0f}/s; "
                f"ratio {gen_rate / base_rate:.2f}; "
                f"COPY {copy_seconds:.2f} s = {copy_rates[-1]:,.0f}/s",
                flush=True,
            )

        print("\n## Machine\n")
        info = machine_info(
            db_url=args.db_url, broker_url=args.broker_url, packages=("django", "psycopg", "celery")
        )
        for key, value in info:
            print(f"- {key}: {value}")

        gen_best, gen_median = summarise(gen_rates)
        base_best, base_median = summarise(base_rates)
        ratio_best, ratio_median = summarise(ratios)
        print(
            f"\n## Results ({args.schedules:,} schedules, {args.merchants} merchants, "
            f"batch size {batch_size}, {args.workers} generator process(es), "
            f"{args.rounds} rounds)\n"
        )
        print("| measurement | best | median | target |")
        print("|---|---:|---:|---:|")
        print(
            f"| generator, end to end (installments/s) | {gen_best:,.0f} | {gen_median:,.0f} "
            f"| ≥ {TARGET_RATE:,} |"
        )
        print(f"| baseline multi-row INSERT (rows/s) | {base_best:,.0f} | {base_median:,.0f} | |")
        copy_best, copy_median = summarise(copy_rates)
        print(
            f"| reference: COPY of the same rows (rows/s) | {copy_best:,.0f} "
            f"| {copy_median:,.0f} | |"
        )
        print(
            f"| ratio generator / baseline (same round) | {ratio_best:.2f} | {ratio_median:.2f} "
            f"| ≥ {TARGET_RATIO} |"
        )
        print(
            f"\nhand-off messages published per run: {messages:,} "
            f"({last_run.batches} batches x merchants present in each batch)"
        )
        total = args.schedules / gen_rates[-1]
        print(
            f"\nlast generator round: {total:.2f} s wall, of which inside Django's "
            "cursor.execute (client-side binding + server; COPY is not seen here):"
        )
        if args.workers > 1:
            print("  (not broken down with --workers > 1)")
        for kind, secs in sorted(last_sql.seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {kind:<8} {last_sql.count[kind]:>4} statements  {secs:6.2f} s")
        if args.workers == 1:
            other = total - sum(last_sql.seconds.values())
            print(f"  Python, driver adaptation and hand-off outside execute: {other:.2f} s")
        met = gen_median >= TARGET_RATE and ratio_median >= TARGET_RATIO
        print(f"\ntarget {'MET' if met else 'NOT met'} (on the medians)")

        if args.profile:
            profile_generator(args, batch_size)
    finally:
        flush_broker(args.broker_url)
        if args.keep_db:
            print(f"\nkept {args.db_url}")
        else:
            drop_database(args.db_url)


if __name__ == "__main__":
    main()
