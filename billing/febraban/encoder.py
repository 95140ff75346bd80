"""Precompiled boleto encoder: one account's barcode and linha digitável in a few microseconds.

The generic path (`Bank.barcode` → `build_barcode` → `barcode_to_linha`) validates every part and
recomputes every check digit digit by digit: right for untrusted input, ~40 µs per boleto. The
installment generator numbers 100,000 boletos per run for a few hundred accounts, so this module
compiles, once per (bank, account), an encoder that only does the work that depends on the
boleto:

* the campo livre of an account is constant except for the nosso número (a fixed-width run of
  digits) and, for some banks, the nosso número's DV right after it (`CampoLivreLayout`);
* every check digit involved (the barcode's general DV, the three linha DVs, the nosso número DV)
  is a function of a sum of per-digit contributions (modulo 11 weights, modulo 10 doubling), so
  the contributions of the constant digits are summed once, and those of the variable digits come
  from lookup tables indexed by 4- or 5-digit chunks of the number (factor, amount in centavos,
  nosso número);
* the nosso número tables pack the five sums it feeds (general DV, linha fields 1–3, nosso número
  DV), each reduced modulo its rule, into 8-bit fields of one int, so one lookup and one addition
  per chunk update them all.

`compile_encoder` is deliberately dumb about input it did not expect: the encoder returns ``None``
for anything outside the plain case (a nosso número out of range, a ``datetime`` or a date before
the first factor, an amount that is not a ``Decimal`` of at most two places in range, …), and the
caller then takes the generic path, which raises exactly the errors it always raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Literal

from .checkdigits import WEIGHTS_2_TO_9
from .factor import BASE_DATE, CYCLE_DAYS

__all__ = ["CampoLivreLayout", "Encoder", "NossoNumeroDV", "compile_encoder"]

#: ``encoder(nosso_numero, due_date, amount) -> (barcode, linha_digitavel) | None``
Encoder = Callable[[int, date, Decimal], "tuple[str, str] | None"]


@dataclass(frozen=True)
class NossoNumeroDV:
    """The DV printed right after the nosso número in the campo livre, computed over `prefix` +
    the zero-padded nosso número.

    * ``"mod10"``: FEBRABAN modulo 10 (2, 1, 2, … from the right, products as digit sums).
    * ``"mod11"``: ``11 − (Σ digit × weight mod 11)``, weights from the right, results found in
      `replacements` printed as given (each must be one digit).
    """

    method: Literal["mod10", "mod11"]
    prefix: str = ""
    weights: tuple[int, ...] = WEIGHTS_2_TO_9
    replacements: tuple[tuple[int, str], ...] = ((10, "0"), (11, "0"))


@dataclass(frozen=True)
class CampoLivreLayout:
    """An account's campo livre: `head` + nosso número (`width` digits, zero-padded) + its DV
    (when `dv` is set) + `tail`, 25 digits in all."""

    head: str
    width: int
    tail: str
    dv: NossoNumeroDV | None = None

    def __post_init__(self) -> None:
        size = len(self.head) + self.width + (self.dv is not None) + len(self.tail)
        digits = self.head + self.tail + (self.dv.prefix if self.dv else "")
        if size != 25 or not (digits == "" or (digits.isascii() and digits.isdigit())):
            raise ValueError(f"invalid campo livre layout {self!r}")


# -- position rules -----------------------------------------------------------------------------
# Barcode (0-based): 0–2 bank, 3 currency, 4 general DV, 5–8 factor, 9–18 amount, 19–43 campo
# livre. The general DV weighs the 43 other digits 2..9 from the right: index i of those 43
# (campo livre digit j is index 18 + j) has weight 2 + (42 − i) mod 8.

_DOUBLED = tuple((2 * d) // 10 + (2 * d) % 10 for d in range(10))
_CHUNK = 4  # nosso número digits per lookup table (10⁴ entries)
_BITS = 8  # width of each packed sum; every packed sum stays below 2⁸ (see _pack)
_MASK = (1 << _BITS) - 1
_S, _L1, _L2, _L3, _N = range(5)  # packed fields: general DV, linha fields 1–3, nosso número DV


def _dv_weight(index43: int) -> int:
    return 2 + (42 - index43) % 8


def _mod10(digit: int, position_from_right: int) -> int:
    return _DOUBLED[digit] if position_from_right % 2 == 0 else digit


def _campo_livre_sums(j: int, digit: int) -> list[int]:
    """Contributions of campo livre digit `j` (0-based) to the general DV and linha fields."""
    sums = [digit * _dv_weight(18 + j), 0, 0, 0, 0]
    if j < 5:  # field 1: bank (3) + currency + campo livre 1–5, then its DV
        sums[_L1] = _mod10(digit, 4 - j)
    elif j < 15:
        sums[_L2] = _mod10(digit, 14 - j)
    else:
        sums[_L3] = _mod10(digit, 24 - j)
    return sums


def _nn_dv_sum(dv: NossoNumeroDV, digit: int, position_from_right: int) -> int:
    if dv.method == "mod10":
        return _mod10(digit, position_from_right)
    return digit * dv.weights[position_from_right % len(dv.weights)]


_MODULI = (11, 10, 10, 10)  # the N field's modulus depends on the DV rule


def _pack(sums: list[int], n_modulus: int) -> int:
    """Fields reduced modulo their rule (≤ 10 each) and packed, 8 bits apart. A handful of packed
    values added together (constant part, ≤ 5 chunks, the DV) keeps every field below 2⁸."""
    packed = 0
    for field, (value, modulus) in enumerate(zip(sums, (*_MODULI, n_modulus), strict=True)):
        packed |= (value % modulus) << (_BITS * field)
    return packed


# -- tables ---------------------------------------------------------------------------------------


def _compose(per_digit: list[list[int]]) -> list[int]:
    """Table of the sum of per-digit contributions for every number of len(per_digit) digits;
    ``per_digit[0]`` is the leftmost digit's 10 contributions."""
    table = [0]
    for contributions in per_digit:
        table = [a + b for a in table for b in contributions]
    return table


