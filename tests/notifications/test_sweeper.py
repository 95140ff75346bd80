from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import Boleto
from notifications.delivery import delivery_sweep
from notifications.models import EmailEvent
from schedules.generator import installments_issue_due
from tests.factories import ScheduleFactory, registered_at_bank

pytestmark = pytest.mark.django_db


def test_lost_hand_off_is_recovered_and_sent_once(merchant, django_capture_on_commit_callbacks):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    # The broker was down at commit: the hand-off callback never ran.
    with django_capture_on_commit_callbacks(execute=False):
        installments_issue_due(today=date(2026, 3, 10))
    boleto = Boleto.objects.get(schedule=schedule)
    assert boleto.delivery_status == "pending"
    # Its bank registered it; the hand-off's message was lost.
    registered_at_bank(boleto.pk)

    # Too recent: left alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweep()["handed_off"] == 0
    later = timezone.now() + timedelta(minutes=15)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweep(now=later)["handed_off"] == 1
    boleto.refresh_from_db()
    assert boleto.delivery_status == "sent"
    assert len(mail.outbox) == 1
    # Sweeping again sends nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        result = delivery_sweep(now=later + timedelta(hours=2))
    assert result["handed_off"] == 0
    assert len(mail.outbox) == 1


def test_unprocessed_events_are_processed_again(django_capture_on_commit_callbacks):
    event = EmailEvent.objects.create(
        dedupe_key="k" * 64, esp_name="Postmark", event_type="delivered", recipient="a@example.com"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = delivery_sweep(now=timezone.now() + timedelta(minutes=10))
    assert result["events"] == 1
    event.refresh_from_db()
    assert event.processed_at is not None and event.outcome == "unmatched"
