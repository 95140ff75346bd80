"""Editar agendamento (issue 13 item 2): a reajuste or a new due day applies from the next
installment not issued yet, issued boletos never change, and an optional end (after N
installments or on a last due date) finishes the schedule by itself as Encerrado."""

import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import Boleto
from schedules import dates, selectors, services
from schedules.generator import installments_issue_due
from schedules.models import Schedule, ScheduleEvent, ScheduleStatus
from schedules.timeline import schedule_timeline
from tests.factories import CustomerFactory, ScheduleFactory
from tests.schedules.deactivation import issue_and_send

pytestmark = pytest.mark.django_db

NBSP = "\xa0"


def issue_through(schedule: Schedule, last: int) -> None:
    """Run the generator on the issue day of each installment up to ``last``, as the daily beat
    job would: every installment is issued (none is past due when first seen)."""
    for sequence in range(1, last + 1):
        schedule.refresh_from_db()
        day = schedule.due_date_of(sequence) - timedelta(days=schedule.lead_days)
        installments_issue_due(today=day, schedule_id=schedule.pk)
    schedule.refresh_from_db()
    assert schedule.next_sequence == last + 1


def issue_day(schedule: Schedule, sequence: int) -> date:
    schedule.refresh_from_db()
    return schedule.due_date_of(sequence) - timedelta(days=schedule.lead_days)


def boletos(schedule: Schedule) -> list[tuple[int, date, Decimal, str]]:
    return list(
        Boleto.objects.filter(schedule=schedule)
        .order_by("sequence")
        .values_list("sequence", "due_date", "amount", "status")
    )


def monthly(merchant, *, first_due: date, lead_days: int = 10, **extra) -> Schedule:
    return ScheduleFactory(
        merchant=merchant, first_due_date=first_due, lead_days=lead_days, **extra
    )


# --- Service: reajuste ---------------------------------------------------------------------------


