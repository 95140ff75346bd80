import unicodedata

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from portal import services
from portal.documents import normalize_document, validate_cnpj
from portal.formfields import BrazilianDecimalField, PortalFormMixin
from portal.models import Bank, Membership
from portal.pix_keys import normalize_pix_key
from portal.signals import merchant_account_errors

UF_CHOICES = [
    ("", "---------"),
    *[
        (uf, uf)
        for uf in (
            "AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO"
        ).split()
    ],
]

digits_only = RegexValidator(r"^[0-9]*$", _("Use apenas números."), code="digits")
digit_or_letter = RegexValidator(r"^[0-9A-Za-z]?$", _("Um dígito ou letra."), code="check_digit")


PERCENT_RANGE = _("Informe um percentual de 0 a 100, por exemplo 2,00.")
PERCENT_CENTS = _("Use no máximo 2 casas decimais, por exemplo 2,50.")


def _percent_field(label, help_text):
    return BrazilianDecimalField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={
            "invalid": PERCENT_RANGE,
            "min_value": PERCENT_RANGE,
            "max_value": PERCENT_RANGE,
            "max_digits": PERCENT_RANGE,
            "max_whole_digits": PERCENT_RANGE,
            "max_decimal_places": PERCENT_CENTS,
        },
    )


class MerchantSettingsForm(PortalFormMixin, forms.Form):
    """Configurações: syntax here (pt-BR, values kept on error); the bank's rules, uniqueness
    and the save itself in portal.services.merchant_settings_update."""

    alert_email = forms.EmailField(
        label=_("E-mail de alertas"),
        help_text=_("Recebe os avisos de agendamentos desativados."),
    )
    legal_name = forms.CharField(label=_("Razão social"), max_length=150)
    trade_name = forms.CharField(label=_("Nome fantasia"), max_length=150, required=False)
    cnpj = forms.CharField(label=_("CNPJ"), max_length=18)
    address_street = forms.CharField(label=_("Endereço"), max_length=200)
    address_city = forms.CharField(label=_("Cidade"), max_length=100)
    address_state = forms.ChoiceField(label=_("UF"), choices=UF_CHOICES)
    address_zip = forms.CharField(label=_("CEP"), max_length=9)
    bank_code = forms.ChoiceField(label=_("Banco"), choices=Bank.choices)
    agency = forms.CharField(label=_("Agência"), max_length=5, validators=[digits_only])
    agency_digit = forms.CharField(
        label=_("Dígito da agência"), max_length=1, required=False, validators=[digit_or_letter]
    )
    account = forms.CharField(
        label=_("Conta"),
        max_length=12,
        validators=[digits_only],
        help_text=_("Sem o dígito."),
    )
    account_digit = forms.CharField(
        label=_("Dígito da conta"), max_length=1, required=False, validators=[digit_or_letter]
    )
    wallet = forms.CharField(label=_("Carteira"), max_length=3, validators=[digits_only])
    agreement = forms.CharField(
        label=_("Convênio / código do beneficiário"),
        max_length=9,
        required=False,
        validators=[digits_only],
        help_text=_("Obrigatório para Banco do Brasil e Santander."),
    )
    pix_key = forms.CharField(
        label=_("Chave Pix"),
        max_length=100,
        required=False,
        help_text=_(
            "Opcional: CPF, CNPJ, e-mail, celular (+55 DDD número) ou chave aleatória. "
            "Com uma chave, cada boleto traz também um QR Code Pix."
        ),
    )
    late_fee_percent = _percent_field(
        _("Multa (%)"), _("Cobrada uma vez após o vencimento. Ex.: 2,00.")
    )
    monthly_interest_percent = _percent_field(
        _("Juros ao mês (%)"), _("Juros de mora por mês de atraso. Ex.: 1,00.")
    )

    FIELDSETS = (
        (_("Alertas"), ("alert_email",)),
        (
            _("Beneficiário"),
            (
                "legal_name",
                "trade_name",
                "cnpj",
                "address_street",
                "address_city",
                "address_state",
                "address_zip",
            ),
        ),
        (
            _("Conta bancária dos boletos"),
            (
                "bank_code",
                "agency",
                "agency_digit",
                "account",
                "account_digit",
                "wallet",
                "agreement",
            ),
        ),
        (_("Pix"), ("pix_key",)),
        (_("Multa e juros"), ("late_fee_percent", "monthly_interest_percent")),
    )

    def fieldsets(self):
        return [(title, [self[name] for name in names]) for title, names in self.FIELDSETS]

    def clean_cnpj(self):
        value = normalize_document(self.cleaned_data["cnpj"])
        validate_cnpj(value)
        return value

    def clean_address_zip(self):
        value = "".join(ch for ch in self.cleaned_data["address_zip"] if ch in "0123456789")
        if len(value) != 8:
            raise forms.ValidationError(_("CEP deve ter 8 dígitos."))
        return value

    def clean_agency_digit(self):
        return self.cleaned_data["agency_digit"].upper()

    def clean_account_digit(self):
        return self.cleaned_data["account_digit"].upper()

    def clean_pix_key(self):
        return normalize_pix_key(self.cleaned_data["pix_key"])

    def clean(self):
        cleaned = super().clean()
        account_fields = services.ACCOUNT_FIELDS
        # The bank's rules once every account field is well formed (so all errors show at once;
        # the service checks them again before saving).
        if not any(field in self.errors for field in account_fields):
            account = {field: cleaned.get(field, "") for field in account_fields}
            for field, message in merchant_account_errors(account).items():
                self.add_error(None if field == NON_FIELD_ERRORS else field, message)
        return cleaned


class MemberInviteForm(PortalFormMixin, forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=150)
    role = forms.ChoiceField(
        label=_("Papel"),
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text=_("Proprietários alteram as configurações e os usuários; membros usam o portal."),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class MemberRoleForm(PortalFormMixin, forms.Form):
    role = forms.ChoiceField(label=_("Papel"), choices=Membership.Role.choices)


class MerchantSwitchForm(PortalFormMixin, forms.Form):
    merchant = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class PortalPasswordResetForm(PortalFormMixin, PasswordResetForm):
    """Django's reset form, also for invited users who never chose a password (their invite
    link may have expired): those have an unusable password, which Django's form skips."""

    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email):
        User = get_user_model()
        email_field = User.get_email_field_name()
        users = User._default_manager.filter(
            **{f"{email_field}__iexact": email, "is_active": True}
        ).prefetch_related("memberships")
        for user in users:
            # As Django does: the stored address must equal the typed one after Unicode
            # case folding, not just match SQL's case-insensitive comparison.
            if not _same_email(email, getattr(user, email_field)):
                continue
            if user.has_usable_password() or user.memberships.all():
                yield user


def _same_email(a: str, b: str) -> bool:
    return (
        unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()
    )


class MerchantLogoForm(PortalFormMixin, forms.Form):
    """Upload (or remove) the merchant's logo; portal.logos checks the bytes."""

    logo = forms.FileField(
        label=_("Logotipo"),
        required=False,
        help_text=_(
            "PNG, JPEG, GIF ou WebP, até 2 MB. Aparece no portal, nos e-mails dos boletos e no "
            "recibo do pagador."
        ),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove = forms.BooleanField(label=_("Remover o logotipo"), required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("remove") and not cleaned.get("logo"):
            self.add_error("logo", _("Escolha um arquivo de imagem."))
        return cleaned
