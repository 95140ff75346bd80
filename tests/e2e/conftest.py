"""Browser fixtures: Playwright drives Debian's Chromium (/usr/bin/chromium) against
pytest-django's live_server, in the same process (toolchain.md §1–2).

DJANGO_ALLOW_ASYNC_UNSAFE is set at import time by tests/conftest.py. Every test here is marked
``browser``: skipped on a laptop without /usr/bin/chromium, a failure in CI (tests/conftest.py).

Artifacts (gitignored ``test-results/``): full-page screenshots of the main screens in
``test-results/screenshots/`` (emptied when a run takes its first screenshot); a screenshot of
each failing test in ``test-results/playwright/`` (``--screenshot only-on-failure --output``,
pyproject addopts; pytest-playwright empties that folder at the start of every pytest run, which
is why the screenshots live beside it, not in it).
"""

import base64
import json
import re
import shutil
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests import WEBHOOKS

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "senha-de-teste-123"  # tests.factories.UserFactory
WEBHOOK_SECRET = "heldout:webhook-secret"

# A broken page fails in seconds, not after Playwright's default 30 s.
expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--disable-gpu", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "locale": "pt-BR",
        "timezone_id": "America/Sao_Paulo",
        "accept_downloads": True,
    }


VIEWPORTS = {
    "desktop": {"viewport": DESKTOP},
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}


@pytest.fixture
def make_context(new_context):
    """make_context("desktop" | "phone", **options) → a browser context at that width.

    A JavaScript error in any page of these contexts (an uncaught exception, a failed htmx
    swap) fails the test at teardown."""
    page_errors = []

    def _make(kind: str = "desktop", **options):
        context = new_context(**VIEWPORTS[kind], **options)
        context.set_default_timeout(5_000)

        def watch(page):
            page.on("pageerror", lambda error: page_errors.append((page.url, error)))
            # The Content-Security-Policy must hold on every page: Chromium reports each blocked
            # script, style or request as a console error.
            page.on(
                "console",
                lambda message: (
                    page_errors.append((page.url, message.text))
                    if "Content Security Policy" in message.text
                    else None
                ),
            )

        context.on("page", watch)
        return context

    yield _make
    assert not page_errors, f"JavaScript errors: {page_errors}"


@pytest.fixture
def context(make_context):
    return make_context("desktop")


@pytest.fixture
def login(live_server):
    """Fast login: a real session made by Django's test client, its cookie put in the browser."""

    def _login(context, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return _login


@pytest.fixture(scope="session")
def screenshots_folder(pytestconfig) -> Path:
    folder = pytestconfig.rootpath / "test-results" / "screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def screenshot(screenshots_folder):
    """screenshot(page, "name") → test-results/screenshots/name-<width>.png, full page."""
    folder = screenshots_folder

    def _take(page, name: str) -> Path:
        path = folder / f"{name}-{page.viewport_size['width']}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return _take


def horizontal_overflow(page) -> str | None:
    """None if nothing sticks out sideways (the document is no wider than the window it was
    opened in), else what does.

    Measured against the configured viewport, not window.innerWidth: a mobile browser zooms out
    to fit content that overflows, and innerWidth grows with it."""
    width = page.viewport_size["width"]
    found = page.evaluate(
        """(width) => ({
            doc: document.documentElement.scrollWidth,
            wide: [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')),
        })""",
        width,
    )
    if found["doc"] <= width:
        return None
    return (
        f"{page.url} scrolls sideways at {width}px: document {found['doc']}px wide; "
        f"first elements past the edge: {found['wide']}"
    )


# --- Test data, built through the services and the real webhook -------------------------------


@pytest.fixture
def customer(merchant):
    from tests.factories import CustomerFactory

    # The address the merchant mistyped (the bounce below says it does not exist).
    return CustomerFactory(merchant=merchant, name="Joana Bezerra", email="joana.bezerra@gmial.com")


def schedule_create(merchant, customer, *, due_in_days: int, amount="189.90", actor=None):
    from schedules.services import schedule_create as create

    return create(
        merchant=merchant,
        customer=customer,
        amount=Decimal(amount),
        frequency_months=1,
        first_due_date=timezone.localdate() + timedelta(days=due_in_days),
        lead_days=10,
        description="Mensalidade",
        actor=actor,
    )


def post_bounce(live_server, outbound, name="postmark_bounce_1.json") -> None:
    """The ESP's real-format bounce for this email, over HTTP to the live server."""
    payload = json.loads((WEBHOOKS / name).read_text())
    payload.update(
        {
            "MessageID": outbound.message_id,
            "Email": outbound.recipient,
            "Details": payload["Details"].replace(payload["Email"], outbound.recipient),
            "BouncedAt": timezone.now().isoformat(),
        }
    )
    request = urllib.request.Request(
        live_server.url + "/anymail/postmark/tracking/",
        data=json.dumps(payload).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode(),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local URL
        assert response.status == 200


@pytest.fixture
def deactivated(live_server, settings, merchant, owner, customer):
    """A schedule whose first boleto was issued, emailed and hard-bounced (address unknown):
    deactivated, the boleto não entregue, an open MerchantAlert, the alert email sent.

    Everything goes through the real code: schedule_create issues at once (lead window), the
    eager Celery task emails the boleto, the ESP's bounce arrives at the tracking webhook.
    A few other schedules of the same merchant make the list worth searching."""
    from billing.models import Boleto
    from notifications.models import MerchantAlert, OutboundEmail
    from schedules.models import ScheduleStatus
    from tests.factories import CustomerFactory

    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    for n in range(3):
        other = CustomerFactory(merchant=merchant, name=f"Cliente Ativo {n}")
        schedule_create(merchant, other, due_in_days=60 + n)
    schedule = schedule_create(merchant, customer, due_in_days=5, actor=owner)
    boleto = Boleto.objects.get(schedule=schedule, sequence=1)
    outbound = OutboundEmail.objects.get(boleto=boleto)
    assert outbound.recipient == "joana.bezerra@gmial.com"
    mail.outbox.clear()

    post_bounce(live_server, outbound)

    schedule.refresh_from_db()
    boleto.refresh_from_db()
    assert schedule.status == ScheduleStatus.DEACTIVATED
    assert boleto.delivery_status == Boleto.DeliveryStatus.UNDELIVERED
    alert = MerchantAlert.objects.get(schedule=schedule)
    (alert_email,) = [m for m in mail.outbox if m.to == [merchant.alert_email]]
    return {
        "schedule": schedule,
        "boleto": boleto,
        "alert": alert,
        "alert_email": alert_email,
        # What the merchant reads in the alert email and types in the search box.
        "number_from_email": re.search(r"nº (\d+)", alert_email.subject).group(1),
    }


def assert_boleto_pdf(data: bytes, boleto) -> str:
    """A real PDF carrying this boleto's linha digitável (as printed: FEBRABAN-formatted)."""
    import io

    from pypdf import PdfReader

    from billing.febraban import format_linha

    assert data[:5] == b"%PDF-", data[:20]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    text = re.sub(r"\s+", " ", text.replace("\xa0", " "))
    assert boleto.linha_digitavel and len(boleto.linha_digitavel) == 47
    assert format_linha(boleto.linha_digitavel) in text, text[:500]
    return text