class TestReajuste:
    def test_new_amount_from_the_next_unissued_installment_issued_ones_keep_theirs(
        self, merchant, owner
    ):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        issue_through(schedule, 6)
        before = boletos(schedule)
        today = issue_day(schedule, 6)

        services.schedule_update(
            schedule=schedule, actor=owner, amount=Decimal("180.00"), today=today
        )

        schedule.refresh_from_db()
        assert schedule.amount == Decimal("180.00")
        assert boletos(schedule) == before  # issued boletos keep amount and due date
        assert {b[2] for b in before} == {Decimal("150.00")}
        event = schedule.events.get(kind=ScheduleEvent.Kind.UPDATED)
        assert event.actor == owner
        assert event.data["changes"] == {"amount": ["150.00", "180.00"]}
        assert event.data["effective_sequence"] == 7
        assert event.data["effective_due_date"] == schedule.due_date_of(7).isoformat()

        installments_issue_due(today=issue_day(schedule, 7), schedule_id=schedule.pk)
        seventh = Boleto.objects.get(schedule=schedule, sequence=7)
        assert seventh.amount == Decimal("180.00")
        assert seventh.status == Boleto.Status.ISSUED

    def test_preview_names_the_effective_installment(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        issue_through(schedule, 6)
        plan = selectors.schedule_edit_plan(schedule=schedule, today=issue_day(schedule, 6))
        assert plan.sequence == 7
        assert plan.due_date == schedule.due_date_of(7)
        assert [row["sequence"] for row in plan.next_dates] == [7, 8, 9]

    def test_timeline_says_it_in_portuguese(self, merchant, owner):
        schedule = monthly(merchant, first_due=date(2027, 1, 5), amount=Decimal("100.00"))
        issue_through(schedule, 6)
        services.schedule_update(
            schedule=schedule,
            actor=owner,
            amount=Decimal("120.00"),
            lead_days=15,
            description="Mensalidade 2027",
            today=issue_day(schedule, 6),
        )
        entry = next(e for e in schedule_timeline(schedule=schedule) if e.kind == "updated")
        assert entry.title == "Agendamento alterado"
        assert f"Valor: R${NBSP}100,00 → R${NBSP}120,00" in entry.detail
        assert "Antecedência: 10 dias → 15 dias" in entry.detail
        assert "Descrição: (vazia) → “Mensalidade 2027”" in entry.detail
        assert entry.detail.endswith("a partir da parcela 7")
        assert entry.actor == owner.get_username()

    def test_a_longer_lead_moves_the_next_issue_date(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        issue_through(schedule, 2)
        services.schedule_update(schedule=schedule, lead_days=30, today=issue_day(schedule, 2))
        schedule.refresh_from_db()
        assert schedule.next_issue_on == schedule.due_date_of(3) - timedelta(days=30)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"amount": Decimal("0")}, "amount"),
            ({"amount": Decimal("100000000.00")}, "amount"),
            ({"amount": "abc"}, "amount"),
            ({"lead_days": 0}, "lead_days"),
            ({"lead_days": 61}, "lead_days"),
            ({"lead_days": "10"}, "lead_days"),
            ({"due_day": 0}, "due_day"),
            ({"due_day": 32}, "due_day"),
            ({"description": "x" * 201}, "description"),
            ({"end_count": 0}, "end_count"),
            ({"end_count": "3"}, "end_count"),
            ({"end_count": 12, "end_date": date(2030, 1, 1)}, "end_count"),
            ({"end_date": "2030-01-01"}, "end_date"),
        ],
    )
    def test_bad_values_are_refused_and_nothing_changes(self, merchant, fields, field):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        issue_through(schedule, 2)
        stored = Schedule.objects.filter(pk=schedule.pk).values().get()
        with pytest.raises(ValidationError) as info:
            services.schedule_update(schedule=schedule, today=issue_day(schedule, 2), **fields)
        assert field in info.value.message_dict
        assert Schedule.objects.filter(pk=schedule.pk).values().get() == stored
        assert not schedule.events.filter(kind=ScheduleEvent.Kind.UPDATED).exists()

    def test_unknown_field_is_a_programming_error(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        with pytest.raises(TypeError):
            services.schedule_update(schedule=schedule, frequency_months=2)

    def test_nothing_changed_is_said_and_not_recorded(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        with pytest.raises(ValidationError) as info:
            services.schedule_update(schedule=schedule, amount=schedule.amount, lead_days=10)
        assert info.value.code == "unchanged"
        assert not schedule.events.exists()

    def test_stale_preview_is_refused(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        issue_through(schedule, 3)
        with pytest.raises(ValidationError) as info:
            services.schedule_update(
                schedule=schedule, amount=Decimal("99.00"), expected_sequence=3
            )
        assert info.value.code == "sequence_changed"
        assert "A parcela 3 foi emitida enquanto você editava" in info.value.messages[0]
        assert "a partir da parcela 4" in info.value.messages[0]


# --- Service: due day ----------------------------------------------------------------------------


class TestDueDay:
    def test_day_31_reanchors_from_the_next_unissued_through_february(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 12, 10))
        issue_through(schedule, 2)  # 10/12/2027 and 10/01/2028
        today = issue_day(schedule, 2)
        plan = selectors.schedule_edit_plan(schedule=schedule, due_day=31, today=today)
        assert [row["sequence"] for row in plan.next_dates] == [3, 4, 5]

        services.schedule_update(schedule=schedule, due_day=31, today=today)

        schedule.refresh_from_db()
        assert schedule.anchor == (3, date(2028, 2, 29), 31)  # leap February: its last day
        assert schedule.due_day == 31
        expected = [
            dates.next_business_day(date(2028, 2, 29)),  # Carnival Tuesday 2028 -> 01/03
            dates.next_business_day(date(2028, 3, 31)),
            dates.next_business_day(date(2028, 4, 30)),  # Sunday, then 1 May -> 02/05
        ]
        assert [schedule.due_date_of(n) for n in (3, 4, 5)] == expected
        assert [row["due_date"] for row in plan.next_dates] == expected
        assert schedule.next_issue_on == expected[0] - timedelta(days=10)
        event = schedule.events.get(kind=ScheduleEvent.Kind.UPDATED)
        assert event.data["changes"] == {"due_day": [10, 31]}

        for sequence in (3, 4, 5):
            installments_issue_due(today=issue_day(schedule, sequence), schedule_id=schedule.pk)
        rows = boletos(schedule)
        assert [row[0] for row in rows] == [1, 2, 3, 4, 5]  # unique and continuous
        assert [row[1] for row in rows[:2]] == [date(2027, 12, 10), date(2028, 1, 10)]
        assert [row[1] for row in rows[2:]] == expected
        assert {row[3] for row in rows} == {Boleto.Status.ISSUED}

    def test_day_31_in_a_common_february_then_back_to_31(self, merchant):
        schedule = monthly(merchant, first_due=date(2026, 12, 15))
        issue_through(schedule, 2)  # 15/12/2026, 15/01/2027
        services.schedule_update(schedule=schedule, due_day=31, today=issue_day(schedule, 2))
        schedule.refresh_from_db()
        assert schedule.anchor == (3, date(2027, 2, 28), 31)
        assert dates.nominal_due_date(*schedule.anchor[1:2], 1, 2, 31) == date(2027, 3, 31)
        assert schedule.due_date_of(4) == dates.next_business_day(date(2027, 3, 31))

    def test_an_earlier_day_already_past_this_month_moves_a_period_ahead(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 28))
        issue_through(schedule, 1)  # 28/01/2027; next is 28/02 (issued 18/02)
        today = date(2027, 2, 10)
        services.schedule_update(schedule=schedule, due_day=5, today=today)
        schedule.refresh_from_db()
        # 05/02 is already past: installment 2 is due on 05/03, never born overdue.
        assert schedule.anchor == (2, date(2027, 3, 5), 5)
        assert schedule.next_sequence == 2

    def test_the_end_date_is_checked_against_the_new_day(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 10), end_date=date(2027, 6, 10))
        issue_through(schedule, 2)
        with pytest.raises(ValidationError) as info:
            services.schedule_update(
                schedule=schedule,
                due_day=20,
                end_date=date(2027, 3, 12),
                today=issue_day(schedule, 2),
            )
        assert "end_date" in info.value.message_dict


