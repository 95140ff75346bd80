"""Builds deactivated schedules the way production does: the generator issues an installment, it
is emailed through anymail's test ESP, and a real-format provider bounce posted to the real
tracking webhook deactivates the schedule (with its diagnostic) and alerts the merchant."""

import base64
import json
from datetime import date, timedelta

from django.test import override_settings
from django.utils import timezone

from billing.models import Boleto
from notifications.models import OutboundEmail
from notifications.sending import boleto_send
from schedules import dates, services
from schedules.generator import installments_issue_due
from schedules.models import DeactivationCause, Schedule, ScheduleStatus
from tests import WEBHOOKS
from tests.factories import ScheduleFactory, registered_at_bank

SECRET = "heldout:webhook-secret"
ESP = {
    "EMAIL_BACKEND": "anymail.backends.test.EmailBackend",
    "ANYMAIL": {"WEBHOOK_SECRET": SECRET},
}
DIAGNOSTIC_TEXT = "User unknown"  # in postmark_bounce_1.json's Details (smtp;550 5.1.1 ...)


def today() -> date:
    return timezone.localdate()


def issue_and_send(schedule: Schedule, *, on: date) -> OutboundEmail:
    """Issue what is due for ``schedule`` on ``on`` and email its latest installment."""
    installments_issue_due(today=on, schedule_id=schedule.pk)
    boleto = Boleto.objects.filter(schedule=schedule, status="issued").latest("sequence")
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    registered_at_bank(boleto.pk)
    with override_settings(**ESP):
        return boleto_send(merchant_id=schedule.merchant_id, boleto_id=boleto.pk)


def post_bounce(client, capture, outbound: OutboundEmail, name="postmark_bounce_1.json", **changes):
    payload = json.loads((WEBHOOKS / name).read_text())
    payload.update({"MessageID": outbound.message_id, "Email": outbound.recipient, **changes})
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    with override_settings(**ESP), capture(execute=True):
        response = client.post(
            "/anymail/postmark/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
    assert response.status_code == 200
    return response


def deactivated_by_bounce(client, capture, *, merchant, days_ago: int = 40, **factory):
    """A monthly schedule whose first installment (due ``days_ago`` days ago) bounced hard: it
    is deactivated for an invalid address since then, with the provider's diagnostic, and its
    generator cursor stands at installment 2 (everything later was missed)."""
    first_due = today() - timedelta(days=days_ago)
    schedule = ScheduleFactory(merchant=merchant, first_due_date=first_due, **factory)
    outbound = issue_and_send(schedule, on=schedule.next_issue_on)
    post_bounce(client, capture, outbound)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert schedule.deactivation_cause == DeactivationCause.INVALID_ADDRESS
    assert schedule.next_sequence == 2
    return schedule, outbound


def deactivated_for(cause: str, *, merchant, days_ago: int = 40, **factory) -> Schedule:
    """Like deactivated_by_bounce, for causes reached after our retries (mailbox full, server
    unavailable): the final state the policy leaves, through its services."""
    first_due = today() - timedelta(days=days_ago)
    schedule = ScheduleFactory(merchant=merchant, first_due_date=first_due, **factory)
    outbound = issue_and_send(schedule, on=schedule.next_issue_on)
    Boleto.objects.filter(pk=outbound.boleto_id).update(delivery_status="undelivered")
    assert services.schedule_deactivate(
        schedule=schedule,
        cause=cause,
        boleto_id=outbound.boleto_id,
        diagnostic="smtp;452 4.2.2 Mailbox full",
    )
    schedule.refresh_from_db()
    return schedule


def expected_missed(schedule: Schedule, on: date | None = None) -> list[int]:
    """Installments whose issue date passed, from the cursor on, computed independently."""
    on = on or today()
    sequences, sequence = [], schedule.next_sequence
    while (
        dates.due_date(schedule.first_due_date, schedule.frequency_months, sequence)
        - timedelta(days=schedule.lead_days)
        <= on
    ):
        sequences.append(sequence)
        sequence += 1
    return sequences
