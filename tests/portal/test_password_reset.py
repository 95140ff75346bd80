"""Esqueci minha senha: Django's reset flow in Portuguese, with links on PORTAL_BASE_URL; the
email goes out from a worker, at most 3 per address per hour, and a client asking too often is
told to wait; the answer is the same whatever the address."""

import re
import threading

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
def reset(client, django_capture_on_commit_callbacks):
    """POST the reset form as a browser does, then run what the request queued (the task)."""

    def post(email, *, on=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return (on or client).post(RESET, {"email": email}, **extra)

    return post


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


def test_reset_email_is_in_portuguese_and_uses_the_portal_address(client, user, reset):
    page = client.get(RESET)
    assert "Informe o e-mail do seu usuário" in page.content.decode()

    response = reset("Carla@Example.com", HTTP_HOST="127.0.0.1")
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


def test_unknown_email_gets_the_same_answer_and_no_email(client, user, reset):
    response = reset("ninguem@example.com")
    assert response["Location"] == reverse("password_reset_done")
    assert not mail.outbox


def test_bad_email_is_refused_in_portuguese(client):
    response = client.post(RESET, {"email": "carla@"})
    assert response.status_code == 200
    assert "Informe um endereço de email válido." in response.context["form"].errors["email"]
    assert 'value="carla@"' in response.content.decode()


def test_reset_end_to_end_token_link_new_password_login(client, user, reset):
    reset("carla@example.com")
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


def test_tampered_token_is_refused(client, user, reset):
    reset("carla@example.com")
    link = reset_link(mail.outbox[0]).removeprefix(BASE_URL)
    tampered = re.sub(r"/[^/]+/$", "/abc-123/", link)
    page = Client().get(tampered)
    assert page.status_code == 200
    assert "Link inválido ou expirado" in page.content.decode()


def test_invited_user_without_a_password_can_ask_for_a_link(client, merchant, reset):
    invited = UserFactory(username="novo@example.com", email="novo@example.com")
    invited.set_unusable_password()
    invited.save()
    MembershipFactory(merchant=merchant, user=invited, role="member")
    reset("novo@example.com")
    assert len(mail.outbox) == 1


def test_user_without_password_nor_membership_gets_nothing(client, reset):
    stray = UserFactory(username="solto@example.com", email="solto@example.com")
    stray.set_unusable_password()
    stray.save()
    reset("solto@example.com")
    assert not mail.outbox


# --- Sent from a worker, throttled, the same answer for every address ------------------------


def test_the_request_only_queues_the_email_a_worker_sends_it(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(RESET, {"email": "carla@example.com"})
    assert response.status_code == 302
    assert not mail.outbox  # nothing sent while the browser waits
    assert len(queued) == 1
    queued[0]()  # the task, published after commit (run eagerly in tests)
    assert [m.to for m in mail.outbox] == [["carla@example.com"]]


def test_known_and_unknown_addresses_get_the_same_answer(
    client, user, django_capture_on_commit_callbacks
):
    answers = []
    for email in ("carla@example.com", "ninguem@example.com"):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = Client().post(RESET, {"email": email}, follow=True)
        answers.append((response.status_code, response.redirect_chain, len(queued)))
        answers[-1] += (response.content.decode().replace("csrfmiddlewaretoken", ""),)
    assert answers[0][:3] == answers[1][:3]
    assert answers[0][3] == answers[1][3]
    assert not mail.outbox


def test_at_most_three_emails_per_address_per_hour(user, reset):
    from datetime import timedelta

    from django.utils import timezone

    # From several clients and spelled several ways: it is the address that counts.
    for attempt in range(6):
        email = "carla@example.com" if attempt % 2 else "CARLA@example.com"
        response = reset(email, on=Client(REMOTE_ADDR=f"198.51.100.{attempt}"))
        assert response["Location"] == reverse("password_reset_done")  # always the same
    assert len(mail.outbox) == 3

    # An hour after the first one, one more may go.
    from portal.models import RateLimit

    hour_ago = (timezone.now() - timedelta(minutes=61)).timestamp()
    row = RateLimit.objects.get(scope="password_reset_email")
    row.hits = [hour_ago, *row.hits[1:]]
    row.save()
    reset("carla@example.com")
    reset("carla@example.com")
    assert len(mail.outbox) == 4


def test_another_address_is_not_held_back_by_one_that_hit_its_limit(merchant, user, reset):
    other = MembershipFactory(
        merchant=merchant, user=UserFactory(username="bia", email="bia@example.com")
    ).user
    for _ in range(4):
        reset(user.email, on=Client(REMOTE_ADDR="198.51.100.1"))
    reset(other.email, on=Client(REMOTE_ADDR="198.51.100.2"))
    assert [m.to[0] for m in mail.outbox].count("bia@example.com") == 1


def test_a_client_asking_too_often_is_told_to_wait(user, reset, settings):
    limit = settings.PASSWORD_RESET_REQUESTS_PER_CLIENT
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(limit):
        response = reset(f"alvo{attempt}@example.com", on=attacker)
        assert response.status_code == 302
    # Whatever address comes next (an existing one included), this client must wait.
    response = reset("carla@example.com", on=attacker)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Muitos pedidos de nova senha" in body
    assert "tente de novo em 60 minutos" in body
    assert not mail.outbox
    # Another client is not affected.
    assert reset("carla@example.com", on=Client(REMOTE_ADDR="198.51.100.20")).status_code == 302
    assert len(mail.outbox) == 1


def test_the_client_is_the_address_behind_the_proxy(user, reset, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    limit = settings.PASSWORD_RESET_REQUESTS_PER_CLIENT
    for attempt in range(limit):
        reset(
            f"alvo{attempt}@example.com",
            on=Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7"),
        )
    proxied = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert reset("carla@example.com", on=proxied).status_code == 302
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_address_send_at_most_three(merchant):
    from django.db import connections

    from portal import services

    user = MembershipFactory(
        merchant=merchant, user=UserFactory(username="carla", email="carla@example.com")
    ).user
    barrier = threading.Barrier(8)
    errors = []

    def send():
        try:
            barrier.wait()
            services.password_reset_send(email=user.email)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(mail.outbox) == 3