# --- End: after N, on a date; the generator finishes ---------------------------------------------


def create(merchant, **extra) -> Schedule:
    today = extra.pop("today")
    return services.schedule_create(
        merchant=merchant,
        customer=CustomerFactory(merchant=merchant),
        amount=Decimal("90.00"),
        frequency_months=1,
        first_due_date=today + timedelta(days=20),
        lead_days=10,
        today=today,
        **extra,
    )


class TestEnd:
    def test_after_n_installments_set_at_creation(self, merchant):
        today = date(2027, 3, 1)
        schedule = create(merchant, today=today, end_count=3)
        assert schedule.end_count == 3
        for sequence in (1, 2):
            installments_issue_due(today=issue_day(schedule, sequence), schedule_id=schedule.pk)
            schedule.refresh_from_db()
            assert schedule.status == ScheduleStatus.ACTIVE
        run = installments_issue_due(today=issue_day(schedule, 3), schedule_id=schedule.pk)
        assert run.issued == 1
        schedule.refresh_from_db()
        # Finished by the very run that issued the last one.
        assert schedule.status == ScheduleStatus.FINISHED
        assert schedule.finished_at is not None
        assert schedule.deactivation_cause == ""
        event = schedule.events.get(kind=ScheduleEvent.Kind.FINISHED)
        assert event.data == {"last_sequence": 3}
        # Never past the end, however long the generator keeps running.
        installments_issue_due(today=today + timedelta(days=800))
        assert [row[0] for row in boletos(schedule)] == [1, 2, 3]
        assert selectors.schedule_upcoming_due_dates(schedule=schedule) == []
        entry = next(e for e in schedule_timeline(schedule=schedule) if e.kind == "finished")
        assert entry.title == "Encerrado" and "última parcela: 3" in entry.detail

    def test_on_a_date_set_at_creation_finishes_after_the_last_due_date(self, merchant):
        today = date(2027, 3, 1)
        probe = create(merchant, today=today)
        last_due = probe.due_date_of(2)
        schedule = create(merchant, today=today, end_date=last_due + timedelta(days=3))
        installments_issue_due(today=issue_day(schedule, 1), schedule_id=schedule.pk)
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        run = installments_issue_due(today=issue_day(schedule, 2), schedule_id=schedule.pk)
        assert run.issued == 1
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.FINISHED
        assert [row[0] for row in boletos(schedule)] == [1, 2]

    def test_end_set_later_and_counts_kept_right(self, merchant, owner):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        issue_through(schedule, 4)
        with pytest.raises(ValidationError) as info:
            services.schedule_update(schedule=schedule, end_count=4, today=issue_day(schedule, 4))
        assert info.value.message_dict["end_count"] == [
            "O número de parcelas não pode ser menor que 5: a parcela 5 é a próxima a ser emitida."
        ]
        with pytest.raises(ValidationError) as info:
            services.schedule_update(
                schedule=schedule,
                end_date=schedule.due_date_of(5) - timedelta(days=1),
                today=issue_day(schedule, 4),
            )
        assert "a próxima a ser emitida" in info.value.message_dict["end_date"][0]

        services.schedule_update(
            schedule=schedule, actor=owner, end_count=6, today=issue_day(schedule, 4)
        )
        event = schedule.events.get(kind=ScheduleEvent.Kind.UPDATED)
        assert event.data["changes"] == {"end_count": [None, 6]}
        entry = next(e for e in schedule_timeline(schedule=schedule) if e.kind == "updated")
        assert "Número de parcelas: sem limite → 6" in entry.detail
        installments_issue_due(today=issue_day(schedule, 5), schedule_id=schedule.pk)
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        installments_issue_due(today=issue_day(schedule, 6) + timedelta(days=90))
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.FINISHED
        assert [row[0] for row in boletos(schedule)] == [1, 2, 3, 4, 5, 6]
        counts = selectors.schedule_counts(merchant=merchant)
        assert counts["finished"] == 1 and counts["active"] == 0

    def test_end_can_be_removed(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5), end_count=12)
        services.schedule_update(schedule=schedule, end_count=None)
        schedule.refresh_from_db()
        assert schedule.end_count is None and not schedule.has_end

    def test_creation_refuses_an_end_before_the_first_due_date(self, merchant):
        today = date(2027, 3, 1)
        with pytest.raises(ValidationError) as info:
            create(merchant, today=today, end_date=today + timedelta(days=5))
        assert "end_date" in info.value.message_dict
        with pytest.raises(ValidationError) as info:
            create(merchant, today=today, end_count=3, end_date=today + timedelta(days=90))
        assert "end_count" in info.value.message_dict
        assert not Schedule.objects.filter(merchant=merchant).exists()

    def test_missed_installments_stop_at_the_end(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5), end_count=3)
        issue_through(schedule, 1)
        Schedule.objects.filter(pk=schedule.pk).update(
            status="deactivated", deactivation_cause="mailbox_full", deactivated_at=timezone.now()
        )
        schedule.refresh_from_db()
        missed = selectors.schedule_missed_installments(schedule=schedule, today=date(2027, 9, 1))
        assert [item.sequence for item in missed] == [2, 3]


