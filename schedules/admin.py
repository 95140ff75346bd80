from django.contrib import admin

from schedules.models import Schedule, ScheduleEvent


class ScheduleEventInline(admin.TabularInline):
    model = ScheduleEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "created_at", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """Read-mostly: state changes go through the portal's services so history is written."""

    list_display = [
        "number",
        "merchant",
        "customer",
        "amount",
        "frequency_months",
        "status",
        "deactivation_cause",
        "next_issue_on",
    ]
    list_filter = ["status", "deactivation_cause", "frequency_months", "merchant"]
    search_fields = ["=number", "customer__name", "customer__email"]
    list_select_related = ["merchant", "customer"]
    inlines = [ScheduleEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
