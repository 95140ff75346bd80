"""A real-format bounce for an email we sent, through the real webhook endpoint: the boleto is
marked não entregue, the schedule deactivated with its cause, the merchant alerted once."""

import base64
import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from billing.models import Boleto
from notifications.delivery import delivery_retries_send, delivery_sweep
from notifications.models import EmailEvent, MerchantAlert
from notifications.sending import boleto_send
from schedules.generator import installments_issue_due
from schedules.models import Schedule, ScheduleStatus
from tests import WEBHOOKS
from tests.factories import ScheduleFactory

pytestmark = pytest.mark.django_db

SECRET = "heldout:webhook-secret"
SETTINGS = {
    "EMAIL_BACKEND": "anymail.backends.test.EmailBackend",
    "ANYMAIL": {"WEBHOOK_SECRET": SECRET},
}


@pytest.fixture
def sent(merchant):
    """A boleto of an active schedule, emailed through the (test) ESP."""
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    installments_issue_due(today=date(2026, 3, 10))
    boleto = Boleto.objects.get(schedule=schedule)
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    with override_settings(**SETTINGS):
        outbound = boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)
    mail.outbox.clear()
    return outbound


def postmark(client, name, outbound, capture, **changes):
    payload = json.loads((WEBHOOKS / name).read_text())
    payload.update({"MessageID": outbound.message_id, "Email": outbound.recipient, **changes})
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    with override_settings(**SETTINGS), capture(execute=True):
        response = client.post(
            "/anymail/postmark/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
    assert response.status_code == 200
    return response


def test_hard_bounce_deactivates_and_alerts_once(
    client, merchant, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)

    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert schedule.deactivation_cause == "invalid_address"
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "undelivered"
    event = schedule.events.get(kind="deactivated")
    assert "5.1.1" in event.data["diagnostic"]
    alert = MerchantAlert.objects.get(schedule=schedule)
    assert alert.emailed_at is not None
    (message,) = mail.outbox
    assert message.to == [merchant.alert_email]
    assert f"nº {schedule.number}" in message.subject
    assert "Endereço de e-mail inexistente ou inválido" in message.body
    assert schedule.customer.name in message.body
    assert "Corrija o e-mail do cliente e reative o agendamento" in message.body
    assert "/pdf/" in message.body

    # The ESP retries the same event, and a later duplicate arrives with another id.
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks, ID=999)
    assert MerchantAlert.objects.count() == 1
    assert len(mail.outbox) == 1
    assert schedule.events.filter(kind="deactivated").count() == 1


def test_event_about_an_email_before_reactivation_does_nothing(
    client, sent, django_capture_on_commit_callbacks
):
    # Reactivated since the email left (a new epoch): the old bounce must not deactivate again.
    Schedule.objects.filter(pk=sent.schedule_id).update(epoch=1)
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.status == ScheduleStatus.ACTIVE
    assert not MerchantAlert.objects.exists()
    assert EmailEvent.objects.get().outcome == "applied"  # recorded: the boleto is undelivered
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "undelivered"


