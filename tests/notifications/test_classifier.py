"""notifications.classifier: the bounce policy (email-delivery.md §3), without a database.

1. Every payload in tests/data/webhooks/ is posted through anymail's *real* tracking
   webhook view (settings and headers as the folder's INDEX.md says); the emitted events must
   match EXPECTED.json, and ``classify`` must give the action INDEX.md's "portal" column
   recommends, with the SMTP code / enhanced status found in the raw payload.
2. Hand-built raw payloads for every row of the §3 table, per ESP where the doc distinguishes
   them. For the six main ESPs the raw dict goes through anymail's own ``esp_to_anymail_event``
   converter, so the event carries exactly the ``event_type``/``reject_reason`` anymail would
   emit (that normalization is where the traps are, §1.3); other cases build
   ``AnymailTrackingEvent(...)`` directly.
3. Hypothesis: ``classify`` never raises, whatever the event type and raw payload.
"""

from __future__ import annotations

import base64
import json
import re
from contextlib import nullcontext
from unittest import mock

import anymail.webhooks.amazon_ses as anymail_ses_webhooks
import pytest
from anymail.exceptions import _LazyError
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.http import QueryDict
from django.test import Client, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.classifier import (
    ACTIONS,
    DELIVER,
    HARD,
    RECORD,
    SENDER,
    SOFT,
    Classification,
    _classify,
    classify,
)
from schedules.models import DeactivationCause
from tests import WEBHOOKS

pytestmark = [
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning"),
]

INVALID = DeactivationCause.INVALID_ADDRESS.value
MAILBOX_FULL = DeactivationCause.MAILBOX_FULL.value
SERVER_UNAVAILABLE = DeactivationCause.SERVER_UNAVAILABLE.value
SPAM = DeactivationCause.SPAM_COMPLAINT.value
UNSUBSCRIBED = DeactivationCause.UNSUBSCRIBED.value
PROVIDER_BLOCKED = DeactivationCause.PROVIDER_BLOCKED.value
SUPPRESSED = DeactivationCause.ESP_SUPPRESSED.value
SENDING_PROBLEM = DeactivationCause.SENDING_PROBLEM.value
OTHER = DeactivationCause.OTHER.value

# =============================================================================================
# 1. The shared fixtures through anymail's real webhook views
# =============================================================================================


# INDEX.md "How to replay a file".
WEBHOOK_SECRET = "heldout:webhook-secret"
ANYMAIL_SETTINGS = {
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "MAILGUN_WEBHOOK_SIGNING_KEY": "heldout-mailgun-webhook-signing-key",
    "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
}
URLCONF = "tests.notifications.anymail_urls"

PORTAL_ACTIONS = {
    "DEACTIVATE": HARD,
    "SOFT": SOFT,
    "SENDER": SENDER,
    "RECORD": RECORD,
    "RESET": DELIVER,
}
# Causes compatible with each action, for fixtures without an explicit expectation below.
ACTION_CAUSES = {
    HARD: {INVALID, SUPPRESSED, SPAM, UNSUBSCRIBED},
    SOFT: {MAILBOX_FULL, SERVER_UNAVAILABLE, INVALID, OTHER},
    SENDER: {PROVIDER_BLOCKED, SENDING_PROBLEM},
    # A record may name the cause the receiver stated while the ESP still retries (an address
    # "suspeito", see the Brevo deferred 5.1.1 case).
    RECORD: {"", INVALID},
    DELIVER: {""},
}
# The cause the scenario column of INDEX.md describes, per fixture.
FIXTURE_CAUSES = {
    "sendgrid_bounce_1.json": INVALID,
    "sendgrid_deferred_1.json": "",
    "sendgrid_delivered_1.json": "",
    "sendgrid_spamreport_1.json": SPAM,
    "sendgrid_dropped_1.json": SUPPRESSED,  # "Bounced Address" (held-out chain, trap 7)
    "mailgun_failed_1.json": INVALID,
    "mailgun_failed_2.json": "",
    "mailgun_delivered_1.json": "",
    "postmark_bounce_1.json": INVALID,
    "postmark_bounce_2.json": MAILBOX_FULL,
    "postmark_spamcomplaint_1.json": SPAM,
    "postmark_delivery_1.json": "",
    "postmark_subscriptionchange_1.json": UNSUBSCRIBED,
    "amazonses_bounce_1.json": INVALID,
    "amazonses_delivery_1.json": "",
    "brevo_hard_bounce_1.json": INVALID,
    "brevo_delivered_1.json": "",
    "mailjet_bounce_1.json": INVALID,
    "mailjet_sent_1.json": "",
}

_CODE_TOKEN = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b|\b[2-6]\d\d\b")


def _esp_for(name: str) -> str:
    prefix = name.split("_", 1)[0]
    return "amazon_ses" if prefix == "amazonses" else prefix


def _clean(cell: str) -> str:
    return cell.replace("**", "").replace("`", "").strip()


def _index_rows() -> dict[str, dict[str, str]]:
    index = WEBHOOKS / "INDEX.md"
    rows: dict[str, dict[str, str]] = {}
    if not index.exists():
        return rows
    for line in index.read_text(encoding="utf-8").splitlines():
        cells = [_clean(cell) for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].endswith(".json"):
            file, scenario, anymail_out, recipient, code, portal = cells
            rows[file] = {
                "scenario": scenario,
                "anymail": anymail_out,
                "recipient": recipient,
                "code": code,
                "portal": portal,
            }
    return rows


def _expected() -> dict:
    path = WEBHOOKS / "EXPECTED.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


INDEX_ROWS = _index_rows()
EXPECTED = _expected()
PAYLOADS = sorted(
    path.name for path in WEBHOOKS.glob("*.json") if path.name != "EXPECTED.json" and path.is_file()
)


def _boto3_params_without_boto3():
    """The SES view's constructor loads boto3 connection params, which it only uses to confirm
    SNS subscriptions (disabled here) and to fetch inbound mail from S3. boto3 is not a
    project dependency (no ESP chosen yet), so when it is missing only that loader is stubbed;
    parsing, header checks and basic auth stay anymail's own."""
    if not isinstance(anymail_ses_webhooks._get_anymail_boto3_params, _LazyError):
        return nullcontext()
    return mock.patch.object(
        anymail_ses_webhooks, "_get_anymail_boto3_params", lambda kwargs=None: ({}, {})
    )


def post_to_anymail(name: str):
    """POST the file's bytes unchanged to /anymail/<esp>/tracking/; return the response and
    the (esp_name, event) pairs anymail's ``tracking`` signal sent."""
    esp = _esp_for(name)
    body = (WEBHOOKS / name).read_bytes()
    auth = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
    headers = {"HTTP_AUTHORIZATION": f"Basic {auth}"}
    content_type = "application/json"
    if esp == "amazon_ses":
        content_type = "text/plain; charset=UTF-8"  # what SNS sends
        envelope = json.loads(body)
        headers["HTTP_X_AMZ_SNS_MESSAGE_TYPE"] = envelope["Type"]
        headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = envelope["MessageId"]
    received = []

    def collect(sender, event, esp_name, **kwargs):
        received.append((esp_name, event))

    # Only our collector listens: receivers the project connects (storage, processing) are
    # not part of this no-database test.
    with (
        mock.patch.object(tracking, "receivers", []),
        override_settings(ROOT_URLCONF=URLCONF, ANYMAIL=ANYMAIL_SETTINGS),
        _boto3_params_without_boto3(),
    ):
        tracking.connect(collect, weak=False)
        response = Client().post(
            f"/anymail/{esp}/tracking/", data=body, content_type=content_type, **headers
        )
    return response, received


def test_fixture_folder_is_present_and_consistent():
    assert PAYLOADS, f"no webhook payloads found in {WEBHOOKS}"
    assert INDEX_ROWS, "INDEX.md has no fixture table"
    assert EXPECTED.get("anymail_settings") == ANYMAIL_SETTINGS


