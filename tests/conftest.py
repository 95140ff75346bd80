import os

import pytest

# Playwright's sync API keeps an asyncio loop on the main thread; Django's DB setup must still
# run there (toolchain.md §2).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing_service(item) -> str | None:
    from django.conf import settings
    from django.db import connection

    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://..."
    if item.get_closest_marker("browser") and not os.path.exists("/usr/bin/chromium"):
        return "needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
    return None


def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason:
        # On a laptop with embedded defaults these are skipped; CI has the services, so a
        # missing one there is a failure, never a silent skip.
        if IN_CI:
            pytest.fail(f"{reason} (CI must run this test)")
        pytest.skip(reason)


@pytest.fixture
def merchant(db):
    from tests.factories import MerchantFactory

    return MerchantFactory()


@pytest.fixture
def other_merchant(db):
    from tests.factories import MerchantFactory

    return MerchantFactory()


@pytest.fixture
def owner(merchant):
    from tests.factories import MembershipFactory

    return MembershipFactory(merchant=merchant, role="owner").user


@pytest.fixture
def other_owner(other_merchant):
    from tests.factories import MembershipFactory

    return MembershipFactory(merchant=other_merchant, role="owner").user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def other_client(client, other_owner):
    client.force_login(other_owner)
    return client
