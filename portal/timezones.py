"""The business time zone: the one clock the product runs on (settings.BUSINESS_TIME_ZONE,
America/Sao_Paulo). Due dates, "today" for the generator, business-day ranges typed as
dd/mm/aaaa and every date or time shown to a merchant are read on it.

settings.TIME_ZONE is the same zone, so Django's own ``timezone.localdate()`` /
``timezone.localtime()`` agree with the helpers here. ``billing/febraban`` is a pure module
without Django: its ``parse()`` keeps its own America/Sao_Paulo default for ``reference_date``
(callers inside the portal may pass ``business_today()``).
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def business_tz() -> ZoneInfo:
    """The business time zone (ZoneInfo caches instances: this is a dict lookup)."""
    return ZoneInfo(settings.BUSINESS_TIME_ZONE)


def business_localtime(value: datetime | None = None) -> datetime:
    """``value`` (default: now) on the business clock."""
    return timezone.localtime(value if value is not None else timezone.now(), business_tz())


def business_today() -> date:
    """Today on the business clock."""
    return business_localtime().date()


def business_day_start(day: date) -> datetime:
    """Midnight that starts ``day`` on the business clock (aware)."""
    return datetime.combine(day, time.min, tzinfo=business_tz())
