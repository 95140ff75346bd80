"""Machine-to-machine endpoints (ESP webhooks) served without the portal's browser middleware.

``WebhookFastPathMiddleware`` sits right after ``SecurityMiddleware``. For a path under one of
``settings.WEBHOOK_FAST_PATH_PREFIXES`` that resolves in the URLconf, it calls the view itself,
so sessions, locale, CSRF, authentication, tenancy, messages, clickjacking and htmx never run
for it: none of them means anything to an ESP posting JSON with basic auth (anymail's views are
``csrf_exempt`` and ``login_not_required`` and read no session), and on the webhook they cost a
sizeable part of the request (docs/benchmarks.md, Webhook). Exceptions are turned into responses
exactly as Django does between middleware (``convert_exception_to_response``: a failed
signature is a 400, a database failure a 500 so the ESP retries). A path under the prefix that
does not resolve goes through the whole stack as usual (404 page, APPEND_SLASH).
"""

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.urls import Resolver404, get_resolver


class WebhookFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(settings.WEBHOOK_FAST_PATH_PREFIXES)
        self._direct = convert_exception_to_response(self._call_view)

    def __call__(self, request):
        if self.prefixes and request.path_info.startswith(self.prefixes):
            try:
                match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            request.resolver_match = match
            return self._direct(request)
        return self.get_response(request)

    @staticmethod
    def _call_view(request):
        match = request.resolver_match
        response = match.func(request, *match.args, **match.kwargs)
        if response is None:  # what BaseHandler.check_response refuses too
            raise ValueError(f"The view {match.func!r} returned None.")
        return response
