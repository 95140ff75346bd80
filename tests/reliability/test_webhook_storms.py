"""Webhook storms through the real /anymail/<esp>/tracking/ endpoints: what an ESP, a retrying
proxy or an attacker can post. Never a 500 (an ESP retries 5xx for days), nothing stored from a
request that is refused, every valid event stored once, and no double effect.

- Refusals: unauthenticated or badly authenticated requests for every ESP, SNS header
  mismatches, wrong content types, huge bodies, truncated and malformed payloads, and
  hypothesis-mutated real payloads.
- Replay storms (hypothesis): a causal history of provider events about one boleto's emails
  (delivered, soft bounce → our retry → the next attempt's events, hard bounce, spam complaint,
  deferrals, the ESP re-emitting an event under a new id) arrives duplicated and out of order,
  one event per request (Postmark) or in batches (SendGrid). The final state must be the one
  the distinct events give in their causal order, each distinct event is stored exactly once,
  at most one deactivation and one alert per deactivation, each alert emailed once.

tests/notifications/test_policy_orderings.py covers orderings of one email's events fed to the
inbox functions directly; these go through HTTP, add soft bounces with retries across attempts,
deferrals, re-emitted events and batches.

Processing: the webhook stores the event and kicks the inbox drain after commit; Celery is eager
in tests, so running the on-commit callbacks (django_capture_on_commit_callbacks) drains it.
"""

import base64
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from billing.models import Boleto
from billing.services import boleto_pdf
from notifications.delivery import delivery_retries_send
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from notifications.sending import boleto_send
from schedules.generator import installments_issue_due
from schedules.models import Schedule, ScheduleEvent
from tests.factories import ScheduleFactory
from tests.notifications.test_inbox import ANYMAIL, EXPECTED, FILES, SECRET, WEBHOOKS
from tests.schedules.deactivation import post_bounce

pytestmark = pytest.mark.django_db

ESPS = {
    "postmark": "postmark_bounce_1.json",
    "sendgrid": "sendgrid_bounce_1.json",
    "mailgun": "mailgun_failed_1.json",
    "brevo": "brevo_hard_bounce_1.json",
    "mailjet": "mailjet_bounce_1.json",
    "amazon_ses": "amazonses_bounce_1.json",
}
ESP_SETTINGS = {"EMAIL_BACKEND": "anymail.backends.test.EmailBackend", "ANYMAIL": ANYMAIL}


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


AUTH = basic(SECRET)
REFUSED = {400, 401, 403}


def esp_of(name: str) -> str:
    prefix = name.split("_", 1)[0]
    return "amazon_ses" if prefix == "amazonses" else prefix


def browser() -> Client:
    """A client that shows a 500 as a response instead of raising (what the ESP would see)."""
    return Client(raise_request_exception=False)


def send(client, esp: str, body: bytes, *, content_type="application/json", auth=AUTH, **headers):
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = auth
    with override_settings(ANYMAIL=ANYMAIL):
        return client.post(
            f"/anymail/{esp}/tracking/", data=body, content_type=content_type, **headers
        )


def sns_headers(body: bytes) -> dict:
    try:
        envelope = json.loads(body)
        return {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": str(envelope["Type"]),
            "HTTP_X_AMZ_SNS_MESSAGE_ID": str(envelope["MessageId"]),
        }
    except (ValueError, KeyError, TypeError):
        return {}


def post_as_esp(client, name: str, body: bytes | None = None, **extra):
    """Like tests/notifications/test_inbox.post, with any headers and a client that does not
    raise, for every ESP (SES gets SNS's content type and message headers)."""
    esp = esp_of(name)
    body = (WEBHOOKS / name).read_bytes() if body is None else body
    if esp == "amazon_ses":
        extra = {"content_type": "text/plain; charset=UTF-8", **sns_headers(body), **extra}
    return send(client, esp, body, **extra)


# --- refusals ------------------------------------------------------------------------------------

