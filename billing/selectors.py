from billing.models import Boleto, Customer
from portal.models import Merchant


def customer_list(*, merchant: Merchant):
    return Customer.objects.for_merchant(merchant).order_by("name", "id")


def boleto_list(*, merchant: Merchant, delivery_status: str = ""):
    queryset = (
        Boleto.objects.for_merchant(merchant)
        .filter(status=Boleto.Status.ISSUED)
        .select_related("schedule")
        .order_by("-issued_at", "-id")
    )
    if delivery_status:
        queryset = queryset.filter(delivery_status=delivery_status)
    return queryset


def boleto_get(*, merchant: Merchant, boleto_id: int) -> Boleto:
    """An issued boleto of this merchant, or Http404 (another merchant's id is 'not found')."""
    from portal.tenancy import get_for_merchant_or_404

    return get_for_merchant_or_404(Boleto, merchant, pk=boleto_id, status=Boleto.Status.ISSUED)


def boletos_for_zip(*, merchant: Merchant, boleto_ids):
    """The merchant's issued boletos among ``boleto_ids`` (those without numbers have no PDF)."""
    return (
        Boleto.objects.for_merchant(merchant)
        .filter(pk__in=boleto_ids, status=Boleto.Status.ISSUED)
        .select_related("schedule")
        .order_by("schedule__number", "sequence")
    )
