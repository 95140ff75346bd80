"""ESP signatures on top of basic auth, with keys made by the test: SendGrid's signed event
webhook (ECDSA P-256 over timestamp + body) and Mailgun's HMAC (timestamp + token). Signed
payloads are stored; forged, re-signed-by-someone-else, tampered or unsigned ones are a 400 and
store nothing — never a 500."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import override_settings

from notifications.models import EmailEvent
from tests import WEBHOOKS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SECRET = "heldout:webhook-secret"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()
SIG = "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE"
TS = "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"


# --- SendGrid: ECDSA --------------------------------------------------------------------------


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def verification_key(private_key) -> str:
    """What SendGrid's console shows: the public key, base64 DER, no PEM armour."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def ecdsa_sign(private_key, timestamp: str, body: bytes) -> str:
    signature = private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def sendgrid_post(client, key, body: bytes, headers: dict, capture):
    anymail = {"WEBHOOK_SECRET": SECRET, "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": key}
    with override_settings(ANYMAIL=anymail), capture(execute=True):
        return client.post(
            "/anymail/sendgrid/tracking/",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=AUTH,
            **headers,
        )


def test_sendgrid_signed_events_are_stored(client, django_capture_on_commit_callbacks):
    private = ec_key()
    body = (WEBHOOKS / "sendgrid_bounce_1.json").read_bytes()
    timestamp = "1741600000"
    response = sendgrid_post(
        client,
        verification_key(private),
        body,
        {SIG: ecdsa_sign(private, timestamp, body), TS: timestamp},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    event = EmailEvent.objects.get()
    assert (event.esp_name, event.event_type, event.action) == ("SendGrid", "bounced", "hard")


@pytest.mark.parametrize(
    "forgery",
    ["other_key", "tampered_body", "other_timestamp", "no_signature", "no_timestamp", "garbage"],
)
def test_sendgrid_forged_signatures_are_refused(
    client, forgery, django_capture_on_commit_callbacks
):
    private, attacker = ec_key(), ec_key()
    body = (WEBHOOKS / "sendgrid_bounce_1.json").read_bytes()
    timestamp = "1741600000"
    headers = {SIG: ecdsa_sign(private, timestamp, body), TS: timestamp}
    if forgery == "other_key":
        headers[SIG] = ecdsa_sign(attacker, timestamp, body)
    elif forgery == "tampered_body":
        body = body.replace(b"ana.souza@example.com", b"outra.pessoa@example.com")
    elif forgery == "other_timestamp":
        headers[TS] = "1741600999"
    elif forgery == "no_signature":
        del headers[SIG]
    elif forgery == "no_timestamp":
        del headers[TS]
    else:
        headers[SIG] = "%%% not base64 %%%"
    response = sendgrid_post(
        client, verification_key(private), body, headers, django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


def test_sendgrid_signature_does_not_replace_basic_auth(client, django_capture_on_commit_callbacks):
    private = ec_key()
    body = (WEBHOOKS / "sendgrid_bounce_1.json").read_bytes()
    anymail = {
        "WEBHOOK_SECRET": SECRET,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key(private),
    }
    with override_settings(ANYMAIL=anymail), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/anymail/sendgrid/tracking/",
            data=body,
            content_type="application/json",
            **{SIG: ecdsa_sign(private, "1", body), TS: "1"},  # signed, but no basic auth
        )
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


# --- Mailgun: HMAC ----------------------------------------------------------------------------


def mailgun_body(key: str, *, token: str | None = None, timestamp: str = "1741600000") -> dict:
    payload = json.loads((WEBHOOKS / "mailgun_failed_1.json").read_text())
    token = token or secrets.token_hex(25)
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    payload["signature"] = {"timestamp": timestamp, "token": token, "signature": digest}
    return payload


def mailgun_post(client, key: str, payload: dict, capture):
    anymail = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": key}
    with override_settings(ANYMAIL=anymail), capture(execute=True):
        return client.post(
            "/anymail/mailgun/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=AUTH,
        )


def test_mailgun_signed_events_are_stored(client, django_capture_on_commit_callbacks):
    key = secrets.token_hex(32)
    response = mailgun_post(client, key, mailgun_body(key), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert EmailEvent.objects.get().esp_name == "Mailgun"


@pytest.mark.parametrize("forgery", ["other_key", "tampered_signature", "tampered_timestamp"])
def test_mailgun_forged_signatures_are_refused(client, forgery, django_capture_on_commit_callbacks):
    key = secrets.token_hex(32)
    payload = mailgun_body(secrets.token_hex(32) if forgery == "other_key" else key)
    if forgery == "tampered_signature":
        payload["signature"]["signature"] = "0" * 64
    elif forgery == "tampered_timestamp":
        payload["signature"]["timestamp"] = "1741609999"
    response = mailgun_post(client, key, payload, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


def test_mailgun_without_signature_block_is_refused(client, django_capture_on_commit_callbacks):
    key = secrets.token_hex(32)
    payload = mailgun_body(key)
    del payload["signature"]
    response = mailgun_post(client, key, payload, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


# --- settings from the environment -------------------------------------------------------------


def test_signing_keys_come_from_the_environment_and_unset_ones_are_left_out():
    ours = ("MAILGUN_", "SENDGRID_", "ANYMAIL", "OPS_ALERT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        ANYMAIL_WEBHOOK_SECRET="esp:one,esp:two",
        MAILGUN_WEBHOOK_SIGNING_KEY="mg-key",
        SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY="sg-public-key",
        OPS_ALERT_EMAIL="ops@example.com,noc@example.com",
    )
    code = (
        "import json, portal.settings.base as s; print(json.dumps([s.ANYMAIL, s.OPS_ALERT_EMAILS]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    anymail, ops = json.loads(out.strip().splitlines()[-1])
    assert anymail["WEBHOOK_SECRET"] == ["esp:one", "esp:two"]  # rotation: both accepted
    assert anymail["MAILGUN_WEBHOOK_SIGNING_KEY"] == "mg-key"
    assert anymail["SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"] == "sg-public-key"
    assert "POSTAL_WEBHOOK_KEY" not in anymail and "MANDRILL_WEBHOOK_KEY" not in anymail
    assert ops == ["ops@example.com", "noc@example.com"]


def test_rotated_webhook_secrets_are_all_accepted(client, django_capture_on_commit_callbacks):
    body = (WEBHOOKS / "postmark_bounce_1.json").read_bytes()
    anymail = {"WEBHOOK_SECRET": ["old:secret", SECRET]}
    for auth, status in ((SECRET, 200), ("old:secret", 200), ("other:secret", 400)):
        with override_settings(ANYMAIL=anymail), django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/anymail/postmark/tracking/",
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION="Basic " + base64.b64encode(auth.encode()).decode(),
            )
        assert response.status_code == status
    assert EmailEvent.objects.count() == 1
