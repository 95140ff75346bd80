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

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schedules.models import DeactivationCause

logger = logging.getLogger(__name__)

# --- Public vocabulary ------------------------------------------------------------------------

DELIVER = "deliver"
RECORD = "record"
SOFT = "soft"
HARD = "hard"
SENDER = "sender"
ACTIONS = (DELIVER, RECORD, SOFT, HARD, SENDER)

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
    action: str  # one of ACTIONS
    cause: str  # a DeactivationCause value, or "" for deliver/record
    smtp_code: str  # basic SMTP reply code, e.g. "550", or ""
    enhanced_status: str  # RFC 3463 enhanced status, e.g. "5.1.1", or ""
    diagnostic: str  # the provider's diagnostic line (one line, <= 500 chars), for the timeline


# --- Internal decision object -----------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    action: str
    cause: str = ""
    # True when the ESP label is generic: a specific enhanced status code may refine it.
    refine: bool = False


def _fixed(action: str, cause: str = "") -> _Verdict:
    return _Verdict(action, cause, refine=False)


def _default(action: str, cause: str = "") -> _Verdict:
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


# --- SMTP code parsing ------------------------------------------------------------------------

# RFC 3463 class.subject.detail; subjects 0-7 are the defined ones. Not part of a longer
# dotted number (IP addresses, versions).
_ENHANCED_RE = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?!\d)(?!\.\d)")
# "550 5.1.1", "452-4.2.2", "550 #5.1.1": the basic code right before the enhanced one.
_PAIR_RE = re.compile(r"(?<![\w.])([2-5]\d\d)[ \t-]+\(?#?([245]\.[0-7]\.\d{1,3})(?!\d)(?!\.\d)")
# A reply that *starts* with a basic code, after an optional "smtp;" / "sent (" prefix.
_LEAD_RE = re.compile(r"^\s*(?:[A-Za-z][\w.-]*\s*[;:(]\s*)?\(?\s*([2-5]\d\d)(?![\w.])")
_SMTP_FIELD_RE = re.compile(r"[2-5]\d\d")
# Mailgun's own 6xx codes (605 previously bounced, 606 unsubscribed, 607 complained) travel in
# the same ``code`` field as SMTP codes.
_MAILGUN_CODE_RE = re.compile(r"[2-6]\d\d")


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


# --- ESP names and raw-payload normalization ----------------------------------------------------

_ESP_ALIASES = {
    "amazonses": "amazon_ses",
    "ses": "amazon_ses",
    "sendinblue": "brevo",
}


def _normalize_esp(esp_name: Any) -> str:
    """Canonical ESP name: "Amazon SES" (signal), "amazon_ses" (URL), "SendinBlue" -> brevo."""
    name = re.sub(r"[^a-z0-9]+", "_", _low(esp_name)).strip("_")
    return _ESP_ALIASES.get(name.replace("_", ""), _ESP_ALIASES.get(name, name))


def _guess_esp(raw: Any) -> str:
    """Best-effort ESP from the payload's *shape* when the caller did not say."""
    if isinstance(raw, list | tuple):
        raw = next((item for item in raw if isinstance(item, Mapping)), None)
    if raw is None or not (isinstance(raw, Mapping) or hasattr(raw, "getlist")):
        return ""

    def has(*keys: str) -> bool:
        return any(_get(raw, key) is not None for key in keys)

    if has("msys"):
        return "sparkpost"
    if has("RecordType"):
        return "postmark"
    if has("event-data"):
        return "mailgun"
    if has("notificationType", "eventType") and has("mail"):
        return "amazon_ses"
    if _get(raw, "Type") == "Notification" and isinstance(_get(raw, "Message"), str):
        return "amazon_ses"
    if has("sg_event_id", "sg_message_id"):
        return "sendgrid"
    if has("X-Mailin-custom", "ts_epoch"):
        return "brevo"
    if has("mj_campaign_id", "mj_contact_id", "Message_GUID"):
        return "mailjet"
    if has("event") and has("token") and has("signature"):
        return "mailgun"  # legacy form-encoded webhook
    return ""


