"""Amazon SNS checks on the SES tracking webhook (notifications/sns.py): the topic allowlist and
the SNS message signature (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA).

Real-format payloads from tests/data/webhooks are signed here with an RSA key and a
self-signed certificate the test makes; the certificate is put in the module's cache under the
payload's (valid-looking) SigningCertURL — the only thing not run is Amazon's HTTPS server.
Accepted messages are stored once; refused ones are a 400 that stores nothing, never a 500."""

import base64
import datetime
import json
import logging
import urllib.error
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.test import override_settings

from notifications import sns
from notifications.models import EmailEvent
from tests import WEBHOOKS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SECRET = "heldout:webhook-secret"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()
ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False}
URL = "/anymail/amazon_ses/tracking/"
TOPIC = "arn:aws:sns:sa-east-1:111122223333:portal-ses-events"
SES_FILES = ("amazonses_bounce_1.json", "amazonses_delivery_1.json")


def make_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def amazon_key():
    return make_key()


@pytest.fixture
def cert_cache(amazon_key):
    """The module's cache, holding our certificate for every SES payload's SigningCertURL."""
    sns._cert_cache.clear()
    cert = self_signed(amazon_key)
    for name in SES_FILES:
        sns._cert_cache[load(name)["SigningCertURL"]] = cert
    yield sns._cert_cache
    sns._cert_cache.clear()


def load(name: str) -> dict:
    return json.loads((WEBHOOKS / name).read_bytes())


def canonical(message: dict) -> bytes:
    """Written out here from AWS's documentation, independently of sns.canonical_string."""
    if message["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{message[k]}\n" for k in keys if k in message).encode()


