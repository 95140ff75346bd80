"""Email typos caught in the import preview (issue 13 item 4): a suggestion per row, accepted
with one click (or all at once) before importing; never for an existing customer's row."""

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import Customer
from schedules.models import ImportBatch
from tests.factories import CustomerFactory, make_cpf
from tests.schedules.test_import_services import csv_file, line
from tests.schedules.test_import_views import upload

pytestmark = pytest.mark.django_db


def _preview(client, *lines):
    response = upload(client, csv_file(*lines))
    assert response.status_code == 302
    return ImportBatch.objects.latest("pk"), response.url


def test_a_typo_is_suggested_accepted_in_one_click_and_imported_fixed(owner_client, merchant):
    batch, url = _preview(
        owner_client,
        line(email="fulano@gmial.com"),
        line(nome="Bia", cpf_cnpj=make_cpf(77), email="bia@hotmal.com", valor="10,00"),
    )
    page = owner_client.get(url).content.decode()
    assert "Você quis dizer fulano@gmail.com?" in page
    assert "Usar fulano@gmail.com" in page and "2 e-mails parecem ter um erro" in page
    assert batch.valid_rows == 2  # a suggestion never makes a row invalid

    accept = reverse("schedules:import_email_accept", kwargs={"pk": batch.pk})
    response = owner_client.post(accept, {"linha": "2"}, follow=True)
    assert "1 e-mail corrigido." in response.content.decode()
    batch.refresh_from_db()
    first = next(row for row in batch.rows if row["row"] == 2)
    assert first["customer"]["email"] == "fulano@gmail.com"
    page = owner_client.get(url).content.decode()
    assert "Usar fulano@gmail.com" not in page and "digitado: fulano@gmial.com" in page
    assert "Usar bia@hotmail.com" in page  # the other row still asks

    owner_client.post(reverse("schedules:import_confirm", kwargs={"pk": batch.pk}))
    emails = set(Customer.objects.for_merchant(merchant).values_list("email", flat=True))
    assert emails == {"fulano@gmail.com", "bia@hotmal.com"}  # the merchant's choice is kept
    # After the import nothing changes any more.
    assert owner_client.post(accept, {"linha": "todas"}).status_code == 302
    assert Customer.objects.for_merchant(merchant).filter(email="bia@hotmail.com").count() == 0


def test_all_suggestions_at_once(owner_client, merchant):
    batch, url = _preview(
        owner_client,
        line(email="a@gmial.com"),
        line(nome="Bia", cpf_cnpj=make_cpf(78), email="b@yahoo.con.br", valor="10,00"),
        line(nome="Caio", cpf_cnpj=make_cpf(79), email="caio@empresa.com.br", valor="11,00"),
    )
    accept = reverse("schedules:import_email_accept", kwargs={"pk": batch.pk})
    response = owner_client.post(accept, {"linha": "todas"}, follow=True)
    assert "2 e-mails corrigidos." in response.content.decode()
    batch.refresh_from_db()
    assert sorted(row["customer"]["email"] for row in batch.rows) == [
        "a@gmail.com",
        "b@yahoo.com.br",
        "caio@empresa.com.br",
    ]


def test_an_existing_customers_row_gets_no_suggestion(owner_client, merchant):
    CustomerFactory(merchant=merchant, document="12345678909", email="ana@example.com")
    batch, url = _preview(owner_client, line(email="ana@gmial.com"))
    assert "Você quis dizer" not in owner_client.get(url).content.decode()


def test_another_merchants_batch_and_garbage_rows(owner_client, other_owner):
    batch, _url = _preview(owner_client, line(email="x@gmial.com"))
    accept = reverse("schedules:import_email_accept", kwargs={"pk": batch.pk})
    other = Client()
    other.force_login(other_owner)
    assert other.post(accept, {"linha": "2"}).status_code == 404
    assert owner_client.post(accept, {"linha": "abc"}).status_code == 302
    batch.refresh_from_db()
    assert batch.rows[0]["customer"]["email"] == "x@gmial.com"


def test_an_invalid_address_with_an_obvious_fix_says_it_in_the_error(owner_client):
    batch, url = _preview(owner_client, line(email="ana@yahoo.com.b"))
    assert batch.error_rows == 1
    assert (
        "E-mail inválido: você quis dizer ana@yahoo.com.br?"
        in owner_client.get(url).content.decode()
    )
