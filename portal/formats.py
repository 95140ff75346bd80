"""Dates and times as a Brazilian merchant reads them, through Django's localization.

Every date the portal writes outside a template (CSV exports, list rows built in Python, the
timeline, PDFs, alert texts) goes through here: pt-BR's own formats (``SHORT_DATE_FORMAT``
"d/m/Y", ``SHORT_DATETIME_FORMAT`` "d/m/Y H:i", ``TIME_FORMAT`` "H:i"), whatever language is
active, and datetimes on the business clock (portal/timezones.py). Templates use the ``|date``
filter with the same formats. File-name stamps (``%Y%m%d-%H%M``) are not display dates and keep
their fixed format.
"""

from datetime import date, datetime

from django.utils import dateformat
from django.utils.formats import get_format

from portal.timezones import business_localtime

LANGUAGE = "pt-br"
# No named Django format for a day without its year ("5 de março" is MONTH_DAY_FORMAT).
DAY_MONTH_FORMAT = "d/m"


def _format(name: str) -> str:
    return get_format(name, lang=LANGUAGE)  # cached by Django per (name, language)


def date_br(value: date | None) -> str:
    """ "05/03/2026"; "" for None."""
    if value is None:
        return ""
    return dateformat.format(value, _format("SHORT_DATE_FORMAT"))


def datetime_br(value: datetime | None) -> str:
    """ "05/03/2026 14:05" on the business clock; "" for None."""
    if value is None:
        return ""
    return dateformat.format(business_localtime(value), _format("SHORT_DATETIME_FORMAT"))


def time_br(value: datetime) -> str:
    """ "14:05" on the business clock."""
    return dateformat.format(business_localtime(value), _format("TIME_FORMAT"))


def day_month_br(value: date) -> str:
    """ "05/03" (a datetime is read on the business clock)."""
    if isinstance(value, datetime):
        value = business_localtime(value)
    return dateformat.format(value, DAY_MONTH_FORMAT)
