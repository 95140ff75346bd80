"""Reenviar boleto: the merchant sends an issued boleto of an active schedule again, from the
schedule page, after a confirmation; once even if the button is clicked twice; recorded in the
history; never for a schedule that is off, never another merchant's."""

import threading
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, override_settings

from billing.models import Boleto
from notifications.models import OutboundEmail
from notifications.sending import boleto_send
from schedules.generator import installments_issue_due
from schedules.models import ScheduleEvent
from schedules.services import schedule_cancel, schedule_deactivate
from tests.factories import ScheduleFactory, bank_set, registered_at_bank, registration_paused

TEST_ESP = {"EMAIL_BACKEND": "anymail.backends.test.EmailBackend"}


def sent_boleto(merchant) -> Boleto:
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    with registration_paused():  # in March 2026: the bank registered it then
        installments_issue_due(today=date(2026, 3, 10))
    boleto = Boleto.objects.get(schedule=schedule)
    registered_at_bank(boleto.pk)
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    with override_settings(**TEST_ESP):
        boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)
    mail.outbox.clear()
    boleto.refresh_from_db()
    assert boleto.delivery_status == "sent"
    return boleto


def url(boleto) -> str:
    return f"/agendamentos/{boleto.schedule.number}/parcelas/{boleto.sequence}/reenviar/"


@pytest.mark.django_db
@override_settings(**TEST_ESP)
def test_resend_from_the_schedule_page_after_confirmation_once(
    client, merchant, owner, django_capture_on_commit_callbacks
):
    boleto = sent_boleto(merchant)
    schedule = boleto.schedule
    client.force_login(owner)
    page = client.get(schedule.get_absolute_url()).content.decode()
    assert "Reenviar boleto" in page and url(boleto) in page

    confirm = client.get(url(boleto))
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Reenviar o boleto da parcela 1?" in body
    assert schedule.customer.email in body and "Sim, reenviar boleto" in body
    assert mail.outbox == []  # a GET sends nothing

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url(boleto), follow=True)
        second = client.post(url(boleto), follow=True)  # a double-click
    assert "enviado novamente para" in first.content.decode()
    assert "já foi solicitado" in second.content.decode()
    assert [m.to for m in mail.outbox] == [[schedule.customer.email]]
    assert list(OutboundEmail.objects.filter(boleto=boleto).values_list("attempt", flat=True)) == [
        1,
        2,
    ]
    (event,) = ScheduleEvent.objects.filter(schedule=schedule, kind="boleto_resent")
    assert event.actor == owner and event.data["sequence"] == 1
    history = client.get(schedule.get_absolute_url()).content.decode()
    assert "Reenvio do boleto solicitado — parcela 1, para" in history


@pytest.mark.django_db
@override_settings(**TEST_ESP)
@pytest.mark.parametrize("stop", ["cancel", "deactivate"])
def test_no_resend_for_a_schedule_that_is_not_active(
    client, merchant, owner, stop, django_capture_on_commit_callbacks
):
    boleto = sent_boleto(merchant)
    if stop == "cancel":
        schedule_cancel(schedule=boleto.schedule)
    else:
        schedule_deactivate(schedule=boleto.schedule, cause="mailbox_full")
    client.force_login(owner)
    assert "Reenviar boleto" not in client.get(boleto.schedule.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(boleto), follow=True)
    assert response.status_code == 200
    assert "Só é possível reenviar boletos de agendamentos ativos" in response.content.decode()
    assert mail.outbox == []
    assert not ScheduleEvent.objects.filter(kind="boleto_resent").exists()


@pytest.mark.django_db
@override_settings(**TEST_ESP)
def test_another_merchants_boleto_is_not_found(
    other_client, merchant, django_capture_on_commit_callbacks
):
    boleto = sent_boleto(merchant)
    assert other_client.get(url(boleto)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert other_client.post(url(boleto)).status_code == 404
    assert mail.outbox == []
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "sent"


@pytest.mark.django_db
def test_a_boleto_already_in_the_queue_is_not_queued_twice(client, merchant, owner):
    boleto = sent_boleto(merchant)
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    client.force_login(owner)
    assert "Reenviar boleto" not in client.get(boleto.schedule.get_absolute_url()).content.decode()
    response = client.post(url(boleto), follow=True)
    assert "Este boleto já está na fila de envio." in response.content.decode()
    assert not ScheduleEvent.objects.filter(kind="boleto_resent").exists()


@pytest.mark.django_db
@override_settings(**TEST_ESP)
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"payment_status": "paid", "amount_paid": "10.00", "paid_on": date(2026, 3, 18)},
            "Este boleto já foi pago: não há o que reenviar.",
        ),
        (
            {
                "payment_status": "paid_after_write_off",
                "amount_paid": "10.00",
                "paid_on": date(2026, 3, 18),
            },
            "Este boleto já foi pago: não há o que reenviar.",
        ),
        (
            {"payment_status": "written_off", "written_off_on": date(2026, 3, 25)},
            "Este boleto foi baixado no banco e não pode mais ser pago",
        ),
        (
            {"registration_status": "rejected"},
            "O banco rejeitou o registro deste boleto",
        ),
    ],
)
def test_no_resend_of_a_boleto_that_cannot_be_paid(
    client, merchant, owner, fields, message, django_capture_on_commit_callbacks
):
    boleto = sent_boleto(merchant)
    bank_set(boleto, **fields)
    client.force_login(owner)
    page = client.get(boleto.schedule.get_absolute_url()).content.decode()
    assert "Reenviar boleto" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(boleto), follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert mail.outbox == []
    assert not ScheduleEvent.objects.filter(kind="boleto_resent").exists()
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "sent"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_clicks_send_once(merchant, owner):
    """Two POSTs at the same moment (two requests, two database sessions): the schedule's row
    lock makes the second one see the first; one email, one history entry."""
    boleto = sent_boleto(merchant)
    emails_before = OutboundEmail.objects.filter(boleto=boleto).count()
    barrier = threading.Barrier(2)
    statuses = []

    def click():
        c = Client()
        c.force_login(owner)
        barrier.wait()
        try:
            with override_settings(**TEST_ESP):
                statuses.append(c.post(url(boleto)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302, 302]
    assert ScheduleEvent.objects.filter(kind="boleto_resent").count() == 1
    assert OutboundEmail.objects.filter(boleto=boleto).count() == emails_before + 1
