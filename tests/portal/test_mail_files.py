"""Local email files (var/mail/): one file per message, named by time, subject and a unique part,
so a person finds the alert in a directory listing."""

import email
import re
from email import policy

from django.core.mail import EmailMessage, get_connection, send_mail
from django.test import override_settings

NAME = re.compile(r"^\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{8}\.eml$")


def _files(path):
    return sorted(p for p in path.iterdir() if p.is_file())


def test_each_message_is_its_own_file_named_by_its_decoded_subject(tmp_path):
    subject = "Agendamento nº 2 desativado: Endereço de e-mail inexistente"
    with override_settings(EMAIL_BACKEND="portal.mail.FileEmailBackend", EMAIL_FILE_PATH=tmp_path):
        connection = get_connection()
        messages = [
            EmailMessage(subject, "corpo", to=["alertas@example.com"]),
            EmailMessage(subject, "corpo", to=["alertas@example.com"]),
            EmailMessage("Boleto Academia — vencimento 10/12/2026", "x", to=["a@example.com"]),
        ]
        assert connection.send_messages(messages) == 3
    files = _files(tmp_path)
    assert len(files) == 3, "one file per message, never two messages in one file"
    names = [p.name for p in files]
    assert all(NAME.match(name) for name in names), names
    alerts = [
        n for n in names if "-agendamento-no-2-desativado-endereco-de-e-mail-inexistente-" in n
    ]
    assert len(alerts) == 2 and alerts[0] != alerts[1]
    assert any("-boleto-academia-vencimento-10-12-2026-" in n for n in names), names
    # The file is the message itself: a mail client (or the email package) reads it back.
    parsed = email.message_from_bytes((tmp_path / alerts[0]).read_bytes(), policy=policy.default)
    assert parsed["Subject"].strip() == subject  # decoded, as the reader sees it
    assert parsed["To"] == "alertas@example.com"


def test_names_never_leave_the_folder_and_survive_odd_subjects(tmp_path):
    odd = [
        "../../etc/passwd",
        '=?utf-8?b?QWxlcnRh?= / \\ : * ? " < > |',
        "",
        "Ç" * 300,
        "🚀 Lançamento",
    ]
    with override_settings(EMAIL_BACKEND="portal.mail.FileEmailBackend", EMAIL_FILE_PATH=tmp_path):
        for subject in odd:
            send_mail(subject, "corpo", None, ["a@example.com"])
    files = _files(tmp_path)
    assert len(files) == len(odd)
    assert [p for p in tmp_path.rglob("*") if p.parent != tmp_path] == []
    for path in files:
        assert NAME.match(path.name), path.name
        assert len(path.name) <= 8 + 1 + 6 + 1 + 80 + 1 + 8 + 4
    names = " ".join(p.name for p in files)
    assert "-etc-passwd-" in names and "-sem-assunto-" in names
    assert "-" + "c" * 80 + "-" in names  # cut at 80 characters
    assert "-utf-8-b-qwxlcnrh-" in names  # shown as typed, never decoded from a header form
    assert "-lancamento-" in names
