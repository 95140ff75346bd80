"""Support tickets (chamados): reads."""

from notifications.models import EmailEvent, MerchantAlert
from portal.models import Merchant
from schedules.models import Schedule, ScheduleEvent, ScheduleStatus


def ticket_messages(*, ticket):
    return ticket.messages.select_related("author").order_by("created_at", "id")


def ticket_schedule_find(*, merchant: Merchant, number) -> Schedule | None:
    """A schedule of this merchant by its public number, typed or from a query string; None for
    anything else (garbage, another merchant's number, a number that does not exist)."""
    raw = str(number or "").strip().lstrip("#").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return (
        Schedule.objects.for_merchant(merchant)
        .select_related("customer")
        .filter(number=int(raw))
        .first()
    )


def ticket_schedule_context(*, schedule: Schedule) -> dict[str, str]:
    """What a ticket about this schedule records: the cause and the provider's diagnostic.

    A deactivated schedule: its cause, and the diagnostic recorded with the deactivation in its
    history. Otherwise the latest alert of the current epoch (a delivery failure being retried)
    or, failing that, the latest classified provider event about an email of the current epoch;
    failures from before the last reactivation are history, not the current problem.
    """
    if schedule.status == ScheduleStatus.DEACTIVATED:
        event = (
            ScheduleEvent.objects.filter(schedule=schedule, kind=ScheduleEvent.Kind.DEACTIVATED)
            .order_by("-created_at", "-id")
            .only("data")
            .first()
        )
        diagnostic = (event.data.get("diagnostic") or "") if event else ""
        return {"cause": schedule.deactivation_cause, "diagnostic": diagnostic[:500]}
    alert = (
        MerchantAlert.objects.filter(schedule=schedule, schedule_epoch=schedule.epoch)
        .order_by("-created_at", "-id")
        .only("cause", "diagnostic")
        .first()
    )
    if alert is not None:
        return {"cause": alert.cause, "diagnostic": alert.diagnostic}
    event = (
        EmailEvent.objects.filter(
            outbound_email__schedule=schedule, outbound_email__schedule_epoch=schedule.epoch
        )
        .exclude(cause="")
        .order_by("-received_at", "-id")
        .only("cause", "diagnostic")
        .first()
    )
    if event is not None:
        return {"cause": event.cause, "diagnostic": event.diagnostic}
    return {"cause": "", "diagnostic": ""}
