"""anymail's webhook URLs, each view wrapped so a malformed body is a 400, never a 500.

anymail authenticates first (basic auth, ESP signatures) and then parses the body; several of
its parsers raise plain Python errors (JSONDecodeError, TypeError, KeyError) on a body that is
not the ESP's format, which Django turns into a 500 — and ESPs retry 5xx for days. Only parse
errors are caught here: a failure to store a valid event (a database error) still answers 5xx,
so the ESP retries an event that is not in the inbox yet.
"""

import functools
import logging

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from django.http import HttpResponseBadRequest
from django.urls import URLPattern

from notifications import sns

logger = logging.getLogger(__name__)

app_name = anymail_urls.app_name

# What anymail's parsers raise on a body that is not the ESP's format: plain Python errors,
# RecursionError for JSON nested deeper than the interpreter's limit, OverflowError for an
# out-of-range epoch, and AnymailAPIError from the Amazon SES view (not JSON, or an SNS message
# type it does not know). Authentication failures are AnymailWebhookValidationFailure, handled
# apart (anymail's own 400).
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
            logger.warning(
                "event=webhook_refused reason=authentication path=%s error=%r",
                request.path,
                str(exc)[:200],
            )
            raise
        except _PARSE_ERRORS as exc:
            logger.warning(
                "event=webhook_refused reason=malformed_body path=%s error=%s detail=%r",
                request.path,
                type(exc).__name__,
                str(exc)[:200],
            )
            return HttpResponseBadRequest("Malformed webhook body.")

    return wrapped


# The Amazon SES tracking view gets the SNS checks anymail does not make (topic allowlist,
# message signature): notifications/sns.py.
_REPLACED_VIEWS = {"amazon_ses_tracking_webhook": sns.AmazonSESTrackingView.as_view()}

urlpatterns = [
    URLPattern(
        p.pattern, _tolerant(_REPLACED_VIEWS.get(p.name, p.callback)), p.default_args, p.name
    )
    for p in anymail_urls.urlpatterns
]
