from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.documents import format_document, normalize_document, validate_cpf_or_cnpj
from portal.formats import date_br, day_month_br, time_br
from portal.models import MerchantOwnedModel
from portal.timezones import business_localtime

# The barcode carries the amount in 10 digits (centavos): R$ 99.999.999,99 at most.
AMOUNT_MIN = Decimal("0.01")
AMOUNT_MAX = Decimal("99999999.99")
AMOUNT_OUT_OF_RANGE = _("O valor deve estar entre R$ 0,01 e R$ 99.999.999,99.")


def amount_field(verbose_name):
    return models.DecimalField(
        verbose_name,
        max_digits=10,
        decimal_places=2,
        validators=[
            MinValueValidator(AMOUNT_MIN, message=AMOUNT_OUT_OF_RANGE),
            MaxValueValidator(AMOUNT_MAX, message=AMOUNT_OUT_OF_RANGE),
        ],
    )


def amount_in_range(field: str) -> Q:
    return Q(**{f"{field}__gte": AMOUNT_MIN, f"{field}__lte": AMOUNT_MAX})


class Customer(MerchantOwnedModel):
    """The pagador: who receives and pays the merchant's boletos."""

    name = models.CharField(_("nome"), max_length=150)
    document = models.CharField(_("CPF ou CNPJ"), max_length=14, validators=[validate_cpf_or_cnpj])
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("telefone"), max_length=20, blank=True)
    address_street = models.CharField(_("endereço"), max_length=200)
    address_district = models.CharField(_("bairro"), max_length=100, blank=True)
    address_city = models.CharField(_("cidade"), max_length=100)
    address_state = models.CharField(_("UF"), max_length=2)
    address_zip = models.CharField(_("CEP"), max_length=8)
    # The one-time token of the form that registered it (portal.formtokens). Null when created
    # otherwise (with a new schedule, the schedule carries the token).
    form_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("cliente")
        verbose_name_plural = _("clientes")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "document"], name="customer_document_per_merchant"
            ),
            models.UniqueConstraint(
                fields=["merchant", "form_token"],
                condition=Q(form_token__isnull=False),
                name="customer_form_token_once",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "name"], name="customer_merchant_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.formatted_document})"

    def save(self, *args, **kwargs):
        self.document = normalize_document(self.document)
        super().save(*args, **kwargs)

    @property
    def formatted_document(self) -> str:
        return format_document(self.document)

    def snapshot(self) -> dict:
        """The pagador as printed on a boleto issued now (boletos never change afterwards)."""
        return {
            "name": self.name,
            "document": self.document,
            "email": self.email,
            "address_street": self.address_street,
            "address_district": self.address_district,
            "address_city": self.address_city,
            "address_state": self.address_state,
            "address_zip": self.address_zip,
        }


