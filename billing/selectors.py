from billing.models import Customer
from portal.models import Merchant


def customer_list(*, merchant: Merchant):
    return Customer.objects.for_merchant(merchant).order_by("name", "id")
