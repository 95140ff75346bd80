"""Any order, any duplicates: the outcome of a set of provider events about one email depends
only on which events there are, and nothing is applied twice (email-delivery.md §5)."""

from datetime import date

import pytest
from anymail.signals import AnymailTrackingEvent
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Boleto
from notifications.delivery import email_event_process
from notifications.inbox import email_event_store
from notifications.models import EmailEvent, MerchantAlert
from notifications.sending import boleto_send
from schedules.generator import installments_issue_due
from schedules.models import Schedule
from tests.factories import MerchantFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

# (event_type, Postmark raw payload) for one email; the message id and address are filled in.
EVENTS = {
    "delivered": ("delivered", {"RecordType": "Delivery", "DeliveredAt": "2026-03-10T10:00:00Z"}),
    "opened": ("opened", {"RecordType": "Open", "ReceivedAt": "2026-03-10T11:00:00Z"}),
    "hard": (
        "bounced",
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "ID": 12,
            "Details": "smtp;550 5.1.1 user unknown",
        },
    ),
    "complaint": ("complained", {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "ID": 13}),
}
NEGATIVE_CAUSES = {"hard": "invalid_address", "complaint": "spam_complaint"}


def deliver(kind: str, outbound) -> None:
    event_type, raw = EVENTS[kind]
    raw = {**raw, "MessageID": outbound.message_id, "Email": outbound.recipient}
    stored_id = email_event_store(
        event=AnymailTrackingEvent(
            event_type=event_type,
            recipient=outbound.recipient,
            message_id=outbound.message_id,
            esp_event=raw,
            event_id=str(raw.get("ID", "")) or None,
        ),
        esp_name="Postmark",
    )
    if stored_id is not None:  # a duplicate is ignored by the inbox
        email_event_process(email_event_id=stored_id)


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.sampled_from(sorted(EVENTS)), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_outcome_does_not_depend_on_order_or_duplicates(kinds, rnd):
    with transaction.atomic():
        merchant = MerchantFactory()
        schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
        installments_issue_due(today=date(2026, 3, 10))
        boleto = Boleto.objects.get(schedule=schedule)
        Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
        outbound = boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)

        order = list(kinds)
        rnd.shuffle(order)
        for kind in order + order[: len(order) // 2]:  # replays of part of the batch
            deliver(kind, outbound)

        schedule.refresh_from_db()
        boleto.refresh_from_db()
        negatives = {k for k in kinds if k in NEGATIVE_CAUSES}
        assert (schedule.status == "deactivated") == bool(negatives)
        if negatives:
            assert schedule.deactivation_cause in {NEGATIVE_CAUSES[k] for k in negatives}
            assert boleto.delivery_status == "undelivered"
        elif "delivered" in kinds:
            assert boleto.delivery_status == "delivered"
        assert MerchantAlert.objects.filter(schedule=schedule).count() == len(negatives and [1])
        assert schedule.events.filter(kind="deactivated").count() == (1 if negatives else 0)
        assert EmailEvent.objects.filter(outbound_email=outbound).count() == len(set(kinds))
        assert Schedule.objects.filter(pk=schedule.pk).count() == 1
        transaction.set_rollback(True)
