"""Bench-only URLconf (bench/webhook.py): the portal's own URLs plus three reference views.

- ``/bench/noop/``: returns 200 at once, through the portal's whole middleware stack (what any
  portal page pays before its view runs);
- ``/anymail/bench-noop/``: the same no-op under the webhook prefix, so served by
  ``portal.middleware.WebhookFastPathMiddleware`` like the real webhook (the floor of the
  webhook's path: gunicorn, WSGI, Django's handler, the security middleware);
- ``/bench/one-row/``: stores the request body as one row (``INSERT`` in autocommit, into the
  bench's own table ``bench_one_row``) through the whole stack: "a view storing one row".

All three are served by the same gunicorn, settings and database as the webhook, so the
differences are the webhook's own work (basic auth, JSON parse, anymail's event, the insert, the
kick).
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def noop(request):
    return HttpResponse(b"", status=200)


@csrf_exempt
def one_row(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_one_row (body, created_at) VALUES (%s::jsonb, now())",
            [request.body.decode()],
        )
    return HttpResponse(b"", status=200)


urlpatterns = [
    path("bench/noop/", noop, name="bench-noop"),
    path("anymail/bench-noop/", noop, name="bench-noop-fast"),
    path("bench/one-row/", one_row, name="bench-one-row"),
    *portal_urlpatterns,
]
