"""Nosso número allocation: per merchant, never repeated, never blocking.

On PostgreSQL each merchant has its own SEQUENCE. ``nextval`` is non-transactional: concurrent
generators never wait for each other and never receive the same value (a rolled-back batch leaves
a gap, which banks accept). One statement allocates for a whole batch, across merchants.

On SQLite (local development only) a counter column is bumped with UPDATE … RETURNING; SQLite
serialises writers anyway.
"""

from collections import Counter

from django.db import connection, transaction
from django.db.utils import ProgrammingError

SEQUENCE_PREFIX = "billing_nosso_numero_"


def sequence_name(merchant_id: int) -> str:
    return f"{SEQUENCE_PREFIX}{int(merchant_id)}"


def ensure_sequences(merchant_ids) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for merchant_id in sorted(set(merchant_ids)):
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(merchant_id)}")


def allocate(counts: Counter | dict[int, int]) -> dict[int, list[int]]:
    """Reserve ``counts[merchant_id]`` new nosso números for each merchant, in ascending order."""
    counts = {m: n for m, n in counts.items() if n > 0}
    if not counts:
        return {}
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                return _allocate_postgresql(counts)
        except ProgrammingError:
            # A merchant created before its sequence existed (or restored from a dump).
            with transaction.atomic():
                ensure_sequences(counts)
            with transaction.atomic():
                return _allocate_postgresql(counts)
    return _allocate_with_counter(counts)


def _allocate_postgresql(counts: dict[int, int]) -> dict[int, list[int]]:
    merchant_ids = [m for m, n in counts.items() for _ in range(n)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m, nextval(('{SEQUENCE_PREFIX}' || m)::regclass) "
            "FROM unnest(%s::bigint[]) AS m",
            [merchant_ids],
        )
        allocated: dict[int, list[int]] = {m: [] for m in counts}
        for merchant_id, value in cursor.fetchall():
            allocated[merchant_id].append(value)
    for values in allocated.values():
        values.sort()
    return allocated


def _allocate_with_counter(counts: dict[int, int]) -> dict[int, list[int]]:
    allocated = {}
    with connection.cursor() as cursor:
        for merchant_id, n in counts.items():
            cursor.execute(
                "UPDATE portal_merchant SET next_nosso_numero = next_nosso_numero + %s "
                "WHERE id = %s RETURNING next_nosso_numero",
                [n, merchant_id],
            )
            end = cursor.fetchone()[0]
            allocated[merchant_id] = list(range(end - n, end))
    return allocated