@pytest.mark.parametrize("name", PAYLOADS)
def test_fixture_through_real_anymail_view_then_classifier(name):
    response, received = post_to_anymail(name)

    # --- what anymail emits (EXPECTED.json) ---
    expected = EXPECTED.get("files", {}).get(name)
    if expected is None:
        assert response.status_code == 200, response.content
        assert received, "anymail emitted no tracking event"
    else:
        assert response.status_code == expected["http_status"], response.content
        assert len(received) == len(expected["events"])
        for (esp_name, event), want in zip(received, expected["events"], strict=True):
            assert esp_name == want["esp_name"]
            for attr in (
                "event_type",
                "reject_reason",
                "recipient",
                "message_id",
                "event_id",
                "description",
                "mta_response",
                "metadata",
                "tags",
            ):
                assert getattr(event, attr) == want[attr], attr
            got_ts = event.timestamp.isoformat() if event.timestamp else None
            assert got_ts == want["timestamp"]

    # --- what the portal does with it (INDEX.md "portal" and "code" columns) ---
    row = INDEX_ROWS.get(name)
    if row is None:
        for esp_name, event in received:
            result = classify(event, esp_name=esp_name)
            assert result.action in ACTIONS
        pytest.skip(f"{name} has no row in INDEX.md: only checked that it classifies")

    esp = _esp_for(name)
    wanted_actions = [
        PORTAL_ACTIONS[token]
        for token in re.findall(r"[A-Z]+", row["portal"])
        if token in PORTAL_ACTIONS
    ]
    assert wanted_actions, row
    results = []
    for esp_name, event in received:
        result = classify(event, esp_name=esp)
        # The signal's display name ("Amazon SES") gives the same answer as the URL name.
        assert classify(event, esp_name=esp_name) == result
        results.append(result)
        assert result.action in wanted_actions, (row["scenario"], result)
        if name in FIXTURE_CAUSES and len(received) == 1:
            assert result.cause == FIXTURE_CAUSES[name], (row["scenario"], result)
        else:
            assert result.cause in ACTION_CAUSES[result.action], result
        assert "\n" not in result.diagnostic and len(result.diagnostic) <= 500
    if len(wanted_actions) == len(received):  # one action per event (a batch), any order
        assert sorted(r.action for r in results) == sorted(wanted_actions), row["portal"]

    if len(received) == 1:
        (_, event), result = received[0], classify(received[0][1], esp_name=esp)
        reject = event.reject_reason if event.reject_reason is not None else "None"
        assert f"{event.event_type} / {reject}" == row["anymail"]
        assert event.recipient == row["recipient"]
        tokens = _CODE_TOKEN.findall(row["code"])
        enhanced = [token for token in tokens if "." in token]
        basic = [token for token in tokens if "." not in token]
        assert result.enhanced_status == (enhanced[0] if enhanced else result.enhanced_status)
        assert result.smtp_code == (basic[0] if basic else result.smtp_code)
        if not tokens:  # "–": no code anywhere in the raw payload
            assert (result.smtp_code, result.enhanced_status) == ("", "")
        if result.action not in (DELIVER, RECORD) and row["code"] not in ("", "–", "-"):
            assert result.diagnostic, "the provider's SMTP line belongs on the timeline"


# =============================================================================================
# 2. Hand-built events for every row of email-delivery.md §3
# =============================================================================================

RCPT = "cliente@example.com"


def _view(cls):
    # anymail's converters only use class-level mapping tables; skip __init__ (settings).
    return object.__new__(cls)


def sendgrid(event: str, **fields) -> AnymailTrackingEvent:
    raw = {
        "email": RCPT,
        "timestamp": 1738670405,
        "event": event,
        "sg_event_id": "sg-1",
        "sg_message_id": "sgm-1.recvd",
        "anymail_id": "0f2c6a1e-0000-4e58-a7c2-5d1e8f3b9a40",
        "category": ["boleto-recorrente"],
        **fields,
    }
    return _view(SendGridTrackingWebhookView).esp_to_anymail_event(raw)


def mailgun(event: str, *, code=None, message="", **fields) -> AnymailTrackingEvent:
    data = {
        "event": event,
        "recipient": RCPT,
        "timestamp": 1738670461.318022,
        "id": "Gx7pQ2rS9tUvWx1yZa3Bcd",
        "message": {"headers": {"message-id": "20250204.1@mg.portal.example"}},
        "user-variables": {"schedule_id": "sch_1"},
        **fields,
    }
    if code is not None or message:
        data["delivery-status"] = {"code": code, "message": message, "description": ""}
    raw = {"signature": {"token": "t0k3n", "timestamp": "1738670461", "signature": "x"}}
    raw["event-data"] = data
    return _view(MailgunTrackingWebhookView).esp_to_anymail_event(raw)


def postmark(record_type: str = "Bounce", type_: str | None = None, **fields):
    raw = {
        "RecordType": record_type,
        "ID": 4120398117,
        "MessageID": "0f2c6a1e-9b3d-4e58-a7c2-5d1e8f3b9a40",
        "Email": RCPT,
        "BouncedAt": "2025-02-04T07:01:12.4410000-05:00",
        "Tag": "boleto-recorrente",
        "Metadata": {"schedule_id": "sch_1"},
        **fields,
    }
    if type_ is not None:
        raw["Type"] = type_
    return _view(PostmarkTrackingWebhookView).esp_to_anymail_event(raw)


def postmark_subscription(reason: str, *, suppress=True, origin="Recipient"):
    raw = {
        "RecordType": "SubscriptionChange",
        "MessageID": "4f7a0d3c-6e9b-4b2e-8a5d-1c4f7a0d3e68",
        "ChangedAt": "2025-02-06T14:05:09Z",
        "Recipient": RCPT,
        "Origin": origin,
        "SuppressSending": suppress,
        "SuppressionReason": reason,
    }
    return _view(PostmarkTrackingWebhookView).esp_to_anymail_event(raw)


def ses(body: dict, *, type_key: str = "notificationType") -> AnymailTrackingEvent:
    ses_event = {
        "mail": {
            "messageId": "0103019a4c2e0a11-000000",
            "destination": [RCPT],
            "headers": [{"name": "X-Tag", "value": "boleto-recorrente"}],
        },
        **body,
    }
    if type_key != "notificationType" and "notificationType" in ses_event:
        ses_event[type_key] = ses_event.pop("notificationType")
    sns = {"MessageId": "7a1c4e6f-sns", "Timestamp": "2025-02-04T12:02:05.811Z"}
    events = _view(AmazonSESTrackingWebhookView).esp_to_anymail_events(ses_event, sns)
    # anymail emits one event per recipient; a bounce may list other recipients too.
    return next(event for event in events if event.recipient == RCPT)


def ses_bounce(bounce_type: str, subtype: str, status=None, diagnostic=None, action="failed"):
    recipient = {"emailAddress": RCPT}
    if action is not None:
        recipient["action"] = action
    if status is not None:
        recipient["status"] = status
    if diagnostic is not None:
        recipient["diagnosticCode"] = diagnostic
    bounce = {
        "bounceType": bounce_type,
        "bounceSubType": subtype,
        "bouncedRecipients": [
            {"emailAddress": "outro@example.com", "status": "2.0.0"},  # someone else
            recipient,
        ],
        "timestamp": "2025-02-04T12:02:05.104Z",
        "feedbackId": "0103019a4c2e1f00-000000",
    }
    return ses({"notificationType": "Bounce", "bounce": bounce})