def test_delivered_then_late_bounce_and_out_of_order_delivery(
    client, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_delivery_1.json", sent, django_capture_on_commit_callbacks)
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "delivered"
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "undelivered"
    # A delivery event arriving after the bounce never overrides it.
    postmark(
        client,
        "postmark_delivery_1.json",
        sent,
        django_capture_on_commit_callbacks,
        DeliveredAt="2030-01-01T00:00:00Z",
    )
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "undelivered"
    assert EmailEvent.objects.order_by("-id").first().outcome == "stale"


def test_spam_complaint_deactivates_with_its_cause(
    client, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_spamcomplaint_1.json", sent, django_capture_on_commit_callbacks)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.deactivation_cause == "spam_complaint"


def test_event_for_an_unknown_message_is_stored_unmatched(
    client, sent, django_capture_on_commit_callbacks
):
    postmark(
        client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks, MessageID="x"
    )
    assert EmailEvent.objects.get().outcome == "unmatched"
    assert Schedule.objects.get(pk=sent.schedule_id).status == ScheduleStatus.ACTIVE


def test_transient_failure_is_retried_warned_once_then_deactivates(
    client, merchant, sent, django_capture_on_commit_callbacks
):
    from notifications.models import OutboundEmail

    def unique_ids():
        # anymail's test backend numbers messages by outbox position; a real ESP's ids are unique.
        for outbound in OutboundEmail.objects.all():
            OutboundEmail.objects.filter(pk=outbound.pk).update(
                message_id=f"msg-{outbound.attempt}"
            )
        return list(OutboundEmail.objects.order_by("attempt"))

    def retries_due(at):
        with override_settings(**SETTINGS), django_capture_on_commit_callbacks(execute=True):
            return delivery_retries_send(now=at)

    sent = unique_ids()[0]
    # Attempt 1 bounces softly (mailbox full): the merchant is warned, and the next attempt is
    # due 2 h later (stored on the boleto; the per-minute beat job sends it then).
    with override_settings(**SETTINGS):
        postmark(client, "postmark_bounce_2.json", sent, django_capture_on_commit_callbacks)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.status == ScheduleStatus.ACTIVE
    warning = MerchantAlert.objects.get(kind="delivery_failing")
    (warned,) = [m for m in mail.outbox if m.to == [merchant.alert_email]]
    assert "não entregue: Caixa postal cheia" in warned.subject
    assert "Vamos tentar enviá-lo de novo" in warned.body
    assert warning.emailed_at is not None
    boleto = Boleto.objects.get(pk=sent.boleto_id)
    assert boleto.delivery_status == "retry"
    first_due = boleto.next_attempt_at
    assert (
        timedelta(hours=2) - timedelta(minutes=1) < first_due - timezone.now() <= timedelta(hours=2)
    )
    assert [a.attempt for a in unique_ids()] == [1]
    # Not due yet: neither the retry job nor the sweeper (1 h "stuck" rule) sends it.
    assert retries_due(first_due - timedelta(minutes=1)) == 0
    with override_settings(**SETTINGS), django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweep(now=first_due - timedelta(minutes=1))["requeued"] == 0
    assert [a.attempt for a in unique_ids()] == [1]
    assert retries_due(first_due) == 1
    attempts = unique_ids()
    assert [a.attempt for a in attempts] == [1, 2]
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "sent"

    # Attempt 2 fails softly too: one more retry 6 h later, no second warning.
    bounce = "postmark_bounce_2.json"  # each bounce of a new email has its own Postmark ID
    postmark(client, bounce, attempts[1], django_capture_on_commit_callbacks, ID=2002)
    second_due = Boleto.objects.get(pk=sent.boleto_id).next_attempt_at
    assert timedelta(hours=6) - timedelta(minutes=1) < second_due - timezone.now()
    assert retries_due(second_due) == 1
    assert retries_due(second_due) == 0  # queued once
    attempts = unique_ids()
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert MerchantAlert.objects.filter(kind="delivery_failing").count() == 1

    # The last attempt fails: now the schedule is deactivated with that cause.
    postmark(client, bounce, attempts[2], django_capture_on_commit_callbacks, ID=2003)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert schedule.deactivation_cause == "mailbox_full"
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "undelivered"
    assert MerchantAlert.objects.filter(kind="deactivated").count() == 1

    # A late soft event about attempt 1 changes nothing.
    postmark(client, bounce, attempts[0], django_capture_on_commit_callbacks, ID=2004)
    assert OutboundEmail.objects.count() == 3
    assert EmailEvent.objects.order_by("-id").first().outcome == "stale"


def test_banner_until_acknowledged_and_scoped(
    client, merchant, owner, other_client, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    alert = MerchantAlert.objects.get()
    # Another merchant can neither see nor acknowledge it.
    banner = f"Agendamento nº {alert.schedule.number} desativado"
    assert banner not in other_client.get("/").content.decode()
    assert other_client.post(f"/alertas/{alert.pk}/ciente/").status_code == 404
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert f"Agendamento nº {alert.schedule.number} desativado" in body
    assert "Endereço de e-mail inexistente ou inválido" in body
    assert client.post(f"/alertas/{alert.pk}/ciente/").status_code == 302
    assert (
        f"Agendamento nº {alert.schedule.number} desativado" not in client.get("/").content.decode()
    )


def test_timeline_shows_issue_send_bounce_and_deactivation(
    client, owner, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    client.force_login(owner)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    body = client.get(schedule.get_absolute_url()).content.decode()
    assert "Parcela 1 emitida" in body
    assert f"Boleto da parcela 1 enviado para {sent.recipient}" in body
    assert "Provedor de e-mail: devolvido (parcela 1)" in body
    assert "User unknown" in body  # the provider's diagnostic line
    assert "Agendamento desativado — Endereço de e-mail inexistente ou inválido" in body


def test_failure_on_our_side_never_deactivates_the_customer(
    client, sent, django_capture_on_commit_callbacks
):
    # Postmark "DMARCPolicy": the receiver refused *our* domain's authentication.
    postmark(
        client,
        "postmark_bounce_1.json",
        sent,
        django_capture_on_commit_callbacks,
        Type="DMARCPolicy",
        TypeCode=512000,
        ID=5551,
        Details="smtp;550 5.7.1 Unauthenticated email from portal.example is not accepted due "
        "to domain's DMARC policy",
    )
    event = EmailEvent.objects.get()
    assert event.action == "sender"
    assert event.outcome == "recorded"
    assert Schedule.objects.get(pk=sent.schedule_id).status == ScheduleStatus.ACTIVE
    assert not MerchantAlert.objects.exists()
