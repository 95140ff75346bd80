#!/usr/bin/env python
# ruff: noqa: E501  (long report strings in a hand-run benchmark)
"""Benchmark of the email pipeline on PostgreSQL + Redis + a real Celery worker (issue #6). Run by hand.

    .venv/bin/python bench/email_pipeline.py                 # 2,000 boletos, 20 merchants, 3 rounds
    .venv/bin/python bench/email_pipeline.py --boletos 200 --rounds 1 --breakdown 50   # quick
    .venv/bin/python bench/email_pipeline.py --help

What it does:

1. (Re)creates a dedicated database (default ``portal_bench_email``, dropped at the end unless
   ``--keep-db``), migrates it and loads ``--merchants`` merchants (the four banks in turn, each
   with a Pix key unless ``--pix-share`` says otherwise) and ``--boletos`` customers and active
   schedules, each due for its first installment (``bench/generator.py``'s data set, COPY, not
   timed). The real generator, ``schedules.generator.installments_issue_due``, issues one
   boleto per schedule (not timed); its hand-off message is discarded, so every boleto is
   ``pending``; each is then marked registered, as the test bank answers (delivery takes
   registered boletos only). The broker is a dedicated Redis database (default ``redis://127.0.0.1:6379/15``:
   it must be empty at start; flushed before and after).
2. Starts a real Celery worker, ``celery -A portal worker --concurrency 2 --pool prefork``, with
   ``bench/email_settings.py`` (anymail's test backend as EMAIL_BACKEND: the ESP's HTTP API is
   the only thing not run; MEDIA_ROOT in a temporary folder), and waits until it is ready.
3. Warm-up (not timed): ``--warmup`` boletos through the whole pipeline (each worker process
   lays out its banks' PDF skeletons once), then the state is reset.
4. Each round, from the same state (OutboundEmail truncated, every boleto back to ``pending``
   with no stored PDF, the PDF files removed, VACUUM ANALYZE, CHECKPOINT): publishes the
   hand-off for all boletos at once, as the generator does after a batch commits
   (``notifications.delivery.delivery_hand_off_on_commit``: one message), and polls the
   database until every boleto is ``sent``. The worker runs the real pipeline: the hand-off task
   marks the boletos ``queued`` and publishes one ``boleto_send_task`` per boleto; each send
   locks the boleto, renders its PDF with WeasyPrint and stores it, builds the pt-BR email (HTML
   + text, PDF attached), sends it through anymail and records the OutboundEmail. Reported:
   boletos/s (best and median of the rounds), the worker's CPU use and the machine's (both
   cores, everything on them: PostgreSQL, Redis, other people's jobs), the task run times from
   the worker's log.
5. Checks after every round: each boleto sent exactly once (one OutboundEmail, attempt 1,
   status ``sent``, esp ``Test``), each stored PDF starting with ``%PDF``, no error in the
   worker's log, nothing left in the queue.
6. Breakdown (worker stopped): one process hands off ``--breakdown`` boletos (timed: the UPDATE
   and one publish per boleto), then runs ``notifications.sending.boleto_send`` for each in a
   loop, with timers around the PDF render (``billing.pdf.render_boleto_pdf``), storing the file
   (the storage's ``save``), building the email (``notifications.sending._message``), the
   backend send (``EmailMessage.send``: anymail's payload and the test backend), every SQL
   statement and commit (an execute wrapper) and the connection's connect/close; also the
   statements of one send. Two modes in alternating blocks of 10 sends: as in the worker (the
   connection closed before and after each send, which Celery's Django fixup does around every
   task unless CELERY_DB_REUSE_MAX is set: a new PostgreSQL connection per boleto) and with the
   connection kept.

``--db-reuse-max N`` (a what-if, not the product's configuration): the worker runs with
CELERY_DB_REUSE_MAX = N (``bench/email_settings.py``), so its processes keep their connection.
"""

# ruff: noqa: E402  (the standard-library imports must come after the sys.path fix below)
from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where other benchmarks' modules
# (bench/numbers.py, ...) would shadow the standard library: import from the project root only.
_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_BENCH_DIR)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR]
sys.path.insert(0, ROOT)

