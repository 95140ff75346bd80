"""Writes on customers (pagadores)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from billing.models import Customer
from portal.documents import normalize_document
from portal.models import Merchant

CUSTOMER_DUPLICATE_DOCUMENT = _("Já existe um cliente com este CPF/CNPJ.")


def customer_create(*, merchant: Merchant, **fields) -> Customer:
    customer = Customer(merchant=merchant, **fields)
    customer.document = normalize_document(customer.document)
    customer.full_clean(exclude=["merchant"], validate_unique=False)
    if Customer.objects.for_merchant(merchant).filter(document=customer.document).exists():
        raise ValidationError({"document": CUSTOMER_DUPLICATE_DOCUMENT})
    with transaction.atomic():
        customer.save()
    return customer
