from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.documents import format_document, normalize_document, validate_cpf_or_cnpj
from portal.formats import date_br, day_month_br, time_br
from portal.models import MerchantOwnedModel, merchant_foreign_key
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

    class Registration(models.TextChoices):
        """Whether the beneficiary's bank knows the boleto (FEBRABAN's Nova Plataforma de
        Cobrança: an unregistered boleto cannot be paid). Asynchronous by file: a remessa carries
        the entry, the bank's retorno confirms (02) or rejects it (03, with reasons)."""

        NOT_APPLICABLE = "n/a", _("Não se aplica")
        PENDING = "pending", _("Aguardando registro")
        REGISTERED = "registered", _("Registrado")
        REJECTED = "rejected", _("Rejeitado")

    class Payment(models.TextChoices):
        """What the bank's retorno said about the money. "Vencido" is not stored: it is an open
        boleto past its due date (billing.selectors), so it needs no job to flip it."""

        OPEN = "open", _("Em aberto")
        PAID = "paid", _("Pago")
        WRITTEN_OFF = "written_off", _("Baixado")
        PAID_AFTER_WRITE_OFF = "paid_after_write_off", _("Pago após baixa")

    class Instruction(models.TextChoices):
        """A change asked of the bank for a registered title, sent in the next remessa."""

        NONE = "", _("Nenhuma")
        WRITE_OFF = "write_off", _("Pedido de baixa")

    class InstructionStatus(models.TextChoices):
        NONE = "", _("Nenhuma")
        PENDING = "pending", _("Aguardando remessa")
        SENT = "sent", _("Enviada ao banco")
        CONFIRMED = "confirmed", _("Confirmada pelo banco")
        REJECTED = "rejected", _("Rejeitada pelo banco")

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
    def payable(self) -> bool:
        """Issued, not refused by the bank, and still open: what the customer can pay (and the
        only boletos worth sending again)."""
        return (
            self.status == self.Status.ISSUED
            and self.bank.registration_status != self.Registration.REJECTED
            and self.bank.payment_status == self.Payment.OPEN
        )

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


