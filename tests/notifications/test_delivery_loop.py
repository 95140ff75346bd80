"""The delivery loop (issue 10): no email once a schedule is off, retries sent when they are due,
an early event matched later, every boleto's first failure warned, and a boleto that says when
it will be tried again."""

import logging
from datetime import date, datetime, time, timedelta

import pytest
from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from billing.models import Boleto
from notifications import inbox
from notifications.delivery import (
    UNMATCHED_RETRY_FOR,
    delivery_retries_send,
    delivery_sweep,
    email_events_drain,
    email_events_rematch,
)
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from notifications.sending import boleto_send
from portal.timezones import business_today, business_tz
from schedules.generator import installments_issue_due
from schedules.models import ScheduleStatus
from schedules.services import schedule_cancel, schedule_deactivate, schedule_reactivate
from tests.factories import ScheduleFactory, registered_at_bank, registration_paused

pytestmark = pytest.mark.django_db

TEST_ESP = {"EMAIL_BACKEND": "anymail.backends.test.EmailBackend"}
FIRST_DUE = date(2026, 3, 20)
SOFT = ("SoftBounce", 4096, "smtp;452 4.2.2 Mailbox full")
HARD = ("HardBounce", 1, "smtp;550 5.1.1 The email account does not exist")


def issue(schedule, sequence: int) -> Boleto:
    """Issue installment ``sequence`` of the schedule (monthly) and put it in the send queue."""
    with registration_paused():  # registered below, by hand
        installments_issue_due(today=date(2026, 2 + sequence, 10))
    boleto = Boleto.objects.get(schedule=schedule, sequence=sequence)
    Boleto.objects.filter(pk=boleto.pk).update(
        delivery_status="queued", handed_off_at=timezone.now()
    )
    registered_at_bank(boleto.pk)
    return boleto


def send(boleto) -> OutboundEmail | None:
    with override_settings(**TEST_ESP):
        outbound = boleto_send(merchant_id=boleto.merchant_id, boleto_id=boleto.pk)
    if outbound is not None:
        # anymail's test backend numbers messages by outbox position; a real ESP's are unique.
        outbound.message_id = f"msg-{outbound.pk}"
        outbound.save(update_fields=["message_id"])
    return outbound


def postmark_bounce(message_id, recipient, kind, *, event_id) -> AnymailTrackingEvent:
    bounce_type, type_code, details = kind
    return AnymailTrackingEvent(
        event_type="bounced",
        reject_reason="bounced",
        event_id=str(event_id),
        message_id=message_id,
        recipient=recipient,
        timestamp=timezone.now(),
        description=bounce_type,
        mta_response=details,
        esp_event={
            "RecordType": "Bounce",
            "ID": event_id,
            "Type": bounce_type,
            "TypeCode": type_code,
            "MessageID": message_id,
            "Email": recipient,
            "Details": details,
        },
    )


def bounce(outbound, kind, capture, *, event_id) -> EmailEvent:
    """A Postmark bounce about ``outbound``, stored and processed (with its after-commit work)."""
    with override_settings(**TEST_ESP), capture(execute=True):
        pk = inbox.email_event_store(
            event=postmark_bounce(outbound.message_id, outbound.recipient, kind, event_id=event_id),
            esp_name="Postmark",
        )
        email_events_drain()
    return EmailEvent.objects.get(pk=pk)


def customer_mail(schedule):
    return [m for m in mail.outbox if m.to == [schedule.customer.email]]


# --- 1. no email to a customer whose schedule is not active -------------------------------------


@pytest.mark.parametrize("stop", ["cancel", "deactivate"])
def test_a_queued_send_after_the_schedule_stopped_emails_nothing(
    merchant, owner, client, stop, caplog
):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    boleto = issue(schedule, 1)
    if stop == "cancel":
        schedule_cancel(schedule=schedule)
    else:
        schedule_deactivate(schedule=schedule, cause="spam_complaint")
    caplog.set_level(logging.INFO, logger="notifications.sending")
    assert send(boleto) is None
    schedule.refresh_from_db()
    assert [r.getMessage() for r in caplog.records if r.name == "notifications.sending"] == [
        f"event=boleto_send_skipped merchant={merchant.pk} schedule_id={schedule.pk} "
        f"schedule_number={schedule.number} boleto={boleto.pk} decision=withheld "
        f"reason=schedule_{schedule.status}"
    ]
    assert mail.outbox == []
    assert not OutboundEmail.objects.exists()
    boleto.refresh_from_db()
    assert boleto.delivery_status == "withheld"
    client.force_login(owner)
    page = client.get(schedule.get_absolute_url()).content.decode()
    assert "Não enviado (agendamento inativo)" in page
    assert "Reenviar boleto" not in page  # not for a schedule that is off


