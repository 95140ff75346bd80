"""Check digits (dígitos verificadores) used by boletos and by banks' nosso número.

Pure functions over strings of ASCII digits. Every weighted sum here runs from the RIGHTMOST digit,
cycling through the given weights, which is how FEBRABAN and the banks state their rules.

This module is the bottom of the package's import graph, so the package's one exception class,
`BoletoError`, lives here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "BoletoError",
    "WEIGHTS_2_TO_9",
    "barcode_dv",
    "is_digits",
    "mod10",
    "mod11",
    "mod11_remainder",
    "weighted_sum",
]

DIGITS = frozenset("0123456789")

#: Weights 2, 3, …, 9 applied from the rightmost digit, then repeating.
WEIGHTS_2_TO_9: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)


class BoletoError(ValueError):
    """Invalid boleto data. The message is one Portuguese sentence saying what is wrong."""


def is_digits(value: str) -> bool:
    """True when `value` is non-empty and made only of ASCII 0-9 (``str.isdigit`` alone accepts
    '²', hence ``isascii``)."""
    return value.isascii() and value.isdigit()


def _require_digits(digits: str) -> None:
    if not isinstance(digits, str) or not is_digits(digits):
        raise ValueError(f"expected a non-empty string of ASCII digits, got {digits!r}")


def weighted_sum(digits: str, weights: Sequence[int]) -> int:
    """Sum of digit × weight, the rightmost digit taking weights[0], the next weights[1], …

    The weights repeat when the number is longer than the sequence.
    """
    _require_digits(digits)
    n = len(weights)
    repeated = weights * (len(digits) // n + 1) if n < len(digits) else weights
    # Hot path of the generator (every issued boleto): map/zip instead of per-digit Python ops.
    return sum(map(int.__mul__, map(int, reversed(digits)), repeated))


def mod10(digits: str) -> int:
    """Modulo-10 DV of a linha digitável field (FEBRABAN, also Itaú's DAC).

    From the right, digits are multiplied by 2, 1, 2, 1, …; a product above 9 counts as the sum of
    its two digits; DV = (10 − total mod 10) mod 10.
    """
    _require_digits(digits)
    reversed_digits = digits[::-1]
    # Digits in even positions from the right are doubled; a doubled digit d contributes the sum
    # of the digits of 2d, i.e. _DOUBLED[d].
    total = sum(_DOUBLED[int(ch)] for ch in reversed_digits[0::2])
    total += sum(map(int, reversed_digits[1::2]))
    return (10 - total % 10) % 10


_DOUBLED = tuple((2 * d) // 10 + (2 * d) % 10 for d in range(10))


def mod11_remainder(digits: str, weights: Sequence[int] = WEIGHTS_2_TO_9) -> int:
    """``weighted_sum(digits, weights) % 11``; the building block of every modulo-11 rule."""
    return weighted_sum(digits, weights) % 11


def mod11(
    digits: str,
    *,
    weights: Sequence[int] = WEIGHTS_2_TO_9,
    replacements: Mapping[int, str] | None = None,
) -> str:
    """Generic "11 − remainder" DV, as banks define their nosso número DVs.

    DV = 11 − (weighted sum mod 11), which is 1..11. The values 10 and 11 do not fit in one digit,
    so each bank says what to print instead: pass them in `replacements` (default: both → "0",
    which is Santander's rule; Bradesco uses {10: "P", 11: "0"}). Any other value can be replaced
    too. Returns one character.
    """
    mapping = {10: "0", 11: "0"} if replacements is None else dict(replacements)
    dv = 11 - mod11_remainder(digits, weights)
    if dv in mapping:
        return mapping[dv]
    if dv >= 10:
        raise ValueError(f"mod11 result {dv} has no replacement in {mapping!r}")
    return str(dv)


def barcode_dv(digits43: str) -> int:
    """General DV (DV geral) of a boleto barcode, computed over its 43 other digits.

    Weights 2..9 from the right; DV = 11 − (sum mod 11), and a result of 0, 10 or 11 becomes 1, so
    the DV is never 0. Note that three remainders (0, 1 and 10) all give DV 1.
    """
    if len(digits43) != 43:
        raise ValueError(f"the general DV is computed over 43 digits, got {len(digits43)}")
    dv = 11 - mod11_remainder(digits43)
    return 1 if dv in (0, 10, 11) else dv
