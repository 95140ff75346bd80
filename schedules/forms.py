from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from billing.forms import CustomerForm
from billing.models import AMOUNT_MAX, AMOUNT_MIN, BankCollection, CollectionChannel, Customer
from billing.services import CUSTOMER_DUPLICATE_DOCUMENT
from portal.documents import normalize_document
from portal.emailcheck import EmailCheckFormMixin
from portal.formfields import BrazilianDecimalField, PortalFormMixin, portal_field
from portal.formtokens import FormTokenField, FormTokenMixin
from portal.templatetags.money import format_brl
from schedules.models import (
    LEAD_DAYS_DEFAULT,
    LEAD_DAYS_MAX,
    LEAD_DAYS_MIN,
    DeactivationCause,
    Frequency,
)
from schedules.services import (
    DUE_DAY_RANGE,
    END_COUNT_MAX,
    MISSED_LIST_CHANGED,
    RESEND_BOLETO_NOT_FOUND,
    MissedChoice,
    validate_first_due_date,
)

CUSTOMER_EXISTING, CUSTOMER_NEW = "existing", "new"
CUSTOMER_REQUIRED = _("Escolha o cliente ou cadastre um novo.")
# One message per error, in the field's own terms (issue 10 item 24).
AMOUNT_TOO_LOW = _("O valor mínimo é R$ 0,01.")
AMOUNT_TOO_HIGH = _("O valor máximo é R$ 99.999.999,99.")
AMOUNT_CENTS = _("Informe no máximo 2 casas decimais (os centavos), por exemplo 1.234,56.")
AMOUNT_INVALID = _("Informe o valor em reais, por exemplo 1.234,56.")
LEAD_DAYS_RANGE = _("Antecedência: de 1 a 60 dias.")
# Shown when the merchant's bank registers by file: the boleto is emailed only once the bank's
# retorno confirms it (banking.md §7.4).
LEAD_DAYS_FILE_CHANNEL_HELP = _(
    "Seu banco registra os boletos por arquivo: cada boleto é enviado ao cliente só depois que "
    "o banco confirma o registro (no dia útil seguinte à remessa). A antecedência deve cobrir "
    "esse prazo."
)
# What the "Pré-visualizar datas" button validates; other fields keep what was typed, no errors.
PREVIEW_FIELDS = ("frequency_months", "first_due_date", "lead_days")


def keep_errors_only(form: forms.BaseForm, fields=()) -> None:
    """Validate ``form`` but keep only the errors of ``fields`` (values are kept as typed)."""
    for name in list(form.errors):
        if name not in fields:
            del form.errors[name]


# Up to this many customers the form offers a list to pick from; beyond it (a merchant with
# thousands), the merchant types the customer's CPF or CNPJ instead of scrolling a huge list.
CUSTOMER_SELECT_LIMIT = 200


class CustomerDocumentField(forms.CharField):
    """The merchant's customer, found by the CPF or CNPJ typed (with or without punctuation)."""

    def __init__(self, *, queryset, **kwargs):
        super().__init__(**kwargs)
        self.queryset = queryset

    def prepare_value(self, value):
        if isinstance(value, Customer):
            return value.formatted_document
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        customer = self.queryset.filter(document=normalize_document(text)[:14]).first()
        if customer is None:
            raise forms.ValidationError(
                _(
                    "Nenhum cliente com este CPF ou CNPJ. Confira o número ou cadastre um novo "
                    "cliente."
                ),
                code="invalid_choice",
            )
        return customer


END_NONE, END_COUNT, END_DATE = "none", "count", "date"
END_COUNT_REQUIRED = _("Informe o número de parcelas.")
END_DATE_REQUIRED = _("Informe a data do último vencimento.")
END_COUNT_FIELD_RANGE = _("Informe um número de parcelas de 1 a 1200.")