import argparse
import functools
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from argparse import Namespace
from collections import defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from bench._common import (
    drop_database,
    load_average,
    machine_info,
    pdf_stack,
    postgres_show,
    recreate_database,
    redis_client,
)

QUEUE = "celery"  # Celery's default queue
SETTINGS = "bench.email_settings"
SEND_TASK = "notifications.tasks.boleto_send_task"
HAND_OFF_TASK = "notifications.tasks.delivery_hand_off_batch_task"
_TASK_DONE = re.compile(r"Task (\S+)\[[^\]]+\] succeeded in ([0-9.eE+-]+)s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boletos", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--pool", choices=["prefork", "solo"], default="prefork")
    parser.add_argument(
        "--db-reuse-max",
        type=int,
        default=None,
        help="what-if: CELERY_DB_REUSE_MAX for the worker (Celery's Django fixup then keeps the "
        "connection across tasks); default unset, as in the product",
    )
    parser.add_argument("--worker-loglevel", default="INFO", help="the worker's log level (INFO)")
    parser.add_argument(
        "--pix-share",
        type=float,
        default=1.0,
        help="share of merchants with a Pix key (their boletos carry a Pix QR); default 1.0",
    )
    parser.add_argument("--warmup", type=int, default=40, help="boletos sent before round 1")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=200,
        help="boletos in the single-process breakdown (0: skip)",
    )
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 3, 10))
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between DB polls")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per round at most")
    parser.add_argument(
        "--db-url",
        default="postgres://postgres@127.0.0.1:5432/portal_bench_email",
        help="a DEDICATED database: it is dropped and recreated",
    )
    parser.add_argument(
        "--broker-url",
        default="redis://127.0.0.1:6379/15",
        help="a DEDICATED Redis database (must be empty at start): it is flushed",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument(
        "--keep-files", action="store_true", help="keep the temporary folder (PDFs, worker log)"
    )
    args = parser.parse_args()
    if "bench" not in urlsplit(args.db_url).path:
        parser.error("--db-url must name a dedicated database with 'bench' in its name")
    if urlsplit(args.broker_url).path.strip("/") in ("", "0"):
        parser.error("--broker-url must name a dedicated Redis database (not 0)")
    if args.warmup + args.breakdown > args.boletos:
        parser.error("--warmup + --breakdown must not exceed --boletos")
    return args


def configure_environment(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """The environment of this process and of the worker (which adds LOG_LEVEL=INFO)."""
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": args.db_url,
        "CELERY_BROKER_URL": args.broker_url,
        "REDIS_URL": args.broker_url,  # the inbox kick and coordination flags: not db 0
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BENCH_MEDIA_ROOT": str(tmp / "media"),
        "PYTHONPATH": ROOT,
    }
    if args.db_reuse_max:
        env["BENCH_CELERY_DB_REUSE_MAX"] = str(args.db_reuse_max)
    os.environ.update(env)
    # This process: WARNING (the breakdown's 200 sends would print a line each). The worker logs
    # at INFO, as in production (one event=boleto_sent line and Celery's two lines per task).
    os.environ["LOG_LEVEL"] = "WARNING"
    return env


# --- state --------------------------------------------------------------------------------------


def build(args: argparse.Namespace) -> dict[int, list[int]]:
    """Data set, then the real generator issues one boleto per schedule (not timed)."""
    from django.db import connection

    from bench.generator import build_data_set
    from billing.models import Boleto
    from schedules.generator import installments_issue_due

    build_data_set(
        Namespace(
            merchants=args.merchants, schedules=args.boletos, seed=args.seed, today=args.today
        )
    )
    with_pix = round(args.merchants * args.pix_share)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE portal_merchant SET pix_key = 'financeiro' || id || '@bench.example.com' "
            "WHERE id IN (SELECT id FROM portal_merchant ORDER BY id LIMIT %s)",
            [with_pix],
        )
        cursor.execute("DROP TABLE IF EXISTS bench_initial_cursor")
    run = installments_issue_due(today=args.today)
    redis_client(args.broker_url).flushdb()  # the generator's hand-off: published again per round
    # Delivery takes registered boletos only (issue #12): registered as the test bank would
    # answer, so the rounds measure the email pipeline, not the registration step.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_boleto SET registration_status = 'registered', registered_at = now()"
        )
    boletos = list(Boleto.objects.order_by("pk").values_list("merchant_id", "pk", "pix_payload"))
    if run.issued != args.boletos or len(boletos) != args.boletos:
        raise SystemExit(f"the generator issued {run.issued} boletos, want {args.boletos}")
    if any(
        status != "pending" for status in Boleto.objects.values_list("delivery_status", flat=True)
    ):
        raise SystemExit("issued boletos are not all pending")
    by_merchant: dict[int, list[int]] = defaultdict(list)
    for merchant_id, pk, _pix in boletos:
        by_merchant[merchant_id].append(pk)
    pix = sum(1 for *_, payload in boletos if payload)
    print(
        f"data set: {args.merchants} merchants ({with_pix} with a Pix key), {len(boletos):,} "
        f"boletos issued by installments_issue_due ({pix:,} with a Pix QR)",
        flush=True,
    )
    return dict(by_merchant)


