"""NaN / Infinity on the tracking webhook of every ESP that has no shared payload (those that do
are in test_inbox.py): a minimal event in the ESP's format, signed where the ESP signs, is
stored; the same event holding a non-finite number is a 400 that stores nothing (on PostgreSQL,
whose jsonb refuses NaN, it used to be a 500)."""

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.test import override_settings

from notifications.models import EmailEvent
from notifications.webhook_urls import urlpatterns
from tests import WEBHOOKS

pytestmark = pytest.mark.django_db

SECRET = "heldout:webhook-secret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
MAILERSEND_SECRET = "heldout-mailersend-secret"
UNISENDER_KEY = "heldout-unisender-key"
MANDRILL_KEY = "heldout-mandrill-key"
MANDRILL_URL = "https://portal.example/anymail/mandrill/tracking/"
POSTAL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
POSTAL_PUBLIC = base64.b64encode(
    POSTAL_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()
ANYMAIL = {
    "WEBHOOK_SECRET": SECRET,
    "MAILERSEND_SIGNING_SECRET": MAILERSEND_SECRET,
    "UNISENDER_GO_API_KEY": UNISENDER_KEY,
    "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
    "MANDRILL_WEBHOOK_URL": MANDRILL_URL,
    "POSTAL_WEBHOOK_KEY": POSTAL_PUBLIC,
}
RECIPIENT = "ana.souza@example.com"


def sparkpost(probe):
    event = {
        "type": "bounce",
        "event_id": "92356927693813856",
        "timestamp": "1738670461",
        "rcpt_to": RECIPIENT,
        "raw_rcpt_to": RECIPIENT,
        "transmission_id": "65832150921904138",
        "bounce_class": "10",
        "raw_reason": "550 5.1.1 user unknown",
        "probe": probe,
    }
    return json.dumps([{"msys": {"message_event": event}}]).encode(), {}


def mailtrap(probe):
    event = {
        "event": "bounce",
        "message_id": "1df37d17-0286-4d8b-8edf-bc4ec5be86e6",
        "sending_stream": "transactional",
        "email": RECIPIENT,
        "timestamp": 1738670461,
        "event_id": "bede7236-2284-43d6-a953-1fdcafd0fdbc",
        "response": "550 5.1.1 user unknown",
        "probe": probe,
    }
    return json.dumps({"events": [event]}).encode(), {}


def resend(probe):
    event = {
        "type": "email.bounced",
        "created_at": "2025-02-04T12:01:01.000Z",
        "data": {"email_id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", "to": [RECIPIENT]},
        "probe": probe,
    }
    return json.dumps(event).encode(), {}


def sendinblue(probe):
    event = json.loads((WEBHOOKS / "brevo_hard_bounce_1.json").read_bytes())
    return json.dumps(dict(event, email=RECIPIENT, probe=probe)).encode(), {}


def mailersend(probe):
    event = {
        "type": "activity.hard_bounced",
        "created_at": "2025-02-04T12:01:01.000000Z",
        "data": {
            "id": "62fb66bef54a112e920b5493",
            "type": "hard_bounced",
            "created_at": "2025-02-04T12:01:01.000000Z",
            "email": {
                "message": {"id": "62fb66bdbfb2b3b5b3e0b7f2"},
                "recipient": {"email": RECIPIENT},
            },
            "probe": probe,
        },
    }
    body = json.dumps(event).encode()
    signature = hmac.new(MAILERSEND_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"HTTP_SIGNATURE": signature}


def postal(probe):
    event = {
        "event": "MessageDeliveryFailed",
        "timestamp": 1738670461,
        "uuid": "0fcc831f-92b9-4cd7-a4a4-1f1cd1a1d8f9",
        "payload": {
            "status": "HardFail",
            "details": "Permanent SMTP delivery error",
            "output": "550 5.1.1 user unknown",
            "message": {"id": 1503, "to": RECIPIENT, "direction": "outgoing"},
            "probe": probe,
        },
    }
    body = json.dumps(event).encode()
    signature = POSTAL_KEY.sign(body, padding.PKCS1v15(), hashes.SHA1())
    return body, {"HTTP_X_POSTAL_SIGNATURE": base64.b64encode(signature).decode()}


def unisender_go(probe):
    event = {
        "auth": UNISENDER_KEY,
        "event_name": "transactional_email_status",
        "job_id": "1sn5Ty-000Y1r-5u",
        "email": RECIPIENT,
        "status": "hard_bounced",
        "event_time": "2025-02-04 12:01:01",
        "delivery_info": {
            "delivery_status": "err_user_unknown",
            "destination_response": "550 5.1.1 user unknown",
        },
        "probe": probe,
    }
    body = json.dumps(event).encode()
    digest = hashlib.md5(body).hexdigest()  # noqa: S324 - Unisender Go's own scheme
    return body.replace(UNISENDER_KEY.encode(), digest.encode()), {}


def mandrill(probe):
    event = {
        "event": "hard_bounce",
        "ts": 1738670461,
        "_id": "abc123abc123abc123abc123abc123",
        "msg": {"email": RECIPIENT, "_id": "abc123abc123abc123abc123abc123"},
        "probe": probe,
    }
    events = json.dumps([event])
    signed = MANDRILL_URL + "mandrill_events" + events
    signature = base64.b64encode(
        hmac.new(MANDRILL_KEY.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()
    return urlencode({"mandrill_events": events}).encode(), {
        "HTTP_X_MANDRILL_SIGNATURE": signature,
        "content_type": "application/x-www-form-urlencoded",
    }


PAYLOADS = {
    "sparkpost": sparkpost,
    "mailtrap": mailtrap,
    "resend": resend,
    "sendinblue": sendinblue,
    "mailersend": mailersend,
    "postal": postal,
    "unisender_go": unisender_go,
    "mandrill": mandrill,
}
# The ESPs with a shared payload, tested in test_inbox.py.
SHARED = {"amazon_ses", "brevo", "mailgun", "mailjet", "postmark", "sendgrid"}


def test_every_tracking_webhook_is_covered_here_or_in_test_inbox():
    esps = {pattern.name.removesuffix("_tracking_webhook") for pattern in urlpatterns}
    assert esps == set(PAYLOADS) | SHARED


def post(client, esp: str, probe, capture):
    body, extra = PAYLOADS[esp](probe)
    content_type = extra.pop("content_type", "application/json")
    with override_settings(ANYMAIL=ANYMAIL), capture(execute=True):
        return client.post(
            f"/anymail/{esp}/tracking/",
            data=body,
            content_type=content_type,
            **AUTH,
            **extra,
        )


@pytest.mark.parametrize("probe", [float("nan"), float("inf"), float("-inf")], ids=str)
@pytest.mark.parametrize("esp", sorted(PAYLOADS))
def test_a_non_finite_number_is_a_400_and_the_same_event_without_it_is_stored(
    client, esp, probe, django_capture_on_commit_callbacks
):
    client.raise_request_exception = False
    response = post(client, esp, probe, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()
    response = post(client, esp, "finite", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    event = EmailEvent.objects.get()
    assert event.recipient == RECIPIENT
    assert event.raw


def mailersend_inbound():
    event = {"type": "inbound.message", "created_at": "2025-02-04T12:01:01.000000Z", "data": {}}
    body = json.dumps(event).encode()
    signature = hmac.new(MAILERSEND_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return "mailersend", body, {"HTTP_SIGNATURE": signature}


def sparkpost_inbound():
    event = {"msys": {"relay_message": {"rcpt_to": RECIPIENT, "content": {}}}}
    return "sparkpost", json.dumps([event]).encode(), {}


def postal_inbound():
    body = json.dumps({"id": 1, "rcpt_to": RECIPIENT, "message": ""}).encode()
    signature = POSTAL_KEY.sign(body, padding.PKCS1v15(), hashes.SHA1())
    return "postal", body, {"HTTP_X_POSTAL_SIGNATURE": base64.b64encode(signature).decode()}


@pytest.mark.parametrize("inbound", [mailersend_inbound, sparkpost_inbound, postal_inbound])
def test_an_authenticated_inbound_event_on_a_tracking_url_is_a_400(
    client, inbound, django_capture_on_commit_callbacks
):
    """An ESP's inbound route pointed at our tracking URL by mistake: anymail raises its
    configuration error after authenticating; the ESP gets a 400 it can show, never a 500."""
    client.raise_request_exception = False
    esp, body, extra = inbound()
    with override_settings(ANYMAIL=ANYMAIL), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/anymail/{esp}/tracking/", data=body, content_type="application/json", **AUTH, **extra
        )
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()
