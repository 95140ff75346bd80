from notifications.models import EmailEvent, MerchantAlert
from notifications.vocabulary import EmailState
from portal.models import Merchant


def alerts_open(*, merchant: Merchant, limit: int = 5):
    return (
        MerchantAlert.objects.filter(merchant=merchant, acknowledged_at__isnull=True)
        .select_related("schedule", "boleto")
        .order_by("-created_at")[:limit]
    )


def schedule_alert_diagnostic(schedule) -> str:
    """schedules.extensions.deactivation_diagnostics: the provider's words recorded on the
    deactivation alert of the schedule's current epoch ("" when none)."""
    alert = (
        MerchantAlert.objects.filter(
            schedule=schedule,
            kind=MerchantAlert.Kind.DEACTIVATED,
            schedule_epoch=schedule.epoch,
        )
        .only("diagnostic")
        .first()
    )
    return alert.diagnostic if alert else ""


def schedule_email_suspect_event(schedule):
    """schedules.extensions.email_suspects: the provider event that made the customer's current
    address suspect, or None.

    An ESP still retrying reported that the receiver called the address nonexistent (Brevo
    ``deferred`` with 5.1.1): the policy recorded the effect ``suspect`` and changed nothing
    else. The address stays suspect until that email is delivered or fails for good, a new
    reactivation starts another epoch, or the address changes. One query."""
    return (
        EmailEvent.objects.filter(
            outbound_email__schedule=schedule,
            outbound_email__schedule_epoch=schedule.epoch,
            outbound_email__recipient__iexact=schedule.customer.email,
            outbound_email__state__lt=EmailState.DELIVERED,
            effect=EmailEvent.Effect.SUSPECT,
        )
        .only("diagnostic", "enhanced_status", "received_at")
        .order_by("-received_at", "-id")
        .first()
    )