class Boleto(MerchantOwnedModel):
    """One installment of a schedule: an issued (or skipped) charge, immutable once issued."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Emitido")
        SKIPPED = "skipped", _("Não emitido (vencimento já passou)")

    class DeliveryStatus(models.TextChoices):
        NOT_APPLICABLE = "n/a", _("Não se aplica")
        PENDING = "pending", _("Aguardando envio")
        QUEUED = "queued", _("Na fila de envio")
        # A transient failure (mailbox full, server unavailable): sent again at next_attempt_at
        # by the per-minute beat job (notifications.delivery.delivery_retries_send).
        RETRY = "retry", _("Nova tentativa agendada")
        SENT = "sent", _("Enviado")
        DELIVERED = "delivered", _("Entregue")
        UNDELIVERED = "undelivered", _("Não entregue")
        # Refused on our side (our sending domain blocked, SPF/DKIM/DMARC, content): operations
        # are alerted; nothing is the merchant's or the customer's to fix.
        DELAYED = "delayed", _("Envio atrasado — problema na plataforma")
        # Not emailed because its schedule was no longer active when its turn to be sent came
        # (deactivated or cancelled meanwhile); a reactivation can send it.
        WITHHELD = "withheld", _("Não enviado (agendamento inativo)")

    schedule = models.ForeignKey(
        "schedules.Schedule",
        on_delete=models.PROTECT,
        related_name="boletos",
        verbose_name=_("agendamento"),
        db_index=False,  # served by the unique (schedule, sequence) index
    )
    sequence = models.PositiveIntegerField(_("parcela"))
    due_date = models.DateField(_("vencimento"))
    amount = amount_field(_("valor"))
    status = models.CharField(_("situação"), max_length=10, choices=Status.choices)
    delivery_status = models.CharField(_("entrega"), max_length=12, choices=DeliveryStatus.choices)
    issued_at = models.DateTimeField(_("emitido em"))
    handed_off_at = models.DateTimeField(_("entregue para envio em"), null=True, blank=True)
    # When the next send is due (delivery_status "retry" only).
    next_attempt_at = models.DateTimeField(_("próxima tentativa de envio"), null=True, blank=True)
    payer = models.JSONField(_("pagador (na emissão)"), default=dict)
    beneficiary = models.JSONField(_("beneficiário (na emissão)"), default=dict)
    # FEBRABAN numbers: filled by the boleto numbering (billing.febraban) at issue.
    nosso_numero = models.PositiveBigIntegerField(_("nosso número"), null=True, blank=True)
    barcode = models.CharField(_("código de barras"), max_length=44, blank=True)
    linha_digitavel = models.CharField(_("linha digitável"), max_length=47, blank=True)
    pix_payload = models.TextField(_("Pix copia e cola"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="boletos/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("boleto")
        verbose_name_plural = _("boletos")
        constraints = [
            # The generator's idempotency rests on this: an installment exists at most once.
            models.UniqueConstraint(fields=["schedule", "sequence"], name="boleto_schedule_seq"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="boleto_sequence_positive"),
            models.CheckConstraint(condition=amount_in_range("amount"), name="boleto_amount_range"),
            models.CheckConstraint(
                condition=Q(status__in=["issued", "skipped"]), name="boleto_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="issued") | Q(delivery_status="n/a"),
                name="boleto_skipped_not_delivered",
            ),
            models.CheckConstraint(
                condition=Q(delivery_status="retry", next_attempt_at__isnull=False)
                | (~Q(delivery_status="retry") & Q(next_attempt_at__isnull=True)),
                name="boleto_retry_has_time",
            ),
            # A nosso número identifies one boleto of the merchant's account at the bank.
            models.UniqueConstraint(
                fields=["merchant", "nosso_numero"],
                condition=Q(nosso_numero__isnull=False),
                name="boleto_nosso_numero_per_merchant",
            ),
        ]
        indexes = [
            # The Boletos tab and the dashboard: a merchant's issued boletos, newest first.
            models.Index(
                fields=["merchant", "-issued_at", "-id"],
                condition=Q(status="issued"),
                name="boleto_merchant_issued",
            ),
            models.Index(fields=["merchant", "delivery_status"], name="boleto_merchant_delivery"),
            # The per-minute retry job's scan: retries whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivery_status="retry"),
                name="boleto_retry_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}/{self.sequence} {date_br(self.due_date)}"

    @property
    def delivery_display(self) -> str:
        """The delivery state as the merchant reads it; a retry says when (São Paulo time):
        "Nova tentativa às 14:05", or with the day when it is not today."""
        if self.delivery_status == self.DeliveryStatus.RETRY and self.next_attempt_at:
            at = self.next_attempt_at
            if business_localtime(at).date() == business_localtime().date():
                return _("Nova tentativa às %(time)s") % {"time": time_br(at)}
            return _("Nova tentativa em %(day)s às %(time)s") % {
                "day": day_month_br(at),
                "time": time_br(at),
            }
        return self.get_delivery_status_display()
