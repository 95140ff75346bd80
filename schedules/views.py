from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, TemplateView, View

from portal.tenancy import MerchantRequiredMixin, MerchantScopedMixin, get_for_merchant_or_404
from schedules import selectors, services
from schedules.forms import ScheduleForm
from schedules.models import Schedule, ScheduleStatus

PAGE_SIZE = 25


class ScheduleListView(MerchantRequiredMixin, TemplateView):
    template_name = "schedules/schedule_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status") or ScheduleStatus.ACTIVE
        if status not in ScheduleStatus.values:
            status = ScheduleStatus.ACTIVE
        query = self.request.GET.get("q", "")[:100]
        queryset = selectors.schedule_list(
            merchant=self.request.merchant, status=status, query=query
        )
        page = Paginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            status=status,
            query=query,
            page=page,
            counts=selectors.schedule_counts(merchant=self.request.merchant),
            statuses=ScheduleStatus,
        )
        return context


class ScheduleDetailView(MerchantScopedMixin, DetailView):
    model = Schedule
    slug_field = "number"
    slug_url_kwarg = "number"
    template_name = "schedules/schedule_detail.html"
    context_object_name = "schedule"

    def scope_queryset(self, queryset):
        return queryset.select_related("customer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = self.object
        context["upcoming"] = selectors.schedule_upcoming_due_dates(schedule=schedule)
        context["boletos"] = schedule.boletos.order_by("-sequence")[:50]
        context["timeline"] = selectors.schedule_timeline(schedule=schedule)
        return context


class ScheduleCreateView(MerchantRequiredMixin, FormView):
    template_name = "schedules/schedule_form.html"
    form_class = ScheduleForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "merchant": self.request.merchant}

    def form_valid(self, form):
        try:
            schedule = services.schedule_create(
                merchant=self.request.merchant, actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Agendamento nº %(number)s criado.") % {"number": schedule.number}
        )
        return redirect(schedule)


class ScheduleCancelView(MerchantRequiredMixin, View):
    def post(self, request, number):
        schedule = get_for_merchant_or_404(Schedule, request.merchant, number=number)
        try:
            services.schedule_cancel(schedule=schedule, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Agendamento nº %(number)s cancelado.") % {"number": schedule.number}
            )
        return redirect(schedule)
