"""The precompiled encoder's arithmetic (billing.febraban.encoder.compile_encoder, reached through
Bank.encoder) behind boleto_numbers: its lookup tables give the same barcode and linha digitável
as the generic path for every bank layout, nosso número, factor and amount, and, for any input it
does not take, the generic path's very result or error. That both paths read the same bank
declaration is tested in test_bank_layouts.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from billing.boleto_codes import (
    BoletoNumbers,
    bank_account,
    boleto_numbers,
    reference_boleto_numbers,
)
from billing.febraban import BankAccount, barcode_to_linha, get_bank, parse
from billing.febraban.encoder import CampoLivreLayout, NossoNumeroDV

digits = st.text("0123456789", min_size=1, max_size=1)


def _digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=low, max_size=high)


ITAU_WALLETS = ["109", "112", "126", "131", "146", "150", "157", "168", "175", "198"]

# Every layout: BB by convênio size (4, 6, 6 + 17-digit NN, 7, 8), Santander, Bradesco, Itaú with
# the DAC over agência + conta + carteira + NN and over carteira + NN only.
accounts = st.one_of(
    st.builds(
        BankAccount,
        bank_code=st.just("001"),
        agreement=st.one_of(_digits(4, 4), _digits(6, 6), _digits(7, 7), _digits(8, 8)),
        wallet=_digits(1, 2),
        agency=_digits(1, 4),
        account=_digits(1, 8),
    ),
    st.builds(
        BankAccount,
        bank_code=st.just("001"),
        agreement=_digits(6, 6),
        wallet=st.sampled_from(["16", "18"]),
        long_nosso_numero=st.just(True),
    ),
    st.builds(BankAccount, bank_code=st.just("033"), agreement=_digits(1, 7), wallet=_digits(1, 3)),
    st.builds(
        BankAccount,
        bank_code=st.just("237"),
        agency=_digits(1, 4),
        account=_digits(1, 7),
        wallet=_digits(1, 2),
    ),
    st.builds(
        BankAccount,
        bank_code=st.just("341"),
        agency=_digits(1, 4),
        account=_digits(1, 5),
        account_digit=st.one_of(st.just(""), digits),
        wallet=st.sampled_from([w for w in ITAU_WALLETS if w != "198"]),
    ),
)
due_dates = st.dates(min_value=date(1997, 10, 8), max_value=date(2099, 12, 31))
cents = st.one_of(
    st.integers(0, 9_999_999_999), st.integers(0, 100_000), st.sampled_from([0, 1, 99_999])
)
decimal_forms = st.sampled_from(["plain", "normalized", "padded"])


def _amount(value: int, form: str) -> Decimal:
    amount = Decimal(value).scaleb(-2)  # 199.90
    if form == "normalized":
        return amount.normalize()  # 199.9, 2E+2, 0
    if form == "padded":
        return Decimal(f"{value // 100}.{value % 100:02d}000")  # 199.90000
    return amount


def _reference(bank, account, nosso_numero, due, amount) -> tuple[str, str]:
    barcode = bank.barcode(account, nosso_numero, due, amount)
    return barcode, barcode_to_linha(barcode)


@settings(max_examples=400, deadline=None)
@given(
    account=accounts,
    fraction=st.floats(0, 1),
    due=due_dates,
    value=cents,
    form=decimal_forms,
)
@example(
    account=BankAccount(bank_code="341", agency="57", account="12345", wallet="109"),
    fraction=0.0,
    due=date(2025, 2, 22),
    value=0,
    form="padded",
)
def test_encoder_equals_the_generic_path(account, fraction, due, value, form):
    bank = get_bank(account.bank_code)
    maximum = bank.nosso_numero_max(account)
    nosso_numero = min(maximum, max(1, round(fraction * maximum)))  # float: may round up
    amount = _amount(value, form)
    encode = bank.encoder(account)
    numbers = encode(nosso_numero, due, amount)
    assert numbers is not None  # plain input: the encoder answers by itself
    assert numbers == _reference(bank, account, nosso_numero, due, amount)
    parsed = parse(numbers[1], reference_date=due)
    assert (parsed.barcode, parsed.due_date, parsed.amount) == (numbers[0], due, amount)


def test_encoder_every_nosso_numero_digit_and_dv():
    # Each position of the nosso número through every digit, for each bank: exercises every
    # chunk table entry's digit and both DV rules (mod 11 with 10/11 → 0, mod 10).
    for account in (
        BankAccount(bank_code="001", agreement="1234567", wallet="17"),
        BankAccount(bank_code="001", agreement="123879", wallet="18", long_nosso_numero=True),
        BankAccount(bank_code="033", agreement="1234567", wallet="101"),
        BankAccount(bank_code="237", agency="1234", account="0012345", wallet="09"),
        BankAccount(bank_code="341", agency="0057", account="12345", wallet="109"),
        BankAccount(bank_code="341", agency="0057", account="12345", wallet="112"),
    ):
        bank = get_bank(account.bank_code)
        encode = bank.encoder(account)
        width = len(str(bank.nosso_numero_max(account)))
        for position in range(width):
            for digit in range(1, 10):
                nn = digit * 10**position + (position * 7919 % 10**position if position else 0)
                due, amount = date(2027, 3, 1) + timedelta(days=nn % 97), Decimal(nn % 10**6)
                assert encode(nn, due, amount) == _reference(bank, account, nn, due, amount)


@pytest.mark.parametrize(
    "beneficiary",
    [
        {"bank_code": "001", "agreement": "1234567", "wallet": "17"},
        {"bank_code": "001", "agreement": "1234", "wallet": "17", "agency": "1", "account": "2"},
        {"bank_code": "033", "agreement": "1234567", "wallet": "101", "agency": None},
        {"bank_code": "237", "agency": "1234", "account": "0012345", "wallet": "09"},
        {
            "bank_code": "341",
            "agency": "0057",
            "account": "12345",
            "account_digit": "7",
            "wallet": "109",
        },
    ],
    ids=lambda b: b["bank_code"],
)
@settings(max_examples=60, deadline=None)
@given(nosso_numero=st.integers(1, 9_999_999), due=due_dates, value=cents, form=decimal_forms)
def test_boleto_numbers_equals_reference(beneficiary, nosso_numero, due, value, form):
    amount = _amount(value, form)
    numbers = boleto_numbers(
        beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due, amount=amount
    )
    assert isinstance(numbers, BoletoNumbers)
    assert numbers == reference_boleto_numbers(
        beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due, amount=amount
    )


ITAU = {"bank_code": "341", "agency": "0057", "account": "12345", "wallet": "109"}
BB6 = {"bank_code": "001", "agreement": "123879", "wallet": "18", "agency": "4042"}


class _DecimalSubclass(Decimal):
    pass


class _DateSubclass(date):
    pass


# Input the encoder leaves to the generic path: same result or same error either way.
OFF_PATH = [
    # nosso número
    (ITAU, 0, date(2026, 1, 5), Decimal("1.00")),
    (ITAU, 100_000_000, date(2026, 1, 5), Decimal("1.00")),
    (ITAU, True, date(2026, 1, 5), Decimal("1.00")),
    (ITAU, 1.0, date(2026, 1, 5), Decimal("1.00")),
    (ITAU, "1", date(2026, 1, 5), Decimal("1.00")),
    (BB6, 100_000, date(2026, 1, 5), Decimal("1.00")),
    # due date
    (ITAU, 1, None, Decimal("1.00")),
    (ITAU, 1, datetime(2026, 1, 5, 12), Decimal("1.00")),
    (ITAU, 1, _DateSubclass(2026, 1, 5), Decimal("1.00")),
    (ITAU, 1, date(1997, 10, 7), Decimal("1.00")),
    (ITAU, 1, date(1997, 10, 8), Decimal("1.00")),
    (ITAU, 1, "2026-01-05", Decimal("1.00")),
    # amount
    (ITAU, 1, date(2026, 1, 5), 1.5),
    (ITAU, 1, date(2026, 1, 5), 150),
    (ITAU, 1, date(2026, 1, 5), "1.50"),
    (ITAU, 1, date(2026, 1, 5), "abc"),
    (ITAU, 1, date(2026, 1, 5), _DecimalSubclass("1.50")),
    (ITAU, 1, date(2026, 1, 5), Decimal("1.001")),
    (ITAU, 1, date(2026, 1, 5), Decimal("0.001")),
    (ITAU, 1, date(2026, 1, 5), Decimal("0.005")),
    (ITAU, 1, date(2026, 1, 5), Decimal("-0.01")),
    (ITAU, 1, date(2026, 1, 5), Decimal("-0")),
    (ITAU, 1, date(2026, 1, 5), Decimal("0E-5")),
    (ITAU, 1, date(2026, 1, 5), Decimal("0E+12")),
    (ITAU, 1, date(2026, 1, 5), Decimal("0E-999999999")),
    (ITAU, 1, date(2026, 1, 5), Decimal("1E-999999999")),
    (ITAU, 1, date(2026, 1, 5), Decimal("1E+999999999")),
    (ITAU, 1, date(2026, 1, 5), Decimal("1E+2")),
    (ITAU, 1, date(2026, 1, 5), Decimal("1E+8")),
    (ITAU, 1, date(2026, 1, 5), Decimal("99999999.99")),
    (ITAU, 1, date(2026, 1, 5), Decimal("99999999.991")),
    (ITAU, 1, date(2026, 1, 5), Decimal("1.0000000000000000000000000000000001")),
    (ITAU, 1, date(2026, 1, 5), Decimal("NaN")),
    (ITAU, 1, date(2026, 1, 5), Decimal("sNaN")),
    (ITAU, 1, date(2026, 1, 5), Decimal("Infinity")),
    (ITAU, 1, date(2026, 1, 5), Decimal("-Infinity")),
    # accounts the encoder cannot compile
    ({"bank_code": "104", "agency": "1"}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({"bank_code": "001", "agreement": "12345", "wallet": "17"}, 1, date(2026, 1, 5), 1),
    ({**ITAU, "wallet": "198"}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({**ITAU, "account_digit": "X"}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({**ITAU, "account": "123456"}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({**ITAU, "agency": "12a4"}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({**ITAU, "agency": 57}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({"bank_code": "033", "wallet": "101"}, 1, date(2026, 1, 5), Decimal("1.00")),
    ({"bank_code": "237", "agency": "1234", "wallet": "09"}, 1, date(2026, 1, 5), 1),
    ({}, 1, date(2026, 1, 5), Decimal("1.00")),
]


def _outcome(fn, beneficiary, nosso_numero, due, amount):
    try:
        return fn(beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due, amount=amount)
    except Exception as error:  # the very exception (type and message) is what is compared
        return type(error), str(error)


@pytest.mark.parametrize(("beneficiary", "nosso_numero", "due", "amount"), OFF_PATH)
def test_off_path_input_behaves_as_the_generic_path(beneficiary, nosso_numero, due, amount):
    fast = _outcome(boleto_numbers, beneficiary, nosso_numero, due, amount)
    assert fast == _outcome(reference_boleto_numbers, beneficiary, nosso_numero, due, amount)


def test_encoder_declines_what_it_does_not_take():
    bank, account = bank_account(ITAU)
    encode = bank.encoder(account)
    due, amount = date(2026, 1, 5), Decimal("1.00")
    assert encode(1, due, amount) is not None
    for nosso_numero, due_date, value in [
        (0, due, amount),
        (10**8, due, amount),
        (True, due, amount),
        (1, datetime(2026, 1, 5), amount),
        (1, date(1997, 10, 7), amount),
        (1, None, amount),
        (1, due, Decimal("1.001")),
        (1, due, Decimal("-1")),
        (1, due, Decimal("NaN")),
        (1, due, Decimal("Infinity")),
        (1, due, Decimal("1E+8")),
        (1, due, Decimal("1E-999999999")),
        (1, due, 1),
        (1, due, "1.00"),
    ]:
        assert encode(nosso_numero, due_date, value) is None, (nosso_numero, due_date, value)


def test_layout_validation():
    with pytest.raises(ValueError, match="invalid campo livre layout"):
        CampoLivreLayout("123", 11, "0")
    with pytest.raises(ValueError, match="invalid campo livre layout"):
        CampoLivreLayout("12a409", 11, "00123450")
    with pytest.raises(ValueError, match="invalid campo livre layout"):
        CampoLivreLayout("109", 8, "0057123457000", NossoNumeroDV("mod10", prefix="x"))
    CampoLivreLayout("109", 8, "0057123457000", NossoNumeroDV("mod10", prefix="0057123451"))


def test_encoder_every_factor_and_amount_digit():
    # Every factor 0001..9999 (first cycle, then the reset) and every digit at every amount
    # position: each entry of the factor table and each digit of the amount tables.
    bank, account = bank_account(ITAU)
    encode = bank.encoder(account)
    first = date(1997, 10, 8)
    for days in range(10_000 + 9_000):
        due = first + timedelta(days=days)
        amount = Decimal(days % 10 + 1).scaleb(-(days % 3))
        assert encode(days + 1, due, amount) == _reference(bank, account, days + 1, due, amount)
    due = date(2030, 6, 1)
    for position in range(10):
        for digit in range(10):
            amount = Decimal(digit * 10**position + 10**position // 3).scaleb(-2)
            assert encode(7, due, amount) == _reference(bank, account, 7, due, amount)
