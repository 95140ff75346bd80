"""Esqueci minha senha: Django's reset flow in Portuguese, with links on PORTAL_BASE_URL."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
BASE_URL = "https://boletos.example.com"
RESET = reverse("password_reset")


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.PORTAL_BASE_URL = BASE_URL


@pytest.fixture
def user(merchant):
    return MembershipFactory(
        merchant=merchant,
        user=UserFactory(username="carla", email="carla@example.com"),
        role="member",
    ).user


def reset_link(message) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


def test_login_page_links_to_password_reset(client):
    body = client.get(reverse("login")).content.decode()
    assert f'href="{RESET}"' in body
    assert "Esqueci minha senha" in body


def test_reset_email_is_in_portuguese_and_uses_the_portal_address(client, user):
    page = client.get(RESET)
    assert "Informe o e-mail do seu usuário" in page.content.decode()

    response = client.post(RESET, {"email": "Carla@Example.com"}, HTTP_HOST="127.0.0.1")
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert "Verifique seu e-mail" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carla@example.com"]
    assert message.subject == "Redefinição de senha do Portal de Boletos"
    assert "nova senha para o usuário carla no Portal de Boletos" in message.body
    assert "Se você não pediu a troca de senha, ignore este e-mail" in message.body
    link = reset_link(message)
    assert link.startswith(f"{BASE_URL}/senha/redefinir/")
    assert "127.0.0.1" not in message.body  # not the request's Host


def test_unknown_email_gets_the_same_answer_and_no_email(client, user):
    response = client.post(RESET, {"email": "ninguem@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert not mail.outbox


def test_bad_email_is_refused_in_portuguese(client):
    response = client.post(RESET, {"email": "carla@"})
    assert response.status_code == 200
    assert "Informe um endereço de email válido." in response.context["form"].errors["email"]
    assert 'value="carla@"' in response.content.decode()


def test_reset_end_to_end_token_link_new_password_login(client, user):
    client.post(RESET, {"email": "carla@example.com"})
    link = reset_link(mail.outbox[0]).removeprefix(BASE_URL)

    browser = Client()
    page = browser.get(link, follow=True)
    assert "Defina sua senha" in page.content.decode()
    assert "Usuário: <strong>carla</strong>" in page.content.decode()
    set_password_url = page.redirect_chain[-1][0]

    # Bad input first: Portuguese errors, nothing changed.
    response = browser.post(
        set_password_url, {"new_password1": "boleto-forte-2026", "new_password2": "outra-coisa"}
    )
    assert response.status_code == 200
    assert "Os dois campos de senha não correspondem." in str(
        response.context["form"].errors["new_password2"]
    )
    response = browser.post(set_password_url, {"new_password1": "123", "new_password2": "123"})
    errors = str(response.context["form"].errors["new_password2"])
    assert "Esta senha é muito curta" in errors

    response = browser.post(
        set_password_url,
        {"new_password1": "boleto-forte-2026", "new_password2": "boleto-forte-2026"},
        follow=True,
    )
    assert "Senha definida" in response.content.decode()

    # The login form takes the new password (and no longer the old one).
    login = Client()
    response = login.post(reverse("login"), {"username": "carla", "password": "senha-de-teste-123"})
    assert response.status_code == 200
    response = login.post(reverse("login"), {"username": "carla", "password": "boleto-forte-2026"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert login.get(reverse("dashboard")).status_code == 200

    # The link works once.
    again = Client().get(link, follow=True)
    assert "Link inválido ou expirado" in again.content.decode()


def test_tampered_token_is_refused(client, user):
    client.post(RESET, {"email": "carla@example.com"})
    link = reset_link(mail.outbox[0]).removeprefix(BASE_URL)
    tampered = re.sub(r"/[^/]+/$", "/abc-123/", link)
    page = Client().get(tampered)
    assert page.status_code == 200
    assert "Link inválido ou expirado" in page.content.decode()


def test_invited_user_without_a_password_can_ask_for_a_link(client, merchant):
    invited = UserFactory(username="novo@example.com", email="novo@example.com")
    invited.set_unusable_password()
    invited.save()
    MembershipFactory(merchant=merchant, user=invited, role="member")
    client.post(RESET, {"email": "novo@example.com"})
    assert len(mail.outbox) == 1


def test_user_without_password_nor_membership_gets_nothing(client):
    stray = UserFactory(username="solto@example.com", email="solto@example.com")
    stray.set_unusable_password()
    stray.save()
    client.post(RESET, {"email": "solto@example.com"})
    assert not mail.outbox
