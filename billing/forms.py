from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from billing.models import Customer
from portal.documents import normalize_document, validate_cpf_or_cnpj
from portal.emailcheck import EmailCheckFormMixin
from portal.formfields import PortalFormMixin
from portal.formtokens import FormTokenField, FormTokenMixin

# The 27 units of the federation: a customer's address is printed on the boleto.
UF_CHOICES = (
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)
UF_INVALID = _("Informe a sigla de um estado brasileiro (UF), por exemplo SP.")


class CustomerForm(EmailCheckFormMixin, PortalFormMixin, forms.ModelForm):
    # Typed with punctuation (000.000.000-00, 00.000.000/0000-00, 00000-000); stored bare.
    document = forms.CharField(label=_("CPF ou CNPJ"), max_length=18)
    address_zip = forms.CharField(label=_("CEP"), max_length=9)

    class Meta:
        model = Customer
        fields = [
            "name",
            "document",
            "email",
            "phone",
            "address_street",
            "address_district",
            "address_city",
            "address_state",
            "address_zip",
        ]

    def clean_document(self):
        value = normalize_document(self.cleaned_data["document"])
        validate_cpf_or_cnpj(value)
        return value

    def clean_email(self):
        return self.email_check(self.cleaned_data["email"])

    def clean_address_state(self):
        value = self.cleaned_data["address_state"].strip().upper()
        if value not in UF_CHOICES:
            raise forms.ValidationError(UF_INVALID, code="invalid")
        return value

    def clean_address_zip(self):
        value = "".join(ch for ch in self.cleaned_data["address_zip"] if ch in "0123456789")
        if len(value) != 8:
            raise forms.ValidationError(_("CEP deve ter 8 dígitos."))
        return value


class CustomerCreateForm(FormTokenMixin, CustomerForm):
    """Clientes › Novo cliente: sent twice, registers once (portal.formtokens)."""

    form_token = FormTokenField()


# What the edit form may change: everything but the CPF/CNPJ (it identifies the customer, and
# the boletos already issued carry it).
CUSTOMER_EDITABLE_FIELDS = (
    "name",
    "email",
    "phone",
    "address_street",
    "address_district",
    "address_city",
    "address_state",
    "address_zip",
)
_SEEN_SALT = "billing.customer-edit.seen"


class _SeenField(forms.CharField):
    """Hidden; never an error of its own (clean_seen falls back to the stored values)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def run_validators(self, value):
        pass


class CustomerEditForm(CustomerForm):
    """Clientes › Editar: the same fields and rules as registering, the CPF/CNPJ shown read-only.

    ``seen`` carries the values the page showed. Only what the merchant changed from them is
    saved (``changed_fields``): two people editing different fields of one customer at once both
    keep their change; the service applies each under the row lock."""

    document = None
    seen = _SeenField()

    class Meta(CustomerForm.Meta):
        fields = list(CUSTOMER_EDITABLE_FIELDS)

    def __init__(self, *args, instance, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        self._current = {name: getattr(instance, name) for name in CUSTOMER_EDITABLE_FIELDS}
        self.email_stored_value = instance.email
        self.fields["seen"].initial = signing.dumps(self._current, salt=_SEEN_SALT)

    def clean_seen(self):
        # What the page showed; a missing or altered value means "what is stored now".
        try:
            seen = signing.loads(self.cleaned_data.get("seen") or "", salt=_SEEN_SALT)
        except signing.BadSignature:
            return self._current
        if not isinstance(seen, dict):
            return self._current
        return {name: seen.get(name, self._current[name]) for name in CUSTOMER_EDITABLE_FIELDS}

    def changed_fields(self) -> dict:
        """{field: new value} for each field the merchant changed on the page."""
        seen = self.cleaned_data["seen"]
        return {
            name: self.cleaned_data[name]
            for name in CUSTOMER_EDITABLE_FIELDS
            if self.cleaned_data[name] != seen[name]
        }
