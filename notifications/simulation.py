"""Real-format ESP tracking events about an email we sent, posted through the portal's real
webhook endpoint: what ``simulate_delivery_event`` and the demo seed use to show the delivery
loop (inbox → classification → policy → merchant alert) without an ESP.

The payload is Postmark's documented format, posted to /anymail/postmark/tracking/ with the
configured webhook secret; the stored events are then processed as the worker would.
"""

import base64
import json
from datetime import UTC, datetime

from django.conf import settings
from django.test import Client

from notifications.models import EmailEvent, OutboundEmail

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


class SimulationError(Exception):
    """The event could not be posted (message in Portuguese, for the command line)."""


def delivery_event_simulate(*, outbound: OutboundEmail, event: str) -> list[EmailEvent]:
    """Post one real-format Postmark event of kind ``event`` (a key of EVENTS) about
    ``outbound`` through the real tracking endpoint, process what it stored (the worker would do
    the same; processing is idempotent) and return the stored events, processed."""
    from notifications.delivery import email_event_process

    secret = (settings.ANYMAIL or {}).get("WEBHOOK_SECRET")
    if isinstance(secret, list | tuple):
        secret = secret[0] if secret else None
    if not secret:
        raise SimulationError("ANYMAIL_WEBHOOK_SECRET não está configurado.")
    now = datetime.now(tz=UTC)
    payload = {
        key: value.format(email=outbound.recipient) if isinstance(value, str) else value
        for key, value in EVENTS[event].items()
    }
    payload.update(
        {
            "ID": int(now.timestamp() * 1000),
            "MessageID": outbound.message_id,
            "Email": outbound.recipient,
            "Recipient": outbound.recipient,
            "MessageStream": "outbound",
            "Tag": "boleto-recorrente",
            "BouncedAt": now.isoformat(),
            "DeliveredAt": now.isoformat(),
            "ChangedAt": now.isoformat(),
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
        raise SimulationError(f"O webhook respondeu {response.status_code}.")
    stored = list(EmailEvent.objects.filter(id__gt=before).order_by("id"))
    for row in stored:
        email_event_process(email_event_id=row.pk)
        row.refresh_from_db()
    return stored
