"""Due-date rules for recurring boletos (see docs/product.md, "Policies > Due dates").

Pure Python on purpose (no Django imports): the form preview, the installment generator and the
``schedule_dates`` management command all share these functions.

Rules:

* Installment *n* (1-based) is nominally due on ``first_due + (n - 1) * every_months`` months,
  always counted from the first due date (never from the previous installment), clamped to the
  last day of the month: 31 Jan -> 29 Feb 2024 -> 31 Mar -> 30 Apr.
* A nominal date that is not a bank business day moves to the next business day. The shift never
  changes the anchor: the following installment is computed from ``first_due`` again.
* Non-business days for banks: Saturdays, Sundays, national public holidays (``holidays``
  library, which includes Consciência Negra on 20 Nov from 2024 on), Carnival Monday and Tuesday,
  Corpus Christi and 31 December. Ash Wednesday, 24 Dec and 28 Oct are business days.

Performance: the installment generator calls :func:`due_date` ~100,000 times per run, so the
month arithmetic is done with integers (same result as ``dateutil.relativedelta``, which is about
8 µs per addition; the equivalence is property-tested) and the holiday set is built once per year.
"""

from __future__ import annotations

import calendar
from datetime import MAXYEAR, date, datetime, timedelta
from functools import cache

import holidays
from dateutil.easter import EASTER_WESTERN, easter

__all__ = [
    "FREQUENCIES",
    "HOLIDAY_CALENDAR_FIRST_YEAR",
    "HOLIDAY_CALENDAR_LAST_YEAR",
    "UnsupportedDateError",
    "bank_holidays",
    "due_date",
    "due_dates",
    "first_sequence_due_on_or_after",
    "is_business_day",
    "next_business_day",
    "nominal_due_date",
    "with_day",
]

#: Allowed frequencies, in months.
FREQUENCIES: tuple[int, ...] = (1, 2, 3, 6, 12, 24)

# The holidays library only knows Brazil between these years and silently returns *no* holidays
# outside them (holidays 0.109: 1890..2100). A due date computed with an empty calendar would be
# wrong without any warning, so years outside this range are refused instead.
HOLIDAY_CALENDAR_FIRST_YEAR: int = holidays.Brazil.start_year
HOLIDAY_CALENDAR_LAST_YEAR: int = holidays.Brazil.end_year

# Offsets from (Western) Easter Sunday of the bank holidays that are not national public holidays.
_CARNIVAL_MONDAY = timedelta(days=-48)
_CARNIVAL_TUESDAY = timedelta(days=-47)
_CORPUS_CHRISTI = timedelta(days=60)

_ONE_DAY = timedelta(days=1)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class UnsupportedDateError(ValueError):
    """A date falls outside the range for which due dates can be computed reliably.

    ``year`` is the offending year (``None`` when it is beyond ``datetime.MAXYEAR``).
    """

    def __init__(self, message: str, year: int | None = None):
        super().__init__(message)
        self.year = year


def _check_frequency(every_months: int) -> None:
    if (
        not isinstance(every_months, int)
        or isinstance(every_months, bool)
        or every_months not in FREQUENCIES
    ):
        raise ValueError(
            f"every_months must be one of {', '.join(map(str, FREQUENCIES))}; got {every_months!r}"
        )


def _check_sequence(sequence: int, name: str = "sequence") -> None:
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise ValueError(f"{name} must be an int; got {sequence!r}")
    if sequence < 1:
        raise ValueError(f"{name} must be >= 1 (sequences are 1-based); got {sequence}")


def _check_date(value: date, name: str) -> None:
    # datetime is a subclass of date but never equal to one: a datetime would never match the
    # holiday set, so refuse it instead of silently treating holidays as business days.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime.date (not a datetime); got {value!r}")


def _add_months(start: date, months: int, day: int | None = None) -> date:
    """``start + relativedelta(months=months)`` (clamped to month end), ~5x faster.

    ``day``: the day of month to land on instead of ``start``'s own (clamped the same way): a
    re-anchored schedule keeps "day 31" even when its anchor month is shorter."""
    total = start.month - 1 + months
    year = start.year + total // 12
    if year > MAXYEAR:
        raise UnsupportedDateError(f"due date beyond year {MAXYEAR}", year=None)
    month = total % 12 + 1
    last_day = _DAYS_IN_MONTH[month]
    if month == 2 and calendar.isleap(year):
        last_day = 29
    if day is None:
        day = start.day
    return date(year, month, day if day <= last_day else last_day)


def _check_day(day: int | None) -> None:
    if day is None:
        return
    if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31:
        raise ValueError(f"day must be an int from 1 to 31 or None; got {day!r}")


