"""The local email backend: each message in its own file under EMAIL_FILE_PATH (var/mail/),
named so a person finds it in a directory listing —

    20261202-101503-agendamento-no-2-desativado-endereco-de-e-mail-inexistente-3f9c2a1b.eml

the local time it was written, the subject as the reader sees it (decoded, reduced to ASCII
letters, digits and hyphens, at most 80 characters) and a unique part, so two messages with the
same subject in the same second never share a file. The file is the message as it would travel
(RFC 5322, ``.eml``): a mail client opens it, attachments included.
"""

import os
import re
import unicodedata
import uuid

from django.core.mail.backends.filebased import EmailBackend as DjangoFileBackend
from django.utils import timezone

SUBJECT_CHARS = 80


def mail_file_name(message) -> str:
    # The subject as text (Django encodes it only when building the message): accents folded to
    # ASCII ("nº" → "no", "ç" → "c"), every other run of characters one hyphen.
    text = unicodedata.normalize("NFKD", str(message.subject or ""))
    text = text.encode("ascii", "ignore").decode().lower()
    subject = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:SUBJECT_CHARS].strip("-")
    subject = subject or "sem-assunto"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{subject}-{uuid.uuid4().hex[:8]}.eml"


class FileEmailBackend(DjangoFileBackend):
    """Django's file backend writes every message of a connection into one file named by the
    time only; this one writes one file per message, named by its subject."""

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        sent = 0
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                data = message.message().as_bytes(linesep="\n")
                path = os.path.join(self.file_path, mail_file_name(message))
                try:
                    with open(path, "xb") as stream:
                        stream.write(data)
                except OSError:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent
