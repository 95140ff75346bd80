from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing.models import amount_field, amount_in_range
from portal.formats import datetime_br
from portal.models import MerchantOwnedModel
from schedules import dates

LEAD_DAYS_MIN, LEAD_DAYS_MAX, LEAD_DAYS_DEFAULT = 1, 60, 10
LEAD_DAYS_OUT_OF_RANGE = _("A antecedência deve ser de 1 a 60 dias.")


class Frequency(models.IntegerChoices):
    MONTHLY = 1, _("Mensal")
    EVERY_2_MONTHS = 2, _("A cada 2 meses")
    QUARTERLY = 3, _("A cada 3 meses")
    SEMIANNUAL = 6, _("A cada 6 meses")
    YEARLY = 12, _("Anual")
    EVERY_2_YEARS = 24, _("A cada 2 anos")


class ScheduleStatus(models.TextChoices):
    ACTIVE = "active", _("Ativo")
    DEACTIVATED = "deactivated", _("Desativado")
    CANCELLED = "cancelled", _("Cancelado")
    # Reached its end (after N installments or a last due date): the last one was issued.
    FINISHED = "finished", _("Encerrado")


# Statuses whose issued boletos still go out to the customer: a finished schedule's last
# boleto is issued in the very transaction that finishes it, and must still be delivered.
DELIVERING_STATUSES = frozenset({ScheduleStatus.ACTIVE, ScheduleStatus.FINISHED})
# Nothing can be changed any more: no edit, no reactivation.
READ_ONLY_STATUSES = frozenset({ScheduleStatus.CANCELLED, ScheduleStatus.FINISHED})


class DeactivationCause(models.TextChoices):
    """Why a schedule stopped: the classified delivery failure (email-delivery.md §3)."""

    INVALID_ADDRESS = "invalid_address", _("Endereço de e-mail inexistente ou inválido")
    MAILBOX_FULL = "mailbox_full", _("Caixa postal cheia")
    SERVER_UNAVAILABLE = "server_unavailable", _("Servidor de e-mail indisponível")
    SPAM_COMPLAINT = "spam_complaint", _("Marcado como spam pelo cliente")
    UNSUBSCRIBED = "unsubscribed", _("Cliente pediu para não receber e-mails")
    # The address is on our email provider's suppression list (an earlier bounce, or added by
    # the provider): the provider refuses to send to it. Support can clear the suppression; the
    # address may be right.
    ESP_SUPPRESSED = "esp_suppressed", _("Bloqueado pelo provedor de e-mail")
    # The customer's mail server refused *our* message (reputation, content, SPF/DKIM/DMARC):
    # a problem on our side, never a deactivation cause.
    PROVIDER_BLOCKED = "provider_blocked", _("Mensagem recusada pelo servidor do cliente")
    SENDING_PROBLEM = "sending_problem", _("Problema no envio")
    OTHER = "other", _("Outro motivo")


# The customer received the boleto and asked not to get these emails (complaint, unsubscribe):
# nothing was "not delivered" and there is no address to fix; only their consent reopens email.
CONSENT_CAUSES = frozenset({DeactivationCause.SPAM_COMPLAINT, DeactivationCause.UNSUBSCRIBED})


def needs_consent(cause: str) -> bool:
    return cause in CONSENT_CAUSES


