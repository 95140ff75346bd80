"""The webhook's request path: one SQL statement per event, none of the browser middleware, and
the inbox drain (kick, debounce, batches, failures) that processes what it stored."""

import base64
import json
import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from notifications import delivery, inbox
from notifications.models import EmailEvent
from tests import WEBHOOKS

SECRET = "heldout:webhook-secret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def bounce(event_id: int, message_id: str = "b3c4e5f6-0000-4e58-a7c2-000000000001") -> str:
    payload = json.loads((WEBHOOKS / "postmark_bounce_1.json").read_text())
    payload.update({"ID": event_id, "MessageID": message_id})
    return json.dumps(payload)


def post(client, body: str, **extra):
    with override_settings(ANYMAIL=ANYMAIL):
        return client.post(
            "/anymail/postmark/tracking/",
            data=body,
            content_type="application/json",
            **{**AUTH, **extra},
        )


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


# --- one statement, no browser middleware ---------------------------------------------------------


@pytest.fixture
def sql_before_kick(monkeypatch):
    """The statements a request ran before its kick (eager Celery runs the drain inside the
    request in tests; in production the drain runs in a worker)."""
    seen: list[list[str]] = []
    real_kick = inbox.inbox_kick

    def recording_kick():
        seen.append([q["sql"] for q in connection.queries])
        return real_kick()

    monkeypatch.setattr(inbox, "inbox_kick", recording_kick)
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_new_event_is_one_insert_in_autocommit_and_a_duplicate_too(client, sql_before_kick):
    """Outside any test transaction (real autocommit): the request runs exactly one statement,
    INSERT … ON CONFLICT DO NOTHING — no BEGIN/COMMIT round trips, no SELECT, no session."""
    with CaptureQueriesContext(connection):
        response = post(client, bounce(1))
    assert response.status_code == 200
    ((sql,),) = sql_before_kick
    assert sql.startswith('INSERT INTO "notifications_emailevent"')
    assert "ON CONFLICT" in sql and "DO NOTHING" in sql and "RETURNING" in sql
    row = EmailEvent.objects.get()
    assert row.raw["ID"] == 1 and row.processed_at is not None  # stored, then drained

    with CaptureQueriesContext(connection) as queries:
        again = post(client, bounce(1))
    assert again.status_code == 200
    (dup,) = statements(queries)  # the duplicate: the same statement, no row, no kick
    assert dup.split(" VALUES ")[0] == sql.split(" VALUES ")[0]
    assert len(sql_before_kick) == 1
    assert EmailEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_webhook_skips_session_auth_tenancy_even_for_a_logged_in_browser(
    client, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)  # a session cookie that the portal's middleware would load
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=False):
            response = post(client, bounce(2))
    assert response.status_code == 200
    (sql,) = statements(queries)  # no django_session / auth_user / membership lookups
    assert sql.startswith("INSERT")
    # Headers the browser middleware adds are absent: clickjacking, locale, session (Vary).
    assert "X-Frame-Options" not in response.headers
    assert "Content-Language" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    # A portal page still gets them.
    page = client.get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Content-Language" in page.headers


@pytest.mark.django_db
def test_an_unknown_path_under_the_prefix_gets_the_normal_stack(client):
    response = client.post("/anymail/nope/tracking/", data="{}", content_type="application/json")
    assert response.status_code == 404
    assert response.headers["X-Frame-Options"] == "DENY"  # went through the whole stack


@pytest.mark.django_db
def test_refusals_on_the_fast_path_are_still_400_and_never_500(client):
    forged = post(client, bounce(3), HTTP_AUTHORIZATION="Basic Zm9yZ2VkOmZvcmdlZA==")
    assert forged.status_code == 400
    garbage = post(client, "{not json")
    assert garbage.status_code == 400
    assert not EmailEvent.objects.exists()


def test_no_browser_middleware_before_the_fast_path():
    """Only the security middleware runs before it (HSTS, SSL redirect)."""
    stack = settings.MIDDLEWARE
    fast = stack.index("portal.middleware.WebhookFastPathMiddleware")
    assert stack[:fast] == ["django.middleware.security.SecurityMiddleware"]
    assert "/anymail/" in settings.WEBHOOK_FAST_PATH_PREFIXES


# --- the drain ------------------------------------------------------------------------------------


