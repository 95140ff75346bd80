"""Login throttling (django-axes) and security headers (Content-Security-Policy)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _attempt(client, password, username="dona.maria"):
    return client.post(reverse("login"), {"username": username, "password": password})


class TestLoginThrottling:
    def test_locks_out_after_the_failure_limit_with_a_portuguese_page(self, client, settings):
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_user("dona.maria", password="senha-certa-2026")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            response = _attempt(client, "errada")
            assert response.status_code == 200  # the form again, with its error
        response = _attempt(client, "errada")
        assert response.status_code == 429
        page = response.content.decode()
        assert "Acesso bloqueado temporariamente" in page
        assert "15 minutos" in page
        # Even the right password is refused while locked out.
        assert _attempt(client, "senha-certa-2026").status_code == 429

    def test_other_users_are_not_locked_out_by_someone_elses_failures(self, client, settings):
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_user("seu.joao", password="senha-certa-2026")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _attempt(client, "errada")
        response = _attempt(client, "senha-certa-2026", username="seu.joao")
        assert response.status_code == 302

    def test_a_successful_login_resets_the_count(self, client, settings):
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_user("dona.maria", password="senha-certa-2026")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            _attempt(client, "errada")
        assert _attempt(client, "senha-certa-2026").status_code == 302
        client.post(reverse("logout"))
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _attempt(client, "errada").status_code == 200
        assert _attempt(client, "senha-certa-2026").status_code == 302


class TestSecurityHeaders:
    def test_pages_carry_a_strict_content_security_policy(self, owner_client):
        response = owner_client.get(reverse("dashboard"))
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy

    def test_pages_have_no_inline_script_or_style(self, owner_client):
        # What the policy forbids must not be in the HTML either (the browser tests check
        # that Chromium reports no violation on every screen).
        for name in ("dashboard", "schedules:list", "billing:boleto_list", "schedules:create"):
            html = owner_client.get(reverse(name)).content.decode()
            assert "<style" not in html
            assert " style=" not in html
            assert "<script>" not in html
            assert " onclick=" not in html


class TestLoginInput:
    """Whatever is typed as the username, a wrong login is an ordinary failed login."""

    @pytest.mark.parametrize("length", [255, 256, 300, 5000])
    def test_a_very_long_username_is_an_ordinary_failed_login(self, client, length):
        response = _attempt(client, "errada", username="a" * length)
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
        from axes.models import AccessAttempt

        # Still counted by the lockout (the same person retrying hits the limit).
        assert AccessAttempt.objects.count() == 1

    def test_a_very_long_username_locks_out_like_any_other(self, client, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _attempt(client, "errada", username="b" * 400).status_code == 200
        assert _attempt(client, "errada", username="b" * 400).status_code == 429

    def test_the_admin_login_takes_a_very_long_username_too(self, client):
        response = client.post(
            reverse("admin:login"), {"username": "c" * 1000, "password": "errada"}
        )
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
