"""Declarative bank layouts: each bank rule written once, as data.

A `Layout` states, for one bank (or one variant of a bank, such as a Banco do Brasil convênio
size), left to right:

* the campo livre (barcode positions 20–44): `Literal` digits, account `Field`\\ s with their
  widths, the sequential `NossoNumero` and `CheckDigit`\\ s computed over other parts;
* the nosso número as printed on the boleto, from the same parts.

Everything else is derived from it, so nothing can drift apart:

* `Layout.campo_livre` renders it digit by digit with the readable check digit functions of
  `checkdigits` (the validating path, `Bank.campo_livre` / `Bank.barcode`);
* `Layout.compiled` turns it, for one account, into the constant head and tail around the
  nosso número and its DV (`encoder.CampoLivreLayout`), from which `encoder.compile_encoder`
  builds the fast per-account encoder the installment generator uses;
* `Layout.nosso_numero_max` and `Layout.nosso_numero_slice` come from the widths.

Account fields are checked lazily, in the order the parts use them (after `Layout.checked`,
which lists fields a bank checks first), so a layout reports the same first error whichever
path reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING
from typing import Literal as TypingLiteral

from .checkdigits import WEIGHTS_2_TO_9, BoletoError, is_digits, mod10, mod11, mod11_remainder
from .encoder import CampoLivreLayout, NossoNumeroDV

if TYPE_CHECKING:
    from .banks import BankAccount

__all__ = ["CheckDigit", "Field", "Layout", "Literal", "NossoNumero", "Part", "fit"]


def fit(value: str, size: int, label: str) -> str:
    """`value` (digits) left-padded with zeros to `size`; longer values are an error."""
    if not is_digits(value):
        raise BoletoError(f"{label} inválido: {value!r} (apenas dígitos)")
    if len(value) > size:
        raise BoletoError(f"{label} inválido: {value} tem mais de {size} dígitos")
    return value.zfill(size)


@dataclass(frozen=True, eq=False)
class Literal:
    """Fixed digits (or, in the printed nosso número, separators such as ``/`` and ``-``)."""

    text: str

    @property
    def size(self) -> int:
        return len(self.text)

    def value(self, values: _Values) -> str:
        return self.text


@dataclass(frozen=True, eq=False)
class NossoNumero:
    """The boleto's sequential nosso número, zero-padded to `size` digits."""

    size: int

    def value(self, values: _Values) -> str:
        if values.number is None:
            raise ValueError("a layout without its nosso número")
        return f"{values.number:0{self.size}d}"


@dataclass(frozen=True, eq=False)
class CheckDigit:
    """One check digit over the concatenated values of the parts in `over` (fields, literals, the
    nosso número), rightmost digit first:

    * ``"mod10"``: FEBRABAN modulo 10 (2, 1, 2, … with products as digit sums);
    * ``"mod11"``: 11 − (Σ digit × weight mod 11); `replacements` says what 10 and 11 print as;
    * ``"mod11_remainder"``: the remainder itself (Banco do Brasil); `replacements` maps 10.
    """

    method: TypingLiteral["mod10", "mod11", "mod11_remainder"]
    over: tuple[Part, ...]
    weights: tuple[int, ...] = WEIGHTS_2_TO_9
    replacements: tuple[tuple[int, str], ...] = ((10, "0"), (11, "0"))

    size = 1

    def of(self, digits: str) -> str:
        """This check digit of `digits` (the values of `over`, concatenated)."""
        if self.method == "mod10":
            return str(mod10(digits))
        if self.method == "mod11":
            return mod11(digits, weights=self.weights, replacements=dict(self.replacements))
        remainder = mod11_remainder(digits, self.weights)
        return dict(self.replacements).get(remainder, str(remainder))

    def value(self, values: _Values) -> str:
        return self.of("".join(values[part] for part in self.over))


@dataclass(frozen=True, eq=False)
class Field:
    """An account field (`attr` of `BankAccount`), zero-padded to `size` digits.

    `default` (a `CheckDigit` over other fields) is used when the account leaves it empty;
    `allowed`/`refused` restrict its values, with `refusal` (formatted with ``value``) as the
    error; `invalid` replaces the "apenas dígitos" error (formatted with ``value``)."""

    attr: str
    size: int
    label: str
    default: CheckDigit | None = None
    allowed: frozenset[str] | None = None
    refused: frozenset[str] = frozenset()
    refusal: str = ""
    invalid: str = ""

    def value(self, values: _Values) -> str:
        value = getattr(values.account, self.attr)
        if not value and self.default is not None:
            value = values[self.default]
        if self.invalid and not is_digits(value):
            raise BoletoError(self.invalid.format(value=value))
        value = fit(value, self.size, self.label)
        if value in self.refused or (self.allowed is not None and value not in self.allowed):
            raise BoletoError(self.refusal.format(value=value))
        return value