def ses_delay(delay_type: str, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"):
    body = {
        "eventType": "DeliveryDelay",
        "deliveryDelay": {
            "timestamp": "2025-02-04T12:30:00.000Z",
            "delayType": delay_type,
            "expirationTime": "2025-02-05T12:00:00.000Z",
            "delayedRecipients": [
                {"emailAddress": RCPT, "status": status, "diagnosticCode": diagnostic}
            ],
        },
    }
    return ses(body)


def brevo(event: str, **fields) -> AnymailTrackingEvent:
    raw = {
        "event": event,
        "email": RCPT,
        "id": 873215,
        "message-id": "<202502041201.49201385761@smtp-relay.mailin.fr>",
        "ts_event": 1738670472,
        "ts_epoch": 1738670468412,
        "X-Mailin-custom": json.dumps({"schedule_id": "sch_1"}),
        "tags": ["boleto-recorrente"],
        **fields,
    }
    return _view(BrevoTrackingWebhookView).esp_to_anymail_event(raw)


def mailjet(event: str, **fields) -> AnymailTrackingEvent:
    raw = {
        "event": event,
        "time": 1738670520,
        "MessageID": 576460754655154659,
        "email": RCPT,
        "customcampaign": "boleto-recorrente",
        "Payload": json.dumps({"schedule_id": "sch_1"}),
        **fields,
    }
    return _view(MailjetTrackingWebhookView).esp_to_anymail_event(raw)


def sparkpost(type_: str, **fields) -> AnymailTrackingEvent:
    event = {
        "type": type_,
        "rcpt_to": RCPT,
        "timestamp": "1738670520",
        "message_id": "sp-1",
        "event_id": "sp-ev-1",
        **fields,
    }
    raw = {"msys": {"message_event": event}}
    return _view(SparkPostTrackingWebhookView).esp_to_anymail_event("message_event", event, raw)


def generic(event_type: str, esp_event=None, **fields) -> AnymailTrackingEvent:
    fields.setdefault("recipient", RCPT)
    return AnymailTrackingEvent(event_type=event_type, esp_event=esp_event, **fields)


# (id, esp_name, event factory, action, cause, smtp_code or None, enhanced_status or None,
#  anymail (event_type, reject_reason) the factory must produce, or None)
# fmt: off
CASES = [
    # --- Wrong / nonexistent address: DEACTIVATE NOW ------------------------------------
    ("generic-5.1.1", "resend", lambda: generic("bounced", {}, reject_reason="bounced",
        mta_response="550 5.1.1 <cliente@example.com>: User unknown"),
        HARD, INVALID, "550", "5.1.1", None),
    ("generic-5.1.1-reject-reason-none", "mandrill", lambda: generic("bounced", {},
        mta_response="smtp;550 5.1.1 user unknown"), HARD, INVALID, "550", "5.1.1", None),
    ("generic-5.1.2-domain", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="550 5.1.2 Host unknown; domain name not found"),
        HARD, INVALID, "550", "5.1.2", None),
    ("generic-5.1.3-syntax", "", lambda: generic("bounced", None,
        mta_response="553 5.1.3 Bad recipient address syntax"), HARD, INVALID, "553", "5.1.3",
        None),
    ("generic-5.1.10-null-mx", "", lambda: generic("bounced", None,
        mta_response="556 5.1.10 Recipient address has null MX"),
        HARD, INVALID, "556", "5.1.10", None),
    ("generic-5.0.0-permanent", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="550 5.0.0 <cliente@example.com>... User unknown"),
        HARD, INVALID, "550", "5.0.0", None),
    ("ses-permanent-general-5.1.1", "amazon_ses", lambda: ses_bounce("Permanent", "General",
        "5.1.1", "smtp; 550 5.1.1 user unknown"), HARD, INVALID, "550", "5.1.1",
        ("bounced", "bounced")),
    ("ses-permanent-noemail", "amazon_ses", lambda: ses_bounce("Permanent", "NoEmail"),
        HARD, INVALID, "", "", ("bounced", "bounced")),
    ("postmark-hardbounce", "postmark", lambda: postmark("Bounce", "HardBounce", TypeCode=1,
        Details="smtp;550 5.1.1 <cliente@example.com>: User unknown", Inactive=True),
        HARD, INVALID, "550", "5.1.1", ("bounced", "bounced")),
    ("postmark-hardbounce-no-details", "postmark", lambda: postmark("Bounce", "HardBounce",
        TypeCode=1), HARD, INVALID, "", "", ("bounced", "bounced")),
    ("postmark-bademailaddress", "postmark", lambda: postmark("Bounce", "BadEmailAddress",
        TypeCode=100000), HARD, INVALID, None, None, ("rejected", "invalid")),
    ("mailgun-permanent-bounce-5.1.1", "mailgun", lambda: mailgun("failed",
        severity="permanent", reason="bounce", code=550,
        message="5.1.1 <cliente@example.com>: Recipient address rejected: User unknown"),
        HARD, INVALID, "550", "5.1.1", ("bounced", "bounced")),
    ("sendgrid-bounce-invalid-address", "sendgrid", lambda: sendgrid("bounce", type="bounce",
        status="5.1.1", bounce_classification="Invalid Address",
        reason="550 5.1.1 <cliente@example.com>: User unknown"),
        HARD, INVALID, "550", "5.1.1", ("bounced", None)),
    ("sendgrid-bounce-unclassified", "sendgrid", lambda: sendgrid("bounce", type="bounce",
        status="5.1.1", reason="550 5.1.1 User unknown"), HARD, INVALID, "550", "5.1.1",
        ("bounced", None)),
    ("brevo-hard-bounce", "brevo", lambda: brevo("hard_bounce",
        reason=" 550 5.1.1 <cliente@example.com>: User unknown"),
        HARD, INVALID, "550", "5.1.1", ("bounced", "bounced")),
    ("brevo-invalid-email", "brevo", lambda: brevo("invalid_email"), HARD, INVALID, "", "",
        ("bounced", "invalid")),
    ("mailjet-user-unknown", "mailjet", lambda: mailjet("bounce", hard_bounce=True,
        blocked=True, error_related_to="recipient", error="user unknown"),
        HARD, INVALID, "", "", ("bounced", "bounced")),
    ("mailjet-invalid-domain", "mailjet", lambda: mailjet("bounce", hard_bounce=True,
        error_related_to="domain", error="invalid domain"), HARD, INVALID, None, None,
        ("bounced", "bounced")),
    ("mailjet-typofix", "mailjet", lambda: mailjet("blocked", error_related_to="domain",
        error="typofix"), HARD, INVALID, None, None, ("rejected", "invalid")),
    ("sparkpost-class-10", "sparkpost", lambda: sparkpost("bounce", bounce_class="10",
        raw_reason="550 5.1.1 user unknown", error_code="550"),
        HARD, INVALID, "550", "5.1.1", ("bounced", "invalid")),
    # --- Already suppressed at the ESP: DEACTIVATE NOW, cause = which list ---------------
    ("ses-permanent-suppressed", "amazon_ses", lambda: ses_bounce("Permanent", "Suppressed",
        "5.1.1", "Amazon SES has suppressed sending to this address"),
        HARD, SUPPRESSED, "", "5.1.1", ("bounced", "bounced")),
    ("ses-on-account-suppression-list", "amazon_ses", lambda: ses_bounce("Permanent",
        "OnAccountSuppressionList", "5.1.1"), HARD, SUPPRESSED, "", "5.1.1",
        ("bounced", "bounced")),
    ("mailgun-suppress-bounce-605", "mailgun", lambda: mailgun("failed", severity="permanent",
        reason="suppress-bounce", code=605,
        message="Not delivering to previously bounced address"),
        HARD, SUPPRESSED, "605", "", ("bounced", "bounced")),
    ("mailgun-suppress-unsubscribe-606", "mailgun", lambda: mailgun("failed",
        severity="permanent", reason="suppress-unsubscribe", code=606,
        message="Not delivering to unsubscribed address"),
        HARD, UNSUBSCRIBED, "606", "", ("bounced", "other")),
    ("mailgun-suppress-complaint-607", "mailgun", lambda: mailgun("failed",
        severity="permanent", reason="suppress-complaint", code=607,
        message="Not delivering to a user who marked your messages as spam"),
        HARD, SPAM, "607", "", ("bounced", "other")),
    ("sendgrid-dropped-bounced-address", "sendgrid", lambda: sendgrid("dropped",
        reason="Bounced Address", status="5.0.0"), HARD, SUPPRESSED, None, None,
        ("rejected", "bounced")),
    ("sendgrid-dropped-unsubscribed", "sendgrid", lambda: sendgrid("dropped",
        reason="Unsubscribed Address"), HARD, UNSUBSCRIBED, None, None,
        ("rejected", "unsubscribed")),
    ("sendgrid-dropped-spam-reporting", "sendgrid", lambda: sendgrid("dropped",
        reason="Spam Reporting Address"), HARD, SPAM, None, None, ("rejected", "other")),
    ("sendgrid-dropped-invalid", "sendgrid", lambda: sendgrid("dropped", reason="Invalid"),
        HARD, INVALID, None, None, ("rejected", "invalid")),
    ("sendgrid-dropped-spam-content-is-ours", "sendgrid", lambda: sendgrid("dropped",
        reason="Spam Content (if spam checker app enabled)"), SENDER, SENDING_PROBLEM, None,
        None, ("rejected", "other")),
    ("brevo-blocked", "brevo", lambda: brevo("blocked"), HARD, SUPPRESSED, "", "",
        ("rejected", "blocked")),
    ("mailjet-preblocked", "mailjet", lambda: mailjet("blocked", error_related_to="mailjet",
        error="preblocked"), HARD, SUPPRESSED, None, None, ("rejected", "blocked")),
    ("mailjet-blacklisted", "mailjet", lambda: mailjet("blocked", error_related_to="mailjet",
        error="blacklisted"), HARD, SUPPRESSED, None, None, ("rejected", "blocked")),
    ("mailgun-legacy-dropped-hardfail", "mailgun", lambda: generic("rejected", QueryDict(
        "event=dropped&reason=hardfail&recipient=cliente%40example.com&token=t&signature=s"
        "&code=605"), reject_reason="bounced"), HARD, SUPPRESSED, None, None, None),
    ("mailjet-blocked-spam-reporter", "mailjet", lambda: mailjet("blocked",
        error_related_to="recipient", error="spam reporter"), HARD, SPAM, None, None,
        ("rejected", "spam")),
    ("postmark-send-time-406", "postmark", lambda: generic("rejected", {"ErrorCode": 406,
        "Message": "You tried to send to recipient(s) that have been marked as inactive."}),
        HARD, SUPPRESSED, None, None, None),
    ("postmark-send-time-rejected-no-raw", "postmark", lambda: generic("rejected", None),
        HARD, SUPPRESSED, "", "", None),
    ("postmark-manually-deactivated", "postmark", lambda: postmark("Bounce",
        "ManuallyDeactivated", TypeCode=100002), HARD, SUPPRESSED, None, None,
        ("rejected", "blocked")),
    ("postmark-subscriptionchange-hardbounce", "postmark",
        lambda: postmark_subscription("HardBounce"), HARD, SUPPRESSED, "", "",
        ("bounced", "bounced")),
    ("postmark-subscriptionchange-spamcomplaint", "postmark",
        lambda: postmark_subscription("SpamComplaint"), HARD, SPAM, "", "",
        ("complained", "spam")),
    ("postmark-subscriptionchange-reactivated", "postmark",
        lambda: postmark_subscription("ManualSuppression", suppress=False), RECORD, "", "", "",
        ("subscribed", None)),
    ("sparkpost-policy-rejection-25", "sparkpost", lambda: sparkpost("policy_rejection",
        bounce_class="25", raw_reason="554 5.7.1 Recipient address was suppressed due to "
        "customer policy"), HARD, SUPPRESSED, "554", "5.7.1", ("rejected", "blocked")),
    ("generic-rejected-bounced", "", lambda: generic("rejected", None,
        reject_reason="bounced"), HARD, SUPPRESSED, "", "", None),
    ("generic-rejected-invalid", "", lambda: generic("rejected", None,
        reject_reason="invalid"), HARD, INVALID, "", "", None),
    ("generic-rejected-spam", "", lambda: generic("rejected", None, reject_reason="spam"),
        HARD, SPAM, "", "", None),
    ("generic-rejected-unsubscribed", "", lambda: generic("rejected", None,
        reject_reason="unsubscribed"), HARD, UNSUBSCRIBED, "", "", None),
    ("generic-rejected-blocked-is-ambiguous", "", lambda: generic("rejected", None,
        reject_reason="blocked"), SENDER, PROVIDER_BLOCKED, "", "", None),
    ("resend-suppressed", "resend", lambda: generic("bounced", {"type": "email.bounced",
        "data": {"bounce": {"type": "Permanent", "subType": "Suppressed"}}},
        reject_reason="blocked"), HARD, SUPPRESSED, "", "", None),
    # --- Mailbox full: per attempt RECORD, final SOFT -------------------------------------
    ("generic-4.2.2", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="452 4.2.2 Mailbox full"), SOFT, MAILBOX_FULL, "452", "4.2.2", None),
    ("generic-5.2.2-is-soft", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="552 5.2.2 Mailbox full"), SOFT, MAILBOX_FULL, "552", "5.2.2", None),
    ("generic-552-only", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="552 Requested mail action aborted: exceeded storage allocation"),
        SOFT, MAILBOX_FULL, "552", "", None),
    ("ses-transient-mailboxfull", "amazon_ses", lambda: ses_bounce("Transient", "MailboxFull",
        "5.2.2", "smtp; 552 5.2.2 Mailbox full"), SOFT, MAILBOX_FULL, "552", "5.2.2",
        ("bounced", "bounced")),
    ("ses-deliverydelay-mailboxfull", "amazon_ses", lambda: ses_delay("MailboxFull"),
        RECORD, "", "452", "4.2.2", ("unknown", None)),
    ("postmark-softbounce", "postmark", lambda: postmark("Bounce", "SoftBounce",
        TypeCode=4096, Details="smtp;452 4.2.2 The email account is over quota"),
        SOFT, MAILBOX_FULL, "452", "4.2.2", ("bounced", "bounced")),
    ("postmark-softbounce-no-details", "postmark", lambda: postmark("Bounce", "SoftBounce",
        TypeCode=4096), SOFT, MAILBOX_FULL, "", "", ("bounced", "bounced")),
    ("postmark-hardbounce-with-5.2.2-code-wins", "postmark", lambda: postmark("Bounce",
        "HardBounce", Details="smtp;552 5.2.2 Mailbox full"), SOFT, MAILBOX_FULL, "552",
        "5.2.2", ("bounced", "bounced")),
    ("ses-permanent-general-with-5.2.2", "amazon_ses", lambda: ses_bounce("Permanent",
        "General", "5.2.2", "smtp; 552 5.2.2 Mailbox full"), SOFT, MAILBOX_FULL, "552",
        "5.2.2", ("bounced", "bounced")),
    ("brevo-soft-bounce", "brevo", lambda: brevo("soft_bounce",
        reason="452 4.2.2 Over quota"), SOFT, MAILBOX_FULL, "452", "4.2.2",
        ("bounced", "bounced")),
    ("mailjet-quota-exceeded-soft", "mailjet", lambda: mailjet("bounce", hard_bounce=False,
        error_related_to="recipient", error="quota exceeded"), SOFT, MAILBOX_FULL, None, None,
        ("bounced", "bounced")),
    ("sendgrid-deferred-4.2.2", "sendgrid", lambda: sendgrid("deferred", attempt="3",
        response="452 4.2.2 Over quota"), RECORD, "", "452", "4.2.2", ("deferred", None)),
    ("mailgun-temporary-4.2.2", "mailgun", lambda: mailgun("failed", severity="temporary",
        reason="generic", code=452, message="4.2.2 Over quota"), RECORD, "", "452", "4.2.2",
        ("deferred", "other")),
    ("sparkpost-class-22", "sparkpost", lambda: sparkpost("bounce", bounce_class="22"),
        SOFT, MAILBOX_FULL, None, None, ("bounced", "bounced")),
    # --- Receiving server unavailable / DNS / timeouts ------------------------------------
    ("generic-421", "", lambda: generic("bounced", None,
        mta_response="421 Service not available, closing transmission channel"),
        SOFT, SERVER_UNAVAILABLE, "421", "", None),
    ("generic-4.4.1", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="451 4.4.1 No answer from host"), SOFT, SERVER_UNAVAILABLE, "451",
        "4.4.1", None),
    ("generic-5.4.4-not-marked-permanent", "", lambda: generic("bounced", None,
        reject_reason="bounced", mta_response="550 5.4.4 Unable to route"),
        SOFT, SERVER_UNAVAILABLE, "550", "5.4.4", None),
    ("generic-timed-out", "", lambda: generic("bounced", None, reject_reason="timed_out"),
        SOFT, SERVER_UNAVAILABLE, "", "", None),
    ("generic-rejected-timed-out", "", lambda: generic("rejected", None,
        reject_reason="timed_out"), SOFT, SERVER_UNAVAILABLE, "", "", None),
    ("ses-deliverydelay-transient-communication", "amazon_ses",
        lambda: ses_delay("TransientCommunicationFailure", "4.4.1", "smtp; 421 4.4.1 timeout"),
        RECORD, "", "421", "4.4.1", ("unknown", None)),
    ("ses-deliverydelay-recipient-server-error", "amazon_ses",
        lambda: ses_delay("RecipientServerError", "4.3.2", "smtp; 451 4.3.2 try later"),
        RECORD, "", "451", "4.3.2", ("unknown", None)),
    ("ses-transient-general-gave-up", "amazon_ses", lambda: ses_bounce("Transient",
        "General", "4.4.7", "smtp; 421 4.4.7 Delivery time expired"),
        SOFT, SERVER_UNAVAILABLE, "421", "4.4.7", ("bounced", "bounced")),
    # Issue 10 item 6: "message delayed" is informational (Postmark still tries); a DNS error
    # is a (final) soft failure, retried by us.
    ("postmark-transient-is-informational", "postmark", lambda: postmark("Bounce",
        "Transient", TypeCode=2, Details="smtp;421 4.4.2 Connection timed out"), RECORD, "",
        "421", "4.4.2", ("deferred", None)),
    ("postmark-dnserror-is-soft", "postmark", lambda: postmark("Bounce", "DnsError",
        TypeCode=256, Details="DNS lookup failed"), SOFT, SERVER_UNAVAILABLE, "", "",
        ("deferred", None)),
    ("postmark-dnserror-with-5.1.2-text-stays-soft", "postmark", lambda: postmark("Bounce",
        "DnsError", TypeCode=256, Details="smtp;550 5.1.2 Host unknown"), SOFT,
        SERVER_UNAVAILABLE, "550", "5.1.2", ("deferred", None)),
    ("mailgun-temporary", "mailgun", lambda: mailgun("failed", severity="temporary",
        reason="generic", code=421, message="4.4.2 Connection dropped"), RECORD, "", "421",
        "4.4.2", ("deferred", "other")),
    ("mailgun-permanent-old", "mailgun", lambda: mailgun("failed", severity="permanent",
        reason="old", code=421, message="4.4.7 Too old"), SOFT, SERVER_UNAVAILABLE, "421",
        "4.4.7", ("bounced", "other")),
    ("mailgun-permanent-generic-no-code", "mailgun", lambda: mailgun("failed",
        severity="permanent", reason="generic"), SOFT, OTHER, "", "", ("bounced", "other")),
    ("mailjet-connection-issue", "mailjet", lambda: mailjet("bounce", hard_bounce=False,
        error_related_to="system", error="connection issue"), SOFT, SERVER_UNAVAILABLE, None,
        None, ("bounced", "other")),
    ("mailjet-greylisted-retrying", "mailjet", lambda: mailjet("bounce", hard_bounce=False,
        error_related_to="domain", error="greylisted"), RECORD, "", None, None,
        ("deferred", "other")),
    ("sparkpost-class-21-dns", "sparkpost", lambda: sparkpost("bounce", bounce_class="21"),
        SOFT, SERVER_UNAVAILABLE, None, None, ("bounced", "bounced")),
    ("sparkpost-class-24-timeout", "sparkpost", lambda: sparkpost("bounce",
        bounce_class="24"), SOFT, SERVER_UNAVAILABLE, None, None, ("bounced", "timed_out")),
    ("sparkpost-delay", "sparkpost", lambda: sparkpost("delay"), RECORD, "", None, None,
        ("deferred", None)),
    # --- Domain has no mail host at all ---------------------------------------------------
    ("mailjet-no-mail-host-hard", "mailjet", lambda: mailjet("bounce", hard_bounce=True,
        error_related_to="domain", error="no mail host"), HARD, INVALID, None, None,
        ("bounced", "bounced")),
    ("mailjet-no-mail-host-soft", "mailjet", lambda: mailjet("bounce", hard_bounce=False,
        error_related_to="domain", error="no mail host"), SOFT, SERVER_UNAVAILABLE, None,
        None, ("bounced", "bounced")),
    ("ses-permanent-5.4.4-marked-permanent", "amazon_ses", lambda: ses_bounce("Permanent",
        "General", "5.4.4", "smtp; 550 5.4.4 Unable to route: no MX"), HARD, INVALID, "550",
        "5.4.4", ("bounced", "bounced")),
    ("ses-transient-5.4.4", "amazon_ses", lambda: ses_bounce("Transient", "General",
        "5.4.4", "smtp; 550 5.4.4 Unable to route"), SOFT, SERVER_UNAVAILABLE, "550",
        "5.4.4", ("bounced", "bounced")),
    # SES sometimes labels a clear 5.1.1 Transient (AI-Shipping-Labs#827): the code wins.
    ("ses-transient-with-5.1.1", "amazon_ses", lambda: ses_bounce("Transient", "General",
        "5.1.1", "smtp; 550 5.1.1 user unknown"), HARD, INVALID, "550", "5.1.1",
        ("bounced", "bounced")),
    # --- Mailbox disabled / inactive ------------------------------------------------------
    ("generic-5.2.1", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="550 5.2.1 Mailbox disabled, not accepting messages"),
        HARD, INVALID, "550", "5.2.1", None),
    ("mailjet-mailbox-inactive", "mailjet", lambda: mailjet("bounce", hard_bounce=True,
        error_related_to="recipient", error="mailbox inactive"), HARD, INVALID, None, None,
        ("bounced", "bounced")),
    # --- Spam complaint: DEACTIVATE NOW (reject_reason is often None) ---------------------
    ("sendgrid-spamreport", "sendgrid", lambda: sendgrid("spamreport"), HARD, SPAM, "", "",
        ("complained", None)),
    ("mailgun-complained", "mailgun", lambda: mailgun("complained"), HARD, SPAM, "", "",
        ("complained", None)),
    ("mailjet-spam", "mailjet", lambda: mailjet("spam", source="JMRPP"), HARD, SPAM, "", "",
        ("complained", None)),
    ("ses-complaint-abuse", "amazon_ses", lambda: ses({"notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": RCPT}],
                      "complaintFeedbackType": "abuse", "feedbackId": "f1"}}),
        HARD, SPAM, "", "", ("complained", "spam")),
    ("ses-complaint-no-feedback-type", "amazon_ses", lambda: ses({
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": RCPT}], "feedbackId": "f2"}}),
        HARD, SPAM, "", "", ("complained", "spam")),
    ("ses-complaint-not-spam", "amazon_ses", lambda: ses({"notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": RCPT}],
                      "complaintFeedbackType": "not-spam", "feedbackId": "f3"}}),
        RECORD, "", "", "", ("complained", "spam")),
    ("postmark-spamcomplaint", "postmark", lambda: postmark("SpamComplaint", "SpamComplaint",
        TypeCode=100001, CanActivate=False), HARD, SPAM, "", "", ("complained", "spam")),
    ("brevo-spam", "brevo", lambda: brevo("spam"), HARD, SPAM, "", "", ("complained", "spam")),
    ("brevo-complaint", "brevo", lambda: brevo("complaint"), HARD, SPAM, "", "",
        ("complained", "spam")),
    ("sparkpost-spam-complaint", "sparkpost", lambda: sparkpost("spam_complaint",
        fbtype="abuse"), HARD, SPAM, None, None, ("complained", None)),
    ("generic-complained", "", lambda: generic("complained", None), HARD, SPAM, "", "", None),
    # Postmark SpamNotification: the receiver's *filter* (not a person) flagged our message.
    ("postmark-spamnotification", "postmark", lambda: postmark("Bounce", "SpamNotification",
        TypeCode=512), SENDER, PROVIDER_BLOCKED, None, None, ("complained", "spam")),
    # --- Unsubscribe: DEACTIVATE NOW (email channel) --------------------------------------
    ("generic-unsubscribed", "", lambda: generic("unsubscribed", None), HARD, UNSUBSCRIBED,
        "", "", None),
    ("postmark-manualsuppression", "postmark",
        lambda: postmark_subscription("ManualSuppression"), HARD, UNSUBSCRIBED, "", "",
        ("unsubscribed", "unsubscribed")),
    ("postmark-bounce-unsubscribe", "postmark", lambda: postmark("Bounce", "Unsubscribe",
        TypeCode=16), HARD, UNSUBSCRIBED, None, None, ("unsubscribed", "unsubscribed")),
    ("ses-subscription-unsubscribe-all", "amazon_ses", lambda: ses({
        "eventType": "Subscription", "subscription": {"contactList": "boletos",
        "newTopicPreferences": {"unsubscribeAll": True}}}), HARD, UNSUBSCRIBED, "", "",
        ("unknown", None)),
    ("ses-subscription-opt-in", "amazon_ses", lambda: ses({"eventType": "Subscription",
        "subscription": {"newTopicPreferences": {"unsubscribeAll": False,
        "topicSubscriptionStatus": [{"topicName": "boletos", "subscriptionStatus": "OptIn"}]}}}),
        RECORD, "", "", "", ("unknown", None)),
    ("brevo-unsubscribed-raw-name", "brevo", lambda: brevo("unsubscribed"), HARD,
        UNSUBSCRIBED, "", "", ("unknown", None)),
    ("brevo-unsubscribe", "brevo", lambda: brevo("unsubscribe"), HARD, UNSUBSCRIBED, "", "",
        ("unsubscribed", None)),
    ("sendgrid-unsubscribe", "sendgrid", lambda: sendgrid("unsubscribe"), HARD, UNSUBSCRIBED,
        "", "", ("unsubscribed", None)),
    ("mailgun-unsubscribed", "mailgun", lambda: mailgun("unsubscribed"), HARD, UNSUBSCRIBED,
        "", "", ("unsubscribed", None)),
    ("mailjet-unsub", "mailjet", lambda: mailjet("unsub"), HARD, UNSUBSCRIBED, "", "",
        ("unsubscribed", None)),
    # --- Our reputation / content / authentication blocked: SENDER ------------------------
    ("generic-5.7.1-dmarc", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="550 5.7.1 Unauthenticated email is not accepted due to DMARC policy"),
        SENDER, PROVIDER_BLOCKED, "550", "5.7.1", None),
    ("generic-5.7.26-gmail-auth", "", lambda: generic("bounced", None,
        mta_response="550-5.7.26 This mail has been blocked because the sender is "
        "unauthenticated. Gmail requires all senders to authenticate"),
        SENDER, PROVIDER_BLOCKED, "550", "5.7.26", None),
    ("generic-4.7.32-final", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="421 4.7.32 Your email has been rate limited because the From: header "
        "isn't aligned"), SENDER, PROVIDER_BLOCKED, "421", "4.7.32", None),
    ("generic-4.7.x-while-deferred", "", lambda: generic("deferred", None,
        mta_response="421 4.7.28 rate limited"), RECORD, "", "421", "4.7.28", None),
    # Recipient-side-looking 5.7.1: the doc files every X.7.1 under SENDER (never
    # deactivates), even when the ESP's label is the generic Permanent/General.
    ("ses-permanent-general-recipient-side-5.7.1", "amazon_ses", lambda: ses_bounce(
        "Permanent", "General", "5.7.1",
        "smtp; 550 5.7.1 Recipient address rejected: Access denied"),
        SENDER, PROVIDER_BLOCKED, "550", "5.7.1", ("bounced", "bounced")),
    ("postmark-hardbounce-5.7.1-blocked-sender", "postmark", lambda: postmark("Bounce",
        "HardBounce", Details="smtp;550 5.7.1 Service unavailable; client host blocked using "
        "Spamhaus"), SENDER, PROVIDER_BLOCKED, "550", "5.7.1", ("bounced", "bounced")),
    ("sendgrid-bounce-type-blocked", "sendgrid", lambda: sendgrid("bounce", type="blocked",
        status="5.7.1", reason="550 5.7.1 Message rejected due to sender reputation"),
        SENDER, PROVIDER_BLOCKED, "550", "5.7.1", ("bounced", None)),
    ("sendgrid-bounce-type-blocked-no-code", "sendgrid", lambda: sendgrid("bounce",
        type="blocked", reason="Connection refused by receiver"), SENDER, PROVIDER_BLOCKED,
        "", "", ("bounced", None)),
    ("sendgrid-bounce-reputation", "sendgrid", lambda: sendgrid("bounce", type="bounce",
        bounce_classification="Reputation", status="5.7.1",
        reason="550 5.7.1 poor reputation"), SENDER, PROVIDER_BLOCKED, "550", "5.7.1",
        ("bounced", None)),
    ("sendgrid-bounce-content", "sendgrid", lambda: sendgrid("bounce", type="bounce",
        bounce_classification="Content", status="5.7.1", reason="550 5.7.1 content"),
        SENDER, PROVIDER_BLOCKED, None, None, ("bounced", None)),
    ("mailjet-sender-blocked", "mailjet", lambda: mailjet("bounce", hard_bounce=True,
        error_related_to="spam", error="sender blocked"), SENDER, PROVIDER_BLOCKED, None, None,
        ("bounced", "blocked")),
    ("mailjet-content-blocked", "mailjet", lambda: mailjet("bounce", hard_bounce=False,
        error_related_to="spam", error="content blocked"), SENDER, PROVIDER_BLOCKED, None,
        None, ("bounced", "blocked")),
    ("mailjet-policy-issue", "mailjet", lambda: mailjet("blocked", error_related_to="spam",
        error="policy issue"), SENDER, PROVIDER_BLOCKED, None, None, ("rejected", "blocked")),
    ("sparkpost-class-50", "sparkpost", lambda: sparkpost("bounce", bounce_class="50"),
        SENDER, PROVIDER_BLOCKED, None, None, ("bounced", "blocked")),
    ("sparkpost-class-51", "sparkpost", lambda: sparkpost("bounce", bounce_class="51"),
        SENDER, PROVIDER_BLOCKED, None, None, ("bounced", "spam")),
    ("sparkpost-class-52", "sparkpost", lambda: sparkpost("bounce", bounce_class="52"),
        SENDER, PROVIDER_BLOCKED, None, None, ("bounced", "spam")),
    ("sparkpost-class-54", "sparkpost", lambda: sparkpost("bounce", bounce_class="54"),
        SENDER, PROVIDER_BLOCKED, None, None, ("bounced", "blocked")),
    ("postmark-dmarcpolicy", "postmark", lambda: postmark("Bounce", "DMARCPolicy"),
        SENDER, PROVIDER_BLOCKED, None, None, ("rejected", "blocked")),
    ("postmark-blocked", "postmark", lambda: postmark("Bounce", "Blocked", TypeCode=100006),
        SENDER, PROVIDER_BLOCKED, None, None, ("rejected", "blocked")),
    ("ses-transient-contentrejected", "amazon_ses", lambda: ses_bounce("Transient",
        "ContentRejected", "5.7.1", "smtp; 554 5.7.1 Message content rejected"),
        SENDER, PROVIDER_BLOCKED, "554", "5.7.1", ("bounced", "bounced")),
    ("brevo-error", "brevo", lambda: brevo("error", reason="Template rendering error"),
        SENDER, SENDING_PROBLEM, None, None, ("failed", None)),
    ("mailgun-espblock", "mailgun", lambda: mailgun("failed", severity="permanent",
        reason="espblock", code=554, message="Message blocked by the receiving provider"),
        SENDER, PROVIDER_BLOCKED, "554", "", ("bounced", "other")),
    ("generic-5.1.8-bad-sender", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="553 5.1.8 Sender address rejected: Domain not found"),
        SENDER, SENDING_PROBLEM, "553", "5.1.8", None),
    ("generic-bounced-blocked", "", lambda: generic("bounced", None,
        reject_reason="blocked"), SENDER, PROVIDER_BLOCKED, "", "", None),
    # --- Message too large / attachment rejected: SENDER ----------------------------------
    ("generic-5.3.4-too-big", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="552 5.3.4 Message size exceeds fixed limit"),
        SENDER, SENDING_PROBLEM, "552", "5.3.4", None),
    ("generic-5.2.3-too-big", "", lambda: generic("bounced", None, reject_reason="bounced",
        mta_response="552 5.2.3 Message exceeds maximum size"),
        SENDER, SENDING_PROBLEM, "552", "5.2.3", None),
    ("ses-transient-messagetoolarge", "amazon_ses", lambda: ses_bounce("Transient",
        "MessageTooLarge", "5.3.4"), SENDER, SENDING_PROBLEM, "", "5.3.4",
        ("bounced", "bounced")),
    ("ses-transient-attachmentrejected", "amazon_ses", lambda: ses_bounce("Transient",
        "AttachmentRejected", "5.7.0"), SENDER, SENDING_PROBLEM, "", "5.7.0",
        ("bounced", "bounced")),
    ("sparkpost-class-23", "sparkpost", lambda: sparkpost("bounce", bounce_class="23"),
        SENDER, SENDING_PROBLEM, None, None, ("bounced", "bounced")),
    ("sparkpost-class-53", "sparkpost", lambda: sparkpost("bounce", bounce_class="53"),
        SENDER, SENDING_PROBLEM, None, None, ("bounced", "other")),
    # --- ESP template / render / API failure: SENDER --------------------------------------
    ("generic-failed", "", lambda: generic("failed", None,
        description="Template variable missing"), SENDER, SENDING_PROBLEM, "", "", None),
    ("ses-rendering-failure", "amazon_ses", lambda: ses({"eventType": "Rendering Failure",
        "failure": {"errorMessage": "Attribute 'nome' is not present", "templateName": "b"}}),
        SENDER, SENDING_PROBLEM, "", "", ("failed", None)),
    ("ses-reject-virus", "amazon_ses", lambda: ses({"eventType": "Reject",
        "reject": {"reason": "Bad content"}}), SENDER, SENDING_PROBLEM, "", "",
        ("rejected", "blocked")),
    ("postmark-templaterenderingfailed", "postmark", lambda: postmark("Bounce",
        "TemplateRenderingFailed"), SENDER, SENDING_PROBLEM, None, None, ("failed", None)),
    ("postmark-virusnotification", "postmark", lambda: postmark("Bounce",
        "VirusNotification", TypeCode=8192), SENDER, SENDING_PROBLEM, None, None,
        ("bounced", "other")),
    ("mailgun-rejected", "mailgun", lambda: mailgun("rejected",
        reject={"reason": "Sandbox subdomains are for test purposes only"}),
        SENDER, SENDING_PROBLEM, "", "", ("rejected", "other")),
    ("postal-hardfail-is-a-hard-bounce", "postal", lambda: generic("failed", {
        "event": "MessageDeliveryFailed", "payload": {"status": "HardFail",
        "output": "550 5.1.1 No such user"}}, mta_response="550 5.1.1 No such user"),
        HARD, INVALID, "550", "5.1.1", None),
    # --- Auto-reply / challenge / address change: RECORD ----------------------------------
    ("generic-autoresponded", "", lambda: generic("autoresponded", None), RECORD, "", "", "",
        None),
    ("ses-transient-general-out-of-office", "amazon_ses", lambda: ses_bounce("Transient",
        "General", action=None), RECORD, "", "", "", ("bounced", "bounced")),
    ("ses-transient-general-failed-without-code", "amazon_ses", lambda: ses_bounce(
        "Transient", "General", diagnostic="smtp; Connection timed out"),
        SOFT, SERVER_UNAVAILABLE, "", "", ("bounced", "bounced")),
    ("postmark-autoresponder", "postmark", lambda: postmark("Bounce", "AutoResponder",
        TypeCode=64), RECORD, "", None, None, ("autoresponded", None)),
    ("postmark-addresschange", "postmark", lambda: postmark("Bounce", "AddressChange",
        TypeCode=128, Details="My new address is novo@example.com"), RECORD, "", "", "",
        ("autoresponded", None)),
    ("postmark-challengeverification", "postmark", lambda: postmark("Bounce",
        "ChallengeVerification", TypeCode=16384), RECORD, "", None, None,
        ("autoresponded", None)),
    ("sparkpost-class-60-auto-reply", "sparkpost", lambda: sparkpost("bounce",
        bounce_class="60"), RECORD, "", None, None, ("autoresponded", "other")),
    # --- Delivered: reset the soft counter ------------------------------------------------
    ("generic-delivered", "", lambda: generic("delivered", None,
        mta_response="250 2.0.0 OK"), DELIVER, "", "250", "2.0.0", None),
    ("mailjet-sent-is-delivered", "mailjet", lambda: mailjet("sent",
        smtp_reply="sent (250 2.0.0 OK 1738670418 h12si3456789qtb.55 - gsmtp)"),
        DELIVER, "", "250", "2.0.0", ("delivered", None)),
    ("ses-delivery", "amazon_ses", lambda: ses({"notificationType": "Delivery",
        "delivery": {"recipients": [RCPT], "smtpResponse": "250 2.0.0 OK"}}),
        DELIVER, "", "250", "2.0.0", ("delivered", None)),
    ("sparkpost-delivery", "sparkpost", lambda: sparkpost("delivery",
        raw_reason="250 2.0.0 OK"), DELIVER, "", "250", "2.0.0", ("delivered", None)),
    # --- Opened / clicked / queued / sent: RECORD -----------------------------------------
    ("generic-opened", "", lambda: generic("opened", None), RECORD, "", "", "", None),
    ("generic-clicked", "", lambda: generic("clicked", None), RECORD, "", "", "", None),
    ("generic-queued", "", lambda: generic("queued", None), RECORD, "", "", "", None),
    ("generic-sent", "", lambda: generic("sent", None), RECORD, "", "", "", None),
    ("sendgrid-open", "sendgrid", lambda: sendgrid("open", useragent="Mozilla/5.0"), RECORD,
        "", "", "", ("opened", None)),
    ("sendgrid-processed", "sendgrid", lambda: sendgrid("processed"), RECORD, "", "", "",
        ("queued", None)),
    ("brevo-request", "brevo", lambda: brevo("request"), RECORD, "", "", "", ("queued", None)),
    ("brevo-proxy-open", "brevo", lambda: brevo("unique_proxy_open"), RECORD, "", "", "",
        ("opened", None)),
    ("mailgun-opened", "mailgun", lambda: mailgun("opened"), RECORD, "", "", "",
        ("opened", None)),
    ("ses-send", "amazon_ses", lambda: ses({"eventType": "Send", "send": {}}), RECORD, "", "",
        "", ("sent", None)),
    ("ses-open", "amazon_ses", lambda: ses({"eventType": "Open", "open": {"userAgent": "x"}}),
        RECORD, "", "", "", ("opened", None)),
    ("postmark-open", "postmark", lambda: postmark("Open", Recipient=RCPT), RECORD, "", "", "",
        ("opened", None)),
    # --- Unknown / unparsed: RECORD -------------------------------------------------------
    ("generic-unknown", "", lambda: generic("unknown", None), RECORD, "", "", "", None),
    ("ses-future-event-type", "amazon_ses", lambda: ses({"eventType": "Frobnicate"}), RECORD,
        "", "", "", ("unknown", None)),
    ("postmark-unknown-type", "postmark", lambda: postmark("Bounce", "Unknown",
        TypeCode=2048), RECORD, "", "", "", ("unknown", None)),
    ("postmark-unknown-type-with-5.1.1", "postmark", lambda: postmark("Bounce", "Unknown",
        TypeCode=2048, Details="smtp;550 5.1.1 user unknown"), HARD, INVALID, "550", "5.1.1",
        ("unknown", None)),
    ("postmark-open-relay-test", "postmark", lambda: postmark("Bounce", "OpenRelayTest",
        TypeCode=1024), RECORD, "", None, None, ("deferred", None)),
    # --- Deferred vs final; other ESPs' soft/hard bounce names ----------------------------
    ("generic-deferred-with-5.1.1-stays-record", "", lambda: generic("deferred", None,
        mta_response="550 5.1.1 user unknown"), RECORD, "", "550", "5.1.1", None),
    # Brevo files some clear 5.1.1 under "deferred" (anymail's comment) while it still
    # retries: informational, naming the cause so the address is marked "suspeito".
    ("brevo-deferred-with-5.1.1", "brevo", lambda: brevo("deferred",
        reason="550 5.1.1 user unknown"), RECORD, INVALID, "550", "5.1.1", ("deferred", None)),
    ("brevo-deferred-4.2.2", "brevo", lambda: brevo("deferred", reason="452 4.2.2 over quota"),
        RECORD, "", "452", "4.2.2", ("deferred", None)),
    ("mandrill-soft-bounce", "mandrill", lambda: generic("bounced", {"event": "soft_bounce",
        "msg": {"state": "soft-bounced"}}, reject_reason="bounced"), SOFT, OTHER, "", "",
        None),
    ("mandrill-hard-bounce", "mandrill", lambda: generic("bounced", {"event": "hard_bounce",
        "msg": {"diag": "smtp;550 5.1.1 user unknown"}}, reject_reason="bounced",
        mta_response="smtp;550 5.1.1 user unknown"), HARD, INVALID, "550", "5.1.1", None),
    ("mailersend-soft-bounced-with-4.2.2", "mailersend", lambda: generic("bounced", {
        "type": "activity.soft_bounced", "data": {"type": "soft_bounced"}},
        mta_response="452 4.2.2 Mailbox full"), SOFT, MAILBOX_FULL, "452", "4.2.2", None),
    ("generic-bounced-no-information", "", lambda: generic("bounced", None,
        reject_reason="bounced"), SOFT, OTHER, "", "", None),
    ("generic-bounced-550-no-enhanced", "", lambda: generic("bounced", None,
        mta_response="550 Requested action not taken: mailbox unavailable"),
        HARD, INVALID, "550", "", None),
]
# fmt: on


