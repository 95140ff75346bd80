from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError
from django.utils import timezone

from schedules import services
from schedules.models import DeactivationCause, Schedule, ScheduleEvent, ScheduleStatus
from tests.factories import CustomerFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


def create(merchant, customer=None, **overrides):
    params = {
        "merchant": merchant,
        "customer": customer or CustomerFactory(merchant=merchant),
        "amount": Decimal("99.90"),
        "frequency_months": 1,
        "first_due_date": timezone.localdate() + timedelta(days=30),
        "lead_days": 10,
    }
    params.update(overrides)
    return services.schedule_create(**params)


class TestCreate:
    def test_cursor_points_at_first_installment_issue_date(self, merchant):
        schedule = create(merchant, first_due_date=date(2026, 12, 31), today=date(2026, 11, 1))
        # 31/12 is not a bank business day: due 04/01/2027 (Mon); issued 10 days before.
        assert schedule.next_sequence == 1
        assert schedule.next_issue_on == date(2027, 1, 4) - timedelta(days=10)

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"amount": Decimal("0.00")}, "amount"),
            ({"amount": Decimal("100000000.00")}, "amount"),
            ({"frequency_months": 5}, "frequency_months"),
            ({"lead_days": 0}, "lead_days"),
            ({"lead_days": 61}, "lead_days"),
        ],
    )
    def test_invalid_values_raise_and_save_nothing(self, merchant, overrides, field):
        with pytest.raises(ValidationError) as exc:
            create(merchant, **overrides)
        assert field in exc.value.message_dict
        assert not Schedule.objects.exists()
        merchant.refresh_from_db()
        assert merchant.next_schedule_number == 1  # no number burnt

    def test_customer_of_another_merchant_is_refused(self, merchant, other_merchant):
        with pytest.raises(ValidationError) as exc:
            create(merchant, customer=CustomerFactory(merchant=other_merchant))
        assert exc.value.message_dict["customer"] == [services.CUSTOMER_NOT_FOUND]


class TestDeactivate:
    def test_deactivates_once_with_cause_and_history(self, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        assert services.schedule_deactivate(
            schedule=schedule, cause=DeactivationCause.INVALID_ADDRESS
        )
        assert schedule.status == ScheduleStatus.DEACTIVATED
        assert schedule.deactivation_cause == DeactivationCause.INVALID_ADDRESS
        assert schedule.deactivated_at is not None
        # Applying it again changes nothing and writes nothing.
        assert not services.schedule_deactivate(
            schedule=schedule, cause=DeactivationCause.MAILBOX_FULL
        )
        schedule.refresh_from_db()
        assert schedule.deactivation_cause == DeactivationCause.INVALID_ADDRESS
        assert schedule.events.filter(kind=ScheduleEvent.Kind.DEACTIVATED).count() == 1

    def test_cancelled_schedule_is_not_deactivated(self, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        services.schedule_cancel(schedule=schedule)
        assert not services.schedule_deactivate(
            schedule=schedule, cause=DeactivationCause.SPAM_COMPLAINT
        )


class TestDatabaseInvariants:
    def test_deactivated_without_cause_is_rejected_by_the_database(self, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        with pytest.raises(IntegrityError), transaction.atomic():
            Schedule.objects.filter(pk=schedule.pk).update(
                status=ScheduleStatus.DEACTIVATED, deactivated_at=timezone.now()
            )

    def test_amount_out_of_range_is_rejected_by_the_database(self, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        with pytest.raises(IntegrityError), transaction.atomic():
            Schedule.objects.filter(pk=schedule.pk).update(amount=Decimal("0"))

    def test_history_is_append_only(self, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        event = services.event_record(schedule=schedule, kind=ScheduleEvent.Kind.NOTE)
        with pytest.raises(ValueError):
            event.save()
        with pytest.raises(ValueError):
            event.delete()

    @pytest.mark.postgres
    def test_history_is_append_only_in_postgresql_too(self, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        services.event_record(schedule=schedule, kind=ScheduleEvent.Kind.NOTE)
        assert connection.vendor == "postgresql"
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            ScheduleEvent.objects.filter(schedule=schedule).update(kind="created")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            ScheduleEvent.objects.filter(schedule=schedule).delete()