#: A layout's parts compare and hash by identity (``eq=False``): each is one declaration, which
#: `CheckDigit.over` points at, and the per-boleto cache of `_Values` stays cheap.
Part = Literal | Field | NossoNumero | CheckDigit


class _Values:
    """The parts' values for one account (and, when rendering, one nosso número), computed once
    each, on first use: that order is the order in which account errors are reported."""

    def __init__(self, account: BankAccount, number: int | None):
        self.account = account
        self.number = number
        self.cache: dict[Part, str] = {}

    def __getitem__(self, part: Part) -> str:
        cache = self.cache
        if part not in cache:
            cache[part] = part.value(self)
        return cache[part]


@dataclass(frozen=True)
class Layout:
    """One bank layout: the 25-digit campo livre and the printed nosso número, as parts."""

    campo_livre_parts: tuple[Part, ...]
    printed_parts: tuple[Part, ...]
    checked: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        numbers = [p for p in self.campo_livre_parts if isinstance(p, NossoNumero)]
        if len(numbers) != 1 or sum(p.size for p in self.campo_livre_parts) != 25:
            raise ValueError(f"a campo livre is 25 digits with one nosso número: {self!r}")

    @cached_property
    def nosso_numero(self) -> NossoNumero:
        return next(p for p in self.campo_livre_parts if isinstance(p, NossoNumero))

    @cached_property
    def nosso_numero_max(self) -> int:
        """Largest sequential nosso número (without DV) the layout can carry."""
        return 10**self.nosso_numero.size - 1

    @cached_property
    def nosso_numero_slice(self) -> tuple[int, int]:
        """0-based [start, end) of the sequential nosso número inside the campo livre."""
        index = self.campo_livre_parts.index(self.nosso_numero)
        start = sum(p.size for p in self.campo_livre_parts[:index])
        return start, start + self.nosso_numero.size

    def _values(self, account: BankAccount, nosso_numero: int | None) -> _Values:
        values = _Values(account, nosso_numero)
        for field in self.checked:
            values[field]  # noqa: B018 -- checked first, in this order
        return values

    def campo_livre(self, account: BankAccount, nosso_numero: int) -> str:
        """The campo livre of `nosso_numero`, digit by digit (the readable path)."""
        values = self._values(account, nosso_numero)
        return "".join(values[part] for part in self.campo_livre_parts)

    def printed(self, account: BankAccount, nosso_numero: int) -> str:
        """The nosso número as printed; reads (and checks) only the fields it shows."""
        values = _Values(account, nosso_numero)
        return "".join(values[part] for part in self.printed_parts)

    def compiled(self, account: BankAccount) -> CampoLivreLayout:
        """The account's campo livre as constant digits around the nosso número and its DV, for
        `encoder.compile_encoder`. Raises the same `BoletoError` as `campo_livre`."""
        parts = self.campo_livre_parts
        index = parts.index(self.nosso_numero)
        after = parts[index + 1 :]
        rule = None
        if after and isinstance(after[0], CheckDigit) and after[0].over[-1:] == (parts[index],):
            rule, after = after[0], after[1:]
            if rule.method == "mod11_remainder":
                raise ValueError("the fast encoder has no mod11_remainder DV in the campo livre")
        if any(isinstance(p, (NossoNumero, CheckDigit)) for p in (*parts[:index], *after)):
            raise ValueError(f"the fast encoder cannot compile this layout: {self!r}")
        values = self._values(account, None)
        head = "".join(values[p] for p in parts[:index])  # first: errors in the campo livre's order
        dv = None
        if rule is not None:
            dv = NossoNumeroDV(
                rule.method,
                prefix="".join(values[p] for p in rule.over[:-1]),
                weights=rule.weights,
                replacements=rule.replacements,
            )
        return CampoLivreLayout(
            head=head,
            width=self.nosso_numero.size,
            tail="".join(values[p] for p in after),
            dv=dv,
        )
