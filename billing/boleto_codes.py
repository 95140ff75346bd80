"""What an issued boleto carries, from the beneficiary snapshot: barcode, linha digitável, Pix
copia e cola and the nosso número as printed (the Django side of billing.febraban)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from billing.febraban import (
    Bank,
    BankAccount,
    BoletoError,
    barcode_to_linha,
    brcode,
    get_bank,
)
from billing.febraban.encoder import Encoder

_ACCOUNT_KEYS = (
    "bank_code",
    "agency",
    "agency_digit",
    "account",
    "account_digit",
    "wallet",
    "agreement",
)


@dataclass(frozen=True)
class BoletoNumbers:
    barcode: str
    linha_digitavel: str


@lru_cache(maxsize=4096)
def _account(values: tuple[str, ...]) -> tuple[Bank, BankAccount]:
    account = BankAccount(**dict(zip(_ACCOUNT_KEYS, values, strict=True)))
    return get_bank(account.bank_code), account


def bank_account(beneficiary: dict) -> tuple[Bank, BankAccount]:
    """The bank rules and account of a beneficiary snapshot (cached: snapshots repeat a lot)."""
    return _account(tuple(beneficiary.get(key, "") or "" for key in _ACCOUNT_KEYS))


@lru_cache(maxsize=4096)
def _encoder(raw_values: tuple) -> Encoder | None:
    """The compiled encoder of a beneficiary's account, keyed by its raw ``.get`` values (missing
    keys are None). None when the account cannot issue boletos: the generic path then raises."""
    try:
        bank, account = _account(tuple(value or "" for value in raw_values))
        return bank.encoder(account)
    except BoletoError:
        return None


def boleto_numbers(
    *, beneficiary: dict, nosso_numero: int, due_date: date, amount: Decimal
) -> BoletoNumbers:
    """Barcode and linha digitável of one boleto. A few µs: called for every issued boleto.

    Same result, and same errors, as `reference_boleto_numbers`: the account's precompiled
    encoder (`Bank.encoder`) serves plain input and hands anything else to the generic path.
    """
    encode = _encoder(tuple(map(beneficiary.get, _ACCOUNT_KEYS)))
    if encode is not None:
        numbers = encode(nosso_numero, due_date, amount)
        if numbers is not None:
            return BoletoNumbers(*numbers)
    return reference_boleto_numbers(
        beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due_date, amount=amount
    )


def boleto_codes(
    *, beneficiary: dict, nosso_numero: int, due_date: date, amount: Decimal
) -> tuple[str, str, str]:
    """What an issued boleto carries: ``(barcode, linha_digitavel, pix_payload)``; the Pix copia
    e cola is '' when the merchant has no key (its txid is the nosso número). Raises BoletoError
    or ValueError when the beneficiary's account cannot issue it."""
    numbers = boleto_numbers(
        beneficiary=beneficiary, nosso_numero=nosso_numero, due_date=due_date, amount=amount
    )
    pix = (
        pix_payload(beneficiary=beneficiary, amount=amount, txid=f"BOL{nosso_numero}")
        if beneficiary.get("pix_key")
        else ""
    )
    return numbers.barcode, numbers.linha_digitavel, pix


def reference_boleto_numbers(
    *, beneficiary: dict, nosso_numero: int, due_date: date, amount: Decimal
) -> BoletoNumbers:
    """`boleto_numbers` by the generic, validating path (`Bank.barcode`, `barcode_to_linha`):
    the reference the fast path is tested against, and its fallback."""
    bank, account = bank_account(beneficiary)
    barcode = bank.barcode(account, nosso_numero, due_date, amount)
    return BoletoNumbers(barcode=barcode, linha_digitavel=barcode_to_linha(barcode))


def formatted_nosso_numero(*, beneficiary: dict, nosso_numero: int) -> str:
    bank, account = bank_account(beneficiary)
    return bank.format_nosso_numero(account, nosso_numero)


def pix_payload(*, beneficiary: dict, amount: Decimal, txid: str) -> str:
    """Static Pix copia e cola for the boleto's amount, or '' when the merchant has no key."""
    key = beneficiary.get("pix_key") or ""
    if not key:
        return ""
    return brcode(
        key=key,
        merchant_name=beneficiary.get("trade_name") or beneficiary.get("legal_name", ""),
        merchant_city=beneficiary.get("address_city") or "BRASIL",
        amount=amount,
        txid=txid,
    )
