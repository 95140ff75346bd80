"""Support tickets (chamados): opening, replies, staff answers and their email notifications.

A ticket is opened by a merchant user (usually from a deactivated schedule) and answered by
support staff in the Django admin. Every message is emailed to the other side once, after
commit: staff answers to the merchant's alert address (and to the user who opened the ticket),
merchant messages to settings.SUPPORT_EMAILS.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _lazy

from notifications.tickets.models import SupportTicket, TicketMessage
from notifications.tickets.selectors import ticket_schedule_context
from portal.logs import log_decision
from portal.models import Merchant
from portal.queue import enqueue_on_commit
from portal.text import header_text
from schedules.models import Schedule

logger = logging.getLogger(__name__)

TICKET_SCHEDULE_NOT_FOUND = _lazy("Agendamento não encontrado.")
TICKET_SUBJECT_EMPTY = _lazy("Informe o assunto do chamado.")
TICKET_MESSAGE_EMPTY = _lazy("Escreva a sua mensagem.")
TICKET_CLOSED = _lazy("Este chamado está encerrado. Se precisar, abra um novo chamado.")
# The same ticket opened twice by the same user within this window is one ticket (double submit).
TICKET_DUPLICATE_WINDOW = timedelta(minutes=2)
# The sweeper re-queues notifications still unsent after this long (broker down at commit)...
TICKET_NOTIFY_STUCK_AFTER = timedelta(minutes=10)
# ...for this long; after that a failing notification is left for a human (logged).
TICKET_NOTIFY_GIVE_UP_AFTER = timedelta(days=2)


def _ticket_lock(ticket):
    return SupportTicket.objects.select_for_update().get(
        pk=ticket.pk, merchant_id=ticket.merchant_id
    )


def _ticket_message_add(*, ticket, body: str, author, from_staff: bool):
    """Append a message (the caller holds the ticket's lock). A double-submitted form, the same
    text by the same author right after itself, returns the message already written."""
    # In the function: the tasks module imports this one.
    from notifications.tickets.tasks import ticket_message_notify_task

    last = ticket.messages.order_by("-created_at", "-id").first()
    if (
        last is not None
        and last.body == body
        and last.from_staff == from_staff
        and last.author_id == getattr(author, "pk", None)
    ):
        return last
    message = TicketMessage.objects.create(
        ticket=ticket, body=body, author=author, from_staff=from_staff
    )
    enqueue_on_commit(
        ticket_message_notify_task, merchant_id=ticket.merchant_id, message_id=message.pk
    )
    return message


def ticket_create(*, merchant, actor, subject: str, message: str, schedule=None):
    """Open a ticket with the merchant's first message, copying the schedule's recorded cause and
    diagnostic as they are now. The schedule must belong to the merchant (re-checked here, not
    only in the form); the number is allocated per merchant under the merchant row lock."""
    subject, message = subject.strip(), message.strip()
    errors = {}
    if not subject:
        errors["subject"] = TICKET_SUBJECT_EMPTY
    if not message:
        errors["message"] = TICKET_MESSAGE_EMPTY
    if schedule is not None and schedule.merchant_id != merchant.pk:
        errors["schedule"] = TICKET_SCHEDULE_NOT_FOUND
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        snapshot = {"cause": "", "diagnostic": ""}
        if schedule is not None:
            # Read the schedule again inside the transaction: the copy is what is recorded now.
            schedule = Schedule.objects.for_merchant(merchant).get(pk=schedule.pk)
            snapshot = ticket_schedule_context(schedule=schedule)
        Merchant.objects.select_for_update().only("pk").get(pk=merchant.pk)
        # A double-submitted form: the same user just opened the same ticket.
        duplicate = (
            SupportTicket.objects.for_merchant(merchant)
            .filter(
                created_by=actor,
                schedule=schedule,
                subject=subject,
                created_at__gte=timezone.now() - TICKET_DUPLICATE_WINDOW,
                messages__body=message,
            )
            .order_by("-number")
            .first()
        )
        if duplicate is not None:
            return duplicate
        last = SupportTicket.objects.for_merchant(merchant).aggregate(last=Max("number"))["last"]
        ticket = SupportTicket(
            merchant=merchant,
            number=(last or 0) + 1,
            schedule=schedule,
            subject=subject,
            created_by=actor,
            **snapshot,
        )
        ticket.full_clean()
        ticket.save()
        _ticket_message_add(ticket=ticket, body=message, author=actor, from_staff=False)
    log_decision(
        logger,
        "ticket_opened",
        merchant=merchant.pk,
        schedule_id=schedule.pk if schedule else None,
        schedule_number=schedule.number if schedule else None,
        ticket=ticket.number,
    )
    return ticket


def ticket_reply(*, ticket, actor, message: str):
    """A merchant's follow-up: the ticket is open again until support answers it."""
    message = message.strip()
    if not message:
        raise ValidationError({"message": TICKET_MESSAGE_EMPTY})
    with transaction.atomic():
        locked = _ticket_lock(ticket)
        if locked.status == SupportTicket.Status.CLOSED:
            raise ValidationError(TICKET_CLOSED)
        reply = _ticket_message_add(ticket=locked, body=message, author=actor, from_staff=False)
        locked.status = SupportTicket.Status.OPEN
        locked.save(update_fields=["status", "updated_at"])
    ticket.refresh_from_db()
    return reply


def ticket_answer(*, ticket, staff_user, body: str, close: bool = False):
    """Support's answer (from the admin). The ticket becomes "respondido" (or "encerrado" when
    ``close``); the answer is emailed to the merchant once, after commit."""
    body = body.strip()
    if not body:
        raise ValidationError({"answer": TICKET_MESSAGE_EMPTY})
    with transaction.atomic():
        locked = _ticket_lock(ticket)
        answer = _ticket_message_add(ticket=locked, body=body, author=staff_user, from_staff=True)
        now = timezone.now()
        locked.answered_at = now
        if close:
            locked.status = SupportTicket.Status.CLOSED
            locked.closed_at = locked.closed_at or now
        else:
            # Answering a closed ticket reopens the conversation.
            locked.status = SupportTicket.Status.ANSWERED
            locked.closed_at = None
        locked.save(update_fields=["status", "answered_at", "closed_at", "updated_at"])
    ticket.refresh_from_db()
    return answer


def ticket_close(*, ticket) -> bool:
    """Close a ticket (staff). Returns False if it was already closed."""
    with transaction.atomic():
        locked = _ticket_lock(ticket)
        if locked.status == SupportTicket.Status.CLOSED:
            return False
        locked.status = SupportTicket.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at", "updated_at"])
    ticket.refresh_from_db()
    return True


def ticket_message_notify(*, merchant_id: int, message_id: int) -> bool:
    """Email a ticket message to the other side, once: a staff answer to the merchant's alert
    address and to the user who opened the ticket; a merchant message to SUPPORT_EMAILS.

    The row lock plus ``notified_at`` make a retried or duplicated task a no-op. The send happens
    before the commit that records it, so a crash in between can repeat one email; it can never
    lose one.
    """
    with transaction.atomic():
        message = (
            TicketMessage.objects.select_for_update(of=("self",))
            .select_related(
                "author", "ticket__merchant", "ticket__schedule__customer", "ticket__created_by"
            )
            .get(pk=message_id, ticket__merchant_id=merchant_id)
        )
        if message.notified_at is not None:
            return False
        ticket, base = message.ticket, settings.PORTAL_BASE_URL
        with translation.override("pt-br"):
            context = {
                "ticket": ticket,
                "message": message,
                "merchant": ticket.merchant,
                "schedule": ticket.schedule,
                "cause": ticket.get_cause_display() if ticket.cause else "",
                "ticket_url": base + ticket.get_absolute_url(),
                "admin_url": base
                + reverse("admin:notifications_supportticket_change", args=[ticket.pk]),
                "first": not TicketMessage.objects.filter(
                    ticket=ticket, pk__lt=message.pk
                ).exists(),
            }
            if message.from_staff:
                recipients = [ticket.merchant.alert_email]
                creator = ticket.created_by.email if ticket.created_by else ""
                if creator and creator.lower() != ticket.merchant.alert_email.lower():
                    recipients.append(creator)
                subject = translation.gettext("Resposta ao chamado nº %(number)s: %(subject)s")
                text = render_to_string("emails/ticket_answer.txt", context)
                html = render_to_string("emails/ticket_answer.html", context)
            else:
                recipients = list(settings.SUPPORT_EMAILS)
                if context["first"]:
                    subject = translation.gettext("Novo chamado nº %(number)s de %(merchant)s")
                else:
                    subject = translation.gettext(
                        "Nova mensagem no chamado nº %(number)s de %(merchant)s"
                    )
                text = render_to_string("emails/ticket_support.txt", context)
                html = None
            subject = subject % {
                "number": ticket.number,
                "subject": ticket.subject,
                "merchant": ticket.merchant,
            }
        if recipients:
            email = EmailMultiAlternatives(subject=header_text(subject), body=text, to=recipients)
            if html:
                email.attach_alternative(html, "text/html")
            email.send()
        else:
            log_decision(
                logger,
                "ticket_message_not_emailed",
                level=logging.WARNING,
                decision="skipped",
                ticket_message=message.pk,
                reason="no_support_emails",
            )
        message.notified_at = timezone.now()
        message.save(update_fields=["notified_at"])
    return True


def ticket_notify_sweep(*, now=None) -> int:
    """Re-queue ticket notifications that were never sent (broker down at commit, or a task
    that exhausted its retries). Safe to run any time: the notification itself is idempotent."""
    # In the function: the tasks module imports this one.
    from notifications.tickets.tasks import ticket_message_notify_task

    now = now or timezone.now()
    stuck = TicketMessage.objects.filter(
        notified_at__isnull=True,
        created_at__lt=now - TICKET_NOTIFY_STUCK_AFTER,
        created_at__gte=now - TICKET_NOTIFY_GIVE_UP_AFTER,
    ).values_list("ticket__merchant_id", "pk")
    stuck = list(stuck[:1000])
    for merchant_id, message_id in stuck:
        enqueue_on_commit(
            ticket_message_notify_task, merchant_id=merchant_id, message_id=message_id
        )
    if stuck:
        log_decision(
            logger, "ticket_notifications_requeued", level=logging.WARNING, count=len(stuck)
        )
    return len(stuck)
