"""Tests: fast hashing, in-memory email, Celery tasks run in-process unless a test runs a worker."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import env

SECRET_KEY = "tests-only-not-secret"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Rendered PDFs go to a scratch folder shared by the test process and the workers it starts.
MEDIA_ROOT = Path(
    env.str("MEDIA_ROOT", default=str(Path(tempfile.gettempdir()) / "portal-test-media"))
)