FORGERIES = {
    "none": None,
    "wrong_password": basic("heldout:webhook-secreT"),
    "wrong_user": basic("someone:webhook-secret"),
    "empty": basic(":"),
    "no_colon": basic("heldoutwebhook-secret"),
    "not_base64": "Basic %%%not-base64%%%",
    "bearer": "Bearer " + SECRET,
    "secret_in_clear": "Basic " + SECRET,
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_requests_without_the_secret_are_refused_and_store_nothing(forgery):
    """Every ESP's real payload, with each kind of missing or wrong credentials."""
    client = browser()
    for name in FILES:
        response = post_as_esp(client, name, auth=FORGERIES[forgery])
        assert response.status_code in REFUSED, (name, response.status_code)
    assert not EmailEvent.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "SubscriptionConfirmation"},
        {"HTTP_X_AMZ_SNS_MESSAGE_ID": "another-message-id"},
    ],
)
def test_sns_headers_that_do_not_match_the_body_are_refused(change):
    response = post_as_esp(browser(), "amazonses_bounce_1.json", **change)
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


def test_other_methods_are_refused():
    client = browser()
    for esp in ESPS:
        for method in ("get", "put", "delete", "patch"):
            with override_settings(ANYMAIL=ANYMAIL):
                response = getattr(client, method)(
                    f"/anymail/{esp}/tracking/", HTTP_AUTHORIZATION=AUTH
                )
            assert response.status_code == 405, (esp, method, response.status_code)
    assert not EmailEvent.objects.exists()


CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=tempestade",
    "text/plain",
    "text/xml",
    "application/octet-stream",
    "application/json; charset=latin-1",
    "",
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_wrong_content_types_are_refused_or_read_as_json_never_500(
    content_type, django_capture_on_commit_callbacks
):
    """Some ESP parsers read the body whatever the content type says (Postmark, Brevo): then
    the events are stored once, as with the right type; otherwise a 4xx and nothing stored."""
    client = browser()
    for name in FILES:
        before = EmailEvent.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = post_as_esp(client, name, content_type=content_type)
        status = response.status_code
        assert status < 500, (name, status)
        stored = EmailEvent.objects.count() - before
        if status == 200:
            assert stored == len(EXPECTED[name]["events"]), name
            with django_capture_on_commit_callbacks(execute=True):
                again = post_as_esp(client, name, content_type=content_type)
            assert again.status_code == 200 and EmailEvent.objects.count() - before == stored
        else:
            assert 400 <= status < 500 and stored == 0, (name, status)
    assert not EmailEvent.objects.exclude(outcome="unmatched").exists()


