"""Receiving ESP tracking events: dedupe, store, acknowledge; processing happens in a task.

The dedupe key follows email-delivery.md §5.1: the ESP's own event id where it is trustworthy
(SES SNS MessageId, Postmark bounce ID), otherwise a hash of the fields that identify the
occurrence (ESP, message id, recipient, raw event name, raw event time, SMTP reply). SendGrid's
``sg_event_id`` changes between retries, so it is not used.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from notifications.models import EmailEvent
from portal.queue import enqueue_on_commit

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


def dedupe_key(event, esp_name: str) -> str:
    esp = _esp_key(esp_name)
    recipient = (event.recipient or "").strip().lower()
    raw = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if esp == "mailgun" and isinstance(raw.get("event-data"), Mapping):
        data = raw["event-data"]
        parts = [esp, str(data.get("id", "")), event.message_id or "", recipient]
    elif (esp in _TRUSTED_ID_ESPS and event.event_id) or (
        esp == "postmark" and raw.get("RecordType") == "Bounce" and raw.get("ID")
    ):
        parts = [esp, str(event.event_id or raw.get("ID")), recipient]
    else:
        parts = [
            esp,
            event.message_id or "",
            recipient,
            _first(raw, _RAW_NAME_FIELDS) or event.event_type,
            _first(raw, _RAW_TIME_FIELDS)
            or (event.timestamp.isoformat() if event.timestamp else ""),
            _first(raw, _RAW_REPLY_FIELDS) or (event.mta_response or ""),
        ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def email_event_store(*, event, esp_name: str) -> EmailEvent | None:
    """Store one tracking event (once) and queue its processing. Returns None for a duplicate."""
    from notifications.tasks import email_event_process_task

    key = dedupe_key(event, esp_name)
    try:
        with transaction.atomic():
            stored = EmailEvent.objects.create(
                dedupe_key=key,
                esp_name=esp_name[:40],
                event_id=(event.event_id or "")[:200],
                event_type=event.event_type or "unknown",
                reject_reason=event.reject_reason or "",
                recipient=(event.recipient or "")[:254],
                message_id=(event.message_id or "")[:255],
                esp_timestamp=event.timestamp,
                description=event.description or "",
                mta_response=event.mta_response or "",
                metadata=_jsonable(event.metadata or {}),
                raw=_jsonable(event.esp_event),
            )
            enqueue_on_commit(email_event_process_task, email_event_id=stored.pk)
    except IntegrityError:
        logger.debug("duplicate tracking event esp=%s key=%s ignored", esp_name, key[:12])
        return None
    return stored


def tracking_receiver(sender, event, esp_name, **kwargs) -> None:
    """anymail's ``tracking`` signal: store and return. A failure to store propagates, so the ESP
    gets a 5xx and retries (the event is not in our inbox yet)."""
    email_event_store(event=event, esp_name=esp_name)
