"""Mailjet: ``event``, ``hard_bounce`` and the enumerated ``error``.

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
    _EventView,
    _fixed,
    _get,
    _low,
    _truthy,
    _Verdict,
)
from notifications.classifier.smtp import _Facts

# Mailjet's ``error`` vocabulary (api-documentation guides/_event-api.md); an enumerated field.
_MAILJET_ERRORS: dict[str, tuple[_Verdict, _Verdict]] = {
    # error: (verdict when hard_bounce is true, verdict when false)
    "user unknown": (_fixed(HARD, INVALID_ADDRESS), _fixed(SOFT, INVALID_ADDRESS)),
    "mailbox inactive": (_fixed(HARD, INVALID_ADDRESS), _fixed(HARD, INVALID_ADDRESS)),
    "quota exceeded": (_fixed(SOFT, MAILBOX_FULL), _fixed(SOFT, MAILBOX_FULL)),
    "invalid domain": (_fixed(HARD, INVALID_ADDRESS), _fixed(SOFT, INVALID_ADDRESS)),
    "no mail host": (_fixed(HARD, INVALID_ADDRESS), _fixed(SOFT, SERVER_UNAVAILABLE)),
    "typofix": (_fixed(HARD, INVALID_ADDRESS), _fixed(HARD, INVALID_ADDRESS)),
    # Relaying denied: grouped with the receiver-policy blocks (as SparkPost class 54).
    "relay/access denied": (_fixed(SENDER, PROVIDER_BLOCKED), _fixed(SENDER, PROVIDER_BLOCKED)),
    "sender blocked": (_fixed(SENDER, PROVIDER_BLOCKED), _fixed(SENDER, PROVIDER_BLOCKED)),
    "content blocked": (_fixed(SENDER, PROVIDER_BLOCKED), _fixed(SENDER, PROVIDER_BLOCKED)),
    "policy issue": (_fixed(SENDER, PROVIDER_BLOCKED), _fixed(SENDER, PROVIDER_BLOCKED)),
    "system issue": (_fixed(SOFT, SERVER_UNAVAILABLE), _fixed(SOFT, SERVER_UNAVAILABLE)),
    "protocol issue": (_fixed(SOFT, SERVER_UNAVAILABLE), _fixed(SOFT, SERVER_UNAVAILABLE)),
    "connection issue": (_fixed(SOFT, SERVER_UNAVAILABLE), _fixed(SOFT, SERVER_UNAVAILABLE)),
    "spam reporter": (_fixed(HARD, SPAM_COMPLAINT), _fixed(HARD, SPAM_COMPLAINT)),
    "blacklisted": (_fixed(HARD, SUPPRESSED), _fixed(HARD, SUPPRESSED)),
    "preblocked": (_fixed(HARD, SUPPRESSED), _fixed(HARD, SUPPRESSED)),
    "duplicate in campaign": (_RECORD, _RECORD),
}


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(_get(raw, "event"))
    error = _low(_get(raw, "error"))
    related = _low(_get(raw, "error_related_to"))
    facts.add_text(_get(raw, "smtp_reply"))
    if error:
        facts.add_text(f"{related}: {error}" if related else error)
    facts.finalize(ev)
    hard_bounce = _truthy(_get(raw, "hard_bounce"))
    if name == "sent":  # accepted by the receiving MTA
        return _DELIVER
    if name in ("open", "click"):
        return _RECORD
    if name == "spam":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name == "unsub":
        return _fixed(HARD, UNSUBSCRIBED)
    if name == "bounce":
        if error == "greylisted" and not hard_bounce:
            return _RECORD  # "Delivery will be re-attempted"
        if error in _MAILJET_ERRORS:
            when_hard, when_soft = _MAILJET_ERRORS[error]
            return when_hard if hard_bounce else when_soft
        if error == "greylisted":
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        return _default(HARD, INVALID_ADDRESS) if hard_bounce else _default(SOFT, OTHER)
    if name == "blocked":  # not sent at all
        if error in _MAILJET_ERRORS:
            return _MAILJET_ERRORS[error][0]
        return _fixed(SENDER, SENDING_PROBLEM)
    return None