def test_form_encoded_garbage_with_the_right_credentials_is_a_400():
    client = browser()
    for esp in ESPS:
        if esp == "amazon_ses":
            continue  # test_ses_malformed_bodies_are_400
        response = send(
            client,
            esp,
            b"event=bounce&email=a%40example.com&signature=x",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400, (esp, response.status_code)
    assert not EmailEvent.objects.exists()


HUGE = 5 * 1024 * 1024


@pytest.mark.parametrize("esp", sorted(ESPS))
@pytest.mark.parametrize("authenticated", [True, False])
def test_huge_bodies_are_refused(esp, authenticated):
    """5 MB: over DATA_UPLOAD_MAX_MEMORY_SIZE, refused before it is parsed (4xx, not 500)."""
    client = browser()
    auth = AUTH if authenticated else None
    garbage = b"x" * HUGE
    # A well-formed JSON batch of that size (what a misbehaving ESP could send).
    event = json.loads((WEBHOOKS / ESPS[esp]).read_bytes())
    batch = json.dumps([event] * (HUGE // len(json.dumps(event)) + 1)).encode()
    for body in (garbage, batch):
        headers = sns_headers((WEBHOOKS / ESPS[esp]).read_bytes()) if esp == "amazon_ses" else {}
        response = send(client, esp, body, auth=auth, **headers)
        assert 400 <= response.status_code < 500, response.status_code
    assert not EmailEvent.objects.exists()


def truncations(body: bytes) -> list[bytes]:
    body = body.rstrip()  # a cut in the trailing newline would leave the JSON whole
    cuts = {1, 2, len(body) // 4, len(body) // 3, len(body) // 2, len(body) - 2, len(body) - 1}
    return [body[:cut] for cut in sorted(cuts) if 0 < cut < len(body)]


MALFORMED = [
    b"",
    b" ",
    b"{",
    b"[",
    b"{not json",
    b"\xff\xfe\x00{",
    b"null",
    b"true",
    b"0",
    b'"texto"',
    b"NaN",
    b"1" * 5000,  # an integer past Python's conversion limit
    b"[null]",
    b"[1, 2]",
    b"{}",
    b"[]",
    b'{"": {}}',
    b"\x00",
]


@pytest.mark.parametrize("name", [name for name in FILES if esp_of(name) != "amazon_ses"])
def test_truncated_and_malformed_payloads_are_400(name, django_capture_on_commit_callbacks):
    client = browser()
    body = (WEBHOOKS / name).read_bytes()
    for broken in [*truncations(body), *MALFORMED]:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_as_esp(client, name, body=broken)
        # {} and [] are well-formed JSON: some ESP parsers take an object for one event of an
        # unknown type (Postmark, Brevo), stored and left unmatched; nothing else may pass.
        allowed = {200, 400} if broken.strip() in (b"{}", b"[]", b'{"": {}}') else {400}
        assert response.status_code in allowed, (broken[:40], response.status_code)
    assert EmailEvent.objects.count() <= 2
    assert not EmailEvent.objects.exclude(event_type="unknown", outcome="unmatched").exists()


def test_ses_malformed_bodies_are_400():
    client = browser()
    body = (WEBHOOKS / "amazonses_bounce_1.json").read_bytes()
    statuses = {}
    for broken in [*truncations(body), *MALFORMED]:
        headers = {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
            "HTTP_X_AMZ_SNS_MESSAGE_ID": "7a1c4e6f-2d9b-5b3e-8c0a-4f6e1d3b5a79",
        }
        response = send(client, "amazon_ses", broken, content_type="text/plain", **headers)
        statuses[broken[:30]] = response.status_code
    # A message type SNS does not send, consistent in header and body.
    envelope = json.loads(body)
    envelope["Type"] = "Nonsense"
    odd = json.dumps(envelope).encode()
    statuses["type"] = send(client, "amazon_ses", odd, **sns_headers(odd)).status_code
    assert not EmailEvent.objects.exists()
    assert all(status == 400 for status in statuses.values()), statuses


def test_deeply_nested_json_is_400():
    client = browser()
    statuses = {}
    for esp in ESPS:
        for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
            statuses[(esp, body[:2])] = send(client, esp, body).status_code
    assert not EmailEvent.objects.exists()
    assert all(status == 400 for status in statuses.values()), statuses


@pytest.fixture
def request_exceptions():
    """The exceptions behind 500 answers (a client with raise_request_exception=False still
    reports them through Django's got_request_exception signal)."""
    from django.core.signals import got_request_exception

    seen = []

    def record(sender, request=None, **kwargs):
        import sys

        seen.append(sys.exc_info()[1])

    got_request_exception.connect(record, weak=False)
    yield seen
    got_request_exception.disconnect(record)


NON_TEXT = [
    ("amazonses_delivery_1.json", ("Message", "delivery", "smtpResponse"), ["250 2.0.0 OK"]),
    (
        "amazonses_bounce_1.json",
        ("Message", "bounce", "bouncedRecipients", 0, "diagnosticCode"),
        {"code": "550"},
    ),
    ("postmark_bounce_1.json", ("Details",), ["smtp;550 5.1.1 user unknown"]),
    ("postmark_bounce_1.json", ("Description",), {"text": "unknown user"}),
    ("sendgrid_bounce_1.json", (0, "reason"), ["550 5.1.1"]),
    ("mailgun_failed_1.json", ("event-data", "delivery-status", "message"), ["550 5.1.1"]),
]


def with_value(name: str, path: tuple, value) -> bytes:
    doc = json.loads((WEBHOOKS / name).read_bytes())
    target = doc
    if path[0] == "Message":  # SES: the notification is a JSON string inside the SNS envelope
        inner = json.loads(doc["Message"])
        target, path = inner, path[1:]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    if doc is not target and "Message" in doc and isinstance(doc["Message"], str):
        doc["Message"] = json.dumps(inner)
    return json.dumps(doc).encode()


def test_non_text_values_in_text_fields_are_not_a_500(django_capture_on_commit_callbacks):
    client = browser()
    statuses = []
    for name, path, value in NON_TEXT:
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):
                response = post_as_esp(client, name, body=with_value(name, path, value))
            statuses.append((name, path[-1], response.status_code))
            transaction.set_rollback(True)
    assert all(status in (200, 400) for _n, _p, status in statuses), statuses


def test_nul_characters_in_a_payload_are_not_a_500(django_capture_on_commit_callbacks):
    client = browser()
    statuses = []
    for name, path in [
        ("postmark_bounce_1.json", ("Details",)),
        ("postmark_bounce_1.json", ("Tag",)),
        ("sendgrid_bounce_1.json", (0, "reason")),
        ("brevo_hard_bounce_1.json", ("reason",)),
    ]:
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):
                body = with_value(name, path, "smtp;550 5.1.1 \x00 user unknown")
                response = post_as_esp(client, name, body=body)
            statuses.append((name, path[-1], response.status_code))
            transaction.set_rollback(True)
    assert all(status in (200, 400) for _n, _p, status in statuses), statuses


# --- hypothesis: mutated real payloads -----------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(doc, prefix=()):
    """Every path to a value in a JSON document (Mailgun's signature block is left alone: it is
    the authentication, tested elsewhere)."""
    found = []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    )
    for key, value in items:
        if key == "signature":
            continue
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


def mutate(doc, data):
    """Replace, delete or re-type a few values of a real payload."""
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        candidates = paths(doc)
        if not candidates:
            break
        path = data.draw(st.sampled_from(candidates), label="path")
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        operation = data.draw(st.sampled_from(["replace", "delete", "wrap", "stringify"]))
        if operation == "delete":
            del parent[key]
        elif operation == "wrap":
            parent[key] = [parent[key]]
        elif operation == "stringify":
            parent[key] = json.dumps(parent[key])
        else:
            parent[key] = data.draw(JSON_VALUES, label="value")
    return doc


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(FILES), data=st.data())
def test_mutated_payloads_never_500_and_are_stored_once(
    name, data, django_capture_on_commit_callbacks, request_exceptions
):
    """A payload with some values replaced, removed or re-typed: refused with a 400 (nothing
    stored), or accepted with every event stored once and processed without an error — and a
    replay of the same request stores nothing new."""
    original = json.loads((WEBHOOKS / name).read_bytes())
    if esp_of(name) == "amazon_ses":
        # The SNS envelope is kept (see test_ses_malformed_bodies_are_400); the SES
        # notification inside it is mutated.
        message = mutate(json.loads(original["Message"]), data)
        original["Message"] = json.dumps(message)
    else:
        original = mutate(original, data)
    body = json.dumps(original).encode()
    client = browser()

    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):
            response = post_as_esp(client, name, body=body)
        note_event(f"status {response.status_code}")
        assert response.status_code in (200, 400), (response.status_code, request_exceptions)
        stored = list(EmailEvent.objects.all())
        if response.status_code == 400:
            assert not stored
        for row in stored:
            assert row.processed_at is not None and row.outcome != "failed", row.error
        with django_capture_on_commit_callbacks(execute=True):
            again = post_as_esp(client, name, body=body)
        assert again.status_code == response.status_code
        assert EmailEvent.objects.count() == len(stored)
        transaction.set_rollback(True)


