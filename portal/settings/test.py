"""Tests: fast hashing, in-memory email, Celery tasks run in-process unless a test runs a worker."""

import os
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
EMAIL_MX_CHECK = env.bool("EMAIL_MX_CHECK", default=False)  # no DNS from tests
# The ops-alert throttle lives in Redis when this is set; tests that
# exercise that path set it themselves (unique keys), so parallel test runs never share flags.
COORDINATION_REDIS_URL = ""
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Rendered PDFs go to a scratch folder shared by the test process and the workers it starts.
MEDIA_ROOT = Path(
    env.str("MEDIA_ROOT", default=str(Path(tempfile.gettempdir()) / "portal-test-media"))
)

# Several test runs may share one PostgreSQL server (two checkouts, a helper's run next to CI):
# each gets its own test database, or one run's setup would drop the database under the other.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"  # noqa: F405
    }
