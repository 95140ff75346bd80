"""Boleto de cobrança: 44-digit barcode and 47-digit linha digitável (docs §1–§2).

Barcode (1-based positions): 1–3 bank, 4 currency (9 = real), 5 general DV, 6–9 due-date factor,
10–19 amount in centavos, 20–44 campo livre (bank-specific, see `banks`).

Linha digitável: field 1 = bank + currency + campo livre 1–5 + mod-10 DV; field 2 = campo livre
6–15 + DV; field 3 = campo livre 16–25 + DV; field 4 = general DV; field 5 = factor + amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from .checkdigits import BoletoError, barcode_dv, is_digits, mod10
from .factor import decode_factor, encode_factor

__all__ = [
    "BARCODE_LENGTH",
    "CURRENCY_REAL",
    "LINHA_LENGTH",
    "MAX_AMOUNT",
    "BoletoError",
    "ParsedBoleto",
    "barcode_to_linha",
    "build_barcode",
    "clean_input",
    "format_brl",
    "format_linha",
    "linha_to_barcode",
    "parse",
]

BARCODE_LENGTH = 44
LINHA_LENGTH = 47
CURRENCY_REAL = "9"
MAX_AMOUNT = Decimal("99999999.99")
_CENT = Decimal("0.01")
_SEPARATORS = frozenset(" .-\t\r\n\u00a0")
_DIGITS = frozenset("0123456789")

# (start, end) slices of the linha digitável, 0-based; each of fields 1–3 ends with its DV.
_LINHA_FIELDS = ((0, 10), (10, 21), (21, 32))


def format_brl(amount: Decimal) -> str:
    """``Decimal("1234.5")`` → ``"R$ 1.234,50"`` (used in error messages)."""
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{sign}R$ {text}"


def _amount_to_cents(amount: Decimal | int | str) -> int:
    if isinstance(amount, bool) or isinstance(amount, float):
        raise TypeError("amount must be a Decimal (or int/str), never a float")
    if isinstance(amount, int | str):
        try:
            amount = Decimal(amount)
        except InvalidOperation:
            raise BoletoError(f"Valor inválido: {amount!r} não é um número") from None
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise BoletoError(f"Valor inválido: {amount}")
    if amount < 0:
        raise BoletoError(f"Valor negativo não é permitido: {format_brl(amount)}")
    if amount > MAX_AMOUNT:
        raise BoletoError(
            f"Valor acima do máximo de {format_brl(MAX_AMOUNT)}: informado {format_brl(amount)}"
        )
    if amount != amount.quantize(_CENT):
        raise BoletoError(f"Valor com mais de duas casas decimais: {amount}")
    return int(amount * 100)


def build_barcode(
    bank_code: str,
    due_date: date | None,
    amount: Decimal | int | str,
    campo_livre: str,
) -> str:
    """The 44-digit barcode (currency always 9, real).

    `due_date` None gives factor 0000 (no due date). `amount` is in reais, at most
    R$ 99.999.999,99, with no more than 2 decimal places; a float raises TypeError.
    """
    if not (isinstance(bank_code, str) and len(bank_code) == 3 and is_digits(bank_code)):
        raise BoletoError(f"Código do banco inválido: {bank_code!r} (esperados 3 dígitos)")
    if not (isinstance(campo_livre, str) and len(campo_livre) == 25 and is_digits(campo_livre)):
        raise BoletoError(f"Campo livre inválido: {campo_livre!r} (esperados 25 dígitos)")
    cents = _amount_to_cents(amount)
    body = f"{bank_code}{CURRENCY_REAL}{encode_factor(due_date)}{cents:010d}{campo_livre}"
    return f"{body[:4]}{barcode_dv(body)}{body[4:]}"


def clean_input(user_input: str) -> str:
    """Digits of `user_input`, dropping spaces, dots and hyphens; anything else is an error."""
    if not isinstance(user_input, str):
        raise TypeError(f"expected str, got {type(user_input).__name__}")
    if user_input.isascii() and user_input.isdigit():
        return user_input  # already clean: the generator's path for every issued boleto
    digits = []
    for position, ch in enumerate(user_input, start=1):
        if ch in _DIGITS:
            digits.append(ch)
        elif ch not in _SEPARATORS:
            raise BoletoError(
                "Caracteres inválidos: apenas dígitos, espaços, pontos e hífens são aceitos "
                f"(encontrado {ch!r} na posição {position})"
            )
    if not digits:
        raise BoletoError("Nenhum dígito informado: cole a linha digitável ou o código de barras")
    return "".join(digits)


def _length_error(n: int, expected: str) -> BoletoError:
    noun = "dígito" if n == 1 else "dígitos"
    return BoletoError(f"Tamanho inválido: {n} {noun} (esperado {expected})")


def _check_barcode(barcode: str) -> None:
    if len(barcode) != BARCODE_LENGTH:
        raise _length_error(len(barcode), "44 para código de barras")
    expected = barcode_dv(barcode[:4] + barcode[5:])
    informed = barcode[4]
    if str(expected) != informed:
        raise BoletoError(
            "Dígito verificador geral (posição 5 do código de barras) inválido: "
            f"esperado {expected}, informado {informed}"
        )


def barcode_to_linha(barcode: str) -> str:
    """47-digit linha digitável (digits only) of a 44-digit barcode, after checking its DV."""
    bc = clean_input(barcode)
    _check_barcode(bc)
    fields = (bc[0:4] + bc[19:24], bc[24:34], bc[34:44])
    return "".join(f + str(mod10(f)) for f in fields) + bc[4] + bc[5:19]


def linha_to_barcode(linha: str) -> str:
    """44-digit barcode of a linha digitável, after checking the three field DVs and the
    general DV (field 4). Spaces, dots and hyphens in `linha` are ignored."""
    ld = clean_input(linha)
    if len(ld) != LINHA_LENGTH:
        raise _length_error(len(ld), "47 para linha digitável")
    for number, (start, end) in enumerate(_LINHA_FIELDS, start=1):
        data, informed = ld[start : end - 1], ld[end - 1]
        expected = mod10(data)
        if str(expected) != informed:
            raise BoletoError(
                f"Dígito verificador do campo {number} inválido: "
                f"esperado {expected}, informado {informed}"
            )
    bc = ld[0:4] + ld[32] + ld[33:47] + ld[4:9] + ld[10:20] + ld[21:31]
    expected_dv = barcode_dv(bc[:4] + bc[5:])
    if str(expected_dv) != ld[32]:
        raise BoletoError(
            "Dígito verificador geral (campo 4) inválido: "
            f"esperado {expected_dv}, informado {ld[32]}"
        )
    return bc


def format_linha(linha: str) -> str:
    """``AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEEEEEEEEEEEE`` (groups 5.5 5.6 5.6 1 14)."""
    ld = clean_input(linha)
    if len(ld) != LINHA_LENGTH:
        raise _length_error(len(ld), "47 para linha digitável")
    return (
        f"{ld[0:5]}.{ld[5:10]} {ld[10:15]}.{ld[15:21]} {ld[21:26]}.{ld[26:32]} {ld[32]} {ld[33:47]}"
    )


@dataclass(frozen=True)
class ParsedBoleto:
    """A decoded boleto de cobrança. `due_date` is None for factor 0000."""

    bank_code: str
    currency: str
    general_dv: int
    barcode: str
    linha_digitavel: str
    factor: int
    due_date: date | None
    amount: Decimal
    campo_livre: str
    input_kind: Literal["barcode", "linha"]
    reference_date: date

    @property
    def linha_digitavel_formatada(self) -> str:
        return format_linha(self.linha_digitavel)


def _today_sao_paulo() -> date:
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date()


def parse(user_input: str, *, reference_date: date | None = None) -> ParsedBoleto:
    """Decode a barcode (44 digits) or linha digitável (47 digits) typed or pasted by a user.

    Spaces, dots and hyphens are ignored. Every DV is checked. The due date is decoded with the
    FEBRABAN window around `reference_date` (default: today in America/Sao_Paulo).
    Raises `BoletoError` with a one-line Portuguese message naming what is wrong.
    """
    digits = clean_input(user_input)
    n = len(digits)
    if n == BARCODE_LENGTH:
        kind: Literal["barcode", "linha"] = "barcode"
        barcode = digits
        linha = barcode_to_linha(barcode)
    elif n == LINHA_LENGTH:
        kind = "linha"
        linha = digits
        barcode = linha_to_barcode(linha)
    elif n == 48 and digits[0] == "8":
        raise BoletoError(
            "Linha de arrecadação (48 dígitos, começa com 8: contas de consumo e tributos) não é "
            "suportada: informe um boleto de cobrança (44 ou 47 dígitos)"
        )
    else:
        raise _length_error(n, "44 para código de barras ou 47 para linha digitável")

    if barcode[3] != CURRENCY_REAL:
        raise BoletoError(f"Código de moeda inválido: {barcode[3]} (apenas 9, real, é aceito)")
    reference = _today_sao_paulo() if reference_date is None else reference_date
    factor = int(barcode[5:9])
    return ParsedBoleto(
        bank_code=barcode[0:3],
        currency=barcode[3],
        general_dv=int(barcode[4]),
        barcode=barcode,
        linha_digitavel=linha,
        factor=factor,
        due_date=decode_factor(factor, reference),
        amount=(Decimal(int(barcode[9:19])) / 100).quantize(_CENT),
        campo_livre=barcode[19:44],
        input_kind=kind,
        reference_date=reference,
    )