class Schedule(MerchantOwnedModel):
    """A recurring rule (agendamento): issues installments until the merchant cancels it."""

    number = models.PositiveBigIntegerField(_("número"))
    customer = models.ForeignKey(
        "billing.Customer",
        on_delete=models.PROTECT,
        related_name="schedules",
        verbose_name=_("cliente"),
    )
    amount = amount_field(_("valor"))
    frequency_months = models.PositiveSmallIntegerField(_("frequência"), choices=Frequency.choices)
    first_due_date = models.DateField(_("primeiro vencimento"))
    lead_days = models.PositiveSmallIntegerField(
        _("antecedência de emissão (dias)"),
        default=LEAD_DAYS_DEFAULT,
        validators=[
            MinValueValidator(LEAD_DAYS_MIN, message=LEAD_DAYS_OUT_OF_RANGE),
            MaxValueValidator(LEAD_DAYS_MAX, message=LEAD_DAYS_OUT_OF_RANGE),
        ],
    )
    description = models.CharField(_("descrição"), max_length=200, blank=True)
    status = models.CharField(
        _("situação"), max_length=12, choices=ScheduleStatus.choices, default=ScheduleStatus.ACTIVE
    )
    deactivation_cause = models.CharField(
        _("motivo da desativação"), max_length=20, choices=DeactivationCause.choices, blank=True
    )
    deactivated_at = models.DateTimeField(_("desativado em"), null=True, blank=True)
    reactivated_at = models.DateTimeField(_("reativado em"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelado em"), null=True, blank=True)
    finished_at = models.DateTimeField(_("encerrado em"), null=True, blank=True)
    # Optional end: the total number of installments, and/or the last due date allowed. The
    # generator never issues past it and finishes the schedule with the last installment.
    end_count = models.PositiveIntegerField(_("número de parcelas"), null=True, blank=True)
    end_date = models.DateField(_("último vencimento"), null=True, blank=True)
    # Due-date anchor: installment ``anchor_sequence`` is nominally due on ``anchor_due_date``
    # (null: the first due date) and each later one ``frequency_months`` after it, counted from
    # the anchor. Changing the due day moves the anchor to the next unissued installment, so
    # issued ones keep their dates and sequences stay continuous. db_default: rows written by
    # raw COPY/INSERT (bench/) need not know the columns.
    anchor_sequence = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    anchor_due_date = models.DateField(null=True, blank=True, editable=False)
    # The day of month due dates fall on from the anchor (null: the anchor date's own day).
    # Kept apart from the date because the anchor month may be shorter: day 31 anchored in
    # February is stored as 28/02 + 31, and March is then due on the 31st.
    anchor_day = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # Bumped at every reactivation; delivery events about emails sent in an older epoch never
    # deactivate the schedule again (email-delivery.md §5.3).
    epoch = models.PositiveIntegerField(default=0, editable=False)
    # Generator cursor: the next installment to consider and the day it must be issued.
    next_sequence = models.PositiveIntegerField(default=1, editable=False)
    next_issue_on = models.DateField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # only read on the detail page; not worth an index update per cursor move
    )
    # The one-time token of the form that created it (portal.formtokens): the same form sent
    # twice finds this schedule instead of creating another. Null when created otherwise.
    form_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("agendamento")
        verbose_name_plural = _("agendamentos")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "number"], name="schedule_number_per_merchant"
            ),
            models.UniqueConstraint(
                fields=["merchant", "form_token"],
                condition=Q(form_token__isnull=False),
                name="schedule_form_token_once",
            ),
            models.CheckConstraint(
                condition=amount_in_range("amount"), name="schedule_amount_range"
            ),
            models.CheckConstraint(
                condition=Q(frequency_months__in=[f.value for f in Frequency]),
                name="schedule_frequency_known",
            ),
            models.CheckConstraint(
                condition=Q(lead_days__gte=LEAD_DAYS_MIN, lead_days__lte=LEAD_DAYS_MAX),
                name="schedule_lead_days_range",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ScheduleStatus]),
                name="schedule_status_known",
            ),
            # A deactivated schedule always says why and since when; others carry no cause.
            models.CheckConstraint(
                condition=(
                    Q(status="deactivated", deactivated_at__isnull=False)
                    & ~Q(deactivation_cause="")
                )
                | (~Q(status="deactivated") & Q(deactivation_cause="")),
                name="schedule_cause_iff_deactivated",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="schedule_cancelled_has_time",
            ),
            models.CheckConstraint(condition=Q(next_sequence__gte=1), name="schedule_next_seq_pos"),
            # A finished schedule says since when (and, like every non-deactivated one, carries
            # no deactivation cause: schedule_cause_iff_deactivated).
            models.CheckConstraint(
                condition=~Q(status="finished") | Q(finished_at__isnull=False),
                name="schedule_finished_has_time",
            ),
            models.CheckConstraint(
                condition=Q(end_count__isnull=True) | Q(end_count__gte=1),
                name="schedule_end_count_pos",
            ),
            models.CheckConstraint(
                condition=Q(anchor_sequence__gte=1) & Q(anchor_sequence__lte=F("next_sequence")),
                name="schedule_anchor_not_ahead",
            ),
            models.CheckConstraint(
                condition=Q(anchor_day__isnull=True)
                | Q(anchor_day__gte=1, anchor_day__lte=31, anchor_due_date__isnull=False),
                name="schedule_anchor_day_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="finished")
                | Q(end_count__isnull=False)
                | Q(end_date__isnull=False),
                name="schedule_finished_has_end",
            ),
        ]
        indexes = [
            # The generator's scan: active schedules whose next installment is due for issue.
            models.Index(
                fields=["next_issue_on", "id"],
                condition=Q(status="active"),
                name="schedule_due_for_issue",
            ),
            models.Index(fields=["merchant", "status", "-id"], name="schedule_merchant_status"),
            # Agendamentos Desativados (issue #5): newest deactivation first, optionally by cause;
            # partial, so they hold only the deactivated rows. Pages are cut on these alone
            # (index-only scans), then the page's rows are fetched by id.
            models.Index(
                fields=["merchant", "-deactivated_at", "-id"],
                condition=Q(status="deactivated"),
                name="schedule_deactivated_list",
            ),
            models.Index(
                fields=["merchant", "deactivation_cause", "-deactivated_at", "-id"],
                condition=Q(status="deactivated"),
                name="schedule_deactivated_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("schedules:detail", kwargs={"number": self.number})

    @property
    def anchor(self) -> tuple[int, date, int | None]:
        """``(sequence, its nominal due date, day of month or None)``: where due dates are
        computed from."""
        return self.anchor_sequence, self.anchor_due_date or self.first_due_date, self.anchor_day

    @property
    def due_day(self) -> int:
        """The day of month the next installments are due on (before month-end clamping)."""
        _, anchor_due, day = self.anchor
        return day or anchor_due.day

    @property
    def has_end(self) -> bool:
        return self.end_count is not None or self.end_date is not None

    @property
    def is_read_only(self) -> bool:
        return self.status in READ_ONLY_STATUSES

    def due_date_of(self, sequence: int) -> date:
        """Due date of installment ``sequence`` (from the anchor; before it, from the first due
        date: those installments are already issued or recorded). May raise
        dates.UnsupportedDateError."""
        anchor_sequence, anchor_due, day = self.anchor
        if sequence >= anchor_sequence:
            return dates.due_date(
                anchor_due, self.frequency_months, sequence - anchor_sequence + 1, day
            )
        return dates.due_date(self.first_due_date, self.frequency_months, sequence)

    def within_end(self, sequence: int, due: date) -> bool:
        """True when installment ``sequence`` due on ``due`` is not past the schedule's end."""
        if self.end_count is not None and sequence > self.end_count:
            return False
        return self.end_date is None or due <= self.end_date

    def clean(self):
        if self.customer_id and self.merchant_id and self.customer.merchant_id != self.merchant_id:
            raise ValidationError({"customer": _("Cliente não encontrado.")})


class ScheduleEvent(models.Model):
    """Append-only history of a schedule: who did what, when. Rows are never updated or deleted.

    On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE as well.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Agendamento criado")
        DEACTIVATED = "deactivated", _("Agendamento desativado")
        REACTIVATED = "reactivated", _("Agendamento reativado")
        CANCELLED = "cancelled", _("Agendamento cancelado")
        EMAIL_CHANGED = "email_changed", _("E-mail do cliente alterado")
        INSTALLMENTS_SKIPPED = "installments_skipped", _("Parcelas não emitidas")
        BOLETO_RESENT = "boleto_resent", _("Reenvio do boleto solicitado")
        # A merchant's edit of the customer (billing.signals.customer_updated): data holds
        # {"changes": {field: [before, after]}, "actor_email": ...}.
        CUSTOMER_UPDATED = "customer_updated", _("Dados do cliente alterados")
        NOTE = "note", _("Anotação")
        UPDATED = "updated", _("Agendamento alterado")
        FINISHED = "finished", _("Encerrado")

    merchant = models.ForeignKey("portal.Merchant", on_delete=models.PROTECT, related_name="+")
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("evento do agendamento")
        verbose_name_plural = _("histórico dos agendamentos")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["schedule", "created_at"], name="event_schedule_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({datetime_br(self.created_at)})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Schedule history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Schedule history is append-only.")


class ScheduleStatusCount(models.Model):
    """How many schedules a merchant has in each status: the Agendados tab counts.

    Kept by PostgreSQL triggers on schedules_schedule (migration 0005: statement-level on INSERT,
    DELETE and TRUNCATE, row-level when a status or merchant changes), so reading the counts is an
    index lookup instead of a COUNT over up to hundreds of thousands of rows, and no code path
    can forget to update them. Never written by the application; empty on SQLite, where
    ``schedules.selectors.schedule_counts`` counts with one aggregate instead.
    """

    merchant = models.ForeignKey(
        "portal.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=12, choices=ScheduleStatus.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("contagem de agendamentos")
        verbose_name_plural = _("contagens de agendamentos")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "status"], name="schedule_count_once"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.status}: {self.count}"


class ImportBatch(MerchantOwnedModel):
    """One uploaded spreadsheet (Importar planilha): its preview, kept so that the merchant
    confirms by id without uploading again, and the valid rows that the confirmation imports.

    The file itself is not kept: ``sha256`` identifies it, ``report`` is what the preview shows
    (every row, its problems in Portuguese), ``rows`` the validated values of the valid rows.
    Confirming runs under the merchant's row lock and flips ``status`` once: twice imports once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Aguardando confirmação")
        IMPORTED = "imported", _("Importada")

    original_name = models.CharField(_("arquivo"), max_length=255)
    sha256 = models.CharField(max_length=64)
    file_format = models.CharField(_("formato"), max_length=4)
    status = models.CharField(
        _("situação"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("linhas lidas"), default=0)
    valid_rows = models.PositiveIntegerField(_("linhas válidas"), default=0)
    error_rows = models.PositiveIntegerField(_("linhas com erro"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("linhas duplicadas"), default=0)
    ignored_columns = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=list, blank=True)
    rows = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    imported_at = models.DateTimeField(_("importada em"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("agendamentos criados"), default=0)

    class Meta:
        verbose_name = _("importação de planilha")
        verbose_name_plural = _("importações de planilha")
        indexes = [models.Index(fields=["merchant", "-id"], name="import_batch_merchant")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "imported"]), name="import_batch_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(imported_at__isnull=False),
                name="import_batch_imported_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"
