"""The dashboard: the one page that shows every app, so it lives in the composition root (like
portal/urls.py) and may import any app; portal's own modules never import the apps above it."""

from django.utils import translation
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from billing.reports import boleto_months, boletos_needing_attention, delivery_health
from billing.selectors import boleto_payment_totals
from portal.charts import Series, bar_chart
from portal.tenancy import MerchantRequiredMixin
from portal.timezones import business_today
from schedules.models import Schedule, ScheduleStatus
from schedules.selectors import boleto_recent, cause_label, schedule_counts

# The month-at-a-glance series, in the order they are drawn (colours from portal.css).
MONTH_SERIES = (
    ("issued", "Emitidos", "#0b5cad"),
    ("delivered", "Entregues", "#12b76a"),
    ("undelivered", "Não entregues", "#b42318"),
    ("paid", "Pagos", "#067647"),
    ("overdue", "Vencidos", "#b54708"),
)


class DashboardView(MerchantRequiredMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        context["counts"] = schedule_counts(merchant=merchant)
        context["recent_boletos"] = boleto_recent(merchant=merchant)
        # Open, overdue and paid this month: one query (conditional aggregation).
        context["payments"] = boleto_payment_totals(merchant=merchant, today=business_today())
        context.update(_month_at_a_glance(merchant.pk))
        health = context["health"] = delivery_health(merchant_id=merchant.pk)
        share = health.delivered_share
        context["health_percent"] = "" if share is None else f"{share * 100:.0f}"
        context["attention_schedules"] = _deactivated_recent(merchant)
        context["attention_boletos"] = boletos_needing_attention(merchant_id=merchant.pk)
        return context


def _month_label(month) -> str:
    return f"{MONTHS_3[month.month]}/{month.year % 100:02d}"


def _month_at_a_glance(merchant_id: int) -> dict:
    """The last 12 months as a chart (SVG) and as a table (the same numbers, for screen
    readers), from billing.reports."""
    months = boleto_months(merchant_id=merchant_id)
    with translation.override("pt-br"):
        series = [Series(key, _(label), color) for key, label, color in MONTH_SERIES]
        rows = [{"label": _month_label(m.month), **vars(m)} for m in months]
    chart = bar_chart(
        rows=rows, label_key="label", series=series, number=lambda n: f"{n:,}".replace(",", ".")
    )
    return {"month_chart": chart, "month_rows": rows, "month_series": series}


def _deactivated_recent(merchant, limit: int = 5) -> list[Schedule]:
    schedules = list(
        Schedule.objects.for_merchant(merchant)
        .filter(status=ScheduleStatus.DEACTIVATED)
        .select_related("customer")
        .order_by("-deactivated_at", "-id")[:limit]
    )
    for schedule in schedules:
        schedule.cause_text = cause_label(schedule.deactivation_cause)
    return schedules