def nominal_due_date(
    first_due: date, every_months: int, sequence: int, day: int | None = None
) -> date:
    """Due date of installment ``sequence`` before the business-day shift.

    ``first_due + (sequence - 1) * every_months`` months, always from ``first_due``, clamped to
    the month's last day (31 Jan 2024 monthly: 31 Jan, 29 Feb, 31 Mar, 30 Apr, ...). ``day``
    (optional) is the day of month to use instead of ``first_due``'s.
    """
    _check_date(first_due, "first_due")
    _check_frequency(every_months)
    _check_sequence(sequence)
    _check_day(day)
    return _add_months(first_due, (sequence - 1) * every_months, day)


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """Weekday-independent non-business days for Brazilian banks in ``year``.

    National public holidays (``holidays`` PUBLIC category: Good Friday, Tiradentes, Consciência
    Negra from 2024, Christmas, ...) plus Carnival Monday and Tuesday, Corpus Christi and 31 Dec.
    Cached per year: the result is immutable and computing it costs ~0.2 ms.
    """
    if not HOLIDAY_CALENDAR_FIRST_YEAR <= year <= HOLIDAY_CALENDAR_LAST_YEAR:
        raise UnsupportedDateError(
            f"no bank holiday calendar for year {year} (supported: "
            f"{HOLIDAY_CALENDAR_FIRST_YEAR}-{HOLIDAY_CALENDAR_LAST_YEAR})",
            year=year,
        )
    national = holidays.Brazil(years=year, categories=(holidays.PUBLIC,))
    # Carnival and Corpus Christi are only in the library's OPTIONAL category ("ponto
    # facultativo"), together with Ash Wednesday, 24 Dec, 28 Oct and 31 Dec, which must NOT all be
    # taken: Ash Wednesday, 24 Dec and 28 Oct are bank business days. Picking them out by name is
    # fragile (names depend on the language/locale the library renders and may be reworded between
    # releases: "Carnival" vs "Carnaval" vs "Carnival Monday"). Their dates, however, are fixed by
    # definition relative to Western Easter (Carnival = Easter - 48 / - 47 days, Corpus Christi =
    # Easter + 60), so they are computed from dateutil's Easter directly. The tests check that the
    # library's OPTIONAL category agrees with these dates, by date, over many years.
    easter_sunday = easter(year, EASTER_WESTERN)
    return frozenset(
        [
            *(day for day in national if day.year == year),
            easter_sunday + _CARNIVAL_MONDAY,
            easter_sunday + _CARNIVAL_TUESDAY,
            easter_sunday + _CORPUS_CHRISTI,
            date(year, 12, 31),  # no bank service to the public
        ]
    )


def _is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def _next_business_day(day: date) -> date:
    # Bounded: the longest run of non-business days is 4 (e.g. Carnival Saturday..Tuesday).
    while not (day.weekday() < 5 and day not in bank_holidays(day.year)):
        if day.year == MAXYEAR and day.month == 12 and day.day == 31:
            raise UnsupportedDateError(f"due date beyond year {MAXYEAR}", year=None)
        day += _ONE_DAY
    return day


def is_business_day(day: date) -> bool:
    """True when banks are open to the public on ``day``."""
    _check_date(day, "day")
    return _is_business_day(day)


def next_business_day(day: date) -> date:
    """``day`` itself when it is a business day, otherwise the first business day after it."""
    _check_date(day, "day")
    return _next_business_day(day)


def due_date(first_due: date, every_months: int, sequence: int, day: int | None = None) -> date:
    """Due date of installment ``sequence``: the nominal date moved to the next business day."""
    return _next_business_day(nominal_due_date(first_due, every_months, sequence, day))


def due_dates(
    first_due: date, every_months: int, count: int, start: int = 1, day: int | None = None
) -> list[date]:
    """Due dates of installments ``start`` .. ``start + count - 1``."""
    _check_date(first_due, "first_due")
    _check_frequency(every_months)
    _check_sequence(start, "start")
    _check_day(day)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"count must be an int >= 0; got {count!r}")
    return [
        _next_business_day(_add_months(first_due, (n - 1) * every_months, day))
        for n in range(start, start + count)
    ]


def with_day(value: date, day: int) -> date:
    """``value``'s month on ``day`` (clamped to the month's last day: 31 -> 28/29 Feb)."""
    _check_date(value, "value")
    _check_day(day)
    return _add_months(value, 0, day)


def first_sequence_due_on_or_after(
    first_due: date, every_months: int, day: date, month_day: int | None = None
) -> int:
    """Smallest sequence ``n >= 1`` whose :func:`due_date` is on or after ``day``.

    Jumps straight to the installment whose nominal month is ``day``'s month, then corrects by a
    step or two: due dates are strictly increasing (nominal dates are >= 28 days apart and the
    business-day shift is at most a few days), so the answer is within one step of the guess.
    """
    _check_date(first_due, "first_due")
    _check_frequency(every_months)
    _check_date(day, "day")
    months = (day.year - first_due.year) * 12 + (day.month - first_due.month)
    sequence = max(1, months // every_months + 1)
    while sequence > 1 and due_date(first_due, every_months, sequence - 1, month_day) >= day:
        sequence -= 1
    while due_date(first_due, every_months, sequence, month_day) < day:
        sequence += 1
    return sequence
