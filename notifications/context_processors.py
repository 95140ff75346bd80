"""Template context notifications adds to every page (listed in settings.TEMPLATES)."""

from notifications.selectors import alerts_open


def alert_banner(request):
    """The merchant's open alerts for the banner in the base template."""
    merchant = getattr(request, "merchant", None)
    if merchant is None:
        return {}
    # Lazy: evaluated only by templates that show the banner.
    return {"open_alerts": lambda: list(alerts_open(merchant=merchant))}