def reset_state(media_root: Path) -> None:
    """Every boleto back to pending, nothing sent, no stored PDF."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_outboundemail CASCADE")
        cursor.execute(
            "UPDATE billing_boleto SET delivery_status = 'pending', handed_off_at = NULL, pdf = '' "
            "WHERE status = 'issued'"
        )
        cursor.execute("VACUUM FULL billing_boleto")  # same physical state every round
        cursor.execute("VACUUM ANALYZE billing_boleto")
        cursor.execute("VACUUM ANALYZE notifications_outboundemail")
        cursor.execute("CHECKPOINT")
    shutil.rmtree(media_root / "boletos", ignore_errors=True)


def subset(by_merchant: dict[int, list[int]], ids: set[int]) -> dict[int, list[int]]:
    out = {m: [pk for pk in pks if pk in ids] for m, pks in by_merchant.items()}
    return {m: pks for m, pks in out.items() if pks}


def delivery_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT delivery_status, count(*) FROM billing_boleto GROUP BY 1")
        return dict(cursor.fetchall())


def check_sent(ids: set[int], media_root: Path) -> list[str]:
    """Each of ``ids`` sent exactly once, PDF stored; returns the problems found."""
    from billing.models import Boleto
    from notifications.models import OutboundEmail

    problems = []
    rows = list(
        OutboundEmail.objects.values_list("boleto_id", "attempt", "send_status", "esp_name")
    )
    per_boleto: dict[int, int] = defaultdict(int)
    for boleto_id, attempt, status, esp in rows:
        per_boleto[boleto_id] += 1
        if (attempt, status, esp) != (1, "sent", "Test"):
            problems.append(f"boleto {boleto_id}: attempt {attempt}, status {status}, esp {esp!r}")
    if set(per_boleto) != ids:
        problems.append(
            f"OutboundEmail for {len(set(per_boleto) & ids)} of {len(ids)} boletos, "
            f"{len(set(per_boleto) - ids)} unexpected"
        )
    twice = [pk for pk, n in per_boleto.items() if n != 1]
    if twice:
        problems.append(f"{len(twice)} boletos with more than one OutboundEmail: {twice[:10]}")
    bad_pdf = 0
    names = set()
    for pk, status, name in Boleto.objects.filter(pk__in=ids).values_list(
        "pk", "delivery_status", "pdf"
    ):
        if status != "sent":
            problems.append(f"boleto {pk} is {status}")
        path = media_root / name if name else None
        if path is None or not path.is_file():
            bad_pdf += 1
            continue
        with path.open("rb") as stored:
            if stored.read(5) != b"%PDF-":
                bad_pdf += 1
        names.add(name)
    if bad_pdf:
        problems.append(f"{bad_pdf} boletos without a stored PDF starting with %PDF-")
    if len(names) != len(ids) - bad_pdf:
        problems.append("two boletos share a PDF file")
    files = (
        list((media_root / "boletos").rglob("*.pdf")) if (media_root / "boletos").exists() else []
    )
    if len(files) != len(ids):
        problems.append(f"{len(files)} PDF files on disk for {len(ids)} boletos")
    return problems


# --- the worker ---------------------------------------------------------------------------------


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def worker_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of the worker's main process and of its pool processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = 0
    for p in _children(pid):
        try:
            children += _cpu_ticks(p)
        except OSError:
            pass
    return _cpu_ticks(pid) / ticks, children / ticks


def worker_rss_mb(pid: int) -> float:
    """Resident memory of the worker and its processes (MB)."""
    total_kb = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def postgres_cpu_seconds(dbname: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` (live ones read from /proc) plus
    every backend reaped by the postmaster (its children's CPU): a delta over a round counts the
    round's backends, short-lived ones included; backends of other databases that exit during
    the round count too (an upper bound)."""
    from django.db import connection

    ticks = os.sysconf("SC_CLK_TCK")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [dbname])
        pids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    postmaster = int(Path(f"/proc/{own}/stat").read_text().rsplit(")", 1)[1].split()[1])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    total = int(fields[13]) + int(fields[14])  # cutime + cstime: reaped backends
    for pid in pids:
        try:
            total += _cpu_ticks(pid)
        except OSError:
            pass
    return total / ticks


