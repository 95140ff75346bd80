import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.documents import normalize_document, validate_cnpj
from portal.signals import merchant_account_errors


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        abstract = True


class MerchantOwnedQuerySet(models.QuerySet):
    def for_merchant(self, merchant: "Merchant | int") -> "MerchantOwnedQuerySet":
        merchant_id = merchant if isinstance(merchant, int) else merchant.pk
        return self.filter(merchant_id=merchant_id)


def merchant_foreign_key(*, db_constraint: bool = True) -> models.ForeignKey:
    """The tenant column of a MerchantOwnedModel. ``db_constraint=False`` only where a composite
    key that includes the merchant stands for the plain one (billing.models.BankOccurrence)."""
    # No index of its own: every tenant-owned model has a composite index or unique constraint
    # that leads with merchant, which serves the same lookups (one index fewer per insert).
    return models.ForeignKey(
        "portal.Merchant",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lojista"),
        db_index=False,
        db_constraint=db_constraint,
    )


class MerchantOwnedModel(TimeStampedModel):
    """Base for every tenant-owned row: a non-null, indexed merchant and a scoped queryset.

    Views never query these models directly; they go through portal.tenancy, which starts from
    ``for_merchant(request.merchant)`` so that another merchant's id is simply not found (404).
    """

    merchant = merchant_foreign_key()

    objects = MerchantOwnedQuerySet.as_manager()

    class Meta:
        abstract = True


class Bank(models.TextChoices):
    BANCO_DO_BRASIL = "001", "001 - Banco do Brasil"
    SANTANDER = "033", "033 - Santander"
    BRADESCO = "237", "237 - Bradesco"
    ITAU = "341", "341 - Itaú Unibanco"


class Merchant(TimeStampedModel):
    """The tenant: the company that bills, and the beneficiário printed on its boletos."""

    legal_name = models.CharField(_("razão social"), max_length=150)
    trade_name = models.CharField(_("nome fantasia"), max_length=150, blank=True)
    cnpj = models.CharField(_("CNPJ"), max_length=14, unique=True, validators=[validate_cnpj])
    alert_email = models.EmailField(
        _("e-mail de alertas"),
        help_text=_("Recebe os avisos de agendamentos desativados."),
    )
    # Beneficiary address (printed on the boleto).
    address_street = models.CharField(_("endereço"), max_length=200, blank=True)
    address_city = models.CharField(_("cidade"), max_length=100, blank=True)
    address_state = models.CharField(_("UF"), max_length=2, blank=True)
    address_zip = models.CharField(_("CEP"), max_length=8, blank=True)
    # Bank account used on the boletos (campo livre, ficha de compensação).
    bank_code = models.CharField(_("banco"), max_length=3, choices=Bank.choices)
    agency = models.CharField(_("agência"), max_length=5)
    agency_digit = models.CharField(_("dígito da agência"), max_length=1, blank=True)
    account = models.CharField(_("conta"), max_length=12)
    account_digit = models.CharField(_("dígito da conta"), max_length=1, blank=True)
    wallet = models.CharField(_("carteira"), max_length=3)
    agreement = models.CharField(_("convênio / código do beneficiário"), max_length=9, blank=True)
    pix_key = models.CharField(
        _("chave Pix"),
        max_length=77,
        blank=True,
        help_text=_("Opcional: com uma chave, cada boleto traz também um QR Code Pix."),
    )
    # Per-merchant counters (schedule numbers are allocated under this row's lock).
    next_schedule_number = models.PositiveBigIntegerField(default=1, editable=False)
    # Nosso número counter for SQLite only; PostgreSQL uses a sequence per merchant, created by
    # billing when a merchant is saved for the first time (billing/accounts.py).
    next_nosso_numero = models.PositiveBigIntegerField(default=1, editable=False)
    # The merchant's logo as the portal stored it: a PNG re-encoded by portal.logos (never the
    # uploaded bytes), under a name derived from its content, so a boleto that recorded a name
    # keeps printing the logo it was issued with.
    logo = models.FileField(_("logotipo"), upload_to="logos/", blank=True, max_length=120)
    late_fee_percent = models.DecimalField(
        _("multa (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    monthly_interest_percent = models.DecimalField(
        _("juros ao mês (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        verbose_name = _("lojista")
        verbose_name_plural = _("lojistas")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bank_code__in=[c.value for c in Bank]),
                name="merchant_bank_code_known",
            ),
        ]

    def __str__(self) -> str:
        return self.trade_name or self.legal_name

    def save(self, *args, **kwargs):
        self.cnpj = normalize_document(self.cnpj)
        super().save(*args, **kwargs)

    def clean(self):
        # The bank's rules live in billing, which answers portal.signals.merchant_account_check.
        if self.bank_code:
            errors = merchant_account_errors(self.account_snapshot())
            if errors:
                raise ValidationError(list(errors.values()))

    def account_snapshot(self) -> dict:
        return {
            "bank_code": self.bank_code,
            "agency": self.agency,
            "agency_digit": self.agency_digit,
            "account": self.account,
            "account_digit": self.account_digit,
            "wallet": self.wallet,
            "agreement": self.agreement,
        }


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        OWNER = "owner", _("Proprietário")
        MEMBER = "member", _("Membro")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("papel"), max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("vínculo")
        verbose_name_plural = _("vínculos")
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_user_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"


