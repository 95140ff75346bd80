"""The schedule detail page: data, next due dates, every installment (paged) with its PDF, and a
timeline of every event, in a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Boleto
from notifications.models import OutboundEmail
from schedules import dates, services
from schedules.generator import installments_issue_due
from schedules.models import DeactivationCause
from tests.factories import ScheduleFactory
from tests.schedules.deactivation import (
    DIAGNOSTIC_TEXT,
    ESP,
    deactivated_by_bounce,
    expected_missed,
    post_bounce,
    today,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's text with tags removed and whitespace collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", body)


def test_every_event_is_on_the_timeline(
    client, owner, merchant, django_capture_on_commit_callbacks
):
    schedule, outbound = deactivated_by_bounce(
        client, django_capture_on_commit_callbacks, merchant=merchant
    )
    # Reactivated with a new email; the undelivered boleto is sent again after commit.
    with override_settings(**ESP), django_capture_on_commit_callbacks(execute=True):
        services.schedule_reactivate(
            schedule=schedule,
            email="novo@example.com",
            expected_missed=expected_missed(schedule),
            resend_boleto_ids=[outbound.boleto_id],
            actor=owner,
        )
    again = OutboundEmail.objects.get(schedule_epoch=1)
    post_bounce(
        client,
        django_capture_on_commit_callbacks,
        again,
        name="postmark_delivery_1.json",
        DeliveredAt="2030-01-01T00:00:00Z",
    )
    services.schedule_cancel(schedule=schedule, actor=owner)

    client.force_login(owner)
    page = text(client.get(schedule.get_absolute_url()))
    user = owner.get_username()
    for line in [
        "Parcela 1 emitida — vencimento",
        f"Boleto da parcela 1 enviado para {outbound.recipient}",
        "Provedor de e-mail: devolvido (parcela 1) — Endereço de e-mail inexistente ou inválido",
        DIAGNOSTIC_TEXT,
        "Agendamento desativado — Endereço de e-mail inexistente ou inválido",
        "Alerta enviado ao lojista por e-mail: Agendamento desativado",
        f"E-mail do cliente alterado — de {outbound.recipient} para novo@example.com — por {user}",
        "Parcelas não emitidas — parcela 2",
        "Agendamento reativado — estava desativado por: Endereço de e-mail inexistente ou "
        "inválido; e-mail alterado; parcela 2 não emitidas (puladas); boleto reenviado: "
        f"parcela 1 — por {user}",
        "Alerta marcado como resolvido",
        "Boleto da parcela 1 reenviado para novo@example.com",
        "Provedor de e-mail: entregue (parcela 1)",
        f"Agendamento cancelado — por {user}",
    ]:
        assert line in page, line


def test_deactivated_schedule_shows_cause_diagnostic_and_actions(
    client, owner, merchant, django_capture_on_commit_callbacks
):
    # Installment 2 is past due, installment 3 is in its issue window: both were missed.
    schedule, outbound = deactivated_by_bounce(
        client, django_capture_on_commit_callbacks, merchant=merchant, days_ago=55
    )
    assert expected_missed(schedule) == [2, 3]
    client.force_login(owner)
    response = client.get(schedule.get_absolute_url())
    body = response.content.decode()
    page = text(response)
    assert "Motivo da desativação: Endereço de e-mail inexistente ou inválido" in page
    assert DIAGNOSTIC_TEXT in page
    assert "2 parcelas deixaram de ser emitidas desde a desativação" in page
    assert reverse("schedules:reactivate", args=[schedule.number]) in body
    assert reverse("schedules:cancel", args=[schedule.number]) in body
    ticket = reverse("notifications:ticket_create") + f"?agendamento={schedule.number}"
    assert f'href="{ticket}"' in body
    # The undelivered boleto is flagged and its PDF is one click away.
    assert "Não entregue" in page
    assert reverse("billing:boleto_pdf", args=[outbound.boleto_id]) in body
    # Next due dates: from today on, what a reactivation would issue.
    # Next due dates: what flows after a reactivation, after the missed ones.
    assert "Próximos vencimentos (se reativado)" in page
    upcoming = response.context["upcoming"]
    assert [item["sequence"] for item in upcoming] == [4, 5, 6, 7, 8, 9]
    assert [item["due_date"] for item in upcoming] == dates.due_dates(
        schedule.first_due_date, 1, 6, start=4
    )


def test_data_and_next_six_due_dates(owner_client, merchant):
    schedule = ScheduleFactory(merchant=merchant, description="Mensalidade academia")
    response = owner_client.get(schedule.get_absolute_url())
    assert response.status_code == 200
    page = text(response)
    upcoming = response.context["upcoming"]
    assert [item["due_date"] for item in upcoming] == dates.due_dates(schedule.first_due_date, 1, 6)
    assert [item["sequence"] for item in upcoming] == [1, 2, 3, 4, 5, 6]
    for item in upcoming:
        assert item["due_date"].strftime("%d/%m/%Y") in page
    assert schedule.customer.name in page and schedule.customer.email in page
    assert "R$ 150,00" in page and "Mensal" in page and "Mensalidade academia" in page
    assert "Nenhuma parcela emitida ainda." in page
    body = response.content.decode()
    assert reverse("schedules:reactivate", args=[schedule.number]) not in body  # active
    # One numbering: "Parcela 4: …", never a list marker before it ("1. Parcela 4").
    assert '<ul class="dates">' in body and "<ol" not in body


def test_issued_installment_is_marked_among_next_due_dates(owner_client, merchant):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
    installments_issue_due(schedule_id=schedule.pk)
    upcoming = owner_client.get(schedule.get_absolute_url()).context["upcoming"]
    assert [item["issued"] for item in upcoming] == [True, False, False, False, False, False]


def test_installments_are_paged_with_status_delivery_and_pdf(owner_client, merchant):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
    # Three years later: earlier installments are recorded as skipped, the last ones issued.
    run = installments_issue_due(schedule_id=schedule.pk, today=today() + timedelta(days=3 * 365))
    total = run.issued + run.skipped
    assert total > 24 and run.issued >= 1
    first = owner_client.get(schedule.get_absolute_url())
    assert first.context["page"].paginator.count == total
    assert len(first.context["boletos"]) == 24
    newest = Boleto.objects.filter(schedule=schedule).order_by("-sequence").first()
    assert newest.status == "issued"
    body = first.content.decode()
    assert reverse("billing:boleto_pdf", args=[newest.pk]) in body
    assert "Aguardando envio" in body
    second = owner_client.get(schedule.get_absolute_url() + "?page=2")
    assert [b.sequence for b in second.context["boletos"]][-1] == 1
    assert "Não emitido (vencimento já passou)" in second.content.decode()
    # Garbage page numbers fall back to a page, never a 500.
    assert owner_client.get(schedule.get_absolute_url() + "?page=abc").status_code == 200
    assert owner_client.get(schedule.get_absolute_url() + "?page=99999").status_code == 200


def test_cancelled_schedule_keeps_pdfs_and_offers_no_actions(owner_client, merchant):
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
    installments_issue_due(schedule_id=schedule.pk)
    services.schedule_cancel(schedule=schedule)
    response = owner_client.get(schedule.get_absolute_url())
    body = response.content.decode()
    assert response.context["upcoming"] == []
    boleto = Boleto.objects.get(schedule=schedule)
    assert reverse("billing:boleto_pdf", args=[boleto.pk]) in body
    assert reverse("schedules:cancel", args=[schedule.number]) not in body
    assert reverse("schedules:reactivate", args=[schedule.number]) not in body
    assert "Cancelado em" in body


def test_another_merchants_schedule_is_404(owner_client, other_merchant):
    theirs = ScheduleFactory(merchant=other_merchant, number=5150)
    assert owner_client.get(theirs.get_absolute_url()).status_code == 404
    assert owner_client.get(theirs.get_absolute_url() + "?page=2").status_code == 404


def test_query_count_does_not_grow_with_history(
    owner_client, client, merchant, django_capture_on_commit_callbacks
):
    # One installment (an empty page would save its query) against a long history.
    small = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
    installments_issue_due(schedule_id=small.pk)
    big, _ = deactivated_by_bounce(
        client, django_capture_on_commit_callbacks, merchant=merchant, days_ago=200
    )
    services.schedule_reactivate(
        schedule=big,
        email="outro@example.com",
        expected_missed=expected_missed(big),
        today=today(),
    )
    installments_issue_due(schedule_id=big.pk, today=today() + timedelta(days=900))
    assert Boleto.objects.filter(schedule=big).count() > 30
    assert big.events.count() >= 4
    assert big.emails.exists() and big.alerts.exists()

    def queries(schedule):
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(schedule.get_absolute_url()).status_code == 200
        return len(captured)

    queries(small)  # warm-up (session, content types)
    assert queries(big) == queries(small)
    # Deactivated, both show the deactivation box (its cause and diagnostic): still equal.
    for schedule in (small, big):
        schedule.refresh_from_db()
        services.schedule_deactivate(schedule=schedule, cause=DeactivationCause.MAILBOX_FULL)
    assert queries(big) == queries(small)