def _barcode_span_table(first_index43: int, size: int) -> list[int]:
    """General-DV contribution (mod 11) of every `size`-digit number at 43-digit index
    `first_index43` onwards."""
    per_digit = [[d * _dv_weight(first_index43 + k) for d in range(10)] for k in range(size)]
    return [s % 11 for s in _compose(per_digit)]


@cache
def _fixed_tables() -> tuple[list[int], list[int], list[int]]:
    """General-DV tables of the factor (43-digit index 4–7) and of the amount's high and low
    five digits (index 8–12 and 13–17). Built on first use (~50 ms), shared by all accounts."""
    return _barcode_span_table(4, 4), _barcode_span_table(8, 5), _barcode_span_table(13, 5)


@cache
def _dv_table(dv_index: int, rule: NossoNumeroDV | None) -> tuple[tuple[str, int], ...]:
    """The nosso número DV by the value of the packed N field: its character and the packed
    contribution of that character at campo livre index `dv_index`. Without a DV the N field
    stays 0 and the DV is printed as ""."""
    if rule is None:
        return (("", 0),)
    n_modulus = 10 if rule.method == "mod10" else 11
    replacements = dict(rule.replacements)
    entries = []
    for s in range(1 << _BITS):
        if rule.method == "mod10":
            char = str((10 - s % 10) % 10)
        else:
            value = 11 - s % 11
            char = replacements.get(value) or (str(value) if value < 10 else "")
        if not (len(char) == 1 and char.isascii() and char.isdigit()):
            raise ValueError(f"the nosso número DV must be one digit in the campo livre: {rule}")
        entries.append((char, _pack(_campo_livre_sums(dv_index, int(char)), n_modulus)))
    return tuple(entries)


@cache
def _nosso_numero_tables(
    offset: int, width: int, dv: NossoNumeroDV | None
) -> tuple[list[int], ...]:
    """Packed-sum tables of the nosso número at campo livre `offset`, `width` digits: table c
    covers digits 4c..4c+3 counted from the right (the last one may be shorter)."""
    n_modulus = 10 if dv is not None and dv.method == "mod10" else 11
    tables = []
    for low in range(0, width, _CHUNK):
        size = min(_CHUNK, width - low)
        per_field: list[list[list[int]]] = [[], [], [], [], []]
        for t in range(size):  # t-th digit of the chunk from the left
            k = width - low - size + t  # index in the nosso número, from the left
            columns = list(zip(*(_campo_livre_sums(offset + k, d) for d in range(10)), strict=True))
            for field in (_S, _L1, _L2, _L3):
                per_field[field].append(list(columns[field]))
            per_field[_N].append([_nn_dv_sum(dv, d, width - 1 - k) if dv else 0 for d in range(10)])
        composed = [_compose(digits) for digits in per_field]
        tables.append([_pack(list(sums), n_modulus) for sums in zip(*composed, strict=True)])
    return tuple(tables)


_GENERAL_DV = "".join(
    str(1 if (11 - s % 11) in (0, 10, 11) else 11 - s % 11) for s in range(1 << _BITS)
)
_MOD10_DV = "".join(str((10 - s % 10) % 10) for s in range(1 << _BITS))
_BASE_ORDINAL = BASE_DATE.toordinal()
_FIRST_CYCLE_DAYS = 10_000


