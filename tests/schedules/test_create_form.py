"""Novo agendamento: new or registered customer, and the next six due dates before saving
(a plain submit without JavaScript, and an htmx fragment)."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Customer
from schedules import dates, services
from schedules.forms import CUSTOMER_REQUIRED
from schedules.models import Schedule
from tests.factories import CustomerFactory, make_cpf
from tests.schedules.deactivation import today

pytestmark = pytest.mark.django_db

URL = reverse("schedules:create")


def schedule_data(**overrides):
    data = {
        "amount": "1.234,56",
        "frequency_months": "1",
        "first_due_date": (today() + timedelta(days=40)).isoformat(),
        "lead_days": "10",
        "description": "Mensalidade",
        "form_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def new_customer_data(**overrides):
    data = {
        "customer_mode": "new",
        "cliente-name": "Joana Prado",
        "cliente-document": "529.982.247-25",
        "cliente-email": "joana@example.com",
        "cliente-phone": "",
        "cliente-address_street": "Rua XV de Novembro, 50",
        "cliente-address_district": "Centro",
        "cliente-address_city": "Curitiba",
        "cliente-address_state": "pr",
        "cliente-address_zip": "80020-310",
    }
    data.update(overrides)
    return data


def next_weekday(start, weekday):
    day = start
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


class TestCustomerChoice:
    def test_offers_registered_or_new_customer_scoped_to_the_merchant(
        self, owner_client, merchant, other_merchant
    ):
        mine = CustomerFactory(merchant=merchant, name="Cliente Meu")
        CustomerFactory(merchant=other_merchant, name="Cliente Alheio")
        response = owner_client.get(URL)
        body = response.content.decode()
        assert "Cliente já cadastrado" in body and "Novo cliente" in body
        assert re.search(r'value="existing"[^>]*checked', body)
        assert f'value="{mine.pk}"' in body and "Cliente Meu" in body
        assert "Cliente Alheio" not in body
        assert 'name="cliente-document"' in body

    def test_without_customers_new_customer_is_preselected(self, owner_client):
        body = owner_client.get(URL).content.decode()
        assert re.search(r'value="new"[^>]*checked', body)
        assert "Nenhum cliente cadastrado ainda" in body

    def test_prefill_from_the_customer_list_only_for_own_customers(
        self, owner_client, merchant, other_merchant
    ):
        mine = CustomerFactory(merchant=merchant)
        theirs = CustomerFactory(merchant=other_merchant, name="Cliente Alheio")
        body = owner_client.get(f"{URL}?cliente={mine.pk}").content.decode()
        assert re.search(rf'value="{mine.pk}"[^>]*selected', body)
        body = owner_client.get(f"{URL}?cliente={theirs.pk}").content.decode()
        assert "Cliente Alheio" not in body
        selected = re.findall(
            r"<option[^>]*selected", body.split('name="customer"')[1].split("</select>")[0]
        )
        assert selected == ['<option value="" selected']  # nobody preselected
        assert owner_client.get(f"{URL}?cliente=abc").status_code == 200

    def test_registered_customer_must_be_chosen(self, owner_client, merchant):
        CustomerFactory(merchant=merchant)
        response = owner_client.post(URL, schedule_data(customer_mode="existing"))
        assert response.status_code == 200
        assert response.context["form"].errors["customer"] == [str(CUSTOMER_REQUIRED)]
        assert not Schedule.objects.exists()

    def test_another_merchants_customer_id_is_refused(self, owner_client, other_merchant):
        theirs = CustomerFactory(merchant=other_merchant)
        response = owner_client.post(
            URL, schedule_data(customer_mode="existing", customer=theirs.pk)
        )
        assert "Cliente não encontrado." in response.context["form"].errors["customer"]
        assert not Schedule.objects.exists()


class TestNewCustomer:
    def test_registers_the_customer_and_creates_the_schedule(self, owner_client, merchant, owner):
        response = owner_client.post(URL, {**schedule_data(), **new_customer_data()})
        assert response.status_code == 302
        schedule = Schedule.objects.get()
        customer = schedule.customer
        assert customer.merchant == merchant
        assert (customer.name, customer.document, customer.address_state) == (
            "Joana Prado",
            "52998224725",
            "PR",
        )
        assert customer.address_zip == "80020310"
        assert schedule.amount == Decimal("1234.56")
        assert schedule.events.get().actor == owner
        assert response.url == schedule.get_absolute_url()

    def test_bad_customer_input_is_refused_next_to_the_fields_and_kept(self, owner_client):
        response = owner_client.post(
            URL,
            {
                **schedule_data(amount="0,00"),
                **new_customer_data(
                    **{
                        "cliente-document": "123.456.789-00",
                        "cliente-email": "joana@",
                        "cliente-name": "",
                    }
                ),
            },
        )
        assert response.status_code == 200
        errors = response.context["customer_form"].errors
        assert set(errors) >= {"document", "email", "name"}
        assert "Informe um endereço de email válido." in errors["email"]
        assert "Este campo é obrigatório." in errors["name"]
        # The schedule's own errors are shown at the same time.
        assert "amount" in response.context["form"].errors
        body = response.content.decode()
        assert 'value="123.456.789-00"' in body and 'value="joana@"' in body
        assert 'id="id_cliente-document-error"' in body  # tied to its field
        assert not Customer.objects.exists() and not Schedule.objects.exists()

    def test_an_already_registered_document_is_refused(self, owner_client, merchant):
        existing = CustomerFactory(merchant=merchant)
        response = owner_client.post(
            URL, {**schedule_data(), **new_customer_data(**{"cliente-document": existing.document})}
        )
        assert response.status_code == 200
        (error,) = response.context["customer_form"].errors["document"]
        assert "Já existe um cliente com este CPF/CNPJ." in error
        assert Customer.objects.count() == 1 and not Schedule.objects.exists()

    def test_registered_mode_ignores_the_new_customer_fields(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant)
        data = {
            **new_customer_data(**{"cliente-document": "garbage"}),
            **schedule_data(),
            "customer_mode": "existing",
            "customer": customer.pk,
        }
        assert owner_client.post(URL, data).status_code == 302
        assert Schedule.objects.get().customer == customer
        assert Customer.objects.count() == 1

    def test_customer_and_schedule_are_saved_together_or_not_at_all(self, merchant):
        with pytest.raises(ValidationError):
            services.schedule_create_with_new_customer(
                merchant=merchant,
                customer_fields={
                    "name": "Joana",
                    "document": make_cpf(123456789),
                    "email": "joana@example.com",
                    "address_street": "Rua A, 1",
                    "address_city": "Curitiba",
                    "address_state": "PR",
                    "address_zip": "80020310",
                },
                amount=Decimal("10.00"),
                frequency_months=1,
                first_due_date=today() - timedelta(days=1),  # refused by schedule_create
                lead_days=10,
            )
        assert not Customer.objects.exists() and not Schedule.objects.exists()


class TestPreview:
    def test_preview_without_javascript_shows_six_dates_and_saves_nothing(
        self, owner_client, merchant
    ):
        customer = CustomerFactory(merchant=merchant)
        first = today() + timedelta(days=40)
        response = owner_client.post(
            URL,
            schedule_data(action="preview", customer=customer.pk, amount="", frequency_months="3"),
        )
        assert response.status_code == 200
        preview = response.context["preview"]
        expected = dates.due_dates(first, 3, 6)
        assert [row["due_date"] for row in preview] == expected
        assert [row["issue_on"] for row in preview] == [d - timedelta(days=10) for d in expected]
        body = response.content.decode()
        for due in expected:
            assert due.strftime("%d/%m/%Y") in body
        # Only the date fields are checked: no error yet for the amount still to be typed.
        assert response.context["form"].errors == {}
        assert response.context["form"]["description"].value() == "Mensalidade"
        assert not Schedule.objects.exists()
        # Then the merchant completes the form and saves.
        response = owner_client.post(
            URL, schedule_data(action="create", customer=customer.pk, frequency_months="3")
        )
        assert response.status_code == 302
        schedule = Schedule.objects.get()
        assert dates.due_dates(schedule.first_due_date, schedule.frequency_months, 6) == expected

    def test_preview_says_when_a_date_moved_and_when_it_is_clamped(self, owner_client):
        saturday = next_weekday(today() + timedelta(days=1), 5)
        response = owner_client.post(
            URL, schedule_data(action="preview", first_due_date=saturday.isoformat())
        )
        first = response.context["preview"][0]
        assert first["nominal"] == saturday and first["moved"]
        assert first["due_date"] == dates.next_business_day(saturday)
        assert f"{saturday:%d/%m} não é dia útil" in response.content.decode()
        # A 31st: the next month has no 31st, the date is clamped to its last day.
        day = today() + timedelta(days=1)
        while day.day != 31 or day.month in (1, 12):  # the next month has 28-30 days
            day += timedelta(days=1)
        response = owner_client.post(
            URL, schedule_data(action="preview", first_due_date=day.isoformat())
        )
        second = response.context["preview"][1]
        assert second["nominal"].month == day.month + 1 and second["nominal"].day == 30

    def test_installment_already_in_its_issue_window_is_issued_at_once(self, owner_client):
        soon = dates.next_business_day(today() + timedelta(days=3))
        response = owner_client.post(
            URL, schedule_data(action="preview", first_due_date=soon.isoformat())
        )
        assert response.context["preview"][0]["issued_at_once"]
        assert "assim que o agendamento for criado" in response.content.decode()

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("2026-02-30", "Informe uma data válida."),
            ("", "Este campo é obrigatório."),
            ("2020-01-10", "não pode ser anterior a hoje"),
        ],
    )
    def test_bad_date_shows_its_error_and_no_preview(self, owner_client, value, message):
        response = owner_client.post(URL, schedule_data(action="preview", first_due_date=value))
        assert response.status_code == 200
        assert response.context["preview"] == []
        assert message in " ".join(response.context["form"].errors["first_due_date"])
        assert list(response.context["form"].errors) == ["first_due_date"]
        assert not Schedule.objects.exists()

    def test_htmx_preview_answers_the_fragment_only(self, owner_client):
        response = owner_client.post(
            URL, schedule_data(action="preview", frequency_months="12"), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" not in body and body.lstrip().startswith('<section id="date-preview"')
        assert "HX-Request" in response["Vary"]
        first = today() + timedelta(days=40)
        assert dates.due_date(first, 12, 6).strftime("%d/%m/%Y") in body
        # The full page carries the same fragment, wired to refresh on date changes.
        page = owner_client.get(URL)
        assert "HX-Request" in page["Vary"]
        assert 'hx-post="' + URL + '"' in page.content.decode()
        assert not Schedule.objects.exists()


class TestManyCustomers:
    """Beyond CUSTOMER_SELECT_LIMIT customers the form asks for the CPF/CNPJ instead of a list."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch):
        from schedules import forms

        monkeypatch.setattr(forms, "CUSTOMER_SELECT_LIMIT", 2)

    def test_typed_document_picks_the_customer(self, owner_client, merchant, other_merchant):
        customers = [CustomerFactory(merchant=merchant) for _ in range(3)]
        page = owner_client.get(URL).content.decode()
        assert "CPF ou CNPJ do cliente cadastrado" in page
        assert '<select name="customer"' not in page

        chosen = customers[1]
        response = owner_client.post(
            URL, {**schedule_data(), "customer": chosen.formatted_document, "customer_mode": ""}
        )
        assert response.status_code == 302
        assert Schedule.objects.get(merchant=merchant).customer == chosen

    def test_another_merchants_document_is_not_found(self, owner_client, merchant, other_merchant):
        for _ in range(3):
            CustomerFactory(merchant=merchant)
        stranger = CustomerFactory(merchant=other_merchant)
        response = owner_client.post(
            URL, {**schedule_data(), "customer": stranger.document, "customer_mode": ""}
        )
        assert response.status_code == 200
        assert "Nenhum cliente com este CPF ou CNPJ" in response.content.decode()
        assert not Schedule.objects.filter(merchant=merchant).exists()

    def test_link_from_the_customer_list_prefills_the_document(self, owner_client, merchant):
        customers = [CustomerFactory(merchant=merchant) for _ in range(3)]
        page = owner_client.get(f"{URL}?cliente={customers[2].pk}").content.decode()
        assert f'value="{customers[2].formatted_document}"' in page


