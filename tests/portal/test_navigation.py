"""The top bar and the Gerenciar Boletos tabs mark where the merchant is (issue 13 item 6)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _current_links(html: str) -> list[str]:
    """The text of every link marked aria-current (page or section)."""
    return [
        re.sub(r"<[^>]+>|\s+", " ", text).strip()
        for text in re.findall(r"<a [^>]*aria-current=\"(?:page|true)\"[^>]*>(.*?)</a>", html, re.S)
    ]


@pytest.mark.parametrize(
    ("url_name", "section", "tab"),
    [
        ("dashboard", "Painel", None),
        ("schedules:list", "Gerenciar Boletos", "Agendados"),
        ("billing:boleto_list", "Gerenciar Boletos", "Boletos"),
        ("billing:customer_list", "Clientes", None),
        ("account:settings", "Configurações", None),
        ("notifications:ticket_list", "Chamados", None),
    ],
)
def test_the_current_section_and_tab_are_marked(owner_client, url_name, section, tab):
    response = owner_client.get(reverse(url_name))
    assert response.status_code == 200
    current = _current_links(response.content.decode())
    assert section in current
    others = {"Painel", "Gerenciar Boletos", "Clientes", "Configurações", "Chamados"} - {section}
    assert not others & set(current)
    if tab:
        assert tab in current


def test_the_stylesheet_styles_both_kinds_of_current_link():
    """aria-current="true" (a section, the Agendados tab) was left unstyled: no highlight."""
    css = open(finders.find("css/portal.css"), encoding="utf-8").read()
    assert '.tabs a[aria-current="true"]' in css
    assert ".topbar nav a[aria-current]" in css
