import re
import uuid

import pytest
from django.urls import reverse

from billing.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Ana Souza",
    "document": "248.438.034-80",
    "email": "ana@example.com",
    "phone": "",
    "address_street": "Rua das Flores, 120",
    "address_district": "Centro",
    "address_city": "Curitiba",
    "address_state": "pr",
    "address_zip": "80020-310",
}


def valid(**overrides):
    """A filled-in form, as from a freshly opened page (its own one-time token)."""
    return {**VALID, "form_token": str(uuid.uuid4()), **overrides}


def test_create_customer_normalises_document_and_zip(owner_client, merchant):
    response = owner_client.post(reverse("billing:customer_create"), valid())
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.merchant == merchant
    assert customer.document == "24843803480"
    assert customer.address_zip == "80020310"
    assert customer.address_state == "PR"


def test_alphanumeric_cnpj_customer(owner_client):
    data = valid(document="12.ABC.345/01DE-35")
    assert owner_client.post(reverse("billing:customer_create"), data).status_code == 302
    assert Customer.objects.get().document == "12ABC34501DE35"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("document", "248.438.034-70", "CPF inválido"),
        ("document", "12ABC34501DE45", "CNPJ inválido"),
        ("document", "123", "Informe um CPF (11 dígitos) ou CNPJ (14 caracteres) válido."),
        ("email", "ana@", "Informe um endereço de email válido."),
        ("address_zip", "123", "CEP deve ter 8 dígitos."),
        ("name", "", "Este campo é obrigatório."),
    ],
)
def test_bad_input_is_refused_in_portuguese(owner_client, field, value, message):
    response = owner_client.post(reverse("billing:customer_create"), valid(**{field: value}))
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert not Customer.objects.exists()


def test_duplicate_document_within_merchant_is_refused(owner_client, merchant, other_merchant):
    CustomerFactory(merchant=other_merchant, document="24843803480")
    assert owner_client.post(reverse("billing:customer_create"), valid()).status_code == 302
    response = owner_client.post(reverse("billing:customer_create"), valid())
    assert "Já existe um cliente com este CPF/CNPJ." in response.context["form"].errors["document"]


def test_customer_list_is_scoped(owner_client, merchant, other_merchant):
    CustomerFactory(merchant=merchant, name="Minha Cliente")
    CustomerFactory(merchant=other_merchant, name="Cliente Alheia")
    body = owner_client.get(reverse("billing:customer_list")).content.decode()
    assert "Minha Cliente" in body
    assert "Cliente Alheia" not in body


def test_the_same_page_sent_twice_registers_once(owner_client):
    page = owner_client.get(reverse("billing:customer_create")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {**VALID, "form_token": token}
    assert owner_client.post(reverse("billing:customer_create"), data).status_code == 302
    again = owner_client.post(reverse("billing:customer_create"), data, follow=True)
    assert again.redirect_chain == [(reverse("billing:customer_list"), 302)]
    assert "o cliente Ana Souza já está cadastrado" in again.content.decode()
    assert Customer.objects.count() == 1
