"""Form fields for Brazilian input."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from portal.text import NoControlCharactersValidator

_THOUSANDS_ONLY = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def normalize_brazilian_decimal(value: str) -> str:
    """'R$ 1.234,56' -> '1234.56'; '1234,5' -> '1234.5'; '1.234' -> '1234' (a dot between groups
    of three digits is a thousands separator in pt-BR); '1234.56' (a decimal point, as pasted
    from a spreadsheet in English) is left as it is."""
    text = value.replace("R$", "").replace("\xa0", "").replace(" ", "").strip()
    if "," in text:
        return text.replace(".", "").replace(",", ".")
    if _THOUSANDS_ONLY.match(text):
        return text.replace(".", "")
    return text


class BrazilianDecimalField(forms.DecimalField):
    """A DecimalField that reads amounts as Brazilians type them, with or without "R$" and
    thousands separators (USE_THOUSAND_SEPARATOR is off, so Django's own parsing would refuse
    "1.234,56")."""

    def to_python(self, value):
        if isinstance(value, str):
            value = normalize_brazilian_decimal(value)
        return super().to_python(value)


# --- Every portal form ---------------------------------------------------------------------------

# Django's own messages for these codes are generic ("Certifique-se de que o valor tenha no
# máximo…", "…dígitos antes do ponto decimal"): each field says its limit in its own terms.
# A field that sets its own message for a code keeps it.
FIELD_MESSAGES = {
    "max_length": ngettext_lazy(
        "Use no máximo %(limit_value)d caractere (o texto tem %(show_value)d).",
        "Use no máximo %(limit_value)d caracteres (o texto tem %(show_value)d).",
        "limit_value",
    ),
    "min_length": ngettext_lazy(
        "Use ao menos %(limit_value)d caractere.",
        "Use ao menos %(limit_value)d caracteres.",
        "limit_value",
    ),
    "min_value": _("O valor mínimo é %(limit_value)s."),
    "max_value": _("O valor máximo é %(limit_value)s."),
    "max_digits": _("Número grande demais."),
    "max_whole_digits": _("Número grande demais."),
    "max_decimal_places": _("Use no máximo %(max)s casas decimais."),
    "step_size": _("Informe um número inteiro."),
}


class FirstErrorValidator:
    """Runs a field's validators in order and stops at the first error: one message per
    error ("O valor máximo é R$ 99.999.999,99", not that and "…no máximo 10 dígitos" too)."""

    def __init__(self, validators):
        self.validators = list(validators)

    def __call__(self, value):
        for validator in self.validators:
            validator(value)


def _defaults_for(field) -> dict:
    defaults = {}
    for klass in reversed(type(field).__mro__):
        defaults.update(getattr(klass, "default_error_messages", {}))
    return defaults


def portal_field(field: forms.Field) -> forms.Field:
    """What every field of a portal form gets: control characters refused in text (one line,
    or a textarea's lines), its own messages, and one message per error."""
    if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
        multiline = isinstance(field.widget, forms.Textarea)
        if not any(isinstance(v, NoControlCharactersValidator) for v in field.validators):
            # First: for "Loja\r\nBcc: …" the problem to state is the line break.
            field.validators.insert(0, NoControlCharactersValidator(multiline=multiline))
    django_defaults = _defaults_for(field)
    for code, message in FIELD_MESSAGES.items():
        current = field.error_messages.get(code)
        if current is None or current == django_defaults.get(code):
            field.error_messages[code] = message
    if len(field.validators) > 1 and not isinstance(field.validators[0], FirstErrorValidator):
        field.validators = [FirstErrorValidator(field.validators)]
    return field


class PortalFormMixin:
    """Base of every form of the portal (``class XForm(PortalFormMixin, forms.Form)``): see
    portal_field. Issue 10 items 15 and 24."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            portal_field(field)


class PortalModelForm(PortalFormMixin, forms.ModelForm):
    """The same rules for the admin's forms (``ModelAdmin.form``): staff type names too."""
