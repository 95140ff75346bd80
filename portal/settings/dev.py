"""Local development: DEBUG on, a per-machine secret kept under var/."""

import secrets

from .base import *  # noqa: F401,F403
from .base import ANYMAIL, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _local_secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()

# A local webhook secret so the tracking endpoints can be exercised without an ESP.
ANYMAIL = {
    **ANYMAIL,
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="dev:dev-webhook-secret"),
}
