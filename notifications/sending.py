"""Sending each issued boleto to its customer, through whatever backend settings choose
(an anymail ESP in production, files locally, anymail's test backend in tests)."""

import logging

from anymail.exceptions import AnymailRecipientsRefused
from anymail.message import attach_inline_image
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from billing.febraban import format_linha
from billing.models import Boleto
from billing.pdf import logo_png
from billing.services import boleto_filename, boleto_pdf
from notifications.models import OutboundEmail
from portal.logs import log_decision
from portal.templatetags.money import format_brl
from portal.text import header_text
from schedules.models import DELIVERING_STATUSES

logger = logging.getLogger(__name__)

SEND_TAG = "boleto-recorrente"
# Refused by the ESP at send time: handled as a synthetic ``rejected`` event (_refused_at_send).
_REFUSED = (OutboundEmail.SendStatus.REJECTED, OutboundEmail.SendStatus.INVALID)


def _message(boleto: Boleto, recipient: str, pdf: bytes) -> EmailMultiAlternatives:
    beneficiary = boleto.beneficiary
    merchant_name = beneficiary.get("trade_name") or beneficiary.get("legal_name", "")
    with translation.override("pt-br"):
        context = {
            "payer_name": boleto.payer.get("name", ""),
            "merchant_name": merchant_name,
            "due_date": date_format(boleto.due_date, "SHORT_DATE_FORMAT"),
            "amount": format_brl(boleto.amount),
            "linha": format_linha(boleto.linha_digitavel),
            "pix": boleto.pix_payload,
            "description": boleto.schedule.description,
        }
        subject = translation.gettext("Boleto %(merchant)s — vencimento %(due)s — %(amount)s") % {
            "merchant": merchant_name,
            "due": context["due_date"],
            "amount": context["amount"],
        }
        text = render_to_string("emails/boleto.txt", context)
    # One line whatever the stored names hold (a CR/LF would stop every email: BadHeaderError).
    message = EmailMultiAlternatives(subject=header_text(subject), body=text, to=[recipient])
    # The merchant's logo as of the boleto's issue, inline (cid:): mail clients block remote
    # images by default, an attached one shows at once (anymail sends it as an inline image).
    logo = logo_png((boleto.beneficiary or {}).get("logo", ""))
    if logo:
        context["logo_cid"] = attach_inline_image(message, logo, filename="logo.png")
    with translation.override("pt-br"):
        html = render_to_string("emails/boleto.html", context)
    message.attach_alternative(html, "text/html")
    message.attach(boleto_filename(boleto), pdf, "application/pdf")
    # anymail: metadata comes back on tracking events; one recipient per message (SES events
    # cannot tell recipients apart).
    message.metadata = {"boleto_id": boleto.pk, "merchant_id": boleto.merchant_id}
    message.tags = [SEND_TAG]
    return message


