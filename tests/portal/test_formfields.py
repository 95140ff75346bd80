from decimal import Decimal

import pytest
from django import forms

from portal.formfields import BrazilianDecimalField, normalize_brazilian_decimal


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("R$ 1.234,56", "1234.56"),
        ("R$\xa099.999.999,99", "99999999.99"),
        ("1.234", "1234"),
        ("12.345.678", "12345678"),
        ("1234.56", "1234.56"),
        ("0,01", "0.01"),
        (" 150 ", "150"),
    ],
)
def test_reads_amounts_as_typed_in_brazil(typed, expected):
    assert normalize_brazilian_decimal(typed) == expected


class AmountForm(forms.Form):
    amount = BrazilianDecimalField(max_digits=10, decimal_places=2, localize=True)


def test_form_accepts_thousands_separators_and_renders_a_decimal_comma():
    form = AmountForm({"amount": "R$ 1.234,56"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("1234.56")
    assert 'value="1234,56"' in str(AmountForm(initial={"amount": Decimal("1234.56")}))


def test_garbage_is_a_portuguese_error_not_an_exception():
    form = AmountForm({"amount": "12,34,56"})
    assert not form.is_valid()
    assert form.errors["amount"] == ["Informe um número."]