def page_token(client, url=URL) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', client.get(url).content.decode())
    assert found, "the form carries no one-time token"
    return found.group(1)


class TestSentTwice:
    """The one-time token (issue 10 item 14); concurrent submissions: test_create_once.py."""

    def test_every_page_gets_its_own_token(self, owner_client):
        assert page_token(owner_client) != page_token(owner_client)

    def test_the_same_page_sent_again_shows_the_schedule_it_created(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant)
        data = schedule_data(customer=customer.pk, form_token=page_token(owner_client))
        first = owner_client.post(URL, data)
        again = owner_client.post(URL, data, follow=True)
        schedule = Schedule.objects.get()
        assert first.url == schedule.get_absolute_url()
        assert again.redirect_chain == [(schedule.get_absolute_url(), 302)]
        assert (
            f"Este formulário já foi enviado: o agendamento nº {schedule.number} já foi criado."
            in again.content.decode()
        )

    def test_with_a_new_customer_sent_again(self, owner_client):
        data = {**schedule_data(), **new_customer_data(), "form_token": page_token(owner_client)}
        assert owner_client.post(URL, data).status_code == 302
        again = owner_client.post(URL, data)
        schedule = Schedule.objects.get()
        assert again.url == schedule.get_absolute_url()
        assert Customer.objects.get() == schedule.customer

    def test_a_page_without_token_is_asked_again_with_a_new_one(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant)
        data = schedule_data(customer=customer.pk)
        del data["form_token"]
        response = owner_client.post(URL, data)
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "Este formulário expirou ou veio incompleto. Confira os dados e envie de novo."
        ]
        fresh = re.search(r'name="form_token" value="([^"]+)"', response.content.decode())
        assert fresh and uuid.UUID(fresh.group(1))
        assert not Schedule.objects.exists()
        assert owner_client.post(URL, {**data, "form_token": fresh.group(1)}).status_code == 302

    def test_tokens_are_per_merchant(self, owner_client, merchant, other_merchant):
        token = uuid.uuid4()
        theirs = services.schedule_create(
            merchant=other_merchant,
            customer=CustomerFactory(merchant=other_merchant),
            amount=Decimal("10.00"),
            frequency_months=1,
            first_due_date=today() + timedelta(days=40),
            lead_days=10,
            form_token=token,
        )
        customer = CustomerFactory(merchant=merchant)
        response = owner_client.post(URL, schedule_data(customer=customer.pk, form_token=token))
        mine = Schedule.objects.get(merchant=merchant)
        assert mine != theirs and response.url == mine.get_absolute_url()