@pytest.mark.parametrize(
    ("esp", "factory", "action", "cause", "smtp", "enhanced", "anymail_out"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_classification_table(esp, factory, action, cause, smtp, enhanced, anymail_out):
    event = factory()
    if anymail_out is not None:  # the trap the case is about: what anymail itself emits
        assert (event.event_type, event.reject_reason) == anymail_out
    result = classify(event, esp_name=esp or None)
    assert isinstance(result, Classification)
    assert (result.action, result.cause) == (action, cause), result
    if smtp is not None:
        assert result.smtp_code == smtp, result
    if enhanced is not None:
        assert result.enhanced_status == enhanced, result
    assert result.cause in ACTION_CAUSES[result.action] | {OTHER}


def test_case_ids_are_unique():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_section_3_action_and_cause_is_exercised():
    seen = {(case[3], case[4]) for case in CASES}
    for pair in [
        (HARD, INVALID),
        (HARD, SUPPRESSED),
        (HARD, SPAM),
        (HARD, UNSUBSCRIBED),
        (SOFT, MAILBOX_FULL),
        (SOFT, SERVER_UNAVAILABLE),
        (SENDER, PROVIDER_BLOCKED),
        (SENDER, SENDING_PROBLEM),
        (RECORD, ""),
        (DELIVER, ""),
    ]:
        assert pair in seen, pair


def test_bounced_is_not_always_hard():
    """Trap 1: the same anymail bounced/bounced, three different decisions."""
    hard = ses_bounce("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown")
    soft = ses_bounce("Transient", "MailboxFull", "4.2.2", "smtp; 452 4.2.2 full")
    postmark_soft = postmark("Bounce", "SoftBounce", Details="smtp;452 4.2.2 full")
    for event in (hard, soft, postmark_soft):
        assert (event.event_type, event.reject_reason) == ("bounced", "bounced")
    assert classify(hard, esp_name="amazon_ses").action == HARD
    assert classify(soft, esp_name="amazon_ses").action == SOFT
    assert classify(postmark_soft, esp_name="postmark").action == SOFT


# --- esp_name forms, guessing, and raw payload shapes ------------------------------------------


@pytest.mark.parametrize("esp_name", ["amazon_ses", "Amazon SES", "AmazonSES", "ses", None])
def test_esp_name_forms(esp_name):
    event = ses_bounce("Transient", "MailboxFull", "5.2.2")
    assert classify(event, esp_name=esp_name).cause == MAILBOX_FULL


def test_sendinblue_is_brevo_and_missing_name_is_guessed():
    event = brevo("soft_bounce", reason="452 4.2.2 over quota")
    assert classify(event, esp_name="SendinBlue").action == SOFT
    assert classify(event).action == SOFT
    postmark_soft = postmark("Bounce", "SoftBounce")
    assert classify(postmark_soft).action == SOFT


def test_sns_envelope_as_esp_event():
    inner = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Transient",
            "bounceSubType": "MailboxFull",
            "bouncedRecipients": [{"emailAddress": RCPT, "status": "5.2.2"}],
        },
        "mail": {"destination": [RCPT]},
    }
    envelope = {"Type": "Notification", "MessageId": "m", "Message": json.dumps(inner)}
    event = generic("bounced", envelope, reject_reason="bounced")
    result = classify(event, esp_name="amazon_ses")
    assert (result.action, result.cause, result.enhanced_status) == (SOFT, MAILBOX_FULL, "5.2.2")