def test_the_sweeper_never_emails_a_deactivated_schedule(
    merchant, django_capture_on_commit_callbacks
):
    """A send whose message was lost: the sweeper queues it again an hour later, but the
    schedule was deactivated (a spam complaint) in between."""
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    boleto = issue(schedule, 1)
    schedule_deactivate(schedule=schedule, cause="spam_complaint")
    with override_settings(**TEST_ESP), django_capture_on_commit_callbacks(execute=True):
        result = delivery_sweep(now=timezone.now() + timedelta(hours=2))
    assert result["requeued"] == 1
    assert mail.outbox == []
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "withheld"


def test_a_soft_bounce_retry_after_cancellation_emails_nothing(
    merchant, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    outbound = send(issue(schedule, 1))
    bounce(outbound, SOFT, django_capture_on_commit_callbacks, event_id=101)
    assert Boleto.objects.get(pk=outbound.boleto_id).delivery_status == "retry"
    schedule_cancel(schedule=schedule)
    with override_settings(**TEST_ESP), django_capture_on_commit_callbacks(execute=True):
        assert delivery_retries_send(now=timezone.now() + timedelta(hours=3)) == 1
    assert len(customer_mail(schedule)) == 1  # the first attempt only
    assert OutboundEmail.objects.count() == 1
    assert Boleto.objects.get(pk=outbound.boleto_id).delivery_status == "withheld"


def test_reactivation_sends_a_withheld_boleto_when_the_merchant_asks(
    merchant, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    boleto = issue(schedule, 1)
    schedule_deactivate(schedule=schedule, cause="mailbox_full")
    assert send(boleto) is None
    with override_settings(**TEST_ESP), django_capture_on_commit_callbacks(execute=True):
        result = schedule_reactivate(
            schedule=schedule,
            email=schedule.customer.email,
            keep_email=True,
            resend_boleto_ids=[boleto.pk],
            today=date(2026, 3, 12),
        )
    assert result.resent == [1]
    assert len(customer_mail(schedule)) == 1
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "sent"


# --- 2. retries when due ------------------------------------------------------------------------


def test_retries_and_rematch_run_every_minute_from_beat():
    entries = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["notifications.tasks.delivery_retries_send_task"] == 60.0
    assert entries["notifications.tasks.email_events_rematch_task"] == 60.0


def test_a_soft_bounce_queues_no_countdown_and_the_sweeper_waits_for_the_due_time(
    merchant, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications.tasks import boleto_send_task

    published = []
    monkeypatch.setattr(
        boleto_send_task, "apply_async", lambda *a, **kw: published.append(kw) or None
    )
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    outbound = send(issue(schedule, 1))
    bounce(outbound, SOFT, django_capture_on_commit_callbacks, event_id=201)
    assert published == []  # no Celery countdown: the due time is on the boleto
    boleto = Boleto.objects.get(pk=outbound.boleto_id)
    assert boleto.delivery_status == "retry"
    # 90 minutes later: queued "over an hour" by the old rule, but not due yet.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweep(now=boleto.next_attempt_at - timedelta(minutes=30))["requeued"] == 0
        assert delivery_retries_send(now=boleto.next_attempt_at - timedelta(seconds=1)) == 0
    assert published == []
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_retries_send(now=boleto.next_attempt_at) == 1
    assert [kw["kwargs"]["boleto_id"] for kw in published] == [boleto.pk]
    assert published[0].get("countdown") is None
    boleto.refresh_from_db()
    assert (boleto.delivery_status, boleto.next_attempt_at) == ("queued", None)


# --- 4. an early event is not lost --------------------------------------------------------------


def test_an_event_processed_before_its_email_row_is_matched_by_the_rematch(
    merchant, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    boleto = issue(schedule, 1)
    recipient = schedule.customer.email
    # The ESP's "dropped" comes back while the send's transaction is still open.
    with django_capture_on_commit_callbacks(execute=True):
        inbox.email_event_store(
            event=postmark_bounce("msg-early", recipient, HARD, event_id=301), esp_name="Postmark"
        )
        email_events_drain()
    event = EmailEvent.objects.get()
    assert event.outcome == "unmatched"
    # Then the send's row commits.
    outbound = send(boleto)
    OutboundEmail.objects.filter(pk=outbound.pk).update(message_id="msg-early")
    with override_settings(**TEST_ESP), django_capture_on_commit_callbacks(execute=True):
        assert email_events_rematch() == {"tried": 1, "matched": 1}
    event.refresh_from_db()
    assert event.outcome == "applied" and event.outbound_email_id == outbound.pk
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "undelivered"
    assert MerchantAlert.objects.filter(kind="deactivated").count() == 1
    # Matched now: not tried again.
    assert email_events_rematch() == {"tried": 0, "matched": 0}


def test_an_unmatched_event_is_given_up_after_the_window():
    with inbox_stored("msg-nobody") as event:
        assert email_events_rematch(now=event.received_at + UNMATCHED_RETRY_FOR) == {
            "tried": 1,
            "matched": 0,
        }
        later = event.received_at + UNMATCHED_RETRY_FOR + timedelta(seconds=1)
        assert email_events_rematch(now=later) == {"tried": 0, "matched": 0}
        event.refresh_from_db()
        assert event.outcome == "unmatched" and event.processed_at is not None


class inbox_stored:
    """An unmatched event, stored and processed."""

    def __init__(self, message_id):
        self.message_id = message_id

    def __enter__(self):
        inbox.email_event_store(
            event=postmark_bounce(self.message_id, "x@example.com", HARD, event_id=401),
            esp_name="Postmark",
        )
        email_events_drain()
        event = EmailEvent.objects.get()
        assert event.outcome == "unmatched"
        return event

    def __exit__(self, *exc):
        return False


# --- 5. the merchant is warned at the first failure of every boleto -----------------------------


def test_every_boletos_first_soft_failure_warns_the_merchant(
    merchant, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    first = send(issue(schedule, 1))
    bounce(first, SOFT, django_capture_on_commit_callbacks, event_id=501)
    second = send(issue(schedule, 2))
    bounce(second, SOFT, django_capture_on_commit_callbacks, event_id=502)

    warnings = MerchantAlert.objects.filter(kind="delivery_failing").order_by("pk")
    assert [w.boleto_id for w in warnings] == [first.boleto_id, second.boleto_id]
    emailed = [m for m in mail.outbox if m.to == [merchant.alert_email]]
    assert len(emailed) == 2
    assert all("não entregue: Caixa postal cheia" in m.subject for m in emailed)

    # The second boleto's retry fails too: no second warning about it.
    with override_settings(**TEST_ESP), django_capture_on_commit_callbacks(execute=True):
        later = timezone.now() + timedelta(hours=3)
        assert delivery_retries_send(now=later) == 2
    retry = OutboundEmail.objects.get(boleto_id=second.boleto_id, attempt=2)
    retry.message_id = f"msg-{retry.pk}"
    retry.save(update_fields=["message_id"])
    bounce(retry, SOFT, django_capture_on_commit_callbacks, event_id=503)
    assert MerchantAlert.objects.filter(kind="delivery_failing").count() == 2
    assert len([m for m in mail.outbox if m.to == [merchant.alert_email]]) == 2


# --- 10. a soft-bounced boleto says when the next attempt is ------------------------------------


def test_a_boleto_waiting_for_its_retry_shows_the_time(merchant, owner, client):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    boleto = issue(schedule, 1)
    today = business_today()
    Boleto.objects.filter(pk=boleto.pk).update(
        delivery_status="retry",
        next_attempt_at=datetime.combine(today, time(14, 5), tzinfo=business_tz()),
    )
    client.force_login(owner)
    for url in (schedule.get_absolute_url(), "/boletos/", "/"):
        body = client.get(url).content.decode()
        assert "Nova tentativa às 14:05" in body, url
        assert "Na fila de envio</td>" not in body, url

    tomorrow = today + timedelta(days=1)
    Boleto.objects.filter(pk=boleto.pk).update(
        next_attempt_at=datetime.combine(tomorrow, time(9, 30), tzinfo=business_tz())
    )
    body = client.get(schedule.get_absolute_url()).content.decode()
    assert f"Nova tentativa em {tomorrow:%d/%m} às 09:30" in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_send_waits_for_a_cancellation_in_progress_and_emails_nothing(merchant, monkeypatch):
    """The check is made under a lock: a send that starts while another session is cancelling
    the schedule (row locked, not yet committed) waits for it, then sees it cancelled."""
    import threading
    import time as clock

    import psycopg
    from django.db import connection

    from tests.reliability.conftest import database_url

    monkeypatch.setattr("notifications.delivery.delivery_hand_off_on_commit", lambda batch: None)
    schedule = ScheduleFactory(merchant=merchant, first_due_date=FIRST_DUE)
    boleto = issue(schedule, 1)
    cancelling = psycopg.connect(database_url())
    try:
        cancelling.execute(
            "UPDATE schedules_schedule SET status = 'cancelled', cancelled_at = now() "
            "WHERE id = %s",
            [schedule.pk],
        )
        result = {}

        def sending():
            try:
                result["outbound"] = send(boleto)
            finally:
                connection.close()

        thread = threading.Thread(target=sending)
        thread.start()
        deadline = clock.monotonic() + 20
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE %s AND datname = current_database()",
                    ["%FOR SHARE OF s%"],
                )
                if cursor.fetchone()[0]:
                    break
            assert thread.is_alive(), "the send did not wait for the cancellation"
            assert clock.monotonic() < deadline, "the send never waited for the schedule's lock"
            clock.sleep(0.05)
        cancelling.commit()
        thread.join(timeout=60)
    finally:
        cancelling.close()
    assert result["outbound"] is None
    assert mail.outbox == []
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "withheld"
