"""Due-date factor (fator de vencimento) with the 2025-02-22 reset.

Rule (docs: boleto-standard.md §3):

* Base date 1997-10-07. Before 2025-02-22 the factor is the number of days since the base date
  (factor 1000 = 2000-07-03, 9999 = 2025-02-21).
* From 2025-02-22 the factor restarts at 1000 and grows by one a day; after 9999 it restarts at
  1000 again, so from then on it repeats every 9000 days:
  ``factor = ((due − 1997-10-07).days − 10000) mod 9000 + 1000``.
  Cycle 2 runs 2025-02-22 (1000) … 2049-10-13 (9999), cycle 3 2049-10-14 (1000) … 2074-06-04.
* Factor ``0000`` means "no due date" (contra-apresentação).

Encoding is a function of the date. Decoding is not: every factor ≥ 1000 names one date per
cycle, 9000 days apart. FEBRABAN banks accept a boleto only when its due date lies from 3000 days
before to 5500 days after today, and that window (8501 days, inclusive) is shorter than a cycle,
so a reference date picks at most one candidate.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .checkdigits import BoletoError

__all__ = [
    "BASE_DATE",
    "CYCLE_DAYS",
    "FIRST_ENCODABLE_DATE",
    "NO_DUE_DATE_FACTOR",
    "RESET_DATE",
    "WINDOW_FUTURE_DAYS",
    "WINDOW_PAST_DAYS",
    "decode_factor",
    "encode_factor",
    "factor_window",
]

BASE_DATE = date(1997, 10, 7)
RESET_DATE = date(2025, 2, 22)
CYCLE_DAYS = 9000
#: Factor 0000 is reserved for "no due date", so the first date with a factor is base + 1 day.
FIRST_ENCODABLE_DATE = BASE_DATE + timedelta(days=1)
NO_DUE_DATE_FACTOR = 0
WINDOW_PAST_DAYS = 3000
WINDOW_FUTURE_DAYS = 5500

_FIRST_CYCLE_DAYS = (RESET_DATE - BASE_DATE).days  # 10000: factors 0..9999


def _fmt(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _check_date(value: object, name: str) -> date:
    # datetime is a subclass of date: refuse it rather than guess a time zone.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
    return value


def encode_factor(due_date: date | None) -> str:
    """The 4-digit factor of `due_date`; ``None`` (no due date) gives ``"0000"``.

    Raises `BoletoError` for dates before 1997-10-08, which have no factor. Every later date has
    one (the cyclic rule never runs out).
    """
    if due_date is None:
        return "0000"
    due_date = _check_date(due_date, "due_date")
    days = (due_date - BASE_DATE).days
    if days < 1:
        raise BoletoError(
            f"Data de vencimento {_fmt(due_date)} não tem fator de vencimento: "
            f"a primeira data representável é {_fmt(FIRST_ENCODABLE_DATE)}"
        )
    if days < _FIRST_CYCLE_DAYS:
        return f"{days:04d}"
    return f"{(days - _FIRST_CYCLE_DAYS) % CYCLE_DAYS + 1000:04d}"


def factor_window(reference_date: date) -> tuple[date, date]:
    """Inclusive range of due dates FEBRABAN accepts relative to `reference_date`."""
    reference_date = _check_date(reference_date, "reference_date")
    return (
        reference_date - timedelta(days=WINDOW_PAST_DAYS),
        reference_date + timedelta(days=WINDOW_FUTURE_DAYS),
    )


def _parse_factor(factor: str | int) -> int:
    if isinstance(factor, bool):
        raise TypeError("factor must be a 4-digit string or an int")
    if isinstance(factor, int):
        value = factor
    elif isinstance(factor, str) and len(factor) == 4 and factor.isascii() and factor.isdigit():
        value = int(factor)
    else:
        raise BoletoError(f"Fator de vencimento inválido: {factor!r} (esperados 4 dígitos)")
    if not 0 <= value <= 9999:
        raise BoletoError(f"Fator de vencimento inválido: {value} (esperado de 0000 a 9999)")
    return value


def decode_factor(factor: str | int, reference_date: date) -> date | None:
    """The due date of `factor`: the one candidate inside `factor_window(reference_date)`.

    ``0``/``"0000"`` gives ``None`` (no due date). Raises `BoletoError` when no candidate falls in
    the window (the boleto would be refused by the banks on `reference_date`).
    """
    value = _parse_factor(factor)
    start, end = factor_window(reference_date)
    if value == NO_DUE_DATE_FACTOR:
        return None
    first = BASE_DATE + timedelta(days=value)
    if value < 1000:
        # Factors 0001..0999 (1997-10-08 .. 2000-07-02) exist only in the first cycle.
        candidate = first
    else:
        # Candidates: first, first + 9000, first + 18000, … (the 1st cycle is 10000 days long and
        # later cycles restart at 1000, so each cycle's date is 9000 days after the previous one).
        cycles = max(0, -(-(start - first).days // CYCLE_DAYS))  # ceil division
        candidate = first + timedelta(days=cycles * CYCLE_DAYS)
    if not start <= candidate <= end:
        raise BoletoError(
            f"Data de vencimento fora da janela do fator: o fator {value:04d} não corresponde a "
            f"nenhuma data entre {_fmt(start)} e {_fmt(end)} ({WINDOW_PAST_DAYS} dias antes a "
            f"{WINDOW_FUTURE_DAYS} dias depois da data de referência {_fmt(reference_date)})"
        )
    return candidate
