"""Every shared webhook payload through the real /anymail/<esp>/tracking/ endpoints into the
durable inbox: stored once, processed, replays ignored, forged or malformed requests refused."""

import base64
import json
import logging
import re

import pytest
from django.test import override_settings

from notifications.models import EmailEvent
from tests import WEBHOOKS

pytestmark = pytest.mark.django_db

EXPECTED = json.loads((WEBHOOKS / "EXPECTED.json").read_text())["files"]
SECRET = "heldout:webhook-secret"
ANYMAIL = {
    "WEBHOOK_SECRET": SECRET,
    "MAILGUN_WEBHOOK_SIGNING_KEY": "heldout-mailgun-webhook-signing-key",
    "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
}
FILES = sorted(name for name in EXPECTED if (WEBHOOKS / name).exists())


def post(client, name: str, *, secret: str = SECRET, body: bytes | None = None):
    prefix = name.split("_", 1)[0]
    esp = "amazon_ses" if prefix == "amazonses" else prefix
    body = (WEBHOOKS / name).read_bytes() if body is None else body
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}
    content_type = "application/json"
    if esp == "amazon_ses":
        content_type = "text/plain; charset=UTF-8"
        try:
            envelope = json.loads(body)
            headers["HTTP_X_AMZ_SNS_MESSAGE_TYPE"] = envelope["Type"]
            headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = envelope["MessageId"]
        except (ValueError, KeyError, TypeError):
            pass
    with override_settings(ANYMAIL=ANYMAIL):
        return client.post(
            f"/anymail/{esp}/tracking/", data=body, content_type=content_type, **headers
        )


def test_every_shared_payload_is_present():
    assert len(FILES) >= 18


@pytest.mark.parametrize("name", FILES)
def test_payload_is_stored_once_and_processed(client, name, django_capture_on_commit_callbacks):
    expected = EXPECTED[name]["events"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, name)
    assert response.status_code == 200
    stored = list(EmailEvent.objects.order_by("id"))
    assert len(stored) == len(expected)
    for row, want in zip(stored, expected, strict=True):
        assert row.event_type == want["event_type"]
        assert row.recipient == want["recipient"]
        assert row.raw  # the ESP's own payload is kept
        # Processed by the task right after commit: classified, recorded.
        assert row.processed_at is not None
        assert row.action in {"deliver", "record", "soft", "hard", "sender"}
    # The ESP retries (or sends a duplicate): nothing new is stored or processed.
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, name)
    assert again.status_code == 200
    assert EmailEvent.objects.count() == len(expected)


def test_hard_bounce_is_classified_with_its_diagnostic(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "sendgrid_bounce_1.json")
    event = EmailEvent.objects.get()
    assert (event.action, event.cause) == ("hard", "invalid_address")
    assert event.enhanced_status == "5.1.1"
    assert "User unknown" in event.diagnostic


@pytest.mark.parametrize("secret", ["heldout:wrong", "nobody:"])
def test_forged_requests_are_refused_and_store_nothing(client, secret):
    response = post(client, "postmark_bounce_1.json", secret=secret)
    assert response.status_code in {400, 401, 403}
    assert not EmailEvent.objects.exists()


def test_unsigned_request_is_refused(client):
    with override_settings(ANYMAIL=ANYMAIL):
        response = client.post(
            "/anymail/postmark/tracking/",
            data=(WEBHOOKS / "postmark_bounce_1.json").read_bytes(),
            content_type="application/json",
        )
    assert response.status_code in {400, 401, 403}
    assert not EmailEvent.objects.exists()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("postmark_bounce_1.json", b"{not json"),
        ("sendgrid_bounce_1.json", b'{"not": "a list"}'),
        ("mailgun_failed_1.json", b"[]"),
        ("postmark_bounce_1.json", b""),
    ],
)
def test_malformed_bodies_never_500(client, name, body):
    response = post(client, name, body=body)
    assert response.status_code < 500
    assert not EmailEvent.objects.filter(processed_at__isnull=False, action="hard").exists()