def test_esp_event_list_picks_the_event_for_the_recipient():
    batch = [
        {"email": "outro@example.com", "event": "bounce", "type": "bounce", "status": "5.1.1"},
        {"email": RCPT, "event": "deferred", "response": "452 4.2.2 over quota"},
    ]
    event = generic("deferred", batch)
    result = classify(event, esp_name="sendgrid")
    assert (result.action, result.enhanced_status) == (RECORD, "4.2.2")


def test_esp_event_json_string_is_parsed():
    raw = json.dumps({"RecordType": "Bounce", "Type": "SoftBounce", "Email": RCPT})
    event = generic("bounced", raw, reject_reason="bounced")
    assert classify(event, esp_name="postmark").action == SOFT


def test_mailgun_legacy_querydict():
    post = QueryDict(mutable=True)
    post.update(
        {
            "event": "dropped",
            "recipient": RCPT,
            "code": "605",
            "reason": "hardfail",
            "description": "Not delivering to previously bounced address",
        }
    )
    post.appendlist("code", "999")  # a user variable with a clashing name comes later
    event = generic("rejected", post, reject_reason="bounced")
    result = classify(event, esp_name="mailgun")
    assert (result.action, result.cause, result.smtp_code) == (HARD, SUPPRESSED, "605")

    bounced = QueryDict(mutable=True)
    bounced.update({"event": "bounced", "code": "550", "error": "5.1.1 user unknown"})
    result = classify(generic("bounced", bounced, reject_reason="bounced"), esp_name="mailgun")
    assert (result.action, result.cause, result.enhanced_status) == (HARD, INVALID, "5.1.1")


