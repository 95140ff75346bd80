from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.tickets import selectors
from notifications.tickets.services import TICKET_MESSAGE_EMPTY, TICKET_SCHEDULE_NOT_FOUND
from portal.formfields import PortalFormMixin

MESSAGE_MAX_LENGTH = 5000


def _message_field(label):
    return forms.CharField(
        label=label,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": TICKET_MESSAGE_EMPTY},
    )


class TicketForm(PortalFormMixin, forms.Form):
    """Open a ticket. ``schedule`` is the schedule's public number; it is resolved inside the
    merchant only, so a tampered number is "not found" and never reveals another merchant's
    schedule."""

    schedule = forms.CharField(
        label=_("Número do agendamento"),
        required=False,
        max_length=20,
        help_text=_("Opcional: o número do agendamento sobre o qual é o chamado."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    subject = forms.CharField(label=_("Assunto"), max_length=150)
    message = _message_field(_("Mensagem"))

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        raw = self.data.get("schedule") if self.is_bound else self.initial.get("schedule")
        # The schedule shown above the form (its cause and diagnostic, read-only). Coming from a
        # schedule, its number is carried as a hidden field rather than an editable one.
        self.schedule_found = selectors.ticket_schedule_find(merchant=merchant, number=raw)
        if self.schedule_found is not None:
            self.fields["schedule"].widget = forms.HiddenInput()

    def clean_schedule(self):
        raw = self.cleaned_data["schedule"].strip()
        if not raw:
            return None
        schedule = selectors.ticket_schedule_find(merchant=self.merchant, number=raw)
        if schedule is None:
            raise forms.ValidationError(TICKET_SCHEDULE_NOT_FOUND)
        return schedule


class TicketReplyForm(PortalFormMixin, forms.Form):
    message = _message_field(_("Nova mensagem"))
