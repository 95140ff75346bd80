"""Amazon SNS checks for the Amazon SES tracking webhook, which anymail does not make.

anymail authenticates the SES webhook by basic auth only (``ANYMAIL_WEBHOOK_SECRET``): it
checks neither the SNS message signature nor the topic. This module adds both, after anymail's
own validators (basic auth, the ``x-amz-sns-message-*`` headers) and before anything is parsed
or stored:

- ``AMAZON_SNS_TOPIC_ARNS``: the topics we subscribed. A message from any other topic is a 400
  (empty list: not checked).
- ``AMAZON_SNS_VERIFY_SIGNATURES``: the SNS signature (SignatureVersion 1, SHA1withRSA, or 2,
  SHA256withRSA) over the canonical string AWS documents, checked with the certificate at
  ``SigningCertURL`` — which must be ``https://sns.<region>.amazonaws.com/<name>.pem`` (the
  China regions on ``.amazonaws.com.cn``) for a real region's shape, or the message is refused
  without fetching anything. Certificates are cached in-process by URL.
  Off by default (test payloads carry placeholder signatures); production should turn it on.

A refused message answers 400 (plain text, for the ESP) with one WARNING line, and stores
nothing. If Amazon's certificate cannot be fetched (network error, timeout, a 5xx from Amazon)
the answer is 503: the message may well be genuine, and SNS retries it later.
"""

import base64
import binascii
import logging
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest

from portal.logs import log_decision

logger = logging.getLogger(__name__)

# SNS's own host in one region: sns.<region>.amazonaws.com, or .amazonaws.com.cn for the China
# regions (cn-*), and for them only. A region is <area>[-gov]-<direction>-<n> (sa-east-1,
# us-gov-west-1, ap-southeast-2): a bare "[a-z0-9-]+" label would also let in other services'
# hosts under amazonaws.com that anyone can claim, such as an S3 bucket called "sns"
# (sns.s3.amazonaws.com) or an API Gateway. The path names a .pem file; no query, no fragment.
CERT_HOST_RE = re.compile(
    r"^sns\.(?:(?!cn-)[a-z]{2}(?:-gov)?-[a-z]+-[1-9][0-9]?\.amazonaws\.com"
    r"|cn-[a-z]+-[1-9][0-9]?\.amazonaws\.com\.cn)$"
)
CERT_PATH_RE = re.compile(r"^/[A-Za-z0-9][A-Za-z0-9._-]*\.pem$")
CERT_FETCH_TIMEOUT = 5  # seconds
CERT_MAX_BYTES = 64 * 1024  # an SNS signing certificate is ~2 KB
CERT_CACHE_MAX = 32  # SNS rotates certificates rarely; a handful of regions at most

# SigningCertURL -> x509.Certificate. Tests pre-fill it (Amazon's HTTPS server is the only
# thing they do not run).
_cert_cache: dict[str, x509.Certificate] = {}
_cert_lock = threading.Lock()

_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_CANONICAL_KEYS = {
    "Notification": _NOTIFICATION_KEYS,
    "SubscriptionConfirmation": _SUBSCRIPTION_KEYS,
    "UnsubscribeConfirmation": _SUBSCRIPTION_KEYS,
}


class SNSRefused(AnymailWebhookValidationFailure):
    """The message is not one we accept: answered 400, nothing stored."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class SNSCertificateUnavailable(Exception):
    """Amazon's signing certificate could not be fetched right now: answered 503 (SNS
    retries)."""


def canonical_string(message: dict) -> bytes:
    """The bytes SNS signs: ``Key\\nvalue\\n`` for each signed key of the message type, in
    AWS's (alphabetical) order; Subject only when the Notification has one."""
    keys = _CANONICAL_KEYS.get(message.get("Type"))
    if keys is None:
        raise SNSRefused("sns_unknown_type", repr(message.get("Type"))[:100])
    parts = []
    for key in keys:
        value = message.get(key)
        if value is None and key == "Subject":
            continue
        if not isinstance(value, str):
            raise SNSRefused("sns_missing_field", key)
        parts.append(f"{key}\n{value}\n")
    return "".join(parts).encode("utf-8")


