from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Customer
from portal.documents import normalize_document, validate_cpf_or_cnpj
from portal.formfields import PortalFormMixin
from portal.formtokens import FormTokenField, FormTokenMixin


class CustomerForm(PortalFormMixin, forms.ModelForm):
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

    def clean_address_state(self):
        return self.cleaned_data["address_state"].upper()

    def clean_address_zip(self):
        value = "".join(ch for ch in self.cleaned_data["address_zip"] if ch in "0123456789")
        if len(value) != 8:
            raise forms.ValidationError(_("CEP deve ter 8 dígitos."))
        return value


class CustomerCreateForm(FormTokenMixin, CustomerForm):
    """Clientes › Novo cliente: sent twice, registers once (portal.formtokens)."""

    form_token = FormTokenField()
