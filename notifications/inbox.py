"""Receiving ESP tracking events: dedupe, store, acknowledge; processing happens in a task.

The request does the least that makes the event durable (anymail has already authenticated it):
one ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` in autocommit — no BEGIN, no
COMMIT round trip, no model instance — and, only when a row was actually inserted, a *kick*: a
drain task (``notifications.delivery.email_events_drain``, which processes every pending row)
is queued to start ``INBOX_DRAIN_DELAY`` seconds later, unless this process already queued one
that is certain not to have started yet. So each web process publishes at most one Celery
message per ``INBOX_DRAIN_DELAY - INBOX_DRAIN_CLOCK_MARGIN`` seconds instead of one per event
(publishing costs ~1 ms, most of what the request used to cost), with no Redis or database
round trip on the request path to decide it.

Why no event is left behind: a kick skips publishing only while ``now < t + delay - margin``,
where ``t`` is when this process published a drain with ``countdown=delay``. That drain cannot
start before ``t + delay`` by the worker's clock, i.e. before ``t + delay - margin`` here as long
as the clocks of web and worker hosts differ by less than the margin; the skipping event was
committed before ``now``, so that drain's select sees it. If the drain message is lost anyway (a
worker killed mid-drain, the broker restarted) the rows stay ``pending``: the next kick after
the window, the periodic drain (beat, ``INBOX_DRAIN_INTERVAL``) and the delivery sweeper process
them. With eager Celery (tests) or no delay every stored event runs its own drain.

The dedupe key follows email-delivery.md §5.1: the ESP's own event id where it is trustworthy
(SES SNS MessageId, Postmark bounce ID), otherwise a hash of the fields that identify the
occurrence (ESP, message id, recipient, raw event name, raw event time, SMTP reply). SendGrid's
``sg_event_id`` changes between retries, so it is not used.
"""

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.utils import timezone

from notifications.models import EmailEvent
from portal.logs import log_decision

logger = logging.getLogger(__name__)

# Raw fields that say *when* and *what* happened, per ESP (email-delivery.md §5.1).
_RAW_NAME_FIELDS = ("event", "RecordType", "Type", "eventType", "notificationType")
_RAW_TIME_FIELDS = (
    "timestamp",
    "ts_event",
    "time",
    "BouncedAt",
    "DeliveredAt",
    "ChangedAt",
    "ReceivedAt",
)
_RAW_REPLY_FIELDS = ("reason", "response", "Details", "smtp_reply", "error", "status")
_TRUSTED_ID_ESPS = {"amazon_ses", "amazonses"}


def _esp_key(esp_name: str) -> str:
    return "".join(ch for ch in esp_name.lower() if ch.isalnum() or ch == "_")


def _first(raw: Mapping, fields) -> str:
    for field in fields:
        value = raw.get(field)
        if value not in (None, ""):
            return str(value)
    return ""


def _text(value) -> str:
    """A payload value for a text column: strings as they are, None as "", anything else (an
    authenticated but odd payload: a list, an object, a number) as its JSON text; NUL, which
    PostgreSQL refuses in text, as U+FFFD."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, cls=_LenientJSON, ensure_ascii=False)
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def dedupe_key(event, esp_name: str) -> str:
    esp = _esp_key(esp_name)
    recipient = _text(event.recipient).strip().lower()
    message_id = _text(event.message_id)
    raw = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if esp == "mailgun" and isinstance(raw.get("event-data"), Mapping):
        data = raw["event-data"]
        parts = [esp, str(data.get("id", "")), message_id, recipient]
    elif (esp in _TRUSTED_ID_ESPS and event.event_id) or (
        esp == "postmark" and raw.get("RecordType") == "Bounce" and raw.get("ID")
    ):
        parts = [esp, _text(event.event_id or raw.get("ID")), recipient]
    else:
        timestamp = event.timestamp.isoformat() if isinstance(event.timestamp, datetime) else ""
        parts = [
            esp,
            message_id,
            recipient,
            _first(raw, _RAW_NAME_FIELDS) or _text(event.event_type),
            _first(raw, _RAW_TIME_FIELDS) or timestamp,
            _first(raw, _RAW_REPLY_FIELDS) or _text(event.mta_response),
        ]
    return hashlib.sha256("\x1f".join(parts).encode(errors="surrogatepass")).hexdigest()


class _LenientJSON(DjangoJSONEncoder):
    """Payloads are JSON already for JSON ESPs; form-encoded ones may carry odd values: stored
    as their text instead of failing the request."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


class MalformedEvent(ValueError):
    """An authenticated event that is not JSON once parsed: a NaN or ±Infinity number, which
    Python's json reads (anymail parses bodies with it) but JSON does not allow and PostgreSQL's
    jsonb refuses. Nothing is stored for it; the webhook answers 400 (webhook_urls.py)."""


# \u0000 in JSON text (not preceded by another backslash): PostgreSQL's jsonb refuses it.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _json_dumps(value) -> str:
    try:
        text = json.dumps(value, cls=_LenientJSON, allow_nan=False)
    except ValueError as exc:  # "Out of range float values are not JSON compliant"
        raise MalformedEvent(f"not JSON: {exc}") from None
    if "\\u0000" in text:
        text = _JSON_NUL.sub(r"\1\\ufffd", text)
    return text


def _as_is(text: str) -> str:
    return text


# Columns the request fills; every other column gets its field default, prepared once.
_SET_COLUMNS = {
    "dedupe_key",
    "esp_name",
    "event_id",
    "event_type",
    "reject_reason",
    "recipient",
    "message_id",
    "esp_timestamp",
    "description",
    "mta_response",
    "metadata",
    "raw",
    "received_at",
}
_JSON, _DATETIME, _PLAIN, _DEFAULT = range(4)
_plans: dict[str, tuple[str, list[tuple[int, str, object]]]] = {}


