"""Clientes › Editar (issue 13 item 1): the page, the service customer_update and its signal,
issued boletos keeping their snapshot, concurrent edits."""

import threading
import time
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse

from billing.forms import CustomerEditForm
from billing.models import Boleto, Customer
from billing.services import customer_update
from billing.signals import customer_updated
from schedules.generator import installments_issue_due
from schedules.models import ScheduleEvent
from tests.factories import CustomerFactory, ScheduleFactory

UNCHANGED = {
    "name": "Joana Bezerra",
    "email": "joana@empresa.com.br",
    "phone": "",
    "address_street": "Rua das Flores, 120",
    "address_district": "Centro",
    "address_city": "Curitiba",
    "address_state": "PR",
    "address_zip": "80020310",
}


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, **UNCHANGED)


def edit_url(customer):
    return reverse("billing:customer_edit", args=[customer.pk])


def page_data(client, customer, **changes):
    """What the edit page shows (its hidden fields included), with the merchant's changes."""
    form = client.get(edit_url(customer)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(changes)
    return data


# --- The page -----------------------------------------------------------------------------------


def test_list_links_to_edit(owner_client, customer):
    page = owner_client.get(reverse("billing:customer_list")).content.decode()
    assert f'href="{edit_url(customer)}"' in page
    assert "Editar" in page


def test_edit_page_shows_document_read_only(owner_client, customer):
    response = owner_client.get(edit_url(customer))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Editar cliente" in page
    assert customer.formatted_document in page
    assert "não pode ser alterado" in page
    assert 'name="document"' not in page
    assert 'value="joana@empresa.com.br"' in page
    assert "portal/emailcheck.js" in page


def test_edit_saves_only_what_changed_and_records_it(owner_client, owner, customer):
    schedule = ScheduleFactory(merchant=customer.merchant, customer=customer)
    data = page_data(owner_client, customer, email="joana.b@outra.com.br", phone="(41) 99999-0000")
    response = owner_client.post(edit_url(customer), data)
    assert response.status_code == 302
    assert response.url == reverse("billing:customer_list")
    customer.refresh_from_db()
    assert customer.email == "joana.b@outra.com.br"
    assert customer.phone == "(41) 99999-0000"
    assert customer.name == "Joana Bezerra"
    (event,) = ScheduleEvent.objects.filter(schedule=schedule)
    assert event.kind == ScheduleEvent.Kind.CUSTOMER_UPDATED
    assert event.actor == owner
    assert event.data == {
        "changes": {
            "email": ["joana@empresa.com.br", "joana.b@outra.com.br"],
            "phone": ["", "(41) 99999-0000"],
        },
        "actor_email": owner.email,
    }
    followed = owner_client.get(response.url).content.decode()
    assert "Dados do cliente Joana Bezerra atualizados." in followed


def test_document_posted_is_ignored(owner_client, customer):
    document = customer.document
    data = page_data(owner_client, customer, document="11222333000181", name="Joana B.")
    assert owner_client.post(edit_url(customer), data).status_code == 302
    customer.refresh_from_db()
    assert customer.document == document
    assert customer.name == "Joana B."


def test_nothing_changed_records_nothing(owner_client, customer):
    ScheduleFactory(merchant=customer.merchant, customer=customer)
    response = owner_client.post(edit_url(customer), page_data(owner_client, customer))
    assert response.status_code == 302
    assert not ScheduleEvent.objects.exists()
    assert "Nenhuma alteração" in owner_client.get(response.url).content.decode()


def test_other_merchants_customer_is_404(owner_client, other_merchant):
    foreign = CustomerFactory(merchant=other_merchant, email="x@empresa.com.br")
    assert owner_client.get(edit_url(foreign)).status_code == 404
    response = owner_client.post(edit_url(foreign), {**UNCHANGED, "name": "Invasor"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name != "Invasor"


@pytest.mark.parametrize("path", ["/clientes/99999999999999999999/editar/", "/clientes/0/editar/"])
def test_unknown_ids_are_404(owner_client, path):
    assert owner_client.get(path).status_code == 404


def test_login_required(client, customer):
    response = client.get(edit_url(customer))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_deactivated_schedules_are_pointed_to_not_reactivated(owner_client, customer):
    schedule = ScheduleFactory(merchant=customer.merchant, customer=customer)
    page = owner_client.get(edit_url(customer)).content.decode()
    assert "agendamentos desativados" not in page
    schedule.status = "deactivated"
    schedule.deactivation_cause = "invalid_address"
    schedule.deactivated_at = schedule.created_at
    schedule.save()
    page = owner_client.get(edit_url(customer)).content.decode()
    assert "Este cliente tem agendamentos desativados: reative-os em" in page
    assert f'href="{reverse("schedules:list")}?status=deactivated"' in page

    data = page_data(owner_client, customer, email="joana.b@outra.com.br")
    assert owner_client.post(edit_url(customer), data).status_code == 302
    schedule.refresh_from_db()
    assert schedule.status == "deactivated"  # reactivation stays the explicit flow


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "joana@", "Informe um endereço de email válido."),
        ("email", "joana@maquina.local", "Informe um endereço de email válido."),
        ("email", "a" * 250 + "@x.com", "Use no máximo 254 caracteres"),
        ("name", "", "Este campo é obrigatório."),
        ("name", "x" * 151, "Use no máximo 150 caracteres"),
        ("name", "Joana\x00Bezerra", None),
        ("address_state", "XX", "Informe a sigla de um estado brasileiro (UF)"),
        ("address_state", "São Paulo", None),
        ("address_zip", "123", "CEP deve ter 8 dígitos."),
        ("address_zip", "8002031O", "CEP deve ter 8 dígitos."),
        ("address_zip", "\U0001f600" * 9, "CEP deve ter 8 dígitos."),
        ("phone", "9" * 21, "Use no máximo 20 caracteres"),
        ("address_city", "<script>alert(1)</script>" * 10, "Use no máximo 100 caracteres"),
    ],
)
def test_bad_input_is_a_message_not_a_500(owner_client, customer, field, value, message):
    data = page_data(owner_client, customer, **{field: value})
    response = owner_client.post(edit_url(customer), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert errors
    if message:
        assert message in " ".join(errors)
    customer.refresh_from_db()
    assert {name: getattr(customer, name) for name in UNCHANGED} == UNCHANGED
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize("seen", ["", "garbage", "x" * 10_000, "\x00", "e30:1abc:def"])
def test_tampered_seen_values_fall_back_to_the_stored_ones(owner_client, customer, seen):
    data = page_data(owner_client, customer, seen=seen, name="Joana B.")
    assert owner_client.post(edit_url(customer), data).status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Joana B."


def test_uf_is_checked_on_registration_too(owner_client):
    from tests.factories import make_cpf

    response = owner_client.post(
        reverse("billing:customer_create"),
        {**UNCHANGED, "document": make_cpf(123456789), "address_state": "ZZ"},
    )
    assert response.status_code == 200
    assert "address_state" in response.context["form"].errors
    assert not Customer.objects.exists()


# --- Typo question ------------------------------------------------------------------------------


def test_typo_is_questioned_once_then_kept(owner_client, customer):
    data = page_data(owner_client, customer, email="joana@gmial.com")
    response = owner_client.post(edit_url(customer), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Você quis dizer joana@gmail.com?" in page
    form = response.context["form"]
    assert form["email_confirmed"].value() == "joana@gmial.com"
    customer.refresh_from_db()
    assert customer.email == "joana@empresa.com.br"

    # Sent again as the page came back: the merchant means it.
    data = {name: form[name].value() or "" for name in form.fields}
    assert owner_client.post(edit_url(customer), data).status_code == 302
    customer.refresh_from_db()
    assert customer.email == "joana@gmial.com"


def test_domain_warning_after_save_never_blocks(owner_client, customer, monkeypatch):
    from billing import views

    monkeypatch.setattr(views, "email_domain_warning", lambda email: "O domínio x não recebe")
    data = page_data(owner_client, customer, email="joana@semcorreio.com.br")
    response = owner_client.post(edit_url(customer), data, follow=True)
    customer.refresh_from_db()
    assert customer.email == "joana@semcorreio.com.br"
    assert "O domínio x não recebe" in response.content.decode()


# --- The service --------------------------------------------------------------------------------


def test_customer_update_returns_changes_and_signals_inside_the_transaction(customer, owner):
    seen = []

    def receiver(sender, *, customer, actor, changes, **kwargs):
        seen.append((customer.pk, actor, changes, connection.in_atomic_block))

    customer_updated.connect(receiver, dispatch_uid="test-receiver")
    try:
        changes = customer_update(
            customer=customer, actor=owner, name="Joana B.", address_city="Curitiba"
        )
    finally:
        customer_updated.disconnect(dispatch_uid="test-receiver")
    assert changes == {"name": ["Joana Bezerra", "Joana B."]}
    assert seen == [(customer.pk, owner, changes, True)]
    assert customer.name == "Joana B."
    assert Customer.objects.get(pk=customer.pk).name == "Joana B."


def test_customer_update_no_change_sends_nothing(customer, owner):
    calls = []
    customer_updated.connect(lambda **kw: calls.append(kw), dispatch_uid="test-none", weak=False)
    try:
        assert customer_update(customer=customer, actor=owner, **UNCHANGED) == {}
    finally:
        customer_updated.disconnect(dispatch_uid="test-none")
    assert calls == []


def test_customer_update_validates_and_leaves_nothing_half_done(customer, owner):
    ScheduleFactory(merchant=customer.merchant, customer=customer)
    with pytest.raises(ValidationError) as caught:
        customer_update(customer=customer, actor=owner, name="Joana B.", email="não é email")
    assert "email" in caught.value.message_dict
    customer.refresh_from_db()
    assert customer.name == "Joana Bezerra"
    assert not ScheduleEvent.objects.exists()


def test_customer_update_refuses_the_document(customer, owner):
    with pytest.raises(TypeError):
        customer_update(customer=customer, actor=owner, document="11222333000181")


def test_receiver_failure_rolls_the_edit_back(customer, owner):
    def boom(**kwargs):
        raise RuntimeError("history unavailable")

    customer_updated.connect(boom, dispatch_uid="test-boom", weak=False)
    try:
        with pytest.raises(RuntimeError):
            customer_update(customer=customer, actor=owner, name="Joana B.")
    finally:
        customer_updated.disconnect(dispatch_uid="test-boom")
    assert Customer.objects.get(pk=customer.pk).name == "Joana Bezerra"


# --- Issued boletos keep their snapshot -----------------------------------------------------------


def test_issued_boletos_keep_their_payer_and_the_next_uses_the_new_data(customer, owner):
    first_due = date(2031, 3, 20)
    schedule = ScheduleFactory(
        merchant=customer.merchant, customer=customer, first_due_date=first_due
    )
    installments_issue_due(today=schedule.next_issue_on, schedule_id=schedule.pk)
    first = Boleto.objects.get(schedule=schedule, sequence=1)
    assert first.status == Boleto.Status.ISSUED
    assert first.payer["email"] == "joana@empresa.com.br"
    snapshot = dict(first.payer)

    customer_update(
        customer=customer,
        actor=owner,
        email="joana.b@outra.com.br",
        address_street="Av. Brasil, 1",
        name="Joana B. Souza",
    )

    first.refresh_from_db()
    assert first.payer == snapshot
    schedule.refresh_from_db()
    installments_issue_due(today=schedule.next_issue_on, schedule_id=schedule.pk)
    second = Boleto.objects.get(schedule=schedule, sequence=2)
    assert second.payer["email"] == "joana.b@outra.com.br"
    assert second.payer["address_street"] == "Av. Brasil, 1"
    assert second.payer["name"] == "Joana B. Souza"
    assert second.payer["document"] == snapshot["document"]


# --- Concurrency --------------------------------------------------------------------------------


def test_two_pages_editing_different_fields_keep_both(owner_client, customer):
    """Both opened the page before either saved: each saves only what it changed."""
    first = page_data(owner_client, customer, phone="(41) 3333-0000")
    second = page_data(owner_client, customer, email="joana.b@outra.com.br")
    assert owner_client.post(edit_url(customer), first).status_code == 302
    assert owner_client.post(edit_url(customer), second).status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "(41) 3333-0000"
    assert customer.email == "joana.b@outra.com.br"


def test_edit_form_changed_fields_compares_with_what_the_page_showed(customer):
    shown = CustomerEditForm(instance=customer)
    data = {name: shown[name].value() or "" for name in shown.fields}
    Customer.objects.filter(pk=customer.pk).update(phone="(41) 3333-0000")  # saved meanwhile
    customer.refresh_from_db()
    form = CustomerEditForm({**data, "name": "Joana B."}, instance=customer)
    assert form.is_valid(), form.errors
    assert form.changed_fields() == {"name": "Joana B."}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_wait_for_each_other_and_are_recorded_in_order(merchant, owner):
    customer = CustomerFactory(merchant=merchant, **UNCHANGED)
    schedule = ScheduleFactory(merchant=merchant, customer=customer)
    first_locked = threading.Event()
    errors = []

    def first_edit():
        try:
            with transaction.atomic():
                customer_update(customer=customer, actor=owner, email="b@empresa.com.br")
                first_locked.set()
                time.sleep(0.5)  # the second edit must wait for this commit
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_locked.set()
        finally:
            connection.close()

    def second_edit():
        try:
            first_locked.wait(5)
            customer_update(
                customer=Customer.objects.get(pk=customer.pk),
                actor=owner,
                email="c@empresa.com.br",
                phone="(41) 3333-0000",
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_edit), threading.Thread(target=second_edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    customer.refresh_from_db()
    assert customer.email == "c@empresa.com.br"
    assert customer.phone == "(41) 3333-0000"
    events = list(ScheduleEvent.objects.filter(schedule=schedule).order_by("created_at", "id"))
    assert [e.data["changes"] for e in events] == [
        {"email": ["joana@empresa.com.br", "b@empresa.com.br"]},
        # The second saw the first's commit: its "before" is the first's "after".
        {"email": ["b@empresa.com.br", "c@empresa.com.br"], "phone": ["", "(41) 3333-0000"]},
    ]


def test_stored_typo_does_not_block_editing_another_field(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, email="joana@gmial.com")
    page = owner_client.get(edit_url(customer)).content.decode()
    assert 'data-email-check="/email/sugestao"' in page  # the script still hints
    data = page_data(owner_client, customer, phone="(41) 3333-0000")
    assert owner_client.post(edit_url(customer), data).status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "(41) 3333-0000"