class Worker:
    def __init__(self, args, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "portal",
                "worker",
                "--concurrency",
                str(args.concurrency),
                "--pool",
                args.pool,
                "--loglevel",
                args.worker_loglevel,
                "-n",
                f"bench-email-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env={**os.environ, **env, "LOG_LEVEL": args.worker_loglevel},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped by its id, nothing else
        )
        self.offset = 0

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the worker exited ({self.proc.returncode}); see {self.log_path}")
            if " ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise SystemExit(f"the worker was not ready after {timeout} s; see {self.log_path}")

    def new_log(self) -> str:
        text = self.log_path.read_text(errors="replace")
        new, self.offset = text[self.offset :], len(text)
        return new

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our worker's own group only
                self.proc.wait()
        self.log.close()


def log_problems(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if (" ERROR" in line or " CRITICAL" in line or "Traceback" in line or "WARNING/" in line)
        and "event=boleto_sent" not in line
    ]


def task_times(text: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for name, seconds in _TASK_DONE.findall(text):
        times[name].append(float(seconds))
    return times


def hand_off(by_merchant: dict[int, list[int]]) -> None:
    """What the generator does after a batch commits: one message for the whole batch."""
    from notifications.delivery import delivery_hand_off_on_commit

    delivery_hand_off_on_commit(by_merchant)  # outside a transaction: published now


def wait_all_sent(total: int, start: float, args) -> dict[str, float]:
    """Poll until ``total`` boletos are sent; seconds since ``start`` of the milestones."""
    marks: dict[str, float] = {}
    deadline = start + args.timeout
    while True:
        counts = delivery_counts()
        now = time.perf_counter()
        if "handed_off" not in marks and not counts.get("pending"):
            marks["handed_off"] = now - start
        if "first_sent" not in marks and counts.get("sent"):
            marks["first_sent"] = now - start
        if counts.get("sent", 0) >= total:
            marks["all_sent"] = now - start
            return marks
        if now > deadline:
            raise SystemExit(f"timeout: {counts}")
        time.sleep(args.poll)


def run_round(args, worker: Worker, by_merchant, media_root: Path) -> dict:
    ids = {pk for pks in by_merchant.values() for pk in pks}
    reset_state(media_root)
    worker.new_log()
    load_before = load_average()
    dbname = urlsplit(args.db_url).path.lstrip("/")
    cpu_before, busy_before = worker_cpu_seconds(worker.proc.pid), machine_cpu()
    pg_before = postgres_cpu_seconds(dbname)
    start = time.perf_counter()
    hand_off(by_merchant)
    marks = wait_all_sent(len(ids), start, args)
    seconds = marks["all_sent"]
    cpu_after = worker_cpu_seconds(worker.proc.pid)
    pg_cpu = postgres_cpu_seconds(dbname) - pg_before
    main_cpu, pool_cpu = (cpu_after[0] - cpu_before[0]), (cpu_after[1] - cpu_before[1])
    busy_after = machine_cpu()
    machine_busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    time.sleep(0.5)  # the last tasks' "succeeded" log lines
    log = worker.new_log()
    problems = check_sent(ids, media_root)
    problems += [f"worker log: {line}" for line in log_problems(log)[:10]]
    queued = redis_client(args.broker_url).llen(QUEUE)
    if queued:
        problems.append(f"{queued} messages left in the queue")
    return {
        "seconds": seconds,
        "rate": len(ids) / seconds,
        "marks": marks,
        "worker_cpu": main_cpu + pool_cpu,
        "main_cpu": main_cpu,
        "pg_cpu": pg_cpu,
        "pool_cpu": pool_cpu,
        "machine_busy": machine_busy,
        "load": (load_before, load_average()),
        "tasks": task_times(log),
        "problems": problems,
    }


# --- single-process breakdown -------------------------------------------------------------------


class Timers:
    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed


def statement_key(sql: str) -> str:
    """'SELECT billing_boleto', 'UPDATE billing_boleto', 'INSERT notifications_outboundemail'."""
    words = sql.split()
    kind = words[0].upper()
    after = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}.get(kind)
    upper = [w.upper() for w in words]
    if after in upper and upper.index(after) + 1 < len(words):
        table = words[upper.index(after) + 1].split(".")[0].strip('"')
        return f"{kind} {table}"
    return kind


