from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from notifications.tickets import services
from notifications.tickets.models import SupportTicket, TicketMessage
from portal.formfields import PortalFormMixin


class TicketMessageInline(admin.TabularInline):
    """The conversation, read-only: new answers go through the form above (and the service)."""

    model = TicketMessage
    extra = 0
    can_delete = False
    fields = ["created_at", "from_staff", "author", "body", "notified_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SupportTicketAnswerForm(PortalFormMixin, forms.ModelForm):
    answer = forms.CharField(
        label=_("Nova resposta"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_(
            "Enviada por e-mail ao lojista (e-mail de alertas e quem abriu o chamado) e mostrada "
            "no portal."
        ),
    )
    close = forms.BooleanField(label=_("Encerrar o chamado"), required=False)

    class Meta:
        model = SupportTicket
        fields = []


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    """Support answers tickets here. Every field is read-only; the form only takes a new answer
    and/or "close", applied through the ticket services (which email the merchant after
    commit, once)."""

    form = SupportTicketAnswerForm
    list_display = [
        "number",
        "merchant",
        "schedule_number",
        "subject",
        "status",
        "created_at",
        "answered_at",
    ]
    list_display_links = ["number", "subject"]
    list_filter = ["status", "cause"]
    # "__exact" on the numbers compares their text: a search term that is not a number simply
    # matches nothing instead of failing.
    search_fields = [
        "number__exact",
        "schedule__number__exact",
        "merchant__legal_name",
        "merchant__trade_name",
        "merchant__cnpj",
        "subject",
    ]
    list_select_related = ["merchant", "schedule"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    inlines = [TicketMessageInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "merchant",
                    "number",
                    "status",
                    "schedule",
                    "subject",
                    "cause",
                    "diagnostic",
                    "created_by",
                    "created_at",
                    "answered_at",
                    "closed_at",
                ]
            },
        ),
        (_("Responder"), {"fields": ["answer", "close"]}),
    ]

    @admin.display(description=_("agendamento"), ordering="schedule__number")
    def schedule_number(self, obj):
        return f"nº {obj.schedule.number}" if obj.schedule else "—"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        answer, close = form.cleaned_data.get("answer", ""), form.cleaned_data.get("close")
        try:
            if answer.strip():
                services.ticket_answer(
                    ticket=obj, staff_user=request.user, body=answer, close=bool(close)
                )
                self.message_user(
                    request, _("Resposta registrada; o lojista será avisado por e-mail.")
                )
            elif close:
                services.ticket_close(ticket=obj)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
