"""Amazon SES (through SNS): ``eventType``/``notificationType``, bounce type and subtype.

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
    _dict,
    _EventView,
    _fixed,
    _get,
    _low,
    _str,
    _truthy,
    _Verdict,
)
from notifications.classifier.smtp import _Facts


def _matching_recipient(entries: Any, recipient: str) -> Mapping:
    items = (
        [item for item in entries if isinstance(item, Mapping)]
        if isinstance(entries, list | tuple)
        else []
    )
    for item in items:
        if recipient and _low(item.get("emailAddress")) == recipient:
            return item
    return items[0] if items else {}


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    kind = _str(_get(raw, "eventType") or _get(raw, "notificationType"))
    if kind == "Bounce":
        bounce = _dict(_get(raw, "bounce"))
        entry = _matching_recipient(bounce.get("bouncedRecipients"), ev.recipient)
        facts.set_enhanced(entry.get("status"))
        facts.add_text(entry.get("diagnosticCode"))
        facts.finalize(ev)
        bounce_type = _str(bounce.get("bounceType"))
        subtype = _str(bounce.get("bounceSubType"))
        if bounce_type == "Permanent":
            if subtype in ("Suppressed", "OnAccountSuppressionList"):
                return _fixed(HARD, SUPPRESSED)
            if subtype == "NoEmail":
                return _fixed(HARD, INVALID_ADDRESS)
            return _default(HARD, INVALID_ADDRESS)  # General: unless a specific code says else
        if bounce_type == "Transient":
            # SES sends Transient bounces only once it has stopped retrying: final.
            if subtype == "MailboxFull":
                return _fixed(SOFT, MAILBOX_FULL)
            if subtype in ("MessageTooLarge", "AttachmentRejected"):
                return _fixed(SENDER, SENDING_PROBLEM)
            if subtype == "ContentRejected":
                return _fixed(SENDER, PROVIDER_BLOCKED)
            no_failure_evidence = not (
                facts.enhanced
                or facts.smtp_code
                or _str(entry.get("diagnosticCode")).strip()
                or _low(entry.get("action")) == "failed"
            )
            if subtype == "General" and no_failure_evidence:
                # Transient/General is also what SES sends for out-of-office DSNs: a recipient
                # entry without action "failed", status or diagnostic code is no failure.
                return _RECORD
            return _default(SOFT, SERVER_UNAVAILABLE)
        return _default(SOFT, OTHER)  # Undetermined
    if kind == "Complaint":
        facts.finalize(ev)
        complaint = _dict(_get(raw, "complaint"))
        if _low(complaint.get("complaintFeedbackType")) == "not-spam":
            return _RECORD
        return _fixed(HARD, SPAM_COMPLAINT)
    if kind == "Delivery":
        facts.add_text(_dict(_get(raw, "delivery")).get("smtpResponse"))
        facts.finalize(ev)
        return _DELIVER
    if kind == "DeliveryDelay":
        # Per-attempt soft failure (anymail: "unknown"); SES keeps retrying until
        # expirationTime. Never counts (mozilla/fxa#5757).
        delay = _dict(_get(raw, "deliveryDelay"))
        entry = _matching_recipient(delay.get("delayedRecipients"), ev.recipient)
        facts.set_enhanced(entry.get("status"))
        facts.add_text(entry.get("diagnosticCode"))
        facts.finalize(ev)
        return _RECORD
    if kind == "Reject":
        # SES found a virus in *our* message and refused to send it.
        facts.add_text(_dict(_get(raw, "reject")).get("reason"))
        facts.finalize(ev)
        return _fixed(SENDER, SENDING_PROBLEM)
    if kind == "Rendering Failure":
        facts.add_text(_dict(_get(raw, "failure")).get("errorMessage"))
        facts.finalize(ev)
        return _fixed(SENDER, SENDING_PROBLEM)
    facts.finalize(ev)
    if kind in ("Send", "Open", "Click"):
        return _RECORD
    if kind == "Subscription":
        preferences = _dict(_dict(_get(raw, "subscription")).get("newTopicPreferences"))
        topics = preferences.get("topicSubscriptionStatus")
        opted_out = isinstance(topics, list | tuple) and any(
            _low(_dict(topic).get("subscriptionStatus")) == "optout" for topic in topics
        )
        if _truthy(preferences.get("unsubscribeAll")) or opted_out:
            return _fixed(HARD, UNSUBSCRIBED)
        return _RECORD
    return None
