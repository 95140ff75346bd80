"""The classifier's vocabulary (actions, causes, the result), its internal verdict, and
accessors that read any ESP payload defensively (a dict, a QueryDict, a list, a string, None).
Names with a leading underscore are internal to this package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.vocabulary import DeliveryAction
from schedules.models import DeactivationCause

# --- Public vocabulary ------------------------------------------------------------------------

DELIVER = DeliveryAction.DELIVER
RECORD = DeliveryAction.RECORD
SOFT = DeliveryAction.SOFT
HARD = DeliveryAction.HARD
SENDER = DeliveryAction.SENDER
ACTIONS = tuple(DeliveryAction)

INVALID_ADDRESS = DeactivationCause.INVALID_ADDRESS.value
MAILBOX_FULL = DeactivationCause.MAILBOX_FULL.value
SERVER_UNAVAILABLE = DeactivationCause.SERVER_UNAVAILABLE.value
SPAM_COMPLAINT = DeactivationCause.SPAM_COMPLAINT.value
UNSUBSCRIBED = DeactivationCause.UNSUBSCRIBED.value
# The receiving side (mailbox provider) refused *us*: reputation, content, policy, DMARC/SPF.
PROVIDER_BLOCKED = DeactivationCause.PROVIDER_BLOCKED.value
# Our message or our ESP call was the problem: too large, template/render/API failure,
# rejected sender address, virus flag.
SENDING_PROBLEM = DeactivationCause.SENDING_PROBLEM.value
OTHER = DeactivationCause.OTHER.value

# An address refused because it sits on the ESP's suppression list (Brevo ``blocked``,
# Mailjet ``preblocked``, SES ``OnAccountSuppressionList``, Postmark 406 "inactive recipient",
# Mailgun ``suppress-bounce``, SendGrid dropped "Bounced Address"): fed mostly by earlier hard
# bounces, cleared by support at the ESP. Not "invalid address": the address may be right.
SUPPRESSED = DeactivationCause.ESP_SUPPRESSED.value

DIAGNOSTIC_MAX = 500


@dataclass(frozen=True)
class Classification:
    action: DeliveryAction
    cause: str  # a DeactivationCause value, or "" for deliver/record
    smtp_code: str  # basic SMTP reply code, e.g. "550", or ""
    enhanced_status: str  # RFC 3463 enhanced status, e.g. "5.1.1", or ""
    diagnostic: str  # the provider's diagnostic line (one line, <= 500 chars), for the timeline


# --- Internal decision object -----------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    action: DeliveryAction
    cause: str = ""
    # True when the ESP label is generic: a specific enhanced status code may refine it.
    refine: bool = False


def _fixed(action: DeliveryAction, cause: str = "") -> _Verdict:
    return _Verdict(action, cause, refine=False)


def _default(action: DeliveryAction, cause: str = "") -> _Verdict:
    return _Verdict(action, cause, refine=True)


_RECORD = _fixed(RECORD)
_DELIVER = _fixed(DELIVER)


# --- Safe accessors (esp_event may be a dict, a Django QueryDict, a list, a string, None) -----


def _get(container: Any, key: str) -> Any:
    """One value for ``key``: the *first* value of a multi-valued QueryDict (Mailgun legacy
    merges user variables after its own fields), ``None`` when absent or not a mapping."""
    try:
        getlist = getattr(container, "getlist", None)
        if callable(getlist):
            values = getlist(key)
            return values[0] if values else None
        if isinstance(container, Mapping):
            return container.get(key)
    except Exception:  # noqa: BLE001 - a broken mapping is just "absent"
        return None
    return None


def _dict(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
            return ""
        return str(int(value)) if value.is_integer() else str(value)
    return ""


def _low(value: Any) -> str:
    return _str(value).strip().lower()


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return _low(value) in {"true", "1", "yes"}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:DIAGNOSTIC_MAX]


# --- The event, read defensively ----------------------------------------------------------------


@dataclass(frozen=True)
class _EventView:
    event_type: str
    reject_reason: str
    mta_response: str
    description: str
    recipient: str
    raw: Any

    @classmethod
    def of(cls, event: Any) -> _EventView:
        def attr(name: str) -> Any:
            try:
                return getattr(event, name, None)
            except Exception:  # noqa: BLE001
                return None

        return cls(
            event_type=_low(attr("event_type")),
            reject_reason=_low(attr("reject_reason")),
            mta_response=_str(attr("mta_response")),
            description=_str(attr("description")),
            recipient=_low(attr("recipient")),
            raw=attr("esp_event"),
        )
