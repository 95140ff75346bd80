"""The bank's beat jobs: the day's remessa of file channels (once per business day after
BANK_REMESSA_TIME) and the alert for registrations still unconfirmed."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.test import override_settings

from billing.models import Boleto, Remessa
from billing.registration import business_days_after, registrations_overdue_alert
from billing.remessas import remessa_generate, remessas_generate_due
from notifications.models import MerchantAlert
from portal.timezones import business_tz
from tests.billing.bank.flow_helpers import file_channel_merchant, issue, run_on_commit

pytestmark = pytest.mark.django_db


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=business_tz())


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5 or day in {date(day.year, 1, 1), date(day.year, 12, 25)}:
        day += timedelta(days=1)
    return day


@override_settings(BANK_REMESSA_TIME="17:00")
def test_scheduled_remessa_once_per_business_day_after_the_time(merchant):
    file_merchant = file_channel_merchant()
    issue(file_merchant)
    issue(merchant)  # the test bank's merchant registers at once: nothing scheduled for it
    day = business_days_after(date.today(), 1)

    assert remessas_generate_due(now=at(day, 16, 45)) == 0
    assert run_on_commit(remessas_generate_due, now=at(day, 17, 0)) == 1
    remessa = Remessa.objects.get(merchant=file_merchant)
    assert (remessa.trigger, remessa.movements) == ("scheduled", {"01": 1})

    # Later the same day: already done, even with something new to send.
    issue(file_merchant)
    Remessa.objects.filter(pk=remessa.pk).update(created_at=at(day, 17, 0))
    assert remessas_generate_due(now=at(day, 17, 15)) == 0
    assert remessas_generate_due(now=at(day, 23, 45)) == 0
    # The next business day it goes.
    assert run_on_commit(remessas_generate_due, now=at(next_weekday(day), 17, 15)) == 1
    assert Remessa.objects.filter(merchant=file_merchant).count() == 2
    assert not Remessa.objects.filter(merchant=merchant, trigger="scheduled").exists()


@override_settings(BANK_REMESSA_TIME="17:00")
def test_no_scheduled_remessa_on_weekends():
    file_merchant = file_channel_merchant()
    issue(file_merchant)
    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7)
    assert remessas_generate_due(now=at(saturday, 18)) == 0
    assert not Remessa.objects.filter(merchant=file_merchant).exists()


def test_a_manual_remessa_does_not_count_as_the_scheduled_one():
    file_merchant = file_channel_merchant()
    issue(file_merchant)
    run_on_commit(remessa_generate, merchant=file_merchant, trigger=Remessa.Trigger.MANUAL)
    issue(file_merchant)
    day = business_days_after(date.today(), 1)
    assert run_on_commit(remessas_generate_due, now=at(day, 18)) == 1


def test_registration_overdue_alerts_once():
    merchant = file_channel_merchant()
    boleto = issue(merchant)
    remessa = run_on_commit(remessa_generate, merchant=merchant, trigger=Remessa.Trigger.MANUAL)
    sent_on = remessa.created_at.astimezone(business_tz()).date()

    # registration_alert_days defaults to 2 business days.
    assert run_on_commit(registrations_overdue_alert, today=business_days_after(sent_on, 1)) == 0
    threshold = business_days_after(sent_on, 2)
    run_on_commit(registrations_overdue_alert, today=threshold)
    run_on_commit(registrations_overdue_alert, today=threshold + timedelta(days=1))

    alert = MerchantAlert.objects.get(boleto=boleto)
    assert alert.kind == MerchantAlert.Kind.REGISTRATION_OVERDUE
    assert remessa.filename in alert.diagnostic
    assert len([m for m in mail.outbox if merchant.alert_email in m.to]) == 1


def test_registered_boletos_are_never_overdue(merchant):
    boleto = issue(merchant)
    assert boleto.bank.registration_status == Boleto.Registration.REGISTERED
    far = business_days_after(date.today(), 3)
    assert run_on_commit(registrations_overdue_alert, today=far) == 0
    assert not MerchantAlert.objects.filter(boleto=boleto).exists()
