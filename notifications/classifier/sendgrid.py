"""SendGrid: the event webhook's ``event``, ``type``, ``reason`` and ``bounce_classification``.

``verdict`` records codes and diagnostic texts in ``facts`` and returns a verdict, or None when
the payload does not say enough (the generic anymail-field rules then decide)."""

from __future__ import annotations

from typing import Any

from notifications.classifier.base import (
    _DELIVER,
    _RECORD,
    HARD,
    INVALID_ADDRESS,
    MAILBOX_FULL,
    PROVIDER_BLOCKED,
    SENDER,
    SENDING_PROBLEM,
    SERVER_UNAVAILABLE,
    SOFT,
    SPAM_COMPLAINT,
    SUPPRESSED,
    UNSUBSCRIBED,
    _default,
    _EventView,
    _fixed,
    _get,
    _low,
    _Verdict,
)
from notifications.classifier.smtp import _Facts


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(_get(raw, "event"))
    facts.set_enhanced(_get(raw, "status"))
    facts.add_text(_get(raw, "reason"), _get(raw, "response"))
    facts.finalize(ev)
    if name == "delivered":
        return _DELIVER
    if name in ("processed", "deferred", "open", "click", "group_resubscribe"):
        # deferred: SendGrid keeps retrying (``attempt`` counts): in progress.
        return _RECORD
    if name == "spamreport":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name in ("unsubscribe", "group_unsubscribe"):
        return _fixed(HARD, UNSUBSCRIBED)
    if name == "bounce":
        # SendGrid's classification vocabulary is an enumerated field (not free text).
        classification = _low(_get(raw, "bounce_classification"))
        kind = _low(_get(raw, "type"))
        if classification in ("reputation", "content", "frequency or volume too high"):
            return _fixed(SENDER, PROVIDER_BLOCKED)
        if classification == "invalid address":
            return _fixed(HARD, INVALID_ADDRESS)
        if classification == "mailbox unavailable":
            return _default(SOFT, MAILBOX_FULL)
        if classification == "technical":
            return _default(SOFT, SERVER_UNAVAILABLE)
        if kind == "blocked":  # the receiver blocked *us* (not suppressed by SendGrid)
            return _default(SENDER, PROVIDER_BLOCKED)
        if kind == "expired":
            return _default(SOFT, SERVER_UNAVAILABLE)
        return _default(HARD, INVALID_ADDRESS)  # type "bounce": hard unless the code says else
    if name == "dropped":
        # Dropped before sending. SendGrid names the suppression list only in ``reason`` (an
        # enumerated value such as "Bounced Address"), exactly what anymail maps too.
        reason = _low(_get(raw, "type")) or _low(_get(raw, "reason"))
        if reason in ("bounced address", "bounce"):  # SendGrid's bounce suppression list
            return _fixed(HARD, SUPPRESSED)
        if reason in ("invalid", "invalid address"):
            return _fixed(HARD, INVALID_ADDRESS)
        if reason in ("unsubscribed address", "unsubscribed group", "unsubscribe"):
            return _fixed(HARD, UNSUBSCRIBED)
        if reason in ("spam reporting address", "spam report"):
            return _fixed(HARD, SPAM_COMPLAINT)
        if reason == "expired":
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        # "Spam Content", "Invalid SMTPAPI header", "Recipient List over Package Quota", ...
        return _fixed(SENDER, SENDING_PROBLEM)
    return None
