"""A form submitted twice creates once (issue 10 item 14).

The new-schedule and new-customer forms carry a one-time token issued with the page; the created
row stores it under a unique constraint, so a double click, a retried request or a replay of the
same page never creates a second schedule (each billing the customer) or customer. Concurrent
duplicates of a CPF/CNPJ are a form error, never an IntegrityError 500.

Real PostgreSQL transactions: 20 threads, each with its own database session and its own logged
in browser, post at the same moment.
"""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Customer
from schedules.models import Schedule, ScheduleEvent
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONCURRENT = 20
CREATE = reverse("schedules:create")
CUSTOMER_CREATE = reverse("billing:customer_create")


def form_token(client, url) -> str:
    """The token the page issues with its form."""
    found = re.search(r'name="form_token" value="([^"]+)"', client.get(url).content.decode())
    assert found, "the form carries no one-time token"
    return found.group(1)


def schedule_data(**overrides):
    data = {
        "amount": "189,90",
        "frequency_months": "1",
        "first_due_date": (timezone.localdate() + timedelta(days=40)).isoformat(),
        "lead_days": "10",
        "description": "Mensalidade",
        "action": "create",
    }
    data.update(overrides)
    return data


def customer_data(prefix="", **overrides):
    data = {
        "name": "Joana Prado",
        "document": "529.982.247-25",
        "email": "joana@example.com",
        "phone": "",
        "address_street": "Rua XV de Novembro, 50",
        "address_district": "Centro",
        "address_city": "Curitiba",
        "address_state": "PR",
        "address_zip": "80020-310",
    }
    data.update(overrides)
    return {f"{prefix}{key}": value for key, value in data.items()}


def post_at_once(user, url, payloads: list[dict]):
    """POST each payload from its own thread (own client, own database session), all released
    together; the responses in payload order. A server error is a 500 response, not a raise."""
    clients = []
    for _ in payloads:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(len(payloads))
    responses: list = [None] * len(payloads)
    errors = []

    def submit(index):
        try:
            barrier.wait(timeout=60)
            responses[index] = clients[index].post(url, payloads[index])
        except Exception as exc:  # pragma: no cover - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return responses


def test_twenty_identical_posts_create_one_schedule(merchant, owner):
    customer = CustomerFactory(merchant=merchant)
    browser = Client()
    browser.force_login(owner)
    data = schedule_data(
        customer_mode="existing", customer=customer.pk, form_token=form_token(browser, CREATE)
    )

    responses = post_at_once(owner, CREATE, [data] * CONCURRENT)

    schedule = Schedule.objects.get()  # one, not twenty
    assert ScheduleEvent.objects.filter(kind="created").count() == 1
    assert [r.status_code for r in responses] == [302] * CONCURRENT
    assert {r.url for r in responses} == {schedule.get_absolute_url()}
    merchant.refresh_from_db()
    assert merchant.next_schedule_number == schedule.number + 1  # no number used up


def test_twenty_identical_posts_with_a_new_customer_create_one_of_each(merchant, owner):
    browser = Client()
    browser.force_login(owner)
    data = {
        **schedule_data(customer_mode="new", form_token=form_token(browser, CREATE)),
        **customer_data(prefix="cliente-"),
    }

    responses = post_at_once(owner, CREATE, [data] * CONCURRENT)

    schedule = Schedule.objects.get()
    assert Customer.objects.get() == schedule.customer
    assert [r.status_code for r in responses] == [302] * CONCURRENT
    assert {r.url for r in responses} == {schedule.get_absolute_url()}


def test_twenty_identical_posts_of_the_customer_form_register_one_customer(merchant, owner):
    browser = Client()
    browser.force_login(owner)
    data = {**customer_data(), "form_token": form_token(browser, CUSTOMER_CREATE)}

    responses = post_at_once(owner, CUSTOMER_CREATE, [data] * CONCURRENT)

    Customer.objects.get()
    assert [r.status_code for r in responses] == [302] * CONCURRENT
    assert {r.url for r in responses} == {reverse("billing:customer_list")}


def test_the_same_document_from_twenty_forms_at_once_is_a_form_error(merchant, owner):
    """Twenty different pages (twenty tokens) registering the same CPF: one customer, and each
    other page says the CPF is already registered."""
    browser = Client()
    browser.force_login(owner)
    payloads = [
        {**customer_data(), "form_token": form_token(browser, CUSTOMER_CREATE)}
        for _ in range(CONCURRENT)
    ]

    responses = post_at_once(owner, CUSTOMER_CREATE, payloads)

    Customer.objects.get()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (CONCURRENT - 1) + [302], statuses
    for response in responses:
        if response.status_code == 200:
            assert "Já existe um cliente com este CPF/CNPJ." in response.content.decode()


def test_the_same_new_customer_from_twenty_schedule_forms_at_once(merchant, owner):
    """Twenty new-schedule pages for the same new customer: one customer and one schedule; the
    others are told the CPF is already registered (choose it as a registered customer)."""
    browser = Client()
    browser.force_login(owner)
    payloads = [
        {
            **schedule_data(customer_mode="new", form_token=form_token(browser, CREATE)),
            **customer_data(prefix="cliente-"),
        }
        for _ in range(CONCURRENT)
    ]

    responses = post_at_once(owner, CREATE, payloads)

    assert Customer.objects.count() == 1 and Schedule.objects.count() == 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (CONCURRENT - 1) + [302], statuses
    for response in responses:
        if response.status_code == 200:
            assert "Já existe um cliente com este CPF/CNPJ." in response.content.decode()
