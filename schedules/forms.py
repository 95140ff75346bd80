from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import AMOUNT_MAX, AMOUNT_MIN, AMOUNT_OUT_OF_RANGE, Customer
from schedules.models import LEAD_DAYS_DEFAULT, LEAD_DAYS_MAX, LEAD_DAYS_MIN, Frequency


class ScheduleForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Cliente"),
        queryset=Customer.objects.none(),
        error_messages={"invalid_choice": _("Cliente não encontrado.")},
    )
    amount = forms.DecimalField(
        label=_("Valor (R$)"),
        max_digits=10,
        decimal_places=2,
        min_value=AMOUNT_MIN,
        max_value=AMOUNT_MAX,
        localize=True,
        error_messages={"min_value": AMOUNT_OUT_OF_RANGE, "max_value": AMOUNT_OUT_OF_RANGE},
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
    )
    description = forms.CharField(label=_("Descrição"), max_length=200, required=False)

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this merchant's customers can be chosen: another merchant's id is "not found".
        self.fields["customer"].queryset = Customer.objects.for_merchant(merchant).order_by("name")
