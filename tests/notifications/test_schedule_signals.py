"""notifications answers schedules' signals (schedules/signals.py), connected in ready().

boletos_issued leaves only once the issuing transaction commits; schedule_state_changed is
answered inside the transaction, so the alerts' acknowledgement commits or rolls back with the
state change."""

from datetime import timedelta

import pytest
from django.db import transaction

from billing.models import Boleto
from notifications.models import MerchantAlert
from schedules.generator import installments_issue_due
from schedules.models import ScheduleStatus
from schedules.services import schedule_cancel
from schedules.signals import boletos_issued, schedule_state_changed
from tests.factories import ScheduleFactory
from tests.schedules.deactivation import deactivated_by_bounce, today

pytestmark = pytest.mark.django_db


def test_boletos_issued_is_announced_after_commit_and_handed_off(
    merchant, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
    received = []

    def spy(sender, *, boleto_ids_by_merchant, **kwargs):
        received.append(boleto_ids_by_merchant)

    boletos_issued.connect(spy)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                installments_issue_due(schedule_id=schedule.pk)
                assert received == []  # nothing announced before the commit
    finally:
        boletos_issued.disconnect(spy)

    boleto = Boleto.objects.get(schedule=schedule, sequence=1)
    assert received == [{merchant.pk: [boleto.pk]}]
    # notifications' receiver handed it off (one batch message, run eagerly in tests).
    boleto.refresh_from_db()
    assert boleto.delivery_status != Boleto.DeliveryStatus.PENDING
    assert boleto.handed_off_at is not None


def test_a_failing_state_change_answer_rolls_the_cancel_back(
    client, merchant, django_capture_on_commit_callbacks
):
    schedule, _ = deactivated_by_bounce(
        client, django_capture_on_commit_callbacks, merchant=merchant
    )
    alert = MerchantAlert.objects.get(schedule=schedule)

    def broken(sender, **kwargs):
        raise RuntimeError("receiver failed")

    schedule_state_changed.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            schedule_cancel(schedule=schedule)
    finally:
        schedule_state_changed.disconnect(broken)

    schedule.refresh_from_db()
    alert.refresh_from_db()
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert alert.acknowledged_at is None

    schedule_cancel(schedule=schedule)
    schedule.refresh_from_db()
    alert.refresh_from_db()
    assert schedule.status == ScheduleStatus.CANCELLED
    assert alert.acknowledged_at == schedule.cancelled_at
