"""Helpers shared by the benchmarks: the machine a run was measured on, and the dedicated
PostgreSQL database and Redis database each benchmark creates, flushes and drops.

Import it as ``bench._common``, after the script has taken bench/ off ``sys.path`` and put the
project root first (see the top of any bench/*.py: bench/numbers.py would otherwise shadow the
standard library's ``numbers``). Nothing here needs Django settings: the scripts call these
helpers before and after ``django.setup()``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


# --- machine ------------------------------------------------------------------------------------


def date_utc() -> str:
    return subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def memory() -> str:
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return "?"
    return f"{mem_kb / 1024 / 1024:.1f} GiB"


def load_average(separator: str = " / ") -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews a run."""
    return separator.join(f"{v:.2f}" for v in os.getloadavg())


def version(distribution: str) -> str:
    """An installed package's version, from its metadata (no import of the package)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def postgres_show(db_url: str, *settings: str) -> list[str]:
    """``SHOW <setting>`` for each setting (e.g. ``server_version``) on the server of db_url."""
    dsn, _name = maintenance_dsn(db_url)
    with psycopg.connect(dsn) as conn:
        return [conn.execute(f"SHOW {name}").fetchone()[0] for name in settings]


def redis_version(url: str) -> str:
    try:
        return redis_client(url).info()["redis_version"]
    except redis.RedisError:  # informational only
        return "?"


def pdf_stack() -> list[tuple[str, str]]:
    """What a boleto PDF's speed depends on besides the CPU: WeasyPrint, Pango, HarfBuzz."""
    # Imported here, not at the top: loading WeasyPrint loads Pango, which the benchmarks that
    # draw no PDF do not need.
    from weasyprint.text.ffi import harfbuzz_subset, pango

    pango_version = pango.pango_version()
    return [
        ("WeasyPrint / pydyf", f"{version('weasyprint')} / {version('pydyf')}"),
        ("Pango", f"{pango_version // 10000}.{pango_version // 100 % 100}.{pango_version % 100}"),
        (
            "HarfBuzz subsetter",
            "libharfbuzz-subset" if harfbuzz_subset else "none (fontTools subsetting, slow)",
        ),
    ]


def machine_info(
    *,
    db_url: str | None = None,
    broker_url: str | None = None,
    packages: tuple[str, ...] = ("django", "psycopg"),
) -> list[tuple[str, str]]:
    """(label, value) rows describing the run: when, on what, with which versions."""
    rows = [
        ("date (UTC)", date_utc()),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} logical cores"),
        ("memory", memory()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
    ]
    rows += [(name, version(name)) for name in packages]
    if db_url:
        rows.append(("PostgreSQL", postgres_show(db_url, "server_version")[0]))
    if broker_url:
        rows.append(("Redis", redis_version(broker_url)))
    rows.append(("load average (1/5/15 min) at start", load_average()))
    return rows


# --- dedicated database and broker --------------------------------------------------------------


def maintenance_dsn(db_url: str) -> tuple[str, str]:
    """(DSN of the server's ``postgres`` database, name of db_url's database)."""
    parts = urlsplit(db_url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), parts.path.lstrip("/")


def psycopg_dsn(db_url: str) -> str:
    """db_url (``postgres://``, as Django's settings take it) as a DSN psycopg accepts."""
    return urlunsplit(urlsplit(db_url)._replace(scheme="postgresql"))


def recreate_database(db_url: str) -> None:
    """Drop (disconnecting its sessions) and create db_url's database, empty."""
    dsn, name = maintenance_dsn(db_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(db_url: str) -> None:
    """Drop db_url's database, closing this process's Django connections to it first."""
    django_db = sys.modules.get("django.db")
    if django_db is not None:
        from django.conf import settings  # loaded already: django.db imports it

        if settings.configured:
            django_db.connections.close_all()
    dsn, name = maintenance_dsn(db_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@functools.cache
def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL for the benchmark process."""
    return redis.Redis.from_url(url)
