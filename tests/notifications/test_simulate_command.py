from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from billing.models import Boleto
from notifications.models import MerchantAlert
from notifications.sending import boleto_send
from schedules.generator import installments_issue_due
from schedules.models import Schedule
from tests.factories import ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(merchant):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20), number=42)
    installments_issue_due(today=date(2026, 3, 10))
    boleto = Boleto.objects.get(schedule=schedule)
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    # A plain (non-anymail) backend, as locally: the email is identified by our Message-ID.
    outbound = boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)
    assert outbound.message_id.startswith("<")
    mail.outbox.clear()
    return outbound


@override_settings(ANYMAIL={"WEBHOOK_SECRET": "dev:secret"})
def test_hard_bounce_deactivates_and_alerts(sent, merchant, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("simulate_delivery_event", "42", "--event", "hard-bounce", stdout=out)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.status == "deactivated"
    assert schedule.deactivation_cause == "invalid_address"
    assert "Desativado" in out.getvalue()
    assert MerchantAlert.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[merchant.alert_email]]


@override_settings(ANYMAIL={"WEBHOOK_SECRET": "dev:secret"})
@pytest.mark.parametrize(
    ("event", "status", "cause"),
    [
        ("spam-complaint", "deactivated", "spam_complaint"),
        ("unsubscribe", "deactivated", "unsubscribed"),
        ("delivered", "active", ""),
        ("mailbox-full", "active", ""),
    ],
)
def test_each_event(sent, event, status, cause, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("simulate_delivery_event", "42", "--event", event, stdout=StringIO())
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert (schedule.status, schedule.deactivation_cause) == (status, cause)


@override_settings(ANYMAIL={"WEBHOOK_SECRET": "dev:secret"})
def test_unknown_schedule_is_a_clear_error(sent):
    with pytest.raises(CommandError, match="Nenhum e-mail enviado para o agendamento nº 999"):
        call_command("simulate_delivery_event", "999", stdout=StringIO())