def check_cert_url(url) -> str:
    if not isinstance(url, str) or not url:
        raise SNSRefused("sns_cert_url", "missing")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise SNSRefused("sns_cert_url", "unparsable") from exc
    # netloc, not hostname: no userinfo, no port, no upper-case tricks. fullmatch: "$" would
    # accept a trailing newline. The URL must be exactly scheme + host + path: no query or
    # fragment, not even an empty one, and nothing urlsplit strips (tabs, newlines).
    if (
        parts.scheme != "https"
        or not CERT_HOST_RE.fullmatch(parts.netloc)
        or not CERT_PATH_RE.fullmatch(parts.path)
        or url != f"https://{parts.netloc}{parts.path}"
    ):
        raise SNSRefused("sns_cert_url", url[:200])
    return url


def _fetch_pem(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=CERT_FETCH_TIMEOUT) as response:  # noqa: S310 (https only, host checked)
            return response.read(CERT_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            raise SNSRefused("sns_cert_fetch", f"HTTP {exc.code}") from exc
        raise SNSCertificateUnavailable(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:  # DNS, refused, TLS, timeout
        raise SNSCertificateUnavailable(repr(exc)[:200]) from exc


def signing_certificate(url: str) -> x509.Certificate:
    with _cert_lock:
        cert = _cert_cache.get(url)
    if cert is not None:
        return cert
    pem = _fetch_pem(url)
    if len(pem) > CERT_MAX_BYTES:
        raise SNSRefused("sns_cert_invalid", "too large")
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise SNSRefused("sns_cert_invalid", "not a PEM certificate") from exc
    with _cert_lock:
        while len(_cert_cache) >= CERT_CACHE_MAX:
            _cert_cache.pop(next(iter(_cert_cache)))  # oldest first
        _cert_cache[url] = cert
    return cert


def verify_signature(message: dict) -> None:
    """Raise SNSRefused unless ``message`` carries a valid SNS signature."""
    version = message.get("SignatureVersion")
    hash_cls = _HASHES.get(version) if isinstance(version, str) else None
    if hash_cls is None:
        raise SNSRefused("sns_signature_version", repr(version)[:50])
    url = check_cert_url(message.get("SigningCertURL"))
    signature_b64 = message.get("Signature")
    if not isinstance(signature_b64, str) or not signature_b64:
        raise SNSRefused("sns_signature", "missing")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SNSRefused("sns_signature", "not base64") from exc
    payload = canonical_string(message)
    public_key = signing_certificate(url).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SNSRefused("sns_cert_invalid", "not an RSA key")
    try:
        public_key.verify(signature, payload, padding.PKCS1v15(), hash_cls())
    except InvalidSignature as exc:
        raise SNSRefused("sns_signature", "does not verify") from exc


def check_message(message) -> None:
    """The topic allowlist, then (when enabled) the signature. Raises SNSRefused."""
    if not isinstance(message, dict):
        raise SNSRefused("sns_malformed", "not a JSON object")
    allowed = list(getattr(settings, "AMAZON_SNS_TOPIC_ARNS", None) or [])
    if allowed and message.get("TopicArn") not in allowed:
        raise SNSRefused("sns_topic", repr(message.get("TopicArn"))[:200])
    if getattr(settings, "AMAZON_SNS_VERIFY_SIGNATURES", False):
        verify_signature(message)


class AmazonSESTrackingView(AmazonSESTrackingWebhookView):
    """anymail's SES tracking view plus check_message, run after anymail's validators (basic
    auth first: an unauthenticated request still gets anymail's 401 challenge or 400)."""

    def run_validators(self, request):
        super().run_validators(request)
        check_message(self._parse_sns_message(request))

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except SNSRefused as exc:
            log_decision(
                logger,
                "webhook_refused",
                level=logging.WARNING,
                reason=exc.reason,
                path=request.path,
                topic_arn=str(_sns_field(request, "TopicArn"))[:200],
                detail=exc.detail[:200],
            )
            return HttpResponseBadRequest("SNS message refused.", content_type="text/plain")
        except SNSCertificateUnavailable as exc:
            log_decision(
                logger,
                "webhook_deferred",
                level=logging.WARNING,
                reason="sns_cert_unavailable",
                path=request.path,
                detail=str(exc)[:200],
            )
            return HttpResponse(
                "SNS signing certificate unavailable; retry later.",
                status=503,
                content_type="text/plain",
            )


def _sns_field(request, key):
    message = getattr(request, "_sns_message", None)
    return message.get(key, "") if isinstance(message, dict) else ""
