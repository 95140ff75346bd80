"""Another merchant's URLs are a 404 in the browser, and nothing of theirs shows anywhere."""

import pytest
from playwright.sync_api import expect

from billing.models import Boleto
from tests.e2e.conftest import schedule_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET_NAME = "Cliente Secreto da Outra"


@pytest.fixture
def theirs(other_merchant, other_owner):
    """The other merchant's nº 1 and nº 2 (deactivated, with a ticket about it)."""
    from notifications.tickets.services import ticket_create
    from schedules.models import DeactivationCause
    from schedules.services import schedule_deactivate
    from tests.factories import CustomerFactory

    customer = CustomerFactory(merchant=other_merchant, name=SECRET_NAME)
    schedule_create(other_merchant, customer, due_in_days=5)
    schedule = schedule_create(other_merchant, customer, due_in_days=6)
    schedule_deactivate(schedule=schedule, cause=DeactivationCause.INVALID_ADDRESS)
    ticket = ticket_create(
        merchant=other_merchant,
        actor=other_owner,
        subject=f"Sobre {SECRET_NAME}",
        message="Segredo.",
        schedule=schedule,
    )
    return schedule, Boleto.objects.get(schedule=schedule), ticket


def test_another_merchants_urls_are_404(page, login, owner, merchant, theirs):
    from tests.factories import CustomerFactory

    their_schedule, their_boleto, their_ticket = theirs
    ours = schedule_create(merchant, CustomerFactory(merchant=merchant), due_in_days=5)
    # Numbers are per merchant: both have a nº 1; only the other one has a nº 2.
    assert ours.number == 1 and their_schedule.number == 2 and their_ticket.number == 1
    login(page.context, owner)

    # Our own nº 1 opens with our customer (the control), and its PDF downloads.
    assert page.goto(f"/agendamentos/{ours.number}/").status == 200
    expect(page.get_by_text(ours.customer.name)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")

    # Theirs: every page about it is a 404 and shows nothing of theirs.
    n = their_schedule.number
    for url in (
        f"/agendamentos/{n}/",
        f"/agendamentos/{n}/reativar/",
        f"/agendamentos/{n}/cancelar/",
        f"/boletos/{their_boleto.pk}/pdf/",
        f"/boletos/{their_boleto.pk}/pdf/?inline=1",
        f"/chamados/{their_ticket.number}/",
    ):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_text(SECRET_NAME)).to_have_count(0)

    # POSTs from our session (valid CSRF token) to cancel or reactivate theirs: 404, unchanged.
    for url, form in (
        (f"/agendamentos/{n}/cancelar/", {}),
        (f"/agendamentos/{n}/reativar/", {"email": "x@example.com", "keep_email": "on"}),
    ):
        response = page.request.post(
            url,
            form={"csrfmiddlewaretoken": token, **form},
            headers={"Referer": page.url},
            max_redirects=0,
        )
        assert response.status == 404, url
    their_schedule.refresh_from_db()
    assert their_schedule.status == "deactivated"

    # Their number typed where ours are looked up finds nothing.
    page.goto(f"/agendamentos/?status=deactivated&q={n}")
    expect(page.get_by_text(f"Nenhum agendamento desativado com o número {n}.")).to_be_visible()
    expect(page.get_by_role("link", name=f"Abrir o agendamento nº {n}")).to_have_count(0)
    page.goto(f"/chamados/novo/?agendamento={n}")
    expect(page.get_by_text("Agendamento não encontrado.")).to_be_visible()

    # Nothing of theirs in our lists, exports or tickets.
    for url in (
        "/",
        "/boletos/",
        "/agendamentos/?status=active",
        "/agendamentos/?status=deactivated",
        "/clientes/",
        "/chamados/",
        f"/chamados/novo/?agendamento={n}",
    ):
        page.goto(url)
        expect(page.get_by_text(SECRET_NAME)).to_have_count(0)
    csv = page.request.get("/agendamentos/exportar.csv?status=deactivated")
    assert csv.ok and SECRET_NAME not in csv.text()
