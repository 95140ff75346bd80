from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, ListView

from notifications.tickets import selectors, services
from notifications.tickets.forms import TicketForm, TicketReplyForm
from notifications.tickets.models import SupportTicket
from portal.tenancy import MerchantRequiredMixin, MerchantScopedMixin

TICKET_PAGE_SIZE = 25


def _form_errors_from(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class TicketListView(MerchantScopedMixin, ListView):
    model = SupportTicket
    template_name = "notifications/tickets/list.html"
    context_object_name = "tickets"
    paginate_by = TICKET_PAGE_SIZE

    def scope_queryset(self, queryset):
        return queryset.select_related("schedule").order_by("-number")

    def paginate_queryset(self, queryset, page_size):
        # A page number out of range or garbage shows the nearest page, as the other lists do.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()


class TicketCreateView(MerchantRequiredMixin, FormView):
    """Open a ticket, usually from a deactivated schedule (``?agendamento=<number>``): the
    schedule's recorded cause and diagnostic are shown read-only, and copied by the service
    when the ticket is created (not taken from the form)."""

    template_name = "notifications/tickets/form.html"
    form_class = TicketForm

    def get_initial(self):
        initial = super().get_initial()
        raw = self.request.GET.get("agendamento", "")
        if raw:
            schedule = selectors.ticket_schedule_find(merchant=self.request.merchant, number=raw)
            if schedule is None:
                self.schedule_query_error = services.TICKET_SCHEDULE_NOT_FOUND
            else:
                initial["schedule"] = str(schedule.number)
                initial["subject"] = self._default_subject(schedule)
        return initial

    @staticmethod
    def _default_subject(schedule) -> str:
        if schedule.deactivation_cause:
            return _("Agendamento nº %(number)s desativado: %(cause)s") % {
                "number": schedule.number,
                "cause": schedule.get_deactivation_cause_display(),
            }
        return _("Agendamento nº %(number)s") % {"number": schedule.number}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "merchant": self.request.merchant}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = context["form"].schedule_found
        context["schedule"] = schedule
        context["schedule_query_error"] = getattr(self, "schedule_query_error", "")
        if schedule is not None:
            recorded = selectors.ticket_schedule_context(schedule=schedule)
            context["recorded_cause"] = SupportTicket(cause=recorded["cause"]).get_cause_display()
            context["recorded_diagnostic"] = recorded["diagnostic"]
        return context

    def form_valid(self, form):
        try:
            ticket = services.ticket_create(
                merchant=self.request.merchant, actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Chamado nº %(number)s aberto. Você receberá a resposta por e-mail.")
            % {"number": ticket.number},
        )
        return redirect(ticket)


class TicketDetailView(MerchantScopedMixin, DetailView):
    """A ticket's conversation; the merchant may write again while it is not closed."""

    model = SupportTicket
    slug_field = "number"
    slug_url_kwarg = "number"
    template_name = "notifications/tickets/detail.html"
    context_object_name = "ticket"

    def scope_queryset(self, queryset):
        return queryset.select_related("schedule__customer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["thread"] = selectors.ticket_messages(ticket=self.object)
        context.setdefault("form", TicketReplyForm())
        return context

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = TicketReplyForm(request.POST)
        if form.is_valid():
            try:
                services.ticket_reply(
                    ticket=self.object, actor=request.user, message=form.cleaned_data["message"]
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("Mensagem enviada ao suporte."))
                return redirect(self.object)
        return self.render_to_response(self.get_context_data(form=form))