class MerchantChange(MerchantOwnedModel):
    """Append-only record of who changed a merchant's settings or users, and when.

    ``changes`` maps a field to ``[before, after]`` as text (``None`` when there is no side).
    ``actor_email`` and ``subject_email`` are copies, so the record survives deleted users.
    """

    class Action(models.TextChoices):
        SETTINGS_UPDATED = "settings_updated", _("Configurações alteradas")
        MEMBER_INVITED = "member_invited", _("Usuário convidado")
        MEMBER_REMOVED = "member_removed", _("Usuário removido")
        ROLE_CHANGED = "role_changed", _("Papel alterado")
        INVITATION_ACCEPTED = "invitation_accepted", _("Convite aceito")
        INVITATION_CANCELLED = "invitation_cancelled", _("Convite cancelado")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("alterado por"),
    )
    actor_email = models.CharField(_("e-mail de quem alterou"), max_length=254, blank=True)
    action = models.CharField(_("ação"), max_length=30, choices=Action.choices)
    subject_email = models.CharField(_("usuário afetado"), max_length=254, blank=True)
    changes = models.JSONField(_("alterações"), default=dict, blank=True)

    class Meta:
        verbose_name = _("alteração da conta")
        verbose_name_plural = _("alterações da conta")
        indexes = [models.Index(fields=["merchant", "-created_at"], name="merchantchange_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.actor_email}"


class RateLimit(models.Model):
    """Recent uses of one throttled action by one key (an address, a client), for a sliding
    window: ``hits`` holds their times (epoch seconds). portal.ratelimit reads and writes it
    under the row's lock, so concurrent requests cannot all slip under the limit. The key is a
    SHA-256 digest: the table never holds the typed email or the client's address."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    hits = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("limite de uso")
        verbose_name_plural = _("limites de uso")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="ratelimit_scope_key"),
        ]
        indexes = [models.Index(fields=["scope", "updated_at"], name="ratelimit_stale")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:12]} ({len(self.hits)})"


class Invitation(MerchantOwnedModel):
    """An owner's invitation of an email address to the merchant, pending until the person
    accepts it through the emailed link (portal.services.invitation_accept): nobody joins a
    merchant, and no user is created, before that. Only a SHA-256 digest of the link's token
    is stored. One pending invitation per address and merchant (inviting again renews it)."""

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("papel"), max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("convidado por"),
    )
    expires_at = models.DateTimeField(_("expira em"))
    accepted_at = models.DateTimeField(_("aceito em"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("aceito por"),
    )

    class Meta:
        verbose_name = _("convite")
        verbose_name_plural = _("convites")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} @ {self.merchant_id} ({self.role})"

    @staticmethod
    def hash_token(token: str | None) -> str:
        return hashlib.sha256((token or "").encode()).hexdigest()
