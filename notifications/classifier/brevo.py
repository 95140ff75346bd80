"""Brevo (formerly Sendinblue): the webhook's ``event``.

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
    RECORD,
    SENDER,
    SENDING_PROBLEM,
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
from notifications.classifier.smtp import _code_verdict, _Facts

_BREVO_EVENTS: dict[str, _Verdict] = {
    "request": _RECORD,
    "delivered": _DELIVER,
    "opened": _RECORD,
    "unique_opened": _RECORD,
    "proxy_open": _RECORD,
    "unique_proxy_open": _RECORD,
    "click": _RECORD,
    "list_addition": _RECORD,
    "hard_bounce": _default(HARD, INVALID_ADDRESS),
    "soft_bounce": _default(SOFT, MAILBOX_FULL),  # Brevo stopped retrying: final
    "invalid_email": _fixed(HARD, INVALID_ADDRESS),
    "blocked": _fixed(HARD, SUPPRESSED),  # on Brevo's blocklist (suppression list)
    "spam": _fixed(HARD, SPAM_COMPLAINT),
    "complaint": _fixed(HARD, SPAM_COMPLAINT),
    # anymail maps "unsubscribe" only; "unsubscribed" comes out as unknown (§8).
    "unsubscribe": _fixed(HARD, UNSUBSCRIBED),
    "unsubscribed": _fixed(HARD, UNSUBSCRIBED),
    "error": _fixed(SENDER, SENDING_PROBLEM),
}


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(_get(raw, "event"))
    facts.add_text(_get(raw, "reason"))
    facts.finalize(ev)
    if name == "deferred":
        # Brevo sometimes files a clear permanent address failure (5.1.1) under "deferred"
        # (anymail notes it "mis-categorizes"). Brevo still retries, so it stays informational
        # (no failure counted, no resend by us), but it names the cause: the address is
        # "suspeito" for the merchant until a delivery or a final failure settles it.
        by_code = (
            _code_verdict(facts.enhanced, hard_label=False) if facts.enhanced_class == "5" else None
        )
        if by_code is not None and by_code.action == HARD:
            return _fixed(RECORD, by_code.cause)
        return _RECORD
    return _BREVO_EVENTS.get(name)
