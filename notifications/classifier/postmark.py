"""Postmark: ``RecordType`` and the bounce ``Type``; send-time refusals (406).

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
    RECORD,
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
    _truthy,
    _Verdict,
)
from notifications.classifier.smtp import _Facts

_POSTMARK_BOUNCE_TYPES: dict[str, _Verdict] = {
    "HardBounce": _default(HARD, INVALID_ADDRESS),
    # Postmark stopped trying ("Soft bounce / Undeliverable"): final, mailbox full/quota/...
    "SoftBounce": _default(SOFT, MAILBOX_FULL),
    # "Message delayed": Postmark is still trying (anymail: deferred). Informational (issue 10
    # item 6; overrides email-delivery.md §8): a final failure or a delivery follows, and the
    # delivery sweeper warns the merchant if neither comes.
    "Transient": _RECORD,
    # A DNS error on the recipient's domain: Postmark does not deliver this message. A soft
    # failure (retried by us, the merchant warned), never hard whatever the SMTP text says.
    "DnsError": _fixed(SOFT, SERVER_UNAVAILABLE),
    "OpenRelayTest": _RECORD,
    "Unsubscribe": _fixed(HARD, UNSUBSCRIBED),
    "Subscribe": _RECORD,
    "AutoResponder": _RECORD,
    "AddressChange": _RECORD,  # the DSN text may carry the customer's new address
    "ChallengeVerification": _RECORD,
    # Delivered but filtered as spam / bulk / rejected content by the receiver: our content or
    # reputation, not a person's complaint (anymail maps it to ``complained``).
    "SpamNotification": _fixed(SENDER, PROVIDER_BLOCKED),
    "VirusNotification": _fixed(SENDER, SENDING_PROBLEM),
    "BadEmailAddress": _fixed(HARD, INVALID_ADDRESS),
    "SpamComplaint": _fixed(HARD, SPAM_COMPLAINT),
    "ManuallyDeactivated": _fixed(HARD, SUPPRESSED),
    "Unconfirmed": _fixed(SENDER, SENDING_PROBLEM),
    "Blocked": _fixed(SENDER, PROVIDER_BLOCKED),
    "DMARCPolicy": _fixed(SENDER, PROVIDER_BLOCKED),
    "SMTPApiError": _fixed(SENDER, SENDING_PROBLEM),
    "TemplateRenderingFailed": _fixed(SENDER, SENDING_PROBLEM),
    "InboundError": _RECORD,
    # Unknown bounce type: only a specific enhanced code may decide; otherwise record.
    "Unknown": _default(RECORD),
}

_POSTMARK_SUPPRESSION_REASONS = {
    "HardBounce": SUPPRESSED,  # Postmark deactivated the address after a hard bounce
    "SpamComplaint": SPAM_COMPLAINT,
    "ManualSuppression": UNSUBSCRIBED,
}


def verdict(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    facts.add_text(_get(raw, "Details"), _get(raw, "Description"), _get(raw, "Message"))
    facts.finalize(ev)
    record_type = _str(_get(raw, "RecordType"))
    if record_type == "Delivery":
        return _DELIVER
    if record_type in ("Open", "Click"):
        return _RECORD
    if record_type == "SpamComplaint":
        return _fixed(HARD, SPAM_COMPLAINT)
    if record_type == "SubscriptionChange":
        suppress = _get(raw, "SuppressSending")
        if suppress is not None and not _truthy(suppress):
            return _RECORD  # reactivated (SuppressSending: false)
        reason = _str(_get(raw, "SuppressionReason"))
        if reason == "ManualSuppression" and _low(_get(raw, "Origin")) not in ("", "recipient"):
            # Suppressed by our account or by Postmark staff, not by the customer.
            return _fixed(HARD, SUPPRESSED)
        return _fixed(HARD, _POSTMARK_SUPPRESSION_REASONS.get(reason, SUPPRESSED))
    if record_type == "Bounce":
        return _POSTMARK_BOUNCE_TYPES.get(_str(_get(raw, "Type")))
    if not record_type and ev.event_type == "rejected":
        # Send-time refusal fed as a synthetic event (email-delivery.md §6.2): Postmark 406
        # "inactive recipient" is its suppression list (hard bounces and complaints).
        if ev.reject_reason == "spam":
            return _fixed(HARD, SPAM_COMPLAINT)
        if ev.reject_reason == "unsubscribed":
            return _fixed(HARD, UNSUBSCRIBED)
        return _fixed(HARD, SUPPRESSED)
    return None
