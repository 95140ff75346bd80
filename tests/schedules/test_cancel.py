"""Cancelar agendamento: a confirmation page first, then the cancellation; final, recorded, and
the boletos already issued stay downloadable."""

from datetime import timedelta

import pytest
from django.urls import reverse

from billing.models import Boleto
from notifications.models import MerchantAlert
from schedules.generator import installments_issue_due
from schedules.models import ScheduleEvent, ScheduleStatus
from tests.factories import MembershipFactory, ScheduleFactory
from tests.schedules.deactivation import deactivated_by_bounce, today

pytestmark = pytest.mark.django_db


def url(schedule):
    return reverse("schedules:cancel", kwargs={"number": schedule.number})


@pytest.fixture
def issued(merchant):
    """An active schedule with its first installment issued."""
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today() + timedelta(days=5))
    installments_issue_due(schedule_id=schedule.pk)
    return schedule


def test_confirmation_page_explains_and_changes_nothing(owner_client, issued):
    response = owner_client.get(url(issued))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Cancelar agendamento nº {issued.number}?" in body
    assert "O cancelamento é definitivo" in body
    assert "O boleto já emitido continua disponível para download." in body
    assert issued.customer.name in body
    assert f'action="{url(issued)}"' in body and 'method="post"' in body
    assert issued.get_absolute_url() in body  # "Voltar sem cancelar"
    issued.refresh_from_db()
    assert issued.status == ScheduleStatus.ACTIVE
    assert not issued.events.exists()


def test_detail_page_links_to_the_confirmation(owner_client, issued):
    body = owner_client.get(issued.get_absolute_url()).content.decode()
    assert f'href="{url(issued)}"' in body


def test_cancel_is_final_recorded_and_issued_boletos_stay_downloadable(owner_client, owner, issued):
    response = owner_client.post(url(issued), follow=True)
    assert response.redirect_chain[-1][0] == issued.get_absolute_url()
    assert f"Agendamento nº {issued.number} cancelado." in response.content.decode()
    issued.refresh_from_db()
    assert issued.status == ScheduleStatus.CANCELLED and issued.cancelled_at is not None
    event = issued.events.get(kind=ScheduleEvent.Kind.CANCELLED)
    assert event.actor == owner and event.data == {"previous": "active"}
    boleto = Boleto.objects.get(schedule=issued)
    pdf = owner_client.get(reverse("billing:boleto_pdf", args=[boleto.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # No future installment, however late the generator runs.
    run = installments_issue_due(schedule_id=issued.pk, today=today() + timedelta(days=400))
    assert run.issued == run.skipped == 0
    assert Boleto.objects.filter(schedule=issued).count() == 1


def test_cancelling_twice_changes_nothing(owner_client, issued):
    owner_client.post(url(issued))
    response = owner_client.get(url(issued), follow=True)
    assert response.redirect_chain[-1][0] == issued.get_absolute_url()
    assert "já foi cancelado" in response.content.decode()
    response = owner_client.post(url(issued), follow=True)
    assert "já foi cancelado" in response.content.decode()
    assert issued.events.filter(kind=ScheduleEvent.Kind.CANCELLED).count() == 1


def test_member_can_cancel(client, merchant, issued):
    client.force_login(MembershipFactory(merchant=merchant, role="member").user)
    assert client.get(url(issued)).status_code == 200
    assert client.post(url(issued)).status_code == 302
    issued.refresh_from_db()
    assert issued.status == ScheduleStatus.CANCELLED


def test_cancelling_a_deactivated_schedule_resolves_its_alert(
    client, owner, merchant, django_capture_on_commit_callbacks
):
    schedule, _ = deactivated_by_bounce(
        client, django_capture_on_commit_callbacks, merchant=merchant
    )
    alert = MerchantAlert.objects.get(schedule=schedule)
    client.force_login(owner)
    assert "Desativado" in client.get(url(schedule)).content.decode()
    banner = f"Agendamento nº {schedule.number} desativado"
    assert banner in client.get("/").content.decode()
    client.post(url(schedule))
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.CANCELLED
    assert schedule.deactivation_cause == ""
    assert schedule.events.get(kind="cancelled").data == {"previous": "deactivated"}
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    # Gone from the banner; the reactivation screen now refuses it.
    assert banner not in client.get("/").content.decode()
    reactivate = reverse("schedules:reactivate", kwargs={"number": schedule.number})
    assert client.get(reactivate).status_code == 302


def test_another_merchants_schedule_is_404(owner_client, other_merchant):
    theirs = ScheduleFactory(merchant=other_merchant)
    assert owner_client.get(url(theirs)).status_code == 404
    assert owner_client.post(url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ScheduleStatus.ACTIVE


def test_anonymous_is_sent_to_login(client, issued):
    response = client.post(url(issued))
    assert response.status_code == 302 and reverse("login") in response.url
    issued.refresh_from_db()
    assert issued.status == ScheduleStatus.ACTIVE
