#!/usr/bin/env python
"""Benchmark of the Agendamentos Desativados page on PostgreSQL (issue #5). Run by hand, not a test.

    .venv/bin/python bench/lists.py               # 200,000 schedules, 100 merchants, 200 requests
    .venv/bin/python bench/lists.py --explain        # + EXPLAIN (ANALYZE, BUFFERS) of every query
    .venv/bin/python bench/lists.py --help

What it does:

1. (Re)creates a dedicated database (default ``portal_bench_lists``, dropped at the end unless
   ``--keep-db``), runs the migrations and loads with COPY (not timed): ``--merchants``
   merchants, one of them ("the big one") with ``--big`` schedules and the others sharing the
   rest; one customer per schedule, with Brazilian names (accents included) and emails; about
   ``--deactivated`` of the schedules deactivated (cause and time spread over a year) and
   ``--cancelled`` cancelled, the rest active; 1–4 boletos per schedule, the last one of a
   deactivated schedule not delivered. Rows are interleaved between merchants as real sign-ups
   are. Then VACUUM ANALYZE.
2. Logs in the big merchant's owner (a real session) and requests the list pages through the
   whole Django stack with ``django.test.Client`` (middleware, session, tenancy, view, selectors,
   templates; no network): each case ``--warmup`` times, then ``--requests`` times, timing each
   request and counting its SQL queries (an execute wrapper).
3. Prints the machine, then p50 / p95 / max server time and queries per request for each case,
   against the target (p95 ≤ 30 ms, ≤ 10 queries per page).

Cases (big merchant; the number searches pick a different deactivated schedule each request):
first page; a deep page (``--deep`` pages from the end); search by number (the jump: a redirect);
the same number typed with htmx (results fragment); filter by cause (page 1 and a deep page);
and, for information, a search by name, a period, and the Ativos tab's first and deep pages.
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
import unicodedata
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

from bench._common import drop_database, load_average, machine_info, recreate_database

TARGET_P95_MS = 30.0
TARGET_QUERIES = 10

FIRST_NAMES = (
    "João", "José", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luíz", "Marcos",
    "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo",
    "Rodrigo", "Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
    "Patrícia", "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia",
    "Luciana", "Vanessa", "Mariana", "Conceição", "Cecília", "Inês", "Sebastião", "Mônica",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
    "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira",
    "Araújo", "Conceição", "Simões", "Magalhães", "Brandão", "Assunção", "Bezerra", "Galvão",
)  # fmt: skip
DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "bol.com.br")
CAUSES = (
    ("invalid_address", 40),
    ("mailbox_full", 20),
    ("server_unavailable", 10),
    ("spam_complaint", 10),
    ("unsubscribed", 8),
    ("provider_blocked", 7),
    ("other", 5),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=200_000)
    parser.add_argument("--merchants", type=int, default=100)
    parser.add_argument("--big", type=int, default=100_000, help="schedules of the big merchant")
    parser.add_argument("--deactivated", type=float, default=0.15, help="share deactivated")
    parser.add_argument("--cancelled", type=float, default=0.05, help="share cancelled")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per case")
    parser.add_argument("--rounds", type=int, default=4, help="rounds interleaving the cases")
    parser.add_argument("--deep", type=int, default=10, help="deep page: this many from the end")
    parser.add_argument(
        "--db-url",
        default="postgres://postgres@127.0.0.1:5432/portal_bench_lists",
        help="a DEDICATED database: it is dropped and recreated",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the database a --keep-db run left (no reload; migrations are applied)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) each case's queries"
    )
    parser.add_argument("--only", default="", help="comma-separated case names to run")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if "bench" not in urlsplit(args.db_url).path:
        parser.error("--db-url must name a dedicated database with 'bench' in its name")
    if args.big >= args.schedules:
        parser.error("--big must be smaller than --schedules")
    return args


def configure_environment(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    os.environ["DATABASE_URL"] = args.db_url
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would keep every SQL statement in memory
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["LOG_LEVEL"] = "WARNING"


# --- database lifecycle -------------------------------------------------------------------------


# --- data set (not timed) -----------------------------------------------------------------------


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class CopyLoader:
    """COPY rows given as {column: value} into a model's table; columns left out take the
    field's default (so a field added to the model later does not break the benchmark)."""

    def __init__(self, model, now):
        from django.db.models import JSONField

        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            if f.column in ("created_at", "updated_at"):
                value = now
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.empty_strings_allowed:
                value = ""
            else:
                value = _REQUIRED
            if isinstance(f, JSONField) and value is not _REQUIRED:
                value = json.dumps(value)
            self.defaults[f.column] = value
        self.json_columns = {f.column for f in self.fields if isinstance(f, JSONField)}

    def copy(self, rows) -> int:
        from django.db import connection

        raw = connection.cursor().cursor
        count = 0
        statement = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
        with raw.copy(statement) as copy:
            for row in rows:
                values = []
                for column in self.columns:
                    if column in row:
                        value = row[column]
                        if column in self.json_columns:
                            value = json.dumps(value)
                    else:
                        value = self.defaults[column]
                        if value is _REQUIRED:
                            raise SystemExit(f"{self.table}.{column} has no value nor default")
                    values.append(value)
                copy.write_row(values)
                count += 1
        return count


