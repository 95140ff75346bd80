"""The dashboard: the one page that shows every app, so it lives in the composition root (like
portal/urls.py) and may import any app; portal's own modules never import the apps above it."""

from django.views.generic import TemplateView

from billing.selectors import boleto_payment_totals
from portal.tenancy import MerchantRequiredMixin
from portal.timezones import business_today
from schedules.selectors import boleto_recent, schedule_counts


class DashboardView(MerchantRequiredMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        context["counts"] = schedule_counts(merchant=merchant)
        context["recent_boletos"] = boleto_recent(merchant=merchant)
        # Open, overdue and paid this month: one query (conditional aggregation).
        context["payments"] = boleto_payment_totals(merchant=merchant, today=business_today())
        return context
