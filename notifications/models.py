from django.db import models
from django.utils.translation import gettext_lazy as _

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

    dedupe_key = models.CharField(max_length=64, unique=True)
    esp_name = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=20)
    reject_reason = models.CharField(max_length=20, blank=True)
    recipient = models.CharField(max_length=254, blank=True, db_index=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
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
    )
    # Filled by processing (notifications.services.email_event_process).
    action = models.CharField(max_length=10, blank=True)
    cause = models.CharField(max_length=20, blank=True)
    smtp_code = models.CharField(max_length=10, blank=True)
    enhanced_status = models.CharField(max_length=10, blank=True)
    diagnostic = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("evento de e-mail")
        verbose_name_plural = _("eventos de e-mail")
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="email_event_unprocessed",
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
    state = models.PositiveSmallIntegerField(default=0)
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
        indexes = [models.Index(fields=["message_id"], name="outbound_email_message_id")]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.get_send_status_display()})"


class MerchantAlertQuerySet(models.QuerySet):
    def for_merchant(self, merchant):
        return self.filter(merchant_id=getattr(merchant, "pk", merchant))


class MerchantAlert(models.Model):
    """What the merchant must know about a schedule (shown as a banner until acknowledged, and
    emailed to the alert address). At most one per deactivation: unique per schedule, kind and
    the schedule's epoch."""

    class Kind(models.TextChoices):
        DEACTIVATED = "deactivated", _("Agendamento desativado")
        DELIVERY_FAILING = "delivery_failing", _("Boleto ainda não entregue")

    merchant = models.ForeignKey("portal.Merchant", on_delete=models.PROTECT, related_name="+")
    schedule = models.ForeignKey(
        "schedules.Schedule", on_delete=models.PROTECT, related_name="alerts"
    )
    boleto = models.ForeignKey(
        "billing.Boleto", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
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
                fields=["schedule", "kind", "schedule_epoch"], name="alert_once_per_epoch"
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
