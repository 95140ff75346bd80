"""Support tickets (chamados): opened by a merchant from a deactivated schedule, prefilled with the
recorded cause and diagnostic; answered by staff in the admin; the answer emailed to the
merchant once and shown in the portal. Every view is also tried as another merchant."""

import logging
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import MerchantAlert
from notifications.tickets import selectors, services
from notifications.tickets.models import SupportTicket, TicketMessage
from schedules.models import DeactivationCause, Schedule, ScheduleStatus
from schedules.services import schedule_deactivate
from tests.factories import MembershipFactory, ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db

DIAGNOSTIC = "smtp; 550 5.1.1 The email account that you tried to reach does not exist"
SUPPORT = ["suporte@example.com"]
CAUSE = "Endereço de e-mail inexistente ou inválido"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def deactivated(merchant):
    """A schedule deactivated as the delivery policy does it: a hard bounce's cause, with the
    provider's diagnostic recorded in the schedule's history."""
    schedule = ScheduleFactory(merchant=merchant)
    assert schedule_deactivate(
        schedule=schedule, cause=DeactivationCause.INVALID_ADDRESS, diagnostic=DIAGNOSTIC
    )
    return schedule


@pytest.fixture
def staff(db):
    return UserFactory(username="atendente.interno", is_staff=True, is_superuser=True)


def open_ticket(merchant, user, *, schedule=None, subject="Dúvida", message="Olá, suporte."):
    return services.ticket_create(
        merchant=merchant, actor=user, subject=subject, message=message, schedule=schedule
    )


# --- Opening a ticket ---------------------------------------------------------------------------


def test_form_is_prefilled_from_a_deactivated_schedule(owner_client, deactivated):
    response = owner_client.get(f"/chamados/novo/?agendamento={deactivated.number}")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"nº {deactivated.number}" in html
    assert deactivated.customer.name in html
    assert CAUSE in html
    # The provider's diagnostic recorded with the deactivation (a 5.1.1 bounce).
    assert "5.1.1" in html
    # The number travels as a hidden field; the subject is prefilled and editable.
    assert f'type="hidden" name="schedule" value="{deactivated.number}"' in html
    assert f'value="Agendamento nº {deactivated.number} desativado: {CAUSE}"' in html


