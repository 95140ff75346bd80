"""A schedule's page on a phone (390 px): every action is on screen without scrolling sideways,
the installments' "Baixar PDF" included (the installments table becomes one card per
installment)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = (
    "Parcela",
    "Vencimento",
    "Valor",
    "Situação",
    "Entrega",
    "Registro",
    "Pagamento",
    "Boleto",
)


def _outside(page, locator) -> list[str]:
    """Each visible element of ``locator`` whose box sticks out of the viewport sideways."""
    width = page.viewport_size["width"]
    found = []
    for i in range(locator.count()):
        element = locator.nth(i)
        if not element.is_visible():
            continue
        box = element.bounding_box()
        if box["x"] < 0 or box["x"] + box["width"] > width:
            right = box["x"] + box["width"]
            found.append(f"{element.inner_text().strip()!r} at x={box['x']:.0f}..{right:.0f}")
    return found


def test_every_action_of_the_schedule_page_is_on_a_phone_screen(
    make_context, login, owner, deactivated, screenshot
):
    schedule = deactivated["schedule"]
    context = make_context("phone")
    login(context, owner)
    page = context.new_page()
    page.goto(schedule.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"nº {schedule.number}")
    screenshot(page, "schedule-phone")

    width = page.viewport_size["width"]
    assert width == 390
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert horizontal_overflow(page) is None, horizontal_overflow(page)

    # The actions a merchant needs here, each where a thumb reaches it.
    installments = page.locator("#parcelas")
    named = [
        page.get_by_role("link", name="Corrigir e-mail e reativar"),
        page.get_by_role("link", name="Abrir chamado"),
        page.get_by_role("link", name="Cancelar agendamento"),
        installments.get_by_role("link", name="Baixar PDF"),
    ]
    for action in named:
        expect(action.first).to_be_visible()
        box = action.first.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= width, (action, box)
    # And every other link or button of the page.
    everything = page.locator("main").locator("a, button, input[type=submit], summary")
    assert everything.count() >= 6
    assert _outside(page, everything) == []
    # The installment's data reads as a card: each value with its label.
    card = installments.get_by_role("row").filter(has_text="Baixar PDF").first
    labels = card.locator("th, td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels == [f'"{label}"' for label in LABELS], labels
    expect(card).to_contain_text("Não entregue")
