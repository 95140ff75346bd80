import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.cnab.nosso_numero import (
    file_nosso_numero,
    nosso_numero_formatter,
    sequence_from_file,
)
from billing.cnab.remessa import RemessaError
from billing.febraban import BankAccount, get_bank

from .conftest import make_account

# (bank, account changes, largest sequence)
CONFIGS = [
    ("999", {}, 10**20 - 1),
    ("341", {}, 10**8 - 1),
    ("033", {}, 10**12 - 1),
    ("237", {}, 10**11 - 1),
    ("001", {"agreement": "1234567"}, 10**10 - 1),
    ("001", {"agreement": "12345678"}, 10**9 - 1),
    ("001", {"agreement": "123456"}, 10**5 - 1),
    ("001", {"agreement": "1234"}, 10**7 - 1),
]
IDS = [f"{bank}-{changes.get('agreement', '')}" for bank, changes, _ in CONFIGS]


@pytest.mark.parametrize(("bank", "changes", "maximum"), CONFIGS, ids=IDS)
@given(data=st.data())
def test_round_trip_and_fast_formatter(bank, changes, maximum, data):
    account = make_account(bank, **changes)
    sequence = data.draw(st.integers(min_value=1, max_value=maximum))
    text = file_nosso_numero(bank_code=bank, account=account, sequence=sequence)
    assert nosso_numero_formatter(bank_code=bank, account=account)(sequence) == text
    assert sequence_from_file(bank_code=bank, account=account, raw=text) == sequence
    # As a retorno may carry it: padded with spaces in a wider field.
    assert sequence_from_file(bank_code=bank, account=account, raw=f" {text}   ") == sequence


@pytest.mark.parametrize(
    ("bank", "changes", "maximum"),
    [c for c in CONFIGS if c[0] in {"033", "237"} or c[1].get("agreement") in {"123456", "1234"}],
)
@given(data=st.data())
def test_wrong_check_digit_is_refused(bank, changes, maximum, data):
    account = make_account(bank, **changes)
    sequence = data.draw(st.integers(min_value=1, max_value=maximum))
    text = file_nosso_numero(bank_code=bank, account=account, sequence=sequence)
    for wrong in "0123456789XP":
        if wrong != text[-1]:
            assert (
                sequence_from_file(bank_code=bank, account=account, raw=text[:-1] + wrong) is None
            )


def test_file_forms_reuse_the_printed_nosso_numero():
    bb = make_account("001")
    assert file_nosso_numero(bank_code="001", account=bb, sequence=123) == "12345670000000123"
    santander = make_account("033")
    printed = get_bank("033").format_nosso_numero(BankAccount("033", agreement="1234567"), 456)
    assert file_nosso_numero(bank_code="033", account=santander, sequence=456) == printed.replace(
        "-", ""
    )
    bradesco = make_account("237")
    printed = get_bank("237").format_nosso_numero(
        BankAccount("237", agency="1234", account="12345", wallet="09"), 453
    )
    assert printed == "09/00000000453-P"
    assert file_nosso_numero(bank_code="237", account=bradesco, sequence=453) == "00000000453P"
    assert file_nosso_numero(bank_code="341", account=make_account("341"), sequence=5) == "00000005"
    assert file_nosso_numero(bank_code="999", account=make_account("999"), sequence=5) == "5".zfill(
        20
    )


def test_forms_banks_echo():
    bb = make_account("001")
    assert sequence_from_file(bank_code="001", account=bb, raw="0000000123") == 123
    assert sequence_from_file(bank_code="001", account=bb, raw="123") == 123
    assert sequence_from_file(bank_code="001", account=bb, raw="12345670000000123   ") == 123
    # Another convênio: not ours.
    assert sequence_from_file(bank_code="001", account=bb, raw="76543210000000123") is None
    assert sequence_from_file(bank_code="001", account=None, raw="12345670000000123") is None
    santander = make_account("033")
    full = file_nosso_numero(bank_code="033", account=santander, sequence=456)
    assert (
        sequence_from_file(bank_code="033", account=santander, raw=f"{full[:-1]}-{full[-1]}") == 456
    )
    assert sequence_from_file(bank_code="033", account=None, raw=full) == 456
    assert sequence_from_file(bank_code="033", account=santander, raw="000000000456") == 456
    bradesco = make_account("237")
    assert sequence_from_file(bank_code="237", account=bradesco, raw="09/00000000453-P") == 453
    assert sequence_from_file(bank_code="237", account=bradesco, raw="00000000453P") == 453
    assert sequence_from_file(bank_code="237", account=bradesco, raw="19/00000000453-P") is None
    itau = make_account("341")
    dac = get_bank("341").nosso_numero_dac(
        BankAccount("341", agency="1234", account="12345", account_digit="5", wallet="109"), 223350
    )
    assert sequence_from_file(bank_code="341", account=itau, raw=f"109/00223350-{dac}") == 223350
    wrong = str((int(dac) + 1) % 10)
    assert sequence_from_file(bank_code="341", account=itau, raw=f"109/00223350-{wrong}") is None
    assert sequence_from_file(bank_code="341", account=itau, raw="00223350") == 223350


@pytest.mark.parametrize("raw", ["", "   ", "0", "00000000000000000000", "ABC", "12-34-5", "1.5"])
def test_garbage_is_none(raw):
    for bank in ("999", "001", "033", "237", "341"):
        assert sequence_from_file(bank_code=bank, account=make_account(bank), raw=raw) is None


def test_unknown_bank_is_none_and_out_of_range_raises():
    assert sequence_from_file(bank_code="104", account=None, raw="123") is None
    with pytest.raises(RemessaError, match="fora do intervalo"):
        file_nosso_numero(bank_code="341", account=make_account("341"), sequence=10**8)
    with pytest.raises(RemessaError, match="Convênio"):
        file_nosso_numero(
            bank_code="001", account=make_account("001", agreement="12345"), sequence=1
        )