@pytest.mark.parametrize(
    "esp",
    [
        "sendgrid",
        "mailgun",
        "postmark",
        "amazon_ses",
        "brevo",
        "mailjet",
        "sparkpost",
        "resend",
        "",
    ],
)
@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        42,
        3.5,
        True,
        [],
        [None, "x"],
        {},
        {"event": None},
        {"event": ["bounce"]},
        {"event-data": "oops"},
        {"event-data": {"delivery-status": [1]}},
        {"RecordType": 5, "Type": {"x": 1}},
        {"bounce": "x", "notificationType": "Bounce"},
        {"notificationType": "Bounce", "bounce": {"bouncedRecipients": "x"}},
        {"msys": {"a": 1, "b": 2}},
        {"msys": []},
        b"\xff\xfe",
        {"hard_bounce": "yes"},
        {"Type": "Notification", "Message": "not json"},
    ],
    ids=lambda value: repr(value)[:40],
)
def test_malformed_raw_never_raises_and_falls_back(esp, raw):
    # _classify: the real path, not the safety net in classify().
    bounced = generic(
        "bounced", raw, reject_reason="bounced", mta_response="550 5.1.1 user unknown"
    )
    result = _classify(bounced, esp or None)
    # Nothing usable in the raw payload: anymail's fields and the SMTP line decide.
    assert (result.action, result.cause, result.enhanced_status) == (HARD, INVALID, "5.1.1")
    delivered = _classify(generic("delivered", raw), esp or None)
    complained = _classify(generic("complained", raw), esp or None)
    if esp == "amazon_ses" and isinstance(raw, dict) and raw.get("notificationType"):
        # The raw payload itself claims a (broken) SES bounce: the ESP-native type wins over
        # anymail's event_type (decision order, §3) and reads as an undetermined bounce.
        assert delivered.action in ACTIONS and complained.action in ACTIONS
    else:
        assert (delivered.action, delivered.cause) == (DELIVER, "")
        assert (complained.action, complained.cause) == (HARD, SPAM)


