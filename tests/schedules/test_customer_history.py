"""A customer's edit in the history of each of its schedules (billing.signals.customer_updated ->
schedules.receivers), as the schedule page shows it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services import customer_update
from schedules.models import ScheduleEvent
from schedules.timeline import schedule_timeline
from tests.factories import CustomerFactory, ScheduleFactory


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, email="a@x.com", phone="", name="Ana Souza")


def test_each_schedule_of_the_customer_records_the_edit(merchant, owner, customer):
    active = ScheduleFactory(merchant=merchant, customer=customer)
    cancelled = ScheduleFactory(
        merchant=merchant, customer=customer, status="cancelled", cancelled_at=timezone.now()
    )
    other_customer = ScheduleFactory(merchant=merchant)

    customer_update(customer=customer, actor=owner, email="b@y.com")

    for schedule in (active, cancelled):
        (event,) = ScheduleEvent.objects.filter(schedule=schedule)
        assert event.kind == "customer_updated"
        assert event.get_kind_display() == "Dados do cliente alterados"
        assert event.merchant_id == merchant.pk
        assert event.actor == owner
        assert event.data == {
            "changes": {"email": ["a@x.com", "b@y.com"]},
            "actor_email": owner.email,
        }
    assert not ScheduleEvent.objects.filter(schedule=other_customer).exists()


def test_customer_without_schedules_records_nothing(owner, customer):
    customer_update(customer=customer, actor=owner, name="Ana S.")
    assert not ScheduleEvent.objects.exists()


def test_timeline_says_who_when_and_from_to(merchant, owner, customer):
    schedule = ScheduleFactory(merchant=merchant, customer=customer)
    owner.first_name, owner.last_name = "Marta", "Lima"
    owner.save()
    customer_update(
        customer=customer,
        actor=owner,
        phone="(11) 98888-7777",
        email="b@y.com",
        address_state="SP",
        address_zip="01310200",
    )
    (entry,) = [e for e in schedule_timeline(schedule=schedule) if e.kind == "customer_updated"]
    assert entry.title == "Dados do cliente alterados"
    assert entry.actor == "Marta Lima"
    assert entry.detail == (
        "E-mail: a@x.com → b@y.com; Telefone: — → (11) 98888-7777; "
        "UF: PR → SP; CEP: 80020310 → 01310200"
    )


def test_detail_page_shows_the_edit(owner_client, merchant, owner, customer):
    schedule = ScheduleFactory(merchant=merchant, customer=customer)
    customer_update(customer=customer, actor=owner, email="b@y.com")
    page = owner_client.get(reverse("schedules:detail", args=[schedule.number])).content.decode()
    assert "Dados do cliente alterados — E-mail: a@x.com → b@y.com — por" in page
    assert owner.get_username() in page


def test_without_the_user_row_the_recorded_email_names_the_actor(merchant, customer):
    schedule = ScheduleFactory(merchant=merchant, customer=customer)
    ScheduleEvent.objects.create(
        merchant=merchant,
        schedule=schedule,
        kind=ScheduleEvent.Kind.CUSTOMER_UPDATED,
        actor=None,
        data={"changes": {"name": ["Ana Souza", "Ana S."]}, "actor_email": "temp@empresa.com.br"},
    )
    (entry,) = [e for e in schedule_timeline(schedule=schedule) if e.kind == "customer_updated"]
    assert entry.actor == "temp@empresa.com.br"
    assert entry.detail == "Nome: Ana Souza → Ana S."


def test_edits_appear_newest_first(merchant, owner, customer):
    schedule = ScheduleFactory(merchant=merchant, customer=customer)
    customer_update(customer=customer, actor=owner, email="b@y.com")
    customer_update(customer=customer, actor=owner, email="c@z.com")
    entries = schedule_timeline(schedule=schedule)
    details = [e.detail for e in entries if e.kind == "customer_updated"]
    assert details == ["E-mail: b@y.com → c@z.com", "E-mail: a@x.com → b@y.com"]
