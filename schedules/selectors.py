"""Reads on schedules, always inside one merchant."""

from django.db.models import Count, Q

from billing.models import Boleto
from portal.models import Merchant
from schedules import dates
from schedules.models import Schedule, ScheduleStatus


def schedule_counts(*, merchant: Merchant) -> dict[str, int]:
    counts = Schedule.objects.for_merchant(merchant).aggregate(
        active=Count("id", filter=Q(status=ScheduleStatus.ACTIVE)),
        deactivated=Count("id", filter=Q(status=ScheduleStatus.DEACTIVATED)),
        cancelled=Count("id", filter=Q(status=ScheduleStatus.CANCELLED)),
    )
    return counts


def schedule_list(*, merchant: Merchant, status: str | None = None, query: str = ""):
    queryset = Schedule.objects.for_merchant(merchant).select_related("customer")
    if status:
        queryset = queryset.filter(status=status)
    query = query.strip()
    if query:
        if query.lstrip("#").isdigit() and len(query.lstrip("#")) <= 18:
            queryset = queryset.filter(number=int(query.lstrip("#")))
        else:
            queryset = queryset.filter(
                Q(customer__name__icontains=query) | Q(customer__email__icontains=query)
            )
    return queryset.order_by("-id")


def schedule_upcoming_due_dates(*, schedule: Schedule, count: int = 6):
    if schedule.status == ScheduleStatus.CANCELLED:
        return []
    return dates.due_dates(
        schedule.first_due_date, schedule.frequency_months, count, start=schedule.next_sequence
    )


def boleto_recent(*, merchant: Merchant, limit: int = 10):
    return (
        Boleto.objects.for_merchant(merchant)
        .select_related("schedule")
        .order_by("-issued_at", "-id")[:limit]
    )
