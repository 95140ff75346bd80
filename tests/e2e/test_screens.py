"""Every main screen at desktop (1280) and phone (390) width: it opens, has its heading, nothing
scrolls sideways, and a full-page screenshot is saved (test-results/screenshots/)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (artifact name, URL, heading level 1; {number} is the deactivated schedule's number; None:
# the merchant's name)
SCREENS = [
    ("dashboard", "/", None),
    ("boletos", "/boletos/", "Gerenciar Boletos"),
    ("schedules-active", "/agendamentos/?status=active", "Gerenciar Boletos"),
    ("schedules-deactivated", "/agendamentos/?status=deactivated", "Gerenciar Boletos"),
    ("schedules-cancelled", "/agendamentos/?status=cancelled", "Gerenciar Boletos"),
    ("schedule-detail", "/agendamentos/{number}/", "Agendamento nº {number}"),
    ("schedule-reactivate", "/agendamentos/{number}/reativar/", "Corrigir e-mail e reativar"),
    ("schedule-cancel", "/agendamentos/{number}/cancelar/", "Cancelar agendamento nº {number}"),
    ("schedule-create", "/agendamentos/novo/", "Novo agendamento"),
    ("customers", "/clientes/", "Clientes"),
    ("tickets", "/chamados/", "Chamados"),
    ("ticket-create", "/chamados/novo/?agendamento={number}", "Abrir chamado"),
    ("settings", "/configuracoes/", "Configurações"),
    ("users", "/configuracoes/usuarios/", "Configurações"),
    ("bank-collection", "/configuracoes/cobranca/", "Configurações"),
    ("bank-files", "/arquivos/", "Gerenciar Boletos"),
]
ANONYMOUS = [
    ("login", "/entrar/", "Entrar"),
    ("password-reset", "/senha/redefinir/", "Esqueci minha senha"),
]


@pytest.fixture(params=["desktop", "phone"])
def screen_page(request, make_context):
    return make_context(request.param).new_page()


def test_main_screens(screen_page, login, owner, merchant, deactivated, screenshot):
    page = screen_page
    number = deactivated["schedule"].number

    overflows = []  # every screen is visited and captured before failing on these
    for name, url, heading in ANONYMOUS:
        response = page.goto(url)
        assert response.status == 200, url
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        overflows.append(horizontal_overflow(page))
        screenshot(page, name)

    login(page.context, owner)
    for name, url, heading in SCREENS:
        response = page.goto(url.format(number=number))
        assert response.status == 200, url
        h1 = page.get_by_role("heading", level=1)
        expect(h1).to_contain_text((heading or str(merchant)).format(number=number))
        # The main navigation is there and usable at this width.
        nav = page.get_by_role("navigation", name="Navegação principal")
        expect(nav.get_by_role("link", name="Gerenciar Boletos")).to_be_visible()
        overflows.append(horizontal_overflow(page))
        screenshot(page, name)
    if any(overflows):
        pytest.fail("\n".join(o for o in overflows if o), pytrace=False)
