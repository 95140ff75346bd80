"""The address a request came from, behind a known number of reverse proxies.

Each proxy in front of the portal appends the address it received the request from to
``X-Forwarded-For``; the nearest one is ``REMOTE_ADDR``. With ``TRUSTED_PROXY_COUNT`` = N, the
client is therefore the N-th entry of ``X-Forwarded-For`` counted from the right: the entries
further left were sent by the client itself and may be anything. With N = 0 the header is
ignored. When the header has fewer than N entries, or that entry is not an IP address, the
request did not come through the proxies as configured: the nearest peer (``REMOTE_ADDR``) is
used, never a value the client could have chosen.

(django-ipware's ``proxy_count`` counts differently: it needs N + 1 entries and returns nothing
with one proxy and a count of 1, which is why the portal does not use it.)

Used by the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE) and the password-reset throttle.
"""

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    """``value`` as a normalized IP address, without a port (``[v6]:port``, ``v4:port``)."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    remote = _address(request.META.get("REMOTE_ADDR", "")) or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    forwarded = [hop.strip() for hop in hops if hop.strip()]
    if len(forwarded) < count:
        return remote
    return _address(forwarded[-count]) or remote