def _plan(connection) -> tuple[str, list[tuple[int, str, object]]]:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` for this backend (PostgreSQL
    and SQLite >= 3.35 share the syntax) and, per column, how to get its parameter. Built once
    from the model's fields, so a field added later cannot be left out."""
    plan = _plans.get(connection.alias)
    if plan is None:
        meta = EmailEvent._meta
        qn = connection.ops.quote_name
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        steps = []
        for field in fields:
            if field.attname not in _SET_COLUMNS:
                default = field.get_db_prep_save(field.get_default(), connection)
                steps.append((_DEFAULT, field.attname, default))
            elif field.get_internal_type() == "JSONField":
                steps.append((_JSON, field.attname, None))
            elif field.get_internal_type() == "DateTimeField":
                steps.append((_DATETIME, field.attname, None))
            else:
                steps.append((_PLAIN, field.attname, None))
        assert {name for kind, name, _ in steps if kind != _DEFAULT} == _SET_COLUMNS
        sql = "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING RETURNING {}".format(
            qn(meta.db_table),
            ", ".join(qn(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
            qn(meta.get_field("dedupe_key").column),
            qn(meta.pk.column),
        )
        plan = _plans[connection.alias] = (sql, steps)
    return plan


def _insert(values: dict) -> int | None:
    """Insert one event row unless its dedupe key exists. Returns the new id, or None for a
    duplicate. One statement: in autocommit (the webhook) it is its own transaction."""
    connection = connections[router.db_for_write(EmailEvent)]
    sql, steps = _plan(connection)
    ops = connection.ops
    params = []
    for kind, name, default in steps:
        if kind == _DEFAULT:
            params.append(default)
        elif kind == _PLAIN:
            params.append(values[name])
        elif kind == _JSON:
            value = values[name]
            if value is None:
                params.append(None)
            elif connection.vendor == "postgresql":
                # In-function: only PostgreSQL connections need the psycopg adapter.
                from psycopg.types.json import Jsonb

                # Encoded here, not by psycopg while executing: a MalformedEvent is raised as
                # such, before the statement.
                params.append(Jsonb(_json_dumps(value), dumps=_as_is))
            else:
                params.append(_json_dumps(value))
        else:
            params.append(ops.adapt_datetimefield_value(values[name]))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def email_event_store(*, event, esp_name: str) -> int | None:
    """Store one tracking event (once) and kick the drain after commit. Returns the new row's
    id, or None for a duplicate."""
    key = dedupe_key(event, esp_name)
    message_id = _text(event.message_id)[:255]
    new_id = _insert(
        {
            "dedupe_key": key,
            "esp_name": _text(esp_name)[:40],
            "event_id": _text(event.event_id)[:200],
            "event_type": _text(event.event_type)[:20] or "unknown",
            "reject_reason": _text(event.reject_reason)[:20],
            "recipient": _text(event.recipient)[:254],
            "message_id": message_id,
            "esp_timestamp": event.timestamp if isinstance(event.timestamp, datetime) else None,
            "description": _text(event.description),
            "mta_response": _text(event.mta_response),
            "metadata": event.metadata or {},
            "raw": event.esp_event,
            "received_at": timezone.now(),
        }
    )
    if new_id is None:
        log_decision(logger, "webhook_duplicate", level=logging.DEBUG, esp=esp_name, key=key[:12])
        return None
    log_decision(
        logger,
        "webhook_stored",
        esp=esp_name,
        email_event=new_id,
        event_type=event.event_type,
        message_id=message_id or None,
    )
    # Runs at once in autocommit (the webhook), after commit inside a transaction (send-time
    # refusals, tests).
    transaction.on_commit(inbox_kick)
    return new_id


_kick_lock = threading.Lock()
# time.monotonic() before which a drain published by this process is certain not to have started.
_kick_covered_until = 0.0


def inbox_kick() -> None:
    """Make sure a drain starts after this point (see the module docstring). Never raises: the
    row is stored, and the periodic drain picks it up if no message can be queued now."""
    global _kick_covered_until
    from notifications.tasks import email_events_drain_task

    delay = settings.INBOX_DRAIN_DELAY
    deferred = delay > 0 and not email_events_drain_task.app.conf.task_always_eager
    published_at = time.monotonic()
    if deferred and published_at < _kick_covered_until:
        return  # a drain this process queued starts later and will see this row
    try:
        email_events_drain_task.apply_async(countdown=delay if deferred else None)
    except Exception:
        log_decision(
            logger,
            "inbox_kick_failed",
            level=logging.ERROR,
            exc_info=True,
            decision="periodic_drain",
        )
        if deferred:
            # The broker is down: the next requests of this window do not wait on it again
            # (celery retries a publish for ~0.7 s). Their rows are drained by the first kick
            # after the window, or by the periodic drain.
            with _kick_lock:
                _kick_covered_until = max(_kick_covered_until, published_at + delay)
        return
    if deferred:
        with _kick_lock:
            _kick_covered_until = max(
                _kick_covered_until, published_at + delay - settings.INBOX_DRAIN_CLOCK_MARGIN
            )


def tracking_receiver(sender, event, esp_name, **kwargs) -> None:
    """anymail's ``tracking`` signal: store and return. A failure to store propagates, so the ESP
    gets a 5xx and retries (the event is not in our inbox yet)."""
    email_event_store(event=event, esp_name=esp_name)
