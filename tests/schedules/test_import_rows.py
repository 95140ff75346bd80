"""Each column's validation, in Portuguese, by the portal's own rules."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from schedules.importing.rows import RowValidator, first_installment, frequency_from_text
from tests.factories import make_cnpj

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


def good_row(**overrides) -> dict:
    row = {
        "nome": "Ana Souza",
        "cpf_cnpj": "123.456.789-09",
        "email": "ana@example.com",
        "telefone": "(11) 98765-4321",
        "endereco": "Rua A, 1",
        "bairro": "Centro",
        "cidade": "São Paulo",
        "uf": "sp",
        "cep": "01310-100",
        "valor": "1.234,56",
        "frequencia": "Mensal",
        "primeiro_vencimento": "10/04/2026",
        "antecedencia": "",
        "descricao": "Mensalidade",
    }
    row.update(overrides)
    return row


@pytest.fixture
def validate(merchant):
    validator = RowValidator(merchant=merchant, today=TODAY)
    return lambda **overrides: validator.validate(2, good_row(**overrides))


def errors_of(result) -> dict:
    return dict(result.errors)


def test_good_row_cleaned(validate):
    result = validate()
    assert result.status == "ok", result.errors
    cleaned = result.cleaned
    assert cleaned["customer"]["document"] == "12345678909"
    assert cleaned["customer"]["address_state"] == "SP"
    assert cleaned["customer"]["address_zip"] == "01310100"
    assert cleaned["amount"] == Decimal("1234.56")
    assert cleaned["frequency_months"] == 1
    assert cleaned["first_due_date"] == date(2026, 4, 10)
    assert cleaned["lead_days"] == 10  # default
    assert result.suggestion is None  # the place for the email typo suggestion


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("nome", "", "obrigatório"),
        ("nome", "x" * 151, "150"),
        ("cpf_cnpj", "123.456.789-00", "CPF inválido"),
        ("cpf_cnpj", "11.222.333/0001-00", "CNPJ inválido"),
        ("cpf_cnpj", "1234", "CPF (11 dígitos) ou CNPJ"),
        ("email", "ana@", "E-mail inválido"),
        ("email", "ana example.com", "E-mail inválido"),
        ("email", "", "obrigatório"),
        ("endereco", "", "obrigatório"),
        ("cidade", "", "obrigatório"),
        ("uf", "XX", "estado brasileiro (UF)"),
        ("uf", "São Paulo", "2 caracteres"),
        ("cep", "0131-100", "8 dígitos"),
        ("valor", "0,00", "mínimo"),
        ("valor", "100.000.000,00", "máximo"),
        ("valor", "12,345", "2 casas"),
        ("valor", "abc", "Informe o valor"),
        ("valor", "", "obrigatório"),
        ("frequencia", "quinzenal", "Frequência inválida"),
        ("frequencia", "5", "Frequência inválida"),
        ("primeiro_vencimento", "31/02/2026", "dd/mm/aaaa"),
        ("primeiro_vencimento", "amanhã", "dd/mm/aaaa"),
        ("primeiro_vencimento", "10/04/2032", "5 anos"),
        ("primeiro_vencimento", "10/04/1990", "20 anos"),
        ("antecedencia", "0", "1 a 60"),
        ("antecedencia", "61", "1 a 60"),
        ("antecedencia", "dez", "1 a 60"),
        ("descricao", "x" * 201, "200"),
        ("descricao", '=HYPERLINK("http://evil","x")', "fórmula"),
        ("nome", "@SUM(A1)", "fórmula"),
        ("endereco", "+1", "fórmula"),
        ("cidade", "-2+3", "fórmula"),
        ("nome", "Ana\x0bSouza", "controle"),
    ],
)
def test_field_errors(validate, column, value, expected):
    result = validate(**{column: value})
    assert result.status == "error"
    message = errors_of(result)[column]
    assert expected.lower() in message.lower(), message
    assert list(errors_of(result)) == [column]  # only that column


def test_several_errors_each_on_its_column(validate):
    result = validate(cpf_cnpj="1", email="x", uf="ZZ")
    assert set(errors_of(result)) == {"cpf_cnpj", "email", "uf"}


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("199,90", "199.90"),
        ("199.90", "199.90"),
        ("R$ 199,90", "199.90"),
        ("R$\xa01.000", "1000"),
        ("1.000", "1000"),
        (199.9, "199.90"),
        (0.1 + 0.2, "0.30"),
        (150, "150"),
    ],
)
def test_amounts_as_brazilians_type_them(validate, typed, amount):
    result = validate(valor=typed)
    assert result.status == "ok", result.errors
    assert result.cleaned["amount"] == Decimal(amount)
    assert isinstance(result.cleaned["amount"], Decimal)


def test_float_with_more_than_cents_refused(validate):
    assert "valor" in errors_of(validate(valor=10.005))


@pytest.mark.parametrize(
    ("typed", "months"),
    [
        ("1", 1),
        ("mensal", 1),
        ("MENSAL", 1),
        ("Bimestral", 2),
        ("A cada 2 meses", 2),
        ("a cada 3 MESES", 3),
        ("trimestral", 3),
        ("Semestral", 6),
        ("A cada 6 meses", 6),
        ("anual", 12),
        ("Anual", 12),
        ("12", 12),
        ("A cada 2 anos", 24),
        ("bienal", 24),
        ("24", 24),
        (6, 6),
        (12.0, 12),
    ],
)
def test_frequencies(validate, typed, months):
    result = validate(frequencia=typed)
    assert result.status == "ok", result.errors
    assert result.cleaned["frequency_months"] == months


def test_frequency_accents_ignored():
    assert frequency_from_text("Mênsal") == 1
    assert frequency_from_text("A CADA 2 ANOS") == 24


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("10/04/2026", date(2026, 4, 10)),
        ("2026-04-10", date(2026, 4, 10)),
        ("1/4/2026", date(2026, 4, 1)),
        (datetime(2026, 4, 10), date(2026, 4, 10)),
        (date(2026, 4, 10), date(2026, 4, 10)),
        ("10/01/2024", date(2024, 1, 10)),  # in the past: allowed (a running schedule)
    ],
)
def test_first_due_dates(validate, typed, day):
    result = validate(primeiro_vencimento=typed)
    assert result.status == "ok", result.errors
    assert result.cleaned["first_due_date"] == day


def test_xlsx_number_cells_keep_leading_zeros(validate):
    result = validate(cpf_cnpj=1234567890, cep=1310100, antecedencia=5.0, telefone=11987654321)
    assert result.status == "ok", result.errors
    assert result.cleaned["customer"]["document"] == "01234567890"
    assert result.cleaned["customer"]["address_zip"] == "01310100"
    assert result.cleaned["lead_days"] == 5


def test_alphanumeric_cnpj(validate):
    # The RFB's published example of an alphanumeric CNPJ.
    result = validate(cpf_cnpj="12.ABC.345/01DE-35")
    assert result.status == "ok", result.errors
    assert result.cleaned["customer"]["document"] == "12ABC34501DE35"


def test_numeric_cnpj(validate):
    cnpj = make_cnpj(12_345_678)
    result = validate(cpf_cnpj=cnpj)
    assert result.cleaned["customer"]["document"] == cnpj


def test_phone_with_plus_is_not_a_formula(validate):
    assert validate(telefone="+55 11 98765-4321").status == "ok"
    assert "telefone" in errors_of(validate(telefone="+HYPERLINK()"))


def test_optional_columns_may_be_absent(merchant):
    row = good_row()
    for column in ("telefone", "bairro", "antecedencia", "descricao"):
        del row[column]
    result = RowValidator(merchant=merchant, today=TODAY).validate(2, row)
    assert result.status == "ok", result.errors
    assert result.cleaned["description"] == ""
    assert result.cleaned["lead_days"] == 10


class TestFirstInstallment:
    def test_future_first_due_starts_at_one(self):
        assert first_installment(
            first_due_date=date(2026, 3, 5), frequency_months=1, lead_days=10, today=TODAY
        ) == (1, date(2026, 2, 23))  # issue date passed: issued at once, like the form

    def test_past_first_due_skips_to_next_issue_date_from_today(self):
        # Monthly from 10/01/2025; today 02/03/2026, lead 10: installment 15 is due 10/03/2026
        # (issue 28/02, passed); installment 16 due 10/04/2026 issues 31/03 -> the first.
        sequence, issue_on = first_installment(
            first_due_date=date(2025, 1, 10), frequency_months=1, lead_days=10, today=TODAY
        )
        assert sequence == 16
        assert issue_on == date(2026, 3, 31)

    def test_issue_date_today_counts(self):
        sequence, issue_on = first_installment(
            first_due_date=date(2026, 1, 12), frequency_months=1, lead_days=10, today=TODAY
        )
        assert (sequence, issue_on) == (3, date(2026, 3, 2))  # due 12/03, issued today