class TestReadOnly:
    @pytest.mark.parametrize("status", ["cancelled", "finished"])
    def test_service_refuses(self, merchant, status):
        schedule = monthly(merchant, first_due=date(2027, 1, 5), end_count=2)
        stamp = {"cancelled": "cancelled_at", "finished": "finished_at"}[status]
        Schedule.objects.filter(pk=schedule.pk).update(status=status, **{stamp: timezone.now()})
        with pytest.raises(ValidationError) as info:
            services.schedule_update(schedule=schedule, amount=Decimal("1.00"))
        assert info.value.code == "read_only"
        assert "não pode mais ser alterado" in info.value.messages[0]

    def test_a_deactivated_schedule_can_be_edited(self, merchant):
        schedule = monthly(merchant, first_due=date(2027, 1, 5))
        Schedule.objects.filter(pk=schedule.pk).update(
            status="deactivated", deactivation_cause="mailbox_full", deactivated_at=timezone.now()
        )
        services.schedule_update(schedule=schedule, amount=Decimal("10.00"))
        schedule.refresh_from_db()
        assert schedule.amount == Decimal("10.00")
        assert schedule.status == ScheduleStatus.DEACTIVATED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_the_generator_loses_neither(merchant):
    """The edit holds the row lock: the generator skips the schedule (FOR UPDATE SKIP LOCKED)
    instead of issuing with the old amount, and issues with the new one once it commits."""
    schedule = monthly(merchant, first_due=date(2027, 1, 5))
    issue_through(schedule, 2)
    day = issue_day(schedule, 3)
    locked, release, errors = threading.Event(), threading.Event(), []

    def edit():
        try:
            with transaction.atomic():
                Schedule.objects.select_for_update().get(pk=schedule.pk)
                locked.set()
                release.wait(timeout=30)
                services.schedule_update(schedule=schedule, amount=Decimal("77.00"), today=day)
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=edit)
    thread.start()
    assert locked.wait(timeout=30)
    skipped = installments_issue_due(today=day)
    assert skipped.issued == 0  # the locked schedule is left for later, not issued stale
    release.set()
    thread.join(timeout=60)
    assert not errors
    installments_issue_due(today=day)
    third = Boleto.objects.get(schedule=schedule, sequence=3)
    assert third.amount == Decimal("77.00")
    assert schedule.events.filter(kind=ScheduleEvent.Kind.UPDATED).count() == 1


