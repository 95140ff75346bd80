"""Due-date rules: month-end clamping, anchoring on the first due date, bank business days.

Every expected weekday below was checked with ``calendar.day_name[date.weekday()]``.
"""

import calendar
from datetime import date, datetime, timedelta

import holidays
import pytest
from dateutil.easter import easter
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules import dates
from schedules.dates import (
    FREQUENCIES,
    UnsupportedDateError,
    bank_holidays,
    due_date,
    due_dates,
    first_sequence_due_on_or_after,
    is_business_day,
    next_business_day,
    nominal_due_date,
)

D = date.fromisoformat


# --- Nominal dates: anchoring and clamping --------------------------------------------------------


def test_month_end_schedule_is_clamped_and_anchored_on_first_due():
    first = D("2024-01-31")
    assert [nominal_due_date(first, 1, n) for n in range(1, 7)] == [
        D("2024-01-31"),
        D("2024-02-29"),  # leap year
        D("2024-03-31"),  # back to 31: anchored on 31 Jan, not on 29 Feb
        D("2024-04-30"),
        D("2024-05-31"),
        D("2024-06-30"),
    ]


def test_clamping_in_non_leap_year():
    assert nominal_due_date(D("2023-01-31"), 1, 2) == D("2023-02-28")
    assert nominal_due_date(D("2023-01-29"), 1, 2) == D("2023-02-28")
    assert nominal_due_date(D("2024-02-29"), 12, 2) == D("2025-02-28")
    assert nominal_due_date(D("2024-02-29"), 12, 5) == D("2028-02-29")


def test_other_frequencies():
    first = D("2024-08-31")
    assert nominal_due_date(first, 2, 2) == D("2024-10-31")
    assert nominal_due_date(first, 3, 2) == D("2024-11-30")
    assert nominal_due_date(first, 6, 2) == D("2025-02-28")
    assert nominal_due_date(first, 12, 2) == D("2025-08-31")
    assert nominal_due_date(first, 24, 3) == D("2028-08-31")


def test_monthly_due_dates_with_business_day_shift():
    assert due_dates(D("2024-01-31"), 1, 6) == [
        D("2024-01-31"),  # Wednesday
        D("2024-02-29"),  # Thursday
        D("2024-04-01"),  # 31 Mar 2024 is Easter Sunday -> Monday 1 Apr
        D("2024-04-30"),  # Tuesday: anchored on 31 Jan, not on the shifted 1 Apr
        D("2024-05-31"),  # Friday
        D("2024-07-01"),  # 30 Jun 2024 is a Sunday -> Monday
    ]


def test_due_dates_start_is_a_slice_of_the_whole_schedule():
    first = D("2024-01-31")
    assert due_dates(first, 1, 3, start=4) == due_dates(first, 1, 6)[3:]
    assert due_dates(first, 1, 0) == []


def test_shift_never_moves_the_anchor():
    # 31 Mar 2024 (Sunday) is paid on 1 Apr, but the next installment is still 30 Apr, and the
    # one after that is 31 May: never 1 May / 1 Jun derived from the shifted date.
    first = D("2024-03-31")
    assert due_date(first, 1, 1) == D("2024-04-01")
    assert due_date(first, 1, 2) == D("2024-04-30")
    assert due_date(first, 1, 3) == D("2024-05-31")


# --- Bank holidays ------------------------------------------------------------------------------


def test_carnival_2025_moves_to_ash_wednesday():
    assert not is_business_day(D("2025-03-03"))  # Carnival Monday
    assert not is_business_day(D("2025-03-04"))  # Carnival Tuesday
    assert is_business_day(D("2025-03-05"))  # Ash Wednesday: banks open at noon
    assert next_business_day(D("2025-03-03")) == D("2025-03-05")
    assert due_date(D("2025-01-03"), 2, 2) == D("2025-03-05")


def test_carnival_long_weekend_chain():
    # Saturday 1 Mar 2025 .. Tuesday 4 Mar: four days in a row without banks.
    assert next_business_day(D("2025-03-01")) == D("2025-03-05")
    assert due_date(D("2025-01-01"), 2, 2) == D("2025-03-05")
    # 2026: Carnival on 16/17 Feb; Saturday 14 Feb -> Ash Wednesday 18 Feb.
    assert next_business_day(D("2026-02-14")) == D("2026-02-18")


def test_good_friday_and_tiradentes_chain():
    # 2025: Good Friday 18 Apr, weekend, Tiradentes Monday 21 Apr -> Tuesday 22 Apr.
    assert next_business_day(D("2025-04-18")) == D("2025-04-22")
    assert due_date(D("2025-01-18"), 3, 2) == D("2025-04-22")
    # 2024: Good Friday 29 Mar -> Monday 1 Apr (Easter Monday is a business day).
    assert next_business_day(D("2024-03-29")) == D("2024-04-01")


