"""Generic rules (any ESP): anymail's normalized fields plus ESP-neutral raw hints."""

from __future__ import annotations

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
    _Verdict,
)
from notifications.classifier.smtp import _basic_code_verdict, _code_verdict, _Facts, _refine


def _raw_hint(raw: Any) -> str:
    """A "suppressed" / "soft" / "hard" hint from the raw *type* fields other ESPs use
    (Mandrill ``soft_bounce``, MailerSend ``soft_bounced``, Postal ``HardFail``, Resend
    ``bounce.type``/``subType``), or ""."""
    data = _dict(_get(raw, "data"))
    bounce = _dict(data.get("bounce"))
    payload = _dict(_get(raw, "payload"))
    names = [
        _low(value)
        for value in (
            _get(raw, "event"),
            _get(raw, "type"),
            data.get("type"),
            bounce.get("type"),
            bounce.get("subType"),
            payload.get("status"),
        )
    ]
    if any("suppress" in name for name in names):
        return "suppressed"
    if any("soft" in name or name == "transient" for name in names):
        return "soft"
    if any("hard" in name or name == "permanent" for name in names):
        return "hard"
    return ""


_RECORD_TYPES = {
    "queued",
    "sent",
    "deferred",  # "should be followed by bounced or delivered": in progress
    "opened",
    "clicked",
    "autoresponded",
    "subscribed",
    "inbound",
    "inbound_failed",
    "unknown",
}


def _generic(ev: _EventView, raw: Any, facts: _Facts) -> _Verdict:
    kind, reason = ev.event_type, ev.reject_reason
    if kind == "delivered":
        return _DELIVER
    if kind == "complained":
        return _fixed(HARD, SPAM_COMPLAINT)
    if kind == "unsubscribed":
        return _fixed(HARD, UNSUBSCRIBED)
    if kind in _RECORD_TYPES:
        return _RECORD
    hint = _raw_hint(raw)
    if kind == "failed":
        if hint == "hard":  # Postal HardFail is reported as "failed"
            return _refine(_default(HARD, INVALID_ADDRESS), facts)
        return _fixed(SENDER, SENDING_PROBLEM)  # template / render / API failure
    if kind == "rejected":
        # The ESP refused to send (anymail): suppression list, policy or invalid address.
        if reason == "bounced":  # anymail: "on the ESP's bounce suppression list"
            return _fixed(HARD, SUPPRESSED)
        if reason == "invalid":
            return _fixed(HARD, INVALID_ADDRESS)
        if reason == "spam":
            return _fixed(HARD, SPAM_COMPLAINT)
        if reason == "unsubscribed":
            return _fixed(HARD, UNSUBSCRIBED)
        if reason == "timed_out":
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        if reason == "blocked":
            # "ESP policy": suppression at some ESPs, a block of *us* at others. Without an
            # ESP-specific rule, never deactivate on the ambiguity.
            return _fixed(SENDER, PROVIDER_BLOCKED)
        return _fixed(SENDER, SENDING_PROBLEM)
    if kind == "bounced":
        if hint == "suppressed":
            return _fixed(HARD, SUPPRESSED)
        if hint == "soft":
            return _refine(_default(SOFT, OTHER), facts)
        if hint == "hard":
            return _refine(_default(HARD, INVALID_ADDRESS), facts)
        by_code = _code_verdict(facts.enhanced, hard_label=False)
        if by_code is not None:
            return by_code
        if reason == "invalid":
            return _fixed(HARD, INVALID_ADDRESS)
        if reason == "unsubscribed":
            return _fixed(HARD, UNSUBSCRIBED)
        if reason == "timed_out":
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        if reason in ("spam", "blocked"):  # receiver's spam/policy block of our message
            return _fixed(SENDER, PROVIDER_BLOCKED)
        by_basic = _basic_code_verdict(facts.smtp_code)
        if by_basic is not None:
            return by_basic
        if facts.enhanced_class == "5":  # 5.0.0, 5.5.x: permanent, unspecific
            return _fixed(HARD, INVALID_ADDRESS)
        # anymail's "bounced" is not always permanent: with no code and no ESP type, count it
        # as a final soft failure (the merchant is alerted at the first one).
        return _fixed(SOFT, OTHER)
    return _RECORD  # future event types