_REQUIRED = object()


def build_data_set(args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from bench.generator import create_merchants
    from billing.models import Boleto, Customer
    from portal.models import Membership
    from schedules.models import Schedule
    from tests.factories import make_cpf

    rng = random.Random(args.seed)
    now = timezone.now()
    merchant_ids = [m.pk for m in create_merchants(args.merchants, cnpj_base=41_000_000)]
    big, small = merchant_ids[0], merchant_ids[1]
    users = {}
    for label, merchant_id in (("big", big), ("small", small)):
        user = get_user_model().objects.create_user(
            username=f"owner-{label}", email=f"owner-{label}@bench.example.com", password="x"
        )
        Membership.objects.create(user=user, merchant_id=merchant_id, role="owner")
        users[label] = user

    rest = args.schedules - args.big
    owners = [big] * args.big + [merchant_ids[1 + i % (len(merchant_ids) - 1)] for i in range(rest)]
    rng.shuffle(owners)

    customers = []
    for i in range(args.schedules):
        first, last1, last2 = (
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            rng.choice(LAST_NAMES),
        )
        name = f"{first} {last1} {last2}"
        email = f"{_plain(first)}.{_plain(last2)}{i}@{rng.choice(DOMAINS)}"
        customers.append((name, email))
    CopyLoader(Customer, now).copy(
        {
            "merchant_id": merchant_id,
            "name": customers[i][0],
            "document": make_cpf(600_000_000 + i),
            "email": customers[i][1],
            "phone": "",
            "address_street": f"Rua das Flores, {i % 2000}",
            "address_district": "Centro",
            "address_city": "Curitiba",
            "address_state": "PR",
            "address_zip": "80020310",
        }
        for i, merchant_id in enumerate(owners)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM billing_customer ORDER BY id")
        customer_ids = [row[0] for row in cursor.fetchall()]

    cause_values = [c for c, _ in CAUSES]
    cause_weights = [w for _, w in CAUSES]
    numbers: dict[int, int] = defaultdict(int)
    plan = []  # (merchant_id, number, status, amount)

    def schedule_rows():
        for merchant_id, customer_id in zip(owners, customer_ids, strict=True):
            numbers[merchant_id] += 1
            draw = rng.random()
            status = (
                "deactivated"
                if draw < args.deactivated
                else "cancelled"
                if draw < args.deactivated + args.cancelled
                else "active"
            )
            amount = Decimal(rng.randint(1_000, 250_000)) / 100
            first_due = date(2025, 1, 5) + timedelta(days=rng.randint(0, 400))
            row = {
                "merchant_id": merchant_id,
                "number": numbers[merchant_id],
                "customer_id": customer_id,
                "amount": amount,
                "frequency_months": rng.choice((1, 1, 1, 1, 3, 6, 12)),
                "first_due_date": first_due,
                "lead_days": 10,
                "description": "Mensalidade",
                "status": status,
                "deactivation_cause": "",
                "epoch": 0,
                "next_sequence": 5,
                "next_issue_on": first_due + timedelta(days=120),
            }
            if status == "deactivated":
                row["deactivation_cause"] = rng.choices(cause_values, cause_weights)[0]
                row["deactivated_at"] = now - timedelta(seconds=rng.randint(0, 365 * 86400))
            elif status == "cancelled":
                row["cancelled_at"] = now - timedelta(seconds=rng.randint(0, 365 * 86400))
            plan.append((merchant_id, numbers[merchant_id], status, amount, first_due))
            yield row

    CopyLoader(Schedule, now).copy(schedule_rows())
    with connection.cursor() as cursor:
        for merchant_id, count in numbers.items():
            cursor.execute(
                "UPDATE portal_merchant SET next_schedule_number = %s WHERE id = %s",
                (count + 1, merchant_id),
            )
        cursor.execute("SELECT id FROM schedules_schedule ORDER BY id")
        schedule_ids = [row[0] for row in cursor.fetchall()]

    def boleto_rows():
        for schedule_id, (merchant_id, _n, status, amount, first_due) in zip(
            schedule_ids, plan, strict=True
        ):
            installments = rng.randint(1, 4)
            for sequence in range(1, installments + 1):
                last = sequence == installments
                delivery = "undelivered" if status == "deactivated" and last else "delivered"
                due = first_due + timedelta(days=30 * (sequence - 1))
                yield {
                    "merchant_id": merchant_id,
                    "schedule_id": schedule_id,
                    "sequence": sequence,
                    "due_date": due,
                    "amount": amount,
                    "status": "issued",
                    "delivery_status": delivery,
                    "issued_at": datetime.combine(due - timedelta(days=10), day_time(), UTC),
                    "payer": {"name": "bench"},
                    "barcode": "3" * 44,
                    "linha_digitavel": "3" * 47,
                }

    boletos = CopyLoader(Boleto, now).copy(boleto_rows())
    with connection.cursor() as cursor:
        for table in ("billing_customer", "schedules_schedule", "billing_boleto"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"users": users, "big": big, "small": small, "boletos": boletos}


# --- measurements -------------------------------------------------------------------------------


class QueryLog:
    """Execute wrapper: counts the queries of a request, times them, keeps the last ones."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1
            self.statements.append((sql, params))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_cases(args, merchant_id: int) -> list[tuple[str, object, dict, int]]:
    """(name, url or url factory, headers, expected status)."""
    from django.urls import reverse

    from schedules.models import Schedule

    rng = random.Random(args.seed + 1)
    base = reverse("schedules:list")
    mine = Schedule.objects.filter(merchant_id=merchant_id)
    deactivated = mine.filter(status="deactivated")
    total = deactivated.count()
    per_page = 25
    pages = -(-total // per_page)
    numbers = list(deactivated.values_list("number", flat=True))
    by_cause = deactivated.filter(deactivation_cause="mailbox_full").count()
    cause_pages = -(-by_cause // per_page)
    active_pages = -(-mine.filter(status="active").count() // per_page)

    def url(**params):
        return f"{base}?{urlencode(params)}"

    def number_jump():
        return url(status="deactivated", q=str(rng.choice(numbers)))

    def number_typed():
        return url(status="deactivated", q=str(rng.choice(numbers)), digitando="1")

    htmx = {"HX-Request": "true"}
    deep = max(1, pages - args.deep)
    return [
        ("first page", url(status="deactivated"), {}, 200),
        (f"deep page ({deep} of {pages})", url(status="deactivated", page=deep), {}, 200),
        ("search by number (jump, 302)", number_jump, {}, 302),
        ("number typed (htmx fragment)", number_typed, htmx, 200),
        ("filter by cause, page 1", url(status="deactivated", causa="mailbox_full"), {}, 200),
        (
            f"filter by cause, deep page ({max(1, cause_pages - 2)} of {cause_pages})",
            url(status="deactivated", causa="mailbox_full", page=max(1, cause_pages - 2)),
            {},
            200,
        ),
        ("info: search by name 'conceicao'", url(status="deactivated", q="conceicao"), {}, 200),
        ("info: search by email piece", url(status="deactivated", q="silva12"), {}, 200),
        (
            "info: period (last 30 days)",
            url(
                status="deactivated",
                de=(date.today() - timedelta(days=30)).strftime("%d/%m/%Y"),
                ate=date.today().strftime("%d/%m/%Y"),
            ),
            {},
            200,
        ),
        ("info: Ativos, first page", url(status="active"), {}, 200),
        (
            f"info: Ativos, deep page ({active_pages - args.deep} of {active_pages})",
            url(status="active", page=max(1, active_pages - args.deep)),
            {},
            200,
        ),
    ]


class Samples:
    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.sql: list[float] = []
        self.queries: list[int] = []


def run_case(client, log, target, headers, expected, samples, *, warmup: int, requests: int):
    """``requests`` timed requests (after ``warmup`` untimed ones): wall time, this process's
    CPU time (the web process's own work, less sensitive to other jobs on the machine), time
    inside SQL calls (client side: includes waiting for PostgreSQL) and queries."""
    from django.db import connection

    with connection.execute_wrapper(log):
        for i in range(warmup + requests):
            path = target() if callable(target) else target
            log.reset()
            cpu = time.process_time()
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu
            if response.status_code != expected:
                raise SystemExit(f"{path}: status {response.status_code}, expected {expected}")
            if i >= warmup:
                samples.wall.append(elapsed * 1000)
                samples.cpu.append(cpu * 1000)
                samples.queries.append(log.count)
                samples.sql.append(log.seconds * 1000)


def time_csv_export(client, log, runs: int = 3) -> list[tuple[float, int, int]]:
    """The whole Desativados tab as CSV, consumed to the last byte."""
    from django.db import connection
    from django.urls import reverse

    url = reverse("schedules:export") + "?status=deactivated"
    out = []
    with connection.execute_wrapper(log):
        for _ in range(runs):
            log.reset()
            start = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content)
            out.append((time.perf_counter() - start, body.count(b"\n"), log.count))
    return out


def explain(statements) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("    " + sql[:300] + ("…" if len(sql) > 300 else ""))
            for (line,) in cursor.fetchall():
                print("      " + line)
            print()


# --- report -------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    configure_environment(args)
    name = urlsplit(args.db_url).path.lstrip("/")
    if not args.reuse_db:
        print(f"recreating {name} ...", flush=True)
        recreate_database(args.db_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    try:
        call_command("migrate", interactive=False, verbosity=0)
        if args.reuse_db:
            from django.contrib.auth import get_user_model

            from portal.models import Membership

            user = get_user_model().objects.get(username="owner-big")
            data = {"users": {"big": user}, "big": Membership.objects.get(user=user).merchant_id}
        else:
            start = time.perf_counter()
            data = build_data_set(args)
            print(
                f"data set: {args.merchants} merchants, {args.schedules:,} customers and "
                f"schedules (big merchant: {args.big:,}), {data['boletos']:,} boletos "
                f"({time.perf_counter() - start:.1f} s, not timed)",
                flush=True,
            )
        info = machine_info(db_url=args.db_url)
        client = Client()
        client.force_login(data["users"]["big"])
        log = QueryLog()
        only = {s.strip() for s in args.only.split(",") if s.strip()}
        cases = [
            case
            for case in build_cases(args, data["big"])
            if not only or any(o in case[0] for o in only)
        ]
        samples = {case[0]: Samples() for case in cases}
        # Rounds interleave the cases, so a burst of load from elsewhere hits them all alike.
        per_round = -(-args.requests // args.rounds)
        for round_no in range(args.rounds):
            for case, target, headers, expected in cases:
                run_case(
                    client,
                    log,
                    target,
                    headers,
                    expected,
                    samples[case],
                    warmup=args.warmup if round_no == 0 else 0,
                    requests=per_round,
                )
            print(f"round {round_no + 1}/{args.rounds} done", flush=True)
        results = []
        for case, target, headers, expected in cases:
            got = samples[case]
            results.append(
                (
                    case,
                    statistics.median(got.wall),
                    percentile(got.wall, 0.95),
                    max(got.wall),
                    statistics.median(got.cpu),
                    statistics.median(got.sql),
                    min(got.queries),
                    max(got.queries),
                )
            )
            if args.explain:
                print(f"\n### {case}")
                run_case(client, log, target, headers, expected, Samples(), warmup=0, requests=1)
                explain(list(log.statements))
        csv_runs = []
        if not only or any("csv" in o for o in only):
            csv_runs = time_csv_export(client, log)
        load_end = load_average()

        print("\n## Machine\n")
        for key, value in info:
            print(f"- {key}: {value}")
        print(f"- load average (1/5/15 min) at end: {load_end}")
        print(
            f"\n## Agendamentos Desativados, big merchant ({args.big:,} schedules of "
            f"{args.schedules:,}; {args.requests} timed requests per case after "
            f"{args.warmup} warm-up)\n"
        )
        print("| case | p50 ms | p95 ms | max ms | CPU p50 ms | SQL p50 ms | queries |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for case, p50, p95, worst, cpu, sql, qmin, qmax in results:
            queries = str(qmin) if qmin == qmax else f"{qmin}–{qmax}"
            print(
                f"| {case} | {p50:.1f} | {p95:.1f} | {worst:.1f} | {cpu:.1f} | {sql:.1f} "
                f"| {queries} |"
            )
        for seconds, lines, queries in csv_runs:
            print(
                f"\nCSV export of the whole Desativados tab: {lines - 1:,} rows in {seconds:.2f} s "
                f"({(lines - 1) / seconds:,.0f} rows/s, {queries} queries, streamed)"
            )
        targeted = [r for r in results if not r[0].startswith("info:")]
        met = all(r[2] <= TARGET_P95_MS and r[7] <= TARGET_QUERIES for r in targeted)
        print(
            f"\nTarget p95 ≤ {TARGET_P95_MS:.0f} ms and ≤ {TARGET_QUERIES} queries per page "
            f"(cases not marked info): {'met' if met else 'NOT met'}"
        )
    finally:
        if args.keep_db:
            print(f"\nkept database {name}")
        else:
            drop_database(args.db_url)
            print(f"\ndropped database {name}")


if __name__ == "__main__":
    main()
