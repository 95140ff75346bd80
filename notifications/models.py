from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.vocabulary import DeliveryAction, EmailState
from schedules.models import DeactivationCause


class EmailEvent(models.Model):
    """The durable inbox of ESP tracking events: stored raw before anything acts on them.

    The webhook only authenticates (anymail), stores the event here under a dedupe key of our own
    and answers 2xx; a task processes it. A failure while processing leaves the row with its
    error for the sweeper to retry: the event is never lost and the ESP never sees a 5xx for it.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Aguardando processamento")
        RECORDED = "recorded", _("Registrado")
        UNMATCHED = "unmatched", _("Sem e-mail correspondente")
        APPLIED = "applied", _("Aplicado")
        STALE = "stale", _("Sem efeito (antigo ou repetido)")
        FAILED = "failed", _("Erro no processamento")

    class Effect(models.TextChoices):
        """What the policy did with the event, recorded when it decided (the timeline shows it;
        it is never recomputed from the schedule's state at render time). The values are the
        policy's decisions (notifications/policy.py)."""

        RECORDED = "recorded", _("apenas registrado")
        DEFERRED = "deferred", _("entrega em andamento: o provedor ainda está tentando")
        SUSPECT = (
            "suspect",
            _("endereço marcado como suspeito: o provedor ainda está tentando entregar"),
        )
        DELIVERED = "delivered", _("boleto marcado como entregue")
        RETRY_AND_WARN = "retry_and_warn", _("nova tentativa de envio agendada; lojista avisado")
        RETRY = "retry", _("nova tentativa de envio agendada")
        SUPERSEDED = "superseded_attempt", _("tentativa anterior: sem efeito (já houve outra)")
        DEACTIVATED = "deactivated", _("agendamento desativado")
        OLD_EPOCH = (
            "undelivered_old_epoch",
            _("e-mail anterior à reativação: sem efeito no agendamento"),
        )
        OLD_ADDRESS = (
            "undelivered_old_address",
            _("e-mail para um endereço anterior: sem efeito no agendamento"),
        )
        NOT_ACTIVE = (
            "undelivered_schedule_not_active",
            _("boleto não entregue; o agendamento já não estava ativo"),
        )
        STALE = "stale", _("repetido ou fora de ordem: sem efeito")
        OPS_ALERT = (
            "ops_alert",
            _("problema do nosso lado: equipe da plataforma avisada, nada muda no agendamento"),
        )
        UNMATCHED = "unmatched", _("sem e-mail correspondente")

    # Unique through Meta.constraints (not unique=True, which on PostgreSQL adds a second,
    # LIKE-pattern index that every insert would write and nothing reads).
    dedupe_key = models.CharField(max_length=64)
    esp_name = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=20)
    reject_reason = models.CharField(max_length=20, blank=True)
    # Not indexed: nothing looks events up by these (the policy matches OutboundEmail), and each
    # index is written by every webhook request (docs/benchmarks.md, Webhook).
    recipient = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    esp_timestamp = models.DateTimeField(null=True, blank=True)
    description = models.TextField(blank=True)
    mta_response = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # The email this event is about, once processing matched it (None: unmatched).
    outbound_email = models.ForeignKey(
        "notifications.OutboundEmail",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # partial index below: NULL when the webhook stores the row
    )
    # Filled by processing (notifications.delivery.email_event_process).
    action = models.CharField(max_length=10, choices=DeliveryAction.choices, blank=True)
    cause = models.CharField(max_length=20, blank=True)
    smtp_code = models.CharField(max_length=10, blank=True)
    enhanced_status = models.CharField(max_length=10, blank=True)
    diagnostic = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    # Set by the policy with the outcome; "" for events processed before it was recorded.
    effect = models.CharField(max_length=32, choices=Effect.choices, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("evento de e-mail")
        verbose_name_plural = _("eventos de e-mail")
        constraints = [
            # What the webhook's INSERT … ON CONFLICT (dedupe_key) DO NOTHING relies on.
            models.UniqueConstraint(fields=["dedupe_key"], name="email_event_dedupe_key"),
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="email_event_unprocessed",
            ),
            # The per-minute rematch of events that arrived before their email's row
            # (notifications.delivery.email_events_rematch): only unmatched rows are in it.
            models.Index(
                fields=["received_at"],
                condition=models.Q(outcome="unmatched"),
                name="email_event_unmatched",
            ),
            # The schedule timeline's events per email (schedules/selectors.py).
            models.Index(
                fields=["outbound_email"],
                condition=models.Q(outbound_email__isnull=False),
                name="email_event_outbound",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.esp_name} {self.event_type} {self.recipient}"


class OutboundEmail(models.Model):
    """One boleto email to one recipient: links the ESP's message id back to the boleto."""

    class SendStatus(models.TextChoices):
        SENT = "sent", _("Enviado")
        QUEUED = "queued", _("Na fila do provedor")
        REJECTED = "rejected", _("Recusado pelo provedor")
        INVALID = "invalid", _("Endereço inválido")
        FAILED = "failed", _("Falhou")
        UNKNOWN = "unknown", _("Desconhecido")

    merchant = models.ForeignKey("portal.Merchant", on_delete=models.PROTECT, related_name="+")
    boleto = models.ForeignKey(
        "billing.Boleto", on_delete=models.PROTECT, related_name="emails", db_index=False
    )
    schedule = models.ForeignKey(
        "schedules.Schedule", on_delete=models.PROTECT, related_name="emails"
    )
    # The schedule's reactivation epoch when this email left: events about it never deactivate
    # a schedule that was reactivated since (email-delivery.md §5.3).
    schedule_epoch = models.PositiveIntegerField()
    # 1 for the first send; our retries after a transient failure are 2, 3, ...
    attempt = models.PositiveSmallIntegerField(default=1)
    recipient = models.EmailField(max_length=254)
    esp_name = models.CharField(max_length=40, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    send_status = models.CharField(max_length=10, choices=SendStatus.choices)
    sent_at = models.DateTimeField()
    # Per-message state, monotonic (email-delivery.md §5.2): an event only moves it up.
    state = models.PositiveSmallIntegerField(choices=EmailState.choices, default=EmailState.SENT)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail enviado")
        verbose_name_plural = _("e-mails enviados")
        constraints = [
            # One email per boleto, epoch and attempt: a retried task never sends twice.
            models.UniqueConstraint(
                fields=["boleto", "schedule_epoch", "attempt"],
                name="outbound_email_once_per_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["message_id"], name="outbound_email_message_id"),
            # The delivery sweeper's scan for emails with neither a delivery nor a failure event
            # (state below "delivered", notifications/policy.py).
            models.Index(
                fields=["sent_at"],
                condition=Q(state__lt=EmailState.DELIVERED),
                name="outbound_email_unconfirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.get_send_status_display()})"


class MerchantAlertQuerySet(models.QuerySet):
    def for_merchant(self, merchant):
        return self.filter(merchant_id=getattr(merchant, "pk", merchant))


BANK_KINDS = (
    "registration_rejected",
    "paid_after_write_off",
    "amount_differs",
    "registration_overdue",
)


class MerchantAlert(models.Model):
    """What the merchant must know about a schedule (shown as a banner until acknowledged; the
    deactivation and failure kinds are also emailed to the alert address). At most one
    deactivation or first-failure alert per schedule and epoch; at most one "delivery not
    confirmed" alert per boleto."""

    class Kind(models.TextChoices):
        DEACTIVATED = "deactivated", _("Agendamento desativado")
        DELIVERY_FAILING = "delivery_failing", _("Boleto ainda não entregue")
        # Sent through the ESP more than a day ago and still no delivery (nor failure) event:
        # the boleto may not have reached the customer (delivery_sweep). Nothing is deactivated.
        DELIVERY_UNCONFIRMED = "delivery_unconfirmed", _("Entrega não confirmada")
        # Facts from the merchant's bank (billing.signals.bank_attention), one per boleto;
        # emailed once; the values are billing.models.BankAttention's.
        REGISTRATION_REJECTED = "registration_rejected", _("Registro rejeitado pelo banco")
        PAID_AFTER_WRITE_OFF = "paid_after_write_off", _("Pagamento de boleto baixado")
        AMOUNT_DIFFERS = "amount_differs", _("Pago com valor diferente do emitido")
        REGISTRATION_OVERDUE = "registration_overdue", _("Registro ainda não confirmado")

    merchant = models.ForeignKey("portal.Merchant", on_delete=models.PROTECT, related_name="+")
    schedule = models.ForeignKey(
        "schedules.Schedule", on_delete=models.PROTECT, related_name="alerts"
    )
    boleto = models.ForeignKey(
        "billing.Boleto", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    schedule_epoch = models.PositiveIntegerField()
    cause = models.CharField(max_length=20, blank=True, choices=DeactivationCause.choices)
    diagnostic = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = MerchantAlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alerta ao lojista")
        verbose_name_plural = _("alertas aos lojistas")
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "kind", "schedule_epoch"],
                condition=Q(kind="deactivated"),
                name="alert_once_per_epoch",
            ),
            # The merchant is warned at the first failure of every boleto (again after a
            # reactivation sends it in a new epoch), not once per schedule.
            models.UniqueConstraint(
                fields=["boleto", "kind", "schedule_epoch"],
                condition=Q(kind="delivery_failing"),
                name="alert_failing_once_per_boleto",
            ),
            models.UniqueConstraint(
                fields=["boleto", "kind"],
                condition=Q(kind="delivery_unconfirmed"),
                name="alert_unconfirmed_once_per_boleto",
            ),
            # A bank fact is alerted (and emailed) once per boleto, however often it is
            # announced (the registration-overdue job runs hourly; a retorno imported twice).
            models.UniqueConstraint(
                fields=["boleto", "kind"],
                condition=Q(kind__in=BANK_KINDS),
                name="alert_bank_once_per_boleto",
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "-created_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_open_per_merchant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.schedule_id}"

    @property
    def is_bank(self) -> bool:
        return self.kind in BANK_KINDS

    @property
    def bank_title(self) -> str:
        """The banner's headline for a bank alert."""
        # In the function, as action_text: alert_texts is loaded only when a text is needed.
        from notifications.alert_texts import bank_alert_title

        return bank_alert_title(kind=self.kind, schedule_number=self.schedule.number)

    @property
    def action_text(self) -> str:
        """What the merchant should do next, in words that fit the cause."""
        from notifications.alert_texts import alert_action

        return alert_action(kind=self.kind, cause=self.cause)


# Support tickets live in their own package; imported here so Django registers them under the
# notifications app (their app_label and tables are unchanged).
from notifications.tickets.models import SupportTicket, TicketMessage  # noqa: E402, F401