def store(n: int) -> list[int]:
    from anymail.signals import AnymailTrackingEvent

    ids = []
    for i in range(n):
        ids.append(
            inbox.email_event_store(
                event=AnymailTrackingEvent(
                    event_type="delivered",
                    recipient=f"cliente{i}@example.com",
                    message_id=f"msg-{uuid.uuid4()}",
                    esp_event={
                        "RecordType": "Delivery",
                        "DeliveredAt": f"2026-03-10T10:00:{i:02d}Z",
                    },
                ),
                esp_name="Postmark",
            )
        )
    return ids


@pytest.mark.django_db
def test_drain_processes_every_pending_event_in_batches(monkeypatch):
    monkeypatch.setattr(delivery, "DRAIN_BATCH", 7)
    ids = store(20)  # inside the test's transaction: the kicks wait for a commit that never comes
    assert EmailEvent.objects.filter(processed_at__isnull=True).count() == 20
    result = delivery.email_events_drain()
    assert result == {"processed": 20, "failed": 0}
    assert set(EmailEvent.objects.filter(outcome="unmatched").values_list("pk", flat=True)) == set(
        ids
    )
    assert delivery.email_events_drain() == {"processed": 0, "failed": 0}


@pytest.mark.django_db
def test_a_crash_while_processing_one_event_loses_nothing(monkeypatch):
    """Fault injection: the policy raises for one event. The others of the batch are processed;
    that one is rolled back to its savepoint and kept as failed (attempts, error), skipped by
    the next kick-triggered drains, retried by the sweeper's drain, and left for a human after
    DRAIN_MAX_ATTEMPTS."""
    from notifications import policy

    ids = store(5)
    poisoned = ids[2]
    real_apply = policy.email_event_apply

    def crashing_apply(event):
        if event.pk == poisoned:
            event.outcome = "applied"  # a half-done change that must not survive
            raise RuntimeError("worker crashed")
        return real_apply(event)

    monkeypatch.setattr(policy, "email_event_apply", crashing_apply)
    assert delivery.email_events_drain() == {"processed": 4, "failed": 1}
    row = EmailEvent.objects.get(pk=poisoned)
    assert (row.outcome, row.processed_at, row.attempts) == ("failed", None, 1)
    assert "RuntimeError: worker crashed" in row.error
    # A kick's drain only takes fresh events; the sweeper's retries failed ones.
    assert delivery.email_events_drain() == {"processed": 0, "failed": 0}
    assert delivery.email_events_drain(retry_failed=True) == {"processed": 0, "failed": 1}
    assert EmailEvent.objects.get(pk=poisoned).attempts == 2
    # Fixed (the crash is gone): the next sweep processes it.
    monkeypatch.setattr(policy, "email_event_apply", real_apply)
    assert delivery.email_events_drain(retry_failed=True) == {"processed": 1, "failed": 0}
    row.refresh_from_db()
    assert (row.outcome, row.error, row.attempts) == ("unmatched", "", 3)
    assert row.processed_at is not None


@pytest.mark.django_db
def test_an_event_failing_every_time_is_left_for_a_human(monkeypatch):
    from notifications import policy

    (event_id,) = store(1)
    monkeypatch.setattr(
        policy, "email_event_apply", lambda event: (_ for _ in ()).throw(ValueError("bad"))
    )
    for _ in range(delivery.DRAIN_MAX_ATTEMPTS + 3):
        delivery.email_events_drain(retry_failed=True)
    row = EmailEvent.objects.get(pk=event_id)
    assert row.attempts == delivery.DRAIN_MAX_ATTEMPTS
    assert row.outcome == "failed" and row.processed_at is None  # kept, visible in the admin


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_skip_rows_another_drain_holds():
    """SELECT … FOR UPDATE SKIP LOCKED: a row locked by another transaction (another drain) is
    skipped, not waited for, and processed by a later drain once free."""
    # Rows as the webhook leaves them (created directly: in autocommit each stored event's kick
    # would drain it at once under eager Celery).
    ids = [
        EmailEvent.objects.create(
            dedupe_key=uuid.uuid4().hex, esp_name="Postmark", event_type="delivered"
        ).pk
        for _ in range(3)
    ]
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_drain():
        try:
            with transaction.atomic():
                EmailEvent.objects.select_for_update().get(pk=ids[0])
                locked.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_drain)
    thread.start()
    assert locked.wait(10)
    try:
        assert delivery.email_events_drain() == {"processed": 2, "failed": 0}
        assert EmailEvent.objects.get(pk=ids[0]).processed_at is None
    finally:
        release.set()
        thread.join(10)
    assert delivery.email_events_drain() == {"processed": 1, "failed": 0}
    assert not EmailEvent.objects.filter(processed_at__isnull=True).exists()


