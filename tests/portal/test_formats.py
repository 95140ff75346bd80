"""One date format helper (portal/formats.py): pt-BR formats whatever language is active, and
datetimes on the business clock."""

from datetime import UTC, date, datetime

from django.utils import translation

from portal.formats import date_br, datetime_br, day_month_br, time_br


def test_dates_are_day_month_year():
    assert date_br(date(2026, 3, 5)) == "05/03/2026"
    assert date_br(None) == ""


def test_datetimes_are_read_on_the_business_clock():
    # 02:30 UTC is still the day before in São Paulo (UTC-3).
    at = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
    assert datetime_br(at) == "04/03/2026 23:30"
    assert time_br(at) == "23:30"
    assert day_month_br(at) == "04/03"
    assert datetime_br(None) == ""


def test_the_format_does_not_follow_the_active_language():
    with translation.override("en"):
        assert date_br(date(2026, 3, 5)) == "05/03/2026"
        assert datetime_br(datetime(2026, 3, 5, 17, 5, tzinfo=UTC)) == "05/03/2026 14:05"