# --- Views ---------------------------------------------------------------------------------------


def edit_url(schedule) -> str:
    return reverse("schedules:edit", kwargs={"number": schedule.number})


@pytest.fixture
def running(merchant):
    """An active schedule with its first installment issued today."""
    today = timezone.localdate()
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today + timedelta(days=5))
    installments_issue_due(schedule_id=schedule.pk)
    schedule.refresh_from_db()
    assert schedule.next_sequence == 2
    return schedule


def form_data(schedule, **overrides) -> dict:
    data = {
        "amount": "150,00",
        "due_day": str(schedule.due_day),
        "lead_days": "10",
        "description": "",
        "end_mode": "none",
        "end_count": "",
        "end_date": "",
        "expected_sequence": str(schedule.next_sequence),
        "action": "save",
    }
    data.update(overrides)
    return data


class TestEditViews:
    def test_detail_has_the_editar_button(self, owner_client, running):
        body = owner_client.get(running.get_absolute_url()).content.decode()
        assert f'href="{edit_url(running)}"' in body and ">Editar</a>" in body

    def test_form_previews_the_effective_installment_before_saving(self, owner_client, running):
        body = owner_client.get(edit_url(running)).content.decode()
        due = running.due_date_of(2).strftime("%d/%m/%Y")
        assert f"As alterações valem a partir da parcela 2, vencimento {due}." in body
        response = owner_client.post(
            edit_url(running), form_data(running, amount="1.234,56", action="preview")
        )
        body = response.content.decode()
        assert f"O novo valor vale a partir da parcela 2, vencimento {due}" in body
        running.refresh_from_db()
        assert running.amount == Decimal("150.00")  # a preview saves nothing

    def test_htmx_preview_is_the_fragment(self, owner_client, running):
        response = owner_client.post(
            edit_url(running),
            form_data(running, due_day="28", action="preview"),
            headers={"HX-Request": "true"},
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="edit-preview"' in body
        assert body.count("Parcela ") >= 3
        assert "HX-Request" in response["Vary"]

    def test_save_records_and_redirects(self, owner_client, owner, running):
        response = owner_client.post(
            edit_url(running),
            form_data(running, amount="120,00", end_mode="count", end_count="5"),
            follow=True,
        )
        assert response.redirect_chain[-1][0] == running.get_absolute_url()
        body = response.content.decode()
        assert f"Agendamento nº {running.number} alterado." in body
        assert "Agendamento alterado" in body
        assert f"Valor: R${NBSP}150,00 → R${NBSP}120,00" in body
        assert "a partir da parcela 2" in body
        running.refresh_from_db()
        assert running.amount == Decimal("120.00") and running.end_count == 5
        first = Boleto.objects.get(schedule=running, sequence=1)
        assert first.amount == Decimal("150.00")

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"amount": "abc"}, "Informe o valor em reais"),
            ({"amount": "0,00"}, "O valor mínimo é R$ 0,01."),
            ({"due_day": "32"}, "Informe um dia de vencimento de 1 a 31."),
            ({"due_day": "x"}, "Informe um dia de vencimento de 1 a 31."),
            ({"lead_days": "99"}, "Antecedência: de 1 a 60 dias."),
            ({"end_mode": "count", "end_count": "0"}, "Informe um número de parcelas de 1 a"),
            ({"end_mode": "count", "end_count": "1"}, "não pode ser menor que 2"),
            ({"end_mode": "count"}, "Informe o número de parcelas."),
            ({"end_mode": "date", "end_date": "31/02/2027"}, "Informe uma data válida."),
            ({"end_mode": "date", "end_date": "2001-01-01"}, "não pode ser anterior a"),
            ({"end_mode": "zzz"}, "Escolha uma opção de fim válida."),
            ({"description": "x" * 300}, "Use no máximo 200 caracteres"),
            ({"expected_sequence": "1"}, "A parcela 1 foi emitida enquanto você editava"),
            ({"expected_sequence": "abc"}, "Agendamento alterado"),  # ignored: saved
        ],
    )
    def test_bad_input_is_a_message_never_a_500(self, owner_client, running, overrides, message):
        data = form_data(running, amount="151,00")
        data.update(overrides)
        response = owner_client.post(edit_url(running), data, follow=True)
        assert response.status_code == 200
        assert message in response.content.decode()

    @pytest.mark.parametrize("status", ["cancelled", "finished"])
    def test_read_only_states(self, owner_client, running, status):
        stamp = {"cancelled": "cancelled_at", "finished": "finished_at"}[status]
        extra = {"end_count": 1} if status == "finished" else {}
        Schedule.objects.filter(pk=running.pk).update(
            status=status, **{stamp: timezone.now()}, **extra
        )
        label = {"cancelled": "cancelado", "finished": "encerrado"}[status]
        for response in (
            owner_client.get(edit_url(running), follow=True),
            owner_client.post(edit_url(running), form_data(running, amount="1,00"), follow=True),
        ):
            assert response.redirect_chain[-1][0] == running.get_absolute_url()
            body = response.content.decode()
            assert f"Este agendamento foi {label} e não pode mais ser alterado." in body
            assert f'href="{edit_url(running)}"' not in body
        running.refresh_from_db()
        assert running.amount == Decimal("150.00")

    def test_another_merchants_schedule_is_404(self, other_client, running):
        assert other_client.get(edit_url(running)).status_code == 404
        response = other_client.post(edit_url(running), form_data(running, amount="1,00"))
        assert response.status_code == 404
        running.refresh_from_db()
        assert running.amount == Decimal("150.00")

    def test_creation_form_takes_an_end(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant)
        first_due = timezone.localdate() + timedelta(days=40)
        page = owner_client.get(reverse("schedules:create")).content.decode()
        assert "Fim do agendamento" in page and "Após um número de parcelas" in page
        response = owner_client.post(
            reverse("schedules:create"),
            {
                "customer_mode": "existing",
                "customer": customer.pk,
                "amount": "80,00",
                "frequency_months": "1",
                "first_due_date": first_due.isoformat(),
                "lead_days": "10",
                "end_mode": "count",
                "end_count": "12",
                "action": "create",
                "form_token": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 302
        schedule = Schedule.objects.get(merchant=merchant)
        assert schedule.end_count == 12 and schedule.end_date is None
        detail = owner_client.get(schedule.get_absolute_url()).content.decode()
        assert "após 12 parcelas" in detail

    def test_encerrados_tab_and_export(self, owner_client, merchant):
        schedule = create(merchant, today=timezone.localdate(), end_count=1)
        installments_issue_due(today=issue_day(schedule, 1), schedule_id=schedule.pk)
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.FINISHED
        page = owner_client.get(reverse("schedules:list") + "?status=finished")
        body = page.content.decode()
        assert page.context["counts"]["finished"] == 1
        assert 'aria-current="page">Encerrados <span class="count">1</span>' in body
        assert f"nº {schedule.number}" in body and "Encerrado em" in body
        active = owner_client.get(reverse("schedules:list")).content.decode()
        assert f"nº {schedule.number}<" not in active
        export = owner_client.get(reverse("schedules:export") + "?status=finished")
        csv = b"".join(export.streaming_content).decode("utf-8-sig")
        assert "Encerrado em" in csv.splitlines()[0]
        assert f"{schedule.number};Encerrado;" in csv
        assert "encerrados" in export["Content-Disposition"]
        detail = owner_client.get(schedule.get_absolute_url()).content.decode()
        assert "Agendamento encerrado em" in detail
        assert "Cancelar agendamento" not in detail


def test_the_last_boleto_of_a_finished_schedule_is_still_emailed(merchant):
    """The schedule finishes in the transaction that issues its last boleto; that boleto must
    still go out (a finished schedule delivers, only deactivated/cancelled ones withhold)."""
    schedule = create(merchant, today=timezone.localdate(), end_count=1)
    outbound = issue_and_send(schedule, on=issue_day(schedule, 1))
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.FINISHED
    assert outbound is not None
    boleto = Boleto.objects.get(schedule=schedule)
    assert boleto.delivery_status != Boleto.DeliveryStatus.WITHHELD
    assert outbound.recipient == schedule.customer.email
