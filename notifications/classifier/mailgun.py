"""Mailgun: current (``event-data``) and legacy (form-encoded) webhooks.

``verdict`` records codes and diagnostic texts in ``facts`` and returns a verdict, or None when
the payload does not say enough (the generic anymail-field rules then decide)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from notifications.classifier.base import (
    _DELIVER,
    _RECORD,
    HARD,
    INVALID_ADDRESS,
    OTHER,
    PROVIDER_BLOCKED,
    SENDER,
    SENDING_PROBLEM,
    SERVER_UNAVAILABLE,
    SOFT,
    SPAM_COMPLAINT,
    SUPPRESSED,
    UNSUBSCRIBED,
    _default,
    _dict,
    _EventView,
    _fixed,
    _get,
    _low,
    _str,
    _Verdict,
)
from notifications.classifier.smtp import _Facts

# Mailgun's own 6xx codes (605 previously bounced, 606 unsubscribed, 607 complained) travel in
# the same ``code`` field as SMTP codes.
_MAILGUN_CODE_RE = re.compile(r"[2-6]\d\d")

_MAILGUN_SUPPRESSIONS = {
    "suppress-bounce": SUPPRESSED,
    "suppress-unsubscribe": UNSUBSCRIBED,
    "suppress-complaint": SPAM_COMPLAINT,
}
_MAILGUN_SUPPRESSION_CODES = {"605": SUPPRESSED, "606": UNSUBSCRIBED, "607": SPAM_COMPLAINT}


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    event_data = _get(raw, "event-data")
    if isinstance(event_data, Mapping):
        return _mailgun_current(event_data, ev, facts)
    if _get(raw, "event") is not None:
        return _mailgun_legacy(raw, ev, facts)
    return None


def _mailgun_current(data: Mapping, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(data.get("event"))
    status = _dict(data.get("delivery-status"))
    facts.set_smtp(status.get("code"), _MAILGUN_CODE_RE)
    facts.set_enhanced(status.get("enhanced-code") or status.get("bounce-code"))
    facts.add_text(status.get("message"), status.get("description"))
    facts.add_text(_dict(data.get("reject")).get("reason"))
    facts.finalize(ev)
    if name == "delivered":
        return _DELIVER
    if name in ("accepted", "opened", "clicked", "stored", "list_member_uploaded"):
        return _RECORD
    if name == "complained":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name == "unsubscribed":
        return _fixed(HARD, UNSUBSCRIBED)
    if name == "rejected":  # Mailgun refused our API request (account, domain, sandbox)
        return _fixed(SENDER, SENDING_PROBLEM)
    if name != "failed":
        return None
    reason = _low(data.get("reason"))
    if reason in _MAILGUN_SUPPRESSIONS:
        return _fixed(HARD, _MAILGUN_SUPPRESSIONS[reason])
    if _low(data.get("severity")) == "temporary":
        return _RECORD  # Mailgun retries (greylisting included): in progress
    if facts.smtp_code in _MAILGUN_SUPPRESSION_CODES:
        return _fixed(HARD, _MAILGUN_SUPPRESSION_CODES[facts.smtp_code])
    if reason == "bounce":
        return _default(HARD, INVALID_ADDRESS)
    if reason == "espblock":  # the recipient's mailbox provider blocked the message
        return _default(SENDER, PROVIDER_BLOCKED)
    if reason in ("old", "greylisted"):  # gave up after retrying
        return _default(SOFT, SERVER_UNAVAILABLE)
    # "generic" or absent: a final failure of undetermined cause.
    return _default(SOFT, OTHER)


def _mailgun_legacy(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(_get(raw, "event"))
    code = _str(_get(raw, "code")).strip()
    facts.set_smtp(code, _MAILGUN_CODE_RE)
    facts.set_enhanced(code if "." in code else "")
    facts.add_text(_get(raw, "error"), _get(raw, "notification"), _get(raw, "description"))
    facts.finalize(ev)
    if name == "delivered":
        return _DELIVER
    if name in ("opened", "clicked"):
        return _RECORD
    if name == "complained":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name == "unsubscribed":
        return _fixed(HARD, UNSUBSCRIBED)
    if facts.smtp_code in _MAILGUN_SUPPRESSION_CODES:
        return _fixed(HARD, _MAILGUN_SUPPRESSION_CODES[facts.smtp_code])
    if name == "dropped":
        reason = _low(_get(raw, "reason"))
        if reason == "hardfail":  # previously bounced/unsubscribed/complained address
            return _fixed(HARD, SUPPRESSED)
        if reason in ("old", "maxfails"):
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        return _default(SOFT, OTHER)
    if name == "bounced":
        return _default(HARD, INVALID_ADDRESS)
    return None
