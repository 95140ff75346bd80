"""Which ESP sent a payload, and the one raw event an anymail event came from."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from notifications.classifier.base import (
    _get,
    _low,
)

# --- ESP names and raw-payload normalization ----------------------------------------------------

_ESP_ALIASES = {
    "amazonses": "amazon_ses",
    "ses": "amazon_ses",
    "sendinblue": "brevo",
}


def _normalize_esp(esp_name: Any) -> str:
    """Canonical ESP name: "Amazon SES" (signal), "amazon_ses" (URL), "SendinBlue" -> brevo."""
    name = re.sub(r"[^a-z0-9]+", "_", _low(esp_name)).strip("_")
    return _ESP_ALIASES.get(name.replace("_", ""), _ESP_ALIASES.get(name, name))


def _guess_esp(raw: Any) -> str:
    """Best-effort ESP from the payload's *shape* when the caller did not say."""
    if isinstance(raw, list | tuple):
        raw = next((item for item in raw if isinstance(item, Mapping)), None)
    if raw is None or not (isinstance(raw, Mapping) or hasattr(raw, "getlist")):
        return ""

    def has(*keys: str) -> bool:
        return any(_get(raw, key) is not None for key in keys)

    if has("msys"):
        return "sparkpost"
    if has("RecordType"):
        return "postmark"
    if has("event-data"):
        return "mailgun"
    if has("notificationType", "eventType") and has("mail"):
        return "amazon_ses"
    if _get(raw, "Type") == "Notification" and isinstance(_get(raw, "Message"), str):
        return "amazon_ses"
    if has("sg_event_id", "sg_message_id"):
        return "sendgrid"
    if has("X-Mailin-custom", "ts_epoch"):
        return "brevo"
    if has("mj_campaign_id", "mj_contact_id", "Message_GUID"):
        return "mailjet"
    if has("event") and has("token") and has("signature"):
        return "mailgun"  # legacy form-encoded webhook
    return ""


def _unwrap(raw: Any, recipient: str) -> Any:
    """The one raw event this anymail event came from, as a mapping (or None)."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    if isinstance(raw, list | tuple):
        candidates = [item for item in raw if isinstance(item, Mapping)]
        for item in candidates:
            if recipient and _low(_get(item, "email") or _get(item, "recipient")) == recipient:
                return item
        return candidates[0] if candidates else None
    if isinstance(raw, Mapping) and _get(raw, "Type") == "Notification":
        # An SNS envelope (anymail passes the parsed inner SES message, but accept both).
        message = _get(raw, "Message")
        if isinstance(message, str):
            try:
                inner = json.loads(message)
            except (ValueError, RecursionError):
                inner = None
            if isinstance(inner, Mapping):
                return inner
    if isinstance(raw, Mapping) or callable(getattr(raw, "getlist", None)):
        return raw
    return None