def test_create_copies_cause_and_diagnostic_and_tells_support(
    owner_client, owner, merchant, deactivated, django_capture_on_commit_callbacks
):
    form = {"schedule": str(deactivated.number), "subject": "Cliente mudou de e-mail"}
    form["message"] = "O cliente diz que o e-mail está certo. O que aconteceu?"
    with (
        override_settings(SUPPORT_EMAILS=SUPPORT),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = owner_client.post("/chamados/novo/", form)

    ticket = SupportTicket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chamados/{ticket.number}/"
    assert ticket.merchant == merchant
    assert ticket.schedule == deactivated
    assert ticket.created_by == owner
    assert ticket.status == SupportTicket.Status.OPEN
    assert ticket.cause == "invalid_address"
    assert "5.1.1" in ticket.diagnostic
    (first,) = ticket.messages.all()
    assert first.body == form["message"] and not first.from_staff
    assert first.notified_at is not None
    # Support was told once, with what it needs to answer.
    (email,) = mail.outbox
    assert email.to == SUPPORT
    assert f"Novo chamado nº {ticket.number}" in email.subject
    assert form["message"] in email.body
    assert CAUSE in email.body and "5.1.1" in email.body
    assert merchant.cnpj in email.body
    assert f"/admin/notifications/supportticket/{ticket.pk}/change/" in email.body

    # The copy survives the schedule being reactivated later.
    Schedule.objects.filter(pk=deactivated.pk).update(
        status=ScheduleStatus.ACTIVE, deactivation_cause="", deactivated_at=None
    )
    page = owner_client.get(f"/chamados/{ticket.number}/").content.decode()
    assert CAUSE in page and "5.1.1" in page and form["message"] in page


def test_recorded_cause_of_a_schedule_not_deactivated_is_its_current_failure(merchant):
    """A schedule still active whose boleto is being retried: the current epoch's alert. After a
    reactivation (a new epoch) that old failure is no longer what the ticket is about."""
    schedule = ScheduleFactory(merchant=merchant)
    assert selectors.ticket_schedule_context(schedule=schedule) == {"cause": "", "diagnostic": ""}
    MerchantAlert.objects.create(
        merchant=merchant,
        schedule=schedule,
        kind=MerchantAlert.Kind.DELIVERY_FAILING,
        schedule_epoch=0,
        cause=DeactivationCause.MAILBOX_FULL,
        diagnostic="452 4.2.2 Mailbox full",
    )
    assert selectors.ticket_schedule_context(schedule=schedule) == {
        "cause": "mailbox_full",
        "diagnostic": "452 4.2.2 Mailbox full",
    }
    Schedule.objects.filter(pk=schedule.pk).update(epoch=1)
    schedule.refresh_from_db()
    assert selectors.ticket_schedule_context(schedule=schedule) == {"cause": "", "diagnostic": ""}


def test_double_submit_opens_one_ticket_and_writes_one_message(
    owner_client, merchant, owner, staff, deactivated, django_capture_on_commit_callbacks
):
    form = {"schedule": str(deactivated.number), "subject": "Ajuda", "message": "Mesma coisa"}
    assert owner_client.post("/chamados/novo/", form)["Location"] == "/chamados/1/"
    assert owner_client.post("/chamados/novo/", form)["Location"] == "/chamados/1/"
    ticket = SupportTicket.objects.get()
    assert ticket.messages.count() == 1
    # Not a duplicate: another message, or the same text later in the conversation.
    assert owner_client.post("/chamados/novo/", {**form, "message": "Outra"})["Location"] == (
        "/chamados/2/"
    )
    owner_client.post("/chamados/1/", {"message": "Segunda"})
    owner_client.post("/chamados/1/", {"message": "Segunda"})
    assert ticket.messages.count() == 2
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_answer(ticket=ticket, staff_user=staff, body="Resposta")
        services.ticket_answer(ticket=ticket, staff_user=staff, body="Resposta")
    assert ticket.messages.filter(from_staff=True).count() == 1
    assert len(mail.outbox) == 1


def test_ticket_without_schedule(owner_client, merchant, caplog):
    caplog.set_level(logging.INFO, logger="notifications.tickets.services")
    response = owner_client.post(
        "/chamados/novo/", {"schedule": "", "subject": "Boletos", "message": "Como funciona?"}
    )
    ticket = SupportTicket.objects.get()
    assert response.status_code == 302
    assert ticket.schedule is None and ticket.cause == "" and ticket.number == 1
    assert (
        f"event=ticket_opened merchant={merchant.pk} schedule_id=- schedule_number=- ticket=1"
        in [r.getMessage() for r in caplog.records]
    )


def test_numbers_are_per_merchant(merchant, other_merchant, owner, other_owner):
    numbers = [open_ticket(merchant, owner, subject=f"Assunto {n}").number for n in range(3)]
    assert numbers == [1, 2, 3]
    assert open_ticket(other_merchant, other_owner).number == 1


@pytest.mark.parametrize(
    "raw", ["other", "999999", "abc", "-1", "99999999999999999999999", "%C2%B2", "%00"]
)
def test_query_string_schedule_of_another_merchant_or_unknown_is_ignored(
    owner_client, other_merchant, raw
):
    foreign = ScheduleFactory(merchant=other_merchant)
    schedule_deactivate(schedule=foreign, cause=DeactivationCause.MAILBOX_FULL)
    number = str(foreign.number) if raw == "other" else raw

    response = owner_client.get(f"/chamados/novo/?agendamento={number}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Agendamento não encontrado." in html
    assert foreign.customer.name not in html
    assert "Caixa postal cheia" not in html
    assert 'type="hidden" name="schedule"' not in html


def test_tampered_post_schedule_is_refused(owner_client, other_merchant):
    foreign = ScheduleFactory(merchant=other_merchant)
    form = {"schedule": str(foreign.number), "subject": "Assunto", "message": "Mensagem digitada"}

    for garbage in ["²", "1" * 30, "nº 1"]:
        response = owner_client.post("/chamados/novo/", {**form, "schedule": garbage})
        assert response.status_code == 200
    response = owner_client.post("/chamados/novo/", form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Agendamento não encontrado." in html
    assert foreign.customer.name not in html
    assert "Mensagem digitada" in html and 'value="Assunto"' in html
    assert not SupportTicket.objects.exists()


def test_service_refuses_another_merchants_schedule(merchant, owner, other_merchant):
    foreign = ScheduleFactory(merchant=other_merchant)
    with pytest.raises(ValidationError) as exc:
        open_ticket(merchant, owner, schedule=foreign)
    assert exc.value.message_dict == {"schedule": ["Agendamento não encontrado."]}
    assert not SupportTicket.objects.exists()


def test_empty_message_is_a_pt_br_error_and_keeps_what_was_typed(owner_client, deactivated):
    form = {"schedule": str(deactivated.number), "subject": "Meu assunto", "message": "   "}

    response = owner_client.post("/chamados/novo/", form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Escreva a sua mensagem." in html
    assert 'value="Meu assunto"' in html
    # Still about the same schedule, with its recorded cause on display.
    assert f'type="hidden" name="schedule" value="{deactivated.number}"' in html
    assert CAUSE in html
    assert not SupportTicket.objects.exists()


def test_missing_subject_and_too_long_message(owner_client):
    response = owner_client.post("/chamados/novo/", {"subject": "", "message": "x" * 5001})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Este campo é obrigatório." in html
    assert "no máximo 5000 caracteres" in html
    assert not SupportTicket.objects.exists()


# --- List and detail ----------------------------------------------------------------------------


def test_list_and_detail_are_scoped_to_the_merchant(
    merchant, owner, other_merchant, other_owner, deactivated
):
    mine = [open_ticket(merchant, owner, subject=f"Meu chamado {n}") for n in range(2)]
    theirs = open_ticket(other_merchant, other_owner, subject="Chamado do outro lojista")

    me, them = login(owner), login(other_owner)
    listing = me.get("/chamados/").content.decode()
    assert "Meu chamado 0" in listing and "Meu chamado 1" in listing
    assert "Chamado do outro lojista" not in listing
    # Newest first.
    assert listing.index("Meu chamado 1") < listing.index("Meu chamado 0")

    # The other merchant's own nº 1 is theirs; my nº 2 does not exist for them.
    assert theirs.number == 1
    assert them.get(f"/chamados/{mine[1].number}/").status_code == 404
    page = them.get("/chamados/1/").content.decode()
    assert "Chamado do outro lojista" in page and "Meu chamado" not in page
    assert them.post(f"/chamados/{mine[1].number}/", {"message": "oi"}).status_code == 404
    assert not TicketMessage.objects.filter(ticket=mine[1], body="oi").exists()
    assert me.get("/chamados/99999999999/").status_code == 404
    assert me.get("/chamados/abc/").status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get("/chamados/")
    assert response.status_code == 302 and "/entrar/" in response["Location"]


def test_list_query_count_is_constant(owner_client, merchant, owner):
    schedules = [ScheduleFactory(merchant=merchant) for _ in range(3)]
    for schedule in schedules:
        open_ticket(merchant, owner, schedule=schedule)
    owner_client.get("/chamados/")  # warm-up (session, content types)

    with CaptureQueriesContext(connection) as few:
        assert owner_client.get("/chamados/").status_code == 200
    for _ in range(22):
        open_ticket(merchant, owner, schedule=ScheduleFactory(merchant=merchant))
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get("/chamados/")
    assert response.status_code == 200
    assert response.content.decode().count('class="badge status-open"') == 25
    assert len(many) == len(few)
    assert len(many) <= 8
    # Page 2 and garbage page numbers answer too.
    assert owner_client.get("/chamados/?page=2").status_code == 200
    assert owner_client.get("/chamados/?page=abc").status_code == 200


def test_nav_has_the_tickets_link(owner_client):
    assert 'href="/chamados/"' in owner_client.get("/").content.decode()


# --- Staff answer in the admin ------------------------------------------------------------------


def admin_post(client, ticket, **data):
    return client.post(
        f"/admin/notifications/supportticket/{ticket.pk}/change/",
        {
            "answer": "",
            "messages-TOTAL_FORMS": "0",
            "messages-INITIAL_FORMS": str(ticket.messages.count()),
            "messages-MIN_NUM_FORMS": "0",
            "messages-MAX_NUM_FORMS": "1000",
            **data,
        },
    )


def test_admin_answer_is_emailed_once_and_shown_in_the_portal(
    merchant, deactivated, staff, django_capture_on_commit_callbacks
):
    creator = MembershipFactory(merchant=merchant, role="member").user
    ticket = open_ticket(merchant, creator, schedule=deactivated, subject="Por que desativou?")
    mail.outbox.clear()
    admin = login(staff)

    answer = "O endereço do cliente não existe.\nCorrija o e-mail e reative o agendamento."
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_post(admin, ticket, answer=answer)
    assert response.status_code == 302

    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.ANSWERED
    assert ticket.answered_at is not None
    reply = ticket.messages.get(from_staff=True)
    assert reply.author == staff and reply.notified_at is not None
    (email,) = mail.outbox
    assert email.to == [merchant.alert_email, creator.email]
    assert email.subject == f"Resposta ao chamado nº {ticket.number}: Por que desativou?"
    assert "O endereço do cliente não existe." in email.body
    assert f"http://127.0.0.1:8000/chamados/{ticket.number}/" in email.body
    assert CAUSE in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "O endereço do cliente não existe.<br>" in html

    # Saving again without a new answer, and the task running again, send nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_post(admin, ticket).status_code == 302
    assert services.ticket_message_notify(merchant_id=merchant.pk, message_id=reply.pk) is False
    assert len(mail.outbox) == 1

    # Shown in the portal: the list says "Respondido", the detail shows the answer.
    portal = login(creator)
    listing = portal.get("/chamados/").content.decode()
    assert "Respondido" in listing
    page = portal.get(f"/chamados/{ticket.number}/").content.decode()
    assert "Resposta do suporte" in page
    assert "O endereço do cliente não existe.<br>Corrija o e-mail" in page
    assert staff.get_username() not in page


def test_answer_goes_to_the_alert_email_only_when_it_is_the_creator(
    merchant, staff, django_capture_on_commit_callbacks
):
    creator = MembershipFactory(merchant=merchant, user__email=merchant.alert_email.upper()).user
    ticket = open_ticket(merchant, creator)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_answer(ticket=ticket, staff_user=staff, body="Resolvido.")
    (email,) = mail.outbox
    assert email.to == [merchant.alert_email]


def test_admin_lists_filters_and_searches(merchant, owner, other_merchant, other_owner, staff):
    # A number no ticket has: the search also matches ticket numbers (1, 2, ...).
    schedule = ScheduleFactory(merchant=merchant, number=4242)
    open_ticket(merchant, owner, schedule=schedule, subject="Sobre o agendamento")
    answered = open_ticket(other_merchant, other_owner, subject="Outro assunto")
    services.ticket_answer(ticket=answered, staff_user=staff, body="Feito.")
    admin = login(staff)
    base = "/admin/notifications/supportticket/"

    page = admin.get(f"{base}?status__exact=open").content.decode()
    assert "Sobre o agendamento" in page and "Outro assunto" not in page
    page = admin.get(f"{base}?q={schedule.number}").content.decode()
    assert "Sobre o agendamento" in page and "Outro assunto" not in page
    page = admin.get(f"{base}?q={other_merchant.trade_name}").content.decode()
    assert "Outro assunto" in page and "Sobre o agendamento" not in page
    assert admin.get(f"{base}?q=n%C3%A3o-%C3%A9-n%C3%BAmero").status_code == 200
    assert admin.get(f"{base}add/").status_code == 403
    change = admin.get(f"{base}{answered.pk}/change/").content.decode()
    assert "Nova resposta" in change and "Feito." in change and "Outro assunto" in change


def test_admin_close_without_answer_sends_nothing(
    merchant, owner, staff, django_capture_on_commit_callbacks
):
    ticket = open_ticket(merchant, owner)
    mail.outbox.clear()
    assert admin_post(login(staff), ticket, close="on").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.CLOSED and ticket.closed_at is not None
    assert not mail.outbox

    # An answer that also closes: emailed once, ticket stays closed.
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_post(login(staff), ticket, answer="Encerrando.", close="on").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.CLOSED and ticket.answered_at is not None
    (email,) = mail.outbox
    assert "Encerrando." in email.body


# --- The conversation ---------------------------------------------------------------------------


def test_merchant_reply_reopens_and_a_closed_ticket_refuses_replies(
    owner_client, merchant, owner, staff, django_capture_on_commit_callbacks
):
    ticket = open_ticket(merchant, owner)
    services.ticket_answer(ticket=ticket, staff_user=staff, body="Pode detalhar?")
    with (
        override_settings(SUPPORT_EMAILS=SUPPORT),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = owner_client.post(f"/chamados/{ticket.number}/", {"message": "Claro: ..."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.OPEN
    (email,) = mail.outbox
    assert email.to == SUPPORT and "Nova mensagem no chamado nº 1" in email.subject

    # Empty reply: error in Portuguese, nothing written.
    response = owner_client.post(f"/chamados/{ticket.number}/", {"message": " "})
    assert response.status_code == 200
    assert "Escreva a sua mensagem." in response.content.decode()

    services.ticket_close(ticket=ticket)
    response = owner_client.post(f"/chamados/{ticket.number}/", {"message": "Mais uma coisa"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Este chamado está encerrado." in html
    assert ticket.messages.count() == 3


def test_sweeper_requeues_notifications_that_never_left(
    merchant, owner, staff, django_capture_on_commit_callbacks
):
    ticket = open_ticket(merchant, owner)  # on_commit never ran: as if the broker was down
    services.ticket_answer(ticket=ticket, staff_user=staff, body="Resposta perdida")
    assert not mail.outbox
    later = timezone.now() + timedelta(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ticket_notify_sweep(now=later) == 2
    # SUPPORT_EMAILS is empty: only the answer leaves (to the alert address and the creator).
    assert [m.to for m in mail.outbox] == [[merchant.alert_email, owner.email]]
    assert not TicketMessage.objects.filter(notified_at__isnull=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ticket_notify_sweep(now=later) == 0
    assert len(mail.outbox) == 1


# --- Invariants in the database -----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "answered", "answered_at": None},
        {"status": "closed", "closed_at": None},
        {"status": "open", "closed_at": timezone.now()},
        {"status": "bogus"},
        {"subject": ""},
    ],
)
def test_ticket_constraints(merchant, owner, changes):
    ticket = open_ticket(merchant, owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportTicket.objects.filter(pk=ticket.pk).update(**changes)


def test_message_and_number_constraints(merchant, owner):
    ticket = open_ticket(merchant, owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketMessage.objects.create(ticket=ticket, body="")
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportTicket.objects.create(merchant=merchant, number=ticket.number, subject="x")


# --- Concurrency (PostgreSQL row locks) ---------------------------------------------------------


def _in_threads(target, count):
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_notifications_email_once(merchant, owner, staff):
    ticket = open_ticket(merchant, owner)
    reply = services.ticket_answer(ticket=ticket, staff_user=staff, body="Uma vez só")
    # Outside a test transaction the answer was emailed at commit already: as if it had not.
    TicketMessage.objects.filter(pk=reply.pk).update(notified_at=None)
    mail.outbox.clear()

    _in_threads(
        lambda: services.ticket_message_notify(merchant_id=merchant.pk, message_id=reply.pk), 4
    )

    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_tickets_get_distinct_numbers(merchant, owner):
    _in_threads(lambda: open_ticket(merchant, owner, subject=threading.current_thread().name), 4)
    assert sorted(SupportTicket.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