# --- replay storms -------------------------------------------------------------------------------

ATTEMPTS = 3  # the first send and settings.DELIVERY_RETRY_DELAYS' two retries
FIRST_DUE, ISSUE_ON = date(2026, 3, 20), date(2026, 3, 10)
STORM_START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
def boleto(merchant):
    """An issued boleto whose PDF is already stored (each example sends it, then rolls back)."""
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    installments_issue_due(today=ISSUE_ON, schedule_id=schedule.pk)
    issued = Boleto.objects.get(schedule=schedule)
    boleto_pdf(boleto=issued)
    issued.refresh_from_db()
    return issued


# One email's possible histories (causal order), per ESP. A soft bounce is a final failure of
# that message: we send the next attempt, whose own history follows.
POSTMARK_OUTCOMES = [
    ("delivered",),
    ("delivered", "complaint"),
    ("delivered", "hard"),
    ("soft",),
    ("hard",),
    ("complaint",),
]
POSTMARK_FILES = {
    "delivered": "postmark_delivery_1.json",
    "soft": "postmark_bounce_2.json",
    "hard": "postmark_bounce_1.json",
    "complaint": "postmark_spamcomplaint_1.json",
}
KIND_MINUTES = {"deferred": 1, "delivered": 2, "soft": 5, "hard": 9, "complaint": 30}