def test_corpus_christi():
    assert next_business_day(D("2025-06-19")) == D("2025-06-20")  # Thursday -> Friday
    assert next_business_day(D("2024-05-30")) == D("2024-05-31")
    assert due_date(D("2024-05-30"), 12, 1) == D("2024-05-31")


def test_31_december_has_no_bank_service():
    # Tuesday 31 Dec 2024, then New Year's Day -> Thursday 2 Jan 2025.
    assert next_business_day(D("2024-12-31")) == D("2025-01-02")
    # Friday 31 Dec 2021, then a weekend (1 Jan on Saturday) -> Monday 3 Jan 2022.
    assert next_business_day(D("2021-12-31")) == D("2022-01-03")
    assert due_date(D("2025-10-31"), 2, 2) == D("2026-01-02")


def test_consciencia_negra_is_national_from_2024_only():
    assert not is_business_day(D("2024-11-20"))  # Wednesday, holiday
    assert next_business_day(D("2024-11-20")) == D("2024-11-21")
    assert not is_business_day(D("2025-11-20"))
    # 2023: Monday 20 Nov was not a national holiday (Lei 14.759 is from Dec 2023).
    assert is_business_day(D("2023-11-20"))
    assert D("2023-11-20") not in bank_holidays(2023)


def test_christmas_and_its_eve():
    assert not is_business_day(D("2024-12-25"))
    assert next_business_day(D("2024-12-25")) == D("2024-12-26")
    assert is_business_day(D("2024-12-24"))  # Tuesday, business day for banks


def test_optional_days_that_are_business_days():
    assert is_business_day(D("2024-02-14"))  # Ash Wednesday
    assert is_business_day(D("2024-10-28"))  # Dia do Servidor Público, Monday
    assert is_business_day(D("2024-12-24"))


def test_weekends_and_plain_days():
    assert not is_business_day(D("2024-06-29"))  # Saturday
    assert not is_business_day(D("2024-06-30"))  # Sunday
    assert is_business_day(D("2024-07-01"))
    assert next_business_day(D("2024-07-01")) == D("2024-07-01")


def test_new_year_after_sunday_31_december():
    # 31 Dec 2023 is a Sunday, 1 Jan 2024 a holiday -> Tuesday 2 Jan.
    assert next_business_day(D("2023-12-31")) == D("2024-01-02")


def test_bank_holidays_2025_exactly():
    expected = {
        D("2025-01-01"),
        D("2025-03-03"),  # Carnival
        D("2025-03-04"),  # Carnival
        D("2025-04-18"),  # Good Friday
        D("2025-04-21"),  # Tiradentes
        D("2025-05-01"),
        D("2025-06-19"),  # Corpus Christi
        D("2025-09-07"),
        D("2025-10-12"),
        D("2025-11-02"),
        D("2025-11-15"),
        D("2025-11-20"),
        D("2025-12-25"),
        D("2025-12-31"),
    }
    assert bank_holidays(2025) == frozenset(expected)


def test_bank_holidays_is_cached_per_year():
    assert bank_holidays(2031) is bank_holidays(2031)
    assert isinstance(bank_holidays(2031), frozenset)


@pytest.mark.parametrize("year", range(1950, 2101))
def test_easter_offsets_agree_with_library_optional_category(year):
    """Carnival and Corpus Christi are computed from Easter; the library lists the same dates."""
    optional = set(holidays.Brazil(years=year, categories=(holidays.OPTIONAL,)))
    sunday = easter(year)
    for offset in (-48, -47, 60):  # Carnival Monday, Carnival Tuesday, Corpus Christi
        day = sunday + timedelta(days=offset)
        assert day in optional
        assert day in bank_holidays(year)
    ash_wednesday = sunday - timedelta(days=46)
    assert ash_wednesday in optional
    assert ash_wednesday not in bank_holidays(year)
    assert date(year, 12, 24) not in bank_holidays(year)
    assert date(year, 10, 28) not in bank_holidays(year)


def test_years_without_a_holiday_calendar_are_refused():
    # holidays knows Brazil only up to end_year and returns an *empty* calendar after it.
    with pytest.raises(UnsupportedDateError) as excinfo:
        bank_holidays(dates.HOLIDAY_CALENDAR_LAST_YEAR + 1)
    assert excinfo.value.year == dates.HOLIDAY_CALENDAR_LAST_YEAR + 1
    with pytest.raises(UnsupportedDateError):
        due_date(D("2024-01-31"), 24, 100)
    with pytest.raises(UnsupportedDateError):
        is_business_day(date(1800, 1, 2))
    with pytest.raises(UnsupportedDateError) as excinfo:
        nominal_due_date(D("2024-01-31"), 24, 10**6)
    assert excinfo.value.year is None


# --- Input validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("sequence", [0, -1])
def test_sequence_must_be_positive(sequence):
    with pytest.raises(ValueError, match="sequence must be >= 1"):
        nominal_due_date(D("2024-01-31"), 1, sequence)


