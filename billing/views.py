from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView, View

from billing import selectors, services
from billing.forms import CustomerCreateForm, CustomerEditForm
from billing.models import Boleto, Customer
from portal.emailcheck import email_domain_warning
from portal.formtokens import AlreadySubmitted
from portal.pagination import DeferredJoinPaginator
from portal.tenancy import MerchantRequiredMixin, get_for_merchant_or_404

# schedules' ScheduleStatus.DEACTIVATED: billing reads its customers' schedules through the
# reverse relation (it cannot import schedules).
_SCHEDULE_DEACTIVATED = "deactivated"


def _add_service_errors(form, exc: ValidationError) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in items:
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _warn_about_email_domain(request, email: str) -> None:
    """Non-blocking: the customer is saved; the merchant is told the domain takes no mail."""
    if warning := email_domain_warning(email):
        messages.warning(request, warning)


class CustomerListView(MerchantRequiredMixin, TemplateView):
    template_name = "billing/customer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = selectors.customer_list(merchant=self.request.merchant)
        context["page"] = Paginator(queryset, 25).get_page(self.request.GET.get("page"))
        return context


class CustomerCreateView(MerchantRequiredMixin, FormView):
    template_name = "billing/customer_form.html"
    form_class = CustomerCreateForm

    def form_valid(self, form):
        try:
            customer = services.customer_create(merchant=self.request.merchant, **form.cleaned_data)
        except AlreadySubmitted as done:
            messages.info(
                self.request,
                _("Este formulário já foi enviado: o cliente %(name)s já está cadastrado.")
                % {"name": done.instance.name},
            )
            return redirect("billing:customer_list")
        except ValidationError as exc:
            _add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Cliente %(name)s cadastrado.") % {"name": customer.name})
        _warn_about_email_domain(self.request, customer.email)
        return redirect("billing:customer_list")


class CustomerEditView(MerchantRequiredMixin, FormView):
    """Clientes › Editar: name, email, phone and address (the CPF/CNPJ is shown, not editable).
    Recorded in the history of each of the customer's schedules (billing.signals). Another
    merchant's customer is a 404."""

    template_name = "billing/customer_form.html"
    form_class = CustomerEditForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.merchant:
            self.customer = get_for_merchant_or_404(
                Customer, request.merchant, pk=kwargs["customer_id"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.customer}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        deactivated = self.customer.schedules.filter(status=_SCHEDULE_DEACTIVATED)
        context.update(
            customer=self.customer,
            editing=True,
            has_deactivated_schedules=deactivated.exists(),
            deactivated_url=reverse("schedules:list") + "?status=" + _SCHEDULE_DEACTIVATED,
        )
        return context

    def form_valid(self, form):
        # A fresh instance: the form's validation assigned the typed values to self.customer.
        customer = Customer.objects.for_merchant(self.request.merchant).get(pk=self.customer.pk)
        try:
            changes = services.customer_update(
                customer=customer, actor=self.request.user, **form.changed_fields()
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
            return self.form_invalid(form)
        if not changes:
            messages.info(
                self.request, _("Nenhuma alteração: os dados do cliente continuam os mesmos.")
            )
            return redirect("billing:customer_list")
        messages.success(
            self.request, _("Dados do cliente %(name)s atualizados.") % {"name": customer.name}
        )
        if "email" in changes:
            _warn_about_email_domain(self.request, customer.email)
        return redirect("billing:customer_list")


class BoletoListView(MerchantRequiredMixin, TemplateView):
    """Gerenciar Boletos › Boletos, filtered by delivery, registration and payment state (query
    string: entrega, registro, pagamento, pago_em=AAAA-MM). An unknown value is ignored."""

    template_name = "billing/boleto_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = selectors.boleto_list_params(self.request.GET)
        merchant = self.request.merchant
        queryset = selectors.boleto_list_filtered(merchant=merchant, **filters.query)
        paginator = DeferredJoinPaginator(
            queryset,
            50,
            rows=Boleto.objects.select_related("schedule", "bank"),
            count=selectors.boleto_list_count(merchant=merchant, **filters.query),
        )
        context.update(
            page=paginator.get_page(self.request.GET.get("page")),
            delivery=filters.delivery,
            registration=filters.registration,
            payment=filters.payment,
            filters=filters,
            page_url=filters.page_url,
            delivery_choices=[
                c
                for c in Boleto.DeliveryStatus.choices
                if c[0] != Boleto.DeliveryStatus.NOT_APPLICABLE
            ],
            registration_choices=selectors.REGISTRATION_CHOICES,
            payment_choices=selectors.PAYMENT_CHOICES,
            zip_limit=services.BOLETO_ZIP_LIMIT,
        )
        return context


class BoletoPdfView(MerchantRequiredMixin, View):
    def get(self, request, boleto_id):
        boleto = selectors.boleto_get(merchant=request.merchant, boleto_id=boleto_id)
        try:
            content = services.boleto_pdf(boleto=boleto)
        except ValidationError as exc:
            raise Http404(" ".join(exc.messages)) from exc
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=request.GET.get("inline") != "1",
            filename=services.boleto_filename(boleto),
        )
        return response


class BoletoZipView(MerchantRequiredMixin, View):
    """The PDFs of the selected boletos in one ZIP (Boletos tab, Agendamentos Desativados).

    The selection is all or nothing: an id that is not one of this merchant's issued boletos
    (another merchant's, made up, malformed) refuses the whole request with a 404, as any other
    URL with a foreign id does.
    """

    def post(self, request):
        raw_ids = request.POST.getlist("boleto")
        back = request.POST.get("next") or reverse("billing:boleto_list")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("billing:boleto_list")
        if not raw_ids:
            messages.error(request, _("Selecione ao menos um boleto para baixar."))
            return redirect(back)
        if len(raw_ids) > services.BOLETO_ZIP_LIMIT:
            messages.error(
                request,
                _("Selecione no máximo %(limit)s boletos por arquivo ZIP.")
                % {"limit": services.BOLETO_ZIP_LIMIT},
            )
            return redirect(back)
        if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in raw_ids):
            raise Http404
        ids = {int(v) for v in raw_ids}
        boletos = list(selectors.boletos_for_zip(merchant=request.merchant, boleto_ids=ids))
        if len(boletos) != len(ids):
            raise Http404
        boletos = [b for b in boletos if b.barcode]
        if not boletos:
            messages.error(request, _("Os boletos selecionados não têm PDF."))
            return redirect(back)
        response = HttpResponse(
            services.boletos_zip(boletos=boletos), content_type="application/zip"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"boletos-{stamp}.zip"
        )
        return response
