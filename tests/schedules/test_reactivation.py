"""Corrigir e-mail e reativar: the form, the service under its row lock, and what follows
(epoch, history, missed installments, the undelivered boleto sent again, alerts resolved)."""

import logging
import re
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client, override_settings
from django.urls import reverse

from billing.models import Boleto
from notifications.models import MerchantAlert, OutboundEmail
from schedules import dates, selectors, services
from schedules.generator import installments_issue_due
from schedules.models import DeactivationCause, Schedule, ScheduleEvent, ScheduleStatus
from tests.factories import CustomerFactory, MembershipFactory, ScheduleFactory
from tests.schedules.deactivation import (
    DIAGNOSTIC_TEXT,
    ESP,
    deactivated_by_bounce,
    deactivated_for,
    expected_missed,
    post_bounce,
    today,
)

pytestmark = pytest.mark.django_db

NEW_EMAIL = "cliente.corrigido@example.com"


def url(schedule):
    return reverse("schedules:reactivate", kwargs={"number": schedule.number})


def form_data(schedule, *, resend=(), **overrides):
    data = {
        "email": NEW_EMAIL,
        "missed": ",".join(map(str, expected_missed(schedule))),
        "missed_choice": "skip",
        "resend": [str(pk) for pk in resend],
    }
    data.update(overrides)
    return data


def reactivate(client, capture, schedule, data):
    with override_settings(**ESP), capture(execute=True):
        return client.post(url(schedule), data)


def sent_to(address):
    return [message for message in mail.outbox if message.to == [address]]


@pytest.fixture
def bounced(client, merchant, django_capture_on_commit_callbacks):
    """Deactivated 40 days after its first installment bounced: installment 2 was missed."""
    return deactivated_by_bounce(client, django_capture_on_commit_callbacks, merchant=merchant)


class TestForm:
    def test_shows_cause_diagnostic_missed_installments_and_the_undelivered_boleto(
        self, owner_client, bounced
    ):
        schedule, outbound = bounced
        response = owner_client.get(url(schedule))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Endereço de e-mail inexistente ou inválido" in body
        assert DIAGNOSTIC_TEXT in body  # the provider's own words
        assert outbound.recipient in body
        missed = response.context["missed"]
        assert [item.sequence for item in missed] == expected_missed(schedule) == [2]
        due = dates.due_date(schedule.first_due_date, 1, 2)
        assert due.strftime("%d/%m/%Y") in body
        # Past due: issuing it now gives it a new due date, shown before confirming.
        new_due = selectors.missed_new_due_date(today())
        assert missed[0].new_due_date == new_due and new_due.strftime("%d/%m/%Y") in body
        assert 'name="missed" value="2"' in body
        # "Skip" is the default, the resend box is ticked by default.
        form = response.context["form"]
        assert form["missed_choice"].value() == "skip"
        assert form["resend"].value() == [outbound.boleto_id]
        assert re.search(r'name="missed_choice" value="skip"[^>]*checked', body)
        assert not re.search(r'name="missed_choice" value="issue"[^>]*checked', body)
        assert re.search(rf'name="resend" value="{outbound.boleto_id}"[^>]*checked', body)
        # An invalid address must change: no "keep the current email" box.
        assert "keep_email" not in form.fields

    def test_keep_box_offered_when_the_address_itself_was_not_the_problem(
        self, owner_client, merchant
    ):
        schedule = deactivated_for(DeactivationCause.MAILBOX_FULL, merchant=merchant)
        response = owner_client.get(url(schedule))
        assert "keep_email" in response.context["form"].fields
        assert "Manter o e-mail atual" in response.content.decode()
        assert "Caixa postal cheia" in response.content.decode()

    def test_member_can_reactivate_too(self, merchant, bounced, django_capture_on_commit_callbacks):
        schedule, _ = bounced
        member = MembershipFactory(merchant=merchant, role="member").user
        client = Client()
        client.force_login(member)
        assert client.get(url(schedule)).status_code == 200
        response = reactivate(
            client, django_capture_on_commit_callbacks, schedule, form_data(schedule)
        )
        assert response.status_code == 302
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        assert schedule.events.get(kind="reactivated").actor == member

    def test_another_merchants_schedule_is_404_and_untouched(
        self, other_client, bounced, django_capture_on_commit_callbacks
    ):
        schedule, _ = bounced
        assert other_client.get(url(schedule)).status_code == 404
        response = reactivate(
            other_client, django_capture_on_commit_callbacks, schedule, form_data(schedule)
        )
        assert response.status_code == 404
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.DEACTIVATED

    def test_active_or_cancelled_schedule_sends_back_to_detail_with_a_message(
        self, owner_client, merchant
    ):
        active = ScheduleFactory(merchant=merchant)
        response = owner_client.get(url(active), follow=True)
        assert response.redirect_chain[-1][0] == active.get_absolute_url()
        assert "já está ativo" in response.content.decode()
        cancelled = deactivated_for(DeactivationCause.MAILBOX_FULL, merchant=merchant)
        services.schedule_cancel(schedule=cancelled)
        response = owner_client.post(
            url(cancelled), form_data(cancelled, keep_email="on"), follow=True
        )
        assert "foi cancelado e não pode ser reativado" in response.content.decode()
        cancelled.refresh_from_db()
        assert cancelled.status == ScheduleStatus.CANCELLED


