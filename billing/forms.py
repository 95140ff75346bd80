from django import forms

from billing.models import Customer
from portal.documents import normalize_document, validate_cpf_or_cnpj


class CustomerForm(forms.ModelForm):
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
        widgets = {
            "document": forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off"}),
            "address_zip": forms.TextInput(attrs={"inputmode": "numeric"}),
        }

    def clean_document(self):
        value = normalize_document(self.cleaned_data["document"])
        validate_cpf_or_cnpj(value)
        return value

    def clean_address_state(self):
        return self.cleaned_data["address_state"].upper()

    def clean_address_zip(self):
        value = "".join(ch for ch in self.cleaned_data["address_zip"] if ch.isdigit())
        if len(value) != 8:
            raise forms.ValidationError("CEP deve ter 8 dígitos.")
        return value
