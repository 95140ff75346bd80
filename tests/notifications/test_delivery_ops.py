"""What the merchant and operations see besides deactivations: failures on our side alert
operations (at most once per cause per interval) and never touch the customer; boletos with no
delivery confirmation a day after sending get a "not confirmed" banner; and every decision,
send and stored webhook is one ``key=value`` log line."""

import base64
import json
import logging
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.test import override_settings

from billing.models import Boleto
from notifications.alerts import ops_alert
from notifications.delivery import delivery_sweep, delivery_unconfirmed_flag
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
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
    "OPS_ALERT_EMAILS": ["ops@example.com"],
}
# The installments below are due 2026-03-20; "now" for the sweeper is set around them.
SENT_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def send_boleto(merchant, *, first_due=date(2026, 3, 20)) -> OutboundEmail:
    schedule = ScheduleFactory(merchant=merchant, first_due_date=first_due)
    installments_issue_due(today=first_due - timedelta(days=5))
    boleto = Boleto.objects.get(schedule=schedule)
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    with override_settings(**SETTINGS):
        outbound = boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)
    # anymail's test backend numbers messages by outbox position; a real ESP's ids are unique.
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        message_id=f"msg-{uuid.uuid4()}", sent_at=SENT_AT
    )
    outbound.refresh_from_db()
    return outbound


@pytest.fixture
def sent(merchant):
    return send_boleto(merchant)


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


def our_side(client, outbound, capture, *, event_id, kind="DMARCPolicy", details=None):
    """A Postmark bounce about our side: DMARC (provider_blocked) or an API error on our
    message (sending_problem)."""
    return postmark(
        client,
        "postmark_bounce_1.json",
        outbound,
        capture,
        Type=kind,
        TypeCode={"DMARCPolicy": 512000, "SMTPApiError": 1024000}[kind],
        ID=event_id,
        Details=details
        or "smtp;550 5.7.1 Unauthenticated email from portal.example is not accepted due to "
        "domain's DMARC policy",
    )


def ops_mail():
    return [m for m in mail.outbox if m.to == ["ops@example.com"]]


# --- failures on our side ----------------------------------------------------------------------


def test_failure_on_our_side_shows_on_the_boleto_and_asks_the_merchant_nothing(
    client, merchant, owner, sent, django_capture_on_commit_callbacks
):
    our_side(client, sent, django_capture_on_commit_callbacks, event_id=7101)
    client.force_login(owner)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    for url in (schedule.get_absolute_url(), "/boletos/", "/"):
        body = client.get(url).content.decode()
        assert "Envio atrasado — problema na plataforma" in body, url
        assert "Corrija" not in body and "corrija" not in body, url
    assert "Enviado</td>" not in client.get(schedule.get_absolute_url()).content.decode()
    assert not MerchantAlert.objects.exists()
    assert [m for m in mail.outbox if m.to == [merchant.alert_email]] == []


def test_failure_on_our_side_alerts_ops_once_per_cause_and_never_the_customer(
    client, merchant, sent, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="notifications")
    our_side(client, sent, django_capture_on_commit_callbacks, event_id=7001)

    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.status == ScheduleStatus.ACTIVE  # the customer is not at fault
    # Not "enviado": the boleto shows it is late because of the platform.
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "delayed"
    assert not MerchantAlert.objects.exists()
    (alert,) = ops_mail()
    assert "Mensagem recusada pelo servidor do cliente" in alert.subject
    assert "5.7.1" in alert.body and "DMARC" in alert.body
    assert f"Agendamento nº {schedule.number}" in alert.body
    assert merchant.alert_email not in alert.to  # the merchant is not emailed about it

    # The same cause again within the hour (another boleto): logged, not emailed again.
    other = send_boleto(merchant, first_due=date(2026, 3, 25))
    our_side(client, other, django_capture_on_commit_callbacks, event_id=7002)
    assert len(ops_mail()) == 1
    failures = [
        fields(r.getMessage()) for r in caplog.records if "event=sender_side_failure" in r.message
    ]
    assert len(failures) == 2
    assert failures[1]["boleto"] == str(other.boleto_id)
    assert failures[1]["schedule_id"] == str(other.schedule_id)
    assert failures[1]["decision"] == "ops_alert"
    (throttled,) = [
        fields(r.getMessage()) for r in caplog.records if "event=ops_alert_throttled" in r.message
    ]
    assert (throttled["cause"], throttled["decision"]) == ("provider_blocked", "log_only")
    assert throttled["boleto"] == str(other.boleto_id)

    # Another cause is its own alert.
    our_side(
        client,
        other,
        django_capture_on_commit_callbacks,
        event_id=7003,
        kind="SMTPApiError",
        details="Message rejected by the API",
    )
    assert len(ops_mail()) == 2
    assert "Problema no envio" in ops_mail()[1].subject
    assert not MerchantAlert.objects.exists()
    assert Schedule.objects.filter(status=ScheduleStatus.DEACTIVATED).count() == 0


