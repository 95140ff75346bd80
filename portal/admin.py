from django import forms
from django.contrib import admin

from portal.formfields import PortalModelForm
from portal.models import Membership, Merchant, MerchantChange

LAST_OWNER = "A conta precisa de pelo menos um proprietário: promova outro usuário antes."


def _is_last_owner(membership: Membership) -> bool:
    return (
        membership.pk is not None
        and membership.role == Membership.Role.OWNER
        and not Membership.objects.filter(
            merchant_id=membership.merchant_id, role=Membership.Role.OWNER
        )
        .exclude(pk=membership.pk)
        .exists()
    )


class MembershipAdminForm(forms.ModelForm):
    """Staff edit memberships too: the merchant always keeps an owner (as in the portal)."""

    class Meta:
        model = Membership
        fields = ["user", "merchant", "role"]

    def clean(self):
        cleaned = super().clean()
        original = self.instance  # still the stored values: the form applies them after clean
        moved = (
            cleaned.get("merchant") is not None and cleaned["merchant"].pk != original.merchant_id
        )
        demoted = cleaned.get("role") not in (None, Membership.Role.OWNER)
        if _is_last_owner(original) and (moved or demoted):
            raise forms.ValidationError(LAST_OWNER)
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm
    extra = 0
    autocomplete_fields = ["user"]
    can_delete = False  # removals go through the membership page, which keeps an owner


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    form = PortalModelForm
    list_display = ["legal_name", "trade_name", "cnpj", "alert_email", "bank_code", "created_at"]
    search_fields = ["legal_name", "trade_name", "cnpj", "alert_email"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "merchant__legal_name"]
    autocomplete_fields = ["user", "merchant"]
    actions = None  # no bulk delete around the last-owner rule

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _is_last_owner(obj):
            return False
        return super().has_delete_permission(request, obj)


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
