"""A Brevo ``deferred`` carrying a 5.1.1 (issue 10 item 6): Brevo still retries, so nothing is
counted or resent by us, but the merchant sees the address marked "suspeito"."""

import base64
import json

import pytest
from django.core import mail
from django.test import override_settings

from billing.models import Boleto
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from schedules.models import Schedule, ScheduleStatus
from tests import WEBHOOKS
from tests.notifications import test_policy
from tests.notifications.test_policy import SETTINGS

pytestmark = pytest.mark.django_db

SECRET = SETTINGS["ANYMAIL"]["WEBHOOK_SECRET"]
sent = test_policy.sent  # the fixture: a boleto of an active schedule, emailed


def brevo(client, capture, outbound, **changes):
    payload = json.loads((WEBHOOKS / "brevo_hard_bounce_1.json").read_text())
    payload.update({"message-id": outbound.message_id, "email": outbound.recipient, **changes})
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    with override_settings(**SETTINGS), capture(execute=True) as callbacks:
        response = client.post(
            "/anymail/brevo/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
    assert response.status_code == 200
    return callbacks


def test_brevo_deferral_with_5_1_1_marks_the_address_suspect_without_a_resend(
    client, owner, sent, django_capture_on_commit_callbacks
):
    OutboundEmail.objects.filter(pk=sent.pk).update(esp_name="brevo")
    brevo(
        client,
        django_capture_on_commit_callbacks,
        sent,
        event="deferred",
        reason="550 5.1.1 <x@example.com>: Recipient address rejected: User unknown",
    )
    event = EmailEvent.objects.get()
    assert (event.action, event.cause, event.effect) == ("record", "invalid_address", "suspect")
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.status == ScheduleStatus.ACTIVE
    # No resend by us while Brevo still retries: no second attempt, nothing queued, no alert.
    assert OutboundEmail.objects.filter(boleto_id=sent.boleto_id).count() == 1
    assert Boleto.objects.get(pk=sent.boleto_id).delivery_status != "queued"
    assert not MerchantAlert.objects.exists()
    assert mail.outbox == []

    client.force_login(owner)
    body = client.get(schedule.get_absolute_url()).content.decode()
    assert "suspeito" in body
    assert "Resposta do provedor" in body and "5.1.1" in body
    assert "endereço marcado como suspeito" in body  # the timeline's recorded effect

    # Brevo then delivers it: the address is no longer suspect.
    brevo(client, django_capture_on_commit_callbacks, sent, event="delivered", reason="", id=2)
    body = client.get(schedule.get_absolute_url()).content.decode()
    assert "badge email-suspect" not in body


def test_a_plain_deferral_is_not_suspect(client, owner, sent, django_capture_on_commit_callbacks):
    brevo(
        client, django_capture_on_commit_callbacks, sent, event="deferred", reason="452 4.2.2 full"
    )
    assert EmailEvent.objects.get().effect == "deferred"
    client.force_login(owner)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert "badge email-suspect" not in client.get(schedule.get_absolute_url()).content.decode()
