"""What schedules does when a lower app announces a fact (billing.signals). Connected in
SchedulesConfig.ready()."""

from billing.models import Customer
from schedules.models import Schedule, ScheduleEvent


def customer_updated_record(sender, *, customer: Customer, actor, changes: dict, **kwargs) -> None:
    """A merchant edited a customer: each of its schedules records who changed what, from what
    to what. Runs inside the edit's transaction (billing.services.customer_update), so the
    records commit or roll back with the edit."""
    if not changes:
        return
    data = {"changes": changes, "actor_email": getattr(actor, "email", "") or ""}
    schedule_ids = (
        Schedule.objects.for_merchant(customer.merchant_id)
        .filter(customer_id=customer.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ScheduleEvent.objects.bulk_create(
        ScheduleEvent(
            merchant_id=customer.merchant_id,
            schedule_id=schedule_id,
            kind=ScheduleEvent.Kind.CUSTOMER_UPDATED,
            actor=actor if getattr(actor, "pk", None) else None,
            data=data,
        )
        for schedule_id in schedule_ids
    )
