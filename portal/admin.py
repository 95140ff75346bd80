from django.contrib import admin

from portal.models import Membership, Merchant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "trade_name", "cnpj", "alert_email", "bank_code", "created_at"]
    search_fields = ["legal_name", "trade_name", "cnpj", "alert_email"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "merchant__legal_name"]
    autocomplete_fields = ["user", "merchant"]