@pytest.mark.parametrize("every", [0, 4, 5, 36, -1, True, 1.0, "1"])
def test_frequency_must_be_allowed(every):
    with pytest.raises(ValueError, match="every_months must be one of 1, 2, 3, 6, 12, 24"):
        nominal_due_date(D("2024-01-31"), every, 1)


def test_other_invalid_inputs():
    with pytest.raises(ValueError, match="start must be >= 1"):
        due_dates(D("2024-01-31"), 1, 3, start=0)
    with pytest.raises(ValueError, match="count"):
        due_dates(D("2024-01-31"), 1, -1)
    with pytest.raises(TypeError):
        next_business_day(datetime(2024, 12, 25, 10, 0))
    with pytest.raises(TypeError):
        due_date(datetime(2024, 1, 31), 1, 1)


# --- first_sequence_due_on_or_after -------------------------------------------------------------


def test_first_sequence_due_on_or_after_examples():
    first = D("2024-01-31")
    assert first_sequence_due_on_or_after(first, 1, D("2020-01-01")) == 1
    assert first_sequence_due_on_or_after(first, 1, D("2024-01-31")) == 1
    assert first_sequence_due_on_or_after(first, 1, D("2024-02-01")) == 2
    # Installment 3 is nominally 31 Mar but due 1 Apr: still the answer for 1 Apr.
    assert first_sequence_due_on_or_after(first, 1, D("2024-04-01")) == 3
    assert first_sequence_due_on_or_after(first, 1, D("2024-04-02")) == 4


def test_first_sequence_due_on_or_after_jumps(monkeypatch):
    calls = []
    real = dates.due_date

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(dates, "due_date", counting)
    assert first_sequence_due_on_or_after(D("1990-01-31"), 1, D("2099-12-15")) == 1320
    assert len(calls) <= 4


# --- Properties ---------------------------------------------------------------------------------

# Stay inside the holiday calendar (up to 2100): at most 50 years after a first due date in 2049.
first_dues = st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 31))
frequencies = st.sampled_from(FREQUENCIES)


@st.composite
def schedules(draw):
    first = draw(first_dues)
    every = draw(frequencies)
    # Leaves room for a window of 3 installments starting at `sequence`.
    sequence = draw(st.integers(min_value=1, max_value=600 // every - 1))
    return first, every, sequence


@settings(deadline=None)
@given(schedules())
def test_nominal_is_anchored_on_first_due_and_clamped(schedule):
    first, every, n = schedule
    nominal = nominal_due_date(first, every, n)
    months = (n - 1) * every
    assert nominal == first + relativedelta(months=months)
    total = first.month - 1 + months
    year, month = first.year + total // 12, total % 12 + 1
    assert (nominal.year, nominal.month) == (year, month)
    assert nominal.day == min(first.day, calendar.monthrange(year, month)[1])


@settings(deadline=None)
@given(schedules())
def test_due_date_is_the_next_business_day_of_the_nominal_date(schedule):
    first, every, n = schedule
    nominal = nominal_due_date(first, every, n)
    due = due_date(first, every, n)
    assert is_business_day(due)
    assert nominal <= due <= nominal + timedelta(days=5)
    # Nothing skipped: every day between nominal and due is a non-business day.
    day = nominal
    while day < due:
        assert not is_business_day(day)
        day += timedelta(days=1)


@settings(deadline=None)
@given(schedules())
def test_due_date_does_not_depend_on_previous_installments(schedule):
    first, every, n = schedule
    # Computing installment n alone, or as part of any window, gives the same date.
    assert due_dates(first, every, 3, start=n) == [due_date(first, every, n + i) for i in range(3)]
    nominal = first + relativedelta(months=(n - 1) * every)
    assert due_date(first, every, n) == next_business_day(nominal)


@settings(deadline=None)
@given(first_dues, frequencies, st.integers(min_value=2, max_value=40))
def test_due_dates_strictly_increase(first, every, count):
    count = min(count, 600 // every)
    series = due_dates(first, every, count)
    assert all(a < b for a, b in zip(series, series[1:], strict=False))


@settings(deadline=None)
@given(first_dues, frequencies, st.integers(min_value=-90, max_value=30 * 366))
def test_first_sequence_due_on_or_after_matches_brute_force(first, every, offset_days):
    day = first + timedelta(days=offset_days)
    n = 1
    while due_date(first, every, n) < day:
        n += 1
    assert first_sequence_due_on_or_after(first, every, day) == n


# --- Algorithmic shape -------------------------------------------------------------------------


def test_holiday_calendar_is_built_once_per_year():
    # The generator calls due_date ~100,000 times per run: the holiday set must be built once per
    # year and then looked up, never rebuilt per call (speed itself is measured in bench/).
    bank_holidays.cache_clear()
    first = D("2024-01-31")
    results = [due_date(first, 1, n) for n in range(1, 121)]  # ten years of monthly dates
    years = {d.year for d in results}
    assert bank_holidays.cache_info().misses <= len(years) + 1
