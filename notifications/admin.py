from django.contrib import admin

from notifications.models import EmailEvent
from notifications.tickets import admin as tickets_admin  # noqa: F401 (registers the ticket admin)


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
        "effect",
    ]
    list_filter = ["esp_name", "event_type", "action", "cause", "outcome", "effect"]
    search_fields = ["recipient", "message_id", "event_id"]
    date_hierarchy = "received_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
