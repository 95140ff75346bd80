from django.contrib import admin

from notifications.models import EmailEvent


@admin.register(EmailEvent)
class EmailEventAdmin(admin.ModelAdmin):
    """The webhook inbox, read-only: what each ESP said and how it was classified."""

    list_display = [
        "received_at",
        "esp_name",
        "event_type",
        "recipient",
        "action",
        "cause",
        "enhanced_status",
        "outcome",
    ]
    list_filter = ["esp_name", "event_type", "action", "cause", "outcome"]
    search_fields = ["recipient", "message_id", "event_id"]
    date_hierarchy = "received_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