def test_malformed_raw_with_only_anymail_fields_uses_the_code():
    event = generic("bounced", None, reject_reason=None, mta_response="550 5.1.1 no such user")
    for esp in ("sendgrid", "postmark", "amazon_ses", "brevo", "mailjet", "mailgun"):
        result = classify(event, esp_name=esp)
        assert (result.action, result.cause) == (HARD, INVALID), esp


def test_not_an_event_at_all():
    assert classify(object()).action == RECORD
    assert classify(None).action == RECORD


def test_safety_net_logs_and_degrades(monkeypatch, caplog):
    import notifications.classifier as module

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(module, "_classify", boom)
    result = module.classify(generic("complained", None))
    assert (result.action, result.cause) == (HARD, SPAM)
    assert "classifier failed" in caplog.text


# --- Code parsing out of messy SMTP lines (email-delivery.md §6.7) -----------------------------


@pytest.mark.parametrize(
    ("text", "smtp", "enhanced"),
    [
        ("smtp;550 5.1.1 <a@example.com>: Recipient address rejected", "550", "5.1.1"),
        ("smtp; 550 5.1.1 user unknown", "550", "5.1.1"),
        ("sent (250 2.0.0 OK 1738670418 h12si3456789qtb.55 - gsmtp)", "250", "2.0.0"),
        (" 550 5.1.1 leading space (Brevo)", "550", "5.1.1"),
        ("552-5.2.2 The email account that you tried to reach is over quota", "552", "5.2.2"),
        ("550 #5.1.1 bad address", "550", "5.1.1"),
        ("5.1.1 <a@example.com>: user unknown", "", "5.1.1"),
        ("host 192.0.2.25 said: 550 user unknown (in reply to RCPT TO)", "", ""),
        ("Status: 5.1.1.", "", "5.1.1"),
        ("OK", "", ""),
        ("Message delivered, version 10.2.5.1 of the agent", "", ""),
        ("dsn; 4.4.7 expired", "", "4.4.7"),
    ],
)
def test_code_parsing(text, smtp, enhanced):
    result = classify(generic("bounced", None, mta_response=text))
    assert (result.smtp_code, result.enhanced_status) == (smtp, enhanced)