def test_a_malformed_body_is_one_key_value_refusal_line(client, caplog):
    caplog.set_level(logging.WARNING, logger="notifications.webhook_urls")
    response = post(client, "postmark_bounce_1.json", body=b"{not json")
    assert response.status_code == 400
    (line,) = [r.getMessage() for r in caplog.records if r.name == "notifications.webhook_urls"]
    assert line.startswith(
        "event=webhook_refused reason=malformed_body path=/anymail/postmark/tracking/ "
        "error=JSONDecodeError detail="
    )
    # The parser's message has spaces: quoted, so the line still splits into its fields.
    assert re.fullmatch(r'.* detail="[^"]+ [^"]+"', line), line


def test_processing_twice_changes_nothing(client, django_capture_on_commit_callbacks):
    from notifications.delivery import email_event_process

    with django_capture_on_commit_callbacks(execute=True):
        post(client, "postmark_bounce_1.json")
    event = EmailEvent.objects.get()
    first = (event.processed_at, event.attempts)
    email_event_process(email_event_id=event.pk)
    event.refresh_from_db()
    assert (event.processed_at, event.attempts) == first


def test_webhook_views_stay_csrf_exempt_after_wrapping():
    from notifications.webhook_urls import urlpatterns

    assert urlpatterns and all(getattr(p.callback, "csrf_exempt", False) for p in urlpatterns)


def test_a_storage_failure_is_a_5xx_so_the_esp_retries(client, monkeypatch):
    from django.db import DatabaseError

    from notifications import inbox

    def broken(**kwargs):
        raise DatabaseError("database unavailable")

    monkeypatch.setattr(inbox, "email_event_store", broken)
    client.raise_request_exception = False
    response = post(client, "postmark_bounce_1.json")
    assert response.status_code == 500


# --- NaN / Infinity: Python's json accepts them, JSON (and PostgreSQL's jsonb) does not ---------

ONE_PER_ESP = sorted({name.split("_", 1)[0]: name for name in reversed(FILES)}.values())
NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _with_probe(event: dict, value) -> dict:
    event = dict(event, probe=value)
    if isinstance(event.get("event-data"), dict):  # Mailgun: the event is under event-data
        event["event-data"] = dict(event["event-data"], probe=value)
    for key in ("Metadata", "metadata"):  # also where anymail takes metadata from
        if isinstance(event.get(key), dict):
            event[key] = dict(event[key], probe=value)
    return event


def non_finite_body(name: str, value) -> bytes:
    """The ESP's real payload with a non-finite number added to each event (in the SNS
    envelope's Message for SES), written the way Python writes it: NaN, Infinity."""
    payload = json.loads((WEBHOOKS / name).read_bytes())
    if name.startswith("amazonses"):
        payload["Message"] = json.dumps(_with_probe(json.loads(payload["Message"]), value))
    elif isinstance(payload, list):
        payload = [_with_probe(event, value) for event in payload]
    else:
        payload = _with_probe(payload, value)
    body = json.dumps(payload).encode()
    assert next(k for k in NON_FINITE if NON_FINITE[k] is value).encode() in body
    return body


def test_every_esp_with_a_shared_payload_is_covered():
    assert {name.split("_", 1)[0] for name in ONE_PER_ESP} >= {
        "amazonses",
        "brevo",
        "mailgun",
        "mailjet",
        "postmark",
        "sendgrid",
    }


@pytest.mark.parametrize("literal", sorted(NON_FINITE))
@pytest.mark.parametrize("name", ONE_PER_ESP)
def test_a_non_finite_number_in_an_event_is_a_400_and_stores_nothing(
    client, name, literal, django_capture_on_commit_callbacks
):
    client.raise_request_exception = False
    body = non_finite_body(name, NON_FINITE[literal])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, name, body=body)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()
    # The same payload without it is stored as usual (the 400 is about the number only).
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, name).status_code == 200
    assert EmailEvent.objects.exists()


def test_the_store_refuses_a_non_finite_number_anywhere_in_what_it_keeps():
    from anymail.signals import AnymailTrackingEvent

    from notifications import inbox

    for field in ("esp_event", "metadata"):
        value = {"nested": [1, {"deep": float("nan")}]}
        event = AnymailTrackingEvent(
            event_type="bounced",
            recipient="cliente@example.com",
            message_id="msg-1",
            **{field: value, **({"esp_event": {}} if field == "metadata" else {})},
        )
        with pytest.raises(inbox.MalformedEvent):
            inbox.email_event_store(event=event, esp_name="Postmark")
    assert not EmailEvent.objects.exists()