def test_ops_alert_goes_to_admins_without_an_ops_address_and_again_after_the_interval():
    with override_settings(OPS_ALERT_EMAILS=[], ADMINS=[("Ops", "admins@example.com")]):
        assert ops_alert(cause="provider_blocked", diagnostic="550 5.7.1 blocked") is True
        assert ops_alert(cause="provider_blocked") is False
    (message,) = mail.outbox
    assert message.to == ["admins@example.com"]
    with override_settings(OPS_ALERT_EMAILS=["ops@example.com"], OPS_ALERT_INTERVAL=0):
        # With no window, every event is its own alert.
        assert ops_alert(cause="sending_problem") is True
        assert ops_alert(cause="sending_problem") is True
    assert len(mail.outbox) == 3


def test_a_failed_ops_email_is_sent_by_the_retry(settings):
    settings.OPS_ALERT_EMAILS = ["ops@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    with pytest.raises(OSError):
        ops_alert(cause="provider_blocked")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert ops_alert(cause="provider_blocked") is True  # the flag was released
    assert len(mail.outbox) == 1


@pytest.mark.redis
def test_ops_throttle_is_shared_through_redis():
    import redis as redis_lib
    from django.conf import settings as django_settings

    from notifications import coordination

    prefix = f"test-{uuid.uuid4().hex}:"
    client = redis_lib.Redis.from_url(django_settings.REDIS_URL)
    try:
        with override_settings(
            COORDINATION_REDIS_URL=django_settings.REDIS_URL,
            COORDINATION_KEY_PREFIX=prefix,
            OPS_ALERT_EMAILS=["ops@example.com"],
        ):
            assert ops_alert(cause="provider_blocked") is True
            assert client.ttl(prefix + "notifications:ops-alert:provider_blocked") > 3500
            coordination.reset_local()  # another process has no local memory of it
            assert ops_alert(cause="provider_blocked") is False
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
    assert len(mail.outbox) == 1


# --- boletos without delivery confirmation -----------------------------------------------------


def test_boleto_unconfirmed_after_a_day_gets_a_banner_not_a_deactivation(
    client, owner, other_client, sent, django_capture_on_commit_callbacks
):
    assert delivery_unconfirmed_flag(now=SENT_AT + timedelta(hours=23)) == 0  # too soon
    with django_capture_on_commit_callbacks(execute=True):
        result = delivery_sweep(now=SENT_AT + timedelta(hours=25))
    assert result["unconfirmed_alerts"] == 1
    alert = MerchantAlert.objects.get()
    assert (alert.kind, alert.boleto_id, alert.schedule_id) == (
        "delivery_unconfirmed",
        sent.boleto_id,
        sent.schedule_id,
    )
    assert sent.recipient in alert.diagnostic
    assert Schedule.objects.get(pk=sent.schedule_id).status == ScheduleStatus.ACTIVE
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status == "sent"
    assert not [m for m in mail.outbox if alert.merchant.alert_email in m.to]  # a banner only
    # Once per boleto.
    assert delivery_unconfirmed_flag(now=SENT_AT + timedelta(hours=30)) == 0

    number = alert.schedule.number
    banner = f"Boleto do agendamento nº {number}: entrega não confirmada"
    assert banner not in other_client.get("/").content.decode()
    assert other_client.post(f"/alertas/{alert.pk}/ciente/").status_code == 404
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert banner in body
    assert "vencimento 20/03/2026" in body
    assert f"/boletos/{sent.boleto_id}/pdf/" in body or "Baixar PDF" in body


def test_a_late_delivery_event_answers_the_banner(
    client, owner, sent, django_capture_on_commit_callbacks
):
    delivery_unconfirmed_flag(now=SENT_AT + timedelta(hours=25))
    postmark(client, "postmark_delivery_1.json", sent, django_capture_on_commit_callbacks)
    alert = MerchantAlert.objects.get()
    assert alert.acknowledged_at is not None
    client.force_login(owner)
    assert "entrega não confirmada" not in client.get("/").content.decode()


def test_deferred_only_or_our_side_failure_still_counts_as_unconfirmed(
    client, merchant, sent, django_capture_on_commit_callbacks
):
    postmark(  # Postmark Transient: anymail "deferred", the ESP is still trying
        client,
        "postmark_bounce_1.json",
        sent,
        django_capture_on_commit_callbacks,
        Type="Transient",
        TypeCode=2,
        ID=8001,
        Details="smtp;421 4.4.2 message delayed",
    )
    assert OutboundEmail.objects.get(pk=sent.pk).state == 1  # deferred
    other = send_boleto(merchant, first_due=date(2026, 3, 25))
    our_side(client, other, django_capture_on_commit_callbacks, event_id=8002)
    assert delivery_unconfirmed_flag(now=SENT_AT + timedelta(hours=25)) == 2


@pytest.mark.parametrize("case", ["delivered", "bounced", "no_esp", "past_due"])
def test_what_is_not_flagged(client, merchant, sent, django_capture_on_commit_callbacks, case):
    now = SENT_AT + timedelta(hours=25)
    if case == "delivered":
        postmark(client, "postmark_delivery_1.json", sent, django_capture_on_commit_callbacks)
    elif case == "bounced":  # a failure: the deactivation alert says it already
        postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
        MerchantAlert.objects.all().delete()
    elif case == "no_esp":  # files / SMTP to a mail catcher: no events ever come
        OutboundEmail.objects.filter(pk=sent.pk).update(esp_name="")
    else:
        now = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)  # due 2026-03-20
    assert delivery_unconfirmed_flag(now=now) == 0
    assert not MerchantAlert.objects.filter(kind="delivery_unconfirmed").exists()


