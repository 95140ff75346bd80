"""Bench-only settings (bench/webhook.py): production settings, URLconf with a no-op view added."""

from portal.settings.production import *  # noqa: F401,F403

ROOT_URLCONF = "bench.noop_urls"
