"""The timeline tells the truth (issue 10 item 8): each provider event's effect is recorded when
the policy decides it (EmailEvent.effect), and the timeline shows that recorded effect, not one
guessed when the page renders."""

import pytest
from django.urls import reverse

from notifications.models import EmailEvent
from schedules.timeline import schedule_timeline
from tests.schedules.deactivation import deactivated_by_bounce, post_bounce
from tests.schedules.test_reactivation import NEW_EMAIL, form_data, reactivate

pytestmark = pytest.mark.django_db

OLD_EPOCH_NOTE = "e-mail anterior à reativação: sem efeito no agendamento"


def provider_entries(schedule):
    return [
        entry
        for entry in schedule_timeline(schedule=schedule)
        if entry.kind.startswith("email_") and entry.title.startswith("Provedor de e-mail")
    ]


def test_the_bounce_that_deactivated_stays_the_cause_after_reactivation(
    client, owner_client, merchant, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    schedule, outbound = deactivated_by_bounce(client, capture, merchant=merchant)
    bounce = EmailEvent.objects.get(outbound_email=outbound)
    assert bounce.effect == EmailEvent.Effect.DEACTIVATED

    response = reactivate(owner_client, capture, schedule, form_data(schedule))
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.epoch == 1

    (entry,) = provider_entries(schedule)
    assert "agendamento desativado" in entry.detail
    assert OLD_EPOCH_NOTE not in entry.detail
    body = owner_client.get(reverse("schedules:detail", args=[schedule.number])).content.decode()
    assert OLD_EPOCH_NOTE not in body

    # The same February bounce again, under another id (a late ESP retry): now it is about an
    # email sent before the reactivation and changes nothing; that is what it says.
    post_bounce(client, capture, outbound, ID=4120398999)
    schedule.refresh_from_db()
    assert schedule.status == "active"
    late = EmailEvent.objects.filter(outbound_email=outbound).latest("pk")
    assert late.effect == EmailEvent.Effect.STALE
    details = sorted(entry.detail for entry in provider_entries(schedule))
    assert any("agendamento desativado" in d for d in details)
    assert any("sem efeito" in d for d in details)


def test_a_first_late_event_about_an_old_email_says_it_had_no_effect(
    client, owner_client, merchant, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    schedule, outbound = deactivated_by_bounce(client, capture, merchant=merchant)
    # Reactivated with a new address, then a soft bounce of the old email arrives: it was sent
    # before the reactivation, to the old address.
    reactivate(owner_client, capture, schedule, form_data(schedule, email=NEW_EMAIL))
    EmailEvent.objects.all().delete()
    type(outbound).objects.filter(pk=outbound.pk).update(state=0)
    post_bounce(client, capture, outbound, name="postmark_bounce_2.json")
    event = EmailEvent.objects.get(outbound_email=outbound)
    assert event.effect == EmailEvent.Effect.OLD_EPOCH
    (entry,) = provider_entries(schedule)
    assert OLD_EPOCH_NOTE in entry.detail
    schedule.refresh_from_db()
    assert schedule.status == "active"


def test_effect_is_what_the_policy_decided_not_recomputed(
    client, merchant, django_capture_on_commit_callbacks
):
    """An event stored with its effect shows that effect whatever the schedule's epoch is now."""
    capture = django_capture_on_commit_callbacks
    schedule, outbound = deactivated_by_bounce(client, capture, merchant=merchant)
    type(schedule).objects.filter(pk=schedule.pk).update(epoch=5)
    schedule.refresh_from_db()
    (entry,) = provider_entries(schedule)
    assert "agendamento desativado" in entry.detail
    EmailEvent.objects.filter(outbound_email=outbound).update(effect="")
    (entry,) = provider_entries(schedule)
    assert OLD_EPOCH_NOTE not in entry.detail  # unknown effect: nothing is made up
