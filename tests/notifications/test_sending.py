from datetime import date

import pytest
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.test import override_settings

from billing.models import Boleto
from notifications.delivery import delivery_hand_off
from notifications.models import OutboundEmail
from notifications.sending import boleto_send
from schedules.generator import installments_issue_due
from tests.factories import MerchantFactory, ScheduleFactory, registered_at_bank

pytestmark = pytest.mark.django_db

TEST_ESP = {"EMAIL_BACKEND": "anymail.backends.test.EmailBackend"}


def queued_boleto(**merchant_fields) -> Boleto:
    merchant = MerchantFactory(**merchant_fields)
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    installments_issue_due(today=date(2026, 3, 10))
    boleto = Boleto.objects.get(schedule=schedule)
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")
    registered_at_bank(boleto.pk)
    return boleto


@override_settings(**TEST_ESP)
def test_sends_pt_br_email_with_pdf_and_linha_once():
    boleto = queued_boleto(pix_key="pix@example.com")
    outbound = boleto_send(merchant_id=boleto.merchant_id, boleto_id=boleto.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    customer = boleto.schedule.customer
    assert message.to == [customer.email]
    assert message.subject.startswith("Boleto ")
    assert "20/03/2026" in message.subject and "R$\xa0150,00" in message.subject
    from billing.febraban import format_linha

    assert format_linha(boleto.linha_digitavel) in message.body
    assert "Pix copia e cola" in message.body
    html = message.alternatives[0][0]
    assert format_linha(boleto.linha_digitavel) in html and 'lang="pt-br"' in html
    (name, content, mimetype) = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert message.tags == ["boleto-recorrente"]
    assert message.metadata["boleto_id"] == boleto.pk
    # The ESP's message id is stored, so its tracking events find this boleto.
    assert outbound.message_id == "0" and outbound.esp_name == "Test"
    assert outbound.send_status == "sent"
    boleto.refresh_from_db()
    assert boleto.delivery_status == Boleto.DeliveryStatus.SENT
    assert boleto.pdf.name
    # Run twice (a retried task): nothing is sent twice.
    assert boleto_send(merchant_id=boleto.merchant_id, boleto_id=boleto.pk) is None
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.count() == 1


@override_settings(**TEST_ESP)
def test_another_merchants_id_sends_nothing():
    boleto = queued_boleto()
    other = MerchantFactory()
    assert boleto_send(merchant_id=other.pk, boleto_id=boleto.pk) is None
    assert mail.outbox == []


@override_settings(**TEST_ESP)
def test_esp_error_leaves_the_boleto_queued_for_the_retry(monkeypatch):
    boleto = queued_boleto()

    def refuse(self, *args, **kwargs):
        raise AnymailAPIError("ESP unavailable")

    monkeypatch.setattr("anymail.backends.test.EmailBackend.send_messages", refuse)
    with pytest.raises(AnymailAPIError):
        boleto_send(merchant_id=boleto.merchant_id, boleto_id=boleto.pk)
    boleto.refresh_from_db()
    assert boleto.delivery_status == Boleto.DeliveryStatus.QUEUED
    assert not OutboundEmail.objects.exists()


@override_settings(**TEST_ESP)
def test_hand_off_queues_one_send_per_boleto(django_capture_on_commit_callbacks):
    boleto = queued_boleto()
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        delivery_hand_off(merchant_id=boleto.merchant_id, boleto_ids=[boleto.pk])
        delivery_hand_off(merchant_id=boleto.merchant_id, boleto_ids=[boleto.pk])
    assert len(mail.outbox) == 1


@override_settings(**TEST_ESP)
@pytest.mark.parametrize("status", ["rejected", "invalid"])
def test_send_time_refusal_goes_through_the_policy(
    status, monkeypatch, django_capture_on_commit_callbacks
):
    from anymail.message import AnymailRecipientStatus

    from notifications.models import EmailEvent, MerchantAlert
    from schedules.models import Schedule

    def refused(self, response, payload, message):
        return {email: AnymailRecipientStatus(None, status) for email in payload.recipient_emails}

    monkeypatch.setattr("anymail.backends.test.EmailBackend.parse_recipient_status", refused)
    boleto = queued_boleto()
    with django_capture_on_commit_callbacks(execute=True):
        outbound = boleto_send(merchant_id=boleto.merchant_id, boleto_id=boleto.pk)
    assert outbound.send_status == status
    event = EmailEvent.objects.get()
    assert (event.event_type, event.action, event.outcome) == ("rejected", "hard", "applied")
    schedule = Schedule.objects.get(pk=boleto.schedule_id)
    # "rejected": the ESP refuses the address (its suppression list); "invalid": bad address.
    cause = "esp_suppressed" if status == "rejected" else "invalid_address"
    assert schedule.status == "deactivated" and schedule.deactivation_cause == cause
    assert Boleto.objects.get(pk=boleto.pk).delivery_status == "undelivered"
    assert MerchantAlert.objects.count() == 1
