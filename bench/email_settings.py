"""Bench-only settings (bench/email_pipeline.py), for its Celery worker and its own process.

The shared settings (``portal.settings.base``: DATABASE_URL, CELERY_BROKER_URL, REDIS_URL from
the environment) with:

* anymail's test backend as the email backend: anymail builds the message's payload (recipients,
  subject, text and HTML bodies, the PDF attachment, metadata, tags) as for any ESP, and only the
  ESP's HTTP API call is not made (the message is kept in the process's ``mail.outbox``);
* ``MEDIA_ROOT`` in the temporary folder the benchmark creates (``BENCH_MEDIA_ROOT``, required),
  so stored PDFs never land in ``var/media``;
* DEBUG off (DEBUG would keep every SQL statement of the worker in memory).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from portal.settings.base import *  # noqa: F401,F403

SECRET_KEY = "bench-email-pipeline-not-a-secret"
DEBUG = False

EMAIL_BACKEND = "anymail.backends.test.EmailBackend"

if not os.environ.get("BENCH_MEDIA_ROOT"):
    raise ImproperlyConfigured("BENCH_MEDIA_ROOT must name the benchmark's temporary folder.")
MEDIA_ROOT = Path(os.environ["BENCH_MEDIA_ROOT"])

# What-if (``bench/email_pipeline.py --db-reuse-max N``): Celery's Django fixup closes the
# database connection before and after every task unless CELERY_DB_REUSE_MAX is set; with it,
# a connection serves N tasks (and Django's CONN_MAX_AGE applies). Unset: the product's behaviour.
if os.environ.get("BENCH_CELERY_DB_REUSE_MAX"):
    CELERY_DB_REUSE_MAX = int(os.environ["BENCH_CELERY_DB_REUSE_MAX"])
