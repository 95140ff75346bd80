"""The one currency filter: R$ 1.234,56 (pt-BR grouping, always two decimals)."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


def format_brl(value) -> str:
    if value is None or value == "":
        return ""
    return "R$\xa0" + number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)


@register.filter(name="brl")
def brl(value) -> str:
    return format_brl(value)
