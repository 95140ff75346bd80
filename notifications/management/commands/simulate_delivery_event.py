"""Post a real-format ESP tracking webhook about a schedule's last email, to see the delivery
loop (inbox → classification → deactivation → merchant alert) without an ESP.

    python manage.py simulate_delivery_event 3 --event hard-bounce
    python manage.py simulate_delivery_event 3 --event delivered --merchant 11222333000181

The payload is Postmark's documented format, posted through the portal's real
/anymail/postmark/tracking/ endpoint with the configured webhook secret.
"""

import base64
import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from notifications.models import EmailEvent, OutboundEmail
from notifications.services import email_event_process
from portal.documents import normalize_document

EVENTS = {
    "hard-bounce": {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 <{email}>: Recipient address rejected: User unknown",
    },
    "mailbox-full": {
        "RecordType": "Bounce",
        "Type": "SoftBounce",
        "TypeCode": 4096,
        "Name": "Soft bounce",
        "Description": "The server could not temporarily deliver your message.",
        "Details": "smtp;452 4.2.2 <{email}>: Mailbox full",
    },
    "spam-complaint": {
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
    },
    "unsubscribe": {
        "RecordType": "SubscriptionChange",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Origin": "Recipient",
    },
    "delivered": {
        "RecordType": "Delivery",
        "Details": "smtp;250 2.0.0 OK",
    },
}


class Command(BaseCommand):
    help = (
        "Simula um evento de entrega (webhook real do provedor) para o último e-mail de um "
        "agendamento."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", type=int, help="número do agendamento")
        parser.add_argument("--event", choices=sorted(EVENTS), default="hard-bounce")
        parser.add_argument("--merchant", help="CNPJ do lojista (quando o número se repete)")

    def handle(self, *args, number, event, merchant, **options):
        emails = OutboundEmail.objects.filter(schedule__number=number).select_related(
            "schedule__merchant"
        )
        if merchant:
            emails = emails.filter(schedule__merchant__cnpj=normalize_document(merchant))
        merchants = set(emails.values_list("schedule__merchant_id", flat=True))
        if not merchants:
            raise CommandError(
                f"Nenhum e-mail enviado para o agendamento nº {number}: aguarde o envio do "
                "boleto (worker em execução) ou confira o número."
            )
        if len(merchants) > 1:
            raise CommandError("Há mais de um lojista com esse número: informe --merchant CNPJ.")
        outbound = emails.order_by("-sent_at", "-id").first()
        secret = (settings.ANYMAIL or {}).get("WEBHOOK_SECRET")
        if not secret:
            raise CommandError("ANYMAIL_WEBHOOK_SECRET não está configurado.")

        now = datetime.now(tz=UTC).isoformat()
        payload = {
            key: value.format(email=outbound.recipient) if isinstance(value, str) else value
            for key, value in EVENTS[event].items()
        }
        payload.update(
            {
                "ID": int(datetime.now(tz=UTC).timestamp() * 1000),
                "MessageID": outbound.message_id,
                "Email": outbound.recipient,
                "Recipient": outbound.recipient,
                "MessageStream": "outbound",
                "Tag": "boleto-recorrente",
                "BouncedAt": now,
                "DeliveredAt": now,
                "ChangedAt": now,
            }
        )
        before = EmailEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        host = (settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".") or "localhost"
        response = Client(HTTP_HOST=host).post(
            "/anymail/postmark/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(secret.encode()).decode(),
        )
        if response.status_code != 200:
            raise CommandError(f"O webhook respondeu {response.status_code}.")
        for stored in EmailEvent.objects.filter(id__gt=before):
            email_event_process(email_event_id=stored.pk)  # the worker would do the same
            stored.refresh_from_db()
            self.stdout.write(
                f"evento {stored.event_type} ({stored.action}/{stored.cause or '-'}) → "
                f"{stored.get_outcome_display()}"
            )
        schedule = outbound.schedule
        schedule.refresh_from_db()
        self.stdout.write(
            f"agendamento nº {schedule.number}: {schedule.get_status_display()}"
            + (
                f" — {schedule.get_deactivation_cause_display()}"
                if schedule.deactivation_cause
                else ""
            )
        )
