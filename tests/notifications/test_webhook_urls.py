"""Every /anymail/… URL — found by walking the project's URL resolver, plus every URL anymail's
own URLconf defines (so a URL left out of ours is covered too) — under the configurations a
deployment can have: served only for a configured ESP's tracking webhook, otherwise the portal's
ordinary 404, and never a 500 whatever is sent (GET, POST with garbage, with and without basic
auth)."""

import base64

import pytest
from anymail import urls as anymail_urls
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from notifications.models import EmailEvent

pytestmark = pytest.mark.django_db

SECRET = "heldout:webhook-secret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
SIGNING_KEYS = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": "heldout-mailgun-key",
    "MAILERSEND_SIGNING_SECRET": "heldout-mailersend-secret",
    "POSTAL_WEBHOOK_KEY": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAheldout",
    "UNISENDER_GO_API_KEY": "heldout-unisender-key",
    "MANDRILL_WEBHOOK_KEY": "heldout-mandrill-key",
}
# ESPs anymail authenticates by basic auth alone (or by an optional signature).
BASIC_AUTH_ESPS = {
    "amazon_ses",
    "brevo",
    "sendinblue",
    "mailjet",
    "mailtrap",
    "postmark",
    "resend",
    "sendgrid",
    "sparkpost",
}
# ESPs whose webhook anymail cannot run without their signing key.
SIGNING_ESPS = {"mailgun", "mailersend", "postal", "unisender_go", "mandrill"}


def tracking(*esps) -> set[str]:
    return {f"/anymail/{esp}/tracking/" for esp in esps}


def _urls_of(patterns, prefix: str) -> set[str]:
    urls = set()
    for entry in patterns:
        text = str(entry.pattern)
        if isinstance(entry.pattern, RoutePattern):
            assert "<" not in text, text  # no kwargs under /anymail/
            variants = [text]
        else:  # re_path: r"^mailgun/inbound(_mime)?/$" -> both spellings
            text = text.lstrip("^").rstrip("$")
            variants = [text.replace("(_mime)?", ""), text.replace("(_mime)?", "_mime")]
        for variant in variants:
            if isinstance(entry, URLResolver):
                urls |= _urls_of(entry.url_patterns, prefix + variant)
            else:
                urls.add(prefix + variant)
    return urls


def walk_anymail_urls() -> set[str]:
    """Every URL under the anymail namespace of the project's resolver, and every URL of
    anymail's own URLconf mounted where ours is."""
    ours = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "anymail":
            prefix = "/" + str(entry.pattern)
            ours |= _urls_of(entry.url_patterns, prefix)
            theirs = _urls_of(anymail_urls.urlpatterns, prefix)
    assert ours, "the walk found no /anymail/ URL"
    return ours | theirs


def test_the_walk_covers_inbound_and_tracking_urls_of_every_esp():
    urls = walk_anymail_urls()
    assert tracking(*BASIC_AUTH_ESPS, *SIGNING_ESPS) <= urls
    assert {"/anymail/mailgun/inbound/", "/anymail/mailgun/inbound_mime/"} <= urls
    assert {"/anymail/mandrill/", "/anymail/amazon_ses/inbound/"} <= urls
    assert len(urls) >= 28


GARBAGE = [
    ("application/json", b"{not json"),
    ("application/json", b'{"event": NaN, "x": [1, 2'),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", b'{"signature": {"timestamp": 1, "token": [], "signature": {}}}'),
    ("application/x-www-form-urlencoded", b"mandrill_events=%7Bnope&event=x&timestamp=abc"),
    ("text/plain; charset=UTF-8", b'{"Type": "Notification", "Message": "{"}'),
    ("application/octet-stream", b"\x00\xff\xfe garbage"),
    ("application/json", b""),
]


