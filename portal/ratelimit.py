"""Sliding-window limits kept in the database (works on every deployment, no Redis needed).

``rate_limit_hit`` counts one use of ``scope`` by ``key`` when fewer than ``limit`` uses
happened in the last ``window``; it reads and updates the key's row under ``SELECT ... FOR
UPDATE``, so N concurrent callers get exactly ``limit`` successes.
"""

import hashlib
import math
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.models import RateLimit


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def rate_limit_hit(*, scope: str, key: str, limit: int, window: timedelta) -> tuple[bool, int]:
    """Count a use if allowed. Returns ``(allowed, retry_after)``: when not allowed, the number
    of seconds until the oldest counted use leaves the window (0 when allowed)."""
    digest = _digest(key)
    seconds = window.total_seconds()
    with transaction.atomic():
        RateLimit.objects.get_or_create(scope=scope, key=digest)
        row = RateLimit.objects.select_for_update().get(scope=scope, key=digest)
        now = time.time()
        hits = sorted(t for t in row.hits if t > now - seconds)
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        row.hits = hits
        row.save(update_fields=["hits", "updated_at"])
    retry_after = 0 if allowed else max(1, math.ceil(hits[-limit] + seconds - now))
    return allowed, retry_after


def rate_limit_prune(*, scope: str, window: timedelta) -> int:
    """Delete the rows of ``scope`` untouched for longer than ``window`` (nothing left in them)."""
    deleted, _ = RateLimit.objects.filter(
        scope=scope, updated_at__lt=timezone.now() - window
    ).delete()
    return deleted