class TestEmailRules:
    @pytest.mark.parametrize("typed", ["same", "SAME-UPPER"])
    def test_invalid_address_must_change_even_in_another_case(
        self, owner_client, bounced, typed, django_capture_on_commit_callbacks
    ):
        schedule, outbound = bounced
        email = outbound.recipient if typed == "same" else outbound.recipient.upper()
        response = reactivate(
            owner_client,
            django_capture_on_commit_callbacks,
            schedule,
            form_data(schedule, email=email),
        )
        assert response.status_code == 200
        assert response.context["form"].errors["email"] == [str(services.EMAIL_MUST_CHANGE)]
        assert response.context["form"]["email"].value() == email  # kept as typed
        self.assert_nothing_changed(schedule, outbound.recipient)

    def test_bad_email_syntax_is_refused_in_portuguese(self, owner_client, bounced):
        schedule, outbound = bounced
        response = owner_client.post(url(schedule), form_data(schedule, email="fulano@@x"))
        assert response.status_code == 200
        assert "Informe um endereço de email válido." in response.context["form"].errors["email"]
        self.assert_nothing_changed(schedule, outbound.recipient)

    def test_other_causes_need_a_new_email_or_an_explicit_keep(
        self, owner_client, merchant, django_capture_on_commit_callbacks
    ):
        schedule = deactivated_for(DeactivationCause.MAILBOX_FULL, merchant=merchant)
        current = schedule.customer.email
        response = owner_client.post(url(schedule), form_data(schedule, email=current))
        assert response.context["form"].errors["keep_email"] == [
            str(services.EMAIL_KEEP_NOT_CONFIRMED)
        ]
        response = owner_client.post(url(schedule), form_data(schedule, keep_email="on"))
        assert response.context["form"].errors["keep_email"] == [str(services.EMAIL_KEEP_CONFLICT)]
        self.assert_nothing_changed(schedule, current)

        response = reactivate(
            owner_client,
            django_capture_on_commit_callbacks,
            schedule,
            form_data(schedule, email=current.upper(), keep_email="on"),
        )
        assert response.status_code == 302
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        assert schedule.customer.email == current  # kept, not rewritten
        assert not schedule.events.filter(kind="email_changed").exists()
        assert schedule.events.get(kind="reactivated").data["email_changed"] is False

    @staticmethod
    def assert_nothing_changed(schedule, email):
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.DEACTIVATED
        assert schedule.epoch == 0
        assert schedule.customer.email == email
        assert not schedule.events.filter(kind__in=["reactivated", "email_changed"]).exists()
        assert not Boleto.objects.filter(schedule=schedule, sequence__gte=2).exists()


