from datetime import date

import pytest
from django.urls import reverse

from portal.tenancy import MerchantScopedMixin
from schedules.generator import installments_issue_due
from tests.factories import ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_in_portuguese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="pt-br">' in body
    assert "Entrar" in body
    assert "Usuário" in body and "Senha" in body


def test_login_with_wrong_password_says_so_in_portuguese(client, owner):
    response = client.post(reverse("login"), {"username": owner.username, "password": "errada"})
    assert response.status_code == 200
    assert "Por favor, entre com um usuário  e senha corretos" in response.content.decode()


def test_login_then_dashboard(client, owner, merchant):
    response = client.post(
        reverse("login"), {"username": owner.username, "password": "senha-de-teste-123"}
    )
    assert response.status_code == 302
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert merchant.trade_name in response.content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_user_without_merchant_is_refused(client):
    client.force_login(UserFactory())
    assert client.get(reverse("dashboard")).status_code == 403


def test_dashboard_shows_only_own_merchant(client, owner, merchant, other_merchant):
    mine = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    theirs = ScheduleFactory(merchant=other_merchant, first_due_date=date(2026, 3, 20))
    installments_issue_due(today=date(2026, 3, 10))
    client.force_login(owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert mine.customer.name in body
    assert theirs.customer.name not in body
    assert other_merchant.trade_name not in body


def test_scoped_mixin_refuses_get_queryset_overrides():
    with pytest.raises(TypeError, match="scope_queryset"):

        class Leaky(MerchantScopedMixin):
            def get_queryset(self):  # pragma: no cover - class creation fails first
                return None


def test_healthz_checks_the_database_and_the_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_naming_the_broker_when_it_does_not_answer(client, monkeypatch):
    from portal.celery import app

    # Nothing listens on port 9 of this machine: a real, refused connection.
    # The write URL alone (what the check uses); patching broker_url first would make the
    # undo restore a write URL derived from the patched value.
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "broker": "error"}


def test_compiled_pt_br_catalogue_is_loaded():
    from django.utils import translation

    with translation.override("pt-br"):
        assert translation.gettext("Brazilian Portuguese") == "Português (Brasil)"
