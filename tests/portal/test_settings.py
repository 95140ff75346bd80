import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _setup(env_overrides: dict, module: str = "portal.settings.production"):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_ALLOWED_HOSTS"}}
    env.update({"DJANGO_SETTINGS_MODULE": module, **env_overrides})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _setup({"DJANGO_ALLOWED_HOSTS": "boletos.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_starts_with_its_variables():
    result = _setup({"SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "boletos.example.com"})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_business_locale_and_time_zone():
    assert settings.TIME_ZONE == "America/Sao_Paulo"
    # One business time zone: Django's localdate()/localtime() read the same clock.
    assert settings.BUSINESS_TIME_ZONE == settings.TIME_ZONE
    assert settings.LANGUAGE_CODE == "pt-br"
    assert settings.USE_TZ is True


def test_database_url_switches_to_postgresql():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DATABASE_URL": "postgres://u@db.example:5432/portal",
        "REDIS_URL": "redis://cache.example:6379/0",
    }
    code += "; print(settings.CELERY_BROKER_URL)"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache.example:6379/0",
    ]


def test_every_beat_entry_names_a_registered_task():
    from portal.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert names
    assert names <= set(app.tasks.keys())


def test_production_passes_check_deploy_with_zero_warnings():
    """`manage.py check --deploy --fail-level WARNING` on the production settings: secure
    cookies, HSTS, SSL redirect behind the proxy header, a real secret key."""
    # The test process sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright (tests/conftest.py);
    # a deployment never does.
    dropped = {"SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "kq3-Hn8v!Zr2xP7wL0c#Tj5mB9yF4sD6gA1eQ-uV_oN3iK8hR2tX7zC5bM0pW4lJ",
            "DJANGO_ALLOWED_HOSTS": "boletos.example.com",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://boletos.example.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
