import pytest
from django.urls import reverse

from portal.templatetags.texts import email_breaks
from tests.factories import CustomerFactory, ScheduleFactory


def test_emails_break_only_before_at_and_dots_and_stay_escaped():
    assert email_breaks("ana.souza@example.com.br") == (
        "ana<wbr>.souza<wbr>@example<wbr>.com<wbr>.br"
    )
    assert email_breaks('<b onmouseover="x">@a.b') == (
        "&lt;b onmouseover=&quot;x&quot;&gt;<wbr>@a<wbr>.b"
    )
    assert email_breaks(None) == ""


@pytest.mark.django_db
def test_list_tables_wrap_emails_only_at_their_dots_and_at(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, email="maria.aparecida@exemplo.com.br")
    ScheduleFactory(merchant=merchant, customer=customer)
    marked = "maria<wbr>.aparecida<wbr>@exemplo<wbr>.com<wbr>.br"
    for url in (reverse("schedules:list"), reverse("billing:customer_list")):
        page = owner_client.get(url).content.decode()
        assert marked in page, url
