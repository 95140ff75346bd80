"""Alert texts fit the cause (issue 10 item 9): a spam complaint or an unsubscribe is neither
"não foi entregue" nor "corrija o e-mail" — in the alert email (subject and body), the banner,
the schedule page and the reactivation page — and the provider's text is shown labelled as the
provider's words ("Resposta do provedor: …")."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import MerchantAlert
from schedules.models import Schedule
from tests.notifications import test_policy
from tests.notifications.test_policy import postmark

pytestmark = pytest.mark.django_db

sent = test_policy.sent  # the fixture: a boleto of an active schedule, emailed

WRONG = ("não foi entregue", "não entregue", "corrija o e-mail", "corrigir e-mail")

COMPLAINTS = {
    "spam_complaint": ("postmark_spamcomplaint_1.json", "marcou"),
    "unsubscribed": ("postmark_subscriptionchange_1.json", "pediu para não receber"),
}


def assert_fits(text: str) -> None:
    low = text.lower()
    for phrase in WRONG:
        assert phrase not in low, phrase


@pytest.mark.parametrize("cause", sorted(COMPLAINTS))
def test_complaint_and_unsubscribe_texts(
    client, owner, merchant, sent, django_capture_on_commit_callbacks, cause
):
    name, words = COMPLAINTS[cause]
    postmark(client, name, sent, django_capture_on_commit_callbacks, Recipient=sent.recipient)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    assert schedule.deactivation_cause == cause
    alert = MerchantAlert.objects.get(schedule=schedule)

    (message,) = mail.outbox
    assert_fits(message.subject)
    assert_fits(message.body)
    assert words in message.body
    if alert.diagnostic:
        assert f"Resposta do provedor: “{alert.diagnostic}”" in message.body

    client.force_login(owner)
    home = client.get("/").content.decode()
    banner = home[home.index('class="alerts"') :]
    banner = banner[: banner.index("</section>")]
    assert_fits(banner)
    assert "Combine com o cliente" in banner

    detail = client.get(schedule.get_absolute_url()).content.decode()
    head = detail[: detail.index('id="data-title"')]  # the deactivation box and the actions
    assert_fits(head)
    assert "Reativar agendamento" in head

    page = client.get(reverse("schedules:reactivate", args=[schedule.number])).content.decode()
    main = page[page.index("<main") :]
    main = main[main.index('class="card narrow reactivate"') :]
    assert_fits(main)


def test_the_providers_words_are_labelled_everywhere(
    client, owner, merchant, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_bounce_1.json", sent, django_capture_on_commit_callbacks)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    alert = MerchantAlert.objects.get(schedule=schedule)
    assert "5.1.1" in alert.diagnostic
    quoted = f"Resposta do provedor: “{alert.diagnostic}”"
    (message,) = mail.outbox
    assert quoted in message.body
    client.force_login(owner)
    home = client.get("/").content.decode()
    assert "Resposta do provedor:" in home
    for url in (
        schedule.get_absolute_url(),
        reverse("schedules:reactivate", args=[schedule.number]),
    ):
        body = client.get(url).content.decode()
        assert "Resposta do provedor de e-mail" not in body
        assert "Resposta do provedor" in body


def test_desativados_list_offers_reactivation_without_fixing_the_email(
    client, owner, sent, django_capture_on_commit_callbacks
):
    postmark(client, "postmark_spamcomplaint_1.json", sent, django_capture_on_commit_callbacks)
    schedule = Schedule.objects.get(pk=sent.schedule_id)
    client.force_login(owner)
    page = client.get(reverse("schedules:list") + "?status=deactivated").content.decode()
    reactivate = reverse("schedules:reactivate", args=[schedule.number])
    assert f'href="{reactivate}">Reativar</a>' in page
    assert "Corrigir e-mail e reativar" not in page
