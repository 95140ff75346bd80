"""The nosso número as the bank's files carry it, and back.

`file_nosso_numero` gives what our remessas write in the nosso número field (and what the bank
echoes in its retornos); `sequence_from_file` reads a retorno's nosso número back into our
sequence (`Boleto.nosso_numero`), to match a bank event to its boleto.

File forms (check digits come from `billing.febraban`, the same rules as the printed boleto):

* 001 Banco do Brasil: convênio of 7 digits → convênio + sequence (10) = 17 digits, no DV
  (CNAB 240 P 38-57, CBR643 64-80); 8 digits → convênio + sequence (9); 6 digits → convênio +
  sequence (5) + DV (12); 4 digits → convênio + sequence (7) + DV (12).
* 033 Santander: sequence (12) + DV = 13 digits.
* 237 Bradesco: sequence (11) + DV (``P`` for 10) = 12 characters (CNAB 400 71-82).
* 341 Itaú: sequence (8), no DAC (CNAB 400 63-70).
* 999 Banco de testes: sequence zero-padded to 20 digits (the whole CNAB 240 field).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.utils.translation import gettext as _

from billing.febraban import BancoDoBrasil, BankAccount, BoletoError, Bradesco, Santander, get_bank

from .remessa import RemessaAccount, RemessaError

__all__ = ["file_nosso_numero", "nosso_numero_formatter", "sequence_from_file"]

TEST_BANK = "999"
TEST_BANK_WIDTH = 20
ITAU_WIDTH = 8


@lru_cache(maxsize=1024)
def _bank_account(account: RemessaAccount) -> BankAccount:
    try:
        return BankAccount(
            bank_code=account.bank_code,
            agency=(account.agency or "").strip(),
            agency_digit=(account.agency_digit or "").strip(),
            account=(account.account or "").strip(),
            account_digit=(account.account_digit or "").strip(),
            wallet=(account.wallet or "").strip(),
            agreement=(account.agreement or "").strip(),
        )
    except BoletoError as error:
        raise RemessaError(str(error)) from None


def _out_of_range(sequence: int, maximum: int) -> RemessaError:
    return RemessaError(
        _("Nosso número fora do intervalo: %(n)s (esperado de 1 a %(max)s)")
        % {"n": sequence, "max": maximum}
    )


def _check_sequence(sequence: int) -> None:
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise TypeError("sequence must be an int")


def file_nosso_numero(*, bank_code: str, account: RemessaAccount, sequence: int) -> str:
    """The nosso número of `sequence` as the bank's files carry it (see the module docstring).
    `RemessaError` when the account cannot form it or the sequence is out of range."""
    _check_sequence(sequence)
    if bank_code == TEST_BANK:
        if not 1 <= sequence < 10**TEST_BANK_WIDTH:
            raise _out_of_range(sequence, 10**TEST_BANK_WIDTH - 1)
        return f"{sequence:0{TEST_BANK_WIDTH}d}"
    if bank_code == "341":
        if not 1 <= sequence < 10**ITAU_WIDTH:
            raise _out_of_range(sequence, 10**ITAU_WIDTH - 1)
        return f"{sequence:0{ITAU_WIDTH}d}"
    if bank_code not in ("001", "033", "237"):
        raise RemessaError(
            _("Nosso número em arquivo do banco %(bank)s não suportado") % {"bank": bank_code}
        )
    bank_account = _bank_account(account)
    if bank_account.bank_code != bank_code:
        raise RemessaError(
            _("Conta do banco %(account)s usada com o banco %(bank)s")
            % {"account": bank_account.bank_code, "bank": bank_code}
        )
    try:
        printed = get_bank(bank_code).format_nosso_numero(bank_account, sequence)
    except BoletoError as error:
        raise RemessaError(str(error)) from None
    if bank_code == "237":  # "09/00000000453-P": the carteira is not part of the file field
        printed = printed.split("/", 1)[1]
    return printed.replace("-", "")


def nosso_numero_formatter(*, bank_code: str, account: RemessaAccount) -> Callable[[int], str]:
    """A fast ``sequence -> file form`` for one account, for the writer's hot loop: the same
    strings as `file_nosso_numero` (tests compare them), computed with the banks' DV functions
    and constant prefixes prepared once. It does not check ranges: an out-of-range sequence makes
    a string of the wrong length, which the writer detects and reports through
    `file_nosso_numero`."""
    if bank_code == TEST_BANK:
        return f"{{:0{TEST_BANK_WIDTH}d}}".format
    if bank_code == "341":
        return f"{{:0{ITAU_WIDTH}d}}".format
    # Validates the account (and raises the same errors) once, up front.
    file_nosso_numero(bank_code=bank_code, account=account, sequence=1)
    if bank_code == "033":
        santander_dv = Santander.dv
        return lambda n: f"{n:012d}{santander_dv(f'{n:012d}')}"
    if bank_code == "237":
        wallet = account.wallet.strip().zfill(2)
        bradesco_dv = Bradesco.dv
        return lambda n: f"{n:011d}{bradesco_dv(wallet, f'{n:011d}')}"
    agreement = account.agreement.strip()
    width = {7: 10, 8: 9, 6: 5, 4: 7}[len(agreement)]
    if len(agreement) in (7, 8):
        pattern = f"{agreement}{{:0{width}d}}".format
        return pattern
    bb_dv = BancoDoBrasil.dv

    def with_dv(n: int) -> str:
        digits = f"{agreement}{n:0{width}d}"
        return digits + bb_dv(digits)

    return with_dv


# -- reading back ---------------------------------------------------------------------------------


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _positive(value: str) -> int | None:
    number = int(value)
    return number if number >= 1 else None


def sequence_from_file(*, bank_code: str, account: RemessaAccount | None, raw: str) -> int | None:
    """Our sequence from the nosso número a bank file carries, or None.

    Tolerant of the forms banks echo: spaces, left zeros, the printed separators (``-`` before
    a DV, Bradesco's ``09/`` carteira prefix, Itaú's ``109/`` carteira), with or without DV and,
    for Banco do Brasil, with or without the convênio prefix. A DV, when present, must be right.
    Whether a DV is present is decided by the separator or by the full length of the file form
    (Santander 13, Bradesco 12, BB 6/4-digit convênio 12); shorter digit strings are read as the
    bare sequence. Anything else (another convênio or carteira, letters, zero, a wrong DV, an
    account needed but missing) → None: never guess a boleto.
    """
    if not isinstance(raw, str):
        return None
    text = raw.replace(" ", "").upper()
    if not text:
        return None
    dv: str | None = None
    if "-" in text:
        text, _sep, dv = text.rpartition("-")
        if len(dv) != 1 or "-" in text:
            return None
    prefix: str | None = None
    if "/" in text:
        prefix, _sep, text = text.partition("/")
        if "/" in text or not _digits(prefix):
            return None
    if not _digits(text):
        # A DV letter glued to the number (Bradesco P, BB X) without separator.
        if dv is None and len(text) > 1 and _digits(text[:-1]) and text[-1] in "PX":
            text, dv = text[:-1], text[-1]
        else:
            return None
    try:
        return _READERS[bank_code](account, text, dv, prefix)
    except (KeyError, RemessaError):
        return None


def _read_test_bank(account, text, dv, prefix):
    if dv is not None or prefix is not None or len(text) > TEST_BANK_WIDTH:
        return None
    return _positive(text)


def _read_itau(account, text, dv, prefix):
    if len(text) == ITAU_WIDTH + 1 and dv is None:  # nosso número + DAC, unseparated
        text, dv = text[:-1], text[-1]
    if len(text) > ITAU_WIDTH:
        return None
    if prefix is not None and (account is None or prefix.zfill(3) != account.wallet.zfill(3)):
        return None
    number = _positive(text)
    if number is None or dv is None:
        return number
    if account is None:
        return None
    bank = get_bank("341")
    try:
        expected = bank.nosso_numero_dac(_bank_account(account), number)
    except BoletoError:
        return None
    return number if dv == expected else None


def _read_santander(account, text, dv, prefix):
    if prefix is not None:
        return None
    if dv is None and len(text) == 13:
        text, dv = text[:-1], text[-1]
    if len(text) > 12:
        return None
    number = _positive(text)
    if number is None or (dv is not None and Santander.dv(text.zfill(12)) != dv):
        return None
    return number


def _read_bradesco(account, text, dv, prefix):
    if dv is None and len(text) == 12:
        text, dv = text[:-1], text[-1]
    if len(text) > 11:
        return None
    wallet = account.wallet.strip().zfill(2) if account is not None else None
    if prefix is not None and prefix.zfill(2) != wallet:
        return None
    number = _positive(text)
    if number is None or dv is None:
        return number
    if wallet is None or Bradesco.dv(wallet, text.zfill(11)) != dv:
        return None
    return number


def _read_banco_do_brasil(account, text, dv, prefix):
    if account is None or prefix is not None:
        return None
    agreement = account.agreement.strip()
    size = len(agreement)
    if size in (7, 8):
        width = 17 - size
        if dv is not None:
            return None
        if len(text) > width:  # with the convênio prefix (maybe without its left zeros)
            full = text.zfill(17)
            if len(full) != 17 or full[:size] != agreement:
                return None
            return _positive(full[size:])
        return _positive(text)
    if size not in (6, 4):
        return None
    width = 11 - size  # 6 → 5, 4 → 7
    if dv is None and len(text) == 12:
        text, dv = text[:-1], text[-1]
    if len(text) > width:
        full = text.zfill(11)
        if len(full) != 11 or full[:size] != agreement:
            return None
        text = full[size:]
    number = _positive(text)
    if number is None or dv is None:
        return number
    return number if BancoDoBrasil.dv(agreement + text.zfill(width)) == dv else None


_READERS = {
    TEST_BANK: _read_test_bank,
    "341": _read_itau,
    "033": _read_santander,
    "237": _read_bradesco,
    "001": _read_banco_do_brasil,
}
