"""anymail's webhook URLs, each view wrapped so a malformed body is a 400, never a 500.

anymail authenticates first (basic auth, ESP signatures) and then parses the body; several of
its parsers raise plain Python errors (JSONDecodeError, TypeError, KeyError) on a body that is
not the ESP's format, which Django turns into a 500 — and ESPs retry 5xx for days. Only parse
errors are caught here: a failure to store a valid event (a database error) still answers 5xx,
so the ESP retries an event that is not in the inbox yet.

Only tracking webhooks are served, and only for an ESP that is configured (``webhook_served``):
anymail's inbound URLs (the portal receives no mail) and the URLs of ESPs we do not use are not
resolved at all, so they answer the portal's ordinary 404 — before, an ESP whose required key
was missing (Mailgun, MailerSend, Postal, Unisender Go, Mandrill, most inbound views) raised
ImproperlyConfigured on every request, unauthenticated: a 500.
"""

import functools
import logging
import re
import warnings

from anymail import urls as anymail_urls
from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailWebhookValidationFailure,
)
from anymail.webhooks.mandrill import MandrillSignatureMixin
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpResponseBadRequest
from django.urls import URLPattern

from notifications import sns
from portal.logs import log_decision

logger = logging.getLogger(__name__)

app_name = anymail_urls.app_name

# What anymail's parsers raise on a body that is not the ESP's format: plain Python errors,
# RecursionError for JSON nested deeper than the interpreter's limit, OverflowError for an
# out-of-range epoch, and AnymailAPIError from the Amazon SES view (not JSON, or an SNS message
# type it does not know); and inbox.MalformedEvent (a ValueError) when the parsed event holds a
# NaN or Infinity, which is not JSON (an ESP batch: the events before it are kept, as for any
# error mid-batch). Authentication failures are AnymailWebhookValidationFailure, handled apart
# (anymail's own 400).
_PARSE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
    RecursionError,
    OverflowError,
    AnymailAPIError,
)


def _tolerant(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            # Basic auth or the ESP's signature: anymail's 400 (Django's SuspiciousOperation
            # handling); one line of ours so refusals can be counted like everything else.
            log_decision(
                logger,
                "webhook_refused",
                level=logging.WARNING,
                reason="authentication",
                path=request.path,
                error=str(exc)[:200],
            )
            raise
        except AnymailConfigurationError as exc:
            # Authenticated, but the wrong kind of webhook: the ESP's *inbound* route pointed
            # at a tracking URL (anymail raises this per request). A 400 the ESP shows to
            # whoever set the route up, and one line for us; the portal receives no mail.
            log_decision(
                logger,
                "webhook_refused",
                level=logging.WARNING,
                reason="wrong_webhook_kind",
                path=request.path,
                detail=str(exc)[:200],
            )
            return HttpResponseBadRequest("Not a tracking event: check the ESP's webhook URL.")
        except _PARSE_ERRORS as exc:
            log_decision(
                logger,
                "webhook_refused",
                level=logging.WARNING,
                reason="malformed_body",
                path=request.path,
                error=type(exc).__name__,
                detail=str(exc)[:200],
            )
            return HttpResponseBadRequest("Malformed webhook body.")

    return wrapped


# --- which ESPs are served ---------------------------------------------------------------------

# anymail's backend module names that are not an ESP (no webhook of their own).
_NOT_AN_ESP = {"test", "console"}
# Old and new names of one ESP.
_ALIASES = {"sendinblue": "brevo"}
_BACKEND_RE = re.compile(r"^anymail\.backends\.(\w+)\.EmailBackend$")

# URL name -> served? Computed on first use; settings only change under tests (setting_changed).
_served: dict[str, bool] = {}


def _esp(name: str) -> str:
    name = name.lower()
    return _ALIASES.get(name, name)


def _wanted_esps() -> set[str]:
    """WEBHOOK_ESPS when set; else the ESP EMAIL_BACKEND sends through; else (dev, tests, the
    demo, SMTP: no ESP) none in particular (empty set)."""
    listed = getattr(settings, "WEBHOOK_ESPS", None) or []
    if listed:
        return {_esp(name.strip()) for name in listed if name.strip()}
    match = _BACKEND_RE.match(getattr(settings, "EMAIL_BACKEND", "") or "")
    if match and match[1] not in _NOT_AN_ESP:
        return {_esp(match[1])}
    return set()


def _authenticated(view_class, initkwargs) -> tuple[bool, str]:
    """Whether anymail can build this view with the current settings and it checks something:
    basic auth (ANYMAIL WEBHOOK_SECRET) or the ESP's signature. Without either anymail would
    accept anyone's events (it only warns)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # AnymailInsecureWebhookWarning: decided below
            view = view_class(**initkwargs)
    except ImproperlyConfigured as exc:  # a required key (or package) is missing
        return False, str(exc)[:200]
    if isinstance(view, MandrillSignatureMixin) and view.webhook_key is None:
        return False, "no MANDRILL_WEBHOOK_KEY"  # anymail defers this error to each POST
    if getattr(view, "basic_auth", None):
        return True, ""
    if getattr(view, "warn_if_no_basic_auth", True) is False:
        return True, ""  # anymail set it off because the ESP's signature is checked
    return False, "neither WEBHOOK_SECRET nor a signing key"


def webhook_served(url_name: str, esp: str, view_class, initkwargs) -> bool:
    served = _served.get(url_name)
    if served is None:
        wanted = _wanted_esps()
        if wanted and esp not in wanted:
            served, reason = False, f"not in {sorted(wanted)}"
        else:
            served, reason = _authenticated(view_class, initkwargs)
        if not served:
            log_decision(logger, "webhook_not_served", url_name=url_name, reason=reason)
        _served[url_name] = served
    return served


def _forget_served(**kwargs) -> None:
    _served.clear()


setting_changed.connect(_forget_served, dispatch_uid="notifications.webhook_urls.served")


class TrackingWebhookPattern(URLPattern):
    """An anymail tracking URL that resolves only while its ESP is served; otherwise the path is
    unknown (the fast path then hands it to the whole stack: the portal's 404)."""

    def __init__(self, pattern, callback, default_args, name, *, esp, view_class, initkwargs):
        super().__init__(pattern, callback, default_args, name)
        self.esp = esp
        self.view_class = view_class
        self.view_initkwargs = initkwargs

    def resolve(self, path):
        match = super().resolve(path)
        if match is None:
            return None
        if not webhook_served(self.name, self.esp, self.view_class, self.view_initkwargs):
            return None
        return match


# The Amazon SES tracking view gets the SNS checks anymail does not make (topic allowlist,
# message signature): notifications/sns.py.
_REPLACED_VIEWS = {"amazon_ses_tracking_webhook": sns.AmazonSESTrackingView.as_view()}
# Tracking URLs: /anymail/<esp>/tracking/ (README). Not anymail's inbound URLs, nor its combined
# /anymail/mandrill/ (tracking and inbound in one): the portal receives no mail.
_TRACKING = re.compile(r"^(?P<esp>\w+)_tracking_webhook$")


def _patterns():
    for p in anymail_urls.urlpatterns:
        match = _TRACKING.match(p.name or "")
        if match is None:
            continue
        view = _REPLACED_VIEWS.get(p.name, p.callback)
        yield TrackingWebhookPattern(
            p.pattern,
            _tolerant(view),
            p.default_args,
            p.name,
            esp=_esp(match["esp"]),
            view_class=view.view_class,
            initkwargs=view.view_initkwargs,
        )


urlpatterns = list(_patterns())