def sign(message: dict, key, version: str = "1") -> dict:
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    message = dict(message, SignatureVersion=version)
    signature = key.sign(canonical(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def post(client, message: dict, capture, **settings):
    settings.setdefault("AMAZON_SNS_VERIFY_SIGNATURES", True)
    with override_settings(ANYMAIL=ANYMAIL, **settings), capture(execute=True):
        return client.post(
            URL,
            data=json.dumps(message).encode(),
            content_type="text/plain; charset=UTF-8",
            HTTP_AUTHORIZATION=AUTH,
            HTTP_X_AMZ_SNS_MESSAGE_TYPE=message.get("Type", ""),
            HTTP_X_AMZ_SNS_MESSAGE_ID=message.get("MessageId", ""),
        )


@pytest.mark.parametrize("name", SES_FILES)
@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_messages_are_stored_once(
    client, cert_cache, amazon_key, django_capture_on_commit_callbacks, name, version
):
    message = sign(load(name), amazon_key, version)
    for _ in range(2):  # SNS redelivers: stored once (the SNS MessageId is the dedupe key)
        response = post(client, message, django_capture_on_commit_callbacks)
        assert response.status_code == 200
    event = EmailEvent.objects.get()
    assert event.esp_name == "Amazon SES"
    assert event.event_type == ("bounced" if "bounce" in name else "delivered")


def test_a_subject_is_part_of_what_is_signed(
    client, cert_cache, amazon_key, django_capture_on_commit_callbacks
):
    message = sign(
        dict(load("amazonses_bounce_1.json"), Subject="Amazon SES Email Event"), amazon_key, "2"
    )
    assert post(client, message, django_capture_on_commit_callbacks).status_code == 200
    EmailEvent.objects.all().delete()
    message["Subject"] = "Something else"
    assert post(client, message, django_capture_on_commit_callbacks).status_code == 400
    assert not EmailEvent.objects.exists()


def tampered_message(message):
    return dict(message, Message=message["Message"].replace("Permanent", "Transient"))


def tampered_timestamp(message):
    return dict(message, Timestamp="2025-02-04T12:02:06.811Z")


def tampered_topic(message):
    return dict(message, TopicArn="arn:aws:sns:sa-east-1:999999999999:someone-else")


def unknown_version(message):
    return dict(message, SignatureVersion="3")


def no_signature(message):
    return {k: v for k, v in message.items() if k != "Signature"}


def garbage_signature(message):
    return dict(message, Signature="not base64 at all!")


def foreign_host(message):
    return dict(message, SigningCertURL="https://sns.sa-east-1.amazonaws.com.evil.example/c.pem")


def lookalike_host(message):
    return dict(message, SigningCertURL="https://sns-sa-east-1.amazonaws.com/c.pem")


def plain_http(message):
    return dict(message, SigningCertURL=message["SigningCertURL"].replace("https:", "http:"))


def userinfo_host(message):
    return dict(message, SigningCertURL="https://sns.sa-east-1.amazonaws.com@evil.example/c.pem")


def no_cert_url(message):
    return {k: v for k, v in message.items() if k != "SigningCertURL"}


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(
    "forge",
    [
        tampered_message,
        tampered_timestamp,
        tampered_topic,
        unknown_version,
        no_signature,
        garbage_signature,
        foreign_host,
        lookalike_host,
        plain_http,
        userinfo_host,
        no_cert_url,
    ],
)
def test_forged_messages_are_refused_and_store_nothing(
    client, cert_cache, amazon_key, django_capture_on_commit_callbacks, caplog, version, forge
):
    cached = dict(cert_cache)
    message = forge(sign(load("amazonses_bounce_1.json"), amazon_key, version))
    with caplog.at_level(logging.WARNING, logger="notifications.sns"):
        response = post(client, message, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert not EmailEvent.objects.exists()
    assert "event=webhook_refused reason=sns_" in caplog.text
    assert dict(cert_cache) == cached  # nothing fetched, nothing added


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_message_signed_with_another_key_is_refused(
    client, cert_cache, django_capture_on_commit_callbacks, caplog, version
):
    message = sign(load("amazonses_delivery_1.json"), make_key(), version)
    with caplog.at_level(logging.WARNING, logger="notifications.sns"):
        response = post(client, message, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()
    assert "reason=sns_signature" in caplog.text


def test_the_placeholder_signatures_of_the_fixtures_are_refused(
    client, cert_cache, django_capture_on_commit_callbacks
):
    response = post(client, load("amazonses_bounce_1.json"), django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


def test_basic_auth_still_comes_first(client, cert_cache, amazon_key):
    """Without the secret, anymail's 401 challenge (how SNS is made to send basic auth), even
    for a validly signed message."""
    message = sign(load("amazonses_bounce_1.json"), amazon_key, "2")
    with override_settings(ANYMAIL=ANYMAIL, AMAZON_SNS_VERIFY_SIGNATURES=True):
        response = client.post(
            URL,
            data=json.dumps(message).encode(),
            content_type="text/plain; charset=UTF-8",
            HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
            HTTP_X_AMZ_SNS_MESSAGE_ID=message["MessageId"],
        )
    assert response.status_code == 401
    assert not EmailEvent.objects.exists()


# --- topic allowlist --------------------------------------------------------------------------


@pytest.mark.parametrize("verify", [False, True])
def test_a_topic_outside_the_allowlist_is_refused(
    client, cert_cache, amazon_key, django_capture_on_commit_callbacks, caplog, verify
):
    message = sign(load("amazonses_bounce_1.json"), amazon_key, "2")  # signed: the topic alone
    with caplog.at_level(logging.WARNING, logger="notifications.sns"):
        response = post(
            client,
            message,
            django_capture_on_commit_callbacks,
            AMAZON_SNS_VERIFY_SIGNATURES=verify,
            AMAZON_SNS_TOPIC_ARNS=["arn:aws:sns:sa-east-1:111122223333:other-topic"],
        )
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()
    assert "reason=sns_topic" in caplog.text


def test_a_listed_topic_is_accepted(
    client, cert_cache, amazon_key, django_capture_on_commit_callbacks
):
    message = sign(load("amazonses_bounce_1.json"), amazon_key, "1")
    response = post(
        client,
        message,
        django_capture_on_commit_callbacks,
        AMAZON_SNS_TOPIC_ARNS=["arn:aws:sns:us-east-1:111122223333:old-topic", TOPIC],
    )
    assert response.status_code == 200
    assert EmailEvent.objects.count() == 1


# --- verification off (the default): unchanged behaviour --------------------------------------


def test_verification_is_off_by_default_and_the_placeholder_payloads_still_work(
    client, django_capture_on_commit_callbacks, settings
):
    assert settings.AMAZON_SNS_VERIFY_SIGNATURES is False
    assert settings.AMAZON_SNS_TOPIC_ARNS == []
    sns._cert_cache.clear()
    for name in SES_FILES:
        response = post(
            client,
            load(name),
            django_capture_on_commit_callbacks,
            AMAZON_SNS_VERIFY_SIGNATURES=False,
        )
        assert response.status_code == 200
    assert EmailEvent.objects.count() == 2
    assert sns._cert_cache == {}  # nothing fetched


# --- the certificate fetch (Amazon's server replaced, the rest real) ---------------------------


class FakeResponse:
    def __init__(self, body: bytes):
        self.body = body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, limit=-1):
        return self.body[:limit] if limit >= 0 else self.body


def test_the_certificate_is_fetched_once_and_cached(
    client, amazon_key, django_capture_on_commit_callbacks, monkeypatch
):
    sns._cert_cache.clear()
    pem = self_signed(amazon_key).public_bytes(serialization.Encoding.PEM)
    fetched = []

    def urlopen(url, timeout):
        fetched.append((url, timeout))
        return FakeResponse(pem)

    monkeypatch.setattr(sns.urllib.request, "urlopen", urlopen)
    first = sign(load("amazonses_bounce_1.json"), amazon_key, "2")
    second = sign(load("amazonses_delivery_1.json"), amazon_key, "1")
    assert post(client, first, django_capture_on_commit_callbacks).status_code == 200
    assert post(client, second, django_capture_on_commit_callbacks).status_code == 200
    assert fetched == [(first["SigningCertURL"], 5)]
    assert EmailEvent.objects.count() == 2
    sns._cert_cache.clear()


def test_the_cache_is_bounded(amazon_key, monkeypatch):
    sns._cert_cache.clear()
    pem = self_signed(amazon_key).public_bytes(serialization.Encoding.PEM)
    monkeypatch.setattr(sns.urllib.request, "urlopen", lambda url, timeout: FakeResponse(pem))
    urls = [f"https://sns.sa-east-1.amazonaws.com/c{i}.pem" for i in range(sns.CERT_CACHE_MAX + 5)]
    for url in urls:
        sns.signing_certificate(url)
    assert len(sns._cert_cache) == sns.CERT_CACHE_MAX
    assert list(sns._cert_cache) == urls[5:]  # oldest evicted first
    sns._cert_cache.clear()


def test_an_unreachable_certificate_is_a_503_so_sns_retries(
    client, amazon_key, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    sns._cert_cache.clear()

    def urlopen(url, timeout):
        raise urllib.error.URLError(TimeoutError("timed out"))

    monkeypatch.setattr(sns.urllib.request, "urlopen", urlopen)
    message = sign(load("amazonses_bounce_1.json"), amazon_key, "2")
    with caplog.at_level(logging.WARNING, logger="notifications.sns"):
        response = post(client, message, django_capture_on_commit_callbacks)
    assert response.status_code == 503
    assert not EmailEvent.objects.exists()
    assert "reason=sns_cert_unavailable" in caplog.text
    assert sns._cert_cache == {}


@pytest.mark.parametrize("body", [b"not a certificate", b"x" * (sns.CERT_MAX_BYTES + 10)])
def test_a_url_that_serves_no_certificate_is_refused(
    client, amazon_key, django_capture_on_commit_callbacks, monkeypatch, body
):
    sns._cert_cache.clear()
    monkeypatch.setattr(sns.urllib.request, "urlopen", lambda url, timeout: FakeResponse(body))
    message = sign(load("amazonses_bounce_1.json"), amazon_key, "2")
    assert post(client, message, django_capture_on_commit_callbacks).status_code == 400
    assert not EmailEvent.objects.exists()
    assert sns._cert_cache == {}


# --- subscription messages: their own canonical keys (SubscribeURL, Token) ---------------------


def subscription_confirmation() -> dict:
    bounce = load("amazonses_bounce_1.json")
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425f004aed7b8e1ed1d2c1b6c0b7d5f3",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": "https://sns.sa-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "Timestamp": "2025-02-04T12:00:00.000Z",
        "SigningCertURL": bounce["SigningCertURL"],
    }


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_subscription_confirmation_is_accepted_and_a_tampered_one_refused(
    client, cert_cache, amazon_key, django_capture_on_commit_callbacks, version
):
    message = sign(subscription_confirmation(), amazon_key, version)
    assert post(client, message, django_capture_on_commit_callbacks).status_code == 200
    forged = dict(message, SubscribeURL="https://sns.sa-east-1.amazonaws.com/?Action=Other")
    assert post(client, forged, django_capture_on_commit_callbacks).status_code == 400
    forged = dict(message, Token="another-token")
    assert post(client, forged, django_capture_on_commit_callbacks).status_code == 400
    assert not EmailEvent.objects.exists()  # a subscription message is never an email event


# --- the certificate URL: Amazon's SNS host of a real region, nothing that merely looks like it ---

CERT_PATH = "/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"


@pytest.mark.parametrize(
    "url",
    [
        # Other AWS services under amazonaws.com whose names an attacker can claim or host on:
        # an S3 bucket called "sns", API Gateway, Elastic Beanstalk, CloudFront, EC2.
        f"https://sns.s3.amazonaws.com{CERT_PATH}",
        f"https://sns.s3-website.amazonaws.com{CERT_PATH}",
        f"https://sns.execute-api.amazonaws.com{CERT_PATH}",
        f"https://sns.elasticbeanstalk.amazonaws.com{CERT_PATH}",
        f"https://sns.cloudfront.amazonaws.com{CERT_PATH}",
        f"https://sns.compute-1.amazonaws.com{CERT_PATH}",
        f"https://sns.evil.amazonaws.com{CERT_PATH}",
        f"https://sns.us-east-1.s3.amazonaws.com{CERT_PATH}",
        f"https://sns.s3.amazonaws.com.cn{CERT_PATH}",
        # A region's name on the wrong partition, or not a region at all.
        f"https://sns.us-east-1.amazonaws.com.cn{CERT_PATH}",
        f"https://sns.cn-north-1.amazonaws.com{CERT_PATH}",
        f"https://sns.us-east.amazonaws.com{CERT_PATH}",
        f"https://sns.us-east-1-.amazonaws.com{CERT_PATH}",
        f"https://sns.1-east-1.amazonaws.com{CERT_PATH}",
        # The right host, but not a certificate file: a query, a fragment, an API call.
        f"https://sns.us-east-1.amazonaws.com{CERT_PATH}?bucket=evil",
        f"https://sns.us-east-1.amazonaws.com{CERT_PATH}#x",
        f"https://sns.us-east-1.amazonaws.com{CERT_PATH}?",
        f"https://sns.us-east-1.amazonaws.com{CERT_PATH}\n",
        "https://sns.us-east-1.amazonaws.com/?Action=GetEndpointAttributes",
        "https://sns.us-east-1.amazonaws.com/",
        "https://sns.us-east-1.amazonaws.com",
        # Spellings the host check already refused: port, userinfo, trailing dot, case.
        f"https://sns.us-east-1.amazonaws.com:8443{CERT_PATH}",
        f"https://x@sns.us-east-1.amazonaws.com{CERT_PATH}",
        f"https://sns.us-east-1.amazonaws.com.{CERT_PATH}",
        f"https://SNS.US-EAST-1.AMAZONAWS.COM{CERT_PATH}",
        f"http://sns.us-east-1.amazonaws.com{CERT_PATH}",
    ],
)
def test_a_certificate_url_off_amazons_sns_hosts_is_refused_even_if_it_serves_a_valid_cert(
    client, amazon_key, django_capture_on_commit_callbacks, caplog, url
):
    """The attacker serves a certificate for the key that signed the message: only the URL
    stands in the way. It is refused before anything is fetched or looked up."""
    sns._cert_cache.clear()
    sns._cert_cache[url] = self_signed(amazon_key)
    message = sign(dict(load("amazonses_bounce_1.json"), SigningCertURL=url), amazon_key, "2")
    with caplog.at_level(logging.WARNING, logger="notifications.sns"):
        response = post(client, message, django_capture_on_commit_callbacks)
    sns._cert_cache.clear()
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()
    assert "reason=sns_cert_url" in caplog.text


@pytest.mark.parametrize(
    "host",
    [
        "sns.sa-east-1.amazonaws.com",
        "sns.us-east-1.amazonaws.com",
        "sns.ap-southeast-2.amazonaws.com",
        "sns.eu-central-2.amazonaws.com",
        "sns.il-central-1.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
        "sns.cn-northwest-1.amazonaws.com.cn",
    ],
)
def test_the_sns_host_of_every_region_shape_is_accepted(host):
    url = f"https://{host}{CERT_PATH}"
    assert sns.check_cert_url(url) == url
