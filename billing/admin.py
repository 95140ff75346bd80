from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.models import Boleto, BoletoBank, Customer
from billing.registration import testbank_pay
from portal.formfields import PortalModelForm


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = PortalModelForm
    list_display = ["name", "document", "email", "merchant", "created_at"]
    search_fields = ["name", "document", "email"]
    list_filter = ["merchant"]
    raw_id_fields = ["merchant"]


class BoletoBankInline(admin.StackedInline):
    """The boleto's state at the bank, on its page (read-only: only retornos change it)."""

    model = BoletoBank
    fk_name = "boleto"
    extra = 0
    exclude = ["merchant", "due_date"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Boleto)
class BoletoAdmin(admin.ModelAdmin):
    """Issued boletos are immutable documents: staff can look, not edit."""

    list_display = [
        "schedule",
        "sequence",
        "due_date",
        "amount",
        "status",
        "bank__registration_status",
        "bank__payment_status",
        "delivery_status",
        "merchant",
        "issued_at",
    ]
    list_filter = [
        "status",
        "bank__registration_status",
        "bank__payment_status",
        "delivery_status",
        "merchant",
    ]
    search_fields = ["schedule__number", "linha_digitavel", "payer__email"]
    date_hierarchy = "due_date"
    list_select_related = ["schedule", "merchant", "bank"]
    inlines = [BoletoBankInline]
    actions = ["simulate_payment"]

    @admin.action(description=_("Simular pagamento (Banco de testes)"))
    def simulate_payment(self, request, queryset):
        """The test bank receives the nominal amount today for each selected boleto; its
        payment retorno goes through the same ingestion as a bank's file."""
        paid = 0
        for boleto in queryset.order_by("pk"):
            try:
                testbank_pay(boleto=boleto)
            except ValidationError as exc:
                self.message_user(
                    request,
                    _("Boleto %(id)s: %(error)s")
                    % {"id": boleto.pk, "error": " ".join(exc.messages)},
                    messages.ERROR,
                )
                continue
            paid += 1
        if paid:
            self.message_user(
                request,
                ngettext(
                    "%(count)d pagamento simulado no Banco de testes.",
                    "%(count)d pagamentos simulados no Banco de testes.",
                    paid,
                )
                % {"count": paid},
                messages.SUCCESS,
            )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