class SqlTimer:
    """Execute wrapper: time and count of every statement, by kind; the statements kept on."""

    def __init__(self, timers: Timers):
        self.timers = timers
        self.by_kind: dict[str, float] = defaultdict(float)
        self.count_by_kind: dict[str, int] = defaultdict(int)
        self.record: list[str] | None = None

    def __call__(self, execute, sql, params, many, context):
        key = statement_key(sql)
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.timers.seconds["db"] += elapsed
            self.timers.calls["db"] += 1
            self.by_kind[key] += elapsed
            self.count_by_kind[key] += 1
            if self.record is not None:
                self.record.append(f"{elapsed * 1000:6.2f} ms  {sql[:160]}")


BLOCK = 10  # breakdown: sends per block of one mode


def breakdown(args, by_merchant, media_root: Path, warmup_ids: set[int]) -> None:
    """One process, ``boleto_send`` in a loop under timers, in two interleaved modes: as in the
    worker (the connection closed before and after each send, as Celery's Django fixup does for
    every task: a new PostgreSQL connection per boleto) and with the connection kept."""
    from django.core.files.storage import default_storage
    from django.core.mail import EmailMessage
    from django.db import connection
    from django.utils.functional import empty

    import billing.pdf
    import notifications.sending
    from notifications.delivery import delivery_hand_off
    from notifications.sending import boleto_send

    reset_state(media_root)
    redis_client(args.broker_url).flushdb()
    all_ids = sorted(pk for pks in by_merchant.values() for pk in pks)
    chosen = [pk for pk in all_ids if pk not in warmup_ids][: args.breakdown]
    warm = sorted(warmup_ids)[:8]
    timed_set = set(chosen)

    # The hand-off, in this process (the worker is stopped: the send messages stay queued).
    start = time.perf_counter()
    for merchant_id, pks in subset(by_merchant, timed_set | set(warm)).items():
        delivery_hand_off(merchant_id=merchant_id, boleto_ids=pks)
    hand_off_s = time.perf_counter() - start
    published = redis_client(args.broker_url).llen(QUEUE)
    redis_client(args.broker_url).flushdb()
    merchant_of = {pk: m for m, pks in by_merchant.items() for pk in pks}

    for pk in warm:  # skeletons, templates, fonts: paid once per process
        boleto_send(merchant_id=merchant_of[pk], boleto_id=pk)

    modes = {"worker": Timers(), "kept": Timers()}
    current = {"timers": modes["worker"]}

    def wrap(name, fn):
        @functools.wraps(fn)
        def timed(*a, **kw):
            return current["timers"].wrap(name, fn)(*a, **kw)

        return timed

    billing.pdf.render_boleto_pdf = wrap("pdf_render", billing.pdf.render_boleto_pdf)
    if default_storage._wrapped is empty:
        default_storage._setup()
    storage = default_storage._wrapped
    storage.save = wrap("pdf_store", storage.save)
    notifications.sending._message = wrap("email_build", notifications.sending._message)
    EmailMessage.send = wrap("backend_send", EmailMessage.send)
    connection.commit = wrap("db_commit", connection.commit)
    connection.connect = wrap("db_connect", connection.connect)
    connection.close = wrap("db_close", connection.close)
    sqls = {mode: SqlTimer(t) for mode, t in modes.items()}
    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    one_send: dict[str, list[str]] = {mode: [] for mode in modes}

    def dispatch(execute, sql, params, many, context):
        return sqls[current["mode"]](execute, sql, params, many, context)

    # Blocks of BLOCK sends, alternating modes (both see the same machine load). The first send
    # of a "kept" block reopens the connection the previous block closed: not counted.
    discard = Timers()
    sqls["discard"] = SqlTimer(discard)
    counted = {"worker": 0, "kept": 0}
    with connection.execute_wrapper(dispatch):
        for i, pk in enumerate(chosen):
            mode = "worker" if i // BLOCK % 2 == 0 else "kept"
            if mode == "kept" and i % BLOCK == 0:
                current["mode"], current["timers"] = "discard", discard
                if boleto_send(merchant_id=merchant_of[pk], boleto_id=pk) is None:
                    raise SystemExit(f"boleto {pk} was not sent")
                continue
            current["mode"], current["timers"] = mode, modes[mode]
            sql = sqls[mode]
            counted[mode] += 1
            if counted[mode] == len(chosen) // 4:
                sql.record = one_send[mode]
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            if mode == "worker":
                connection.close()  # Celery's task_prerun (DjangoWorkerFixup.close_database)
            outbound = boleto_send(merchant_id=merchant_of[pk], boleto_id=pk)
            if mode == "worker":
                connection.close()  # and task_postrun
            walls[mode].append(time.perf_counter() - start_wall)
            cpus[mode].append(time.process_time() - start_cpu)
            sql.record = None
            if outbound is None:
                raise SystemExit(f"boleto {pk} was not sent")
    problems = check_sent(timed_set | set(warm), media_root)

    n_all = len(chosen) + len(warm)
    print(
        f"\n## Single-process breakdown ({len(chosen)} boletos, one process, after {len(warm)} "
        "warm-up sends)\n"
    )
    print(
        f"hand-off in this process: {hand_off_s * 1000 / n_all:.2f} ms per boleto ({n_all} "
        f"boletos, {published} send messages published: one UPDATE + one publish per boleto)\n"
    )
    titles = {
        "worker": "as in the worker: connection closed before and after each send",
        "kept": "connection kept",
    }
    per: dict[str, dict[str, float]] = {}
    print(
        f"(blocks of {BLOCK} sends alternating the two modes; the first send of each "
        "connection-kept block, which reopens the connection, is not counted)\n"
    )
    for mode, timers in modes.items():
        n = len(walls[mode])
        per[mode] = {name: secs / n * 1000 for name, secs in timers.seconds.items()}
        per[mode]["db"] = per[mode].get("db", 0) + per[mode].get("db_commit", 0)
        per[mode]["db_conn"] = per[mode].get("db_connect", 0) + per[mode].get("db_close", 0)
        per[mode]["total"] = sum(walls[mode]) / n * 1000
        print(
            f"{titles[mode]} ({n} sends): median {statistics.median(walls[mode]) * 1000:.1f} ms "
            f"wall, mean {per[mode]['total']:.1f}, CPU of this process median "
            f"{statistics.median(cpus[mode]) * 1000:.1f} ms; {1000 / per[mode]['total']:.1f} "
            "boletos/s in one process"
        )
    print(f"\n| part, ms per boleto (mean) | {titles['worker']} | {titles['kept']} |")
    print("|---|---:|---:|")
    labels = [
        ("pdf_render", "PDF render (WeasyPrint, `render_boleto_pdf`)"),
        ("pdf_store", "PDF stored (FileSystemStorage.save)"),
        ("email_build", "email build (`_message`: 2 templates, MIME parts, attachment)"),
        ("backend_send", "backend send (anymail payload + test backend)"),
        ("db", "SQL statements + commit (round trips included)"),
        ("db_conn", "PostgreSQL connect + close"),
    ]
    for key, label in labels:
        w, k = per["worker"].get(key, 0), per["kept"].get(key, 0)
        print(
            f"| {label} | {w:.2f} ({w / per['worker']['total']:.0%}) | {k:.2f} ({k / per['kept']['total']:.0%}) |"
        )
    rest = {
        mode: per[mode]["total"] - sum(per[mode].get(key, 0) for key, _ in labels) for mode in modes
    }
    print(
        f"| the rest (Python in boleto_send, ORM, logging) | {rest['worker']:.2f} | {rest['kept']:.2f} |"
    )
    print(f"| **total** | **{per['worker']['total']:.2f}** | **{per['kept']['total']:.2f}** |")
    for mode in modes:
        n = len(walls[mode])
        timers, sql = modes[mode], sqls[mode]
        print(f"\nSQL by statement, {titles[mode]} (ms per boleto, statements per boleto):")
        for key, secs in sorted(sql.by_kind.items(), key=lambda kv: -kv[1]):
            print(f"  {key:<40} {secs / n * 1000:6.2f} ms  {sql.count_by_kind[key] / n:.2f}")
        for key in ("db_commit", "db_connect", "db_close"):
            print(
                f"  {key[3:].upper():<40} {timers.seconds.get(key, 0) / n * 1000:6.2f} ms  "
                f"{timers.calls.get(key, 0) / n:.2f}"
            )
        print("the statements of one send:")
        for line in one_send[mode]:
            print("  " + line)
    render_calls = sum(t.calls.get("pdf_render", 0) for t in [*modes.values(), discard])
    print(f"\nPDF renders per boleto: {render_calls / len(chosen):.2f}")
    if problems:
        print("breakdown check FAILED:")
        for p in problems:
            print("  " + p)
    else:
        print(f"breakdown check: {n_all} boletos sent once each, PDFs start with %PDF-")


