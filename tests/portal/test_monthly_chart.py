"""The dashboard's month at a glance (issue 13 item 5): figures per month and the SVG chart,
with no data, one month and twelve."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from billing.models import Boleto
from billing.reports import boleto_months, delivery_health
from portal.charts import Series, bar_chart, nice_ceiling
from portal.timezones import business_tz
from schedules.generator import installments_issue_due
from tests.factories import MerchantFactory, ScheduleFactory, bank_set

SERIES = [Series("issued", "Emitidos", "#0b5cad"), Series("paid", "Pagos", "#067647")]


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 4), (3, 4), (7, 8), (11, 20), (130, 200), (990, 1000)]
)
def test_ticks_are_round_whole_numbers(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_a_chart_without_rows_or_with_zeros_is_empty_and_still_draws_its_frame():
    assert bar_chart(rows=[], label_key="m", series=SERIES).empty
    chart = bar_chart(rows=[{"m": "jan", "issued": 0, "paid": 0}], label_key="m", series=SERIES)
    assert chart.empty and len(chart.ticks) == 5 and len(chart.bars) == 2
    html = render_to_string("portal/_bar_chart.html", {"chart": chart})
    assert "<svg" in html and "Ainda não há boletos" in html


def test_bars_scale_to_the_tallest_value_and_stay_inside_the_plot():
    rows = [{"m": f"{n:02d}", "issued": n * 10, "paid": n * 5} for n in range(1, 13)]
    chart = bar_chart(rows=rows, label_key="m", series=SERIES)
    assert not chart.empty and len(chart.bars) == 24 and len(chart.labels) == 12
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.title == "12 · Emitidos: 120"
    assert all(bar.y >= 0 and bar.y + bar.height <= chart.baseline + 0.01 for bar in chart.bars)
    assert all(bar.x + bar.width <= chart.right_edge for bar in chart.bars)
    with translation.override("pt-br"):
        html = render_to_string("portal/_bar_chart.html", {"chart": chart})
    assert html.count("<rect ") == 24 + 2  # bars + legend swatches
    assert "style=" not in html  # the CSP forbids inline styles
    # Coordinates in SVG's syntax whatever the language (pt-BR would write 12,5).
    numbers = re.findall(r'\s(?:x|y|width|height|x1|x2|y1|y2)="([^"]*)"', html)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d+)?%?", n) for n in numbers), numbers


@pytest.mark.django_db
def test_figures_with_no_boletos_are_twelve_empty_months():
    merchant = MerchantFactory()
    months = boleto_months(merchant_id=merchant.pk, today=date(2026, 12, 7))
    assert [m.month for m in months][0] == date(2026, 1, 1)
    assert months[-1].month == date(2026, 12, 1) and len(months) == 12
    assert all(m.issued == m.paid == m.overdue == 0 for m in months)
    assert delivery_health(merchant_id=merchant.pk).delivered_share is None


def _issue(merchant, *, first_due: date, today: date, count: int = 1) -> list[Boleto]:
    schedules = [ScheduleFactory(merchant=merchant, first_due_date=first_due) for _ in range(count)]
    installments_issue_due(today=today)
    return list(Boleto.objects.filter(schedule__in=schedules, sequence=1))


@pytest.mark.django_db
def test_one_month_counts_issued_delivered_paid_and_overdue():
    merchant = MerchantFactory()
    other = MerchantFactory()
    boletos = _issue(merchant, first_due=date(2026, 11, 20), today=date(2026, 11, 15), count=4)
    _issue(other, first_due=date(2026, 11, 20), today=date(2026, 11, 15), count=3)
    issued_at = datetime(2026, 11, 10, 9, 0, tzinfo=business_tz())
    Boleto.objects.filter(merchant=merchant).update(issued_at=issued_at)
    first, second, third, _ = boletos
    Boleto.objects.filter(pk=first.pk).update(delivery_status="delivered")
    Boleto.objects.filter(pk=second.pk).update(delivery_status="undelivered")
    bank_set(
        third, payment_status="paid", amount_paid=Decimal("150.00"), paid_on=date(2026, 11, 21)
    )
    months = boleto_months(merchant_id=merchant.pk, today=date(2026, 12, 7))
    november = months[-2]
    assert november.month == date(2026, 11, 1)
    assert (november.issued, november.delivered, november.undelivered) == (4, 1, 1)
    assert (november.paid, november.paid_amount) == (1, Decimal("150.00"))
    assert november.overdue == 3  # due 20/11, still open on 07/12; the paid one is not
    assert sum(m.issued for m in months) == 4  # the other merchant's boletos never count


@pytest.mark.django_db
def test_twelve_months_each_land_in_their_own_month():
    merchant = MerchantFactory()
    today = date(2026, 12, 7)
    boletos = _issue(merchant, first_due=date(2026, 12, 20), today=date(2026, 12, 15), count=12)
    for offset, boleto in enumerate(boletos):  # January to December 2026, one each
        at = datetime(2026, 1 + offset, 3, 12, 0, tzinfo=business_tz())
        Boleto.objects.filter(pk=boleto.pk).update(issued_at=at, delivery_status="delivered")
    months = boleto_months(merchant_id=merchant.pk, today=today)
    assert [m.issued for m in months] == [1] * 12
    assert [m.delivered for m in months] == [1] * 12
    health = delivery_health(
        merchant_id=merchant.pk, now=datetime(2026, 12, 20, tzinfo=business_tz())
    )
    assert health.emailed == 1 and health.delivered_share == Decimal("1.000")


@pytest.mark.django_db
def test_the_dashboard_shows_the_chart_its_table_health_and_attention(owner_client, merchant):
    empty = owner_client.get(reverse("dashboard")).content.decode()
    assert "Últimos 12 meses" in empty and "Ainda não há boletos" in empty
    assert "Nenhum boleto enviado nos últimos 30 dias." in empty
    assert "Precisam de atenção" not in empty

    boletos = _issue(merchant, first_due=date(2026, 12, 20), today=date(2026, 12, 15), count=2)
    Boleto.objects.filter(pk=boletos[0].pk).update(delivery_status="delivered")
    Boleto.objects.filter(pk=boletos[1].pk).update(delivery_status="undelivered")
    bank_set(
        boletos[1],
        registration_status="rejected",
        registration_reasons=[{"code": "48", "text": "CEP inválido"}],
    )
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert page.count("<svg") >= 1 and "Ainda não há boletos" not in page
    assert "Boletos por mês: emitidos, entregues, não entregues, pagos e vencidos" in page
    assert "<strong>50%</strong>" in page and "(1 de 2)" in page
    assert "registro rejeitado pelo banco" in page
