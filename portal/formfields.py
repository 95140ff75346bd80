"""Form fields for Brazilian input."""

import re

from django import forms

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
