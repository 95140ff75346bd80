from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import DetailView, TemplateView, View
from django_htmx.http import HttpResponseClientRedirect, replace_url

from billing.models import Boleto, Customer
from billing.services import BOLETO_ZIP_LIMIT
from portal.formats import date_br, datetime_br
from portal.formtokens import AlreadySubmitted
from portal.templatetags.money import format_brl
from portal.tenancy import MerchantRequiredMixin, MerchantScopedMixin, get_for_merchant_or_404
from portal.timezones import business_localtime
from schedules import exports, selectors, services, timeline
from schedules.filters import ScheduleListFilterForm
from schedules.forms import (
    CUSTOMER_NEW,
    PREVIEW_FIELDS,
    NewCustomerForm,
    ReactivationForm,
    ScheduleEditForm,
    ScheduleForm,
    keep_errors_only,
)
from schedules.models import (
    CONSENT_CAUSES,
    DeactivationCause,
    Frequency,
    Schedule,
    ScheduleStatus,
)
from schedules.search import schedule_number_in

PAGE_SIZE = 25
INSTALLMENTS_PAGE_SIZE = 24


TAB_LABELS = {
    ScheduleStatus.ACTIVE: _lazy("Agendamentos Ativos"),
    ScheduleStatus.DEACTIVATED: _lazy("Agendamentos Desativados"),
    ScheduleStatus.CANCELLED: _lazy("Cancelados"),
    ScheduleStatus.FINISHED: _lazy("Encerrados"),
}


def _tab(request) -> str:
    status = request.GET.get("status") or ScheduleStatus.ACTIVE
    return status if status in ScheduleStatus.values else ScheduleStatus.ACTIVE


def _querystring(request, *, drop=("page", "digitando")) -> str:
    """The list's parameters for links (pages, CSV, back from the ZIP): empty ones left out."""
    params = request.GET.copy()
    for key in [*drop, *(k for k, v in params.items() if not v)]:
        params.pop(key, None)
    return params.urlencode()


def _url_maker(name: str, kwarg: str):
    """``reverse`` once per list instead of once per row: the URL with a sentinel id, split."""
    sentinel = "987654321987654321"
    head, tail = reverse(name, kwargs={kwarg: int(sentinel)}).split(sentinel)
    return lambda value: f"{head}{int(value)}{tail}"


def _list_rows(schedules, *, status: str) -> list[dict]:
    """What each row of a tab prints, as strings prepared in Python.

    The template engine costs ~0.4 ms a row when every cell goes through filters, lookups,
    ``{% url %}`` and translations; a page of 25 rows is then most of the page's time
    (bench/lists.py). Labels are translated once per request and URLs built from one reverse.
    """
    detail = _url_maker("schedules:detail", "number")
    rows = []
    if status == ScheduleStatus.DEACTIVATED:
        reactivate = _url_maker("schedules:reactivate", "number")
        pdf = _url_maker("billing:boleto_pdf", "boleto_id")
        causes = {value: str(label) for value, label in DeactivationCause.choices}
        installment, due = _("Parcela"), _("venc.")
        for schedule in schedules:
            boleto = (schedule.undelivered_boletos or [None])[0]
            at = business_localtime(schedule.deactivated_at)
            rows.append(
                {
                    "number": str(schedule.number),
                    "url": detail(schedule.number),
                    "customer": schedule.customer.name,
                    "email": schedule.customer.email,
                    "cause": causes.get(schedule.deactivation_cause, ""),
                    "at": datetime_br(at),
                    "at_iso": at.isoformat(),
                    "reactivate_url": reactivate(schedule.number),
                    # Complaint / unsubscribe: no email to fix (schedules.models.CONSENT_CAUSES).
                    "consent": schedule.deactivation_cause in CONSENT_CAUSES,
                    "boleto_id": str(boleto.pk) if boleto else "",
                    "boleto_label": (
                        f"{installment} {boleto.sequence} · {due} {date_br(boleto.due_date)}"
                        if boleto
                        else ""
                    ),
                    "pdf_url": pdf(boleto.pk) if boleto else "",
                }
            )
        return rows
    frequencies = {value: str(label) for value, label in Frequency.choices}
    for schedule in schedules:
        rows.append(
            {
                "number": str(schedule.number),
                "url": detail(schedule.number),
                "customer": schedule.customer.name,
                "email": schedule.customer.email,
                "amount": format_brl(schedule.amount),
                "frequency": frequencies.get(schedule.frequency_months, ""),
                "cancelled_at": datetime_br(schedule.cancelled_at),
                "finished_at": datetime_br(schedule.finished_at),
            }
        )
    return rows