# --- report -------------------------------------------------------------------------------------


def describe_machine(args) -> list[tuple[str, str]]:
    packages = ("django", "celery", "kombu", "django-anymail", "psycopg")
    info = machine_info(db_url=args.db_url, broker_url=args.broker_url, packages=packages)
    (sync,) = postgres_show(args.db_url, "synchronous_commit")
    return [*info, ("PostgreSQL synchronous_commit", sync), *pdf_stack()]


def main() -> None:
    args = parse_args()
    broker = redis_client(args.broker_url)
    if broker.dbsize():
        raise SystemExit(f"{args.broker_url} is not empty: someone else may be using it")
    tmp = Path(tempfile.mkdtemp(prefix="bench-email-"))
    (tmp / "media").mkdir()
    env = configure_environment(args, tmp)
    name = urlsplit(args.db_url).path.lstrip("/")
    print(f"recreating {name} ...", flush=True)
    recreate_database(args.db_url)
    import django

    django.setup()
    from django.core.management import call_command

    worker = None
    media_root = tmp / "media"
    try:
        call_command("migrate", interactive=False, verbosity=0)
        by_merchant = build(args)
        all_ids = sorted(pk for pks in by_merchant.values() for pk in pks)
        info = describe_machine(args)
        print(f"load average before (1/5/15 min): {load_average()}", flush=True)

        broker.flushdb()
        worker = Worker(args, env, tmp / "worker.log")
        if args.worker_loglevel.upper() in ("INFO", "DEBUG"):
            worker.wait_ready()  # Celery's "ready." line is logged at INFO
        elif not args.warmup:
            raise SystemExit("--worker-loglevel above INFO needs a --warmup to wait for the worker")
        print(
            f"worker ready (pid {worker.proc.pid}, --concurrency {args.concurrency} --pool {args.pool})",
            flush=True,
        )

        warmup_ids: set[int] = set()
        if args.warmup:
            # Spread over the merchants (every bank, both workers' skeletons).
            step = max(1, len(all_ids) // args.warmup)
            warmup_ids = set(all_ids[::step][: args.warmup])
            reset_state(media_root)
            start = time.perf_counter()
            hand_off(subset(by_merchant, warmup_ids))
            wait_all_sent(len(warmup_ids), start, args)
            problems = check_sent(warmup_ids, media_root)
            if problems:
                raise SystemExit("warm-up: " + "; ".join(problems[:5]))
            print(
                f"warm-up: {len(warmup_ids)} boletos in {time.perf_counter() - start:.1f} s",
                flush=True,
            )

        results = []
        for round_no in range(1, args.rounds + 1):
            r = run_round(args, worker, by_merchant, media_root)
            results.append(r)
            sends = r["tasks"].get(SEND_TASK, [])
            hand = r["tasks"].get(HAND_OFF_TASK, [])
            print(
                f"round {round_no}: {len(all_ids):,} boletos in {r['seconds']:.2f} s = "
                f"**{r['rate']:.1f} boletos/s**; all queued after {r['marks'].get('handed_off', 0):.2f} s, "
                f"first sent after {r['marks'].get('first_sent', 0):.2f} s; hand-off task "
                f"{hand[0] if hand else float('nan'):.2f} s; send task median "
                f"{statistics.median(sends) * 1000 if sends else float('nan'):.1f} ms "
                f"(p95 {sorted(sends)[int(len(sends) * 0.95)] * 1000 if sends else float('nan'):.1f}); "
                f"worker CPU {r['worker_cpu']:.1f} s = {r['worker_cpu'] / r['seconds']:.2f} cores "
                f"({r['worker_cpu'] / len(all_ids) * 1000:.1f} ms per boleto: main process "
                f"{r['main_cpu'] / len(all_ids) * 1000:.1f}, pool {r['pool_cpu'] / len(all_ids) * 1000:.1f}); "
                f"PostgreSQL CPU {r['pg_cpu'] / len(all_ids) * 1000:.1f} ms per boleto (upper bound); machine busy "
                f"{r['machine_busy']:.0%} of 2 cores; load {r['load'][0]} -> {r['load'][1]}; "
                f"check {'OK' if not r['problems'] else 'FAILED'}",
                flush=True,
            )
            for problem in r["problems"][:20]:
                print("   " + problem)
        rss = f"{worker_rss_mb(worker.proc.pid):.0f} MB"
        worker.stop()
        print(f"load average after the rounds: {load_average()}", flush=True)

        print("\n## Machine\n")
        for key, value in info:
            print(f"- {key}: {value}")

        rates = [r["rate"] for r in results]
        print(
            f"\n## Results ({len(all_ids):,} boletos, {args.merchants} merchants, worker "
            f"--concurrency {args.concurrency} --pool {args.pool}, CELERY_DB_REUSE_MAX "
            f"{args.db_reuse_max or 'unset'}, {args.rounds} rounds)\n"
        )
        print("| measurement | best | median |")
        print("|---|---:|---:|")
        print(
            f"| boletos/s, hand-off to every boleto sent | {max(rates):.1f} | {statistics.median(rates):.1f} |"
        )
        secs = [r["seconds"] for r in results]
        print(
            f"| seconds for {len(all_ids):,} boletos | {min(secs):.1f} | {statistics.median(secs):.1f} |"
        )
        cpu = [r["worker_cpu"] / len(all_ids) * 1000 for r in results]
        print(
            f"| worker CPU per boleto (ms, both processes) | {min(cpu):.1f} | {statistics.median(cpu):.1f} |"
        )
        pg = [r["pg_cpu"] / len(all_ids) * 1000 for r in results]
        print(
            f"| PostgreSQL backends' CPU per boleto (ms, upper bound) | {min(pg):.1f} "
            f"| {statistics.median(pg):.1f} |"
        )
        medians = [
            statistics.median(r["tasks"][SEND_TASK]) * 1000
            for r in results
            if r["tasks"].get(SEND_TASK)
        ]
        if medians:
            print(
                f"| send task run time in the worker, median (ms) | {min(medians):.1f} "
                f"| {statistics.median(medians):.1f} |"
            )
        busy = [r["machine_busy"] * 100 for r in results]
        print(
            f"| machine busy during the round (% of 2 cores, all processes) | {min(busy):.0f} "
            f"| {statistics.median(busy):.0f} |"
        )
        ok = all(not r["problems"] for r in results)
        print(
            f"\ncorrectness: {'OK' if ok else 'FAILED'} — every round: one OutboundEmail per boleto "
            "(attempt 1, sent, esp Test), every stored PDF starts with %PDF-, no worker error, "
            f"queue empty (worker RSS {rss})"
        )

        if args.breakdown:
            breakdown(args, by_merchant, media_root, warmup_ids)
        print(f"\nload average at the end: {load_average()}")
    finally:
        if worker is not None:
            worker.stop()
        broker.flushdb()
        if args.keep_db:
            print(f"\nkept {args.db_url}")
        else:
            drop_database(args.db_url)
        if args.keep_files:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
