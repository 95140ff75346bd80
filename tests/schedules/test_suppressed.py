"""An address on the email provider's suppression list (issue 10 item 6): its own cause,
"Bloqueado pelo provedor de e-mail", not an invalid address. The alert and the reactivation
form say that support can clear the suppression, and the merchant may then keep the address
with an explicit confirmation."""

from datetime import timedelta

import pytest
from django.core import mail

from notifications.models import MerchantAlert
from schedules.models import DeactivationCause, ScheduleStatus
from tests.factories import ScheduleFactory
from tests.schedules.deactivation import issue_and_send, post_bounce, today
from tests.schedules.test_reactivation import form_data, reactivate, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def suppressed(client, merchant, django_capture_on_commit_callbacks):
    """Postmark tells us (SubscriptionChange) it stopped sending to the address after a hard
    bounce: the schedule is deactivated for that suppression."""
    schedule = ScheduleFactory(merchant=merchant, first_due_date=today() - timedelta(days=40))
    outbound = issue_and_send(schedule, on=schedule.next_issue_on)
    mail.outbox.clear()
    post_bounce(
        client,
        django_capture_on_commit_callbacks,
        outbound,
        name="postmark_subscriptionchange_1.json",
        Recipient=outbound.recipient,
        SuppressionReason="HardBounce",
        Origin="Recipient",
    )
    schedule.refresh_from_db()
    return schedule


def test_suppression_is_its_own_cause_and_the_alert_says_support_can_clear_it(
    client, owner, merchant, suppressed
):
    assert suppressed.status == ScheduleStatus.DEACTIVATED
    assert suppressed.deactivation_cause == DeactivationCause.ESP_SUPPRESSED
    alert = MerchantAlert.objects.get(schedule=suppressed)
    assert alert.cause == DeactivationCause.ESP_SUPPRESSED
    (message,) = mail.outbox
    assert message.to == [merchant.alert_email]
    assert "Bloqueado pelo provedor de e-mail" in message.subject
    body = message.body
    assert "suporte pode retirar o bloqueio" in body
    assert "Corrija o e-mail" not in body

    client.force_login(owner)
    banner = client.get("/").content.decode()
    assert "Bloqueado pelo provedor de e-mail" in banner
    assert "suporte pode retirar o bloqueio" in banner


def test_reactivation_may_keep_the_address_once_confirmed(
    owner_client, suppressed, django_capture_on_commit_callbacks
):
    current = suppressed.customer.email
    response = owner_client.get(url(suppressed))
    body = response.content.decode()
    assert "Bloqueado pelo provedor de e-mail" in body
    assert "suporte pode retirar o bloqueio" in body
    form = response.context["form"]
    assert "keep_email" in form.fields
    assert "o suporte já retirou o bloqueio" in str(form.fields["keep_email"].label)

    # Same address without the confirmation: refused, nothing changes.
    response = owner_client.post(url(suppressed), form_data(suppressed, email=current))
    assert "keep_email" in response.context["form"].errors
    suppressed.refresh_from_db()
    assert suppressed.status == ScheduleStatus.DEACTIVATED

    response = reactivate(
        owner_client,
        django_capture_on_commit_callbacks,
        suppressed,
        form_data(suppressed, email=current, keep_email="on"),
    )
    assert response.status_code == 302
    suppressed.refresh_from_db()
    assert suppressed.status == ScheduleStatus.ACTIVE
    assert suppressed.customer.email == current
    reactivated = suppressed.events.get(kind="reactivated").data
    assert reactivated["previous_cause"] == "esp_suppressed"
    assert reactivated["email_changed"] is False