class ScheduleEndFields(forms.Form):
    """The optional end of a schedule (creation and edit): none, after N installments in total,
    or a last due date. ``end_values()`` gives what the services take."""

    end_mode = forms.ChoiceField(
        label=_("Fim do agendamento"),
        choices=[
            (END_NONE, _("Sem data para terminar")),
            (END_COUNT, _("Após um número de parcelas")),
            (END_DATE, _("Em uma data (último vencimento)")),
        ],
        widget=forms.RadioSelect,
        required=False,
        initial=END_NONE,
        error_messages={"invalid_choice": _("Escolha uma opção de fim válida.")},
    )
    end_count = forms.IntegerField(
        label=_("Número total de parcelas"),
        required=False,
        min_value=1,
        max_value=END_COUNT_MAX,
        error_messages={
            "invalid": END_COUNT_FIELD_RANGE,
            "min_value": END_COUNT_FIELD_RANGE,
            "max_value": END_COUNT_FIELD_RANGE,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    end_date = forms.DateField(
        label=_("Último vencimento"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Informe uma data válida.")},
    )

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("end_mode") or END_NONE
        cleaned["end_mode"] = mode
        for name, chosen, message in (
            ("end_count", END_COUNT, END_COUNT_REQUIRED),
            ("end_date", END_DATE, END_DATE_REQUIRED),
        ):
            if mode == chosen and cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, message)
        # Only the chosen kind of end counts: an error in the other field is not the merchant's.
        for name, used in (("end_count", mode == END_COUNT), ("end_date", mode == END_DATE)):
            if not used and name in self.errors:
                del self.errors[name]
        return cleaned

    def end_values(self) -> dict:
        """``end_count`` and ``end_date`` (None unless chosen), from a valid form."""
        mode = self.cleaned_data.get("end_mode") or END_NONE
        return {
            "end_count": self.cleaned_data.get("end_count") if mode == END_COUNT else None,
            "end_date": self.cleaned_data.get("end_date") if mode == END_DATE else None,
        }


class ScheduleForm(FormTokenMixin, PortalFormMixin, ScheduleEndFields):
    customer_mode = forms.ChoiceField(
        label=_("Cliente"),
        choices=[
            (CUSTOMER_EXISTING, _("Cliente já cadastrado")),
            (CUSTOMER_NEW, _("Novo cliente")),
        ],
        widget=forms.RadioSelect,
        required=False,
        initial=CUSTOMER_EXISTING,
    )
    customer = forms.ModelChoiceField(
        label=_("Cliente cadastrado"),
        queryset=Customer.objects.none(),
        required=False,
        empty_label=_("Escolha o cliente"),
        error_messages={"invalid_choice": _("Cliente não encontrado.")},
    )
    amount = BrazilianDecimalField(
        label=_("Valor (R$)"),
        max_digits=10,
        decimal_places=2,
        min_value=AMOUNT_MIN,
        max_value=AMOUNT_MAX,
        localize=True,
        error_messages={
            "invalid": AMOUNT_INVALID,
            "min_value": AMOUNT_TOO_LOW,
            "max_value": AMOUNT_TOO_HIGH,
            "max_digits": AMOUNT_TOO_HIGH,
            "max_whole_digits": AMOUNT_TOO_HIGH,
            "max_decimal_places": AMOUNT_CENTS,
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0,00"}),
    )
    frequency_months = forms.TypedChoiceField(
        label=_("Frequência"),
        choices=Frequency.choices,
        coerce=int,
        error_messages={"invalid_choice": _("Escolha uma frequência válida.")},
    )
    first_due_date = forms.DateField(
        label=_("Primeiro vencimento"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    lead_days = forms.IntegerField(
        label=_("Emitir com quantos dias de antecedência"),
        min_value=LEAD_DAYS_MIN,
        max_value=LEAD_DAYS_MAX,
        initial=LEAD_DAYS_DEFAULT,
        error_messages={
            "invalid": LEAD_DAYS_RANGE,
            "min_value": LEAD_DAYS_RANGE,
            "max_value": LEAD_DAYS_RANGE,
        },
    )
    description = forms.CharField(label=_("Descrição"), max_length=200, required=False)
    # Sent twice (double click, retried request), the form creates one schedule.
    form_token = FormTokenField()

    def __init__(self, *args, merchant, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        channel = (
            BankCollection.objects.filter(merchant_id=getattr(merchant, "pk", merchant))
            .values_list("channel", flat=True)
            .first()
        )
        if channel in (CollectionChannel.CNAB240, CollectionChannel.CNAB400):
            self.fields["lead_days"].help_text = LEAD_DAYS_FILE_CHANNEL_HELP
        # Only this merchant's customers can be chosen: another merchant's id is "not found".
        customers = Customer.objects.for_merchant(merchant).order_by("name")
        if customers[: CUSTOMER_SELECT_LIMIT + 1].count() > CUSTOMER_SELECT_LIMIT:
            self.fields["customer"] = CustomerDocumentField(
                queryset=customers,
                label=_("CPF ou CNPJ do cliente cadastrado"),
                required=False,
                widget=forms.TextInput(attrs={"maxlength": 20, "autocomplete": "off"}),
                help_text=_("A lista completa está em Clientes."),
            )
            portal_field(self.fields["customer"])
        else:
            self.fields["customer"].queryset = customers

    def clean_first_due_date(self):
        value = self.cleaned_data["first_due_date"]
        validate_first_due_date(value, today=self.today)
        return value

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("customer_mode") or CUSTOMER_EXISTING
        cleaned["customer_mode"] = mode
        if mode == CUSTOMER_EXISTING and not cleaned.get("customer"):
            if "customer" not in self.errors:
                self.add_error("customer", CUSTOMER_REQUIRED)
        return cleaned

    @property
    def new_customer(self) -> bool:
        return (self.data.get(self.add_prefix("customer_mode")) or "") == CUSTOMER_NEW

    def schedule_fields(self) -> dict:
        """What schedule_create takes, from a valid form."""
        names = (
            "amount",
            "frequency_months",
            "first_due_date",
            "lead_days",
            "description",
            "form_token",
        )
        return {**{name: self.cleaned_data[name] for name in names}, **self.end_values()}


class NewCustomerForm(CustomerForm):
    """The customer registered together with a new schedule (same fields and rules as the
    Clientes screen), refusing a CPF/CNPJ this merchant already has."""

    def __init__(self, *args, merchant, **kwargs):
        kwargs.setdefault("prefix", "cliente")
        super().__init__(*args, **kwargs)
        self.merchant = merchant

    def clean_document(self):
        value = super().clean_document()
        if Customer.objects.for_merchant(self.merchant).filter(document=value).exists():
            raise forms.ValidationError(
                "%(message)s %(hint)s",
                params={
                    "message": CUSTOMER_DUPLICATE_DOCUMENT,
                    "hint": _("Escolha-o em “Cliente já cadastrado”."),
                },
            )
        return value


def _boleto_label(boleto) -> str:
    return _("Parcela %(n)s — vencimento %(due)s — %(amount)s") % {
        "n": boleto.sequence,
        "due": date_format(boleto.due_date, "SHORT_DATE_FORMAT"),
        "amount": format_brl(boleto.amount),
    }


class ReactivationForm(EmailCheckFormMixin, PortalFormMixin, forms.Form):
    """Corrigir e-mail e reativar. Parses and checks what was posted against what this schedule
    offers (the undelivered boletos, the missed installments listed); the rules between the
    fields (the email must change for an invalid address, ...) are the service's, under its
    lock, and come back as errors on these fields."""

    email = forms.EmailField(label=_("E-mail do cliente"), max_length=254)
    keep_email = forms.BooleanField(label=_("Manter o e-mail atual"), required=False)
    missed_choice = forms.ChoiceField(
        label=_("O que fazer com estas parcelas?"),
        choices=MissedChoice.choices,
        widget=forms.RadioSelect,
        initial=MissedChoice.SKIP,
        required=False,
    )
    # The missed installments the page listed ("3,4,5"): the service refuses the reactivation if
    # the list is no longer the same (a new one became due, a tampered value).
    missed = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    resend = forms.TypedMultipleChoiceField(
        label=_("Reenviar o boleto não entregue para o e-mail acima"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": RESEND_BOLETO_NOT_FOUND},
    )

    def __init__(self, *args, schedule, missed, undelivered, **kwargs):
        super().__init__(*args, **kwargs)
        self.cause = schedule.deactivation_cause
        self.missed_sequences = [item.sequence for item in missed]
        self.fields["email"].initial = schedule.customer.email
        self.email_stored_value = schedule.customer.email
        self.fields["missed"].initial = ",".join(map(str, self.missed_sequences))
        if self.cause == DeactivationCause.INVALID_ADDRESS:
            # The address does not exist: it must change, there is nothing to confirm.
            del self.fields["keep_email"]
            self.fields["email"].label = _("Novo e-mail do cliente")
            self.fields["email"].help_text = _("Deve ser diferente do endereço atual.")
        elif self.cause == DeactivationCause.ESP_SUPPRESSED:
            # The address may be right: once support has cleared the provider's suppression,
            # the merchant keeps it by confirming so (issue 10 item 6).
            self.fields["keep_email"].label = _(
                "Manter o e-mail atual: o suporte já retirou o bloqueio deste endereço no "
                "provedor de e-mail"
            )
            self.fields["email"].help_text = _(
                "Corrija o endereço, ou mantenha-o e marque a confirmação abaixo."
            )
        elif self.cause in (DeactivationCause.SPAM_COMPLAINT, DeactivationCause.UNSUBSCRIBED):
            self.fields["keep_email"].label = _(
                "Manter o e-mail atual: o cliente concordou em voltar a receber os boletos "
                "por e-mail"
            )
            # The customer received it: nothing was "not delivered".
            self.fields["resend"].label = _("Reenviar este boleto para o e-mail acima")
        else:
            self.fields["email"].help_text = _(
                "Corrija o endereço, ou mantenha-o e marque a confirmação abaixo."
            )
        if not missed:
            del self.fields["missed_choice"]
        self.fields["resend"].choices = [(b.pk, _boleto_label(b)) for b in undelivered]
        self.fields["resend"].initial = [b.pk for b in undelivered]

    def clean_email(self):
        return self.email_check(self.cleaned_data["email"])

    def clean_missed(self):
        raw = self.cleaned_data["missed"].strip()
        parts = [part.strip() for part in raw.split(",")] if raw else []
        if not all(part.isascii() and part.isdigit() and len(part) <= 9 for part in parts):
            raise forms.ValidationError(MISSED_LIST_CHANGED)
        return [int(part) for part in parts]

    def clean(self):
        cleaned = super().clean()
        if "missed" in self.errors:  # a hidden field: say it at the top of the form
            del self.errors["missed"]
            self.add_error(None, MISSED_LIST_CHANGED)
        if not cleaned.get("missed_choice"):
            cleaned["missed_choice"] = MissedChoice.SKIP
        return cleaned


class ScheduleEditForm(PortalFormMixin, ScheduleEndFields):
    """Editar agendamento: what may change, prefilled from the schedule. Parses and checks each
    field; the rules that depend on the stored schedule (the end not before the next
    installment, read-only states) are the service's, under its lock, and come back as errors
    on these fields."""

    amount = ScheduleForm.base_fields["amount"]
    due_day = forms.IntegerField(
        label=_("Dia do vencimento"),
        min_value=1,
        max_value=31,
        help_text=_("Nos meses mais curtos, o último dia do mês."),
        error_messages={
            "invalid": DUE_DAY_RANGE,
            "min_value": DUE_DAY_RANGE,
            "max_value": DUE_DAY_RANGE,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    lead_days = ScheduleForm.base_fields["lead_days"]
    description = ScheduleForm.base_fields["description"]
    # The installment the preview named: refused if the generator issued it meanwhile.
    expected_sequence = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)

    field_order = ["amount", "due_day", "lead_days", "description", "end_mode"]

    def __init__(self, *args, schedule, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "amount": schedule.amount,
                "due_day": schedule.due_day,
                "lead_days": schedule.lead_days,
                "description": schedule.description,
                "end_mode": (
                    END_COUNT
                    if schedule.end_count is not None
                    else END_DATE
                    if schedule.end_date is not None
                    else END_NONE
                ),
                "end_count": schedule.end_count,
                "end_date": schedule.end_date,
                "expected_sequence": schedule.next_sequence,
            },
        )
        super().__init__(*args, **kwargs)
        self.schedule = schedule

    def clean_expected_sequence(self):
        value = (self.cleaned_data.get("expected_sequence") or "").strip()
        if not (value.isascii() and value.isdigit()):
            # Missing or tampered: nothing to compare, the stored cursor decides.
            return self.schedule.next_sequence
        return int(value)

    def update_fields(self) -> dict:
        """What schedule_update takes, from a valid form."""
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "due_day": data["due_day"],
            "lead_days": data["lead_days"],
            "description": data["description"],
            **self.end_values(),
        }

    def preview_values(self) -> dict:
        """The values the preview can use even when other fields are invalid."""
        data = getattr(self, "cleaned_data", {})
        mode = data.get("end_mode") or END_NONE
        return {
            "due_day": data.get("due_day"),
            "end_count": data.get("end_count") if mode == END_COUNT else None,
            "end_date": data.get("end_date") if mode == END_DATE else None,
            "amount": data.get("amount"),
        }
