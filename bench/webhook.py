#!/usr/bin/env python
# ruff: noqa: E501  (long report strings in a hand-run benchmark)
"""Benchmark of the ESP tracking webhook on gunicorn + PostgreSQL (issue #4). Run by hand.

    .venv/bin/python bench/webhook.py                        # sync and gthread, 15 s per phase
    .venv/bin/python bench/webhook.py --worker-class sync --latency --profile
    .venv/bin/python bench/webhook.py --help

What it does:

1. (Re)creates a dedicated database (default ``portal_bench_webhook``, dropped at the end unless
   ``--keep-db``), migrates it and adds the table ``bench_one_row``; flushes a dedicated Redis
   database used as the Celery broker (default ``redis://127.0.0.1:6379/12``). No Celery worker
   runs during the load: the drain messages the webhook queues (``email_events_drain_task``, at
   most one per gunicorn worker per ``INBOX_DRAIN_DELAY - INBOX_DRAIN_CLOCK_MARGIN`` seconds)
   stay in the ``celery`` list and are counted, and every stored event stays ``pending``.
2. For each worker class (``sync``, ``gthread``): starts gunicorn, ``portal.wsgi:application``,
   2 workers, bound to 127.0.0.1, with ``portal.settings.production`` (SECRET_KEY,
   DJANGO_ALLOWED_HOSTS, DJANGO_SECURE_SSL_REDIRECT=false, DATABASE_URL, CELERY_BROKER_URL,
   REDIS_URL, ANYMAIL_WEBHOOK_SECRET in its environment), and measures with wrk (Lua script,
   keep-alive connections; ``X-Forwarded-Proto: https`` as the TLS proxy would send). Phases,
   all in the same run, same gunicorn (``bench/webhook_settings.py`` is production settings with
   ``ROOT_URLCONF = bench.noop_urls``: the portal's URLs + the reference views, so the webhook URL
   is exactly the production one):

   a. **no-op**: the same body POSTed to ``/bench/noop/``, a view that returns 200 at once,
      through the portal's whole middleware stack;
   a2. **no-op on the webhook path**: ``/anymail/bench-noop/``, the same no-op served by the
      webhook fast path (``portal.middleware.WebhookFastPathMiddleware``);
   a3. **one row**: ``/bench/one-row/`` stores the body as one row (INSERT in autocommit),
      through the whole stack;
   b. **webhook, unique events**: ``/anymail/postmark/tracking/`` with the real-format
      Postmark bounce (``tests/data/webhooks/postmark_bounce_1.json``), every request
      with its own ``ID`` and ``MessageID``: each request is a distinct event, one row each.
   c. **webhook, duplicates**: re-posts the IDs phase b sent, cycling through them in the
      same order: no row may be added.

   Each phase is preceded by a short warm-up (the webhook's: the fixture's own event, posted
   repeatedly: one row, the rest duplicates).
3. Verifies in the database and the broker: rows == distinct events posted (every ID sent in
   phase b, re-acknowledged in phase c — which covers the requests wrk abandoned in flight at
   the end of phase b), no row for an ID never sent, one row per ID, every row ``pending`` with a
   drain queued for it (at least one ``email_events_drain_task`` message, and no other message),
   zero non-2xx responses and zero socket errors.
4. Prints the machine and a table (req/s, p50, p99 per case).
5. ``--latency``: with gunicorn (sync) still up, starts one Celery worker and beat-less
   processing, posts ``--latency-events`` unique events at ``--latency-rate`` per second and
   reports event-to-decision latency (``processed_at - received_at``: the drain delay, the queue
   and the processing) and the number of drain messages published.
6. ``--profile``: in-process (Django test client, same settings and database), the SQL
   statements of one webhook request, the time per request (wall and CPU) with SQL and the kick
   apart, and a cProfile.
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
import base64
import json
import platform
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench._common import (
    cpu_model,
    drop_database,
    postgres_show,
    psycopg_dsn,
    recreate_database,
    redis_client,
    version,
)

TARGET_RPS = 1200
TARGET_P99_MS = 25.0
QUEUE = "celery"
FIXTURE = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "webhooks" / "postmark_bounce_1.json"
)
WEBHOOK_PATH = "/anymail/postmark/tracking/"
NOOP_PATH = "/bench/noop/"
FAST_NOOP_PATH = "/anymail/bench-noop/"
ONE_ROW_PATH = "/bench/one-row/"
DRAIN_TASK = "notifications.tasks.email_events_drain_task"
SECRET = "bench:webhook-secret"
ID_BASE = 7_000_000_000  # far from the fixture's ID (4,120,398,117)
ID_STRIDE = 100_000_000  # per wrk thread: thread t sends ID_BASE + t * ID_STRIDE + k


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured phase")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["sync", "gthread", "both"], default="both")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--db-url",
        default="postgres://postgres@127.0.0.1:5432/portal_bench_webhook",
        help="a DEDICATED database: it is dropped and recreated",
    )
    parser.add_argument(
        "--broker-url",
        default="redis://127.0.0.1:6379/12",
        help="a DEDICATED Redis database: it is flushed",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="profile the webhook view in-process at the end"
    )
    parser.add_argument("--profile-requests", type=int, default=2000)
    parser.add_argument(
        "--profile-only", action="store_true", help="only the in-process profile (no gunicorn)"
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="after the load: one Celery worker, events at a steady rate, event-to-decision time",
    )
    parser.add_argument("--latency-events", type=int, default=1000)
    parser.add_argument("--latency-rate", type=float, default=200.0, help="events per second")
    args = parser.parse_args()
    if "bench" not in urlsplit(args.db_url).path:
        parser.error("--db-url must name a dedicated database with 'bench' in its name")
    if urlsplit(args.broker_url).path.strip("/") in ("", "0"):
        parser.error("--broker-url must name a dedicated Redis database (not 0)")
    if shutil.which("wrk") is None and not args.profile_only:
        parser.error("wrk is not installed (Debian: apt-get install -y wrk)")
    return args


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.webhook_settings",
        SECRET_KEY="bench-webhook-not-a-secret-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=args.db_url,
        CELERY_BROKER_URL=args.broker_url,
        REDIS_URL=args.broker_url,
        ANYMAIL_WEBHOOK_SECRET=SECRET,
        DJANGO_DEBUG="false",
        PYTHONPATH=ROOT,
    )
    env.pop("DJANGO_READ_DOT_ENV_FILE", None)
    return env


# --- database and broker lifecycle --------------------------------------------------------------


def setup_database(args) -> None:
    """A new database with the migrations applied and the one-row view's table."""
    import psycopg

    recreate_database(args.db_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=server_env(args),
        check=True,
    )
    with psycopg.connect(psycopg_dsn(args.db_url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_one_row (id bigserial PRIMARY KEY, body jsonb NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )


def reset_state(args) -> None:
    import psycopg

    with psycopg.connect(psycopg_dsn(args.db_url), autocommit=True) as conn:
        conn.execute("TRUNCATE notifications_emailevent RESTART IDENTITY CASCADE")
        conn.execute("TRUNCATE bench_one_row RESTART IDENTITY")
        conn.execute("VACUUM ANALYZE notifications_emailevent")
        conn.execute("VACUUM ANALYZE bench_one_row")
        conn.execute("CHECKPOINT")
    redis_client(args.broker_url).flushdb()


# --- gunicorn -----------------------------------------------------------------------------------


class Server:
    def __init__(self, args, worker_class: str, log_dir: str):
        self.args = args
        self.worker_class = worker_class
        self.log = open(os.path.join(log_dir, f"gunicorn-{worker_class}.log"), "ab")
        cmd = [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            worker_class,
            "--chdir",
            ROOT,
            "--log-level",
            "warning",
            "--keep-alive",
            "5",
        ]
        if worker_class == "gthread":
            cmd += ["--threads", str(args.threads)]
        self.cmd = cmd
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=server_env(args),
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log.name}")
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{self.args.port}{NOOP_PATH}",
                    data=b"{}",
                    method="POST",
                    headers={"X-Forwarded-Proto": "https"},
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer within 30 s")
        # Every worker imports Django lazily on its first request: touch them all.
        time.sleep(1)

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- wrk ----------------------------------------------------------------------------------------

_LUA_COMMON = r"""
local counter = 1
local threads = {}
local body_a, body_b, body_c = %(a)s, %(b)s, %(c)s
local fixed_body = %(fixed)s
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic %(auth)s"
wrk.headers["X-Forwarded-Proto"] = "https"

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   mode = args[1]
   sent = 0
   ok = 0
   bad = 0
   cycle = {}
   margin = tonumber(args[2])
   for i = 3, #args do cycle[i - 2] = tonumber(args[i]) end
   base = %(id_base)d + (tid - 1) * %(stride)d
   if mode == "fixed" then wrk.body = fixed_body end
end

function body_for(k)
   local id = string.format("%%.0f", base + k)
   local mid = string.format("b3c4e5f6-%%04x-4e58-a7c2-%%012x", tid, k)
   return body_a .. id .. body_b .. mid .. body_c
end

function request()
   local k = sent
   if mode == "replay" or mode == "sweep" then
      local n = cycle[tid]
      if n == nil or n == 0 then k = 0 else k = sent %% n end
   end
   sent = sent + 1
   if mode == "fixed" then
      return wrk.format(nil, nil, nil, fixed_body)
   end
   return wrk.format(nil, nil, nil, body_for(k))
end

function response(status, headers, body)
   if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
   -- sweep: every ID of the thread's cycle re-posted, then one more round per connection
   if mode == "sweep" and ok >= (cycle[tid] or 0) + margin then wrk.thread:stop() end
end

function done(summary, latency, requests)
   local per = {}
   for _, t in ipairs(threads) do
      table.insert(per, string.format('{"tid":%%d,"sent":%%d,"ok":%%d,"bad":%%d}',
         t:get("tid"), t:get("sent"), t:get("ok"), t:get("bad")))
   end
   local e = summary.errors
   io.write("BENCH_JSON " .. string.format(
      '{"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,' ..
      '"mean_us":%%.1f,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,"threads":[%%s]}',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
      e.timeout, table.concat(per, ",")) .. "\n")
end
"""


def _lua_str(s: str) -> str:
    return "[==[" + s + "]==]"


def write_lua(path: str) -> None:
    payload = json.loads(FIXTURE.read_text())
    payload["ID"] = "@@ID@@"
    payload["MessageID"] = "@@MID@@"
    text = json.dumps(payload, ensure_ascii=False, separators=(", ", ": "))
    text = text.replace('"@@ID@@"', "@@ID@@")
    a, rest = text.split("@@ID@@")
    b, c = rest.split("@@MID@@")
    lua = _LUA_COMMON % {
        "a": _lua_str(a),
        "b": _lua_str(b),
        "c": _lua_str(c),
        "fixed": _lua_str(FIXTURE.read_text()),
        "auth": base64.b64encode(SECRET.encode()).decode(),
        "id_base": ID_BASE,
        "stride": ID_STRIDE,
    }
    Path(path).write_text(lua)


def run_wrk(args, lua: str, path: str, mode: str, seconds: int, cycle=()) -> dict:
    cmd = [
        "wrk",
        "-t",
        str(args.wrk_threads),
        "-c",
        str(args.connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        lua,
        f"http://127.0.0.1:{args.port}{path}",
        "--",
        mode,
        str(2 * -(-args.connections // args.wrk_threads)),
        *[str(n) for n in cycle],
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    result = json.loads(line.split(" ", 1)[1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
    result["non2xx"] = sum(t["bad"] for t in result["threads"])
    return result


def count_rows(args) -> int:
    import psycopg

    with psycopg.connect(psycopg_dsn(args.db_url)) as conn:
        return conn.execute("SELECT count(*) FROM notifications_emailevent").fetchone()[0]


# --- verification -------------------------------------------------------------------------------


def verify(args, unique: dict, replay: dict, sweep: dict, warmups: int) -> dict:
    import psycopg

    with psycopg.connect(psycopg_dsn(args.db_url)) as conn:
        rows, distinct_keys, distinct_ids = conn.execute(
            "SELECT count(*), count(DISTINCT dedupe_key), count(DISTINCT raw->>'ID') "
            "FROM notifications_emailevent"
        ).fetchone()
        ids = [int(r[0]) for r in conn.execute("SELECT raw->>'ID' FROM notifications_emailevent")]
    sent_ids = set()
    for t in unique["threads"]:
        start = ID_BASE + (t["tid"] - 1) * ID_STRIDE
        sent_ids.update(range(start, start + t["sent"]))
    fixture_id = json.loads(FIXTURE.read_text())["ID"]
    unexpected = [i for i in ids if i not in sent_ids and i != fixture_id]
    missing = sent_ids - set(ids)
    # Phase c re-acknowledged every ID of phase b when each wrk thread went round its cycle.
    replay_covered = (
        all(
            s["ok"] >= u["sent"] and not s["bad"]
            for u, s in zip(unique["threads"], sweep["threads"], strict=True)
        )
        and not sweep["errors"]
    )
    tasks: dict[str, int] = {}
    for raw in redis_client(args.broker_url).lrange(QUEUE, 0, -1):
        name = json.loads(raw).get("headers", {}).get("task", "?")
        tasks[name] = tasks.get(name, 0) + 1
    with psycopg.connect(psycopg_dsn(args.db_url)) as conn:
        pending = conn.execute(
            "SELECT count(*) FROM notifications_emailevent "
            "WHERE processed_at IS NULL AND outcome = 'pending'"
        ).fetchone()[0]
    return {
        "pending": pending,
        "drain_messages": tasks.pop(DRAIN_TASK, 0),
        "other_messages": sum(tasks.values()),
        "rows": rows,
        "distinct_keys": distinct_keys,
        "distinct_ids": distinct_ids,
        "events_sent": len(sent_ids),
        "events_acked_in_b": sum(t["ok"] for t in unique["threads"]),
        "in_flight_at_end_of_b": len(sent_ids) - sum(t["ok"] for t in unique["threads"]),
        "expected_rows": len(sent_ids) + (1 if warmups else 0),
        "unexpected": len(unexpected),
        "missing": len(missing),
        "replay_covered": replay_covered,
    }


# --- event-to-decision latency --------------------------------------------------------------------


def measure_latency(args, tmp: str) -> dict:
    """One Celery worker (solo pool) consumes the drains while events arrive at a steady rate;
    latency = ``processed_at - received_at`` of each row (drain delay + queue + processing)."""
    import http.client

    import psycopg

    log_path = os.path.join(tmp, "celery-worker.log")
    log = open(log_path, "ab")
    worker = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "celery"),
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=server_env(args),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    payload = json.loads(FIXTURE.read_text())
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)

    def post(i: int) -> None:
        payload["ID"] = 8_000_000_000 + i
        payload["MessageID"] = f"1a7e0000-0000-4e58-a7c2-{i:012x}"
        conn.request(
            "POST",
            WEBHOOK_PATH,
            body=json.dumps(payload),
            headers={
                "Content-Type": "application/json",
                "Authorization": auth,
                "X-Forwarded-Proto": "https",
            },
        )
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"webhook answered {resp.status}")

    def processed() -> int:
        with psycopg.connect(psycopg_dsn(args.db_url)) as db:
            return db.execute(
                "SELECT count(*) FROM notifications_emailevent WHERE processed_at IS NOT NULL"
            ).fetchone()[0]

    try:
        # Warm-up: the worker is up once it has processed one event.
        post(10_000_000)
        deadline = time.monotonic() + 60
        while processed() < 1:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the Celery worker processed nothing; see {log_path}")
            time.sleep(0.2)
        reset_state(args)
        n, rate = args.latency_events, args.latency_rate
        t0 = time.monotonic()
        for i in range(n):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            post(i)
        sent_in = time.monotonic() - t0
        deadline = time.monotonic() + 60
        while processed() < n and time.monotonic() < deadline:
            time.sleep(0.2)
        with psycopg.connect(psycopg_dsn(args.db_url)) as db:
            done, p50, p99, top = db.execute(
                "SELECT count(*), "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)), "
                "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)), "
                "max(extract(epoch FROM processed_at - received_at)) "
                "FROM notifications_emailevent WHERE processed_at IS NOT NULL"
            ).fetchone()
    finally:
        conn.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    drains = sum(
        1
        for line in Path(log_path).read_text(errors="replace").splitlines()
        if DRAIN_TASK in line and "received" in line
    )
    return {
        "events": n,
        "rate": n / sent_in,
        "delay": float(os.environ.get("INBOX_DRAIN_DELAY", "1.0")),
        "p50": float(p50 or 0),
        "p99": float(p99 or 0),
        "max": float(top or 0),
        "all_processed": done == n,
        "drains": drains - 1,  # the warm-up's
    }


# --- profile ------------------------------------------------------------------------------------


def profile_in_process(args) -> None:
    """Webhook requests through Django's test client (same settings, middleware and database):
    the SQL of one request, time per request (wall and CPU; SQL and the kick apart), cProfile."""
    import cProfile
    import pstats

    os.environ.update({k: v for k, v in server_env(args).items() if k != "PYTHONPATH"})
    import django

    django.setup()
    import logging

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from notifications import inbox

    logging.getLogger("notifications").setLevel(logging.WARNING)  # the log line per event
    recreate = not table_exists(args)
    if recreate:
        setup_database(args)
    reset_state(args)
    client = Client(
        HTTP_HOST="127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode(),
    )
    payload = json.loads(FIXTURE.read_text())

    def post(i: int):
        payload["ID"] = 9_000_000_000 + i
        payload["MessageID"] = f"c0ffee00-0000-4e58-a7c2-{i:012x}"
        return client.post(WEBHOOK_PATH, json.dumps(payload), content_type="application/json")

    for i in range(50):  # warm-up: connections, URL resolver, anymail's settings
        assert post(i).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post(49).status_code == 200  # a duplicate of the last warm-up event
        assert post(50).status_code == 200  # a new event
    print("\nSQL of a duplicate, then of a new event:")
    for q in queries.captured_queries:
        print(f"  {q['sql'][:160]}{'…' if len(q['sql']) > 160 else ''}  ({q['time']} s)")
    sql_time = [0.0]

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[0] += time.perf_counter() - t0

    kick_time = [0.0]
    real_kick = inbox.inbox_kick

    def timed_kick():
        t0 = time.perf_counter()
        try:
            return real_kick()
        finally:
            kick_time[0] += time.perf_counter() - t0

    inbox.inbox_kick = timed_kick
    n = args.profile_requests
    with connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(51, 51 + n):
            post(i)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    inbox.inbox_kick = real_kick
    print(
        f"\nIn-process, {n} unique events, no profiler: {wall / n * 1e3:.3f} ms/request wall, "
        f"{cpu / n * 1e3:.3f} ms CPU (SQL incl. its commit {sql_time[0] / n * 1e3:.3f} ms, kick "
        f"{kick_time[0] / n * 1e3:.3f} ms, the rest {(wall - sql_time[0] - kick_time[0]) / n * 1e3:.3f} ms); "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    prof = cProfile.Profile()
    prof.enable()
    for i in range(51 + n, 51 + 2 * n):
        post(i)
    prof.disable()
    stats = pstats.Stats(prof)
    print(f"\ncProfile of {n} more requests (top 30 by cumulative time):")
    stats.sort_stats("cumulative").print_stats(30)
    print("Top 25 by own time:")
    stats.sort_stats("tottime").print_stats(25)
    connection.close()


def table_exists(args) -> bool:
    import psycopg

    try:
        with psycopg.connect(psycopg_dsn(args.db_url)) as conn:
            return bool(
                conn.execute("SELECT to_regclass('bench_one_row') IS NOT NULL").fetchone()[0]
            )
    except psycopg.OperationalError:
        return False


# --- main ---------------------------------------------------------------------------------------


def machine_info(args) -> str:
    (pg,) = postgres_show(args.db_url, "server_version")
    wrk_v = "no wrk"
    if shutil.which("wrk"):
        wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        wrk_v = (wrk_v.stdout + wrk_v.stderr).splitlines()[0]
    return (
        f"{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())}; {cpu_model()}, "
        f"{os.cpu_count()} logical cores, {platform.platform()}, "
        f"Python {platform.python_version()}, Django {version('django')}, "
        f"gunicorn {version('gunicorn')}, psycopg {version('psycopg')}, "
        f"PostgreSQL {pg}, {wrk_v}; load average {os.getloadavg()[0]:.2f}"
    )


def main() -> int:
    args = parse_args()
    classes = ["sync", "gthread"] if args.worker_class == "both" else [args.worker_class]
    print(machine_info(args), flush=True)
    if args.profile_only:
        setup_database(args)
        try:
            profile_in_process(args)
        finally:
            if not args.keep_db:
                drop_database(args.db_url)
            redis_client(args.broker_url).flushdb()
        return 0
    print(
        f"wrk: {args.wrk_threads} threads, {args.connections} connections, {args.duration} s per "
        f"phase (+{args.warmup} s warm-up); gunicorn: {args.workers} workers "
        f"({', '.join(classes)}; gthread with {args.threads} threads)",
        flush=True,
    )
    tmp = tempfile.mkdtemp(prefix="bench-webhook-")
    lua = os.path.join(tmp, "webhook.lua")
    write_lua(lua)
    setup_database(args)
    results: list[tuple[str, str, dict]] = []
    checks: dict[str, dict] = {}
    failures: list[str] = []
    latency = None
    try:
        for wc in classes:
            reset_state(args)
            server = Server(args, wc, tmp)
            try:
                label = wc if wc == "sync" else f"gthread ×{args.threads}"
                loads = []
                # a. references: no-op (whole stack), no-op on the webhook path, one row stored
                for case, path in (
                    ("no-op view", NOOP_PATH),
                    ("no-op view, webhook path", FAST_NOOP_PATH),
                    ("view storing one row", ONE_ROW_PATH),
                ):
                    if args.warmup:
                        run_wrk(args, lua, path, "fixed", args.warmup)
                    loads.append(
                        (
                            case,
                            print_row(
                                label, case, run_wrk(args, lua, path, "fixed", args.duration)
                            ),
                        )
                    )
                # b. unique events (warm-up: the fixture's own event, one row + duplicates)
                if args.warmup:
                    run_wrk(args, lua, WEBHOOK_PATH, "fixed", args.warmup)
                unique = run_wrk(args, lua, WEBHOOK_PATH, "unique", args.duration)
                loads.append(
                    ("webhook, unique events", print_row(label, "webhook, unique events", unique))
                )
                time.sleep(0.3)
                rows_after_b = count_rows(args)
                # c. duplicates of phase b
                cycle = [t["sent"] for t in sorted(unique["threads"], key=lambda t: t["tid"])]
                replay = run_wrk(args, lua, WEBHOOK_PATH, "replay", args.duration, cycle)
                loads.append(
                    ("webhook, duplicates", print_row(label, "webhook, duplicates", replay))
                )
                # Not measured: re-post every ID of phase b until each thread has had all of
                # them acknowledged (covers what wrk left in flight when phase b stopped).
                time.sleep(0.3)
                rows_after_c = count_rows(args)
                sweep = run_wrk(args, lua, WEBHOOK_PATH, "sweep", 30, cycle)
            finally:
                server.stop()
            results.extend((label, case, r) for case, r in loads)
            check = verify(args, unique, replay, sweep, args.warmup)
            check["rows_after_b"], check["rows_after_c"] = rows_after_b, rows_after_c
            checks[label] = check
            # wrk may build a request it never writes before it stops: that one ID first reaches
            # the server in phase c; duplicates adding rows shows as rows above the events sent.
            if rows_after_c > check["expected_rows"]:
                failures.append(f"{label}: duplicates added rows ({rows_after_c} > expected)")
            for case, r in loads:
                if r["non2xx"] or r["errors"]:
                    failures.append(
                        f"{label} {case}: {r['non2xx']} non-2xx, {r['errors']} socket errors"
                    )
            if not check["replay_covered"]:
                failures.append(f"{label}: phase c did not re-post every ID of phase b")
            if check["rows"] != check["expected_rows"] or check["missing"] or check["unexpected"]:
                failures.append(
                    f"{label}: rows {check['rows']} != expected {check['expected_rows']}"
                )
            if not (check["rows"] == check["distinct_keys"] == check["distinct_ids"]):
                failures.append(f"{label}: duplicate rows")
            if check["pending"] != check["rows"]:
                failures.append(f"{label}: {check['rows'] - check['pending']} rows not pending")
            if check["rows"] and not check["drain_messages"]:
                failures.append(f"{label}: no drain queued for {check['rows']} pending rows")
            if check["other_messages"]:
                failures.append(f"{label}: {check['other_messages']} unexpected messages")
        if args.latency:
            reset_state(args)
            server = Server(args, "sync", tmp)
            try:
                latency = measure_latency(args, tmp)
            finally:
                server.stop()

        print(
            "\n| gunicorn (2 workers) | case | req/s | p50 ms | p90 ms | p99 ms | max ms | requests | non-2xx | socket errors |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for label, case, r in results:
            print(
                f"| {label} | {case} | {r['rps']:,.0f} | {r['p50_us'] / 1e3:.2f} | "
                f"{r['p90_us'] / 1e3:.2f} | {r['p99_us'] / 1e3:.2f} | {r['max_us'] / 1e3:.1f} | "
                f"{r['requests']:,} | {r['non2xx']} | {r['errors']} |"
            )
        print()
        for label, c in checks.items():
            print(
                f"{label}: rows after phase b {c['rows_after_b']:,}, after phase c (duplicates) "
                f"{c['rows_after_c']:,}; events sent in phase b {c['events_sent']:,} (acknowledged 2xx in b "
                f"{c['events_acked_in_b']:,}, {c['in_flight_at_end_of_b']} in flight when wrk "
                f"stopped, all re-posted and acknowledged afterwards: {c['replay_covered']}); rows {c['rows']:,} "
                f"(expected {c['expected_rows']:,} = those + the warm-up's fixture event), "
                f"distinct dedupe keys {c['distinct_keys']:,}, distinct IDs {c['distinct_ids']:,}, "
                f"missing {c['missing']}, unexpected {c['unexpected']}; pending {c['pending']:,}; "
                f"drain messages queued {c['drain_messages']} (no worker ran), other messages "
                f"{c['other_messages']}"
            )
        print()
        for label, case, r in results:
            if case == "webhook, unique events":
                met = r["rps"] >= TARGET_RPS and r["p99_us"] / 1e3 <= TARGET_P99_MS
                print(
                    f"{label}: {r['rps']:,.0f} req/s, p99 {r['p99_us'] / 1e3:.1f} ms "
                    f"(target ≥ {TARGET_RPS:,} req/s, p99 ≤ {TARGET_P99_MS:.0f} ms): "
                    f"{'MET' if met else 'NOT MET'}"
                )
        if latency:
            print(
                f"\nEvent to decision (one Celery worker, {latency['events']} unique events at "
                f"~{latency['rate']:.0f}/s, INBOX_DRAIN_DELAY {latency['delay']} s): p50 "
                f"{latency['p50']:.2f} s, p99 {latency['p99']:.2f} s, max {latency['max']:.2f} s; "
                f"all processed: {latency['all_processed']}; drain messages published "
                f"{latency['drains']}"
            )
            if not latency["all_processed"]:
                failures.append("latency phase: not every event was processed")
        print("exactly once, no errors: " + ("OK" if not failures else "FAILED"))
        for f in failures:
            print("  - " + f)
        print(f"logs: {tmp}", flush=True)
        if args.profile:
            profile_in_process(args)
    finally:
        if not args.keep_db:
            drop_database(args.db_url)
        redis_client(args.broker_url).flushdb()
    return 1 if failures else 0


def print_row(label: str, case: str, r: dict) -> dict:
    print(
        f"  {label:<12} {case:<28} {r['rps']:>8,.0f} req/s  p50 {r['p50_us'] / 1e3:6.2f} ms  "
        f"p99 {r['p99_us'] / 1e3:6.2f} ms  load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return r


if __name__ == "__main__":
    sys.exit(main())