@st.composite
def postmark_histories(draw):
    """[(attempt, kind, twin), ...] in causal order. ``twin`` 1 is the ESP emitting the same
    event again under a new id a minute later (a distinct event)."""
    history = []
    attempts = draw(st.integers(1, ATTEMPTS))  # every attempt but the last bounced softly
    for attempt in range(1, attempts + 1):
        kinds = ("soft",) if attempt < attempts else draw(st.sampled_from(POSTMARK_OUTCOMES))
        for kind in kinds:
            history.append((attempt, kind, 0))
            if draw(st.integers(0, 4)) == 0:
                history.append((attempt, kind, 1))
    return history


def storm(history, data):
    """The history as it arrives: per attempt, its events and replays of any earlier event,
    shuffled; then late replays. An attempt's events cannot arrive before it was sent (its
    message id does not exist yet), so attempts stay in order."""
    arrivals, seen = [], []
    for attempt in sorted({event[0] for event in history}):
        mine = [event for event in history if event[0] == attempt]
        seen += mine
        replays = data.draw(st.lists(st.sampled_from(seen), max_size=3), label="replays")
        arrivals.append(data.draw(st.permutations(mine + replays), label="order"))
    late = data.draw(st.lists(st.sampled_from(seen), max_size=3), label="late")
    if late:
        arrivals.append(late)
    return arrivals


def storm_key(event) -> str:
    attempt, kind, twin = event
    return f"a{attempt}-{kind}-{twin}"


def postmark_fields(event, outbound) -> dict:
    attempt, kind, twin = event
    at = STORM_START + timedelta(hours=4 * attempt, minutes=KIND_MINUTES[kind] + twin)
    at = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {"Metadata": {"storm_key": storm_key(event)}, "Recipient": outbound.recipient}
    if kind == "delivered":
        fields["DeliveredAt"] = at
    else:
        fields["BouncedAt"] = at
        fields["ID"] = 7_000_000 + attempt * 100 + list(KIND_MINUTES).index(kind) * 10 + twin
    return fields


def postmark_deliver(client, capture, boleto, batch):
    for event in batch:
        outbound = OutboundEmail.objects.filter(boleto=boleto, attempt=event[0]).first()
        assert outbound is not None, f"attempt {event[0]} was never sent"
        post_bounce(
            client,
            capture,
            outbound,
            name=POSTMARK_FILES[event[1]],
            **postmark_fields(event, outbound),
        )


def outcome(boleto, merchant) -> dict:
    """What a storm leaves behind, with nothing that depends on the arrival order."""
    schedule = Schedule.objects.get(pk=boleto.schedule_id)
    boleto = Boleto.objects.get(pk=boleto.pk)
    deactivations = list(ScheduleEvent.objects.filter(schedule=schedule, kind="deactivated"))
    return {
        "schedule": (schedule.status, schedule.deactivation_cause, schedule.epoch),
        "boleto": boleto.delivery_status,
        "events": sorted(Counter(e.kind for e in schedule.events.all()).items()),
        "deactivated_with": sorted(e.data.get("cause", "") for e in deactivations),
        "alerts": sorted(
            MerchantAlert.objects.filter(schedule=schedule).values_list("kind", "cause")
        ),
        "attempts": sorted(
            OutboundEmail.objects.filter(boleto=boleto).values_list("attempt", "state")
        ),
    }


