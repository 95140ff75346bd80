"""Support tickets (chamados): a merchant's question and the conversation with support.

Registered under the notifications app (notifications/models.py imports this module), so the
app label and the tables stay ``notifications_supportticket`` / ``notifications_ticketmessage``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.formats import datetime_br
from portal.models import MerchantOwnedModel
from schedules.models import DeactivationCause


class SupportTicket(MerchantOwnedModel):
    """A merchant's question to support (chamado), usually about a deactivated schedule.

    The cause and the provider's diagnostic are copied from the schedule when the ticket is
    opened, so the ticket still says what happened after the schedule is reactivated or fails
    again for another reason. The conversation lives in ``TicketMessage`` (the merchant's first
    message included); ``status`` and ``answered_at`` summarise it for lists.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Aberto")
        ANSWERED = "answered", _("Respondido")
        CLOSED = "closed", _("Encerrado")

    # Public, per merchant ("Chamado nº 3"), allocated under the merchant row lock.
    number = models.PositiveIntegerField(_("número"))
    schedule = models.ForeignKey(
        "schedules.Schedule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("agendamento"),
    )
    subject = models.CharField(_("assunto"), max_length=150)
    cause = models.CharField(
        _("motivo registrado"), max_length=20, choices=DeactivationCause.choices, blank=True
    )
    diagnostic = models.CharField(_("resposta do provedor de e-mail"), max_length=500, blank=True)
    status = models.CharField(
        _("situação"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("aberto por"),
        db_index=False,
    )
    # Time of the latest answer from support (None until the first one).
    answered_at = models.DateTimeField(_("respondido em"), null=True, blank=True)
    closed_at = models.DateTimeField(_("encerrado em"), null=True, blank=True)

    class Meta:
        verbose_name = _("chamado")
        verbose_name_plural = _("chamados")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "number"], name="ticket_number_per_merchant"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "answered", "closed"]), name="ticket_status_known"
            ),
            models.CheckConstraint(condition=~Q(subject=""), name="ticket_subject_not_empty"),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False),
                name="ticket_answered_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="ticket_closed_iff_time",
            ),
        ]
        indexes = [
            # The admin's queue: open tickets, oldest first.
            models.Index(fields=["status", "created_at"], name="ticket_status_created"),
        ]

    def __str__(self) -> str:
        return f"Chamado nº {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("notifications:ticket_detail", kwargs={"number": self.number})


class TicketMessage(models.Model):
    """One message of a ticket's conversation, from the merchant or from support staff.

    ``notified_at`` records that the other side was emailed about it (support for a merchant
    message, the merchant for a staff answer); the notification task sets it under this row's
    lock so a retried or duplicated task never emails twice. Messages are never edited.
    """

    ticket = models.ForeignKey(
        SupportTicket, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    from_staff = models.BooleanField(_("da equipe de suporte"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("autor"),
        db_index=False,
    )
    body = models.TextField(_("mensagem"))
    created_at = models.DateTimeField(_("enviada em"), auto_now_add=True)
    notified_at = models.DateTimeField(_("notificada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("mensagem do chamado")
        verbose_name_plural = _("mensagens do chamado")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="ticket_message_not_empty"),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticket_message_thread"),
            # The sweeper's scan: notifications never sent (broker down at commit).
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="ticket_message_unnotified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} ({datetime_br(self.created_at)})"
