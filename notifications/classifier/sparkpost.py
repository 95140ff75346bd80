"""SparkPost: ``msys`` events and the ``bounce_class``.

``verdict`` records codes and diagnostic texts in ``facts`` and returns a verdict, or None when
the payload does not say enough (the generic anymail-field rules then decide)."""

from __future__ import annotations

from collections.abc import Mapping
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
    _str,
    _Verdict,
)
from notifications.classifier.smtp import _Facts

_SPARKPOST_CLASSES: dict[str, _Verdict] = {
    "1": _default(SOFT, OTHER),  # undetermined
    "10": _fixed(HARD, INVALID_ADDRESS),
    "20": _default(SOFT, OTHER),
    "21": _fixed(SOFT, SERVER_UNAVAILABLE),  # DNS failure
    "22": _fixed(SOFT, MAILBOX_FULL),
    "23": _fixed(SENDER, SENDING_PROBLEM),  # too large
    "24": _fixed(SOFT, SERVER_UNAVAILABLE),  # timeout
    "25": _fixed(HARD, SUPPRESSED),  # admin failure: SparkPost's policies (suppression list)
    "30": _default(HARD, INVALID_ADDRESS),
    "40": _default(HARD, INVALID_ADDRESS),
    "50": _fixed(SENDER, PROVIDER_BLOCKED),
    "51": _fixed(SENDER, PROVIDER_BLOCKED),
    "52": _fixed(SENDER, PROVIDER_BLOCKED),
    "53": _fixed(SENDER, SENDING_PROBLEM),  # prohibited attachment: the boleto PDF
    "54": _fixed(SENDER, PROVIDER_BLOCKED),
    "60": _RECORD,
    "70": _default(SOFT, OTHER),
    "80": _RECORD,
    "90": _fixed(HARD, UNSUBSCRIBED),
    "100": _RECORD,
}


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    msys = _get(raw, "msys")
    if isinstance(msys, Mapping):
        inner = [value for value in msys.values() if isinstance(value, Mapping)]
        raw = inner[0] if len(inner) == 1 else {}
    name = _low(_get(raw, "type"))
    facts.set_smtp(_get(raw, "error_code"))
    facts.add_text(_get(raw, "raw_reason"), _get(raw, "reason"))
    facts.finalize(ev)
    if name == "delivery":
        return _DELIVER
    if name in (
        "delay",
        "injection",
        "open",
        "click",
        "initial_open",
        "amp_open",
        "amp_click",
        "amp_initial_open",
    ):
        return _RECORD
    if name == "spam_complaint":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name in ("list_unsubscribe", "link_unsubscribe"):
        return _fixed(HARD, UNSUBSCRIBED)
    if name in ("generation_failure", "generation_rejection"):
        return _fixed(SENDER, SENDING_PROBLEM)
    if name in ("bounce", "out_of_band", "policy_rejection"):
        verdict = _SPARKPOST_CLASSES.get(_str(_get(raw, "bounce_class")).strip())
        if verdict is not None:
            return verdict
        return _fixed(SENDER, PROVIDER_BLOCKED) if name == "policy_rejection" else None
    return None