def compile_encoder(bank_code: str, layout: CampoLivreLayout, nosso_numero_max: int) -> Encoder:
    """The encoder of one account (see the module docstring). `bank_code` and `layout` must be
    valid (the bank builds the layout from a validated account)."""
    offset, width, dv = len(layout.head), layout.width, layout.dv
    prefix = f"{bank_code}9"
    if not (len(prefix) == 4 and prefix.isascii() and prefix.isdigit()):
        raise ValueError(f"invalid bank code {bank_code!r}")
    n_modulus = 10 if dv is not None and dv.method == "mod10" else 11

    # Constant part: bank + currency (general DV and linha field 1), head and tail of the campo
    # livre, and the DV's own prefix.
    const = [0, 0, 0, 0, 0]
    for i, ch in enumerate(prefix):
        const[_S] += int(ch) * _dv_weight(i)
        const[_L1] += _mod10(int(ch), 8 - i)
    dv_index = offset + width
    tail_start = dv_index + (dv is not None)
    for j, ch in [*enumerate(layout.head), *enumerate(layout.tail, start=tail_start)]:
        for field, value in enumerate(_campo_livre_sums(j, int(ch))):
            const[field] += value
    if dv is not None:
        for q, ch in enumerate(dv.prefix):
            const[_N] += _nn_dv_sum(dv, int(ch), width + len(dv.prefix) - 1 - q)
    base = _pack(const, n_modulus)

    # Tables depend on the DV rule, not on its prefix (an account's agency and account, for
    # Itaú): share them between accounts.
    rule = None if dv is None else replace(dv, prefix="")
    dv_by_sum = _dv_table(dv_index, rule)
    factor_table, amount_high, amount_low = _fixed_tables()
    nn_tables = _nosso_numero_tables(offset, width, rule)
    chunk = 10**_CHUNK
    barcode_format = f"{prefix}%s%04d%010d{layout.head}%0{width}d%s{layout.tail}"
    general_dv, mod10_dv = _GENERAL_DV, _MOD10_DV
    base_ordinal, first_cycle, cycle = _BASE_ORDINAL, _FIRST_CYCLE_DAYS, CYCLE_DAYS
    shift_l1, shift_l2, shift_l3, shift_n = _BITS * _L1, _BITS * _L2, _BITS * _L3, _BITS * _N
    mask, decimal_type, date_type = _MASK, Decimal, date

    def encode(nosso_numero: int, due_date: date, amount: Decimal) -> tuple[str, str] | None:
        # Plain input only; anything else goes back to the caller's generic (validating) path.
        if type(nosso_numero) is not int or not 0 < nosso_numero <= nosso_numero_max:
            return None
        if type(due_date) is not date_type:
            return None
        days = due_date.toordinal() - base_ordinal
        if days >= first_cycle:
            factor = (days - first_cycle) % cycle + 1000
        elif days > 0:
            factor = days
        else:
            return None
        # Amount in centavos, exactly: a finite Decimal below 10⁸ whose leading digit is no
        # further right than the centavos (or zero: 0.0000 is R$ 0,00). This guard keeps
        # as_integer_ratio away from huge exponents such as 1E+999999 or 1E-999999.
        if type(amount) is not decimal_type:
            return None
        magnitude = amount.adjusted()
        if magnitude > 7 or (magnitude < -2 and amount):
            return None
        try:
            numerator, denominator = amount.as_integer_ratio()
        except (ValueError, OverflowError):  # NaN, infinity
            return None
        if 100 % denominator or numerator < 0:
            return None
        cents = numerator * (100 // denominator)

        packed = base
        rest, table = nosso_numero, 0
        while rest:  # chunks of zeros add nothing: stop at the last non-zero one
            packed += nn_tables[table][rest % chunk]
            rest //= chunk
            table += 1
        dv_char, dv_packed = dv_by_sum[packed >> shift_n]
        packed += dv_packed
        high, low = divmod(cents, 100_000)
        check = general_dv[
            factor_table[factor] + amount_high[high] + amount_low[low] + (packed & mask)
        ]
        barcode = barcode_format % (check, factor, cents, nosso_numero, dv_char)
        linha = (
            f"{barcode[:4]}{barcode[19:24]}{mod10_dv[(packed >> shift_l1) & mask]}"
            f"{barcode[24:34]}{mod10_dv[(packed >> shift_l2) & mask]}"
            f"{barcode[34:]}{mod10_dv[(packed >> shift_l3) & mask]}{barcode[4:19]}"
        )
        return barcode, linha

    return encode