def sweep(urls: set[str]) -> tuple[set[str], list[str]]:
    """Request every URL every way; return the URLs that are served (any answer but 404) and
    the problems (5xx, a 404 that did not come from the portal's whole stack, an event stored
    without basic auth). With basic auth, a JSON object an ESP's parser takes is stored as an
    "unknown" event (kept for a human, as before): that is the ESP's own word."""
    client = Client(raise_request_exception=False)
    served, problems = set(), []
    for url in sorted(urls):
        responses = [("GET", client.get(url)), ("GET+auth", client.get(url, **AUTH))]
        for auth in ({}, AUTH):
            stored = EmailEvent.objects.count()
            for content_type, body in GARBAGE:
                where = f"POST{'+auth' if auth else ''} {content_type} {body[:20]!r}"
                response = client.post(url, data=body, content_type=content_type, **auth)
                responses.append((where, response))
            if not auth and EmailEvent.objects.count() != stored:
                problems.append(f"POST {url}: stored an event without authentication")
        statuses = {response.status_code for _, response in responses}
        for where, response in responses:
            if response.status_code >= 500:
                problems.append(f"{where} {url}: {response.status_code}")
        if statuses == {404}:
            # Not served: the answer of any unknown URL (the whole stack, its headers).
            if responses[0][1].headers.get("X-Frame-Options") != "DENY":
                problems.append(f"{url}: a 404 that is not the portal's")
        elif 404 in statuses:
            problems.append(f"{url}: served for some requests only: {sorted(statuses)}")
        else:
            served.add(url)
    return served, problems


CONFIGURATIONS = {
    # Production with Postmark: only Postmark's tracking webhook.
    "postmark_backend": (
        {
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "ANYMAIL": {"WEBHOOK_SECRET": SECRET, "POSTMARK_SERVER_TOKEN": "t"},
        },
        tracking("postmark"),
    ),
    # Production with Mailgun and its signing key (Mailgun may also sign without basic auth).
    "mailgun_backend": (
        {
            "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
            "ANYMAIL": {"MAILGUN_API_KEY": "k", "MAILGUN_WEBHOOK_SIGNING_KEY": "s"},
        },
        tracking("mailgun"),
    ),
    # Brevo under either of its names.
    "brevo_backend": (
        {
            "EMAIL_BACKEND": "anymail.backends.brevo.EmailBackend",
            "ANYMAIL": {"WEBHOOK_SECRET": SECRET, "BREVO_API_KEY": "k"},
        },
        tracking("brevo", "sendinblue"),
    ),
    # The ESP's key is missing: its webhook is not served either.
    "mandrill_backend_without_webhook_key": (
        {
            "EMAIL_BACKEND": "anymail.backends.mandrill.EmailBackend",
            "ANYMAIL": {"WEBHOOK_SECRET": SECRET, "MANDRILL_API_KEY": "k"},
        },
        set(),
    ),
    # No ESP backend (dev, tests, the demo, SMTP) with the webhook secret: the ESPs anymail
    # authenticates by basic auth; not those whose signing key is missing (the 500s).
    "no_esp_backend_secret_only": (
        {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
        tracking(*BASIC_AUTH_ESPS),
    ),
    "no_esp_backend_every_key": (
        {
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ANYMAIL": {"WEBHOOK_SECRET": SECRET, **SIGNING_KEYS},
        },
        tracking(*BASIC_AUTH_ESPS, *SIGNING_ESPS),
    ),
    # Nothing authenticates the webhooks: anymail would take anyone's events. None served.
    "no_secret_no_key": ({"ANYMAIL": {}}, set()),
    # An explicit list (switching ESP): those, and only if configured.
    "explicit_list": (
        {
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "WEBHOOK_ESPS": ["postmark", "mailgun", "postal"],
            "ANYMAIL": {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "s"},
        },
        tracking("postmark", "mailgun"),
    ),
}


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_only_configured_tracking_webhooks_are_served_and_nothing_is_a_500(configuration):
    overrides, expected = CONFIGURATIONS[configuration]
    overrides = {"ANYMAIL": {"WEBHOOK_SECRET": SECRET}, **overrides}
    with override_settings(**overrides):
        served, problems = sweep(walk_anymail_urls())
    assert not problems, "\n".join(problems)
    assert served == expected
    assert set(EmailEvent.objects.values_list("event_type", flat=True)) <= {"unknown"}
