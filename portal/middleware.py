"""The portal's own middleware: the webhook fast path and private caching of logged-in responses.

Machine-to-machine endpoints (ESP webhooks) are served without the portal's browser middleware.

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
from django.utils.cache import patch_cache_control


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


class PrivateCacheMiddleware:
    """Every response to a logged-in user carries ``Cache-Control: private, no-store``.

    Whatever a logged-in user gets is the merchant's: its pages, boleto PDFs, ZIPs, CSV exports,
    even its redirects and error pages. ``private`` keeps shared caches (a corporate proxy, a
    CDN) from storing and serving them to someone else; ``no-store`` keeps them off the
    browser's disk (a shared computer, the back button after logging out). One rule here
    rather than a decorator per view, so a new view cannot forget it. Directives a view set are
    kept (the admin's ``never_cache`` adds no-cache, must-revalidate); ``public`` is dropped.

    Sits right after AuthenticationMiddleware: ``request.user`` is known, and a login that
    succeeds during the request counts (``login()`` sets it). Anonymous pages (login, password
    reset) and static files (WhiteNoise, earlier) keep their own caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