def run(client, capture, boleto, arrivals, deliver) -> tuple[dict, Counter, int]:
    """Send the boleto, replay ``arrivals``, and return the outcome, the storm keys stored and
    how many merchant alert emails left; all rolled back afterwards."""
    merchant = boleto.merchant
    with transaction.atomic():
        Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
        with override_settings(**ESP_SETTINGS):
            boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)
        emails_before = len(mail.outbox)
        for batch in arrivals:
            deliver(client, capture, boleto, batch)
            # Time passes: the per-minute beat job sends the retry a soft bounce made due.
            with override_settings(**ESP_SETTINGS), capture(execute=True):
                delivery_retries_send(now=timezone.now() + timedelta(days=1))
        rows = list(EmailEvent.objects.all())
        assert all(r.processed_at is not None and r.outcome != "failed" for r in rows)
        stored = Counter(r.metadata.get("storm_key") for r in rows)
        alert_emails = sum(1 for m in mail.outbox[emails_before:] if m.to == [merchant.alert_email])
        result = outcome(boleto, merchant)
        transaction.set_rollback(True)
    return result, stored, alert_emails


def check_storm(client, capture, boleto, history, arrivals, deliver, references):
    distinct = list(dict.fromkeys(history))
    key = tuple(distinct)
    if key not in references:
        # The distinct events, once each, in causal order (one per request).
        causal = [[event] for event in distinct]
        references[key] = run(client, capture, boleto, causal, deliver)
    expected, expected_stored, expected_emails = references[key]
    result, stored, alert_emails = run(client, capture, boleto, arrivals, deliver)

    note_event(f"{sum(len(b) for b in arrivals)} arrivals, {len(distinct)} distinct")
    note_event(
        f"outcome {result['schedule'][0]} {result['schedule'][1]}, {len(result['attempts'])} sent"
    )
    assert stored == Counter(storm_key(e) for e in distinct), "not every event stored once"
    assert expected_stored == stored
    assert result == expected, f"arrival order changed the outcome: {arrivals}"
    kinds = dict(result["events"])
    assert kinds.get("deactivated", 0) <= 1
    alerts = Counter(kind for kind, _cause in result["alerts"])
    assert alerts["deactivated"] == kinds.get("deactivated", 0)
    assert alerts["delivery_failing"] <= 1
    assert alert_emails == sum(alerts.values()) == expected_emails  # each alert emailed once
    assert len(result["attempts"]) <= ATTEMPTS


STORMS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def references():
    """Outcomes of the causal replays, per history (shared by one test's examples)."""
    return {}


@STORMS
@given(history=postmark_histories(), data=st.data())
def test_postmark_replay_storm(
    client, boleto, references, django_capture_on_commit_callbacks, history, data
):
    arrivals = storm(history, data)
    check_storm(
        client,
        django_capture_on_commit_callbacks,
        boleto,
        history,
        arrivals,
        postmark_deliver,
        references,
    )


# SendGrid: no soft bounce event (a deferral is informational); batches of several events.
SENDGRID_OUTCOMES = [
    ("delivered",),
    ("delivered", "complaint"),
    ("delivered", "hard"),
    ("hard",),
    ("complaint",),
]
SENDGRID_FILES = {
    "deferred": "sendgrid_deferred_1.json",
    "delivered": "sendgrid_delivered_1.json",
    "hard": "sendgrid_bounce_1.json",
    "complaint": "sendgrid_spamreport_1.json",
}


@st.composite
def sendgrid_histories(draw):
    history = []
    for twin in range(draw(st.integers(0, 2))):
        history.append((1, "deferred", twin))
    for kind in draw(st.sampled_from(SENDGRID_OUTCOMES)):
        history.append((1, kind, 0))
        if draw(st.integers(0, 4)) == 0:
            history.append((1, kind, 1))
    return history