# --- the kick: one deferred drain per window, per process -----------------------------------------


@pytest.fixture
def broker():
    """Celery not eager, publishing to kombu's in-memory transport (real kombu, no server, this
    process only): what the kick queues can be read back. Restored afterwards."""
    from notifications.tasks import email_events_drain_task

    app = email_events_drain_task.app
    keys = ("task_always_eager", "broker_url", "broker_write_url", "broker_read_url")
    saved = {key: app.conf.get(key) for key in keys}  # raw values, not the URL fallbacks
    pools = (app._pool, app.amqp._producer_pool)
    app.conf.task_always_eager = False
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = "memory://"
    app._pool = app.amqp._producer_pool = None
    inbox._kick_covered_until = 0.0

    def queued() -> list[dict]:
        messages = []
        with app.connection_for_read() as conn:
            queue = conn.SimpleQueue("celery")
            while queue.qsize():
                message = queue.get(timeout=1)
                messages.append(message.headers)
                message.ack()
            queue.close()
        return messages

    try:
        yield queued
    finally:
        queued()
        for key, value in saved.items():
            app.conf[key] = value
        app._pool, app.amqp._producer_pool = pools
        inbox._kick_covered_until = 0.0


@pytest.mark.django_db(transaction=True)
@override_settings(INBOX_DRAIN_DELAY=1.0, INBOX_DRAIN_CLOCK_MARGIN=0.5)
def test_one_deferred_drain_covers_every_event_of_its_window(client, broker):
    import time
    from datetime import datetime

    before = datetime.now().astimezone()
    for event_id in (31, 32, 33):
        assert post(client, bounce(event_id)).status_code == 200
    (message,) = broker()  # one drain for the three events
    assert message["task"] == "notifications.tasks.email_events_drain_task"
    # It starts a second after the first event, so after the other two were committed.
    assert (datetime.fromisoformat(message["eta"]) - before).total_seconds() >= 1.0
    assert EmailEvent.objects.filter(processed_at__isnull=True).count() == 3

    time.sleep(0.6)  # past delay - margin: that drain may be about to start; queue another
    assert post(client, bounce(34)).status_code == 200
    assert len(broker()) == 1
    # The worker runs the drain: every event of both windows is processed.
    assert delivery.email_events_drain() == {"processed": 4, "failed": 0}


@pytest.mark.django_db(transaction=True)
@override_settings(INBOX_DRAIN_DELAY=0)
def test_without_a_delay_every_event_queues_its_drain(client, broker):
    for event_id in (41, 42):
        post(client, bounce(event_id))
    messages = broker()
    assert len(messages) == 2 and all(m["eta"] is None for m in messages)


@pytest.mark.django_db(transaction=True)
@override_settings(INBOX_DRAIN_DELAY=1.0, INBOX_DRAIN_CLOCK_MARGIN=0.5)
def test_a_broker_outage_at_kick_time_loses_nothing(client, broker, caplog):
    import time

    from notifications.tasks import email_events_drain_task

    app = email_events_drain_task.app
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app._pool = app.amqp._producer_pool = None
    try:
        assert post(client, bounce(51)).status_code == 200  # stored: the ESP must not retry
        assert caplog.text.count("event=inbox_kick_failed") == 1
        started = time.monotonic()
        assert post(client, bounce(52)).status_code == 200
        assert time.monotonic() - started < 0.3  # no second wait on the dead broker
        assert caplog.text.count("event=inbox_kick_failed") == 1
    finally:
        app.conf.broker_write_url = "memory://"
        app._pool = app.amqp._producer_pool = None
    time.sleep(1.05)  # the broker is back; the window is over
    assert post(client, bounce(53)).status_code == 200
    assert len(broker()) == 1
    # That drain processes the events whose kicks failed or were skipped too.
    assert delivery.email_events_drain() == {"processed": 3, "failed": 0}