class ScheduleListView(MerchantRequiredMixin, TemplateView):
    """Gerenciar Boletos › Agendados: one tab per status, each with its count.

    A plain GET form (works without JavaScript). With htmx, the search box refreshes the results
    as the merchant types (``digitando=1``, answered with the results fragment and the tab counts
    out of band); a schedule number submitted with the form (``123``, ``#123``, ``nº 123``) jumps
    to that schedule when it is in the tab.
    """

    template_name = "schedules/schedule_list.html"
    fragment_template_name = "schedules/_schedule_results.html"

    def get(self, request, *args, **kwargs):
        status = _tab(request)
        form = ScheduleListFilterForm(request.GET, status=status)
        form.is_valid()
        filters = form.filters()
        merchant = request.merchant
        number = schedule_number_in(filters.query)
        typing = "digitando" in request.GET
        number_miss = None
        if number is not None and not typing:
            found = selectors.schedule_find_by_number(merchant=merchant, number=number)
            if found is not None and found.status == status:
                if request.htmx:
                    return HttpResponseClientRedirect(found.get_absolute_url())
                return redirect(found)
            number_miss = {"number": number, "elsewhere": found}
        counts = selectors.schedule_counts(merchant=merchant)
        page = selectors.schedule_list_page(
            merchant=merchant,
            filters=filters,
            page_number=request.GET.get("page"),
            per_page=PAGE_SIZE,
            counts=counts,
        )
        rows = _list_rows(page.object_list, status=status)
        if number is not None and typing and not page.object_list:
            found = selectors.schedule_find_by_number(merchant=merchant, number=number)
            number_miss = {"number": number, "elsewhere": found}
        if number_miss and number_miss["elsewhere"] is not None:
            number_miss["elsewhere_tab"] = TAB_LABELS[number_miss["elsewhere"].status]
        querystring, list_url = _querystring(request), reverse("schedules:list")
        context = self.get_context_data(
            status=status,
            tab_label=TAB_LABELS[status],
            tabs=[(value, label, counts[value]) for value, label in TAB_LABELS.items()],
            counts=counts,
            form=form,
            filters=filters,
            page=page,
            rows=rows,
            number_miss=number_miss,
            list_url=f"{list_url}?{querystring}",
            page_url=f"{list_url}?{querystring}&" if querystring else f"{list_url}?",
            export_url=f"{reverse('schedules:export')}?{querystring}",
            zip_limit=BOLETO_ZIP_LIMIT,
        )
        fragment = request.htmx and not request.htmx.boosted
        template = self.fragment_template_name if fragment else self.template_name
        response = self.response_class(request=request, template=template, context=context)
        if fragment and typing:
            # The address bar follows the search (reload and share work), without the typing flag.
            # (Page links push their own URL with hx-push-url.)
            replace_url(response, context["list_url"].rstrip("?"))
        patch_vary_headers(response, ("HX-Request",))
        return response


class ScheduleTabCountsView(MerchantRequiredMixin, TemplateView):
    """The Agendados tabs with fresh counts (htmx refreshes them now and then)."""

    template_name = "schedules/_status_tabs.html"

    def get_context_data(self, **kwargs):
        counts = selectors.schedule_counts(merchant=self.request.merchant)
        return super().get_context_data(
            status=_tab(self.request),
            tabs=[(value, label, counts[value]) for value, label in TAB_LABELS.items()],
            **kwargs,
        )


class ScheduleExportView(MerchantRequiredMixin, View):
    """The tab as CSV, with the same search and filters as the page (streamed)."""

    def get(self, request):
        status = _tab(request)
        form = ScheduleListFilterForm(request.GET, status=status)
        if not form.is_valid():
            # The list shows the errors next to the fields.
            return redirect(f"{reverse('schedules:list')}?{_querystring(request)}")
        filters = form.filters()
        rows = selectors.schedule_export_rows(merchant=request.merchant, filters=filters)
        response = StreamingHttpResponse(
            exports.schedule_csv_lines(rows, status=status, language=get_language()),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        slug = {
            "active": "ativos",
            "deactivated": "desativados",
            "cancelled": "cancelados",
            "finished": "encerrados",
        }[status]
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"agendamentos-{slug}-{stamp}.csv"
        )
        return response