class TestReactivate:
    def test_fix_email_skip_missed_and_resend_the_undelivered_boleto(
        self, owner_client, owner, merchant, bounced, django_capture_on_commit_callbacks, caplog
    ):
        schedule, outbound = bounced
        old_email = outbound.recipient
        alert = MerchantAlert.objects.get(schedule=schedule)
        assert alert.acknowledged_at is None
        caplog.set_level(logging.INFO, logger="schedules.services")
        response = reactivate(
            owner_client,
            django_capture_on_commit_callbacks,
            schedule,
            form_data(schedule, resend=[outbound.boleto_id]),
        )
        assert response.status_code == 302
        assert response.url == schedule.get_absolute_url()

        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        assert schedule.deactivation_cause == ""
        assert schedule.reactivated_at is not None
        assert schedule.epoch == 1
        assert schedule.customer.email == NEW_EMAIL
        (line,) = [r.getMessage() for r in caplog.records if "schedule_reactivated" in r.message]
        assert line == (
            f"event=schedule_reactivated merchant={merchant.pk} schedule_id={schedule.pk} "
            f"schedule_number={schedule.number} decision=reactivated epoch=1 "
            'email_changed=True skipped=2 issued="" resent=1'
        )
        # The missed installment is recorded as skipped, once, and the cursor moved past it.
        skipped = Boleto.objects.get(schedule=schedule, sequence=2)
        assert skipped.status == Boleto.Status.SKIPPED
        assert skipped.delivery_status == Boleto.DeliveryStatus.NOT_APPLICABLE
        assert schedule.next_sequence == 3
        assert schedule.next_issue_on > today()
        # History: who changed what, which installments were skipped, every choice.
        events = {e.kind: e for e in schedule.events.all()}
        assert events["email_changed"].data == {"from": old_email, "to": NEW_EMAIL}
        assert events["email_changed"].actor == owner
        assert events["installments_skipped"].data == {"sequences": [2]}
        reactivated = events["reactivated"]
        assert reactivated.actor == owner
        assert reactivated.data["missed"] == [2]
        assert reactivated.data["missed_choice"] == "skip"
        assert reactivated.data["resent"] == [1]
        assert reactivated.data["previous_cause"] == "invalid_address"
        assert reactivated.data["epoch"] == 1
        # The alert leaves the banner.
        alert.refresh_from_db()
        assert alert.acknowledged_at is not None
        # The undelivered boleto left again, to the new address, in the new epoch.
        (resent,) = sent_to(NEW_EMAIL)
        assert resent.attachments[0][2] == "application/pdf"
        again = OutboundEmail.objects.get(boleto_id=outbound.boleto_id, schedule_epoch=1)
        assert again.recipient == NEW_EMAIL and again.attempt == 1
        assert Boleto.objects.get(pk=outbound.boleto_id).delivery_status == "sent"

        # The detail page tells the whole story.
        body = owner_client.get(schedule.get_absolute_url()).content.decode()
        assert f"E-mail do cliente alterado — de {old_email} para {NEW_EMAIL}" in body
        assert f"por {owner.get_username()}" in body
        assert "Agendamento reativado" in body
        assert "Parcelas não emitidas — parcela 2" in body
        assert "Não emitida (pulada na reativação)" in body
        assert f"Boleto da parcela 1 reenviado para {NEW_EMAIL}" in body
        assert "Alerta marcado como resolvido" in body

        # A late copy of the old bounce (another provider id) never deactivates again.
        post_bounce(owner_client, django_capture_on_commit_callbacks, outbound, ID=4120398118)
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        assert MerchantAlert.objects.filter(schedule=schedule).count() == 1

    def test_a_bounce_of_the_new_email_deactivates_again(
        self, owner_client, bounced, django_capture_on_commit_callbacks
    ):
        schedule, outbound = bounced
        reactivate(
            owner_client,
            django_capture_on_commit_callbacks,
            schedule,
            form_data(schedule, resend=[outbound.boleto_id]),
        )
        again = OutboundEmail.objects.get(boleto_id=outbound.boleto_id, schedule_epoch=1)
        post_bounce(owner_client, django_capture_on_commit_callbacks, again, ID=4120398119)
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.DEACTIVATED
        assert MerchantAlert.objects.filter(schedule=schedule, schedule_epoch=1).count() == 1

    def test_unticked_resend_sends_nothing(
        self, owner_client, bounced, django_capture_on_commit_callbacks
    ):
        schedule, outbound = bounced
        response = reactivate(
            owner_client, django_capture_on_commit_callbacks, schedule, form_data(schedule)
        )
        assert response.status_code == 302
        assert sent_to(NEW_EMAIL) == []
        assert Boleto.objects.get(pk=outbound.boleto_id).delivery_status == "undelivered"
        assert (
            Schedule.objects.get(pk=schedule.pk).events.get(kind="reactivated").data["resent"] == []
        )

    def test_issue_missed_now_past_due_get_a_new_due_date_others_keep_theirs(
        self, owner_client, merchant, django_capture_on_commit_callbacks, client
    ):
        # First installment due 55 days ago: installment 2 is past due, installment 3 is inside
        # its issue window but not due yet.
        schedule, outbound = deactivated_by_bounce(
            client, django_capture_on_commit_callbacks, merchant=merchant, days_ago=55
        )
        missed = selectors.schedule_missed_installments(schedule=schedule)
        assert [item.sequence for item in missed] == expected_missed(schedule) == [2, 3]
        assert missed[0].due_date < today() <= missed[1].due_date  # the case under test
        response = reactivate(
            owner_client,
            django_capture_on_commit_callbacks,
            schedule,
            form_data(schedule, missed_choice="issue"),
        )
        assert response.status_code == 302
        schedule.refresh_from_db()
        two = Boleto.objects.get(schedule=schedule, sequence=2)
        three = Boleto.objects.get(schedule=schedule, sequence=3)
        assert two.status == three.status == Boleto.Status.ISSUED
        assert two.due_date == selectors.missed_new_due_date(today())
        assert two.due_date >= today() + timedelta(days=selectors.MISSED_NEW_DUE_IN_DAYS)
        assert dates.is_business_day(two.due_date)
        assert three.due_date == missed[1].due_date  # not past due: its own date
        for boleto in (two, three):
            assert boleto.barcode and boleto.linha_digitavel and boleto.nosso_numero
            assert boleto.payer["email"] == NEW_EMAIL
        assert schedule.next_sequence == 4
        assert not schedule.events.filter(kind="installments_skipped").exists()
        data = schedule.events.get(kind="reactivated").data
        assert data["missed_choice"] == "issue"
        assert data["issued_with_new_due_date"] == [
            {
                "sequence": 2,
                "original_due_date": missed[0].due_date.isoformat(),
                "due_date": two.due_date.isoformat(),
            }
        ]
        # Both went out to the new address after commit.
        assert len(sent_to(NEW_EMAIL)) == 2
        assert set(
            OutboundEmail.objects.filter(schedule_epoch=1).values_list(
                "boleto__sequence", flat=True
            )
        ) == {2, 3}
        # And the PDFs are there to download.
        pdf = owner_client.get(reverse("billing:boleto_pdf", args=[two.pk]))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        body = owner_client.get(schedule.get_absolute_url()).content.decode()
        assert "novo vencimento " + two.due_date.strftime("%d/%m/%Y") in body

    def test_reactivating_without_missed_installments(
        self, owner_client, merchant, django_capture_on_commit_callbacks
    ):
        # Deactivated a few days ago: nothing was due for issue since.
        schedule = deactivated_for(DeactivationCause.MAILBOX_FULL, merchant=merchant, days_ago=5)
        assert expected_missed(schedule) == []
        response = owner_client.get(url(schedule))
        assert "missed_choice" not in response.context["form"].fields
        assert "Nenhuma parcela deixou de ser emitida" in response.content.decode()
        response = reactivate(
            owner_client,
            django_capture_on_commit_callbacks,
            schedule,
            {"email": "outro@example.com", "missed": ""},
        )
        assert response.status_code == 302
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.ACTIVE
        assert schedule.next_sequence == 2
        assert schedule.events.get(kind="reactivated").data["missed"] == []


