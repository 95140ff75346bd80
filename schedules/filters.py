"""The schedule lists' search and filters: a plain GET form (works without JavaScript)."""

from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.formfields import PortalFormMixin
from schedules.models import DeactivationCause, ScheduleStatus

DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2099, 12, 31)
DATE_OUT_OF_RANGE = _("Informe uma data entre 01/01/2000 e 31/12/2099.")
PERIOD_REVERSED = _("A data final deve ser igual ou posterior à data inicial.")


@dataclass(frozen=True)
class ScheduleListFilters:
    status: str = ScheduleStatus.ACTIVE
    query: str = ""
    cause: str = ""
    deactivated_from: date | None = None
    deactivated_to: date | None = None

    @property
    def narrowed(self) -> bool:
        """True when the list is narrower than its whole tab (the tab count is not its count)."""
        return bool(self.query or self.cause or self.deactivated_from or self.deactivated_to)


class _DateInput(forms.DateInput):
    """dd/mm/aaaa typed as text: the pt-BR format on every browser, and what was typed is kept."""

    def __init__(self):
        super().__init__(
            format="%d/%m/%Y",
            attrs={
                "placeholder": "dd/mm/aaaa",
                "inputmode": "numeric",
                "autocomplete": "off",
                "size": "10",
                "maxlength": "10",
            },
        )


class ScheduleListFilterForm(PortalFormMixin, forms.Form):
    """``status`` picks the tab; cause and period only apply to Agendamentos Desativados."""

    q = forms.CharField(
        label=_("Buscar"),
        required=False,
        max_length=100,
        help_text=_("Número do agendamento (ex.: 123 ou nº 123), nome ou e-mail do cliente."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    causa = forms.ChoiceField(
        label=_("Motivo"),
        required=False,
        choices=[("", _("Todos os motivos")), *DeactivationCause.choices],
    )
    de = forms.DateField(label=_("Desativado de"), required=False, widget=_DateInput())
    ate = forms.DateField(label=_("até"), required=False, widget=_DateInput())

    def __init__(self, data=None, *, status: str):
        super().__init__(data)
        self.status = status

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                # Read out with the field: partials/_field.html gives the message this id.
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}-error"}
                )

    def _clean_date(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError(DATE_OUT_OF_RANGE, code="out_of_range")
        return value

    def clean_de(self):
        return self._clean_date("de")

    def clean_ate(self):
        return self._clean_date("ate")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("de"), cleaned.get("ate")
        if start and end and start > end:
            self.add_error("ate", PERIOD_REVERSED)
        return cleaned

    def filters(self) -> ScheduleListFilters:
        """What to list: the valid fields only (a field in error is shown with its message and
        not applied)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        deactivated = self.status == ScheduleStatus.DEACTIVATED
        return ScheduleListFilters(
            status=self.status,
            query=(data.get("q") or "").strip(),
            cause=(data.get("causa") or "") if deactivated else "",
            deactivated_from=data.get("de") if deactivated else None,
            deactivated_to=data.get("ate") if deactivated else None,
        )
