import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from schedules.models import Schedule, ScheduleEvent, ScheduleStatus
from tests.factories import CustomerFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


def form_data(customer, **overrides):
    data = {
        "customer": customer.pk,
        "amount": "1.234,56",
        "frequency_months": "1",
        "first_due_date": (timezone.localdate() + timedelta(days=40)).isoformat(),
        "lead_days": "10",
        "description": "Mensalidade",
        "form_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


class TestCreate:
    def test_creates_schedule_with_number_and_history(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant)
        response = owner_client.post(reverse("schedules:create"), form_data(customer))
        schedule = Schedule.objects.get()
        assert response.status_code == 302
        assert response.url == reverse("schedules:detail", kwargs={"number": schedule.number})
        assert str(schedule.amount) == "1234.56"
        assert schedule.merchant == merchant
        assert schedule.number == 1
        assert list(schedule.events.values_list("kind", flat=True)) == ["created"]

    def test_numbers_are_per_merchant_and_sequential(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant)
        for _ in range(3):
            owner_client.post(reverse("schedules:create"), form_data(customer))
        assert list(Schedule.objects.order_by("id").values_list("number", flat=True)) == [1, 2, 3]

    def test_creating_a_schedule_already_in_its_lead_window_issues_at_once(
        self, owner_client, merchant, django_capture_on_commit_callbacks
    ):
        customer = CustomerFactory(merchant=merchant)
        due = timezone.localdate() + timedelta(days=3)
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(
                reverse("schedules:create"), form_data(customer, first_due_date=due.isoformat())
            )
        schedule = Schedule.objects.get()
        assert schedule.boletos.filter(sequence=1, status="issued").count() == 1

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"amount": "0,00"}, "amount", "O valor mínimo é R$ 0,01."),
            ({"amount": "100.000.000,00"}, "amount", "O valor máximo é R$ 99.999.999,99."),
            ({"amount": "abc"}, "amount", "Informe o valor em reais, por exemplo 1.234,56."),
            ({"frequency_months": "5"}, "frequency_months", "Escolha uma frequência válida."),
            ({"lead_days": "0"}, "lead_days", "Antecedência: de 1 a 60 dias."),
            ({"lead_days": "61"}, "lead_days", "Antecedência: de 1 a 60 dias."),
            ({"first_due_date": "2026-02-30"}, "first_due_date", "Informe uma data válida."),
            ({"first_due_date": "2020-01-10"}, "first_due_date", "não pode ser anterior a hoje"),
            ({"first_due_date": "2099-01-10"}, "first_due_date", "nos próximos 5 anos"),
        ],
    )
    def test_bad_input_is_refused_in_portuguese_and_nothing_is_saved(
        self, owner_client, merchant, overrides, field, message
    ):
        customer = CustomerFactory(merchant=merchant)
        response = owner_client.post(reverse("schedules:create"), form_data(customer, **overrides))
        assert response.status_code == 200
        errors = response.context["form"].errors.get(field, [])
        assert len(errors) == 1 and message in errors[0]  # one message per error
        assert not Schedule.objects.exists()
        # What was typed is kept.
        assert response.context["form"].data["description"] == "Mensalidade"

    def test_another_merchants_customer_is_refused(self, owner_client, other_merchant):
        theirs = CustomerFactory(merchant=other_merchant)
        response = owner_client.post(reverse("schedules:create"), form_data(theirs))
        assert response.status_code == 200
        assert "Cliente não encontrado." in response.context["form"].errors["customer"]
        assert not Schedule.objects.exists()


class TestDetailAndCancel:
    def test_detail_shows_schedule_and_next_dates(self, owner_client, merchant):
        schedule = ScheduleFactory(merchant=merchant)
        response = owner_client.get(schedule.get_absolute_url())
        assert response.status_code == 200
        assert len(response.context["upcoming"]) == 6
        assert schedule.customer.name in response.content.decode()

    def test_other_merchants_schedule_is_404(self, owner_client, other_merchant):
        theirs = ScheduleFactory(merchant=other_merchant, number=4242)
        assert owner_client.get(theirs.get_absolute_url()).status_code == 404
        response = owner_client.post(reverse("schedules:cancel", kwargs={"number": 4242}))
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == ScheduleStatus.ACTIVE

    @pytest.mark.parametrize(
        "path",
        [
            "/agendamentos/99999999999999999999999/",
            "/agendamentos/9223372036854775808/",
            "/agendamentos/abc/",
            "/agendamentos/-1/",
            "/agendamentos/123/cancelar/",
        ],
    )
    def test_malformed_or_unknown_ids_are_404_not_500(self, owner_client, path):
        assert owner_client.get(path).status_code in {404, 405}

    def test_cancel_is_final_and_recorded(self, owner_client, merchant, owner):
        schedule = ScheduleFactory(merchant=merchant)
        url = reverse("schedules:cancel", kwargs={"number": schedule.number})
        assert owner_client.post(url).status_code == 302
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.CANCELLED
        assert schedule.cancelled_at is not None
        event = schedule.events.get(kind=ScheduleEvent.Kind.CANCELLED)
        assert event.actor == owner
        # A second cancel changes nothing and says why.
        response = owner_client.post(url, follow=True)
        assert "já foi cancelado" in response.content.decode()
        assert schedule.events.filter(kind=ScheduleEvent.Kind.CANCELLED).count() == 1


class TestList:
    def test_lists_own_schedules_by_status_with_counts(
        self, owner_client, merchant, other_merchant
    ):
        ScheduleFactory(merchant=merchant)
        ScheduleFactory(
            merchant=merchant,
            status=ScheduleStatus.DEACTIVATED,
            deactivation_cause="invalid_address",
            deactivated_at=timezone.now(),
        )
        ScheduleFactory(merchant=other_merchant)
        response = owner_client.get(reverse("schedules:list") + "?status=deactivated")
        assert response.status_code == 200
        assert response.context["counts"] == {
            "active": 1,
            "deactivated": 1,
            "cancelled": 0,
            "finished": 0,
        }
        assert len(response.context["page"].object_list) == 1
        assert "Endereço de e-mail inexistente ou inválido" in response.content.decode()

    def test_search_by_number_is_scoped(self, owner_client, merchant, other_merchant):
        ScheduleFactory(merchant=other_merchant, number=777)
        mine = ScheduleFactory(merchant=merchant, number=778)
        response = owner_client.get(reverse("schedules:list") + "?q=777")
        assert list(response.context["page"].object_list) == []
        assert "Nenhum agendamento ativo com o número 777." in response.content.decode()
        # A number of the tab jumps to it (tests/schedules/test_list_views.py covers the rest).
        response = owner_client.get(reverse("schedules:list") + "?q=%23778")
        assert response.status_code == 302
        assert response.url == mine.get_absolute_url()

    def test_garbage_query_parameters_do_not_break_the_page(self, owner_client):
        response = owner_client.get(reverse("schedules:list") + "?status=xx&page=zz&q=" + "9" * 40)
        assert response.status_code == 200