def boleto_send(*, merchant_id: int, boleto_id: int) -> OutboundEmail | None:
    """Email a queued boleto (PDF attached) to the customer's current address, once.

    The boleto row is locked while sending and only a ``queued`` boleto is sent (it leaves as
    ``sent``; the policy schedules a retry after a transient failure), only while its schedule
    is active (else it is marked ``withheld``: not emailed), and
    (boleto, epoch, attempt) is unique, so a task run twice sends once. If the ESP accepts the
    message and the commit then fails, a retry could send it again: the one window that
    at-least-once delivery leaves open.
    """
    with transaction.atomic():
        # The schedule first (FOR SHARE: sends of its boletos do not wait for each other), then
        # the boleto: the order every writer takes them in (the policy, reactivation), so no
        # deadlock. A deactivation or cancellation waits for a send in progress, and a send
        # after it sees the schedule is no longer active.
        schedule_status = _schedule_status_locked(merchant_id, boleto_id)
        boleto = (
            Boleto.objects.for_merchant(merchant_id)
            .select_for_update(of=("self",))
            .select_related("schedule__customer")
            .filter(pk=boleto_id, status=Boleto.Status.ISSUED)
            .first()
        )
        if boleto is None or boleto.delivery_status != Boleto.DeliveryStatus.QUEUED:
            log_decision(
                logger,
                "boleto_send_skipped",
                merchant=merchant_id,
                schedule_id=None if boleto is None else boleto.schedule_id,
                schedule_number=None if boleto is None else boleto.schedule.number,
                boleto=boleto_id,
                decision="skipped",
                reason="not_issued" if boleto is None else f"delivery_{boleto.delivery_status}",
            )
            return None
        schedule = boleto.schedule
        if schedule_status not in DELIVERING_STATUSES:  # a finished one's last boleto goes
            # No email to a customer whose schedule was deactivated or cancelled after this
            # boleto was queued (a retry, the sweeper, a queued send): kept, visibly not sent.
            boleto.delivery_status = Boleto.DeliveryStatus.WITHHELD
            boleto.save(update_fields=["delivery_status", "updated_at"])
            log_decision(
                logger,
                "boleto_send_skipped",
                merchant=merchant_id,
                schedule_id=schedule.pk,
                schedule_number=schedule.number,
                boleto=boleto_id,
                decision="withheld",
                reason=f"schedule_{schedule_status}",
            )
            return None
        attempt = (
            OutboundEmail.objects.filter(boleto=boleto, schedule_epoch=schedule.epoch).count() + 1
        )
        recipient = schedule.customer.email
        pdf = boleto_pdf(boleto=boleto)
        connection = get_connection()
        message = _message(boleto, recipient, pdf)
        # Our own Message-ID: what identifies the email when the backend is not an anymail ESP
        # (SMTP to the mail catcher, files locally); an ESP reports its own id instead.
        own_id = make_msgid(domain="boletos.local")
        message.extra_headers["Message-ID"] = own_id
        message.connection = connection
        try:
            message.send()
        except AnymailRecipientsRefused:
            # Every recipient refused at send time (the ESP's suppression list, an invalid
            # address): anymail_status carries the per-recipient statuses, handled below.
            pass
        status = getattr(message, "anymail_status", None)
        per_recipient = status.recipients.get(recipient) if status is not None else None
        message_id = getattr(per_recipient, "message_id", None) if status is not None else own_id
        try:
            outbound = OutboundEmail.objects.create(
                merchant_id=merchant_id,
                boleto=boleto,
                schedule=schedule,
                schedule_epoch=schedule.epoch,
                attempt=attempt,
                recipient=recipient,
                esp_name=getattr(connection, "esp_name", ""),
                message_id="" if message_id is None else str(message_id),
                send_status=(per_recipient.status if per_recipient else "sent") or "unknown",
                sent_at=timezone.now(),
            )
        except IntegrityError:  # pragma: no cover - the row lock makes this unreachable
            return None
        boleto.delivery_status = Boleto.DeliveryStatus.SENT
        boleto.save(update_fields=["delivery_status", "updated_at"])
        if outbound.send_status in _REFUSED:
            _refused_at_send(outbound)
    refused = outbound.send_status in _REFUSED
    log_decision(
        logger,
        "boleto_sent",
        level=logging.WARNING if refused else logging.INFO,
        merchant=merchant_id,
        schedule_id=schedule.pk,
        schedule_number=schedule.number,
        boleto=boleto.pk,
        decision="refused_at_send" if refused else "sent",
        attempt=outbound.attempt,
        epoch=outbound.schedule_epoch,
        esp=outbound.esp_name or None,
        status=outbound.send_status,
        message_id=outbound.message_id or None,
    )
    return outbound


def _schedule_status_locked(merchant_id: int, boleto_id: int) -> str | None:
    """The status of the boleto's schedule, read under a FOR SHARE lock on the schedule row
    (held until the caller's transaction ends)."""
    # SQLite (local development without PostgreSQL) has no row locks: one writer at a time.
    lock = " FOR SHARE OF s" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.status FROM schedules_schedule s "
            "JOIN billing_boleto b ON b.schedule_id = s.id "
            "WHERE b.id = %s AND b.merchant_id = %s" + lock,
            [boleto_id, merchant_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _refused_at_send(outbound: OutboundEmail) -> None:
    """A send-time refusal goes through the same inbox, classifier and policy as a webhook
    event (email-delivery.md §6.2), as a synthetic ``rejected`` event about this email."""
    from anymail.signals import AnymailTrackingEvent

    from notifications.inbox import email_event_store

    if not outbound.message_id:
        outbound.message_id = f"refused-{outbound.pk}"
        outbound.save(update_fields=["message_id"])
    invalid = outbound.send_status == OutboundEmail.SendStatus.INVALID
    event = AnymailTrackingEvent(
        event_type="rejected",
        reject_reason="invalid" if invalid else "bounced",
        recipient=outbound.recipient,
        message_id=outbound.message_id,
        timestamp=outbound.sent_at,
        esp_event={"send_status": outbound.send_status, "source": "send-time"},
        description="Recusado pelo provedor no envio",
    )
    email_event_store(event=event, esp_name=outbound.esp_name or "send")
