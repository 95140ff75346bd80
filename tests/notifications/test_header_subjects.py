"""No stored value can break an email header (issue 10 item 15).

The forms refuse control characters now, but rows written before (or by the admin, or straight
to the database) may hold them: a CR/LF in a merchant's trade name made every boleto email of
that merchant fail with BadHeaderError. Subjects are flattened to one line when built.
"""

import re
from datetime import date

import pytest
from django.core import mail

from billing.models import Boleto
from notifications.models import OutboundEmail
from notifications.sending import boleto_send
from notifications.tickets import services
from notifications.tickets.models import TicketMessage
from portal.models import Merchant
from portal.services import invitation_email, member_invite
from portal.text import header_text
from schedules.generator import installments_issue_due
from tests.factories import MerchantFactory, ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db

CRLF_NAME = "Academia\r\nBcc: alvo@example.com"


def stored(merchant, **fields):
    """Written straight to the database, past every form and model validation."""
    Merchant.objects.filter(pk=merchant.pk).update(**fields)
    merchant.refresh_from_db()
    return merchant


def assert_one_line_header(message, expected_subject):
    assert message.subject == expected_subject
    mime = message.message()  # what the backend builds and sends: raises BadHeaderError if not
    headers = mime.as_bytes().split(b"\n\n", 1)[0]
    assert not re.search(rb"^(Bcc|X-Injected):", headers, re.MULTILINE | re.IGNORECASE)


def test_a_stored_crlf_trade_name_still_sends_the_boleto_email():
    merchant = stored(MerchantFactory(), trade_name=CRLF_NAME)
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    installments_issue_due(today=date(2026, 3, 10))
    boleto = Boleto.objects.get(schedule=schedule)
    assert boleto.beneficiary["trade_name"] == CRLF_NAME  # the snapshot keeps it as stored
    Boleto.objects.filter(pk=boleto.pk).update(delivery_status="queued")

    outbound = boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)

    assert outbound is not None and outbound.send_status == OutboundEmail.SendStatus.SENT
    (message,) = mail.outbox
    assert_one_line_header(
        message, "Boleto Academia Bcc: alvo@example.com — vencimento 20/03/2026 — R$\xa0150,00"
    )


def test_ticket_emails_with_stored_control_characters(merchant, owner, settings):
    settings.SUPPORT_EMAILS = ["suporte@example.com"]
    stored(merchant, trade_name="Loja\u2028Nova\x0b")
    ticket = services.ticket_create(
        merchant=merchant, actor=owner, subject="Dúvida", message="Olá, suporte."
    )
    type(ticket).objects.filter(pk=ticket.pk).update(subject="Boleto\r\nX-Injected: 1\x1b")
    ticket.refresh_from_db()
    staff = UserFactory(is_staff=True)
    answer = services.ticket_answer(ticket=ticket, staff_user=staff, body="Resolvido.")
    mail.outbox.clear()

    first = TicketMessage.objects.filter(ticket=ticket).order_by("pk").first()
    assert services.ticket_message_notify(merchant_id=merchant.pk, message_id=first.pk)
    assert services.ticket_message_notify(merchant_id=merchant.pk, message_id=answer.pk)

    to_support, to_merchant = mail.outbox
    assert_one_line_header(to_support, f"Novo chamado nº {ticket.number} de Loja Nova")
    assert_one_line_header(
        to_merchant, f"Resposta ao chamado nº {ticket.number}: Boleto X-Injected: 1"
    )


def test_a_stored_crlf_trade_name_still_sends_the_invitation(merchant, owner, monkeypatch):
    stored(merchant, trade_name=CRLF_NAME)
    queued = []
    monkeypatch.setattr(
        "portal.services.enqueue_on_commit", lambda task, **kwargs: queued.append(kwargs)
    )
    member_invite(merchant=merchant, actor=owner, email="nova@example.com", role="member")

    assert invitation_email(**queued[0])

    (message,) = mail.outbox
    assert "Academia Bcc: alvo@example.com" in message.subject
    assert_one_line_header(message, message.subject)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Loja\r\nBcc: x@example.com", "Loja Bcc: x@example.com"),
        ("  Loja \t  Nova\x00\x1f ", "Loja Nova"),
        ("Loja\u2028\u2029\x85Nova", "Loja Nova"),
        ("abc\u202efdp.exe", "abc fdp.exe"),
        ("Café & Cia — Ltda", "Café & Cia — Ltda"),
    ],
)
def test_header_text_is_one_printable_line(value, expected):
    assert header_text(value) == expected
