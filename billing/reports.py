"""Figures about a merchant's boletos over time, for the dashboard (reads only).

Months are calendar months on the business clock: a boleto counts as issued in the month of
its issue, paid in the month the bank says it was paid, overdue in the month it fell due
(still open, past due, and not refused by the bank)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing.models import Boleto
from billing.selectors import bank_q
from portal.timezones import business_day_start, business_today, business_tz

PAID_STATES = (Boleto.Payment.PAID, Boleto.Payment.PAID_AFTER_WRITE_OFF)
# Emailed, whatever happened next: the denominator of the delivery rate.
EMAILED_STATES = (
    Boleto.DeliveryStatus.SENT,
    Boleto.DeliveryStatus.DELIVERED,
    Boleto.DeliveryStatus.UNDELIVERED,
    Boleto.DeliveryStatus.RETRY,
    Boleto.DeliveryStatus.DELAYED,
)


@dataclass(frozen=True)
class BoletoMonth:
    month: date  # the first day of the month
    issued: int = 0
    delivered: int = 0
    undelivered: int = 0
    paid: int = 0
    overdue: int = 0
    paid_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class DeliveryHealth:
    days: int
    emailed: int
    delivered: int
    undelivered: int

    @property
    def delivered_share(self) -> Decimal | None:
        """Delivered ÷ emailed (0–1), None when nothing was emailed in the period."""
        if not self.emailed:
            return None
        return (Decimal(self.delivered) / Decimal(self.emailed)).quantize(Decimal("0.001"))


def _month_key(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value, business_tz()) if timezone.is_aware(value) else value
    return date(value.year, value.month, 1)


def boleto_months(*, merchant_id: int, months: int = 12, today: date | None = None) -> list:
    """The last ``months`` calendar months (oldest first, the current one last), each with its
    counts; months without boletos are there with zeros. Three grouped queries."""
    today = today or business_today()
    first = today.replace(day=1) - relativedelta(months=months - 1)
    keys = [first + relativedelta(months=n) for n in range(months)]
    figures: dict[date, dict] = {key: {} for key in keys}
    issued = Boleto.objects.for_merchant(merchant_id).filter(status=Boleto.Status.ISSUED)

    by_issue = (
        issued.filter(issued_at__gte=business_day_start(first))
        .annotate(month=TruncMonth("issued_at", tzinfo=business_tz()))
        .values("month")
        .annotate(
            issued=Count("id"),
            delivered=Count("id", filter=Q(delivery_status=Boleto.DeliveryStatus.DELIVERED)),
            undelivered=Count("id", filter=Q(delivery_status=Boleto.DeliveryStatus.UNDELIVERED)),
        )
    )
    for row in by_issue:
        figures.setdefault(_month_key(row.pop("month")), {}).update(row)

    banked = issued.filter(bank_q(merchant_id))
    by_payment = (
        banked.filter(
            bank__payment_status__in=PAID_STATES,
            bank__paid_on__gte=first,
            bank__paid_on__lte=today,
        )
        .annotate(month=TruncMonth("bank__paid_on"))
        .values("month")
        .annotate(paid=Count("id"), paid_amount=Sum("bank__amount_paid"))
    )
    for row in by_payment:
        figures.setdefault(_month_key(row.pop("month")), {}).update(row)

    by_due = (
        banked.filter(
            bank__payment_status=Boleto.Payment.OPEN,
            bank__due_date__gte=first,
            bank__due_date__lt=today,
        )
        .exclude(bank__registration_status=Boleto.Registration.REJECTED)
        .annotate(month=TruncMonth("bank__due_date"))
        .values("month")
        .annotate(overdue=Count("id"))
    )
    for row in by_due:
        figures.setdefault(_month_key(row.pop("month")), {}).update(row)

    return [
        BoletoMonth(
            month=key,
            **{
                name: value if value is not None else Decimal("0.00")
                for name, value in figures[key].items()
            },
        )
        for key in keys
    ]


def delivery_health(*, merchant_id: int, days: int = 30, now=None) -> DeliveryHealth:
    """Of the boletos issued in the last ``days`` days that were emailed, how many reached the
    customer's mailbox (the ESP's delivered event) and how many did not."""
    since = (now or timezone.now()) - timedelta(days=days)
    counts = (
        Boleto.objects.for_merchant(merchant_id)
        .filter(
            status=Boleto.Status.ISSUED, issued_at__gte=since, delivery_status__in=EMAILED_STATES
        )
        .aggregate(
            emailed=Count("id"),
            delivered=Count("id", filter=Q(delivery_status=Boleto.DeliveryStatus.DELIVERED)),
            undelivered=Count("id", filter=Q(delivery_status=Boleto.DeliveryStatus.UNDELIVERED)),
        )
    )
    return DeliveryHealth(days=days, **counts)


def boletos_needing_attention(*, merchant_id: int, limit: int = 5) -> list[Boleto]:
    """The newest boletos the bank refused to register or paid after a write-off: each needs
    the merchant (fix and issue again; refund or reconcile)."""
    return list(
        Boleto.objects.for_merchant(merchant_id)
        .filter(
            Q(bank__registration_status=Boleto.Registration.REJECTED)
            | Q(bank__payment_status=Boleto.Payment.PAID_AFTER_WRITE_OFF),
            bank_q(merchant_id),
            status=Boleto.Status.ISSUED,
        )
        .select_related("schedule", "bank")
        .order_by("-bank__updated_at", "-id")[:limit]
    )
