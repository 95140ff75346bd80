"""Bench-only URLconf (bench/webhook.py): the portal's own URLs plus one no-op view.

The no-op answers a POST through the very same middleware stack, settings and gunicorn as the
webhook, so the difference between the two is the webhook's own work (basic auth, JSON parse,
anymail's event, the insert and the Celery publish).
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def noop(request):
    return HttpResponse(b"", status=200)


urlpatterns = [path("bench/noop/", noop, name="bench-noop"), *portal_urlpatterns]
