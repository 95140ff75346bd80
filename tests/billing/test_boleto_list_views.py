"""Gerenciar Boletos › Boletos: the tab, its pages (constant queries) and its scoping."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Boleto
from tests.factories import ScheduleFactory

pytestmark = pytest.mark.django_db

URL = reverse("billing:boleto_list")


def boletos(merchant, n, *, delivery="delivered"):
    """n schedules of n customers, one issued boleto each, the newest issued last."""
    made = []
    start = timezone.now() - timedelta(days=n)
    for i in range(n):
        schedule = ScheduleFactory(merchant=merchant)
        made.append(
            Boleto.objects.create(
                merchant=merchant,
                schedule=schedule,
                sequence=1,
                due_date=date(2026, 3, 20),
                amount=Decimal("10.00") + i,
                status=Boleto.Status.ISSUED,
                delivery_status=delivery,
                issued_at=start + timedelta(days=i),
                barcode="3" * 44,
                linha_digitavel="3" * 47,
                payer={"name": f"Pagador {i}"},
            )
        )
    return made


def test_tab_of_gerenciar_boletos(owner_client, merchant):
    boletos(merchant, 1)
    page = owner_client.get(URL).content.decode()
    assert "<h1>Gerenciar Boletos</h1>" in page
    assert f'<a href="{URL}" aria-current="page">Boletos</a>' in page
    assert f'<a href="{reverse("schedules:list")}">Agendados</a>' in page


def test_pages_in_a_constant_number_of_queries(owner_client, merchant):
    made = boletos(merchant, 120)
    newest_first = made[::-1]

    def get(url):
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(url)
        assert response.status_code == 200
        return response, len(captured)

    first, first_queries = get(URL)
    deep, deep_queries = get(URL + "?page=3")
    assert [b.pk for b in first.context["page"].object_list] == [b.pk for b in newest_first[:50]]
    assert [b.pk for b in deep.context["page"].object_list] == [b.pk for b in newest_first[100:]]
    assert first_queries == deep_queries <= 10
    body = deep.content.decode()
    assert "Página 3 de 3" in body
    assert 'href="?page=2"' in body
    # Ids and numbers are never printed with a thousands separator (they go back in forms).
    assert f'value="{newest_first[100].pk}"' in body


def test_another_merchants_boletos_are_not_listed(other_client, merchant):
    boletos(merchant, 2, delivery="undelivered")
    response = other_client.get(URL + "?entrega=undelivered")
    assert list(response.context["page"].object_list) == []
    assert "Nenhum boleto encontrado." in response.content.decode()
