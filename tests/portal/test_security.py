"""Login throttling (django-axes) and security headers (Content-Security-Policy)."""

from pathlib import Path

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


PROXIES = ["10.0.0.2", "10.0.0.3"]  # the nearest proxy last (it is REMOTE_ADDR)


def _through_proxies(client, count, client_address, password, *, spoofed=None, **kwargs):
    """A login POST as it reaches the portal behind ``count`` proxies: each proxy appends the
    address it received the request from to X-Forwarded-For; the last one is REMOTE_ADDR."""
    hops = [client_address, *PROXIES[: count - 1]]
    forwarded = ", ".join([*([spoofed] if spoofed else []), *hops])
    return client.post(
        reverse("login"),
        {"username": kwargs.get("username", "dona.maria"), "password": password},
        REMOTE_ADDR=PROXIES[count - 1],
        HTTP_X_FORWARDED_FOR=forwarded,
    )


class TestLoginBehindProxies:
    @pytest.fixture(autouse=True)
    def _user(self, db):
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_user("dona.maria", password="senha-certa-2026")

    @pytest.mark.parametrize("count", [1, 2])
    def test_the_attacker_is_locked_out_and_the_real_user_still_logs_in(
        self, client, settings, count
    ):
        from axes.models import AccessAttempt
        from django.test import Client

        settings.TRUSTED_PROXY_COUNT = count
        attacker, user = "203.0.113.7", "198.51.100.20"
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _through_proxies(client, count, attacker, "errada")
        assert _through_proxies(client, count, attacker, "senha-certa-2026").status_code == 429
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {attacker}

        response = _through_proxies(Client(), count, user, "senha-certa-2026")
        assert response.status_code == 302
        assert response["Location"] == reverse("dashboard")

    @pytest.mark.parametrize("count", [1, 2])
    def test_a_forged_x_forwarded_for_does_not_escape_the_lockout(self, client, settings, count):
        # The client may send its own X-Forwarded-For: the proxies append to it, so only the
        # entries they added are trusted (counted from the right), never the first one.
        settings.TRUSTED_PROXY_COUNT = count
        attacker = "203.0.113.7"
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            _through_proxies(client, count, attacker, "errada", spoofed=f"192.0.2.{attempt}")
        response = _through_proxies(client, count, attacker, "errada", spoofed="192.0.2.99")
        assert response.status_code == 429

    def test_without_proxies_the_header_is_ignored(self, client, settings):
        from axes.models import AccessAttempt

        settings.TRUSTED_PROXY_COUNT = 0
        client.post(
            reverse("login"),
            {"username": "dona.maria", "password": "errada"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR="192.0.2.1",
        )
        assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]


class TestClientAddress:
    """portal.client_ip.client_ip: the address the trusted proxies saw the request come from."""

    @pytest.mark.parametrize(
        ("count", "forwarded", "remote", "expected"),
        [
            (0, "", "203.0.113.7", "203.0.113.7"),
            (0, "192.0.2.1", "203.0.113.7", "203.0.113.7"),
            (1, "203.0.113.7", "10.0.0.2", "203.0.113.7"),
            (1, "192.0.2.1, 203.0.113.7", "10.0.0.2", "203.0.113.7"),
            (2, "192.0.2.1, 203.0.113.7, 10.0.0.2", "10.0.0.3", "203.0.113.7"),
            (1, "2001:db8::1", "10.0.0.2", "2001:db8::1"),
            (1, "[2001:db8::1]:4711", "10.0.0.2", "2001:db8::1"),
            (1, "203.0.113.7:4711", "10.0.0.2", "203.0.113.7"),
            # Fewer entries than proxies, or garbage where the client's address should be:
            # not trusted, the nearest peer is used (never a 500, never the forged value).
            (2, "203.0.113.7", "10.0.0.3", "10.0.0.3"),
            (1, "", "10.0.0.2", "10.0.0.2"),
            (1, "unknown", "10.0.0.2", "10.0.0.2"),
            (1, "192.0.2.1, <script>", "10.0.0.2", "10.0.0.2"),
        ],
    )
    def test_client_address(self, rf, settings, count, forwarded, remote, expected):
        from portal.client_ip import client_ip

        settings.TRUSTED_PROXY_COUNT = count
        request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == expected

    def test_the_proxy_count_comes_from_axes_proxy_count(self):
        import os
        import subprocess
        import sys

        code = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev"}
        env["AXES_PROXY_COUNT"] = "2"
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); " + code],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "2"
