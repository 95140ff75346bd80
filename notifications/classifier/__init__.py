"""Bounce policy: turn one anymail tracking event into a portal decision.

``classify(event, esp_name=...)`` is a pure function (no database, no network). It reads an
``anymail.signals.AnymailTrackingEvent`` and answers *what the portal should do* with it:

* ``deliver`` — the receiving server accepted the message: reset the soft-failure counter.
* ``record``  — informational (queued, sent, deferred while the ESP still retries, opened,
  clicked, auto-replies, unknown): store it and show it on the timeline, nothing else. A
  record may carry a cause when the receiver already named one while the ESP still retries
  (Brevo ``deferred`` with 5.1.1): the address is then "suspeito", never deactivated on it.
* ``soft``    — a *final* transient failure for this message (the ESP stopped retrying):
  counts toward the soft-failure threshold (product.md "Delivery", email-delivery.md §6.4).
* ``hard``    — permanent: deactivate the schedule now (nonexistent address, ESP
  suppression, spam complaint, unsubscribe). An address on the ESP's own suppression list
  (fed by earlier bounces) is its own cause, ``esp_suppressed``: support can clear it, so
  the merchant may keep the address; complaint/unsubscribe lists keep those causes.
* ``sender``  — a problem on our side (reputation, content, authentication, message size,
  template/API failure): never deactivates the customer; alert ops / the merchant.

Why this is not just ``event.event_type``: anymail's ``bounced`` does **not** mean hard
(email-delivery.md §1.3). Postmark ``SoftBounce``, SES ``Transient``, Brevo ``soft_bounce``
and Mailjet ``hard_bounce: false`` all come out as ``bounced/bounced``; SendGrid ``type:
blocked`` (our reputation) comes out as ``bounced/None``; and ``reject_reason`` is often
``None`` or ``other`` on events that must deactivate. So the decision follows the order of
email-delivery.md §3:

1. the ESP-native type fields in ``event.esp_event`` (SES ``bounceType``/``bounceSubType``,
   Postmark ``Type``, Mailgun ``severity``/``reason``, SendGrid ``event``/``type``/
   ``bounce_classification``, Brevo ``event``, Mailjet ``hard_bounce``/``error``, SparkPost
   ``bounce_class``);
2. the RFC 3463 enhanced status code (from the ESP's status field or parsed out of the SMTP
   reply). When the ESP's label is generic (e.g. SES ``Permanent/General``, Postmark
   ``HardBounce``/``SoftBounce``, Mailgun permanent ``bounce``), a specific enhanced code
   refines it — "use the more specific of the two" (§2.1);
3. anymail's normalized ``event_type`` and ``reject_reason``;
4. anything still unclassified is ``record`` — never a deactivation.

We never branch on free-text descriptions. The only string values we compare are
*enumerated* ESP fields (SendGrid's ``dropped`` ``reason`` such as "Bounced Address" and its
``bounce_classification``; Mailjet's ``error`` vocabulary) — the documented ESP payloads
carry the cause only there, so this is unavoidable (anymail itself maps the same strings).
Numeric codes are parsed out of the SMTP reply text, which is structured by RFC 5321/3463.

``classify`` never raises: malformed payloads (``esp_event`` missing, a string, a list, odd
types) fall back to anymail's normalized fields, and an unexpected error degrades to a safe
``record``/anymail-only decision that is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from notifications.classifier import (
    amazon_ses,
    brevo,
    mailgun,
    mailjet,
    postmark,
    sendgrid,
    sparkpost,
)
from notifications.classifier.base import (
    ACTIONS,
    DELIVER,
    DIAGNOSTIC_MAX,
    HARD,
    INVALID_ADDRESS,
    MAILBOX_FULL,
    OTHER,
    PROVIDER_BLOCKED,
    RECORD,
    SENDER,
    SENDING_PROBLEM,
    SERVER_UNAVAILABLE,
    SOFT,
    SPAM_COMPLAINT,
    SUPPRESSED,
    UNSUBSCRIBED,
    Classification,
    _EventView,
    _Verdict,
)
from notifications.classifier.generic import _generic
from notifications.classifier.payload import _guess_esp, _normalize_esp, _unwrap
from notifications.classifier.smtp import _Facts, _refine

__all__ = [
    "ACTIONS",
    "DELIVER",
    "DIAGNOSTIC_MAX",
    "HARD",
    "INVALID_ADDRESS",
    "MAILBOX_FULL",
    "OTHER",
    "PROVIDER_BLOCKED",
    "RECORD",
    "SENDER",
    "SENDING_PROBLEM",
    "SERVER_UNAVAILABLE",
    "SOFT",
    "SPAM_COMPLAINT",
    "SUPPRESSED",
    "UNSUBSCRIBED",
    "Classification",
    "classify",
]

logger = logging.getLogger(__name__)

# One module per ESP (like anymail's webhooks/<esp>.py), each with its ``verdict``.
HANDLERS = {
    "sendgrid": sendgrid.verdict,
    "mailgun": mailgun.verdict,
    "postmark": postmark.verdict,
    "amazon_ses": amazon_ses.verdict,
    "brevo": brevo.verdict,
    "mailjet": mailjet.verdict,
    "sparkpost": sparkpost.verdict,
}


def _classify(event: Any, esp_name: Any = None) -> Classification:
    ev = _EventView.of(event)
    esp = _normalize_esp(esp_name) or _guess_esp(ev.raw)
    raw = _unwrap(ev.raw, ev.recipient)
    facts = _Facts()
    verdict = None
    handler = HANDLERS.get(esp)
    if handler is not None:
        # Handlers read through _get(), which treats a missing payload as empty; some ESP
        # rules need no payload at all (a Postmark send-time refusal).
        verdict = handler(raw if raw is not None else {}, ev, facts)
    facts.finalize(ev)
    if verdict is None:
        verdict = _generic(ev, raw, facts)
    verdict = _refine(verdict, facts)
    return _result(verdict, facts)


def _result(verdict: _Verdict, facts: _Facts) -> Classification:
    action = verdict.action if verdict.action in ACTIONS else RECORD
    if action == DELIVER:
        cause = ""
    elif action == RECORD:
        cause = verdict.cause  # "" unless the address is suspect (see the module docstring)
    else:
        cause = verdict.cause or OTHER
    return Classification(
        action=action,
        cause=cause,
        smtp_code=facts.smtp_code,
        enhanced_status=facts.enhanced,
        diagnostic=facts.diagnostic,
    )


def classify(event: Any, esp_name: str | None = None) -> Classification:
    """Classify one ``AnymailTrackingEvent`` (see the module docstring). Never raises.

    ``esp_name`` is the ESP as in anymail's URLs (``"postmark"``, ``"amazon_ses"``, ...) or
    as anymail's signal passes it (``"Postmark"``, ``"Amazon SES"``). Unknown or missing
    names use the generic rules (the payload shape is used to guess when it is missing).
    """
    try:
        return _classify(event, esp_name)
    except Exception:  # noqa: BLE001 - a classifier bug must not lose a webhook event
        logger.exception("Email event classifier failed; falling back to anymail's fields")
        try:
            ev = _EventView.of(event)
            facts = _Facts().finalize(ev)
            return _result(_generic(ev, None, facts), facts)
        except Exception:  # noqa: BLE001
            return Classification(RECORD, "", "", "", "")
