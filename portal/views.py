from django.db import connection
from django.http import JsonResponse
from django.views.generic import TemplateView

from portal.tenancy import MerchantRequiredMixin
from schedules.selectors import boleto_recent, schedule_counts


class DashboardView(MerchantRequiredMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        context["counts"] = schedule_counts(merchant=merchant)
        context["recent_boletos"] = boleto_recent(merchant=merchant)
        return context


def healthz(request):
    """Liveness of the web process and its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
