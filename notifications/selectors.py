from notifications.models import MerchantAlert
from portal.models import Merchant


def alerts_open(*, merchant: Merchant, limit: int = 5):
    return (
        MerchantAlert.objects.filter(merchant=merchant, acknowledged_at__isnull=True)
        .select_related("schedule", "boleto")
        .order_by("-created_at")[:limit]
    )