class TestDoubleSubmitAndTampering:
    def test_double_submit_reactivates_once(
        self, owner_client, bounced, django_capture_on_commit_callbacks
    ):
        schedule, outbound = bounced
        data = form_data(schedule, resend=[outbound.boleto_id])
        first = reactivate(owner_client, django_capture_on_commit_callbacks, schedule, data)
        with override_settings(**ESP), django_capture_on_commit_callbacks(execute=True):
            second = owner_client.post(url(schedule), data, follow=True)
        assert first.status_code == 302
        assert second.redirect_chain[-1][0] == schedule.get_absolute_url()
        assert str(services.SCHEDULE_ALREADY_ACTIVE) in second.content.decode()
        schedule.refresh_from_db()
        assert schedule.epoch == 1
        assert schedule.events.filter(kind="reactivated").count() == 1
        assert schedule.events.filter(kind="email_changed").count() == 1
        assert len(sent_to(NEW_EMAIL)) == 1
        assert OutboundEmail.objects.filter(schedule_epoch=1).count() == 1

    @pytest.mark.parametrize("missed", ["2,99", "", "2,3", "abc", "1", "-2", "2" * 40])
    def test_tampered_missed_list_is_refused(self, owner_client, bounced, missed):
        schedule, outbound = bounced
        response = owner_client.post(url(schedule), form_data(schedule, missed=missed))
        assert response.status_code == 200
        assert str(services.MISSED_LIST_CHANGED) in response.context["form"].non_field_errors()
        # The page lists the current installments again, with their signature.
        assert 'name="missed" value="2"' in response.content.decode()
        TestEmailRules.assert_nothing_changed(schedule, outbound.recipient)

    def test_a_missed_installment_that_became_due_meanwhile_is_refused(self, bounced):
        schedule, outbound = bounced
        # What the page showed yesterday: the list is computed again on submit.
        with pytest.raises(ValidationError) as exc:
            services.schedule_reactivate(
                schedule=schedule,
                email=NEW_EMAIL,
                expected_missed=[2],
                today=today() + timedelta(days=40),
            )
        assert exc.value.message_dict["missed"] == [str(services.MISSED_LIST_CHANGED)]

    def test_resending_a_boleto_not_offered_is_refused(
        self, owner_client, merchant, other_merchant, bounced, django_capture_on_commit_callbacks
    ):
        schedule, outbound = bounced
        theirs, their_outbound = deactivated_by_bounce(
            Client(), django_capture_on_commit_callbacks, merchant=other_merchant
        )
        delivered = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
        installments_issue_due(schedule_id=delivered.pk)
        mine_not_undelivered = Boleto.objects.get(schedule=delivered)
        for boleto_id in (their_outbound.boleto_id, mine_not_undelivered.pk, 999999, "x"):
            response = owner_client.post(url(schedule), form_data(schedule, resend=[boleto_id]))
            assert response.status_code == 200
            assert response.context["form"].errors["resend"] == [
                str(services.RESEND_BOLETO_NOT_FOUND)
            ]
        TestEmailRules.assert_nothing_changed(schedule, outbound.recipient)
        assert Boleto.objects.get(pk=their_outbound.boleto_id).delivery_status == "undelivered"

    def test_the_service_refuses_a_boleto_of_another_schedule(self, merchant, bounced):
        schedule, _ = bounced
        other = deactivated_for(DeactivationCause.MAILBOX_FULL, merchant=merchant)
        other_boleto = Boleto.objects.get(schedule=other, sequence=1)
        with pytest.raises(ValidationError) as exc:
            services.schedule_reactivate(
                schedule=schedule,
                email=NEW_EMAIL,
                expected_missed=expected_missed(schedule),
                resend_boleto_ids=[other_boleto.pk],
            )
        assert exc.value.message_dict["resend"] == [str(services.RESEND_BOLETO_NOT_FOUND)]

    def test_unknown_missed_choice_is_refused(self, owner_client, bounced):
        schedule, outbound = bounced
        response = owner_client.post(url(schedule), form_data(schedule, missed_choice="todas"))
        assert response.status_code == 200
        assert "missed_choice" in response.context["form"].errors
        TestEmailRules.assert_nothing_changed(schedule, outbound.recipient)