class ScheduleDetailView(MerchantScopedMixin, DetailView):
    """Everything about one schedule: its data, the next due dates, every installment (paged)
    and the timeline of every event. A fixed number of queries whatever its history."""

    model = Schedule
    slug_field = "number"
    slug_url_kwarg = "number"
    template_name = "schedules/schedule_detail.html"
    context_object_name = "schedule"

    def scope_queryset(self, queryset):
        return queryset.select_related("customer", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = self.object
        installments = selectors.schedule_installments(schedule=schedule)
        page = Paginator(installments, INSTALLMENTS_PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        context.update(
            upcoming=selectors.schedule_upcoming_due_dates(schedule=schedule),
            page=page,
            boletos=page.object_list,
            skipped_on_reactivation=selectors.schedule_skipped_on_reactivation(schedule=schedule),
            timeline=timeline.schedule_timeline(schedule=schedule),
            deactivation=selectors.schedule_deactivation(schedule=schedule),
            email_suspect=selectors.schedule_email_suspect(schedule=schedule),
            missed=selectors.schedule_missed_installments(schedule=schedule),
        )
        return context


class ScheduleCreateView(MerchantRequiredMixin, TemplateView):
    """Novo agendamento, for a registered or a new customer. "Pré-visualizar datas" re-renders
    the form with the next six due dates (no JavaScript needed); with htmx, changing the date
    fields refreshes only the preview."""

    template_name = "schedules/schedule_form.html"
    preview_template_name = "schedules/_date_preview.html"

    def get(self, request, *args, **kwargs):
        initial = {}
        if (cliente := request.GET.get("cliente", "")).isascii() and cliente.isdigit():
            # From the customer list; another merchant's id finds nothing (scoped lookup).
            customer = (
                Customer.objects.for_merchant(request.merchant).filter(pk=int(cliente[:18])).first()
            )
            if customer is not None:
                initial = {"customer": customer}
        form = ScheduleForm(merchant=request.merchant, initial=initial)
        if not form.fields["customer"].queryset.exists():
            form.initial["customer_mode"] = CUSTOMER_NEW  # nobody to choose yet
        customer_form = NewCustomerForm(merchant=request.merchant)
        return self._render(form, customer_form)

    def post(self, request, *args, **kwargs):
        form = ScheduleForm(request.POST, merchant=request.merchant)
        customer_form = NewCustomerForm(request.POST, merchant=request.merchant)
        if request.POST.get("action") == "preview":
            form.is_valid()
            keep_errors_only(form, PREVIEW_FIELDS)
            keep_errors_only(customer_form)
            template = self.preview_template_name if request.htmx else None
            return self._render(form, customer_form, template=template)
        done = selectors.schedule_find_by_form_token(
            merchant=request.merchant, form_token=form.submitted_token()
        )
        if done is not None:
            # This page was sent before (what it holds may no longer be valid: its customer is
            # registered now, its date may have passed): show what it created.
            return self._already_created(done)
        new_customer = form.new_customer
        valid = form.is_valid()
        if new_customer:
            valid = customer_form.is_valid() and valid
        else:
            keep_errors_only(customer_form)  # not used: no errors shown for it
        if valid:
            try:
                if new_customer:
                    schedule = services.schedule_create_with_new_customer(
                        merchant=request.merchant,
                        customer_fields=customer_form.cleaned_data,
                        actor=request.user,
                        **form.schedule_fields(),
                    )
                else:
                    schedule = services.schedule_create(
                        merchant=request.merchant,
                        customer=form.cleaned_data["customer"],
                        actor=request.user,
                        **form.schedule_fields(),
                    )
            except AlreadySubmitted as done:  # sent again while the first was being saved
                return self._already_created(done.instance)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    target = form
                    if field not in form.fields and field in customer_form.fields:
                        target = customer_form
                    for error in errors:
                        target.add_error(field if field in target.fields else None, error)
            else:
                messages.success(
                    request, _("Agendamento nº %(number)s criado.") % {"number": schedule.number}
                )
                return redirect(schedule)
        return self._render(form, customer_form)

    def _already_created(self, schedule):
        messages.info(
            self.request,
            _("Este formulário já foi enviado: o agendamento nº %(number)s já foi criado.")
            % {"number": schedule.number},
        )
        return redirect(schedule)

    def _render(self, form, customer_form, *, template=None):
        preview = []
        cleaned = getattr(form, "cleaned_data", {})
        if cleaned.get("first_due_date") and cleaned.get("frequency_months"):
            preview = selectors.schedule_preview_dates(
                first_due_date=cleaned["first_due_date"],
                frequency_months=cleaned["frequency_months"],
                lead_days=cleaned.get("lead_days"),
            )
            # Never show installments past the end chosen (when it is valid).
            end_count, end_date = cleaned.get("end_count"), cleaned.get("end_date")
            mode = cleaned.get("end_mode")
            preview = [
                row
                for row in preview
                if not (mode == "count" and end_count and row["sequence"] > end_count)
                and not (mode == "date" and end_date and row["due_date"] > end_date)
            ]
        response = render(
            self.request,
            template or self.template_name,
            {
                "form": form,
                "customer_form": customer_form,
                "has_customers": form.fields["customer"].queryset.exists(),
                "new_customer": form.new_customer,
                "preview": preview,
                "preview_requested": self.request.method == "POST",
                # The whole page shows the date's error next to its field; the htmx fragment,
                # swapped in alone, shows it in the preview instead (once either way).
                "preview_fragment": template == self.preview_template_name,
            },
        )
        patch_vary_headers(response, ["HX-Request"])
        return response


class ScheduleReactivateView(MerchantRequiredMixin, View):
    """Corrigir e-mail e reativar (owners and members). A second submit of the same form finds
    the schedule active and only says so."""

    template_name = "schedules/schedule_reactivate.html"

    def get(self, request, number):
        schedule = self._schedule(number)
        if schedule.status != ScheduleStatus.DEACTIVATED:
            return self._not_deactivated(schedule)
        return self._render(schedule, *self._form(schedule))

    def post(self, request, number):
        schedule = self._schedule(number)
        if schedule.status != ScheduleStatus.DEACTIVATED:
            return self._not_deactivated(schedule)
        form, missed, undelivered = self._form(schedule, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.schedule_reactivate(
                    schedule=schedule,
                    email=data["email"],
                    keep_email=data.get("keep_email", False),
                    missed_choice=data["missed_choice"],
                    expected_missed=data["missed"],
                    resend_boleto_ids=data["resend"],
                    actor=request.user,
                )
            except ValidationError as exc:
                if getattr(exc, "code", None) == "not_deactivated":
                    schedule.refresh_from_db()  # reactivated or cancelled meanwhile
                    return self._not_deactivated(schedule)
                for field, errors in _error_items(exc):
                    for error in errors:
                        visible = field in form.fields and field != "missed"
                        form.add_error(field if visible else None, error)
            else:
                self._success(result)
                return redirect(schedule)
        return self._render(schedule, form, missed, undelivered)

    def _schedule(self, number) -> Schedule:
        return get_for_merchant_or_404(Schedule, self.request.merchant, number=number)

    def _form(self, schedule, data=None):
        missed = selectors.schedule_missed_installments(schedule=schedule)
        undelivered = list(selectors.schedule_undelivered_boletos(schedule=schedule))
        form = ReactivationForm(data, schedule=schedule, missed=missed, undelivered=undelivered)
        return form, missed, undelivered

    def _not_deactivated(self, schedule):
        if schedule.status == ScheduleStatus.CANCELLED:
            messages.error(self.request, services.SCHEDULE_CANCELLED_NOT_REACTIVATED)
        else:
            messages.info(self.request, services.SCHEDULE_ALREADY_ACTIVE)
        return redirect(schedule)

    def _success(self, result):
        schedule = result.schedule
        parts = [_("Agendamento nº %(number)s reativado.") % {"number": schedule.number}]
        if result.email_changed:
            parts.append(
                _("Novo e-mail do cliente: %(email)s.") % {"email": schedule.customer.email}
            )
        if result.skipped:
            parts.append(
                _("Parcelas não emitidas: %(list)s.")
                % {"list": selectors.sequence_list(result.skipped)}
            )
        if result.issued:
            parts.append(
                _("Parcelas emitidas agora: %(list)s.")
                % {"list": selectors.sequence_list(result.issued)}
            )
        if result.resent:
            parts.append(
                _("Boleto reenviado (parcela %(list)s).")
                % {"list": selectors.sequence_list(result.resent)}
            )
        still_off = [
            other.number
            for other in selectors.customer_other_schedules(schedule=schedule)
            if other.status == ScheduleStatus.DEACTIVATED
        ]
        if still_off:
            parts.append(
                _("Este cliente ainda tem agendamentos desativados: %(list)s.")
                % {"list": ", ".join(f"nº {n}" for n in still_off)}
            )
        messages.success(self.request, " ".join(str(part) for part in parts))

    def _render(self, schedule, form, missed, undelivered):
        others = selectors.customer_other_schedules(schedule=schedule)
        return render(
            self.request,
            self.template_name,
            {
                "schedule": schedule,
                "form": form,
                "deactivation": selectors.schedule_deactivation(schedule=schedule),
                "missed": missed,
                "missed_signature": ",".join(str(item.sequence) for item in missed),
                "missed_past_due": any(item.new_due_date for item in missed),
                "undelivered": undelivered,
                "other_schedules": others,
                "other_numbers": ", ".join(f"nº {other.number}" for other in others),
            },
        )


def _error_items(exc: ValidationError):
    if hasattr(exc, "error_dict"):
        return exc.message_dict.items()
    return [(None, exc.messages)]


class ScheduleCancelView(MerchantRequiredMixin, View):
    """Cancelar agendamento: a confirmation page (GET), then the cancellation (POST)."""

    template_name = "schedules/schedule_cancel_confirm.html"

    def get(self, request, number):
        schedule = get_for_merchant_or_404(Schedule, request.merchant, number=number)
        if schedule.status == ScheduleStatus.CANCELLED:
            messages.info(request, services.SCHEDULE_ALREADY_CANCELLED)
            return redirect(schedule)
        issued = (
            selectors.schedule_installments(schedule=schedule)
            .filter(status=Boleto.Status.ISSUED)
            .count()
        )
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "issued_count": issued,
                "upcoming": selectors.schedule_upcoming_due_dates(schedule=schedule, count=1),
            },
        )

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


class ScheduleEditView(MerchantRequiredMixin, View):
    """Editar agendamento (active or deactivated). The form shows, before saving, from which
    installment the changes apply and the next due dates ("Pré-visualizar alterações", or with
    htmx as fields change); a cancelled or finished schedule is read-only: the page only says
    so."""

    template_name = "schedules/schedule_edit.html"
    preview_template_name = "schedules/_edit_preview.html"

    def get(self, request, number):
        schedule = self._schedule(number)
        if schedule.is_read_only:
            return self._read_only(schedule)
        form = ScheduleEditForm(schedule=schedule)
        return self._render(schedule, form)

    def post(self, request, number):
        schedule = self._schedule(number)
        if schedule.is_read_only:
            return self._read_only(schedule)
        form = ScheduleEditForm(request.POST, schedule=schedule)
        if request.POST.get("action") == "preview":
            form.is_valid()
            template = self.preview_template_name if request.htmx else None
            return self._render(schedule, form, template=template)
        if form.is_valid():
            try:
                services.schedule_update(
                    schedule=schedule,
                    actor=request.user,
                    expected_sequence=form.cleaned_data["expected_sequence"],
                    **form.update_fields(),
                )
            except ValidationError as exc:
                code = getattr(exc, "code", None)
                if code == "read_only":
                    schedule.refresh_from_db()  # cancelled or finished meanwhile
                    return self._read_only(schedule)
                if code == "unchanged":
                    messages.info(request, " ".join(exc.messages))
                    return redirect(schedule)
                if code == "sequence_changed":
                    # Show the preview as it is now, and save against it next time.
                    schedule.refresh_from_db()
                    data = request.POST.copy()
                    data["expected_sequence"] = str(schedule.next_sequence)
                    form = ScheduleEditForm(data, schedule=schedule)
                    form.is_valid()
                for field, errors in _error_items(exc):
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(
                    request, _("Agendamento nº %(number)s alterado.") % {"number": schedule.number}
                )
                return redirect(schedule)
        return self._render(schedule, form)

    def _schedule(self, number) -> Schedule:
        return get_for_merchant_or_404(Schedule, self.request.merchant, number=number)

    def _read_only(self, schedule):
        messages.error(
            self.request,
            services.SCHEDULE_READ_ONLY % {"status": str(schedule.get_status_display()).lower()},
        )
        return redirect(schedule)

    def _render(self, schedule, form, *, template=None):
        values = form.preview_values() if form.is_bound else {}
        try:
            plan = selectors.schedule_edit_plan(
                schedule=schedule,
                due_day=values.get("due_day") if form.is_bound else None,
                end_count=values.get("end_count") if form.is_bound else schedule.end_count,
                end_date=values.get("end_date") if form.is_bound else schedule.end_date,
            )
        except ValueError:  # dates.UnsupportedDateError: beyond the holiday calendar
            plan = None
        amount = values.get("amount")
        response = render(
            self.request,
            template or self.template_name,
            {
                "schedule": schedule,
                "form": form,
                "plan": plan,
                "amount_changed": amount is not None and amount != schedule.amount,
                "new_amount": amount,
                "issued_up_to": schedule.next_sequence - 1,
            },
        )
        patch_vary_headers(response, ["HX-Request"])
        return response
