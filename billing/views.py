from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from billing import selectors, services
from billing.forms import CustomerForm
from portal.tenancy import MerchantRequiredMixin


class CustomerListView(MerchantRequiredMixin, TemplateView):
    template_name = "billing/customer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = selectors.customer_list(merchant=self.request.merchant)
        context["page"] = Paginator(queryset, 25).get_page(self.request.GET.get("page"))
        return context


class CustomerCreateView(MerchantRequiredMixin, FormView):
    template_name = "billing/customer_form.html"
    form_class = CustomerForm

    def form_valid(self, form):
        try:
            customer = services.customer_create(
                merchant=self.request.merchant, **form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Cliente %(name)s cadastrado.") % {"name": customer.name})
        return redirect("billing:customer_list")
