"""SMTP replies, parsed once for every ESP: the basic code (RFC 5321) and the enhanced status
code (RFC 3463) out of an ESP's status fields or reply text, and what a specific code says
(email-delivery.md §2.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from notifications.classifier.base import (
    HARD,
    INVALID_ADDRESS,
    MAILBOX_FULL,
    OTHER,
    PROVIDER_BLOCKED,
    SENDER,
    SENDING_PROBLEM,
    SERVER_UNAVAILABLE,
    SOFT,
    _EventView,
    _fixed,
    _one_line,
    _str,
    _Verdict,
)

# --- SMTP code parsing ------------------------------------------------------------------------

# RFC 3463 class.subject.detail; subjects 0-7 are the defined ones. Not part of a longer
# dotted number (IP addresses, versions).
_ENHANCED_RE = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?!\d)(?!\.\d)")
# "550 5.1.1", "452-4.2.2", "550 #5.1.1": the basic code right before the enhanced one.
_PAIR_RE = re.compile(r"(?<![\w.])([2-5]\d\d)[ \t-]+\(?#?([245]\.[0-7]\.\d{1,3})(?!\d)(?!\.\d)")
# A reply that *starts* with a basic code, after an optional "smtp;" / "sent (" prefix.
_LEAD_RE = re.compile(r"^\s*(?:[A-Za-z][\w.-]*\s*[;:(]\s*)?\(?\s*([2-5]\d\d)(?![\w.])")
_SMTP_FIELD_RE = re.compile(r"[2-5]\d\d")


def _enhanced_in(text: str) -> str:
    match = _ENHANCED_RE.search(text)
    return ".".join(match.groups()) if match else ""


@dataclass
class _Facts:
    """Codes and diagnostic text gathered from the raw payload (then from anymail's fields)."""

    smtp_code: str = ""
    enhanced: str = ""
    texts: list[str] = field(default_factory=list)
    diagnostic: str = ""
    _done: bool = False

    def set_smtp(self, value: Any, pattern: re.Pattern = _SMTP_FIELD_RE) -> None:
        text = _str(value).strip()
        if not self.smtp_code and pattern.fullmatch(text):
            self.smtp_code = text

    def set_enhanced(self, value: Any) -> None:
        text = _str(value).strip()
        if not self.enhanced and text:
            self.enhanced = _enhanced_in(text)

    def add_text(self, *values: Any) -> None:
        for value in values:
            text = _str(value).strip()
            if text:
                self.texts.append(text)

    def finalize(self, ev: _EventView) -> _Facts:
        if self._done:
            return self
        self._done = True
        texts = self.texts + [t for t in (ev.mta_response, ev.description) if t.strip()]
        for text in texts:
            pair = _PAIR_RE.search(text)
            if pair:
                self.set_smtp(pair.group(1))
                self.set_enhanced(pair.group(2))
                break
        for text in texts:
            self.set_enhanced(text)
            lead = _LEAD_RE.match(text)
            if lead:
                self.set_smtp(lead.group(1))
        self.diagnostic = _one_line(texts[0]) if texts else ""
        return self

    @property
    def enhanced_class(self) -> str:
        return self.enhanced[:1]


def _code_verdict(enhanced: str, *, hard_label: bool) -> _Verdict | None:
    """What a *specific* RFC 3463 code says (email-delivery.md §2.1), or None when the code is
    generic (X.0.0, X.5.x, ...) and the ESP label or anymail's fields must decide.

    ``hard_label``: the ESP itself called the failure permanent, which turns "soft, then hard
    if persistent" codes (X.4.4 unable to route) and 4xx address codes into hard.
    """
    if not enhanced:
        return None
    try:
        klass, subject, detail = (int(part) for part in enhanced.split("."))
    except ValueError:
        return None
    if klass == 2:
        return None
    permanent = klass == 5
    if subject == 1:
        if detail in (0, 1, 2, 3, 6, 10):  # bad mailbox / domain / syntax, moved, null MX
            return _fixed(HARD if permanent or hard_label else SOFT, INVALID_ADDRESS)
        if detail in (7, 8):  # bad *sender* address: our configuration
            return _fixed(SENDER, SENDING_PROBLEM)
        return None
    if subject == 2:
        if detail == 1:  # mailbox disabled
            return _fixed(HARD, INVALID_ADDRESS) if permanent else _fixed(SOFT, OTHER)
        if detail == 2:  # mailbox full: soft in practice even as 5.2.2
            return _fixed(SOFT, MAILBOX_FULL)
        if detail == 3:  # message too big: the boleto PDF is our problem
            return _fixed(SENDER, SENDING_PROBLEM)
        if detail == 4:  # mailing-list expansion problem
            return _fixed(SOFT, OTHER)
        return None
    if subject == 3:
        if detail in (3, 4):  # features not supported / message too big for system
            return _fixed(SENDER, SENDING_PROBLEM)
        if detail in (1, 2, 5):  # receiving system full / not accepting / misconfigured
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        return None
    if subject == 4:
        # Network and routing: soft. X.4.4 (unable to route, e.g. persistent NXDOMAIN) turns
        # hard once the ESP itself marks it permanent (§3 "Domain has no mail host at all").
        if detail == 4 and permanent and hard_label:
            return _fixed(HARD, INVALID_ADDRESS)
        return _fixed(SOFT, SERVER_UNAVAILABLE)
    if subject == 6:  # media / content conversion: our message
        return _fixed(SENDER, SENDING_PROBLEM)
    if subject == 7:
        # Security / policy: spam, reputation, SPF/DKIM/DMARC (Gmail/Yahoo 4.7.x/5.7.x).
        # email-delivery.md §2.1/§3: sender-side, *not* the customer's address — including
        # the "recipient-looking" 5.7.1 variants; they never deactivate.
        return _fixed(SENDER, PROVIDER_BLOCKED)
    return None


def _basic_code_verdict(smtp_code: str) -> _Verdict | None:
    """Weakest signal: only used when neither the ESP label nor an enhanced code decides."""
    if not smtp_code:
        return None
    if smtp_code in ("452", "552"):  # insufficient storage / exceeded storage allocation
        return _fixed(SOFT, MAILBOX_FULL)
    if smtp_code.startswith("4"):  # 421 service not available, 450/451 ...
        return _fixed(SOFT, SERVER_UNAVAILABLE)
    if smtp_code.startswith("5"):
        return _fixed(HARD, INVALID_ADDRESS)
    return None


def _refine(verdict: _Verdict, facts: _Facts) -> _Verdict:
    if not verdict.refine:
        return verdict
    by_code = _code_verdict(facts.enhanced, hard_label=verdict.action == HARD)
    if by_code is not None:
        return by_code
    return _fixed(verdict.action, verdict.cause)