class BoletoBank(MerchantOwnedModel):
    """A boleto's state at the bank: registration, payment and instructions, one row per boleto.

    Kept out of the boleto's own row on purpose. A retorno rewrites these fields for every
    title it reports (100,000 in one file), and their states are indexed for the lists' filters:
    in the wide boleto row (payer and beneficiary snapshots, ten indexes) each such change rewrote
    the whole row and every index; here it rewrites ~150 bytes and three indexes
    (docs/benchmarks.md, issue 12). The row is made by the database with its boleto (a trigger,
    billing/migrations/0012), so a boleto without one cannot exist.
    """

    boleto = models.OneToOneField(
        Boleto,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="bank",
        verbose_name=_("boleto"),
    )
    # A copy of the boleto's due date (immutable once issued: it is in the barcode), for the
    # open / overdue index below.
    due_date = models.DateField(_("vencimento"))
    # Registration at the bank (see Boleto.Registration): the trigger that makes the row writes
    # "pending" for an issued boleto and "n/a" for a skipped one, which never goes to the bank.
    registration_status = models.CharField(
        _("registro"),
        max_length=10,
        choices=Boleto.Registration.choices,
        default=Boleto.Registration.PENDING,
    )
    # The bank's reasons for a rejection: [{"code": "48", "text": "CEP inválido"}].
    registration_reasons = models.JSONField(_("motivos da rejeição"), default=list, blank=True)
    # No index on either remessa: nothing looks boletos up by remessa (remessas are never
    # deleted), and every index is one more write in each retorno's bulk UPDATE.
    registration_remessa = models.ForeignKey(
        "billing.Remessa",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("remessa do registro"),
        db_index=False,
    )
    registered_at = models.DateTimeField(_("registrado em"), null=True, blank=True)
    # Payment, from the bank's retorno. Amounts as the bank reported them: a payment different
    # from the issued amount is recorded, never "fixed".
    payment_status = models.CharField(
        _("pagamento"),
        max_length=20,
        choices=Boleto.Payment.choices,
        default=Boleto.Payment.OPEN,
    )
    amount_paid = models.DecimalField(
        _("valor pago"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount_credited = models.DecimalField(
        _("valor creditado"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    bank_fee = models.DecimalField(
        _("tarifa"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    interest_fine = models.DecimalField(
        _("juros e multa"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    discount = models.DecimalField(
        _("desconto"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    paid_on = models.DateField(_("pago em"), null=True, blank=True)
    credited_on = models.DateField(_("creditado em"), null=True, blank=True)
    written_off_on = models.DateField(_("baixado em"), null=True, blank=True)
    # A pending instruction to the bank (write-off when the schedule is cancelled).
    instruction = models.CharField(
        _("instrução"), max_length=10, choices=Boleto.Instruction.choices, default="", blank=True
    )
    instruction_status = models.CharField(
        _("situação da instrução"),
        max_length=10,
        choices=Boleto.InstructionStatus.choices,
        default="",
        blank=True,
    )
    instruction_remessa = models.ForeignKey(
        "billing.Remessa",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("remessa da instrução"),
        db_index=False,
    )
    instruction_reasons = models.JSONField(_("motivos da instrução"), default=list, blank=True)

    class Meta:
        verbose_name = _("situação no banco")
        verbose_name_plural = _("situações no banco")
        constraints = [
            models.CheckConstraint(
                condition=Q(registration_status__in=["n/a", "pending", "registered", "rejected"]),
                name="boleto_bank_registration_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    payment_status__in=["open", "paid", "written_off", "paid_after_write_off"]
                ),
                name="boleto_bank_payment_known",
            ),
            # A payment is recorded with what was paid and when.
            models.CheckConstraint(
                condition=~Q(payment_status__in=["paid", "paid_after_write_off"])
                | Q(amount_paid__isnull=False, paid_on__isnull=False),
                name="boleto_bank_paid_has_amount",
            ),
            models.CheckConstraint(
                condition=(Q(instruction="") & Q(instruction_status=""))
                | (~Q(instruction="") & ~Q(instruction_status="")),
                name="boleto_bank_instruction_has_status",
            ),
        ]
        indexes = [
            # The remessa's scan (boletos to register) and the boleto list's filters.
            # No partial predicate on these two: a query would have to restate it to use them
            # (skipped boletos, the only "n/a" rows, are few).
            models.Index(
                fields=["merchant", "registration_status"], name="boleto_bank_merchant_reg"
            ),
            # Open / overdue / paid counts and filters (dashboard, boleto list).
            models.Index(
                fields=["merchant", "payment_status", "due_date"], name="boleto_bank_merchant_pay"
            ),
            models.Index(
                fields=["merchant", "instruction_status"],
                condition=Q(instruction_status="pending"),
                name="boleto_bank_instr_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.boleto_id}: {self.registration_status}/{self.payment_status}"


class CollectionChannel(models.TextChoices):
    """How a merchant's bank account registers boletos and reports what was paid."""

    TEST_BANK = "testbank", _("Banco de testes (999)")
    CNAB240 = "cnab240", _("CNAB 240 (arquivo)")
    CNAB400 = "cnab400", _("CNAB 400 (arquivo)")


# Which bank takes which file layout (banking.md §1); the test bank takes CNAB 240 from anyone.
CHANNEL_BANKS = {
    CollectionChannel.CNAB240: ("001", "033"),
    CollectionChannel.CNAB400: ("001", "237", "341"),
}
WRITE_OFF_DAYS_MAX = 120


class BankAttention(models.TextChoices):
    """Bank facts that need the merchant (alerted through notifications)."""

    REGISTRATION_REJECTED = "registration_rejected", _("Registro rejeitado pelo banco")
    PAID_AFTER_WRITE_OFF = "paid_after_write_off", _("Pagamento de boleto baixado")
    AMOUNT_DIFFERS = "amount_differs", _("Pago com valor diferente do emitido")
    REGISTRATION_OVERDUE = "registration_overdue", _("Registro ainda não confirmado")


class BankCollection(MerchantOwnedModel):
    """The collection settings of the merchant's bank account (one per merchant): the channel
    (the test bank, or CNAB 240/400 files), what the layout needs beyond the account printed on
    the boleto (portal.Merchant), the file sequence (NSA) and the write-off and alert policies."""

    channel = models.CharField(
        _("canal de cobrança"),
        max_length=10,
        choices=CollectionChannel.choices,
        default=CollectionChannel.TEST_BANK,
    )
    company_code = models.CharField(
        _("código da empresa / de transmissão"),
        max_length=20,
        blank=True,
        help_text=_("Bradesco: código da empresa; Santander: código de transmissão."),
    )
    wallet_variation = models.CharField(
        _("variação da carteira"),
        max_length=3,
        blank=True,
        help_text=_("Banco do Brasil, CNAB 240: variação da carteira (ex.: 019)."),
    )
    next_nsa = models.PositiveIntegerField(
        _("próximo NSA"),
        default=1,
        help_text=_("Número sequencial do próximo arquivo de remessa."),
    )
    write_off_days = models.PositiveSmallIntegerField(
        _("baixa automática (dias após o vencimento)"),
        null=True,
        blank=True,
        # FEBRABAN's "dias para baixa" (P 225-227) counts from 1: a bank refuses 0.
        validators=[MinValueValidator(1), MaxValueValidator(WRITE_OFF_DAYS_MAX)],
        help_text=_("Vazio: o banco não baixa sozinho. De 1 a 120 dias."),
    )
    registration_alert_days = models.PositiveSmallIntegerField(
        _("alertar registro pendente após (dias úteis)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )

    class Meta:
        verbose_name = _("cobrança bancária")
        verbose_name_plural = _("cobranças bancárias")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], name="bankcollection_one_per_merchant"),
            models.CheckConstraint(
                condition=Q(channel__in=["testbank", "cnab240", "cnab400"]),
                name="bankcollection_channel_known",
            ),
            models.CheckConstraint(condition=Q(next_nsa__gte=1), name="bankcollection_nsa_pos"),
            models.CheckConstraint(
                condition=Q(write_off_days__isnull=True)
                | Q(write_off_days__gte=1, write_off_days__lte=WRITE_OFF_DAYS_MAX),
                name="bankcollection_write_off_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.get_channel_display()}"


class Remessa(MerchantOwnedModel):
    """A remessa file as generated: immutable, downloadable again. Its NSA increases by one per
    file and merchant (allocated under the BankCollection row's lock)."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Automática (horário configurado)")
        MANUAL = "manual", _("Gerada pelo lojista")
        TEST_BANK = "testbank", _("Banco de testes")

    nsa = models.PositiveIntegerField(_("NSA"))
    layout = models.CharField(_("layout"), max_length=8)
    bank_code = models.CharField(_("banco"), max_length=3)
    file = models.FileField(_("arquivo"), upload_to="bank/remessas/%Y/%m/")
    filename = models.CharField(_("nome do arquivo"), max_length=100)
    sha256 = models.CharField(max_length=64)
    titles = models.PositiveIntegerField(_("títulos"), default=0)
    # {"01": entries, "02": write-offs, ...}: movement code -> titles.
    movements = models.JSONField(_("movimentos"), default=dict, blank=True)
    total_amount = models.DecimalField(
        _("valor total"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    trigger = models.CharField(_("origem"), max_length=10, choices=Trigger.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gerada por"),
    )

    class Meta:
        verbose_name = _("remessa")
        verbose_name_plural = _("remessas")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "nsa"], name="remessa_nsa_per_merchant"),
        ]

    def __str__(self) -> str:
        return self.filename


class Retorno(MerchantOwnedModel):
    """A retorno file as received (upload, inbox folder, test bank, command): stored once per
    merchant (sha256), then applied once (status guard under the row's lock)."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Enviado pelo portal")
        INBOX = "inbox", _("Pasta de entrada")
        TEST_BANK = "testbank", _("Banco de testes")
        COMMAND = "command", _("Linha de comando")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Recebido")
        APPLIED = "applied", _("Processado")

    sha256 = models.CharField(max_length=64)
    file = models.FileField(_("arquivo"), upload_to="bank/retornos/%Y/%m/")
    filename = models.CharField(_("nome do arquivo"), max_length=255)
    size = models.PositiveIntegerField(_("tamanho"))
    layout = models.CharField(_("layout"), max_length=8)
    bank_code = models.CharField(_("banco"), max_length=3)
    nsa = models.PositiveIntegerField(_("NSA"), null=True, blank=True)
    generated_on = models.DateField(_("gerado em"), null=True, blank=True)
    source = models.CharField(_("origem"), max_length=10, choices=Source.choices)
    status = models.CharField(
        _("situação"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    # What applying it did, for the result page: counts per outcome and kind.
    summary = models.JSONField(_("resumo"), default=dict, blank=True)
    applied_at = models.DateTimeField(_("processado em"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enviado por"),
    )

    class Meta:
        verbose_name = _("retorno")
        verbose_name_plural = _("retornos")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "sha256"], name="retorno_once_per_merchant"
            ),
            # The target of the ledger's (retorno, merchant) foreign key (migration 0011).
            models.UniqueConstraint(fields=["id", "merchant"], name="retorno_id_merchant"),
            models.CheckConstraint(
                condition=Q(status__in=["received", "applied"]), name="retorno_status_known"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="retorno_recent")]

    def __str__(self) -> str:
        return self.filename


class BankOccurrence(MerchantOwnedModel):
    """One title of a retorno as read (a T/U pair, a CNAB 400 detail) and what the portal did
    with it: the ledger of bank facts (payments, write-offs, rejections, fees).

    Idempotent twice over: a file's line is recorded once (retorno, line), and a fact is applied
    to a boleto once whatever file carries it (``applied_key`` = boleto, occurrence, date)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Aplicado")
        DUPLICATE = "duplicate", _("Já processado antes")
        NOT_FOUND = "not_found", _("Boleto não encontrado")
        IGNORED = "ignored", _("Informativo")

    # One composite foreign key, (retorno, merchant) -> Retorno (id, merchant), added in
    # migration 0011 on PostgreSQL, stands for these two: it says the retorno exists AND is
    # the same merchant's (a tenancy invariant the two plain keys could not state), and it is
    # one check per ledger row at commit instead of two (100,000 of them in a big retorno).
    merchant = merchant_foreign_key(db_constraint=False)
    retorno = models.ForeignKey(
        Retorno,
        on_delete=models.PROTECT,
        related_name="occurrences",
        db_index=False,
        db_constraint=False,
    )
    line = models.PositiveIntegerField(_("linha"))
    # In the database the key points at the boleto's bank row (the same id; PostgreSQL,
    # migration 0013): the row a retorno has just updated, so checking the key at commit
    # touches no page of the wide boleto table (a 100,000-title retorno wrote ~85 MB less WAL).
    boleto = models.ForeignKey(
        Boleto,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_occurrences",
        verbose_name=_("boleto"),
        db_index=False,  # served by occurrence_boleto_time (boleto, created_at)
        db_constraint=False,
    )
    nosso_numero = models.CharField(_("nosso número"), max_length=30)
    our_id = models.CharField(_("uso da empresa"), max_length=25, blank=True)
    occurrence = models.CharField(_("ocorrência"), max_length=2)
    kind = models.CharField(_("tipo"), max_length=24)
    reasons = models.JSONField(_("motivos"), default=list, blank=True)
    amount = models.DecimalField(
        _("valor nominal"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    amount_paid = models.DecimalField(
        _("valor pago"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    amount_credited = models.DecimalField(
        _("valor creditado"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    fee = models.DecimalField(_("tarifa"), max_digits=14, decimal_places=2, null=True, blank=True)
    interest_fine = models.DecimalField(
        _("juros e multa"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    discount = models.DecimalField(
        _("desconto"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    occurred_on = models.DateField(_("data da ocorrência"), null=True, blank=True)
    credited_on = models.DateField(_("data do crédito"), null=True, blank=True)
    outcome = models.CharField(_("resultado"), max_length=10, choices=Outcome.choices)
    applied_key = models.CharField(max_length=60, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ocorrência bancária")
        verbose_name_plural = _("ocorrências bancárias")
        constraints = [
            models.UniqueConstraint(fields=["retorno", "line"], name="occurrence_line_once"),
            models.UniqueConstraint(
                fields=["merchant", "applied_key"],
                condition=Q(applied_key__isnull=False),
                name="occurrence_applied_once",
            ),
        ]
        indexes = [
            models.Index(fields=["boleto", "created_at"], name="occurrence_boleto_time"),
        ]

    def __str__(self) -> str:
        return f"{self.retorno_id}:{self.line} {self.occurrence} {self.kind}"


class TestBankTitle(models.Model):
    """The test bank's own memory (the "Banco de testes (999)" plays the bank's side): the
    titles it registered, per beneficiary account, keyed by the nosso número as the remessa
    carries it. Not a merchant's row: the bank knows accounts, not portal merchants. Its
    uniqueness is what lets the test bank reject a nosso número sent twice (billing.testbank's
    ``known``), as a real bank would."""

    __test__ = False  # not a pytest test class despite its name

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registrado")
        PAID = "paid", _("Pago")
        WRITTEN_OFF = "written_off", _("Baixado")

    # The beneficiary account as the remessa header carries it (document, convênio, agency,
    # account): billing.registration.testbank_account_key.
    account_key = models.CharField(_("conta"), max_length=80)
    nosso_numero = models.CharField(_("nosso número"), max_length=30)
    our_id = models.CharField(_("uso da empresa"), max_length=25, blank=True)
    amount = models.DecimalField(_("valor"), max_digits=12, decimal_places=2)
    due_date = models.DateField(_("vencimento"))
    # Baixa automática: days after the due date, as sent with the title (None: never).
    write_off_days = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        _("situação"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    registered_on = models.DateField(_("registrado em"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("título no banco de testes")
        verbose_name_plural = _("títulos no banco de testes")
        constraints = [
            models.UniqueConstraint(
                fields=["account_key", "nosso_numero"], name="testbank_title_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["registered", "paid", "written_off"]),
                name="testbank_title_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_key} {self.nosso_numero}"
