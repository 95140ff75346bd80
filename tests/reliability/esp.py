"""A stand-in ESP for the reliability tests: anymail's test backend (so sending sees the same
``anymail_status`` a real ESP gives) that also appends one JSON line per accepted message to
``settings.RELIABILITY_ESP_LOG``.

The file is what "the ESP received": the test process counts the emails per boleto there, across
every worker process that sent (appends with O_APPEND, one write per line, are atomic).
"""

import json
import os

from anymail.backends.test import EmailBackend
from django.conf import settings
from django.core import mail


class RecordingEmailBackend(EmailBackend):
    def get_esp_message_id(self, message):
        # Unique across the processes a test starts (the test backend numbers per process).
        return f"{os.getpid()}-{mail.outbox.index(message)}"

    def post_to_esp(self, payload, message):
        response = super().post_to_esp(payload, message)
        metadata = getattr(message, "metadata", None) or {}
        line = json.dumps(
            {
                "boleto_id": metadata.get("boleto_id"),
                "to": payload.recipient_emails,
                "subject": message.subject,
                "pid": os.getpid(),
            }
        )
        fd = os.open(settings.RELIABILITY_ESP_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        return response
