"""Settings shared by every environment, read from the environment in one place.

Defaults are the embedded ones (SQLite, a filesystem Celery broker, email to files) so the portal
runs on a fresh machine with nothing but Python. Setting DATABASE_URL and REDIS_URL (or
CELERY_BROKER_URL) switches to PostgreSQL and Redis with no other change.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Each environment module sets SECRET_KEY; production refuses to start without one.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "axes",
    "anymail",
    "portal",
    "billing",
    "schedules",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # ESP webhooks (/anymail/...) skip everything below: no session, auth, tenancy for them.
    "portal.middleware.WebhookFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store on every response to a logged-in user.
    "portal.middleware.PrivateCacheMiddleware",
    "portal.tenancy.CurrentMerchantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.tenancy.merchant_context",
                "portal.navigation.nav_section",
                "notifications.context_processors.alert_banner",
            ],
            "builtins": ["portal.templatetags.money", "portal.templatetags.texts"],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{(VAR_DIR / 'portal.sqlite3').as_posix()}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: reconnecting per request costs ~6x on small views (toolchain.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite: wait for the writer instead of failing at once when the worker and web overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login throttling (django-axes) -----------------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# locked out for AXES_COOLOFF_MINUTES (a pt-BR page says so); a successful login resets it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on stderr at every start (commands print one line)
AXES_LOCKOUT_CALLABLE = "portal.views.login_locked_out"
# The typed username, cut to axes' 255-character column (a longer one is a failed login, not a
# 500): portal/login_throttle.py.
AXES_USERNAME_CALLABLE = "portal.login_throttle.axes_username"
# The client's address (lockouts are per username and address): with TRUSTED_PROXY_COUNT = N
# reverse proxies in front of the portal, the N-th X-Forwarded-For entry from the right (what
# the outermost proxy saw); 0 = REMOTE_ADDR, the header ignored. portal/client_ip.py says why
# django-ipware's proxy count is not used. The environment variable keeps its documented name.
TRUSTED_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"

# --- Content-Security-Policy (django-csp) ------------------------------------------------------
# Everything the pages load is served by the portal itself (no CDN, no inline script or style;
# htmx is told not to inject its indicator <style>, see base.html). The browser tests fail on
# any violation report (tests/e2e/conftest.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- I18N -------------------------------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Brazilian Portuguese"))]
USE_I18N = True
USE_TZ = True
# The one business time zone (portal/timezones.py): due dates, "today", business-day ranges and
# every date shown. TIME_ZONE is the same zone so that Django's localtime()/localdate() agree.
BUSINESS_TIME_ZONE = "America/Sao_Paulo"
TIME_ZONE = BUSINESS_TIME_ZONE
# Off: with it on, every integer a template prints gets a dot ("nº 1.234", "?page=1.000"), ids
# and page numbers included. Money is formatted explicitly (|brl: "R$ 1.234,56"); counts that
# want a separator use |intcomma (django.contrib.humanize, localized).
USE_THOUSAND_SEPARATOR = False
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="portal.mail.FileEmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Boletos <boletos@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    # Basic-auth "user:password" the ESP's tracking webhook URL carries (anymail checks it in
    # constant time). Comma-separated for rotation: every value listed is accepted.
    "WEBHOOK_SECRET": env.list("ANYMAIL_WEBHOOK_SECRET", default=[]) or None,
    "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
}
# Where the ESP signs its webhooks, anymail verifies the signature too (on top of basic auth)
# once its key is set; each comes from the environment under the name anymail reads:
# - MAILGUN_WEBHOOK_SIGNING_KEY: HMAC-SHA256 of timestamp + token (Mailgun's "HTTP webhook
#   signing key");
# - SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY: ECDSA P-256 over timestamp + body, the
#   "Verification Key" SendGrid shows for its signed event webhook (base64, no PEM header);
# - MAILERSEND_SIGNING_SECRET, MAILTRAP_TRACKING_SECRET, MANDRILL_WEBHOOK_KEY (with
#   MANDRILL_WEBHOOK_URL), POSTAL_WEBHOOK_KEY: the other signing ESPs anymail verifies.
# Postmark, Brevo, Mailjet and SparkPost sign nothing (basic auth only); anymail does not verify
# Amazon SNS signatures. Unset keys are left out (anymail then checks basic auth only).
for _name in (
    "MAILGUN_WEBHOOK_SIGNING_KEY",
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
    "MAILERSEND_SIGNING_SECRET",
    "MAILTRAP_TRACKING_SECRET",
    "MANDRILL_WEBHOOK_KEY",
    "MANDRILL_WEBHOOK_URL",
    "POSTAL_WEBHOOK_KEY",
):
    if env.str(_name, default=""):
        ANYMAIL[_name] = env.str(_name)
# The ESPs whose tracking webhook /anymail/<esp>/tracking/ is served (notifications/
# webhook_urls.py), comma-separated anymail names (postmark, mailgun, amazon_ses, brevo, ...):
# e.g. the old and the new ESP while switching. Empty: the ESP of EMAIL_BACKEND when it is one
# of anymail's; with no ESP backend (dev, tests, the demo, SMTP) every ESP whose webhook is
# configured. Whatever the list, a webhook is served only if anymail has what it needs
# (WEBHOOK_SECRET, or the ESP's signing key where it requires one); every other /anymail/ URL,
# the inbound ones included, is a 404.
WEBHOOK_ESPS = env.list("WEBHOOK_ESPS", default=[])
# Amazon SES tracking webhook (SNS), checked by notifications/sns.py since anymail does not:
# - AMAZON_SNS_TOPIC_ARNS: the SNS topic ARNs we subscribed (comma-separated); a message from
#   any other topic is refused with 400. Empty: the topic is not checked.
# - AMAZON_SNS_VERIFY_SIGNATURES: verify each message's SNS signature (SignatureVersion 1/2,
#   certificate fetched from https://sns.<region>.amazonaws.com and cached). Off by default
#   (test payloads carry placeholder signatures); production with SES should turn it on.
AMAZON_SNS_TOPIC_ARNS = env.list("AMAZON_SNS_TOPIC_ARNS", default=[])
AMAZON_SNS_VERIFY_SIGNATURES = env.bool("AMAZON_SNS_VERIFY_SIGNATURES", default=False)
# The ESP itself: EMAIL_BACKEND picks it (e.g. anymail.backends.postmark.EmailBackend) and its
# credentials come from the environment under anymail's own setting names. Amazon SES takes the
# usual AWS_* variables (boto3).
for _name in (
    "POSTMARK_SERVER_TOKEN",
    "SENDGRID_API_KEY",
    "MAILGUN_API_KEY",
    "MAILGUN_SENDER_DOMAIN",
    "MAILGUN_API_URL",
    "BREVO_API_KEY",
    "MAILJET_API_KEY",
    "MAILJET_SECRET_KEY",
    "SPARKPOST_API_KEY",
    "MAILERSEND_API_TOKEN",
    "RESEND_API_KEY",
    "AMAZON_SES_CONFIGURATION_SET_NAME",
):
    if env.str(_name, default=""):
        ANYMAIL[_name] = env.str(_name)
# Operations are emailed when a delivery failure is on our side (our domain blocked, SPF/DKIM/
# DMARC, the message refused as content): at most one email per cause per hour (a log line per
# event always). Empty: Django's ADMINS (mail_admins; none by default, then the log only).
OPS_ALERT_EMAILS = env.list("OPS_ALERT_EMAIL", default=[])
OPS_ALERT_INTERVAL = env.int("OPS_ALERT_INTERVAL", default=60 * 60)  # seconds

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: no server needed; folders must exist and be absolute
    # (toolchain.md §5). Only for one machine.
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis hands a message that was delivered but not acknowledged to another worker after
    # this long. The idempotent tasks are acknowledged when they finish (acks_late,
    # notifications/tasks.py), so a worker killed mid-task (kill -9, out of memory) leaves its
    # task, and the one it had prefetched, to be run again after at most this. 15 minutes:
    # - more than CELERY_TASK_TIME_LIMIT (10 min), so a task still running is never given to a
    #   second worker;
    # - more than the longest countdown we use (a task's retry backoff, at most 10 min): a
    #   worker holds a countdown's message unacknowledged until it is due, and a longer one
    #   would be handed out again (delivery retries hours later are therefore due times in the
    #   database sent by a beat job, not countdowns, notifications/policy.py);
    # - well under the delivery sweeper's 1 h (notifications.delivery.STUCK_QUEUED_AFTER).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=15 * 60),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
# A worker reserves one message per process: for an acks_late task that is the one it runs
# (another task type is acknowledged at start, and one more message is reserved). Fewer messages
# wait behind a slow task or for the visibility timeout after a killed worker.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep the worker's database connection across tasks (Celery's Django fixup otherwise opens a new
# one for every task: +6 ms and ~3.5 ms of PostgreSQL CPU per boleto sent, docs/benchmarks.md,
# "Email pipeline"). CONN_MAX_AGE still applies, and portal/celery.py closes a broken or expired
# connection before each task, as Django does before each request.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The one place periodic work is declared.
CELERY_BEAT_SCHEDULE = {
    "issue-due-installments": {
        "task": "schedules.tasks.issue_due_installments_task",
        "schedule": env.float("GENERATOR_INTERVAL_SECONDS", default=60.0),
    },
    # Delivery retries whose time has come (Boleto.next_attempt_at) and webhook events that
    # arrived before their email's row: every minute.
    "delivery-retries": {
        "task": "notifications.tasks.delivery_retries_send_task",
        "schedule": 60.0,
    },
    "email-events-rematch": {
        "task": "notifications.tasks.email_events_rematch_task",
        "schedule": 60.0,
    },
    "delivery-sweep": {
        "task": "notifications.tasks.delivery_sweep_task",
        "schedule": 5 * 60.0,
    },
    # The webhook inbox's safety net: each stored event already kicks a drain (notifications/
    # inbox.py); this one catches events whose kick was lost.
    "email-events-drain": {
        "task": "notifications.tasks.email_events_drain_task",
        "schedule": env.float("INBOX_DRAIN_INTERVAL", default=30.0),
    },
    "ticket-notify-sweep": {
        "task": "notifications.tasks.ticket_notify_sweep_task",
        "schedule": 10 * 60.0,
    },
    # Bank: the day's remessa of file channels once BANK_REMESSA_TIME has come (generated once
    # per business day per merchant; the job checks every 15 minutes), lost test-bank
    # registrations, and registrations still unconfirmed after the merchant's alert days.
    "remessas-generate-due": {
        "task": "billing.tasks.remessas_generate_due_task",
        "schedule": 15 * 60.0,
    },
    "registrations-sweep": {
        "task": "billing.tasks.registrations_sweep_task",
        "schedule": 5 * 60.0,
    },
    "registrations-overdue-alert": {
        "task": "billing.tasks.registrations_overdue_alert_task",
        "schedule": crontab(minute=5),
    },
    # Retornos dropped in BANK_INBOX_DIR by the merchants' VAN/SFTP clients (nothing when unset).
    "bank-retornos-inbox": {
        "task": "billing.tasks.retornos_inbox_collect_task",
        "schedule": 5 * 60.0,
    },
    "issue-due-installments-daily-catch-up": {
        # Business-day rollover in America/Sao_Paulo: the minute after midnight.
        "task": "schedules.tasks.issue_due_installments_task",
        "schedule": crontab(minute=1, hour=0),
    },
}

# --- Portal ---------------------------------------------------------------------------------
# Absolute links in emails (alerts to merchants) point here.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# An invitation's link works for this many days (inviting the address again sends a new one).
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# Esqueci minha senha: at most this many reset emails per address per hour (further requests
# get the usual answer and no email), and this many requests per client address per hour
# (then a page asks to wait; it says nothing about the address typed).
PASSWORD_RESET_EMAILS_PER_ADDRESS = env.int("PASSWORD_RESET_EMAILS_PER_ADDRESS", default=3)
PASSWORD_RESET_REQUESTS_PER_CLIENT = env.int("PASSWORD_RESET_REQUESTS_PER_CLIENT", default=10)
# Support staff emailed when a merchant opens a ticket or writes in one (comma-separated).
# Empty: nobody is emailed (logged); tickets are still in the admin.
SUPPORT_EMAILS = env.list("SUPPORT_EMAILS", default=[])
# Transient delivery failures (mailbox full, server unavailable): the boleto is sent again after
# each delay; when the last attempt also fails, the schedule is deactivated with that cause.
DELIVERY_RETRY_DELAYS = [
    int(v) for v in env.list("DELIVERY_RETRY_DELAYS", default=["7200", "21600"])
]  # seconds: 2 h, then 6 h
# Bank files (retornos uploaded, picked up or imported): refused above this size, with the limit
# in the message. 64 MB holds a CNAB 240 retorno of ~130,000 titles.
BANK_FILE_MAX_BYTES = env.int("BANK_FILE_MAX_BYTES", default=64 * 1024 * 1024)
# Retornos picked up every 5 minutes from BANK_INBOX_DIR/<merchant CNPJ digits>/ (then moved to
# processed/ or refused/ beside a .txt with the reason). Empty: no pickup.
BANK_INBOX_DIR = env.str("BANK_INBOX_DIR", default="")
# 10,000 per batch: measured ~35% faster than 2,000 (fewer hand-off messages, see
# docs/benchmarks.md); a batch holds its schedule row locks for about a second.
GENERATOR_BATCH_SIZE = env.int("GENERATOR_BATCH_SIZE", default=10000)
# When more than one batch is due, the beat job fans out to this many generator runs at once
# (one per Celery worker process; they split the work with FOR UPDATE SKIP LOCKED). Match the
# worker's concurrency: on 2 cores, 2 runs keep both the database and Python busy.
GENERATOR_PARALLELISM = env.int("GENERATOR_PARALLELISM", default=2)
# ESP webhooks (notifications/inbox.py): a stored event queues a drain of the inbox to start
# INBOX_DRAIN_DELAY seconds later, unless its web process queued one that has certainly not
# started yet (a local clock: no round trip); so at most one message per process per
# (delay - margin) seconds under load. Event-to-decision latency: the delay + queue wait + a few
# ms of processing per event. The margin covers clock differences between web and worker hosts.
INBOX_DRAIN_DELAY = env.float("INBOX_DRAIN_DELAY", default=1.0)
INBOX_DRAIN_CLOCK_MARGIN = env.float("INBOX_DRAIN_CLOCK_MARGIN", default=0.5)
# Cross-process flags (the ops-alert throttle, notifications/coordination.py): Redis when set.
COORDINATION_REDIS_URL = env.str("COORDINATION_REDIS_URL", default=REDIS_URL)
COORDINATION_KEY_PREFIX = env.str("COORDINATION_KEY_PREFIX", default="portal:")
# Importar planilha (schedules/importing): a file above IMPORT_MAX_BYTES or with more than
# IMPORT_MAX_ROWS data rows is refused whole, with the limit in the message (nothing imported).
# 5 MB holds ~40,000 CSV rows; 20,000 rows validate and import in a few seconds (bench/import.py).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
# Paths served by portal.middleware.WebhookFastPathMiddleware (no browser middleware).
WEBHOOK_FAST_PATH_PREFIXES = ["/anymail/"]

# Bank files. BANK_OUTBOX_DIR: every generated remessa is also written to
# <BANK_OUTBOX_DIR>/<merchant CNPJ>/<file> for the merchant's VAN/SFTP client (empty: only stored
# in the portal, downloadable). BANK_REMESSA_TIME: business time ("HH:MM") after which file
# channels get the day's remessa (billing.remessas.remessas_generate_due).
BANK_OUTBOX_DIR = env.str("BANK_OUTBOX_DIR", default="")
BANK_REMESSA_TIME = env.str("BANK_REMESSA_TIME", default="17:00")

# The boleto PDF's fast path (billing/pdf.py, on WeasyPrint internals checked at first use); off,
# every boleto is drawn by WeasyPrint's plain HTML(...).write_pdf(), ~2.5x slower, same page.
BILLING_PDF_FAST_PATH = env.bool("BILLING_PDF_FAST_PATH", default=True)

# Warn when a typed email's domain cannot receive mail (no MX, no A/AAAA): a DNS lookup of at most
# 2 s per domain, cached a day, never blocking a save, silent when DNS is unavailable
# (portal/emailcheck.py). Off in tests (portal/settings/test.py): they mock the resolver.
EMAIL_MX_CHECK = env.bool("EMAIL_MX_CHECK", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs several progress lines per PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
