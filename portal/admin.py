from django.contrib import admin

from portal.models import Membership, Merchant, MerchantChange


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


@admin.register(MerchantChange)
class MerchantChangeAdmin(admin.ModelAdmin):
    """The account's audit trail: read-only, even for staff."""

    list_display = ["created_at", "merchant", "action", "actor_email", "subject_email"]
    list_filter = ["action"]
    search_fields = ["merchant__legal_name", "actor_email", "subject_email"]
    list_select_related = ["merchant"]
    readonly_fields = [f.name for f in MerchantChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
