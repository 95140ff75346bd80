from django.contrib import admin

from billing.models import Boleto, Customer
from portal.formfields import PortalModelForm


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = PortalModelForm
    list_display = ["name", "document", "email", "merchant", "created_at"]
    search_fields = ["name", "document", "email"]
    list_filter = ["merchant"]
    raw_id_fields = ["merchant"]


@admin.register(Boleto)
class BoletoAdmin(admin.ModelAdmin):
    """Issued boletos are immutable documents: staff can look, not edit."""

    list_display = [
        "schedule",
        "sequence",
        "due_date",
        "amount",
        "status",
        "delivery_status",
        "merchant",
        "issued_at",
    ]
    list_filter = ["status", "delivery_status", "merchant"]
    search_fields = ["schedule__number", "linha_digitavel", "payer__email"]
    date_hierarchy = "due_date"
    list_select_related = ["schedule", "merchant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
