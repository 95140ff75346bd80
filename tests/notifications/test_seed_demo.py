"""The demo tells the product's story from the first minute (python3 dev.py start runs
seed_demo): the past is history, nothing past due is emailed, and today one schedule was
deactivated by a real-format bounce through the real webhook, with its undelivered boleto, the
banner and the alert email among the mail files."""

import email
from datetime import timedelta
from email import policy
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from billing.models import Boleto
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from portal.models import Merchant
from schedules.models import Schedule, ScheduleEvent, ScheduleStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(tmp_path, django_capture_on_commit_callbacks):
    """seed_demo as dev.py runs it (dev's file backend and webhook secret), then every task it
    queued run as the worker would (eager Celery, after commit)."""
    out = StringIO()
    with (
        override_settings(
            EMAIL_BACKEND="portal.mail.FileEmailBackend",
            EMAIL_FILE_PATH=tmp_path,
            ANYMAIL={"WEBHOOK_SECRET": "dev:dev-webhook-secret"},
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("seed_demo", stdout=out)
    mails = {}
    for path in sorted(tmp_path.iterdir()):
        mails[path.name] = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return {"out": out.getvalue(), "mails": mails}


def test_no_past_due_boleto_is_emailed_at_start(seeded):
    today = timezone.localdate()
    assert Boleto.objects.filter(due_date__lt=today, status=Boleto.Status.ISSUED).count() > 20
    boleto_mails = {
        name: msg
        for name, msg in seeded["mails"].items()
        if msg["Subject"].strip().startswith("Boleto")
    }
    # Only today's two first boletos leave: the one that bounced and the one the worker issues
    # by itself; neither is past due.
    assert len(boleto_mails) == 2, sorted(seeded["mails"])
    just_sent = OutboundEmail.objects.filter(sent_at__gte=timezone.now() - timedelta(minutes=10))
    assert [o.boleto.due_date > today for o in just_sent] == [True, True]
    # The past is history: every earlier boleto was sent and delivered on its day, none waits.
    past = Boleto.objects.filter(due_date__lt=today, status=Boleto.Status.ISSUED)
    assert not past.filter(
        delivery_status__in=[Boleto.DeliveryStatus.PENDING, Boleto.DeliveryStatus.QUEUED]
    ).exists()
    for boleto in past.filter(delivery_status=Boleto.DeliveryStatus.DELIVERED)[:50]:
        (outbound,) = boleto.emails.all()
        assert outbound.sent_at < timezone.now() - timedelta(minutes=25)
        assert boleto.issued_at.date() < today or boleto.issued_at < outbound.sent_at


def test_today_a_real_format_bounce_deactivated_one_schedule(seeded):
    demo = Merchant.objects.get(cnpj="11222333000181")
    (schedule,) = Schedule.objects.filter(merchant=demo, customer__name="Karina Alves")
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert schedule.deactivation_cause == "invalid_address"
    (boleto,) = schedule.boletos.all()
    assert boleto.delivery_status == Boleto.DeliveryStatus.UNDELIVERED
    assert boleto.due_date > timezone.localdate()
    # Through the real webhook: a stored Postmark event, classified and applied by the policy.
    (event,) = EmailEvent.objects.filter(outbound_email__boleto=boleto)
    assert (event.esp_name, event.event_type, event.outcome) == ("Postmark", "bounced", "applied")
    assert event.raw["RecordType"] == "Bounce" and event.raw["Type"] == "HardBounce"
    assert "5.1.1" in event.diagnostic or "5.1.1" in event.enhanced_status
    deactivated = ScheduleEvent.objects.get(schedule=schedule, kind=ScheduleEvent.Kind.DEACTIVATED)
    assert deactivated.data["email_event_id"] == event.pk
    # The banner: one open alert, the only one, already emailed.
    (alert,) = MerchantAlert.objects.filter(merchant=demo, acknowledged_at__isnull=True)
    assert (alert.schedule, alert.boleto, alert.kind) == (schedule, boleto, "deactivated")
    assert alert.emailed_at is not None
    # The alert email, found by its file name.
    number = schedule.number
    (name,) = [n for n in seeded["mails"] if f"-agendamento-no-{number}-desativado-" in n]
    message = seeded["mails"][name]
    assert message["To"] == demo.alert_email
    assert f"nº {number}" in message["Subject"]
    assert "karina.alves@gmial.com" in message.get_body(("plain",)).get_content()
    assert f"nº {number}" in seeded["out"]


def test_the_older_story_is_history(seeded):
    demo = Merchant.objects.get(cnpj="11222333000181")
    older = Schedule.objects.filter(merchant=demo, status=ScheduleStatus.DEACTIVATED).exclude(
        customer__name="Karina Alves"
    )
    assert sorted(older.values_list("deactivation_cause", flat=True)) == [
        "invalid_address",
        "mailbox_full",
        "spam_complaint",
    ]
    newest = Schedule.objects.filter(merchant=demo, status=ScheduleStatus.DEACTIVATED)
    assert newest.latest("deactivated_at").customer.name == "Karina Alves"
    for schedule in older:
        last = schedule.boletos.filter(status="issued").order_by("-sequence").first()
        assert last.delivery_status == Boleto.DeliveryStatus.UNDELIVERED
        # Nothing issued after the schedule stopped, weeks ago.
        assert (timezone.localdate() - last.issued_at.date()).days >= 10
    assert Schedule.objects.filter(merchant=demo, status=ScheduleStatus.CANCELLED).count() == 1
    # Seeding twice changes nothing.
    before = (Boleto.objects.count(), OutboundEmail.objects.count(), EmailEvent.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already present" in out.getvalue()
    assert (
        Boleto.objects.count(),
        OutboundEmail.objects.count(),
        EmailEvent.objects.count(),
    ) == before