class TestSharedCustomer:
    def test_new_email_is_the_customers_for_all_their_schedules(
        self, owner_client, merchant, bounced, django_capture_on_commit_callbacks
    ):
        schedule, outbound = bounced
        customer = schedule.customer
        active = ScheduleFactory(merchant=merchant, customer=customer)
        also_off = deactivated_for(
            DeactivationCause.MAILBOX_FULL, merchant=merchant, customer=customer
        )
        cancelled = ScheduleFactory(merchant=merchant, customer=customer)
        services.schedule_cancel(schedule=cancelled)

        page = owner_client.get(url(schedule)).content.decode()
        assert f"nº {active.number}" in page and f"nº {also_off.number}" in page

        with override_settings(**ESP), django_capture_on_commit_callbacks(execute=True):
            response = owner_client.post(url(schedule), form_data(schedule), follow=True)
        body = response.content.decode()
        assert f"ainda tem agendamentos desativados: nº {also_off.number}" in body
        customer.refresh_from_db()
        assert customer.email == NEW_EMAIL
        for other in (active, also_off):
            event = other.events.get(kind="email_changed")
            assert event.data == {
                "from": outbound.recipient,
                "to": NEW_EMAIL,
                "via_schedule": schedule.number,
            }
        assert not cancelled.events.filter(kind="email_changed").exists()
        # The other deactivated schedule stays off: its missed installments are its own choice.
        also_off.refresh_from_db()
        assert also_off.status == ScheduleStatus.DEACTIVATED
        detail = owner_client.get(active.get_absolute_url()).content.decode()
        assert f"(na reativação do agendamento nº {schedule.number})" in detail