# --- structured log lines ------------------------------------------------------------------------

_KV = r"\w+=(?:'[^']*'|\"[^\"]*\"|\S+)"


def fields(message: str) -> dict[str, str]:
    assert re.fullmatch(rf"{_KV}(?: {_KV})*", message), message
    return dict(re.findall(r"(\w+)=('[^']*'|\"[^\"]*\"|\S+)", message))


def test_one_key_value_line_per_send_webhook_and_decision(
    client, merchant, sent, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="notifications")
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("notifications")]

    (stored,) = [fields(m) for m in lines if m.startswith("event=webhook_stored ")]
    event = EmailEvent.objects.get()
    assert stored["email_event"] == str(event.pk) and stored["esp"] == "Postmark"

    (decision,) = [fields(m) for m in lines if m.startswith("event=delivery_decision ")]
    assert decision["schedule_id"] == str(schedule.pk)
    assert decision["schedule_number"] == str(schedule.number)
    assert "schedule" not in decision
    assert decision["boleto"] == str(sent.boleto_id)
    assert decision["merchant"] == str(merchant.pk)
    assert (decision["action"], decision["cause"], decision["decision"]) == (
        "hard",
        "invalid_address",
        "deactivated",
    )
    assert decision["status"] == "5.1.1" and decision["outcome"] == "applied"
    assert any(m.startswith("event=merchant_alert ") for m in lines)
    for message in lines:
        if message.startswith("event="):
            fields(message)  # every line of ours is key=value

    # Sending: one line per email.
    caplog.clear()
    other = send_boleto(merchant, first_due=date(2026, 3, 26))
    (sent_line,) = [
        fields(r.getMessage()) for r in caplog.records if "event=boleto_sent" in r.message
    ]
    assert sent_line["boleto"] == str(other.boleto_id)
    assert sent_line["schedule_id"] == str(other.schedule_id)
    assert sent_line["schedule_number"] == str(other.schedule.number)
    assert "schedule" not in sent_line  # never a bare schedule=: id or number, named
    assert (sent_line["status"], sent_line["attempt"]) == ("sent", "1")
    assert sent_line["decision"] == "sent"


def test_decision_lines_for_unmatched_and_duplicate_replays(
    client, sent, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="notifications")
    postmark(client, "postmark_delivery_1.json", sent, django_capture_on_commit_callbacks)
    postmark(
        client,
        "postmark_delivery_1.json",
        sent,
        django_capture_on_commit_callbacks,
        MessageID="nobody",
    )
    decisions = [
        fields(r.getMessage()) for r in caplog.records if "event=delivery_decision" in r.message
    ]
    assert [d["decision"] for d in decisions] == ["delivered", "unmatched"]
    assert (decisions[1]["schedule_id"], decisions[1]["schedule_number"]) == ("-", "-")
    assert decisions[1]["merchant"] == decisions[1]["boleto"] == "-"
