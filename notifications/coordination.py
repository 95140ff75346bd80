"""Cross-process "first one wins" flags in Redis (SET NX with a TTL), used to debounce the inbox
drain (notifications/inbox.py) and to throttle ops alerts (notifications/policy.py).

One redis-py client per process (its connection pool is fork-safe), created on first use: a
client per call would cost ~0.2 ms (redis-py builds its response-callback table in
``Redis.__init__``), which is what made Celery's per-event publish slow on the webhook path.

Without Redis (``settings.COORDINATION_REDIS_URL`` empty: SQLite/filesystem-broker development,
the SQLite test run) ``shared()`` is None and callers fall back to their per-process behaviour.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_client = None
_client_url: str | None = None
# Per-process fallback for ``first_in_window`` when there is no Redis: key -> expiry (monotonic).
_local: dict[str, float] = {}


def shared():
    """The process's Redis client, or None when no Redis is configured."""
    global _client, _client_url
    url = getattr(settings, "COORDINATION_REDIS_URL", "") or ""
    if not url:
        return None
    if _client is None or _client_url != url:
        with _lock:
            if _client is None or _client_url != url:
                # In-function: only when a coordination Redis is configured.
                import redis

                _client = redis.Redis.from_url(
                    url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
                )
                _client_url = url
    return _client


def redis_key(name: str) -> str:
    """The Redis key for ``name`` (settings.COORDINATION_KEY_PREFIX: tests use their own)."""
    return getattr(settings, "COORDINATION_KEY_PREFIX", "") + name


def first_in_window(name: str, seconds: int) -> bool:
    """True for the first caller for ``name`` in ``seconds`` (all processes sharing the Redis;
    this process only without one). Redis being down counts as "first": better a repeated alert
    than a lost one."""
    key = redis_key(name)
    client = shared()
    if client is not None:
        try:
            return bool(client.set(key, b"1", nx=True, ex=seconds))
        except Exception as exc:  # redis.RedisError, OSError
            logger.warning(
                "event=coordination_unavailable key=%s error=%s", key, type(exc).__name__
            )
            return True
    now = time.monotonic()
    with _lock:
        if _local.get(key, 0.0) > now:
            return False
        _local[key] = now + seconds
        return True


def release(name: str) -> None:
    """Forget ``name`` so the next ``first_in_window`` call wins again (after a failed send)."""
    key = redis_key(name)
    client = shared()
    if client is not None:
        try:
            client.delete(key)
        except Exception as exc:  # the flag expires by itself
            logger.warning(
                "event=coordination_unavailable key=%s error=%s", key, type(exc).__name__
            )
        return
    with _lock:
        _local.pop(key, None)


def reset_local() -> None:
    """Forget the per-process fallback's flags (tests)."""
    with _lock:
        _local.clear()