class TestServiceDates:
    """Exact dates with a fixed 'today' (the views use America/Sao_Paulo's today)."""

    def make(self, merchant):
        schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 1, 20))
        installments_issue_due(today=date(2026, 1, 10), schedule_id=schedule.pk)
        services.schedule_deactivate(schedule=schedule, cause=DeactivationCause.SERVER_UNAVAILABLE)
        return schedule

    def test_missed_list_and_new_due_dates(self, merchant):
        schedule = self.make(merchant)
        missed = selectors.schedule_missed_installments(schedule=schedule, today=date(2026, 4, 16))
        # Due 20/02 and 20/03 have passed; 20/04 (issued from 10/04) has not.
        assert [(m.sequence, m.due_date, m.new_due_date) for m in missed] == [
            (2, date(2026, 2, 20), date(2026, 4, 22)),  # 16/04 + 5 = 21/04, Tiradentes
            (3, date(2026, 3, 20), date(2026, 4, 22)),
            (4, date(2026, 4, 20), None),
        ]

    def test_issue_now(self, merchant, django_capture_on_commit_callbacks):
        schedule = self.make(merchant)
        with django_capture_on_commit_callbacks() as callbacks:
            result = services.schedule_reactivate(
                schedule=schedule,
                email=schedule.customer.email,
                keep_email=True,
                missed_choice=services.MissedChoice.ISSUE,
                expected_missed=[2, 3, 4],
                today=date(2026, 4, 16),
            )
        assert result.issued == [2, 3, 4] and result.skipped == []
        due = dict(Boleto.objects.filter(schedule=schedule).values_list("sequence", "due_date"))
        assert due == {
            1: date(2026, 1, 20),
            2: date(2026, 4, 22),
            3: date(2026, 4, 22),
            4: date(2026, 4, 20),
        }
        assert set(Boleto.objects.filter(schedule=schedule).values_list("status", flat=True)) == {
            "issued"
        }
        schedule.refresh_from_db()
        assert (schedule.next_sequence, schedule.next_issue_on) == (5, date(2026, 5, 10))
        assert callbacks  # delivery hand-off and the generator run, after commit

    def test_skip(self, merchant):
        schedule = self.make(merchant)
        result = services.schedule_reactivate(
            schedule=schedule,
            email="novo@example.com",
            expected_missed=[2, 3, 4],
            today=date(2026, 4, 16),
        )
        assert result.skipped == [2, 3, 4] and result.issued == []
        rows = Boleto.objects.filter(schedule=schedule, sequence__gte=2)
        assert sorted(rows.values_list("sequence", "status", "due_date", "nosso_numero")) == [
            (2, "skipped", date(2026, 2, 20), None),
            (3, "skipped", date(2026, 3, 20), None),
            (4, "skipped", date(2026, 4, 20), None),
        ]
        schedule.refresh_from_db()
        assert (schedule.next_sequence, schedule.next_issue_on) == (5, date(2026, 5, 10))
        # The generator, run later for that day, finds nothing left to issue twice.
        assert installments_issue_due(today=date(2026, 4, 16), schedule_id=schedule.pk).issued == 0
        # On 10/05 installment 5 is issued normally.
        assert installments_issue_due(today=date(2026, 5, 10), schedule_id=schedule.pk).issued == 1

    def test_failed_numbering_writes_nothing(self, merchant):
        schedule = self.make(merchant)
        type(merchant).objects.filter(pk=merchant.pk).update(bank_code="341", agency="x")
        with pytest.raises(ValidationError) as exc:
            services.schedule_reactivate(
                schedule=schedule,
                email="novo@example.com",
                missed_choice=services.MissedChoice.ISSUE,
                expected_missed=[2, 3, 4],
                today=date(2026, 4, 16),
            )
        assert exc.value.messages == [str(services.MISSED_ISSUE_FAILED)]
        schedule.refresh_from_db()
        assert schedule.status == ScheduleStatus.DEACTIVATED
        assert schedule.customer.email != "novo@example.com"
        assert Boleto.objects.filter(schedule=schedule).count() == 1
        assert not ScheduleEvent.objects.filter(schedule=schedule, kind="reactivated").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reactivations_reactivate_once(merchant):
    """Two submits racing on PostgreSQL: the row lock lets one through; the other sees the
    schedule active and changes nothing (no duplicate skipped rows, events or epoch bumps)."""
    customer = CustomerFactory(merchant=merchant)
    schedule = deactivated_for(
        DeactivationCause.MAILBOX_FULL, merchant=merchant, customer=customer, days_ago=70
    )
    missed = expected_missed(schedule)
    assert len(missed) >= 2
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def submit():
        try:
            barrier.wait()
            outcomes.append(
                services.schedule_reactivate(
                    schedule=Schedule.objects.get(pk=schedule.pk),
                    email="concorrente@example.com",
                    expected_missed=missed,
                    resend_boleto_ids=list(
                        Boleto.objects.filter(
                            schedule=schedule, delivery_status="undelivered"
                        ).values_list("pk", flat=True)
                    ),
                )
            )
        except ValidationError as exc:
            errors.append(exc)
        except Exception as exc:  # pragma: no cover - an IntegrityError would land here
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 1
    (error,) = errors
    assert isinstance(error, ValidationError) and error.code == "not_deactivated"
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.ACTIVE
    assert schedule.epoch == 1
    assert schedule.events.filter(kind="reactivated").count() == 1
    assert schedule.events.filter(kind="email_changed").count() == 1
    assert schedule.events.filter(kind="installments_skipped").count() == 1
    assert Boleto.objects.filter(schedule=schedule, status="skipped").count() == len(missed)
    # The undelivered boleto went out again once (eager Celery runs the send after commit).
    assert OutboundEmail.objects.filter(schedule=schedule, schedule_epoch=1).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_form_submits_reactivate_once(merchant, owner):
    """The same form posted twice at once (double click, two tabs): one reactivation, one
    resend; both answers send the merchant back to the schedule, never an error page."""
    schedule = deactivated_for(DeactivationCause.MAILBOX_FULL, merchant=merchant, days_ago=70)
    boleto = Boleto.objects.get(schedule=schedule, sequence=1)
    data = form_data(schedule, resend=[boleto.pk])
    barrier = threading.Barrier(2)
    responses, errors = [], []

    def submit():
        try:
            client = Client()
            client.force_login(owner)
            barrier.wait()
            responses.append(client.post(url(schedule), data))
        except Exception as exc:  # pragma: no cover - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert [r.status_code for r in responses] == [302, 302]
    assert {r.url for r in responses} == {schedule.get_absolute_url()}
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.ACTIVE and schedule.epoch == 1
    assert schedule.events.filter(kind="reactivated").count() == 1
    assert OutboundEmail.objects.filter(schedule=schedule, schedule_epoch=1).count() == 1