def sendgrid_event(event, outbound) -> dict:
    attempt, kind, twin = event
    (payload,) = json.loads((WEBHOOKS / SENDGRID_FILES[kind]).read_text())
    payload.update(
        {
            "email": outbound.recipient,
            "anymail_id": outbound.message_id,
            "timestamp": int(
                (
                    STORM_START + timedelta(hours=4 * attempt, minutes=KIND_MINUTES[kind] + twin)
                ).timestamp()
            ),
            "sg_event_id": f"storm-{storm_key(event)}",
            "storm_key": storm_key(event),  # a custom arg: comes back in the event's metadata
        }
    )
    return payload


def sendgrid_deliver(client, capture, boleto, batch):
    outbound = OutboundEmail.objects.get(boleto=boleto, attempt=1)
    body = json.dumps([sendgrid_event(event, outbound) for event in batch]).encode()
    with override_settings(**ESP_SETTINGS), capture(execute=True):
        response = send(client, "sendgrid", body)
    assert response.status_code == 200


def batches(arrivals, data):
    """The same arrivals cut into SendGrid POSTs of 1 to 4 events (duplicates may share one)."""
    flat = [event for group in arrivals for event in group]
    cut = []
    while flat:
        size = data.draw(st.integers(1, 4), label="batch size")
        cut.append(flat[:size])
        flat = flat[size:]
    return cut


@STORMS
@given(history=sendgrid_histories(), data=st.data())
def test_sendgrid_batched_replay_storm(
    client, boleto, references, django_capture_on_commit_callbacks, history, data
):
    arrivals = batches(storm(history, data), data)
    check_storm(
        client,
        django_capture_on_commit_callbacks,
        boleto,
        history,
        arrivals,
        sendgrid_deliver,
        references,
    )


def test_a_storm_deactivates_once_with_the_causal_cause(
    client, boleto, django_capture_on_commit_callbacks
):
    """A worked example of the property: soft bounce on attempt 1, hard bounce on attempt 2,
    everything replayed and reordered: deactivated once, for the invalid address."""
    history = [(1, "soft", 0), (2, "hard", 0), (2, "hard", 1)]
    arrivals = [[(1, "soft", 0), (1, "soft", 0)], [(2, "hard", 1), (1, "soft", 0), (2, "hard", 0)]]
    arrivals.append([(2, "hard", 0), (1, "soft", 0)])
    result, stored, alert_emails = run(
        client, django_capture_on_commit_callbacks, boleto, arrivals, postmark_deliver
    )
    assert stored == Counter({"a1-soft-0": 1, "a2-hard-0": 1, "a2-hard-1": 1})
    assert result["schedule"] == ("deactivated", "invalid_address", 0)
    assert result["boleto"] == "undelivered"
    assert result["alerts"] == [
        ("deactivated", "invalid_address"),
        ("delivery_failing", "mailbox_full"),
    ]
    assert [attempt for attempt, _state in result["attempts"]] == [1, 2]
    assert alert_emails == 2
    assert len(history) == sum(stored.values())


def test_soft_bounces_on_every_attempt_deactivate_once_for_the_full_mailbox(
    client, boleto, django_capture_on_commit_callbacks
):
    """Each attempt bounces softly (mailbox full), with replays of the earlier bounces arriving
    between and after: the last attempt's bounce deactivates, once; one warning, one alert."""
    soft = [(attempt, "soft", 0) for attempt in (1, 2, 3)]
    arrivals = [[soft[0]], [soft[1], soft[0]], [soft[0], soft[2], soft[1]], [soft[2], soft[0]]]
    result, stored, alert_emails = run(
        client, django_capture_on_commit_callbacks, boleto, arrivals, postmark_deliver
    )
    assert stored == Counter({"a1-soft-0": 1, "a2-soft-0": 1, "a3-soft-0": 1})
    assert result["schedule"] == ("deactivated", "mailbox_full", 0)
    assert result["boleto"] == "undelivered"
    assert result["alerts"] == [
        ("deactivated", "mailbox_full"),
        ("delivery_failing", "mailbox_full"),
    ]
    assert [attempt for attempt, _state in result["attempts"]] == [1, 2, 3]
    assert alert_emails == 2
