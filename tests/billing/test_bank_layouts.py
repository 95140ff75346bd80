"""billing.febraban.layout: each bank's rules are declared once, and the readable campo livre,
the printed nosso número, the nosso número's range and position, and the fast encoder's compiled
form are all derived from that one declaration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.febraban import BancoDoBrasil, BankAccount, BoletoError, Itau, get_bank
from billing.febraban.encoder import CampoLivreLayout, NossoNumeroDV
from billing.febraban.layout import CheckDigit, Field, Layout, Literal, NossoNumero


def _digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=low, max_size=high)


# One strategy per declared layout (BB by convênio size, 6 + 17-digit NN; Itaú with the DAC over
# agência + conta + carteira + NN and over carteira + NN only).
ACCOUNTS = {
    "bb4": st.builds(
        BankAccount,
        bank_code=st.just("001"),
        agreement=_digits(4, 4),
        wallet=_digits(1, 2),
        agency=_digits(1, 4),
        account=_digits(1, 8),
    ),
    "bb6": st.builds(
        BankAccount,
        bank_code=st.just("001"),
        agreement=_digits(6, 6),
        wallet=_digits(1, 2),
        agency=_digits(1, 4),
        account=_digits(1, 8),
    ),
    "bb6-long": st.builds(
        BankAccount,
        bank_code=st.just("001"),
        agreement=_digits(6, 6),
        wallet=st.sampled_from(["16", "18"]),
        long_nosso_numero=st.just(True),
    ),
    "bb7": st.builds(
        BankAccount, bank_code=st.just("001"), agreement=_digits(7, 7), wallet=_digits(1, 2)
    ),
    "bb8": st.builds(
        BankAccount, bank_code=st.just("001"), agreement=_digits(8, 8), wallet=_digits(1, 2)
    ),
    "santander": st.builds(
        BankAccount, bank_code=st.just("033"), agreement=_digits(1, 7), wallet=_digits(1, 3)
    ),
    "bradesco": st.builds(
        BankAccount,
        bank_code=st.just("237"),
        agency=_digits(1, 4),
        account=_digits(1, 7),
        wallet=_digits(1, 2),
    ),
    "itau": st.builds(
        BankAccount,
        bank_code=st.just("341"),
        agency=_digits(1, 4),
        account=_digits(1, 5),
        account_digit=st.one_of(st.just(""), _digits(1, 1)),
        wallet=st.sampled_from(["109", "157", "175"]),
    ),
    "itau-wallet-dac": st.builds(
        BankAccount,
        bank_code=st.just("341"),
        agency=_digits(1, 4),
        account=_digits(1, 5),
        account_digit=st.one_of(st.just(""), _digits(1, 1)),
        wallet=st.sampled_from(sorted(Itau.DAC_OVER_WALLET_AND_NN)),
    ),
}


# Where the sequential nosso número sits in each documented layout (docs §4), and its width.
@pytest.mark.parametrize(
    ("account", "nosso_numero_slice"),
    [
        (
            BankAccount(bank_code="001", agreement="1234", wallet="17", agency="1", account="2"),
            (4, 11),
        ),
        (
            BankAccount(bank_code="001", agreement="123456", wallet="17", agency="1", account="2"),
            (6, 11),
        ),
        (
            BankAccount(bank_code="001", agreement="123456", wallet="18", long_nosso_numero=True),
            (6, 23),
        ),
        (BankAccount(bank_code="001", agreement="1234567", wallet="17"), (13, 23)),
        (BankAccount(bank_code="001", agreement="12345678", wallet="17"), (14, 23)),
        (BankAccount(bank_code="033", agreement="1234567", wallet="101"), (8, 20)),
        (BankAccount(bank_code="237", agency="1234", account="1", wallet="09"), (6, 17)),
        (BankAccount(bank_code="341", agency="57", account="1", wallet="109"), (3, 11)),
        (BankAccount(bank_code="341", agency="57", account="1", wallet="112"), (3, 11)),
    ],
    ids=lambda value: value.bank_code if isinstance(value, BankAccount) else None,
)
def test_range_and_position_derive_from_the_widths(account, nosso_numero_slice):
    bank = get_bank(account.bank_code)
    start, end = nosso_numero_slice
    layout = bank.layout(account)
    assert layout.nosso_numero_slice == nosso_numero_slice
    assert bank.nosso_numero_max(account) == 10 ** (end - start) - 1
    campo_livre = bank.campo_livre(account, bank.nosso_numero_max(account))
    assert campo_livre[start:end] == "9" * (end - start)
    assert bank.nosso_numero_from_campo_livre(account, campo_livre) == 10 ** (end - start) - 1


def _render(compiled: CampoLivreLayout, nosso_numero: int) -> str:
    """The compiled form read back as digits, with its DV computed by the readable functions."""
    number = f"{nosso_numero:0{compiled.width}d}"
    dv = ""
    if compiled.dv is not None:
        rule = CheckDigit(
            compiled.dv.method,
            over=(),
            weights=compiled.dv.weights,
            replacements=compiled.dv.replacements,
        )
        dv = rule.of(compiled.dv.prefix + number)
    return compiled.head + number + dv + compiled.tail


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
@settings(max_examples=40, deadline=None)
@given(data=st.data(), fraction=st.floats(0, 1))
def test_compiled_layout_is_the_readable_campo_livre(name, data, fraction):
    account = data.draw(ACCOUNTS[name])
    bank = get_bank(account.bank_code)
    maximum = bank.nosso_numero_max(account)
    nosso_numero = min(maximum, max(1, round(fraction * maximum)))
    compiled = bank.layout(account).compiled(account)
    assert _render(compiled, nosso_numero) == bank.campo_livre(account, nosso_numero)


def test_each_bank_declares_which_digit_follows_the_nosso_numero():
    # Santander and Itaú carry the nosso número's DV in the campo livre, BB and Bradesco do not.
    itau = BankAccount(bank_code="341", agency="0057", account="12345", wallet="109")
    compiled = Itau().layout(itau).compiled(itau)
    assert compiled.dv == NossoNumeroDV("mod10", prefix="005712345109")
    assert (compiled.head, compiled.tail) == ("109", "0057123457000")
    itau_112 = BankAccount(bank_code="341", agency="0057", account="12345", wallet="112")
    assert Itau().layout(itau_112).compiled(itau_112).dv == NossoNumeroDV("mod10", prefix="112")
    santander = BankAccount(bank_code="033", agreement="1234567", wallet="101")
    compiled = get_bank("033").layout(santander).compiled(santander)
    assert compiled == CampoLivreLayout(
        "91234567", 12, "0101", NossoNumeroDV("mod11", replacements=((10, "0"), (11, "0")))
    )
    bradesco = BankAccount(bank_code="237", agency="1234", account="12345", wallet="9")
    assert get_bank("237").layout(bradesco).compiled(bradesco) == CampoLivreLayout(
        "123409", 11, "00123450"
    )


BAD_ACCOUNTS = [
    BankAccount(bank_code="001", agreement="12345", wallet="17"),
    BankAccount(bank_code="001", agreement="1234567", wallet="17", long_nosso_numero=True),
    BankAccount(bank_code="001", agreement="123456", wallet="17", long_nosso_numero=True),
    BankAccount(bank_code="001", agreement="1234567", wallet="123"),
    # two errors: BB checks the carteira first
    BankAccount(bank_code="001", agreement="1234", wallet="123", agency="12345"),
    BankAccount(bank_code="001", agreement="1234", wallet="17", agency="12345"),
    BankAccount(bank_code="033", agreement="12345678", wallet="1234"),
    BankAccount(bank_code="237", agency="12345", account="12345678", wallet="123"),
    BankAccount(bank_code="341", agency="12345", account="123456", wallet="1234"),
    BankAccount(bank_code="341", agency="57", account="123456", wallet="112"),
    BankAccount(bank_code="341", agency="57", account="12345", wallet="198"),
    BankAccount(bank_code="341", agency="57", account="12345", account_digit="X", wallet="109"),
]


def _error(call) -> str:
    with pytest.raises(BoletoError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("account", BAD_ACCOUNTS, ids=lambda a: f"{a.bank_code}")
def test_both_paths_refuse_an_account_with_the_same_first_error(account):
    bank = get_bank(account.bank_code)
    message = _error(lambda: bank.campo_livre(account, 1))
    assert _error(lambda: bank.encoder(account)) == message


def test_first_errors_follow_the_declared_order():
    bb = BancoDoBrasil()
    two_errors = BankAccount(bank_code="001", agreement="1234", wallet="123", agency="12345")
    assert _error(lambda: bb.campo_livre(two_errors, 1)).startswith("Carteira inválido")
    itau = get_bank("341")
    account = BankAccount(bank_code="341", agency="12345", account="123456", wallet="109")
    assert _error(lambda: itau.campo_livre(account, 1)).startswith("Agência inválido")


def test_printed_nosso_numero_reads_only_the_fields_it_shows():
    # Santander prints the nosso número and its DV: a missing beneficiário code does not matter
    # there (it does in the campo livre).
    account = BankAccount(bank_code="033", wallet="101")
    assert get_bank("033").format_nosso_numero(account, 456) == "000000000456-1"
    with pytest.raises(BoletoError, match="Código do beneficiário inválido"):
        get_bank("033").campo_livre(account, 456)


def test_layout_declarations_are_checked():
    nn = NossoNumero(10)
    with pytest.raises(ValueError, match="25 digits with one nosso número"):
        Layout((Literal("123"), nn), (nn,))
    with pytest.raises(ValueError, match="25 digits with one nosso número"):
        Layout((Literal("123"), nn, NossoNumero(12)), (nn,))
    account = BankAccount(bank_code="001", agreement="1234567", wallet="17")
    wallet = Field("wallet", 2, "Carteira")
    # A check digit the fast encoder cannot place (not right after the nosso número).
    dv_first = Layout(
        (CheckDigit("mod10", over=(wallet, nn)), Literal("0" * 12), nn, wallet), (nn,)
    )
    assert len(dv_first.campo_livre(account, 5)) == 25
    with pytest.raises(ValueError, match="cannot compile"):
        dv_first.compiled(account)
    remainder = Layout(
        (
            Literal("0" * 12),
            nn,
            CheckDigit("mod11_remainder", over=(nn,), replacements=((10, "X"),)),
            wallet,
        ),
        (nn,),
    )
    with pytest.raises(ValueError, match="mod11_remainder"):
        remainder.compiled(account)


def test_encoder_checks_its_compiled_layout_against_the_readable_path(monkeypatch):
    bank = get_bank("237")
    account = BankAccount(bank_code="237", agency="1234", account="0012345", wallet="09")
    wrong = CampoLivreLayout("123409", 11, "00123451")  # last digit should be 0
    monkeypatch.setattr(Layout, "compiled", lambda self, account: wrong)
    with pytest.raises(AssertionError, match="differs from barcode"):
        bank.encoder(account)


def test_both_paths_follow_a_changed_declaration(monkeypatch):
    # One declaration: change it (Bradesco's final "0" to "7"), and the readable campo livre, the
    # printed nosso número and the fast encoder all follow, with no second copy to update.
    bradesco = type(get_bank("237"))
    parts = bradesco.LAYOUT.campo_livre_parts
    changed = Layout((*parts[:-1], Literal("7")), bradesco.LAYOUT.printed_parts)
    monkeypatch.setattr(bradesco, "LAYOUT", changed)
    account = BankAccount(bank_code="237", agency="1234", account="0012345", wallet="09")
    bank = get_bank("237")
    assert bank.campo_livre(account, 453) == "1234090000000045300123457"
    barcode, _linha = bank.encoder(account)(453, date(2030, 1, 2), Decimal("12.34"))
    assert barcode == bank.barcode(account, 453, date(2030, 1, 2), Decimal("12.34"))
    assert barcode.endswith("00123457")