def _unwrap(raw: Any, recipient: str) -> Any:
    """The one raw event this anymail event came from, as a mapping (or None)."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    if isinstance(raw, list | tuple):
        candidates = [item for item in raw if isinstance(item, Mapping)]
        for item in candidates:
            if recipient and _low(_get(item, "email") or _get(item, "recipient")) == recipient:
                return item
        return candidates[0] if candidates else None
    if isinstance(raw, Mapping) and _get(raw, "Type") == "Notification":
        # An SNS envelope (anymail passes the parsed inner SES message, but accept both).
        message = _get(raw, "Message")
        if isinstance(message, str):
            try:
                inner = json.loads(message)
            except (ValueError, RecursionError):
                inner = None
            if isinstance(inner, Mapping):
                return inner
    if isinstance(raw, Mapping) or callable(getattr(raw, "getlist", None)):
        return raw
    return None


# --- Per-ESP rules ------------------------------------------------------------------------------
# Each handler records codes/diagnostic texts in ``facts`` and returns a verdict, or None when
# the payload does not say enough (the generic anymail-field rules then decide).


def _sendgrid(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
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


_MAILGUN_SUPPRESSIONS = {
    "suppress-bounce": SUPPRESSED,
    "suppress-unsubscribe": UNSUBSCRIBED,
    "suppress-complaint": SPAM_COMPLAINT,
}
_MAILGUN_SUPPRESSION_CODES = {"605": SUPPRESSED, "606": UNSUBSCRIBED, "607": SPAM_COMPLAINT}


def _mailgun(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    event_data = _get(raw, "event-data")
    if isinstance(event_data, Mapping):
        return _mailgun_current(event_data, ev, facts)
    if _get(raw, "event") is not None:
        return _mailgun_legacy(raw, ev, facts)
    return None


def _mailgun_current(data: Mapping, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(data.get("event"))
    status = _dict(data.get("delivery-status"))
    facts.set_smtp(status.get("code"), _MAILGUN_CODE_RE)
    facts.set_enhanced(status.get("enhanced-code") or status.get("bounce-code"))
    facts.add_text(status.get("message"), status.get("description"))
    facts.add_text(_dict(data.get("reject")).get("reason"))
    facts.finalize(ev)
    if name == "delivered":
        return _DELIVER
    if name in ("accepted", "opened", "clicked", "stored", "list_member_uploaded"):
        return _RECORD
    if name == "complained":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name == "unsubscribed":
        return _fixed(HARD, UNSUBSCRIBED)
    if name == "rejected":  # Mailgun refused our API request (account, domain, sandbox)
        return _fixed(SENDER, SENDING_PROBLEM)
    if name != "failed":
        return None
    reason = _low(data.get("reason"))
    if reason in _MAILGUN_SUPPRESSIONS:
        return _fixed(HARD, _MAILGUN_SUPPRESSIONS[reason])
    if _low(data.get("severity")) == "temporary":
        return _RECORD  # Mailgun retries (greylisting included): in progress
    if facts.smtp_code in _MAILGUN_SUPPRESSION_CODES:
        return _fixed(HARD, _MAILGUN_SUPPRESSION_CODES[facts.smtp_code])
    if reason == "bounce":
        return _default(HARD, INVALID_ADDRESS)
    if reason == "espblock":  # the recipient's mailbox provider blocked the message
        return _default(SENDER, PROVIDER_BLOCKED)
    if reason in ("old", "greylisted"):  # gave up after retrying
        return _default(SOFT, SERVER_UNAVAILABLE)
    # "generic" or absent: a final failure of undetermined cause.
    return _default(SOFT, OTHER)


def _mailgun_legacy(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
    name = _low(_get(raw, "event"))
    code = _str(_get(raw, "code")).strip()
    facts.set_smtp(code, _MAILGUN_CODE_RE)
    facts.set_enhanced(code if "." in code else "")
    facts.add_text(_get(raw, "error"), _get(raw, "notification"), _get(raw, "description"))
    facts.finalize(ev)
    if name == "delivered":
        return _DELIVER
    if name in ("opened", "clicked"):
        return _RECORD
    if name == "complained":
        return _fixed(HARD, SPAM_COMPLAINT)
    if name == "unsubscribed":
        return _fixed(HARD, UNSUBSCRIBED)
    if facts.smtp_code in _MAILGUN_SUPPRESSION_CODES:
        return _fixed(HARD, _MAILGUN_SUPPRESSION_CODES[facts.smtp_code])
    if name == "dropped":
        reason = _low(_get(raw, "reason"))
        if reason == "hardfail":  # previously bounced/unsubscribed/complained address
            return _fixed(HARD, SUPPRESSED)
        if reason in ("old", "maxfails"):
            return _fixed(SOFT, SERVER_UNAVAILABLE)
        return _default(SOFT, OTHER)
    if name == "bounced":
        return _default(HARD, INVALID_ADDRESS)
    return None


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


def _postmark(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
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


def _amazon_ses(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
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


def _brevo(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
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


def _mailjet(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
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


def _sparkpost(raw: Any, ev: _EventView, facts: _Facts) -> _Verdict | None:
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


_HANDLERS = {
    "sendgrid": _sendgrid,
    "mailgun": _mailgun,
    "postmark": _postmark,
    "amazon_ses": _amazon_ses,
    "brevo": _brevo,
    "mailjet": _mailjet,
    "sparkpost": _sparkpost,
}


# --- Generic rules (any ESP): anymail's normalized fields plus ESP-neutral raw hints ----------


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


# --- Entry point --------------------------------------------------------------------------------


def _classify(event: Any, esp_name: Any = None) -> Classification:
    ev = _EventView.of(event)
    esp = _normalize_esp(esp_name) or _guess_esp(ev.raw)
    raw = _unwrap(ev.raw, ev.recipient)
    facts = _Facts()
    verdict = None
    handler = _HANDLERS.get(esp)
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