def test_diagnostic_is_one_trimmed_line():
    text = "550 5.1.1 user unknown\r\n   second   line\t" + "x" * 1000
    result = classify(generic("bounced", None, mta_response=text))
    assert result.diagnostic.startswith("550 5.1.1 user unknown second line x")
    assert len(result.diagnostic) == 500
    assert "\n" not in result.diagnostic and "\t" not in result.diagnostic


def test_diagnostic_prefers_the_raw_smtp_line():
    event = sendgrid("dropped", reason="Bounced Address")
    assert classify(event, esp_name="sendgrid").diagnostic == "Bounced Address"
    event = mailjet("bounce", hard_bounce=True, error_related_to="recipient", error="user unknown")
    assert classify(event, esp_name="mailjet").diagnostic == "recipient: user unknown"


# =============================================================================================
# 3. Hypothesis: never raises
# =============================================================================================

EVENT_TYPES = sorted(
    value for name, value in vars(EventType).items() if name.isupper() and isinstance(value, str)
)
REJECT_REASONS = sorted(
    value for name, value in vars(RejectReason).items() if name.isupper() and isinstance(value, str)
)
ESP_NAMES = [
    "sendgrid",
    "mailgun",
    "postmark",
    "amazon_ses",
    "Amazon SES",
    "brevo",
    "SendinBlue",
    "mailjet",
    "sparkpost",
    "resend",
    "mandrill",
    "postal",
    None,
    "",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "5.1.1",
            "550 5.1.1 x",
            "452 4.2.2",
            "5.7.1",
            "605",
            "HardBounce",
            "bounce",
            "failed",
            "permanent",
            "temporary",
            "Bounce",
            "Permanent",
            "Transient",
            "General",
            "soft_bounce",
            "user unknown",
            "true",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
ESP_KEYS = [
    "event",
    "type",
    "status",
    "reason",
    "response",
    "bounce_classification",
    "event-data",
    "delivery-status",
    "severity",
    "code",
    "message",
    "RecordType",
    "Type",
    "Details",
    "SuppressSending",
    "SuppressionReason",
    "Origin",
    "notificationType",
    "eventType",
    "bounce",
    "bouncedRecipients",
    "complaint",
    "deliveryDelay",
    "subscription",
    "hard_bounce",
    "error",
    "error_related_to",
    "smtp_reply",
    "msys",
    "bounce_class",
    "data",
    "payload",
    "email",
    "Message",
]
esp_shaped = st.dictionaries(st.sampled_from(ESP_KEYS), json_values, max_size=8)


@settings(max_examples=400, deadline=None)
@given(
    event_type=st.sampled_from(EVENT_TYPES) | st.text(max_size=15) | st.none(),
    reject_reason=st.sampled_from(REJECT_REASONS) | st.none() | st.text(max_size=10),
    esp_event=json_values | esp_shaped | st.lists(esp_shaped, max_size=3),
    mta_response=st.none() | st.text(max_size=80) | st.integers(),
    description=st.none() | st.text(max_size=40),
    esp_name=st.sampled_from(ESP_NAMES) | st.text(max_size=10),
)
def test_classify_never_raises(
    event_type, reject_reason, esp_event, mta_response, description, esp_name
):
    event = AnymailTrackingEvent(
        event_type=event_type,
        reject_reason=reject_reason,
        esp_event=esp_event,
        mta_response=mta_response,
        description=description,
        recipient=RCPT,
    )
    result = _classify(event, esp_name)  # no safety net: the rules themselves must hold
    assert result.action in ACTIONS
    if result.action in (DELIVER, RECORD):
        assert result.cause == ""
    else:
        assert result.cause in DeactivationCause.values
    assert "\n" not in result.diagnostic and len(result.diagnostic) <= 500
    assert result == classify(event, esp_name=esp_name)
